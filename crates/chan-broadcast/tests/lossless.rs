//! The lossless mode: senders wait for the slowest receiver, in FIFO order.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use chan_broadcast::TrySendError;
use chan_broadcast::channel_lossless;
use chan_broadcast::error::TryRecvError;
use seqcast_test_support::counting_waker;

#[test]
fn try_send_is_full_until_the_slowest_receiver_reads() {
    let (tx, mut fast) = channel_lossless(2);
    let mut slow = tx.subscribe();
    assert_eq!(tx.try_send(1), Ok(2));
    assert_eq!(tx.try_send(2), Ok(2));
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    assert_eq!(fast.try_recv(), Ok(1));
    assert_eq!(fast.try_recv(), Ok(2));
    assert_eq!(
        tx.try_send(3),
        Err(TrySendError::Full(3)),
        "slow still holds it"
    );
    assert_eq!(slow.try_recv(), Ok(1));
    assert_eq!(tx.try_send(3), Ok(2));
    assert_eq!(slow.try_recv(), Ok(2));
    assert_eq!(slow.try_recv(), Ok(3));
    assert_eq!(fast.try_recv(), Ok(3));
    assert_eq!(fast.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_waiting_send_is_woken_by_the_read_that_frees_its_slot() {
    let (tx, mut rx) = channel_lossless(1);
    tx.try_send(1).unwrap();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut send = tx.send(2);
    assert!(Pin::new(&mut send).poll(&mut cx).is_pending());
    assert_eq!(count.count(), 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(count.count(), 1);
    assert_eq!(
        Pin::new(&mut send).poll(&mut cx).map_err(|e| e.0),
        Poll::Ready(Ok(1))
    );
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn waiting_senders_go_in_arrival_order() {
    let (tx, mut rx) = channel_lossless(1);
    tx.try_send(0).unwrap();
    let (w1, c1) = counting_waker();
    let (w2, c2) = counting_waker();
    let mut s1 = tx.send(1);
    let mut s2 = tx.send(2);
    assert!(
        Pin::new(&mut s1)
            .poll(&mut Context::from_waker(&w1))
            .is_pending()
    );
    assert!(
        Pin::new(&mut s2)
            .poll(&mut Context::from_waker(&w2))
            .is_pending()
    );
    // A newcomer does not jump the queue.
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(c1.count(), 1, "the head is woken");
    assert_eq!(c2.count(), 0, "the second is not");
    // Even polled first, the second waits for the head.
    assert!(
        Pin::new(&mut s2)
            .poll(&mut Context::from_waker(&w2))
            .is_pending()
    );
    assert_eq!(
        Pin::new(&mut s1)
            .poll(&mut Context::from_waker(&w1))
            .map_err(|e| e.0),
        Poll::Ready(Ok(1))
    );
    assert_eq!(c2.count(), 1, "the head passes the turn on");
    assert!(
        Pin::new(&mut s2)
            .poll(&mut Context::from_waker(&w2))
            .is_pending()
    );
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(
        Pin::new(&mut s2)
            .poll(&mut Context::from_waker(&w2))
            .map_err(|e| e.0),
        Poll::Ready(Ok(1))
    );
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn a_cancelled_head_passes_its_turn_on() {
    let (tx, mut rx) = channel_lossless(1);
    tx.try_send(0).unwrap();
    let (w2, c2) = counting_waker();
    let mut s2 = tx.send(2);
    {
        let (w1, _) = counting_waker();
        let mut s1 = tx.send(1);
        assert!(
            Pin::new(&mut s1)
                .poll(&mut Context::from_waker(&w1))
                .is_pending()
        );
        assert!(
            Pin::new(&mut s2)
                .poll(&mut Context::from_waker(&w2))
                .is_pending()
        );
    }
    assert_eq!(c2.count(), 1, "dropping the head wakes the next");
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(
        Pin::new(&mut s2)
            .poll(&mut Context::from_waker(&w2))
            .map_err(|e| e.0),
        Poll::Ready(Ok(1))
    );
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the cancelled value was never sent"
    );
}

#[test]
fn dropping_the_slow_receiver_frees_the_senders() {
    let (tx, mut fast) = channel_lossless(1);
    let slow = tx.subscribe();
    tx.try_send(1).unwrap();
    assert_eq!(fast.try_recv(), Ok(1));
    let (waker, count) = counting_waker();
    let mut send = tx.send(2);
    assert!(
        Pin::new(&mut send)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    drop(slow);
    assert_eq!(count.count(), 1);
    assert_eq!(
        Pin::new(&mut send)
            .poll(&mut Context::from_waker(&waker))
            .map_err(|e| e.0),
        Poll::Ready(Ok(1))
    );
}

#[test]
fn closing_fails_waiting_sends_and_keeps_the_values() {
    let (tx, mut rx) = channel_lossless(1);
    let other = tx.clone();
    tx.try_send(1).unwrap();
    let (waker, count) = counting_waker();
    let mut send = other.send(2);
    assert!(
        Pin::new(&mut send)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    let closing = tx.close();
    assert_eq!(count.count(), 1);
    assert_eq!(
        Pin::new(&mut send)
            .poll(&mut Context::from_waker(&waker))
            .map_err(|e| e.0),
        Poll::Ready(Err(2))
    );
    assert_eq!(other.try_send(3), Err(TrySendError::Closed(3)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(closing.is_drained());
}

#[test]
fn no_receiver_means_closed_not_full() {
    let (tx, rx) = channel_lossless::<u8>(1);
    drop(rx);
    assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
    assert_eq!(
        tx.try_send(2),
        Err(TrySendError::Closed(2)),
        "the first stored nothing"
    );
}

#[test]
fn blocking_send_waits_for_a_reader_thread() {
    let (tx, mut rx) = channel_lossless(2);
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Ok(v) = rx.blocking_recv() {
            got.push(v);
        }
        got
    });
    let n = if cfg!(miri) { 50 } else { 1000 };
    for i in 0..n {
        tx.blocking_send(i).unwrap();
    }
    drop(tx);
    assert_eq!(reader.join().unwrap(), (0..n).collect::<Vec<_>>());
}

#[test]
fn send_future_is_unpin_and_named() {
    fn assert_unpin<F: Future + Unpin>(_: &F) {}
    let (tx, _rx) = channel_lossless::<u8>(1);
    let fut: chan_broadcast::LosslessSend<'_, u8> = tx.send(1);
    assert_unpin(&fut);
}

/// Polling a `LosslessSend` after it completed panics (as polling a
/// finished future may) but must not claim a position first: a claim that
/// is never committed would make every later subscribe, receiver drop and
/// send wait for it for ever.
#[test]
fn polling_a_finished_send_panics_and_leaves_the_channel_untouched() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::mpsc;
    use std::time::Duration;

    let (tx, mut rx) = channel_lossless(4);
    let mut cx = Context::from_waker(Waker::noop());
    let mut send = tx.send(1);
    assert_eq!(
        Pin::new(&mut send).poll(&mut cx).map_err(|e| e.0),
        Poll::Ready(Ok(1))
    );
    let again = catch_unwind(AssertUnwindSafe(|| {
        let _ = Pin::new(&mut send).poll(&mut cx);
    }));
    assert!(again.is_err(), "a finished send must panic when polled");
    drop(send);
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || {
        let mut late = tx.subscribe();
        assert_eq!(tx.try_send(2), Ok(2));
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(late.try_recv(), Ok(2));
        drop(late);
        done.send(()).unwrap();
    });
    wait.recv_timeout(Duration::from_secs(20))
        .expect("the channel is wedged by the second poll");
}

/// Fills a one-slot channel with 1, then starts `send(2)`, which waits
/// (queued) behind it.
fn fill_and_queue_a_send<'a>(
    tx: &'a chan_broadcast::LosslessSender<u8>,
    cx: &mut Context<'_>,
) -> chan_broadcast::LosslessSend<'a, u8> {
    tx.try_send(1).unwrap();
    let mut waiting = tx.send(2);
    assert!(Pin::new(&mut waiting).poll(cx).is_pending());
    waiting
}

/// `try_send` reports `Closed` once there is no receiver or the channel is
/// closed, as documented, even while a sender that started waiting before
/// has not yet been polled again (and so is still queued).
#[test]
fn try_send_reports_closed_not_full_while_a_stale_waiter_is_queued() {
    let mut cx = Context::from_waker(Waker::noop());
    // No receiver left.
    let (tx, rx) = channel_lossless::<u8>(1);
    let mut waiting = fill_and_queue_a_send(&tx, &mut cx);
    drop(rx);
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert_eq!(
        Pin::new(&mut waiting).poll(&mut cx).map_err(|e| e.0),
        Poll::Ready(Err(2))
    );
    // Closed by another clone.
    let (tx, _rx) = channel_lossless::<u8>(1);
    let other = tx.clone();
    let mut waiting = fill_and_queue_a_send(&tx, &mut cx);
    let _closing = other.close();
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    assert_eq!(
        Pin::new(&mut waiting).poll(&mut cx).map_err(|e| e.0),
        Poll::Ready(Err(2))
    );
}

/// A new `send` behind a queued sender fails at once when no receiver is
/// left (as documented: `SendError` if there is no receiver), instead of
/// waiting for the queued sender to be polled again.
#[test]
fn a_send_behind_a_stale_waiter_fails_at_once_without_receivers() {
    let mut cx = Context::from_waker(Waker::noop());
    let (tx, rx) = channel_lossless::<u8>(1);
    let waiting = fill_and_queue_a_send(&tx, &mut cx);
    drop(rx);
    let mut late = tx.send(3);
    assert_eq!(
        Pin::new(&mut late).poll(&mut cx).map_err(|e| e.0),
        Poll::Ready(Err(3))
    );
    drop(waiting);
}
