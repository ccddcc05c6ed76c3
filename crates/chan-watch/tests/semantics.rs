//! tokio's documented watch semantics, one test each, at the poll level
//! with a counting waker (a wake-up that finds nothing new is a failure).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::{Context, Poll};

use chan_watch::error::{RecvError, SendError};
use chan_watch::{Sender, channel};
use seqcast_test_support::counting_waker;

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
    fut.poll(cx)
}

#[test]
fn the_initial_value_counts_as_seen() {
    let (_tx, mut rx) = channel(1);
    assert!(!rx.has_changed().unwrap());
    assert!(!rx.borrow().has_changed());
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(rx.changed());
    assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
    assert_eq!(count.count(), 0);
}

#[test]
fn send_without_receivers_errs_and_does_not_store() {
    let (tx, rx) = channel(1);
    drop(rx);
    assert_eq!(tx.send(2), Err(SendError(2)));
    assert_eq!(*tx.borrow(), 1);
    let rx = tx.subscribe();
    assert!(!rx.has_changed().unwrap(), "nothing was stored");
}

#[test]
fn send_replace_modify_and_if_modified_always_store() {
    let tx = Sender::new(0);
    assert_eq!(tx.receiver_count(), 0);
    assert_eq!(tx.send_replace(1), 0);
    tx.send_modify(|v| *v += 1);
    assert!(tx.send_if_modified(|v| {
        *v += 1;
        true
    }));
    assert_eq!(*tx.borrow(), 3);
    // Versions were bumped even with nobody listening: a receiver made now
    // has seen them all.
    let rx = tx.subscribe();
    assert!(!rx.has_changed().unwrap());
}

#[test]
fn send_if_modified_notifies_only_on_true() {
    let (tx, mut rx) = channel(0);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut fut = pin!(rx.changed());
        assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
        assert!(!tx.send_if_modified(|v| {
            *v = 9; // changed, but reported unchanged
            false
        }));
        assert_eq!(count.count(), 0, "no wake-up for `false`");
        assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
        assert!(tx.send_if_modified(|v| {
            *v = 10;
            true
        }));
        assert_eq!(count.count(), 1);
        assert_eq!(
            poll_once(fut.as_mut(), &mut cx).map(|r| r.is_ok()),
            Poll::Ready(true)
        );
    }
    assert_eq!(*rx.borrow_and_update(), 10);
    assert_eq!(count.count(), 1);
}

#[test]
fn a_panic_in_send_modify_keeps_the_partial_change_bumps_nothing_wakes_nobody() {
    let (tx, mut rx) = channel(vec![1]);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(rx.changed());
    assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
    let r = catch_unwind(AssertUnwindSafe(|| {
        tx.send_modify(|v| {
            v.push(2);
            panic!("boom");
        })
    }));
    assert!(r.is_err());
    assert_eq!(count.count(), 0, "nobody woken");
    assert!(
        poll_once(fut.as_mut(), &mut cx).is_pending(),
        "no new version"
    );
    assert_eq!(*tx.borrow(), [1, 2], "the partial change is visible");
    assert!(format!("{tx:?}").contains("poisoned: false"), "{tx:?}");
    // Not poisoned: the lock still works both ways.
    tx.send_modify(|v| v.push(3));
    assert_eq!(count.count(), 1);
    assert!(poll_once(fut.as_mut(), &mut cx).is_ready());
}

#[test]
fn has_changed_errs_once_closed_even_with_an_unseen_value() {
    let (tx, rx) = channel(0);
    tx.send(1).unwrap();
    assert!(rx.has_changed().unwrap());
    drop(tx);
    assert!(rx.has_changed().is_err());
    assert!(rx.is_closed());
}

#[test]
fn changed_is_ok_for_an_unseen_value_when_closed_and_err_only_when_seen() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    drop(tx);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        poll_once(pin!(rx.changed()), &mut cx),
        Poll::Ready(Ok(()))
    ));
    assert!(matches!(
        poll_once(pin!(rx.changed()), &mut cx),
        Poll::Ready(Err(RecvError { .. }))
    ));
    assert_eq!(count.count(), 0);
}

