//! The clock that stamps writes and reads for stall detection.
//!
//! A write and a read each read the clock once, so its cost is on the hot
//! path. On Linux it is `CLOCK_MONOTONIC_COARSE` (the kernel's last tick,
//! read from the vDSO without touching the TSC: a few ns, resolution one
//! tick, 1–10 ms), which is plenty for stalls measured in tens of
//! milliseconds or more. Elsewhere, and under Miri and loom, it is `Instant`.

use std::time::Duration;

/// Nanoseconds on a monotonic clock with an arbitrary origin.
#[cfg(all(target_os = "linux", not(miri), not(ring_loom)))]
pub(crate) fn now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` that outlives the call,
    // and CLOCK_MONOTONIC_COARSE exists on every Linux Rust supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    debug_assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC_COARSE) failed");
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Nanoseconds on a monotonic clock with an arbitrary origin.
#[cfg(not(all(target_os = "linux", not(miri), not(ring_loom))))]
pub(crate) fn now() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// `now - then`, or zero if the clock's reading went backwards.
pub(crate) fn since(now: u64, then: u64) -> Duration {
    Duration::from_nanos(now.saturating_sub(then))
}
