//! What every handle of one channel points to, and the snapshot protocol.
//!
//! The value lives in an `Arc<T>` behind a reader-writer lock that is only
//! ever held for a few instructions: shared by borrows (clone the `Arc`,
//! load the version), exclusive by senders (replace or modify the value,
//! bump the version); no user code runs under it except the `send_modify`
//! closure. (A mutex there serialised concurrent borrows: 54 ns per borrow
//! against 48 ns in `benches/watch.rs`, `watch_borrow_1w2r`.) A [`Ref`]
//! holds a clone of the `Arc`, not a lock, so:
//!
//! * `send` never waits for a `Ref`: when a `Ref` still holds the current
//!   snapshot, it installs a fresh `Arc` and the old value is dropped
//!   with the last `Ref` that shows it (reclamation by reference count);
//!   when none does, it writes in place, no allocation;
//! * `send_modify`, `send_if_modified` and `send_replace` must have the
//!   value itself (`&mut T`, or the old `T` back, without `T: Clone`), so
//!   they wait until every `Ref` of the current snapshot is dropped,
//!   parked on `released`, which each `Ref` rings as it drops.
//!
//! [`Ref`]: crate::Ref

use core::fmt;

use ring_core::sync::atomic::{AtomicUsize, Ordering};
use ring_core::sync::{Arc, RwLock};
use ring_core::{CachePadded, Doorbell, WaitStrategy};

use crate::error::RecvError;
use crate::state::{AtomicState, Version};

pub(crate) struct Shared<T> {
    /// The latest value's snapshot (module docs). Padded: every borrow
    /// writes the lock word, and would otherwise invalidate the line that
    /// waiting receivers poll the version from.
    pub(crate) value: CachePadded<RwLock<Arc<T>>>,
    /// Version and closed bit (`state.rs`), on a line of its own (see
    /// `value`).
    pub(crate) state: CachePadded<AtomicState>,
    /// Live receivers. Relaxed counts, as tokio's; the last receiver's drop
    /// rings `notify_tx` (a `SeqCst` decrement: the doorbell's Dekker pair).
    pub(crate) ref_count_rx: AtomicUsize,
    /// Live senders; the last one's drop sets the closed bit.
    pub(crate) ref_count_tx: AtomicUsize,
    /// Live `WeakSender`s (a count for users; they keep only the
    /// allocation alive, never the channel open).
    pub(crate) ref_count_weak: AtomicUsize,
    /// Receivers waiting for a change (symmetric: every waiting receiver
    /// registers once per change, `Doorbell::symmetric`'s case).
    pub(crate) notify_rx: Doorbell,
    /// Senders waiting in `closed()`.
    pub(crate) notify_tx: Doorbell,
    /// A sender waiting for the `Ref`s of the current snapshot to go.
    /// Asymmetric (`Doorbell::new`): every `Ref` drop rings it, which then
    /// costs a compiler fence and one load; the rare waiter pays the
    /// `membarrier`.
    pub(crate) released: Doorbell,
}

impl<T> Shared<T> {
    pub(crate) fn new(init: T) -> Self {
        Shared {
            value: CachePadded::new(RwLock::new(Arc::new(init))),
            state: CachePadded::new(AtomicState::new()),
            ref_count_rx: AtomicUsize::new(1),
            ref_count_tx: AtomicUsize::new(1),
            ref_count_weak: AtomicUsize::new(0),
            notify_rx: Doorbell::symmetric(),
            notify_tx: Doorbell::symmetric(),
            released: Doorbell::new(),
        }
    }

    /// The current snapshot and its version, consistent: senders bump the
    /// version under the same lock.
    pub(crate) fn snapshot(&self) -> (Arc<T>, crate::state::Version) {
        let slot = self.value.read();
        let version = self.state.load().version();
        (Arc::clone(&slot), version)
    }

    /// With the value's lock held: waits until no `Ref` shows the current
    /// snapshot, then gives the value. A `Ref` held on this very thread
    /// makes this wait for ever, as tokio's write lock does.
    pub(crate) fn exclusive<'g>(&self, slot: &'g mut Arc<T>) -> &'g mut T {
        if Arc::get_mut(slot).is_none() {
            // Nobody can clone `slot` meanwhile: we hold its lock. Each
            // `Ref` drop decrements the count (Release), then rings.
            // No spinning under loom: the model checks the parking path.
            let spin_iters = if cfg!(ring_loom) { 0 } else { 64 };
            self.released
                .wait_until(WaitStrategy::Park { spin_iters }, || {
                    (Arc::strong_count(slot) == 1).then_some(())
                });
        }
        // `get_mut`'s Acquire load pairs with the `Ref`s' Release
        // decrements: their reads happen before our writes.
        Arc::get_mut(slot).expect("the only strong reference: the lock is held")
    }

    pub(crate) fn receiver_count(&self) -> usize {
        // Relaxed: a count, not a handover (tokio's). `closed()` re-checks it
        // after the doorbell's full fence.
        self.ref_count_rx.load(Ordering::Relaxed)
    }

    /// `Some(result)` if `version` is out of date (and brings it up to
    /// date) or the channel is closed; `None` to wait.
    pub(crate) fn maybe_changed(&self, version: &mut Version) -> Option<Result<(), RecvError>> {
        let state = self.state.load();
        let new_version = state.version();
        if *version != new_version {
            *version = new_version;
            return Some(Ok(()));
        }
        if state.is_closed() {
            return Some(Err(RecvError(())));
        }
        None
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load();
        let slot = self.value.read();
        f.debug_struct("Shared")
            .field("value", &LikeTokiosLock(&**slot))
            .field("version", &state.version())
            .field("is_closed", &state.is_closed())
            .field("ref_count_rx", &self.receiver_count())
            .finish()
    }
}

/// Prints what tokio's `RwLock` adapter over std's prints (`RwLock(RwLock
/// { data: .., poisoned: false, .. })`), so handles' `Debug` output is
/// tokio's. The value is never poisoned: panics are caught before the
/// lock is released.
struct LikeTokiosLock<'a, T>(&'a T);

impl<T: fmt::Debug> fmt::Debug for LikeTokiosLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Std<'a, T>(&'a T);
        impl<T: fmt::Debug> fmt::Debug for Std<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("RwLock")
                    .field("data", self.0)
                    .field("poisoned", &false)
                    .finish_non_exhaustive()
            }
        }
        f.debug_tuple("RwLock").field(&Std(self.0)).finish()
    }
}
