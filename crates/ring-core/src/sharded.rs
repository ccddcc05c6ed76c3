//! [`ShardedDoorbell`]: the async doorbell of a channel with many waiting
//! tasks, sharded by thread.
//!
//! Tasks that find nothing register their waker on a [`Doorbell`], under
//! that doorbell's mutex. With one doorbell, every registration on every
//! worker thread takes the same mutex, and its cache line (with the waiter
//! count the writer reads) moves between cores on nearly every
//! registration: in a profile of tokio's `contention` shape with 1000 tasks
//! (the repository's `benches/broadcast.rs`), the mutex's lock and unlock
//! were half of `Doorbell::poll_wait`'s cycles (tokio issue 5465 asks the
//! same of tokio's channel). Here a registration goes to the shard of the
//! thread that makes it, so each mutex stays in its own core's cache, and a
//! writer rings every shard.
//!
//! Each shard is a whole [`Doorbell::symmetric`] with its own Dekker pair,
//! so the no-lost-wake-up argument is the doorbell's, per shard: a
//! registration re-checks after its fence, and the writer's publish comes
//! before its fenced load of every shard's waiter count. When nobody waits
//! a ring costs one load per shard ([`SHARDS`](ShardedDoorbell::SHARDS)
//! loads of lines that only registrations write).

use core::task::{Context, Poll};

use crate::doorbell::{Doorbell, WaitKey};
use crate::padding::CachePadded;

/// A registration with a [`ShardedDoorbell`]: the shard it was made on and
/// its key there. Start from `ShardedKey::default()`, keep it in the
/// waiting future between polls, and [`cancel`](ShardedDoorbell::cancel) it
/// when the future is dropped.
///
/// ```
/// let key = ring_core::ShardedKey::default();
/// assert!(!key.is_registered());
/// ```
#[derive(Debug, Default)]
pub struct ShardedKey(Option<(usize, WaitKey)>);

impl ShardedKey {
    /// Whether this key holds a registration (it may have been retired by
    /// a ring since; [`ShardedDoorbell::cancel`] tells the two apart).
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use ring_core::{ShardedDoorbell, ShardedKey};
    ///
    /// let bell = ShardedDoorbell::new();
    /// let mut key = ShardedKey::default();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(bell.poll_wait(&mut cx, &mut key, || None::<()>).is_pending());
    /// assert!(key.is_registered());
    /// bell.cancel(&mut key);
    /// assert!(!key.is_registered());
    /// ```
    pub fn is_registered(&self) -> bool {
        self.0.is_some()
    }
}

/// A [`Doorbell`] for async waiters, one shard per worker thread.
///
/// Registrations ([`poll_wait`](ShardedDoorbell::poll_wait)) take the
/// mutex of the calling thread's shard only; [`ring`](ShardedDoorbell::ring)
/// visits every shard (one load each when nobody waits).
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// use ring_core::{ShardedDoorbell, ShardedKey};
///
/// let bell = ShardedDoorbell::new();
/// let mut cx = Context::from_waker(Waker::noop());
/// let mut key = ShardedKey::default();
/// let mut value = None;
/// assert_eq!(bell.poll_wait(&mut cx, &mut key, || value), Poll::Pending);
/// assert!(bell.has_waiters());
/// value = Some(7);
/// bell.ring(); // wakes the registered task
/// assert_eq!(bell.poll_wait(&mut cx, &mut key, || value), Poll::Ready(7));
/// assert!(!bell.has_waiters());
/// ```
#[derive(Debug)]
pub struct ShardedDoorbell {
    shards: [CachePadded<Doorbell>; ShardedDoorbell::SHARDS],
}

impl Default for ShardedDoorbell {
    fn default() -> Self {
        Self::new()
    }
}

impl ShardedDoorbell {
    /// Number of shards: enough for the worker threads of the machines this
    /// is measured on without making an idle ring load many lines. Threads
    /// take shards round-robin on their first registration.
    pub const SHARDS: usize = 4;

    /// Symmetric shards: async waiters register on every empty poll, and
    /// the asymmetric protocol's syscall per registration would cost more
    /// than it saves ([`Doorbell::symmetric`]).
    ///
    /// ```
    /// assert!(!ring_core::ShardedDoorbell::new().has_waiters());
    /// ```
    pub fn new() -> Self {
        ShardedDoorbell {
            shards: core::array::from_fn(|_| CachePadded::new(Doorbell::symmetric())),
        }
    }

    /// [`Doorbell::ring`] on every shard: wakes every registered task.
    ///
    /// ```
    /// ring_core::ShardedDoorbell::new().ring(); // nobody waits: returns at once
    /// ```
    #[inline]
    pub fn ring(&self) {
        for shard in &self.shards {
            shard.ring();
        }
    }

    /// [`Doorbell::ring_after_seqcst`] on every shard: for a writer whose
    /// publishing write was `SeqCst`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let bell = ring_core::ShardedDoorbell::new();
    /// let value = AtomicU64::new(0);
    /// value.swap(1, Ordering::SeqCst);
    /// bell.ring_after_seqcst();
    /// ```
    #[inline]
    pub fn ring_after_seqcst(&self) {
        for shard in &self.shards {
            shard.ring_after_seqcst();
        }
    }

