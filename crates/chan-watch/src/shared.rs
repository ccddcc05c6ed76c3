//! What every handle of one channel points to.

use core::fmt;

use ring_core::sync::RwLock;
use ring_core::sync::atomic::{AtomicUsize, Ordering};
use ring_core::{CachePadded, Doorbell};

use crate::error::RecvError;
use crate::state::{AtomicState, Version};

pub(crate) struct Shared<T> {
    /// The latest value. Senders replace or modify it under the write lock;
    /// `borrow` holds the read lock for as long as its `Ref` lives.
    /// Padded: every borrow writes the lock word, and would otherwise
    /// invalidate the line that waiting receivers poll the version from.
    pub(crate) value: CachePadded<RwLock<T>>,
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
}

impl<T> Shared<T> {
    pub(crate) fn new(init: T) -> Self {
        Shared {
            value: CachePadded::new(RwLock::new(init)),
            state: CachePadded::new(AtomicState::new()),
            ref_count_rx: AtomicUsize::new(1),
            ref_count_tx: AtomicUsize::new(1),
            ref_count_weak: AtomicUsize::new(0),
            notify_rx: Doorbell::symmetric(),
            notify_tx: Doorbell::symmetric(),
        }
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
        f.debug_struct("Shared")
            .field("value", &*self.value)
            .field("version", &state.version())
            .field("is_closed", &state.is_closed())
            .field("ref_count_rx", &self.receiver_count())
            .finish()
    }
}
