//! Asymmetric fences: a free fence for the hot side and an expensive one
//! for the cold side, that together order like two full fences; and the
//! one-way switch to full fences on both sides for doorbells whose waiters
//! register often.
//!
//! The doorbell is Dekker's pattern: the writer stores its value then loads
//! the waiter count; a waiter stores (increments) the count then loads the
//! value. Each side needs a store→load barrier, and on x86-64 a full fence
//! costs the writer its store buffer drain on every publish: measured at
//! 10.3 ns instead of 7.2 ns per value in `benches/spmc.rs`
//! (`throughput_1to1`), because the drain waits for the cache lines the
//! reader keeps pulling away.
//!
//! Linux's `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` (4.14+) makes every
//! running thread of the process pass a full memory barrier before it
//! returns. With it, the writer needs only a compiler fence (`light`), and a
//! waiter about to sleep calls `heavy`: either the writer's barrier point
//! falls after its value store (so the waiter's re-check sees the value), or
//! before its count load (so the writer sees the waiter). This is the
//! asymmetric Dekker of Linux RCU and folly's `asymmetricHeavyBarrier`.
//!
//! The syscall interrupts every core running the process (a pinned
//! publisher included), so it only pays where waiters are rare: parked
//! threads. An async receiver registers on every empty poll, and there a
//! syscall per registration costs far more than the writer's fence saves
//! (measured ~6× in `benches/broadcast.rs`, `contention`). So a doorbell
//! has a [`Mode`] that moves one way, `Asymmetric` → `Switching` →
//! `Symmetric`, on its first task registration ([`Mode::to_symmetric`]):
//!
//! * The writer loads the mode (Relaxed, on the line it loads the waiter
//!   count from anyway) and issues a full fence unless it reads
//!   `Asymmetric`.
//! * The switching waiter stores `Switching`, then calls membarrier once,
//!   then stores `Symmetric` (Release). A writer that still read
//!   `Asymmetric` did so before its barrier point, so its value store (which
//!   precedes that load in program order) is visible to everything the
//!   switcher does after the syscall returns; and a waiter that reads
//!   `Symmetric` (Acquire) comes after that return. Every later writer load
//!   sees at least `Switching` (the syscall is a full barrier on the caller
//!   too) and fences. From then on both sides use `fence(SeqCst)`.
//!
//! Where membarrier is missing (other OSes, old kernels, seccomp, gVisor),
//! and under Miri and loom (which cannot run the syscall; the loom models
//! check the symmetric protocol), a doorbell starts `Symmetric`. If a
//! registered membarrier ever fails later (a seccomp filter installed after
//! the probe), nothing panics: the process stops using it, the doorbell
//! goes `Symmetric`, and the waiter that hit the failure re-checks once more
//! after a bounded delay, which covers a publish that was in flight during
//! the switch (see `Doorbell::park` and `Doorbell::poll_wait`).

use crate::sync::atomic::{AtomicU8, Ordering, fence};

/// A doorbell's fence protocol; see the module docs. Lives on the cache
/// line of the waiter count, which the writer loads on every ring anyway.
#[derive(Debug)]
pub(crate) struct Mode(AtomicU8);

const ASYMMETRIC: u8 = 0;
const SWITCHING: u8 = 1;
const SYMMETRIC: u8 = 2;

impl Mode {
    /// The best protocol this process supports.
    pub(crate) fn detect() -> Mode {
        Mode(AtomicU8::new(if imp::supported() {
            ASYMMETRIC
        } else {
            SYMMETRIC
        }))
    }

    /// Full fences on both sides from the start.
    pub(crate) fn symmetric() -> Mode {
        Mode(AtomicU8::new(SYMMETRIC))
    }

    /// Whether the writer still gets away with a compiler fence.
    #[cfg(test)]
    pub(crate) fn is_asymmetric(&self) -> bool {
        self.0.load(Ordering::Relaxed) == ASYMMETRIC
    }

    /// The writer's side: between its value store and its count load.
    #[inline(always)]
    pub(crate) fn light(&self) {
        // Relaxed: a load that reads ASYMMETRIC happened before the barrier
        // point of any switcher's membarrier (module docs); one that reads
        // a later mode is followed by the full fence, which pairs with the
        // waiter's.
        if self.0.load(Ordering::Relaxed) == ASYMMETRIC {
            imp::compiler_fence();
        } else {
            fence(Ordering::SeqCst);
        }
    }

    /// A parking thread's side: between its count increment and its
    /// re-check. Called without the doorbell's lock. Returns `false` if the
    /// ordering is not proven (a membarrier failed): the caller must bound
    /// its sleep and re-check.
    #[inline]
    pub(crate) fn heavy(&self) -> bool {
        // Acquire: pairs with the Release store of SYMMETRIC in
        // `to_symmetric`, after the switcher's membarrier returned.
        if self.0.load(Ordering::Acquire) == SYMMETRIC {
            fence(Ordering::SeqCst);
            return true;
        }
        if imp::membarrier() {
            return true;
        }
        self.failed();
        false
    }

