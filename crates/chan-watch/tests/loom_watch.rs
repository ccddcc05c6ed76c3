//! loom models on the real chan-watch types: send vs `changed`, the last
//! sender dropping while a receiver waits, `send_modify` vs `borrow` (no
//! torn value, version and value agree), `closed()` vs the last
//! receiver's drop and a concurrent `subscribe`, and `WeakSender::upgrade`
//! vs the last sender's drop, and the snapshot reclamation: a `Ref` alive
//! across a `send` (new snapshot or in place) and a `send_modify` that
//! parks until the `Ref` is dropped (fails, as a deadlock, if a `Ref`'s
//! drop does not ring). Each model sets its own preemption bound
//! (`LOOM_MAX_PREEMPTIONS` overrides it).
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
