//! Many producers on one broadcast ring: every subscriber sees every value,
//! from any number of publishing threads. Lossy with exact lag counts, like
//! photon-ring's `channel_mpmc`, or lossless with backpressure, like
//! disruptor's multi-producer ring, but with lossy taps, close, and
//! blocking and async receives on top.
//!
//! ```
//! use ring_mpmc::channel_mpmc;
//!
//! let (publisher, subscribable) = channel_mpmc::<u64>(1024);
//! let mut sub = subscribable.subscribe();
//! let feeds: Vec<_> = (0..2)
//!     .map(|feed| {
//!         let p = publisher.clone(); // `Clone + Send + Sync`, publishes via `&self`
//!         std::thread::spawn(move || p.publish(feed))
//!     })
//!     .collect();
//! for f in feeds {
//!     f.join().unwrap();
//! }
//! let mut got = [sub.recv(), sub.recv()];
//! got.sort();
//! assert_eq!(got, [0, 1]);
//! ```
//!
//! Switching from photon-ring 3 is the `use` line:
//! `photon_ring::{channel_mpmc, MpPublisher, Subscribable, Subscriber,
//! TryRecvError, ..}` become `ring_mpmc::{..}` with the same names and
//! semantics. The read side *is* ring-spmc's ([`Subscribable`],
//! [`Subscriber`], [`SubscriberGroup`], [`DependencyBarrier`], [`Drain`],
//! `recv_blocking`, `recv_async`, `Stream`), re-exported here; pick
//! ring-spmc when a single thread publishes (it needs no claim and no
//! ordered commit, so it is cheaper) and this crate when several do.
//!
//! # Lossy, bounded, and lossy taps
//!
//! [`channel_mpmc`] is lossy: `publish` never waits for subscribers. A
//! subscriber that falls more than `capacity` values behind gets
//! [`TryRecvError::Lagged`] with the exact number lost and continues from
//! the oldest value still held, so `total_received() + total_lagged()`
//! equals what was published since it subscribed.
//!
//! [`channel_mpmc_bounded`] is lossless: no producer overwrites a value a
//! gating subscriber (from [`subscribe`](Subscribable::subscribe)) has not
//! read. [`MpPublisher::publish`] waits (spin briefly, then yield the
//! thread), [`MpPublisher::try_publish`] returns [`PublishError::Full`].
//! Taps from [`subscribe_lossy`](Subscribable::subscribe_lossy) never gate.
//!
//! ```
//! use ring_mpmc::{channel_mpmc_bounded, PublishError, TryRecvError};
//!
//! let (p, subs) = channel_mpmc_bounded::<u32>(4, 0);
//! let mut all = subs.subscribe(); // must see every value
//! let mut tap = subs.subscribe_lossy(); // must never stall the producers
//! let q = p.clone();
//! for i in 0..4 {
//!     if i % 2 == 0 { p.try_publish(i).unwrap() } else { q.try_publish(i).unwrap() }
//! }
//! assert_eq!(q.try_publish(4), Err(PublishError::Full(4)));
//! assert_eq!(all.try_recv(), Ok(0));
//! q.publish(4); // overwrites 0: the tap had not read it
//! assert_eq!(tap.try_recv(), Err(TryRecvError::Lagged { skipped: 1 }));
//! assert_eq!(all.drain().collect::<Vec<_>>(), [1, 2, 3, 4]);
//! ```
//!
//! # Capacity
//!
//! Any capacity ≥ 2, kept exactly (`channel_mpmc(6)` holds 6 values, and
//! lag counts are computed for 6): powers of two index with a mask, others
//! with a precomputed-reciprocal modulo (ring-core's `Capacity`).
//!
//! # Any `T: Copy`
//!
//! Payloads with padding, `bool`, enums and `Option` are fine (photon-ring
//! needs `Pod`); see ring-core's slot for how that is sound.
//!
//! ```
//! #[derive(Clone, Copy, Debug, PartialEq)]
//! enum Event { Fill { qty: u32, last: bool }, Cancel(Option<u16>) }
//!
//! let (p, subs) = ring_mpmc::channel_mpmc::<Event>(16);
//! let mut s = subs.subscribe();
//! p.publish(Event::Fill { qty: 3, last: true });
//! p.clone().publish(Event::Cancel(None));
//! assert_eq!(s.try_recv(), Ok(Event::Fill { qty: 3, last: true }));
//! assert_eq!(s.try_recv(), Ok(Event::Cancel(None)));
//! ```
//!
//! # Close
//!
//! The channel closes when the last [`MpPublisher`] clone is dropped.
//! Subscribers still read every value published before; then
//! [`Subscriber::is_closed`] is true and the blocking and async receives
//! return [`RecvError::Closed`].
//!
//! ```
//! use ring_mpmc::{channel_mpmc, RecvError};
//!
//! let (p, subs) = channel_mpmc::<u8>(8);
//! let mut s = subs.subscribe();
//! let q = p.clone();
//! p.publish(1);
//! drop(p);
//! assert!(!s.is_closed()); // `q` is still alive
//! q.publish(2);
//! drop(q);
//! assert_eq!(s.recv_blocking(), Ok(1));
//! assert_eq!(s.recv_blocking(), Ok(2));
//! assert_eq!(s.recv_blocking(), Err(RecvError::Closed));
//! ```
//!
//! # No producer can wedge the ring
//!
//! * [`publish_with`](MpPublisher::publish_with) builds the value before it
//!   claims a sequence: a panicking closure publishes nothing and leaves
//!   the ring as it was (photon-ring's claims first, and a panic stalls
//!   every later publisher for good).
//! * A producer preempted between its claim and its write stalls no other
//!   producer's `publish` (unless the ring wraps around to its slot, or,
//!   on a bounded ring, they run `capacity - watermark` values past it): the
//!   others write their slots and return, and the late producer publishes
//!   the cursor over all of them when it finishes. Subscribers, which read
//!   in order, wait for its value (parked, if they use a blocking receive).
//! * Two producers a whole lap apart never write the same slot at once:
//!   the later one waits for the earlier one's write.
//!
//! The protocol and the argument for it (orderings, what each pairs with,
//! why no value is torn, skipped or reordered) are in the repository's
//! `crates/ring-mpmc/src/commit.rs` (a private module, so not on this
//! page), and the repository's `crates/ring-mpmc/tests/loom_mpmc.rs`
//! checks them with loom.
//!
//! # Differences from photon-ring 3's `channel_mpmc`
//!
//! * [`MpPublisher::published`] counts values published and readable (every
//!   sequence below it is written), not sequences claimed; once every
//!   publish has returned, both are the same.
//! * Added: [`channel_mpmc_bounded`] and [`MpPublisher::try_publish`],
//!   close on the last drop, the fallible constructors [`try_channel_mpmc`]
//!   and [`try_channel_mpmc_bounded`], and everything ring-spmc adds on the
//!   read side.
//! * Producers that wait (for room or for a slot's previous lap) spin
//!   briefly and then yield the thread instead of spinning forever.
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod commit;
mod publisher;

