//! The receivers' doorbell, sharded by thread.
//!
//! Receivers that find the channel empty register their waker on a
//! doorbell, under that doorbell's mutex. With one doorbell, every
//! registration on every worker thread takes the same mutex, and its cache
//! line moves between cores on nearly every registration: in a profile of
//! tokio's `contention` shape with 1000 tasks (`benches/broadcast.rs`), the
//! mutex's lock and unlock were half of `Doorbell::poll_wait`'s cycles
//! (tokio issue 5465 asks for the same thing of tokio's channel). Here a
//! registration goes to the shard of the thread that makes it, so the
//! mutexes stay in their own cores' caches, and a send rings every shard.
//!
//! Each shard is a whole ring-core [`Doorbell`] with its own Dekker pair,
//! so the no-lost-wake-up argument is the doorbell's, per shard: a
//! registration re-checks after its fence, and the sender's commit (a
//! `SeqCst` swap) comes before its load of every shard's waiter count.
//! When nobody waits a send costs one load per shard (`SHARDS` loads of
//! lines that only registrations write).

use core::task::{Context, Poll};

use ring_core::{CachePadded, Doorbell, WaitKey};

/// Number of shards: enough for the worker threads of the machines this is
/// measured on without making an idle send load many lines.
const SHARDS: usize = 4;

/// A registration: the shard it was made on and its key there.
#[derive(Debug, Default)]
pub(crate) struct BellKey(Option<(usize, WaitKey)>);

/// The sharded doorbell.
#[derive(Debug)]
pub(crate) struct Bells {
    shards: [CachePadded<Doorbell>; SHARDS],
}

impl Bells {
    /// Symmetric doorbells: receivers register on every empty poll, and the
    /// asymmetric protocol's syscall per registration would cost more than
    /// it saves (ring-core's `Doorbell::symmetric`).
    pub(crate) fn new() -> Self {
        Bells {
            shards: core::array::from_fn(|_| CachePadded::new(Doorbell::symmetric())),
        }
    }

    /// [`Doorbell::ring`] on every shard.
    pub(crate) fn ring(&self) {
        for shard in &self.shards {
            shard.ring();
        }
    }

    /// [`Doorbell::ring_after_seqcst`] on every shard: the caller's
    /// publishing write was `SeqCst`.
    #[inline]
    pub(crate) fn ring_after_seqcst(&self) {
        for shard in &self.shards {
            shard.ring_after_seqcst();
        }
    }

    /// [`Doorbell::poll_wait`] on this thread's shard (or, for a live
    /// registration, on the shard it was made on).
    pub(crate) fn poll_wait<R>(
        &self,
        cx: &mut Context<'_>,
        key: &mut BellKey,
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

    /// [`Doorbell::cancel`] on the registration's shard. Inline for the
    /// common case, no registration (every receive that found a value
    /// calls this; out of line it was a call per receive).
    #[inline(always)]
    pub(crate) fn cancel(&self, key: &mut BellKey) {
        if key.0.is_some() {
            self.cancel_registered(key);
        }
    }

    fn cancel_registered(&self, key: &mut BellKey) {
        if let Some((shard, k)) = key.0.take() {
            self.shards[shard].cancel(&mut Some(k));
        }
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
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
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
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

#[cfg(all(test, not(ring_loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn a_registration_on_any_thread_is_rung_and_cancelled_on_its_shard() {
        let bells = Bells::new();
        let mut cx = Context::from_waker(Waker::noop());
        let mut here = BellKey::default();
        assert!(
            bells
                .poll_wait(&mut cx, &mut here, || None::<()>)
                .is_pending()
        );
        // A registration from other threads lands on other shards.
        let mut there: Vec<BellKey> = Vec::new();
        std::thread::scope(|s| {
            for _ in 0..SHARDS {
                let k = s
                    .spawn(|| {
                        let mut k = BellKey::default();
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
        assert!(bells.shards.iter().any(|s| s.has_waiters()));
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
        assert!(bells.shards.iter().all(|s| !s.has_waiters()));
    }
}
