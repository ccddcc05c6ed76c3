//! A ring slot: `{pos, rem, val}` behind a one-word lock.
//!
//! The lock is test-and-test-and-set: acquire is one compare-and-swap,
//! release one plain store (std's `Mutex` releases with an atomic swap, so
//! it costs every receive a second read-modify-write; measured in
//! `benches/broadcast.rs`, `try_recv`). A holder runs a few loads and
//! stores, or one `T::clone`, and never waits on anything, so a contender
//! spins briefly, then yields its thread. The lock also makes clones of one
//! value run one at a time, which keeps `T: Send` (without `Sync`) sound:
//! tokio's RUSTSEC-2025-0023 was two receivers cloning one value at once
//! under a shared read lock.

use ring_core::sync::UnsafeCell;
use ring_core::sync::atomic::{AtomicBool, Ordering};

use crate::shared::backoff;

/// What a slot holds.
#[derive(Debug)]
pub(crate) struct SlotState<T> {
    /// The position last written here. Starts at `index - capacity`
    /// (wrapping), the "previous lap" of the first position that lands here.
    pub(crate) pos: u64,
    /// Receivers that will still read `pos`. The value is taken out when it
    /// reaches zero, so `rem > 0` exactly when `val` is `Some`.
    pub(crate) rem: usize,
    pub(crate) val: Option<T>,
}

/// One ring slot. Not padded to a cache line: padding made `try_recv`
/// with 4 and 16 receivers 1.4–1.8× slower against tokio in the same run
/// (more lines per lap) and gained nothing measurable on the lossless
/// rows.
pub(crate) struct Slot<T> {
    /// Held while `state` is accessed.
    locked: AtomicBool,
    state: UnsafeCell<SlotState<T>>,
}

// SAFETY: `state` is only reached through `with`, under `locked`, so one
// thread at a time touches it: moving `T` values in and out across threads
// needs `T: Send`, and no `&T` is ever used by two threads at once (clones
// are serialised too), so `T: Sync` is not needed.
unsafe impl<T: Send> Sync for Slot<T> {}

/// Releases the lock when dropped, also when `T::clone` unwinds.
struct Unlock<'a>(&'a AtomicBool);

impl Drop for Unlock<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: pairs with the Acquire of the next `lock`, handing over
        // every write made to the state under this hold.
        self.0.store(false, Ordering::Release);
    }
}

impl<T> Slot<T> {
    pub(crate) fn new(pos: u64) -> Self {
        Slot {
            locked: AtomicBool::new(false),
            state: UnsafeCell::new(SlotState {
                pos,
                rem: 0,
                val: None,
            }),
        }
    }

    /// Runs `f` on the state with the lock held.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut SlotState<T>) -> R) -> R {
        self.lock();
        let _unlock = Unlock(&self.locked);
        // SAFETY: `locked` is held from `lock` above until `_unlock` drops
        // after `f` returns or unwinds: this is the only access to `state`.
        self.state.with_mut(|p| f(unsafe { &mut *p }))
    }

    #[inline(always)]
    fn lock(&self) {
        // Acquire: pairs with `Unlock`'s Release; Relaxed on failure, the
        // slow path retries.
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    /// Waits for the lock with the crate's short wait (`shared::backoff`:
    /// PAUSE bursts, a few yields, then short sleeps; out of line itself).
    /// Not `inline(never)`: that made `try_recv/16` about 1.4× slower in
    /// `benches/broadcast.rs` (single-threaded, so this is never called
    /// there; the cost was the call's effect on the caller's code).
    #[cold]
    fn lock_contended(&self) {
        let mut iter = 0;
        loop {
            // Relaxed: only a hint before the CAS, which decides.
            if !self.locked.load(Ordering::Relaxed)
                && self
                    .locked
                    .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            backoff(&mut iter);
        }
    }
}
