//! tokio's documented broadcast semantics, one test each, at the poll level.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use chan_broadcast::error::{RecvError, TryRecvError};
use chan_broadcast::{Sender, channel};
use seqcast_test_support::counting_waker;

/// Counts drops of the values (not the clones' originals only: every copy).
#[derive(Debug)]
struct Tracked(u32, Arc<AtomicUsize>);

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked(self.0, Arc::clone(&self.1))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn send_without_receivers_returns_the_value_and_stores_nothing() {
    let tx = Sender::<u32>::new(4);
    assert_eq!(tx.send(1).map_err(|e| e.0), Err(1));
    assert_eq!(tx.len(), 0);
    let mut rx = tx.subscribe();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.send(2).map_err(|e| e.0), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));

    let drops = Arc::new(AtomicUsize::new(0));
    let tx = Sender::<Tracked>::new(4);
    let err = tx.send(Tracked(3, Arc::clone(&drops))).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 0, "handed back, not dropped");
    assert_eq!(err.0.0, 3);
}

#[test]
fn a_new_receiver_sees_only_later_values() {
    let (tx, mut rx) = channel(8);
    tx.send(1).unwrap();
    let mut late = tx.subscribe();
    let mut resub = rx.resubscribe();
    tx.send(2).unwrap();
    assert_eq!(late.try_recv(), Ok(2));
    assert_eq!(resub.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn lag_is_reported_once_then_the_oldest_held_value() {
    let (tx, mut rx) = channel(3); // four slots
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 10);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
    for i in 6..10 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn after_the_last_sender_receivers_drain_then_see_closed_for_ever() {
    let (tx, mut rx) = channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    tx2.send(2).unwrap();
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    for _ in 0..3 {
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }
    let mut again = rx.resubscribe();
    assert_eq!(again.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_value_is_dropped_once_every_receiver_that_will_read_it_has() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx1) = channel(4);
    let mut rx2 = tx.subscribe();
    let rx3 = tx.subscribe();
    tx.send(Tracked(1, Arc::clone(&drops))).unwrap();
    drop(rx1.try_recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1, "rx1's clone only");
    assert_eq!(tx.len(), 1);
    drop(rx3); // a dropped receiver no longer holds it
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let last = rx2.try_recv().unwrap();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the last reader moved it out"
    );
    assert_eq!(tx.len(), 0);
    drop(last);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // Overwritten values are dropped by the send that replaces them.
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, _rx) = channel(1);
    tx.send(Tracked(1, Arc::clone(&drops))).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    tx.send(Tracked(2, Arc::clone(&drops))).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[derive(Debug)]
struct PanicOnClone(u32, Arc<AtomicUsize>);

impl Clone for PanicOnClone {
    fn clone(&self) -> Self {
        if self.1.fetch_sub(1, Ordering::SeqCst) == 1 {
            panic!("clone of {} refused", self.0);
        }
        PanicOnClone(self.0, Arc::clone(&self.1))
    }
}

#[test]
fn a_panicking_clone_skips_that_value_for_that_receiver_only() {
    // The first clone panics.
    let budget = Arc::new(AtomicUsize::new(1));
    let (tx, mut rx1) = channel(4);
    let mut rx2 = tx.subscribe();
    tx.send(PanicOnClone(1, Arc::clone(&budget))).unwrap();
    tx.send(PanicOnClone(2, Arc::new(AtomicUsize::new(100))))
        .unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| rx1.try_recv()));
    assert!(r.is_err());
    assert_eq!(rx1.try_recv().unwrap().0, 2, "value 1 skipped for rx1");
    assert_eq!(rx2.try_recv().unwrap().0, 1, "rx2 still gets it");
    assert_eq!(rx2.try_recv().unwrap().0, 2);
    // The channel is still usable.
    tx.send(PanicOnClone(3, Arc::new(AtomicUsize::new(100))))
        .unwrap();
    assert_eq!(rx1.try_recv().unwrap().0, 3);
    assert_eq!(tx.len(), 1);
}

#[test]
fn recv_is_cancel_safe_and_leaves_no_waiter() {
    let (tx, mut rx) = channel(4);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut fut = rx.recv();
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(count.count(), 0, "a dropped recv is not woken");
    let mut fut = rx.recv();
    assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(1)));
}

#[test]
fn a_waiting_receiver_is_woken_once_by_a_send() {
    let (tx, mut rx) = channel(4);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = rx.recv();
    assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    assert!(
        Pin::new(&mut fut).poll(&mut cx).is_pending(),
        "re-poll keeps one registration"
    );
    assert_eq!(count.count(), 0);
    tx.send(7).unwrap();
    assert_eq!(count.count(), 1);
    assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(7)));
    tx.send(8).unwrap();
    assert_eq!(count.count(), 1, "no wake once it completed");
}

#[test]
fn dropping_a_non_last_receiver_or_sender_wakes_nobody() {
    let (tx, mut rx) = channel::<u32>(4);
    let other_rx = tx.subscribe();
    let tx2 = tx.clone();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = rx.recv();
    assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    drop(other_rx);
    drop(tx2);
    assert_eq!(count.count(), 0);
    drop(tx);
    assert_eq!(count.count(), 1, "the last sender wakes receivers");
    assert_eq!(
        Pin::new(&mut fut).poll(&mut cx),
        Poll::Ready(Err(RecvError::Closed))
    );
}

