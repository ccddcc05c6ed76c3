//! loom model of the `Doorbell` parking wait: no lost wake-up between a
//! reader's announcement and a writer's publish + ring (a lost one shows as
//! a loom deadlock).
#![cfg(ring_loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU64, Ordering};
use loom::thread;
use ring_core::{Doorbell, WaitStrategy};

/// Every model sets its own preemption bound, so `cargo test` with
/// `--cfg ring_loom` alone finishes (no `LOOM_MAX_PREEMPTIONS` needed).
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

fn wait_for(bell: &Doorbell, value: &AtomicU64) -> u64 {
    bell.wait_until(WaitStrategy::Park { spin_iters: 0 }, || {
        // Acquire: pairs with the writer's Release store.
        match value.load(Ordering::Acquire) {
            0 => None,
            v => Some(v),
        }
    })
}

#[test]
fn parked_reader_is_woken_by_ring() {
    model(3, || {
        let bell = Arc::new(Doorbell::new());
        let value = Arc::new(AtomicU64::new(0));
        let reader = {
            let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
            thread::spawn(move || wait_for(&bell, &value))
        };
        // Release: pairs with the reader's Acquire load.
        value.store(7, Ordering::Release);
        bell.ring();
        assert_eq!(reader.join().unwrap(), 7);
    });
}

#[test]
fn two_parked_readers_are_both_woken() {
    model(2, || {
        let bell = Arc::new(Doorbell::new());
        let value = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
                thread::spawn(move || wait_for(&bell, &value))
            })
            .collect();
        // Release: pairs with the readers' Acquire loads.
        value.store(3, Ordering::Release);
        bell.ring();
        for r in readers {
            assert_eq!(r.join().unwrap(), 3);
        }
    });
}

/// The async path: a task registered through `poll_wait` is woken by `ring`
/// (a lost wake-up leaves `block_on` waiting forever: a loom deadlock).
#[test]
fn registered_task_is_woken_by_ring() {
    model(3, || {
        let bell = Arc::new(Doorbell::new());
        let value = Arc::new(AtomicU64::new(0));
        let reader = {
            let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
            thread::spawn(move || {
                let mut key = None;
                let got = loom::future::block_on(std::future::poll_fn(|cx| {
                    bell.poll_wait(cx, &mut key, || {
                        // Acquire: pairs with the writer's Release store.
                        match value.load(Ordering::Acquire) {
                            0 => None,
                            v => Some(v),
                        }
                    })
                }));
                assert!(key.is_none(), "a finished wait leaves no registration");
                assert!(!bell.has_waiters() || value.load(Ordering::Relaxed) != 0);
                got
            })
        };
        // Release: pairs with the reader's Acquire load.
        value.store(11, Ordering::Release);
        bell.ring();
        assert_eq!(reader.join().unwrap(), 11);
    });
}

fn peek(value: &AtomicU64) -> Option<u64> {
    // Acquire: pairs with the writer's Release store.
    match value.load(Ordering::Acquire) {
        0 => None,
        v => Some(v),
    }
}

/// A registration re-polled with a different waker (a task moved between
/// executors, or the `Stream` kept its key between items) is still woken,
/// and a finished wait leaves nothing registered (issue 9, bug 3).
#[test]
fn poll_wait_with_a_changed_waker() {
    model(3, || {
        let bell = Arc::new(Doorbell::new());
        let value = Arc::new(AtomicU64::new(0));
        let reader = {
            let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
            thread::spawn(move || {
                let mut key = None;
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                if let std::task::Poll::Ready(v) =
                    bell.poll_wait(&mut cx, &mut key, || peek(&value))
                {
                    assert!(key.is_none());
                    return v;
                }
                // Same key, the executor's waker now.
                let got = loom::future::block_on(std::future::poll_fn(|cx| {
                    bell.poll_wait(cx, &mut key, || peek(&value))
                }));
                assert!(key.is_none(), "a finished wait keeps no key");
                got
            })
        };
        // Release: pairs with the reader's Acquire load.
        value.store(11, Ordering::Release);
        bell.ring();
        assert_eq!(reader.join().unwrap(), 11);
        assert!(!bell.has_waiters(), "no registration left behind");
    });
}

/// `cancel` racing `ring`: the lock-free fast path (a newer epoch means the
/// wake already retired the key) and the locked path both leave nothing
/// registered.
#[test]
fn cancel_racing_ring() {
    model(3, || {
        let bell = Arc::new(Doorbell::new());
        let value = Arc::new(AtomicU64::new(0));
        let reader = {
            let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
            thread::spawn(move || {
                let mut key = None;
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                let _ = bell.poll_wait(&mut cx, &mut key, || peek(&value));
                bell.cancel(&mut key);
                assert!(key.is_none());
            })
        };
        // Release: pairs with the reader's Acquire load.
        value.store(5, Ordering::Release);
        bell.ring();
        reader.join().unwrap();
        assert!(
            !bell.has_waiters(),
            "cancelled or retired, never both or neither"
        );
        // A second registration reuses the slab cleanly.
        let mut key = None;
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(
            bell.poll_wait(&mut cx, &mut key, || None::<()>)
                .is_pending()
        );
        assert!(bell.has_waiters());
        bell.cancel(&mut key);
        assert!(!bell.has_waiters());
    });
}

/// `ShardedDoorbell`: two tasks on two threads register on two shards
/// (threads take shards round-robin) while the writer publishes and rings
/// every shard; both are woken (a lost wake-up on either shard is a loom
/// deadlock), and nothing stays registered.
#[test]
fn sharded_tasks_on_two_shards_are_both_woken() {
    model(2, || {
        let bell = Arc::new(ring_core::ShardedDoorbell::new());
        let value = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
                thread::spawn(move || {
                    let mut key = ring_core::ShardedKey::default();
                    let got = loom::future::block_on(std::future::poll_fn(|cx| {
                        bell.poll_wait(cx, &mut key, || peek(&value))
                    }));
                    assert!(!key.is_registered(), "a finished wait keeps no key");
                    got
                })
            })
            .collect();
        // Release: pairs with the readers' Acquire loads.
        value.store(9, Ordering::Release);
        bell.ring();
        for r in readers {
            assert_eq!(r.join().unwrap(), 9);
        }
        assert!(!bell.has_waiters(), "no registration left behind");
    });
}

/// A `ShardedDoorbell` registration made on one thread and then polled and
/// cancelled from another (a task moved to another worker): it stays on
/// the shard it was made on, is woken there, and `cancel` from the new
/// thread racing the `ring` leaves nothing registered.
#[test]
fn sharded_registration_moved_to_another_thread() {
    model(2, || {
        let bell = Arc::new(ring_core::ShardedDoorbell::new());
        let value = Arc::new(AtomicU64::new(0));
        let mut key = ring_core::ShardedKey::default();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(
            bell.poll_wait(&mut cx, &mut key, || peek(&value))
                .is_pending()
        );
        let mover = {
            let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
            thread::spawn(move || {
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                let _ = bell.poll_wait(&mut cx, &mut key, || peek(&value));
                bell.cancel(&mut key);
                assert!(!key.is_registered());
            })
        };
        // Release: pairs with the mover's Acquire load.
        value.store(4, Ordering::Release);
        bell.ring();
        mover.join().unwrap();
        assert!(
            !bell.has_waiters(),
            "cancelled or retired, never both or neither"
        );
    });
}
