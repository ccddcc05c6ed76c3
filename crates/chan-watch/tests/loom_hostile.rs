//! Hostile loom models on the real chan-watch types (`--cfg ring_loom`).
//! Each model sets its own preemption bound.
//!
//! Run: RUSTFLAGS="--cfg ring_loom" CARGO_TARGET_DIR=target/loom \
//!      cargo test --release -p chan-watch --test loom_hostile
#![cfg(ring_loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use chan_watch::channel;

fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

/// Counts its drops.
struct Counted(u32, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

/// A one-shot gate without spurious wake-ups (loom's `Notify` may wake
/// spuriously): a flag under a mutex, waited for in a loop.
#[derive(Default)]
struct Gate(loom::sync::Mutex<bool>, loom::sync::Condvar);

impl Gate {
    fn open(&self) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }
    fn wait(&self) {
        let mut g = self.0.lock().unwrap();
        while !*g {
            g = self.1.wait(g).unwrap();
        }
    }
}

/// The leak of `hostile.rs`'s
/// `a_replaced_value_outlives_every_ref_under_a_racing_borrow`, as a
/// loom model: a holder thread keeps a `Ref` of slot A until the send is
/// done (gates), so `send` must move to slot B; a reader's transient
/// borrow races the send and the holder's `release` of A. Before the fix,
/// if the borrow read-locked A, the release's `try_write` failed, and the
/// borrow's re-check found B and retried without releasing: value 0 was
/// never dropped (the assertion below). Now every reader's unlock runs the
/// retire protocol (`slot.rs` `read_unlock`), and the model checks that the
/// replaced value is dropped once no `Ref` can show it, in every
/// interleaving within the bound.
///
/// The slots now use a lock word of our own (`src/slot.rs`) instead of
/// std's `RwLock` (and ring-core's loom shim of it, written because loom
/// 0.7.3's `try_write` blocked on readers instead of failing): loom sees
/// every read-modify-write of the word, so the whole retire protocol is
/// modelled, including the case the old SeqCst fences guarded (a reader
/// deciding on `RETIRED` from a stale view fails this model: see the
/// mutation table in `tests/README.md`).
#[test]
fn a_held_ref_forces_a_slot_change_and_a_racing_borrow_does_not_leak_the_old_value() {
    model(3, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel(Counted(0, Arc::clone(&drops)));
        let (rx2, rx3) = (rx.clone(), rx.clone());
        let held = Arc::new(Gate::default());
        let sent = Arc::new(Gate::default());
        let (h2, s2) = (Arc::clone(&held), Arc::clone(&sent));
        let holder = thread::spawn(move || {
            let r = rx3.borrow();
            h2.open(); // holding A
            s2.wait();
            drop(r); // unlocking A races the reader below
        });
        let reader = thread::spawn(move || drop(rx2.borrow()));
        held.wait();
        tx.send(Counted(1, Arc::clone(&drops))).unwrap(); // moves to B
        sent.open();
        holder.join().unwrap();
        reader.join().unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the replaced value 0 was not dropped although no Ref shows it"
        );
        assert_eq!(rx.borrow().0, 1, "the value sent is current");
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

/// `hostile.rs`'s `borrow_then_send_on_one_thread_deadlocks_if_a_send_modify_is_queued`
/// as a model: a `send_modify` on another thread may wait for this
/// thread's `Ref`; the `send` made while the `Ref` lives must not wait for
/// it (before the fix it queued on the senders' lock behind the waiting
/// modification: a deadlock loom reports). The modification lands either
/// before the send (and is replaced) or after it, on the sent value, and
/// every value is dropped exactly once.
#[test]
fn a_send_modify_waiting_for_a_ref_does_not_hold_up_a_send() {
    model(3, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel(Counted(0, Arc::clone(&drops)));
        let tx2 = tx.clone();
        let modifier = thread::spawn(move || tx2.send_modify(|c| c.0 += 10));
        let r = rx.borrow();
        tx.send(Counted(1, Arc::clone(&drops))).unwrap();
        assert!(r.0 == 0 || r.0 == 10, "{}", r.0);
        drop(r);
        modifier.join().unwrap();
        let now = rx.borrow().0;
        assert!(now == 1 || now == 11, "{now}");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the replaced value is dropped once"
        );
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

/// A borrow asleep behind a `send_modify` that waits for a `Ref` (held by
/// this thread) is let go when a `send` replaces the value: the `send`'s
/// retire wakes the slot word's sleepers. The borrow is joined while the
/// `Ref` still lives, so a lost wake-up is a deadlock loom reports (fails
/// if `retire` skips its wake-up).
#[test]
fn a_borrow_asleep_behind_a_waiting_send_modify_moves_on_after_a_send() {
    model(3, || {
        let (tx, rx) = channel(0_u32);
        let (rx2, tx2) = (rx.clone(), tx.clone());
        let held = rx.borrow();
        let modifier = thread::spawn(move || tx2.send_modify(|v| *v += 10));
        let reader = thread::spawn(move || *rx2.borrow());
        tx.send(1).unwrap();
        let seen = reader.join().unwrap();
        assert!(matches!(seen, 0 | 1 | 11), "{seen}");
        assert_eq!(*held, 0);
        drop(held);
        modifier.join().unwrap();
        assert_eq!(*rx.borrow(), 11);
    });
}

/// `send` racing the last receiver's drop: the value is stored (and the
/// old one dropped) exactly when `send` returns `Ok`, handed back
/// otherwise; each value is dropped once.
#[test]
fn send_vs_the_last_receiver_drop() {
    model(3, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel(Counted(0, Arc::clone(&drops)));
        let dropper = thread::spawn(move || drop(rx));
        let sent = tx.send(Counted(1, Arc::clone(&drops)));
        dropper.join().unwrap();
        assert!(tx.is_closed());
        match sent {
            Ok(()) => assert_eq!(tx.borrow().0, 1),
            Err(back) => {
                assert_eq!(back.0.0, 1);
                assert_eq!(tx.borrow().0, 0, "a refused value is not stored");
            }
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(tx);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

/// A `Ref`'s drop on one thread racing `send_replace` (which waits for
/// it): `send_replace` returns the value the `Ref` showed, the `Ref` never
/// shows a value being replaced, and each value is dropped once.
#[test]
fn a_ref_drop_vs_send_replace() {
    model(3, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel(Counted(0, Arc::clone(&drops)));
        let reader = thread::spawn(move || {
            let r = rx.borrow();
            let v = r.0;
            drop(r);
            (v, rx)
        });
        let old = tx.send_replace(Counted(1, Arc::clone(&drops)));
        assert_eq!(old.0, 0);
        drop(old);
        let (v, rx) = reader.join().unwrap();
        assert!(v == 0 || v == 1, "{v}");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(rx.borrow().0, 1);
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

/// A `send_modify` waits on slot A for a `Ref`; a `send` moves to B; a
/// `Ref` of B forces the next `send` back onto A as soon as A's `Ref` is
/// gone, racing the waiting modification for A's lock. Whoever wins, the
/// modification lands on the value current when it gets in (never on a
/// replaced one), it is replaced only by a later `send`, and every value
/// is dropped exactly once.
#[test]
fn a_send_modify_waiting_on_a_slot_that_a_send_reuses() {
    model(3, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel(Counted(0, Arc::clone(&drops)));
        let tx2 = tx.clone();
        let r = rx.borrow(); // holds A
        let modifier = thread::spawn(move || tx2.send_modify(|c| c.0 += 10));
        tx.send(Counted(1, Arc::clone(&drops))).unwrap(); // to B
        let r2 = rx.borrow(); // holds B (1, or 11 if modified first)
        drop(r); // A is free: the modification or the next send takes it
        tx.send(Counted(2, Arc::clone(&drops))).unwrap();
        let shown = r2.0;
        drop(r2);
        modifier.join().unwrap();
        let now = rx.borrow().0;
        // The modification came before `r2` (and `send(2)` replaced it),
        // or after `send(2)`, on the value it sent.
        assert!(
            (now == 2 && shown == 11) || (now == 12 && shown == 1),
            "now {now}, r2 showed {shown}"
        );
        assert_eq!(drops.load(Ordering::SeqCst), 2, "0 and 1 dropped once");
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    });
}
