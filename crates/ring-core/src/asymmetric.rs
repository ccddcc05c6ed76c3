//! Asymmetric fences: a free fence for the hot side and an expensive one
//! for the cold side, that together order like two full fences.
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
//! Where membarrier is missing (other OSes, old kernels, seccomp), and under
//! Miri and loom (which cannot run the syscall; the loom models check the
//! symmetric protocol), both sides use `fence(SeqCst)`.

/// Which protocol a doorbell uses, decided once at its construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fences {
    /// `fence(SeqCst)` on both sides.
    Symmetric,
    /// Compiler fence on the writer, `membarrier` on the waiter.
    Asymmetric,
}

impl Fences {
    /// The best protocol this process supports.
    pub(crate) fn detect() -> Fences {
        if imp::supported() {
            Fences::Asymmetric
        } else {
            Fences::Symmetric
        }
    }

    /// The writer's side: between its value store and its count load.
    #[inline(always)]
    pub(crate) fn light(self) {
        match self {
            Fences::Symmetric => crate::sync::atomic::fence(crate::sync::atomic::Ordering::SeqCst),
            Fences::Asymmetric => imp::compiler_fence(),
        }
    }

    /// The waiter's side: between its count increment and its re-check.
    #[inline]
    pub(crate) fn heavy(self) {
        match self {
            Fences::Symmetric => crate::sync::atomic::fence(crate::sync::atomic::Ordering::SeqCst),
            Fences::Asymmetric => imp::membarrier(),
        }
    }
}

#[cfg(all(target_os = "linux", feature = "std", not(any(miri, ring_loom))))]
mod imp {
    use crate::sync::atomic::{AtomicU8, Ordering};

    const MEMBARRIER_CMD_QUERY: libc::c_long = 0;
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    /// 0: not probed yet; 1: registered; 2: unavailable. A process-wide
    /// fact, so a `static` (this module is never built under loom).
    static STATE: AtomicU8 = AtomicU8::new(0);

    fn membarrier_call(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integer arguments and touches no
        // memory of ours; an unsupported command returns -1 (EINVAL/ENOSYS).
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    pub(super) fn supported() -> bool {
        // Acquire/Release: the probe's result is all that is published; a
        // race only repeats the (idempotent) probe.
        match STATE.load(Ordering::Acquire) {
            1 => return true,
            2 => return false,
            _ => {}
        }
        let query = membarrier_call(MEMBARRIER_CMD_QUERY);
        let ok = query >= 0
            && query & MEMBARRIER_CMD_PRIVATE_EXPEDITED != 0
            && membarrier_call(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
        STATE.store(if ok { 1 } else { 2 }, Ordering::Release);
        ok
    }

    #[inline(always)]
    pub(super) fn compiler_fence() {
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
    }

    pub(super) fn membarrier() {
        let r = membarrier_call(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
        // Registered in `supported`, so this cannot fail; if a kernel ever
        // refused, continuing would risk a lost wake-up.
        assert!(
            r == 0,
            "membarrier(PRIVATE_EXPEDITED) failed after registration"
        );
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

    pub(super) fn membarrier() {
        unreachable!("asymmetric fences are never selected on this build")
    }
}

#[cfg(test)]
mod tests {
    use super::Fences;

    #[test]
    fn detection_is_stable_and_both_sides_run() {
        let f = Fences::detect();
        assert_eq!(Fences::detect(), f);
        f.light();
        f.heavy();
        if cfg!(all(target_os = "linux", not(miri))) {
            // Every kernel this project runs on (4.14+) has it; if this
            // fails, the doorbell silently falls back to full fences.
            assert_eq!(f, Fences::Asymmetric, "membarrier unavailable");
        }
    }
}