#[test]
fn a_pending_changed_is_woken_by_the_last_sender_drop_only() {
    let (tx, mut rx) = channel(0);
    let tx2 = tx.clone();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(rx.changed());
    assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
    drop(tx);
    assert_eq!(count.count(), 0, "another sender lives");
    assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
    drop(tx2);
    assert_eq!(count.count(), 1);
    assert!(matches!(
        poll_once(fut.as_mut(), &mut cx),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn wait_for_tests_the_current_value_first_even_if_seen() {
    let (tx, mut rx) = channel(5);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    match poll_once(pin!(rx.wait_for(|v| *v == 5)), &mut cx) {
        Poll::Ready(Ok(r)) => {
            assert_eq!(*r, 5);
            assert!(!r.has_changed());
        }
        _ => panic!("the seen current value satisfies the predicate"),
    }
    let mut calls = 0;
    {
        let mut fut = pin!(rx.wait_for(|v| {
            calls += 1;
            *v == 7
        }));
        assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
        tx.send(6).unwrap();
        assert_eq!(count.count(), 1);
        assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
        tx.send(7).unwrap();
        assert_eq!(count.count(), 2);
        match poll_once(fut.as_mut(), &mut cx) {
            // tokio's: `changed` already marked 7 seen before the
            // predicate ran, so the `Ref` reports no change.
            Poll::Ready(Ok(r)) => assert!(!r.has_changed() && *r == 7),
            _ => panic!("7 satisfies it"),
        }
    }
    assert_eq!(calls, 3);
    assert!(!rx.has_changed().unwrap(), "wait_for marks seen");
}

#[test]
fn wait_for_after_close_tests_an_unseen_value_then_errs() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    drop(tx);
    let (waker, _count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        poll_once(pin!(rx.wait_for(|v| *v == 2)), &mut cx),
        Poll::Ready(Err(_))
    ));
    // Seen and closed: the predicate is tested once more (current value
    // first), then the error.
    let mut calls = 0;
    assert!(matches!(
        poll_once(
            pin!(rx.wait_for(|_| {
                calls += 1;
                false
            })),
            &mut cx
        ),
        Poll::Ready(Err(_))
    ));
    assert_eq!(calls, 1);
}

#[test]
fn a_panicking_wait_for_predicate_poisons_nothing() {
    let (tx, mut rx) = channel(0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let (waker, _c) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let _ = poll_once(pin!(rx.wait_for(|_| panic!("predicate"))), &mut cx);
    }));
    assert!(r.is_err());
    tx.send(1).unwrap();
    assert_eq!(*rx.borrow(), 1);
    assert!(format!("{rx:?}").contains("poisoned: false"));
}

#[test]
fn mark_changed_can_be_called_repeatedly_and_mark_unchanged_undoes_it() {
    let (_tx, mut rx) = channel(0);
    rx.mark_changed();
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        poll_once(pin!(rx.changed()), &mut cx),
        Poll::Ready(Ok(()))
    ));
    assert!(!rx.has_changed().unwrap());
    rx.mark_changed();
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    assert_eq!(count.count(), 0);
}

#[test]
fn a_cloned_receiver_copies_the_seen_state() {
    let (tx, mut rx) = channel(0);
    tx.send(1).unwrap();
    let unseen = rx.clone();
    assert!(unseen.has_changed().unwrap());
    rx.borrow_and_update();
    let seen = rx.clone();
    assert!(!seen.has_changed().unwrap());
    assert!(unseen.has_changed().unwrap());
}

#[test]
fn subscribe_marks_the_current_value_seen_and_reopens() {
    let (tx, rx) = channel(0);
    tx.send(1).unwrap();
    drop(rx);
    assert!(tx.is_closed());
    let rx = tx.subscribe();
    assert!(!tx.is_closed());
    assert!(!rx.has_changed().unwrap());
    tx.send(2).unwrap();
    assert!(rx.has_changed().unwrap());
}

