//! loom models on the real chan-watch types: send vs `changed`, the last
//! sender dropping while a receiver waits, `send_modify` vs `borrow` (no
//! torn value, version and value agree), `closed()` vs the last
//! receiver's drop and a concurrent `subscribe`, and `WeakSender::upgrade`
//! vs the last sender's drop, and the slots: a `Ref` alive across a `send`
//! (another slot, or in place) and a `send_modify` that waits for the
//! `Ref`; two readers borrowing while sends move between slots. Each
//! model sets its own preemption bound (`LOOM_MAX_PREEMPTIONS` overrides
//! it).
#![cfg(ring_loom)]

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

use chan_watch::channel;

fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

#[test]
fn send_vs_changed() {
    model(3, || {
        let (tx, mut rx) = channel(0_u32);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        // A lost wake-up is a deadlock loom reports.
        assert!(block_on(rx.changed()).is_ok());
        assert_eq!(*rx.borrow_and_update(), 1);
        let tx = sender.join().unwrap();
        drop(tx);
        assert!(block_on(rx.changed()).is_err());
    });
}

#[test]
fn last_sender_drop_while_a_receiver_waits() {
    model(3, || {
        let (tx, mut rx) = channel(0_u32);
        let tx2 = tx.clone();
        let a = thread::spawn(move || drop(tx));
        let b = thread::spawn(move || {
            tx2.send(5).unwrap();
        });
        // Every change is seen, then the close, in that order.
        let mut last = 0;
        while block_on(rx.changed()).is_ok() {
            last = *rx.borrow_and_update();
        }
        assert_eq!(last, 5, "the value sent before the close is seen");
        assert!(rx.is_closed());
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn send_modify_vs_borrow() {
    model(3, || {
        let (tx, mut rx) = channel((0_u32, 0_u32));
        let writer = thread::spawn(move || {
            tx.send_modify(|v| {
                v.0 += 1;
                v.1 += 1;
            });
            tx.send_modify(|v| {
                v.0 += 1;
                v.1 += 1;
            });
            tx
        });
        let r = rx.borrow_and_update();
        assert_eq!(r.0, r.1, "never a half-made change");
        let first = r.0;
        drop(r);
        let g = rx.get_and_update();
        assert_eq!(g.0, g.1);
        assert!(g.0 >= first);
        let tx = writer.join().unwrap();
        // The version marked seen is the one of the value read: after
        // reading 2 nothing is new; before, something is.
        assert_eq!(rx.has_changed().unwrap(), g.0 != 2);
        drop(tx);
    });
}

#[test]
fn closed_vs_the_last_receiver_drop_and_a_subscribe() {
    model(2, || {
        let (tx, rx) = channel(0_u32);
        let tx = Arc::new(tx);
        let t2 = Arc::clone(&tx);
        let dropper = thread::spawn(move || drop(rx));
        let subscriber = thread::spawn(move || {
            let late = t2.subscribe();
            drop(late);
        });
        // Whatever the order, the count reaches zero for good and the
        // waiting sender is woken (a lost wake-up deadlocks the model).
        block_on(tx.closed());
        dropper.join().unwrap();
        subscriber.join().unwrap();
        assert!(tx.is_closed());
    });
}

#[test]
fn upgrade_vs_the_last_sender_drop() {
    model(3, || {
        let (tx, mut rx) = channel(0_u32);
        let weak = tx.downgrade();
        let dropper = thread::spawn(move || drop(tx));
        if let Some(tx) = weak.upgrade() {
            assert!(!rx.is_closed());
            tx.send_replace(1);
            drop(tx);
        }
        dropper.join().unwrap();
        // Closed exactly once the last strong sender went.
        assert!(weak.upgrade().is_none());
        assert!(rx.is_closed());
        while block_on(rx.changed()).is_ok() {}
    });
}

#[derive(Debug)]
struct Counted(u32, Arc<loom::sync::atomic::AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, loom::sync::atomic::Ordering::SeqCst);
    }
}

/// The snapshot reclamation: a `Ref` on one thread while the sender sends
/// (a new snapshot, or in place) and then modifies (waiting for the `Ref`).
/// Every value is dropped exactly once, none while a `Ref` shows it.
#[test]
fn a_ref_across_send_and_a_waiting_send_modify() {
    model(2, || {
        let drops = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let (tx, rx) = channel(Counted(1, Arc::clone(&drops)));
        let reader = thread::spawn(move || {
            let r = rx.borrow();
            let v = r.0;
            assert!(v == 1 || v == 2 || v == 12, "{v}");
            drop(r);
            rx
        });
        tx.send(Counted(2, Arc::clone(&drops))).unwrap();
        tx.send_modify(|c| c.0 += 10);
        let rx = reader.join().unwrap();
        assert_eq!(rx.borrow().0, 12);
        assert_eq!(drops.load(loom::sync::atomic::Ordering::SeqCst), 1);
        drop((tx, rx));
        assert_eq!(drops.load(loom::sync::atomic::Ordering::SeqCst), 2);
    });
}

/// Two readers borrow (their `Ref`s overlapping each other's and the
/// sends) while two sends move the value between slots: each reader sees a
/// non-decreasing sequence, the version it marks seen is the value's, and
/// every value is dropped once.
#[test]
fn two_readers_while_sends_change_slots() {
    model(2, || {
        let drops = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let (tx, rx) = channel(Counted(0, Arc::clone(&drops)));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let mut rx = rx.clone();
                thread::spawn(move || {
                    // One `Ref` at a time per thread: loom's RwLock does
                    // not model a thread read-locking twice.
                    let a = rx.borrow();
                    let first = a.0;
                    drop(a);
                    let c = rx.borrow_and_update().0;
                    assert!(c >= first);
                    // Marked seen with the value's own version: after the
                    // last value, nothing is new.
                    if c == 2 {
                        assert!(!rx.has_changed().unwrap());
                    }
                })
            })
            .collect();
        tx.send(Counted(1, Arc::clone(&drops))).unwrap();
        tx.send(Counted(2, Arc::clone(&drops))).unwrap();
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(rx.borrow().0, 2);
        assert_eq!(drops.load(loom::sync::atomic::Ordering::SeqCst), 2);
        drop((tx, rx));
        assert_eq!(drops.load(loom::sync::atomic::Ordering::SeqCst), 3);
    });
}

