//! The version word: a counter stepping by 2, and bit 0 set once the last
//! sender is gone. The only place that shifts or masks it (tokio's
//! `watch::state`, same layout).
//!
//! Orderings: the version is bumped with a `SeqCst` read-modify-write while
//! the value's write lock is held, so a reader that takes the read lock
//! and then loads the version sees the version of the value it holds; a
//! waiting receiver re-checks the word after the doorbell's full fence, and
//! the sender's `SeqCst` bump followed by `Doorbell::ring_after_seqcst`
//! is the other half of that Dekker pair (ring-core's `doorbell.rs`).

use ring_core::sync::atomic::{AtomicUsize, Ordering};

const CLOSED_BIT: usize = 1;
/// 2 keeps `CLOSED_BIT` out of the counter.
const STEP_SIZE: usize = 2;

/// A value's version (the closed bit masked off).
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub(crate) struct Version(usize);

impl Version {
    pub(crate) const INITIAL: Self = Version(0);

    /// The version the next bump makes (wrapping, as the bump).
    pub(crate) fn next(self) -> Self {
        Version(self.0.wrapping_add(STEP_SIZE))
    }

    /// Makes the current value look unseen (`mark_changed`). Wrapping, to
    /// stay consistent with the wrapping `fetch_add` of the bump.
    pub(crate) fn decrement(&mut self) {
        self.0 = self.0.wrapping_sub(STEP_SIZE);
    }
}

/// One load of the word.
#[derive(Copy, Clone, Debug)]
pub(crate) struct StateSnapshot(usize);

impl StateSnapshot {
    pub(crate) fn version(self) -> Version {
        Version(self.0 & !CLOSED_BIT)
    }

    pub(crate) fn is_closed(self) -> bool {
        self.0 & CLOSED_BIT == CLOSED_BIT
    }
}

#[derive(Debug)]
pub(crate) struct AtomicState(AtomicUsize);

impl AtomicState {
    pub(crate) fn new() -> Self {
        AtomicState(AtomicUsize::new(Version::INITIAL.0))
    }

    /// Acquire: pairs with the `SeqCst` (so also Release) bump and close
    /// below; a waiter's re-check is ordered by the doorbell's fence.
    pub(crate) fn load(&self) -> StateSnapshot {
        StateSnapshot(self.0.load(Ordering::Acquire))
    }

    /// Call with the value's write lock held, then `ring_after_seqcst`.
    pub(crate) fn increment_version_while_locked(&self) {
        // SeqCst: the writer's half of the doorbell's Dekker pair (module doc).
        self.0.fetch_add(STEP_SIZE, Ordering::SeqCst);
    }

    /// Call once, from the last sender's drop, then `ring_after_seqcst`.
    pub(crate) fn set_closed(&self) {
        // SeqCst: as the bump.
        self.0.fetch_or(CLOSED_BIT, Ordering::SeqCst);
    }
}
