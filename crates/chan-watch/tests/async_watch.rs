//! The stream adapter at the poll level, tokio's cooperative budget on
//! `changed`, `wait_for` and `Sender::closed`, and tasks on a runtime.

use std::pin::Pin;
#[cfg(feature = "tokio")]
use std::sync::Arc;
#[cfg(feature = "tokio")]
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use chan_watch::{WatchStream, channel};
use futures_core::Stream;
use seqcast_test_support::counting_waker;

#[test]
fn into_stream_yields_the_current_value_then_changes_then_ends() {
    let (tx, rx) = channel(1);
    let mut s = rx.into_stream();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut next = |s: &mut WatchStream<i32>| Pin::new(s).poll_next(&mut cx);
    assert_eq!(next(&mut s), Poll::Ready(Some(1)));
    assert!(next(&mut s).is_pending());
    tx.send(2).unwrap();
    tx.send(3).unwrap();
    assert_eq!(count.count(), 1);
    assert_eq!(
        next(&mut s),
        Poll::Ready(Some(3)),
        "coalesced to the latest"
    );
    assert!(next(&mut s).is_pending());
    drop(tx);
    assert_eq!(count.count(), 2);
    assert_eq!(next(&mut s), Poll::Ready(None));
    assert_eq!(next(&mut s), Poll::Ready(None));
}

#[test]
fn from_changes_skips_the_seen_value_but_yields_an_unseen_one() {
    let (tx, rx) = channel(1);
    let mut s = WatchStream::from_changes(rx.clone());
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut s).poll_next(&mut cx).is_pending());
    tx.send(2).unwrap();
    assert_eq!(count.count(), 1);
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(Some(2)));
    // A receiver that has not seen 2 yields it at once.
    let mut s2 = WatchStream::from_changes(rx);
    assert_eq!(Pin::new(&mut s2).poll_next(&mut cx), Poll::Ready(Some(2)));
    assert_eq!(count.count(), 1);
}

#[test]
fn a_dropped_stream_leaves_no_waiter() {
    let (tx, rx) = channel(0);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut s = WatchStream::from_changes(rx);
    assert!(Pin::new(&mut s).poll_next(&mut cx).is_pending());
    drop(s);
    tx.send_replace(1);
    assert_eq!(count.count(), 0);
}

#[cfg(feature = "tokio")]
/// Runs `body` on a current-thread runtime beside a task that sets a flag;
/// `body` must observe the flag (the budget made it yield) within `limit`
/// ready polls.
fn yields_within(limit: usize, body: impl AsyncFnOnce(&AtomicBool) -> usize) {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            let flag = Arc::new(AtomicBool::new(false));
            let f = Arc::clone(&flag);
            let other = tokio::spawn(async move { f.store(true, Ordering::SeqCst) });
            let n = body(&flag).await;
            other.await.unwrap();
            assert!(n < limit, "yielded only after {n} ready polls");
        });
}

#[test]
#[cfg(feature = "tokio")]
fn changed_spends_the_cooperative_budget() {
    let (_tx, mut rx) = channel(0);
    yields_within(1024, async |flag| {
        for i in 0..4096 {
            rx.mark_changed();
            rx.changed().await.unwrap();
            if flag.load(Ordering::SeqCst) {
                return i;
            }
        }
        usize::MAX
    });
}

#[test]
#[cfg(feature = "tokio")]
fn wait_for_spends_the_cooperative_budget() {
    let (_tx, mut rx) = channel(0);
    yields_within(1024, async |flag| {
        for i in 0..4096 {
            drop(rx.wait_for(|_| true).await.unwrap());
            if flag.load(Ordering::SeqCst) {
                return i;
            }
        }
        usize::MAX
    });
}

#[test]
#[cfg(feature = "tokio")]
fn closed_spends_the_cooperative_budget() {
    let tx = chan_watch::Sender::new(0);
    yields_within(1024, async |flag| {
        for i in 0..4096 {
            tx.closed().await;
            if flag.load(Ordering::SeqCst) {
                return i;
            }
        }
        usize::MAX
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_see_the_last_value() {
    let n = if cfg!(miri) { 20 } else { 2000 };
    let (tx, rx) = channel(0_u64);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut rx = rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut last = 0;
            while rx.changed().await.is_ok() {
                let v = *rx.borrow_and_update();
                assert!(v >= last);
                last = v;
            }
            // Closed: the last value was seen.
            assert_eq!(*rx.borrow(), n);
            last
        }));
    }
    drop(rx);
    for i in 1..=n {
        tx.send(i).unwrap();
        if i % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    drop(tx);
    for t in tasks {
        assert_eq!(t.await.unwrap(), n);
    }
}

/// The extras once every sender is gone: a `WeakSender` neither upgrades
/// nor keeps the channel open, counts 0 strong and itself weak, and keeps
/// the value alive (as an `Arc` would) until the last handle of any kind
/// goes; streams made after the close yield what they promise, then end
/// (and stay ended).
#[test]
fn weak_sender_and_streams_after_the_close() {
    use std::rc::Rc;
    let value = Rc::new(5);
    let (tx, rx) = channel(Rc::clone(&value));
    let weak = tx.downgrade();
    tx.send_modify(|_| {}); // an unseen version
    drop(tx);
    assert!(weak.upgrade().is_none());
    assert_eq!((weak.strong_count(), weak.weak_count()), (0, 1));
    assert_eq!(format!("{weak:?}"), "WeakSender { .. }");
    assert!(rx.is_closed());
    assert!(rx.has_changed().is_err());
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    // `new`: the current value (seen or not), then the end.
    let mut s = rx.clone().into_stream();
    assert_eq!(
        Pin::new(&mut s).poll_next(&mut cx).map(|v| v.map(|v| *v)),
        Poll::Ready(Some(5))
    );
    assert!(Pin::new(&mut s).poll_next(&mut cx).is_ready_and_none());
    assert!(Pin::new(&mut s).poll_next(&mut cx).is_ready_and_none());
    // `from_changes`: the unseen value, then the end.
    let mut s2 = WatchStream::from_changes(rx.clone());
    assert_eq!(
        Pin::new(&mut s2).poll_next(&mut cx).map(|v| v.map(|v| *v)),
        Poll::Ready(Some(5))
    );
    assert!(Pin::new(&mut s2).poll_next(&mut cx).is_ready_and_none());
    // `from_changes` of a receiver that saw it: the end at once.
    let mut seen = rx.clone();
    seen.borrow_and_update();
    let mut s3 = WatchStream::from_changes(seen);
    assert!(Pin::new(&mut s3).poll_next(&mut cx).is_ready_and_none());
    assert_eq!(count.count(), 0, "nothing waited, nothing woken");
    drop((s, s2, s3, rx));
    assert_eq!(
        Rc::strong_count(&value),
        2,
        "the weak sender keeps the value"
    );
    drop(weak);
    assert_eq!(Rc::strong_count(&value), 1, "dropped with the last handle");
}

trait ReadyNone {
    fn is_ready_and_none(&self) -> bool;
}

impl<T> ReadyNone for Poll<Option<T>> {
    fn is_ready_and_none(&self) -> bool {
        matches!(self, Poll::Ready(None))
    }
}