/// A borrow racing a send that moves to another slot (the current one is
/// held by a `Ref` on a third thread) and that `Ref`'s drop, which empties
/// the old slot: the borrow must retry, never show the emptied slot or an
/// older value than one it has seen. (The `Ref` is on its own thread, as
/// it had to be while loom's `RwLock::try_write` blocked on readers; since
/// ring-core's loom shim fails it at once, as std's does, the slot-change
/// paths are explored: see `loom_hostile.rs`.)
#[test]
fn a_borrow_racing_a_slot_change_and_the_old_slots_release() {
    model(3, || {
        let (tx, rx) = channel(0_u32);
        let (rx2, rx3) = (rx.clone(), rx.clone());
        let reader = thread::spawn(move || {
            let a = rx2.borrow();
            let first = *a;
            drop(a);
            let b = rx2.borrow();
            assert!(*b >= first, "{} then {}", first, *b);
        });
        let holder = thread::spawn(move || {
            let held = rx3.borrow();
            let v = *held;
            drop(held); // empties its slot if it is no longer current
            v
        });
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        reader.join().unwrap();
        assert!(holder.join().unwrap() <= 2);
        assert_eq!(*rx.borrow(), 2);
    });
}

/// The smallest race on the slot change: a borrow, a `Ref` on another
/// thread that makes the send move to another slot, and that `Ref`'s drop
/// emptying the old slot.
#[test]
fn a_borrow_never_sees_an_emptied_slot() {
    model(3, || {
        let (tx, rx) = channel(0_u32);
        let (rx2, rx3) = (rx.clone(), rx.clone());
        let reader = thread::spawn(move || *rx2.borrow());
        let holder = thread::spawn(move || drop(rx3.borrow()));
        tx.send(1).unwrap();
        assert!(reader.join().unwrap() <= 1);
        holder.join().unwrap();
        assert_eq!(*rx.borrow(), 1);
    });
}

/// The waits on a slot's lock word (`slot.rs`, `Parking`): a
/// `send_modify` waits for a `Ref` held on another thread (it sets
/// `WANT_WRITE` and sleeps), a third thread's borrow arrives meanwhile
/// (it waits behind the queued modification, or comes before it), and
/// the `Ref`'s drop and the modification's unlock must wake whoever
/// sleeps: a lost wake-up is a deadlock loom reports. (Fails if the last
/// reader's unlock or the write unlock skips its wake-up.)
#[test]
fn waits_on_a_slot_word_are_woken() {
    model(2, || {
        let (tx, rx) = channel(0_u32);
        let rx2 = rx.clone();
        let held = rx.borrow();
        let modifier = thread::spawn(move || {
            tx.send_modify(|v| *v += 1);
            tx
        });
        let reader = thread::spawn(move || *rx2.borrow());
        drop(held);
        assert!(reader.join().unwrap() <= 1);
        let tx = modifier.join().unwrap();
        assert_eq!(*rx.borrow(), 1);
        drop(tx);
    });
}