#[test]
fn closed_rechecks_on_each_poll() {
    let (tx, rx) = channel(0);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(tx.closed());
    assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
    let rx2 = rx.clone();
    drop(rx);
    assert_eq!(count.count(), 0, "a receiver is left");
    drop(rx2);
    assert_eq!(count.count(), 1);
    // Woken, but a receiver subscribed after the wake keeps it pending.
    let rx3 = tx.subscribe();
    assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
    drop(rx3);
    assert_eq!(count.count(), 2);
    assert!(poll_once(fut.as_mut(), &mut cx).is_ready());
    assert!(poll_once(pin!(tx.closed()), &mut cx).is_ready());
}

#[test]
fn changed_is_cancel_safe_and_leaves_no_waiter() {
    let (tx, mut rx) = channel(0);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut fut = pin!(rx.changed());
        assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(count.count(), 0, "the dropped future's waker was removed");
    assert!(rx.has_changed().unwrap(), "nothing lost");
}

#[test]
fn one_send_wakes_every_waiting_receiver_once() {
    let (tx, mut rx) = channel(0);
    let mut rx2 = rx.clone();
    let (w1, c1) = counting_waker();
    let (w2, c2) = counting_waker();
    let mut f1 = pin!(rx.changed());
    let mut f2 = pin!(rx2.changed());
    assert!(poll_once(f1.as_mut(), &mut Context::from_waker(&w1)).is_pending());
    // Polled twice: still one registration.
    assert!(poll_once(f2.as_mut(), &mut Context::from_waker(&w2)).is_pending());
    assert!(poll_once(f2.as_mut(), &mut Context::from_waker(&w2)).is_pending());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!((c1.count(), c2.count()), (1, 1));
    assert!(poll_once(f1.as_mut(), &mut Context::from_waker(&w1)).is_ready());
    assert!(poll_once(f2.as_mut(), &mut Context::from_waker(&w2)).is_ready());
}

#[test]
fn counts_and_same_channel() {
    let (tx, rx) = channel(());
    let tx2 = tx.clone();
    let rx2 = tx.subscribe();
    assert_eq!((tx.sender_count(), tx.receiver_count()), (2, 2));
    assert!(tx.same_channel(&tx2) && rx.same_channel(&rx2));
    let (other, orx) = channel(());
    assert!(!tx.same_channel(&other) && !rx.same_channel(&orx));
    drop(tx2);
    drop(rx2);
    assert_eq!((tx.sender_count(), tx.receiver_count()), (1, 1));
    let d: Sender<u8> = Sender::default();
    assert_eq!(*d.borrow(), 0);
}

#[test]
fn get_holds_no_lock() {
    let (tx, mut rx) = channel(String::from("a"));
    let v = rx.get();
    tx.send(String::from("b")).unwrap();
    assert_eq!(v, "a");
    let w = rx.get_and_update();
    tx.send_modify(|s| s.push('c'));
    assert_eq!(w, "b");
    assert_eq!(rx.get_and_update(), "bc");
    assert!(!rx.has_changed().unwrap());
}

