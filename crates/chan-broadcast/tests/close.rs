//! The graceful close: `close` → `Closing` → `drained().await` → `Closed`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use chan_broadcast::channel;
use chan_broadcast::error::{RecvError, TryRecvError};
use seqcast_test_support::counting_waker;

#[test]
fn drained_waits_for_every_receiver_then_yields_the_closed_handle() {
    let (tx, mut rx1) = channel(4);
    let mut rx2 = tx.subscribe();
    let other = tx.clone();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let closing = tx.close();
    assert_eq!(
        other.send(3).map_err(|e| e.0),
        Err(3),
        "closed for every sender"
    );
    assert!(other.downgrade().upgrade().is_none());
    assert_eq!(closing.len(), 2);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut drained = closing.drained();
    assert!(Pin::new(&mut drained).poll(&mut cx).is_pending());
    assert_eq!(rx1.try_recv(), Ok(1));
    assert_eq!(rx1.try_recv(), Ok(2));
    assert_eq!(rx1.try_recv(), Err(TryRecvError::Closed));
    assert!(
        Pin::new(&mut drained).poll(&mut cx).is_pending(),
        "rx2 has not read"
    );
    let before = count.count();
    assert_eq!(rx2.try_recv(), Ok(1));
    assert_eq!(rx2.try_recv(), Ok(2));
    assert!(count.count() > before, "the last read wakes the drainer");
    let closed = match Pin::new(&mut drained).poll(&mut cx) {
        Poll::Ready(closed) => closed,
        Poll::Pending => panic!("not drained"),
    };
    assert_eq!(closed.receiver_count(), 2);
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_receiver_dropped_while_closing_counts_as_done() {
    let (tx, rx) = channel(4);
    tx.send(1).unwrap();
    let closing = tx.close();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut drained = closing.drained();
    assert!(Pin::new(&mut drained).poll(&mut cx).is_pending());
    drop(rx);
    assert_eq!(count.count(), 1);
    assert!(Pin::new(&mut drained).poll(&mut cx).is_ready());
}

#[test]
fn a_waiting_receiver_is_woken_by_close_and_drains_first() {
    let (tx, mut rx) = channel::<u8>(4);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = rx.recv();
    assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    let _closing = tx.close();
    assert_eq!(count.count(), 1);
    assert_eq!(
        Pin::new(&mut fut).poll(&mut cx),
        Poll::Ready(Err(RecvError::Closed))
    );
}

#[test]
fn dropping_the_last_sender_is_the_implicit_close() {
    let (tx, mut rx) = channel(4);
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// Polling `drained()` after it completed panics without touching the
/// channel: receivers still read and see the close.
#[test]
fn polling_a_finished_drained_panics_and_leaves_the_channel_untouched() {
    let (tx, mut rx) = channel::<u8>(4);
    let mut drained = tx.close().drained();
    let (waker, _) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut drained).poll(&mut cx).is_ready());
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = Pin::new(&mut drained).poll(&mut cx);
    }));
    assert!(again.is_err(), "a finished Drained must panic when polled");
    drop(drained);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// On a lossy channel the close waits for what is still held, not for
/// values overwritten before a receiver read them (those are its lag).
#[test]
fn drained_on_a_lossy_channel_waits_for_held_values_not_for_lagged_ones() {
    let (tx, mut rx) = channel::<u8>(1);
    tx.send(1).unwrap();
    tx.send(2).unwrap(); // overwrites 1, which rx never read
    let closing = tx.close();
    assert_eq!((closing.len(), closing.is_drained()), (1, false));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert!(!closing.is_drained(), "2 is still held for rx");
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!((closing.len(), closing.is_drained()), (0, true));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// Unlike a channel whose receivers all dropped (tokio reopens it on the
/// next `subscribe`, and so does this crate), a channel closed by
/// `Sender::close` stays closed: a clone that subscribes afterwards gets a
/// receiver that sees `Closed`, and its sends fail.
#[test]
fn a_subscribe_after_close_does_not_reopen_the_channel() {
    let (tx, rx) = channel::<u8>(4);
    let other = tx.clone();
    drop(rx); // no receiver: the state tokio reopens on subscribe
    let closing = tx.close();
    let mut late = other.subscribe();
    assert_eq!(other.send(1).map_err(|e| e.0), Err(1));
    assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
    assert!(late.is_closed());
    assert!(closing.is_drained());
}