pub use publisher::MpPublisher;
pub use ring_spmc::constructors::{channel, channel_bounded, try_channel, try_channel_bounded};
#[doc(no_inline)]
pub use ring_spmc::{
    ChannelError, DependencyBarrier, Drain, Lagged, Padded, Pod, PublishError, Publisher, Recv,
    RecvError, RecvTimeoutError, Subscribable, Subscriber, SubscriberGroup, TryRecvError,
    WaitStrategy, barrier, wait,
};

/// photon-ring's `channel` module path, with the multi-producer ring:
/// `ring_mpmc::channel::MpPublisher` and the rest name the same items as
/// the crate root (the single-producer ones are ring-spmc's).
///
/// ```
/// use ring_mpmc::channel::{channel_mpmc, MpPublisher};
///
/// let (p, subs): (MpPublisher<u32>, _) = channel_mpmc(4);
/// let mut s = subs.subscribe();
/// p.publish(7);
/// assert_eq!(s.try_recv(), Ok(7));
/// ```
pub mod channel {
    #[doc(no_inline)]
    pub use crate::{MpPublisher, channel_mpmc};
    #[doc(no_inline)]
    pub use ring_spmc::channel::*;
}

/// A lossy multi-producer ring of exactly `capacity` slots (any value ≥ 2):
/// producers never wait for subscribers; slow subscribers lag with exact
/// counts.
///
/// # Panics
///
/// At the caller's location if `capacity` is below 2 or above
/// `ring_core::Capacity::MAX`; see [`try_channel_mpmc`] for the error
/// instead.
///
/// ```
/// use ring_mpmc::{channel_mpmc, TryRecvError};
///
/// let (p, subs) = channel_mpmc::<u64>(6);
/// assert_eq!(p.capacity(), 6);
/// let mut s = subs.subscribe();
/// for i in 0..13 {
///     p.publish(i);
/// }
/// assert_eq!(s.try_recv(), Err(TryRecvError::Lagged { skipped: 7 }));
/// assert_eq!(s.try_recv(), Ok(7));
/// ```
#[track_caller]
pub fn channel_mpmc<T: Copy + Send>(capacity: usize) -> (MpPublisher<T>, Subscribable<T>) {
    // A `match`, so the panic carries the caller's location.
    match try_channel_mpmc(capacity) {
        Ok(pair) => pair,
        Err(e) => panic!("ring_mpmc::channel_mpmc: {e}"),
    }
}

