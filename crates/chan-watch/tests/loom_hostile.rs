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
/// borrow races the send and the holder's `release` of A. If the borrow
/// read-locks A, the release's `try_write` fails, and the borrow's
/// re-check finds B and retries without releasing: value 0 is never
/// dropped (the assertion below).
///
/// SHOWS, as it stands, that loom cannot check the slot protocol: it
/// FAILS with a loom "deadlock" of the main thread at ring-core
/// `sync.rs:404` (`try_write`), before reaching the leak. loom 0.7.3
/// marks a thread whose pending operation is a write on the lock as
/// blocked when another thread read-locks it (rt/rwlock.rs
/// `post_acquire_read_lock`) and unblocks it only when the *last* reader
/// leaves; with the holder's `Ref` still alive, the `try_write` that std
/// fails at once (`WouldBlock`) never returns. So in `loom_watch.rs` every
/// interleaving where a send's `try_write` races a borrow while another
/// `Ref` is alive is either reported as a deadlock or never reached: the
/// issue's "loom models ... the lock-free borrow's reclamation" prove
/// nothing about the paths that leak (those models pass; the leak is
/// real, see `hostile.rs`).
#[test]
fn a_held_ref_forces_a_slot_change_and_a_racing_borrow_leaks_the_old_value() {
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
            drop(r); // release(A) races the reader below
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
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

