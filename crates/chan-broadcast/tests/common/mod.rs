//! Test support: a waker that counts its wake-ups, for poll-level tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};

/// Counts `wake` calls.
#[derive(Default)]
pub struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Relaxed: read by the test thread after the waking call returned.
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A waker and its counter.
pub fn counting_waker() -> (Waker, Arc<CountingWaker>) {
    let count = Arc::new(CountingWaker::default());
    (Waker::from(Arc::clone(&count)), count)
}

impl CountingWaker {
    /// Wake-ups so far.
    pub fn count(&self) -> usize {
        // Relaxed: see `wake_by_ref`.
        self.0.load(Ordering::Relaxed)
    }
}