#[test]
fn weak_sender_upgrades_while_a_sender_lives_and_counts() {
    let (tx, rx) = channel(0);
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    assert_eq!((weak.strong_count(), weak.weak_count()), (1, 2));
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
    let up = weak.upgrade().unwrap();
    assert_eq!(tx.sender_count(), 2);
    up.send(3).unwrap();
    drop(up);
    drop(weak2);
    assert_eq!(tx.weak_count(), 1);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut rx = rx;
    rx.borrow_and_update();
    let mut fut = pin!(rx.changed());
    assert!(poll_once(fut.as_mut(), &mut cx).is_pending());
    drop(tx);
    assert_eq!(
        count.count(),
        1,
        "a weak sender does not keep the channel open"
    );
    assert!(weak.upgrade().is_none());
    assert_eq!(weak.strong_count(), 0);
    assert!(matches!(
        poll_once(fut.as_mut(), &mut cx),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn debug_and_display() {
    let (tx, rx) = channel(7_u8);
    assert_eq!(
        format!("{rx:?}"),
        "Receiver { shared: Shared { value: RwLock(RwLock { data: 7, poisoned: false, .. }), \
         version: Version(0), is_closed: false, ref_count_rx: 1 }, version: Version(0) }"
    );
    tx.send(8).unwrap();
    assert_eq!(
        format!("{tx:?}"),
        "Sender { shared: Shared { value: RwLock(RwLock { data: 8, poisoned: false, .. }), \
         version: Version(2), is_closed: false, ref_count_rx: 1 } }"
    );
    assert_eq!(
        format!("{:?}", rx.borrow()),
        "Ref { inner: 8, has_changed: true }"
    );
    assert_eq!(format!("{:?}", SendError(1)), "SendError { .. }");
    assert_eq!(SendError(1).to_string(), "channel closed");
    assert_eq!(
        format!("{:?}", RecvError::clone(&rx_closed_err())),
        "RecvError(())"
    );
    assert_eq!(rx_closed_err().to_string(), "channel closed");
}

fn rx_closed_err() -> RecvError {
    let (tx, rx) = channel(());
    drop(tx);
    rx.has_changed().unwrap_err()
}

mod auto_traits {
    use std::panic::{RefUnwindSafe, UnwindSafe};

    use chan_watch::error::{RecvError, SendError};
    use chan_watch::{Receiver, Ref, Sender, WatchStream, WeakSender};
    use static_assertions::{assert_impl_all, assert_not_impl_any};

    assert_impl_all!(Sender<u8>: Send, Sync, Clone, Default, UnwindSafe, RefUnwindSafe, Unpin);
    assert_impl_all!(Receiver<u8>: Send, Sync, Clone, UnwindSafe, RefUnwindSafe, Unpin);
    assert_impl_all!(WeakSender<u8>: Send, Sync, Clone, UnwindSafe, RefUnwindSafe);
    assert_impl_all!(WatchStream<u8>: Send, Sync, Unpin);
    assert_impl_all!(Ref<'static, u8>: Sync);
    assert_not_impl_any!(Ref<'static, u8>: Send);
    assert_not_impl_any!(Sender<std::cell::Cell<u8>>: Sync);
    assert_not_impl_any!(Receiver<std::rc::Rc<u8>>: Send);
    assert_impl_all!(SendError<u8>: Send, Sync, Copy, Eq, std::error::Error);
    assert_impl_all!(RecvError: Send, Sync, Clone, std::error::Error);
}

/// Counts drops of every value.
#[derive(Debug)]
struct Tracked(u32, std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn send_with_a_ref_alive_on_the_same_thread_does_not_deadlock() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let drops = Arc::new(AtomicUsize::new(0));
    let t = |v| Tracked(v, Arc::clone(&drops));
    let (tx, mut rx) = channel(t(1));
    let r = rx.borrow();
    let s = tx.borrow();
    tx.send(t(2)).unwrap();
    assert_eq!((r.0, s.0), (1, 1), "the snapshots stay");
    assert_eq!(drops.load(Ordering::SeqCst), 0, "kept by the Refs");
    assert_eq!(rx.borrow().0, 2);
    drop(r);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "one Ref left");
    drop(s);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "freed with the last Ref");
    // No Ref alive: in place, and the old value dropped at once.
    tx.send(t(3)).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(rx.borrow_and_update().0, 3);
    // wait_for's Ref, then a send.
    let (waker, _c) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut fut = pin!(rx.wait_for(|v| v.0 == 3));
        let Poll::Ready(Ok(r)) = poll_once(fut.as_mut(), &mut cx) else {
            panic!("3 is there");
        };
        tx.send(t(4)).unwrap();
        assert_eq!(r.0, 3);
        drop(r);
    }
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    drop(tx);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 4, "every value dropped once");
}

#[test]
fn send_modify_waits_for_a_ref_on_another_thread() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let _turn = seqcast_test_support::one_at_a_time();
    let (tx, rx) = channel(0_u32);
    let r = rx.borrow();
    let done = Arc::new(AtomicBool::new(false));
    let d = Arc::clone(&done);
    let writer = std::thread::spawn(move || {
        tx.send_modify(|v| *v = 1);
        d.store(true, Ordering::SeqCst);
        tx
    });
    std::thread::sleep(std::time::Duration::from_millis(if cfg!(miri) {
        1
    } else {
        50
    }));
    assert!(!done.load(Ordering::SeqCst), "waits while the Ref lives");
    assert_eq!(*r, 0);
    drop(r);
    let tx = writer.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
    assert_eq!(*rx.borrow(), 1);
    drop(tx);
}
