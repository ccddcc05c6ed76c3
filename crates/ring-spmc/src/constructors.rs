//! The constructors, in a module of their own so that ring-mpmc can
//! re-export the functions without the crate root's `channel` module of
//! the same name (a `use` takes every namespace of a name).

use ring_core::sync::Arc;

use crate::shared::Shared;
use crate::{ChannelError, Publisher, Subscribable};

/// A lossy ring of exactly `capacity` slots (any value ≥ 2): the
/// publisher never waits; slow subscribers lag with exact counts.
///
/// # Panics
///
/// At the caller's location if `capacity` is below 2 or above
/// `ring_core::Capacity::MAX`; see [`try_channel`] for the error instead.
///
/// ```
/// let (mut p, subs) = ring_spmc::channel::<u64>(4);
/// let mut s = subs.subscribe();
/// p.publish(1);
/// assert_eq!(s.try_recv(), Ok(1));
/// ```
#[track_caller]
pub fn channel<T: Copy + Send>(capacity: usize) -> (Publisher<T>, Subscribable<T>) {
    // A `match`, not `unwrap_or_else`: a closure would not carry
    // `#[track_caller]`, and the panic would point here.
    match try_channel(capacity) {
        Ok(pair) => pair,
        Err(e) => panic!("ring_spmc::channel: {e}"),
    }
}

/// [`channel`], returning an error for a bad capacity.
///
/// # Errors
///
/// [`ChannelError::Capacity`] if `capacity` is below 2 or above
/// `ring_core::Capacity::MAX`; [`ChannelError::Alloc`] if the slots would
/// exceed `isize::MAX` bytes or the allocator refuses them (never a panic
/// or an abort).
///
/// ```
/// assert!(ring_spmc::try_channel::<u8>(1).is_err());
/// assert_eq!(ring_spmc::try_channel::<u8>(3).unwrap().0.capacity(), 3);
/// ```
pub fn try_channel<T: Copy + Send>(
    capacity: usize,
) -> Result<(Publisher<T>, Subscribable<T>), ChannelError> {
    Ok(split(Shared::new(capacity, None)?))
}

/// A bounded ring: the publisher never overwrites a value a gating
/// subscriber has not read, and keeps `watermark` slots free (it refuses
/// when `published - slowest >= capacity - watermark`).
///
/// # Panics
///
/// At the caller's location on a bad capacity (as [`channel`]) or if
/// `watermark >= capacity`; see [`try_channel_bounded`].
///
/// ```
/// let (mut p, subs) = ring_spmc::channel_bounded::<u64>(4, 2);
/// let _s = subs.subscribe();
/// assert!(p.try_publish(1).is_ok());
/// assert!(p.try_publish(2).is_ok());
/// assert!(p.try_publish(3).is_err()); // 4 - 2 in flight
/// ```
#[track_caller]
pub fn channel_bounded<T: Copy + Send>(
    capacity: usize,
    watermark: usize,
) -> (Publisher<T>, Subscribable<T>) {
    match try_channel_bounded(capacity, watermark) {
        Ok(pair) => pair,
        Err(e) => panic!("ring_spmc::channel_bounded: {e}"),
    }
}

/// [`channel_bounded`], returning an error for bad arguments.
///
/// # Errors
///
/// [`ChannelError::Capacity`] for a capacity out of range,
/// [`ChannelError::Watermark`] if `watermark >= capacity`,
/// [`ChannelError::Alloc`] as [`try_channel`].
///
/// ```
/// use ring_spmc::{try_channel_bounded, ChannelError};
///
/// assert!(matches!(try_channel_bounded::<u8>(0, 0), Err(ChannelError::Capacity(_))));
/// assert!(matches!(try_channel_bounded::<u8>(4, 4), Err(ChannelError::Watermark { .. })));
/// assert!(try_channel_bounded::<u8>(4, 3).is_ok());
/// ```
pub fn try_channel_bounded<T: Copy + Send>(
    capacity: usize,
    watermark: usize,
) -> Result<(Publisher<T>, Subscribable<T>), ChannelError> {
    Ok(split(Shared::new(capacity, Some(watermark))?))
}

fn split<T: Copy + Send>(shared: Shared<T>) -> (Publisher<T>, Subscribable<T>) {
    let shared = Arc::new(shared);
    (Publisher::new(Arc::clone(&shared)), Subscribable { shared })
}
