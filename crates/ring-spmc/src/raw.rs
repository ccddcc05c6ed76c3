//! The ring under the handles, for a second publisher type.
//!
//! ring-mpmc's `MpPublisher` writes the same ring as [`Publisher`] and hands
//! out this crate's [`Subscribable`], so the whole read side (subscribers,
//! groups, barriers, close, blocking and async waits) is this crate's, once.
//! Not a stable API: hidden from the docs, for seqcast's own crates.
//!
//! A publisher built on [`Ring`] must uphold what [`Publisher`] does:
//!
//! * slots are written with [`Slot::write`](ring_core::Slot::write)'s
//!   contract (one writer per slot at a time, increasing sequences), each
//!   sequence exactly once;
//! * the [cursor](Ring::cursor) only grows, with Release, and never past a
//!   sequence whose slot is unwritten;
//! * on a bounded ring, sequence `seq` is written only once
//!   `seq < floor + capacity - watermark` for a [floor](Ring::gate_floor)
//!   read after (with Acquire, through whatever chain) the last write, and
//!   a limit is reused for later writes only if its floor was
//!   [gated](GateFloor::gated);
//! * the doorbell is rung after each publish, and [`Ring::close`] is called
//!   once, when the last publisher is gone.
//!
//! ```
//! use ring_spmc::raw;
//!
//! let ring = raw::ring::<u64>(4, None).unwrap();
//! let subs = raw::subscribable(ring.clone());
//! let mut s = subs.subscribe();
//! // SAFETY: this thread is the ring's only writer; sequence 0 is new.
//! unsafe { ring.slots().get(0).write(0, 7) };
//! ring.cursor().store(1, std::sync::atomic::Ordering::Release);
//! ring.bell().ring();
//! assert_eq!(s.try_recv(), Ok(7));
//! ring.close();
//! assert!(s.is_closed());
//! ```
//!
//! [`Publisher`]: crate::Publisher

use ring_core::sync::Arc;

pub use crate::shared::{GateFloor, Shared as Ring};
use crate::{ChannelError, Subscribable};

/// A ring of exactly `capacity` slots: lossy with `watermark: None`,
/// bounded (gating subscribers) with `Some(watermark)`.
///
/// # Errors
///
/// As [`try_channel`](crate::try_channel) and
/// [`try_channel_bounded`](crate::try_channel_bounded).
///
/// ```
/// let ring = ring_spmc::raw::ring::<u8>(6, Some(1)).unwrap();
/// assert_eq!(ring.capacity().get(), 6);
/// assert_eq!(ring.watermark(), Some(1));
/// assert!(ring_spmc::raw::ring::<u8>(1, None).is_err());
/// ```
pub fn ring<T: Copy + Send>(
    capacity: usize,
    watermark: Option<usize>,
) -> Result<Arc<Ring<T>>, ChannelError> {
    Ok(Arc::new(Ring::new(capacity, watermark)?))
}

/// The [`Subscribable`] of `ring`: subscribers created through it read the
/// ring exactly as they read a [`channel`](fn@crate::channel)'s.
///
/// ```
/// let ring = ring_spmc::raw::ring::<u8>(4, None).unwrap();
/// let subs = ring_spmc::raw::subscribable(ring);
/// assert_eq!(subs.subscribe().cursor(), 0);
/// ```
pub fn subscribable<T: Copy + Send>(ring: Arc<Ring<T>>) -> Subscribable<T> {
    Subscribable { shared: ring }
}
