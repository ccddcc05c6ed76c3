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
