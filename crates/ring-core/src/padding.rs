//! Cache padding.
//!
//! [`CachePadded`] is crossbeam-utils' type, re-exported rather than copied:
//! it carries per-architecture line sizes that crossbeam keeps current
//! (128 bytes on x86-64 and aarch64, where the adjacent-line prefetcher or
//! big cores pull lines in pairs; 32–256 elsewhere; sources in its module
//! docs).

pub use crossbeam_utils::CachePadded;

/// The alignment [`CachePadded`] uses on this target: what a shared counter
/// written by one core must be aligned to so no other counter shares its
/// (pair of) cache line(s).
///
/// ```
/// use ring_core::{CACHE_LINE, CachePadded};
///
/// assert!(CACHE_LINE.is_power_of_two());
/// assert_eq!(core::mem::align_of::<CachePadded<u8>>(), CACHE_LINE);
/// ```
pub const CACHE_LINE: usize = core::mem::align_of::<CachePadded<u8>>();