/// [`channel_mpmc`], returning an error for a bad capacity.
///
/// # Errors
///
/// [`ChannelError::Capacity`] if `capacity` is below 2 or above
/// `ring_core::Capacity::MAX`; [`ChannelError::Alloc`] if the slots would
/// exceed `isize::MAX` bytes or the allocator refuses them.
///
/// ```
/// use ring_mpmc::{try_channel_mpmc, ChannelError};
///
/// assert!(matches!(try_channel_mpmc::<u8>(1), Err(ChannelError::Capacity(_))));
/// assert_eq!(try_channel_mpmc::<u8>(3).unwrap().0.capacity(), 3);
/// ```
pub fn try_channel_mpmc<T: Copy + Send>(
    capacity: usize,
) -> Result<(MpPublisher<T>, Subscribable<T>), ChannelError> {
    Ok(split(ring_spmc::raw::ring(capacity, None)?))
}

/// A lossless multi-producer ring: no producer overwrites a value a gating
/// subscriber has not read, and `watermark` slots stay free (a publish
/// waits, and `try_publish` refuses, once
/// `sequence - slowest >= capacity - watermark`).
///
/// # Panics
///
/// At the caller's location on a bad capacity (as [`channel_mpmc`]) or if
/// `watermark >= capacity`; see [`try_channel_mpmc_bounded`].
///
/// ```
/// let (p, subs) = ring_mpmc::channel_mpmc_bounded::<u64>(4, 2);
/// let _s = subs.subscribe();
/// assert!(p.try_publish(1).is_ok());
/// assert!(p.clone().try_publish(2).is_ok());
/// assert!(p.try_publish(3).is_err()); // 4 - 2 in flight
/// ```
#[track_caller]
pub fn channel_mpmc_bounded<T: Copy + Send>(
    capacity: usize,
    watermark: usize,
) -> (MpPublisher<T>, Subscribable<T>) {
    match try_channel_mpmc_bounded(capacity, watermark) {
        Ok(pair) => pair,
        Err(e) => panic!("ring_mpmc::channel_mpmc_bounded: {e}"),
    }
}

/// [`channel_mpmc_bounded`], returning an error for bad arguments.
///
/// # Errors
///
/// [`ChannelError::Capacity`] for a capacity out of range,
/// [`ChannelError::Watermark`] if `watermark >= capacity`,
/// [`ChannelError::Alloc`] as [`try_channel_mpmc`].
///
/// ```
/// use ring_mpmc::{try_channel_mpmc_bounded, ChannelError};
///
/// assert!(matches!(
///     try_channel_mpmc_bounded::<u8>(4, 4),
///     Err(ChannelError::Watermark { watermark: 4, capacity: 4 })
/// ));
/// assert!(try_channel_mpmc_bounded::<u8>(5, 4).is_ok());
/// ```
pub fn try_channel_mpmc_bounded<T: Copy + Send>(
    capacity: usize,
    watermark: usize,
) -> Result<(MpPublisher<T>, Subscribable<T>), ChannelError> {
    Ok(split(ring_spmc::raw::ring(capacity, Some(watermark))?))
}

fn split<T: Copy + Send>(
    ring: ring_core::sync::Arc<ring_spmc::raw::Ring<T>>,
) -> (MpPublisher<T>, Subscribable<T>) {
    let subscribable = ring_spmc::raw::subscribable(ring_core::sync::Arc::clone(&ring));
    (MpPublisher::new(ring), subscribable)
}

// The README's examples (the crates.io page) are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