    /// Switches to full fences on both sides (once per doorbell; a no-op
    /// afterwards), for a task about to register. Called without the lock.
    /// Returns `false` if membarrier failed: as [`heavy`](Mode::heavy).
    #[inline]
    pub(crate) fn to_symmetric(&self) -> bool {
        // Acquire: as in `heavy`.
        if self.0.load(Ordering::Acquire) == SYMMETRIC {
            return true;
        }
        // Relaxed: the membarrier below is a full barrier on this thread
        // too, which orders this store before every writer's barrier point
        // (module docs). A failed exchange means another waiter is switching
        // or has switched: this waiter still makes its own membarrier, as it
        // cannot know the other's has returned.
        let _ =
            self.0
                .compare_exchange(ASYMMETRIC, SWITCHING, Ordering::Relaxed, Ordering::Relaxed);
        if imp::membarrier() {
            // Release: pairs with the Acquire loads in `heavy` and above: a
            // waiter that reads SYMMETRIC comes after this membarrier.
            self.0.store(SYMMETRIC, Ordering::Release);
            true
        } else {
            self.failed();
            false
        }
    }

    /// A membarrier failed after registration: full fences from now on.
    #[cold]
    fn failed(&self) {
        // Release: as in `to_symmetric`; the caller covers the in-flight
        // publishes with a bounded re-check.
        self.0.store(SYMMETRIC, Ordering::Release);
    }
}

#[cfg(all(target_os = "linux", feature = "std", not(any(miri, ring_loom))))]
mod imp {
    use crate::sync::atomic::{AtomicU8, Ordering};

    const MEMBARRIER_CMD_QUERY: libc::c_long = 0;
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    const UNKNOWN: u8 = 0;
    const REGISTERED: u8 = 1;
    const UNAVAILABLE: u8 = 2;

    /// Whether this process may use membarrier. A process-wide fact, so a
    /// `static` (this module is never built under loom).
    static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

    fn membarrier_call(cmd: libc::c_long) -> libc::c_long {
        #[cfg(test)]
        if test_hooks::failing() {
            return -1;
        }
        #[cfg(test)]
        test_hooks::count();
        // SAFETY: membarrier takes two integer arguments and touches no
        // memory of ours; an unsupported command returns -1 (EINVAL/ENOSYS).
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    pub(super) fn supported() -> bool {
        // Acquire/Release: the probe's result is all that is published; a
        // race only repeats the (idempotent) probe.
        match STATE.load(Ordering::Acquire) {
            REGISTERED => return true,
            UNAVAILABLE => return false,
            _ => {}
        }
        let query = membarrier_call(MEMBARRIER_CMD_QUERY);
        let ok = query >= 0
            && query & MEMBARRIER_CMD_PRIVATE_EXPEDITED != 0
            && membarrier_call(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
        STATE.store(if ok { REGISTERED } else { UNAVAILABLE }, Ordering::Release);
        ok
    }

    #[inline(always)]
    pub(super) fn compiler_fence() {
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
    }

    /// The heavy barrier; `false` if the kernel refused it (then this
    /// process stops using it: later doorbells start symmetric).
    pub(super) fn membarrier() -> bool {
        // Relaxed: a hint that skips a syscall known to fail.
        if STATE.load(Ordering::Relaxed) == UNAVAILABLE {
            return false;
        }
        if membarrier_call(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0 {
            return true;
        }
        // Relaxed: as above.
        STATE.store(UNAVAILABLE, Ordering::Relaxed);
        false
    }

    /// Unit-test hooks: count this thread's membarrier calls, and make them
    /// fail as a seccomp filter would.
    #[cfg(test)]
    pub(crate) mod test_hooks {
        use core::cell::Cell;
        use std::sync::atomic::{AtomicBool, Ordering};

        std::thread_local!(static CALLS: Cell<usize> = const { Cell::new(0) });
        static FAIL: AtomicBool = AtomicBool::new(false);

        pub(crate) fn count() {
            CALLS.with(|c| c.set(c.get() + 1));
        }

        /// This thread's membarrier syscalls so far.
        pub(crate) fn calls() -> usize {
            CALLS.with(Cell::get)
        }

        pub(crate) fn failing() -> bool {
            // Relaxed: a test switch, set before the calls it affects.
            FAIL.load(Ordering::Relaxed)
        }

        /// Makes every later membarrier fail, for this whole process.
        pub(crate) fn fail_from_now_on() {
            // Relaxed: as above.
            FAIL.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(not(all(target_os = "linux", feature = "std", not(any(miri, ring_loom)))))]
mod imp {
    pub(super) fn supported() -> bool {
        false
    }

    pub(super) fn compiler_fence() {
        unreachable!("asymmetric fences are never selected on this build")
    }

    pub(super) fn membarrier() -> bool {
        unreachable!("asymmetric fences are never selected on this build")
    }
}

#[cfg(all(test, target_os = "linux", feature = "std", not(any(miri, ring_loom))))]
pub(crate) use imp::test_hooks;

#[cfg(test)]
mod tests {
    use super::Mode;

    /// Whatever the machine offers (membarrier or not), both sides run and
    /// a switch ends symmetric. Nothing here assumes the syscall exists.
    #[test]
    fn every_mode_runs_both_sides() {
        for mode in [Mode::detect(), Mode::symmetric()] {
            mode.light();
            let _ = mode.heavy();
            let _ = mode.to_symmetric();
            assert!(!mode.is_asymmetric());
            mode.light();
            assert!(mode.heavy(), "symmetric fences never fail");
        }
    }
}
