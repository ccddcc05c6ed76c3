//! Prefetch hints.
//!
//! A writer about to store into a slot can ask for the line in exclusive
//! state ahead of time (x86-64 `PREFETCHW`, aarch64 `PRFM PSTL1KEEP`), so
//! the store does not stall on a read-for-ownership. The hints never fault,
//! even on an invalid address, and change no architectural state. Elsewhere,
//! and under Miri and loom (which cannot run inline asm), they compile to
//! nothing.

/// Hints that `ptr`'s cache line will soon be written.
///
/// `PREFETCHW` executes as a no-op on x86-64 parts that predate it.
///
/// ```
/// let mut x = 0_u64;
/// ring_core::prefetch_write(&x);
/// x += 1;
/// assert_eq!(x, 1);
/// ```
#[inline(always)]
pub fn prefetch_write<T>(ptr: *const T) {
    #[cfg(all(target_arch = "x86_64", not(any(miri, ring_loom))))]
    // SAFETY: PREFETCHW is a hint: it cannot fault, reads no memory
    // architecturally, writes none, and leaves flags and stack untouched.
    unsafe {
        core::arch::asm!(
            "prefetchw [{p}]",
            p = in(reg) ptr,
            options(nostack, readonly, preserves_flags)
        );
    }
    #[cfg(all(target_arch = "aarch64", not(any(miri, ring_loom))))]
    // SAFETY: PRFM is a hint: it cannot fault and writes no memory, register
    // or flag.
    unsafe {
        core::arch::asm!(
            "prfm pstl1keep, [{p}]",
            p = in(reg) ptr,
            options(nostack, readonly, preserves_flags)
        );
    }
    #[cfg(any(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        miri,
        ring_loom
    ))]
    let _ = ptr;
}

/// Hints that `ptr`'s cache line will soon be read.
///
/// ```
/// let x = [1_u8; 64];
/// ring_core::prefetch_read(x.as_ptr());
/// assert_eq!(x[63], 1);
/// ```
#[inline(always)]
pub fn prefetch_read<T>(ptr: *const T) {
    #[cfg(all(target_arch = "x86_64", not(any(miri, ring_loom))))]
    // SAFETY: PREFETCHT0 is a hint: it cannot fault and changes no
    // architectural state.
    unsafe {
        core::arch::asm!(
            "prefetcht0 [{p}]",
            p = in(reg) ptr,
            options(nostack, readonly, preserves_flags)
        );
    }
    #[cfg(all(target_arch = "aarch64", not(any(miri, ring_loom))))]
    // SAFETY: PRFM is a hint: it cannot fault and changes no architectural
    // state.
    unsafe {
        core::arch::asm!(
            "prfm pldl1keep, [{p}]",
            p = in(reg) ptr,
            options(nostack, readonly, preserves_flags)
        );
    }
    #[cfg(any(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        miri,
        ring_loom
    ))]
    let _ = ptr;
}