    /// [`Doorbell::poll_wait`] on this thread's shard (or, for a live
    /// registration, on the shard it was made on): polls `poll`, and if it
    /// finds nothing registers the task's waker, re-checks, and returns
    /// `Pending`. `poll` runs under the shard's lock on the re-check, so it
    /// must not ring this doorbell.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use ring_core::{ShardedDoorbell, ShardedKey};
    ///
    /// let bell = ShardedDoorbell::new();
    /// let mut key = ShardedKey::default();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(bell.poll_wait(&mut cx, &mut key, || Some(1)), Poll::Ready(1));
    /// assert!(!key.is_registered(), "a ready poll leaves no registration");
    /// ```
    pub fn poll_wait<R>(
        &self,
        cx: &mut Context<'_>,
        key: &mut ShardedKey,
        poll: impl FnMut() -> Option<R>,
    ) -> Poll<R> {
        let (shard, mut k) = match key.0.take() {
            Some((shard, k)) => (shard, Some(k)),
            None => (this_thread_shard(), None),
        };
        let out = self.shards[shard].poll_wait(cx, &mut k, poll);
        key.0 = k.map(|k| (shard, k));
        out
    }

    /// [`Doorbell::cancel`] on the registration's shard: withdraws a live
    /// registration, forgets a retired one. Inline for the common case, no
    /// registration (a receive that found a value calls it).
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use ring_core::{ShardedDoorbell, ShardedKey};
    ///
    /// let bell = ShardedDoorbell::new();
    /// let mut key = ShardedKey::default();
    /// let _ = bell.poll_wait(&mut Context::from_waker(Waker::noop()), &mut key, || None::<()>);
    /// bell.cancel(&mut key);
    /// assert!(!bell.has_waiters());
    /// ```
    #[inline(always)]
    pub fn cancel(&self, key: &mut ShardedKey) {
        if key.0.is_some() {
            self.cancel_registered(key);
        }
    }

    fn cancel_registered(&self, key: &mut ShardedKey) {
        if let Some((shard, k)) = key.0.take() {
            self.shards[shard].cancel(&mut Some(k));
        }
    }

    /// Whether any shard has a registered task (or parked thread).
    ///
    /// ```
    /// assert!(!ring_core::ShardedDoorbell::new().has_waiters());
    /// ```
    pub fn has_waiters(&self) -> bool {
        self.shards.iter().any(|s| s.has_waiters())
    }
}

/// The calling thread's shard: threads take shards round-robin on their
/// first registration.
#[cfg(not(ring_loom))]
fn this_thread_shard() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::thread_local! {
        // Relaxed: a spreading hint; any shard is correct.
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % ShardedDoorbell::SHARDS;
    }
    SHARD.with(|s| *s)
}

/// Under loom: the same round-robin, with loom's per-execution statics and
/// thread-locals (std's would not reset between executions, and model
/// threads may share an OS thread), so models exercise several shards.
#[cfg(ring_loom)]
fn this_thread_shard() -> usize {
    use loom::sync::atomic::{AtomicUsize, Ordering};

    loom::lazy_static! {
        static ref NEXT: AtomicUsize = AtomicUsize::new(0);
    }
    loom::thread_local! {
        // Relaxed: a spreading hint; any shard is correct.
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % ShardedDoorbell::SHARDS;
    }
    SHARD.with(|s| *s)
}

#[cfg(all(test, not(ring_loom)))]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use std::task::Waker;

    #[test]
    fn a_registration_on_any_thread_is_rung_and_cancelled_on_its_shard() {
        let bells = ShardedDoorbell::new();
        let mut cx = Context::from_waker(Waker::noop());
        let mut here = ShardedKey::default();
        assert!(
            bells
                .poll_wait(&mut cx, &mut here, || None::<()>)
                .is_pending()
        );
        // A registration from other threads lands on other shards.
        let mut there: Vec<ShardedKey> = Vec::new();
        std::thread::scope(|s| {
            for _ in 0..ShardedDoorbell::SHARDS {
                let k = s
                    .spawn(|| {
                        let mut k = ShardedKey::default();
                        let mut cx = Context::from_waker(Waker::noop());
                        assert!(bells.poll_wait(&mut cx, &mut k, || None::<()>).is_pending());
                        k
                    })
                    .join()
                    .unwrap();
                there.push(k);
            }
        });
        let used: std::collections::BTreeSet<usize> = there
            .iter()
            .chain([&here])
            .map(|k| k.0.unwrap().0)
            .collect();
        assert!(used.len() > 1, "every thread landed on one shard");
        assert!(bells.has_waiters());
        bells.ring();
        assert!(
            bells.shards.iter().all(|s| !s.has_waiters()),
            "ring wakes every shard"
        );
        // Keys retired by the wake cancel without effect; a live one cancels.
        for mut k in there {
            bells.cancel(&mut k);
        }
        assert!(
            bells
                .poll_wait(&mut cx, &mut here, || None::<()>)
                .is_pending()
        );
        bells.cancel(&mut here);
        assert!(!bells.has_waiters());
    }
}