/// A waker whose drop sends on the channel it waits on.
struct SendsOnDrop(Sender<u32>);

impl Wake for SendsOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for SendsOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(99);
    }
}

#[test]
fn a_waker_that_sends_when_dropped_does_not_deadlock() {
    let (tx, mut rx) = channel(4);
    {
        let mut fut = rx.recv();
        {
            let waker = Waker::from(Arc::new(SendsOnDrop(tx.clone())));
            let mut cx = Context::from_waker(&waker);
            assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        }
        // The doorbell holds the last clone of the waker; this send wakes
        // and drops it (outside every lock), which sends 99.
        tx.send(1).unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(99));
}

#[test]
fn closed_resolves_with_no_receivers_and_is_not_latched() {
    let (tx, rx) = channel::<u32>(4);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut closed = Box::pin(tx.closed());
        assert!(closed.as_mut().poll(&mut cx).is_pending());
        drop(rx);
        assert_eq!(count.count(), 1);
        assert!(closed.as_mut().poll(&mut cx).is_ready());
    }
    let rx = tx.subscribe();
    let mut closed = Box::pin(tx.closed());
    assert!(
        closed.as_mut().poll(&mut cx).is_pending(),
        "a new receiver reopens it"
    );
    drop(rx);
    assert!(closed.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn counts_and_identity_match_tokio() {
    let (tx, rx) = channel::<u32>(4);
    let weak = tx.downgrade();
    let tx2 = weak.upgrade().unwrap();
    assert_eq!((tx.strong_count(), tx.weak_count()), (2, 1));
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (2, 1));
    assert!(tx.same_channel(&tx2));
    assert_eq!(tx.receiver_count(), 1);
    drop((tx, tx2));
    assert!(weak.upgrade().is_none());
    assert_eq!(weak.strong_count(), 0);
    assert!(rx.is_closed());
}

#[test]
#[should_panic(expected = "broadcast channel capacity cannot be zero")]
fn zero_capacity_panics() {
    let _ = channel::<u8>(0);
}

#[test]
#[should_panic(expected = "broadcast channel capacity exceeded `usize::MAX / 2`")]
fn huge_capacity_panics() {
    let _ = channel::<u8>(usize::MAX);
}

#[test]
fn capacity_panics_point_at_the_caller() {
    // The panic hook's location is the caller's line.
    let hits = Arc::new(std::sync::Mutex::new(None));
    let seen = Arc::clone(&hits);
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        *seen.lock().unwrap() = info.location().map(|l| (l.file().to_owned(), l.line()));
    }));
    let line2 = line!() + 1;
    let _ = catch_unwind(|| channel::<u8>(0));
    std::panic::set_hook(prev);
    let (file, at) = hits.lock().unwrap().clone().unwrap();
    assert!(file.ends_with("semantics.rs"), "{file}");
    assert_eq!(at, line2);
}

#[test]
fn subscribe_from_oldest_joins_every_held_value() {
    let (tx, mut rx) = channel(4);
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(0));
    let mut old = tx.subscribe_from_oldest();
    assert_eq!(old.len(), 2);
    assert_eq!(old.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.len(), 1, "value 2 still held for `old`");
    assert_eq!(old.try_recv(), Ok(2));
    assert_eq!(tx.len(), 0);
    // Nothing held: it starts at the tail.
    let mut fresh = tx.subscribe_from_oldest();
    assert_eq!(fresh.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn len_counts_values_held_for_some_receiver() {
    let (tx, mut rx1) = channel(2);
    let mut rx2 = tx.subscribe();
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.len(), 2, "capacity caps it");
    assert_eq!(rx1.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx1.try_recv(), Ok(3));
    assert_eq!(rx1.try_recv(), Ok(4));
    assert_eq!(tx.len(), 2, "rx2 has read nothing");
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx2.try_recv(), Ok(3));
    assert_eq!(tx.len(), 1);
    assert!(!tx.is_empty());
}

/// `Debug` as tokio 1.54 prints it: the handles' names only, and
/// `SendError(value)` (it is in every `unwrap()` message).
#[test]
fn debug_output_matches_tokio() {
    let (tx, rx) = channel::<u8>(2);
    assert_eq!(format!("{tx:?}"), "broadcast::Sender");
    assert_eq!(format!("{:?}", tx.downgrade()), "broadcast::WeakSender");
    assert_eq!(format!("{rx:?}"), "broadcast::Receiver");
    drop(rx);
    assert_eq!(format!("{:?}", tx.send(5).unwrap_err()), "SendError(5)");
    let (ltx, _lrx) = chan_broadcast::channel_lossless::<u8>(2);
    assert_eq!(format!("{ltx:?}"), "broadcast::LosslessSender");
    assert_eq!(
        format!("{:?}", ltx.downgrade()),
        "broadcast::WeakLosslessSender"
    );
    assert_eq!(format!("{:?}", tx.close()), "broadcast::Closing");
}
