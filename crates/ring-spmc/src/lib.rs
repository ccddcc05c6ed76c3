//! A single-producer broadcast ring with photon-ring's API: every
//! subscriber sees every value, lossy (the publisher never waits; a slow
//! subscriber learns exactly how many values it lost) or bounded (the
//! publisher waits for its slowest gating subscriber). Sound for every
//! `T: Copy + Send`, with close, blocking and async waits on top.
//!
//! Switching from photon-ring 3 is the `use` line: `photon_ring::{channel,
//! channel_bounded, Publisher, Subscribable, Subscriber, TryRecvError,
//! PublishError, DependencyBarrier, Padded, WaitStrategy, Drain}` become
//! `ring_spmc::{..}` with the same names, signatures and semantics, except
//! where this crate says otherwise below.
//!
//! ```
//! use ring_spmc::{channel, TryRecvError};
//!
//! let (mut publisher, subscribable) = channel::<u64>(1024);
//! let mut a = subscribable.subscribe();
//! let mut b = subscribable.subscribe();
//! publisher.publish(7);
//! assert_eq!(a.try_recv(), Ok(7));
//! assert_eq!(b.try_recv(), Ok(7));
//! assert_eq!(a.try_recv(), Err(TryRecvError::Empty));
//! ```
//!
//! # Lossy, bounded, and lossy taps
//!
//! [`channel`] is lossy: `publish` never waits. A subscriber that falls more
//! than `capacity` values behind gets [`TryRecvError::Lagged`] with the
//! exact number lost, and continues from the oldest value still held, so
//! `total_received() + total_lagged()` always equals what was published
//! since it subscribed.
//!
//! [`channel_bounded`] adds backpressure: a subscriber from
//! [`subscribe`](Subscribable::subscribe) *gates* the publisher, which never
//! overwrites a value it has not read (`publish` waits, `try_publish`
//! returns [`PublishError::Full`]), keeping `watermark` slots of headroom.
//! Dropping a gating subscriber releases the publisher. A subscriber from
//! [`subscribe_lossy`](Subscribable::subscribe_lossy) is a *tap*: it never
//! gates, and lags like a lossy subscriber.
//!
//! ```
//! use ring_spmc::{channel_bounded, PublishError};
//!
//! let (mut p, subs) = channel_bounded::<u32>(4, 0);
//! let mut risk = subs.subscribe(); // must see everything
//! let _tap = subs.subscribe_lossy(); // must never stall the feed
//! for i in 0..4 {
//!     p.try_publish(i).unwrap();
//! }
//! assert_eq!(p.try_publish(4), Err(PublishError::Full(4)));
//! assert_eq!(p.fill_level(), 4);
//! assert_eq!(risk.try_recv(), Ok(0));
//! assert_eq!(p.try_publish(4), Ok(()));
//! drop(risk); // a dead consumer never wedges the ring
//! for i in 5..100 {
//!     p.try_publish(i).unwrap();
//! }
//! ```
//!
//! # Any `T: Copy`
//!
//! photon-ring requires `T: Pod` (no padding, every bit pattern valid),
//! because its seqlock copies through integer atomics. ring-core's slot
//! copies `MaybeUninit` words instead, so `bool`, enums, `Option` and
//! structs with padding are fine:
//!
//! ```
//! #[derive(Clone, Copy, Debug, PartialEq)]
//! enum Side { Bid, Ask }
//!
//! #[derive(Clone, Copy, Debug, PartialEq)]
//! struct Order { px: f64, qty: u32, side: Side, ioc: bool, tag: Option<u16> }
//!
//! let (mut p, subs) = ring_spmc::channel::<Order>(64);
//! let mut s = subs.subscribe();
//! let o = Order { px: 101.5, qty: 3, side: Side::Ask, ioc: true, tag: None };
//! p.publish(o);
//! assert_eq!(s.try_recv(), Ok(o));
//! assert_ne!(Side::Bid, o.side);
//! ```
//!
//! # Close
//!
//! Dropping the [`Publisher`] closes the channel. Subscribers still read
//! every value it published; then [`Subscriber::is_closed`] is true and the
//! blocking and async receives return [`RecvError::Closed`].
//! `TryRecvError` and `PublishError` keep photon-ring's variants exactly (so
//! exhaustive matches still compile); `try_recv` keeps reporting `Empty`.
//! The spinning `recv`/`recv_with`/`recv_gated` panic on a closed, drained
//! channel instead of spinning forever as photon-ring's do.
//!
//! ```
//! use ring_spmc::{channel, RecvError};
//!
//! let (mut p, subs) = channel::<u8>(8);
//! let mut s = subs.subscribe();
//! p.publish(1);
//! drop(p);
//! assert!(s.is_closed());
//! assert_eq!(s.recv_blocking(), Ok(1));
//! assert_eq!(s.recv_blocking(), Err(RecvError::Closed));
//! ```
//!
//! # Waiting without burning a core
//!
//! [`Subscriber::recv`] spins (photon-ring's lowest-latency wait).
//! [`recv_blocking`](Subscriber::recv_blocking) and
//! [`recv_timeout`](Subscriber::recv_timeout) spin briefly, then park the
//! thread; [`recv_async`](Subscriber::recv_async) and the
//! [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) impl register the task's waker. The
//! publisher wakes them; when nobody waits, that costs it one load per
//! publish on Linux (a sleeping thread pays a `membarrier` instead), plus
//! a full fence elsewhere (`cargo bench --bench slot`, `doorbell_idle`).
//! Async receivers register on every empty poll, so the first one switches
//! the ring's doorbell to a full fence on both sides for good: one syscall
//! then, none per registration (ring-core's `Doorbell::new`).
//!
//! ```
//! use ring_spmc::channel;
//! use std::time::Duration;
//!
//! let (mut p, subs) = channel::<u64>(64);
//! let mut s = subs.subscribe();
//! let consumer = std::thread::spawn(move || {
//!     let mut sum = 0;
//!     while let Ok(v) = s.recv_blocking() {
//!         sum += v; // parked between values, not spinning
//!     }
//!     sum
//! });
//! for i in 1..=10 {
//!     p.publish(i);
//!     std::thread::sleep(Duration::from_millis(1));
//! }
//! drop(p);
//! assert_eq!(consumer.join().unwrap(), 55);
//! ```
//!
//! # Differences from photon-ring 3
//!
//! * `WaitStrategy` has photon's five variants plus `ThreadYield` and `Park`;
//!   `Adaptive` yields then parks instead of PAUSE-spinning forever.
//! * Gating trackers are stored with Release and scanned with Acquire
//!   (photon-ring uses Relaxed, which on weakly ordered CPUs lets a
//!   publisher overwrite a slot a subscriber is still copying, turning a
//!   bounded ring's no-loss promise into a `Lagged`).
//! * [`Subscriber::latest`] counts the values it skips as lag (photon's
//!   drops them uncounted), and a re-read of the newest value (when nothing
//!   new was published) counts as nothing (photon's counts it as received
//!   again), so `total_received() + total_lagged()` always equals what was
//!   published since the subscriber joined. The values it returns are
//!   photon's.
//! * A dropped upstream releases its [`DependencyBarrier`] dependants (its
//!   tracker reads `u64::MAX`); photon's barrier waits for it forever.
//! * Capacities are the same (any value ≥ 2, kept exactly), and so are lag
//!   counts and `try_publish`'s `Full`; a gating subscriber frees one
//!   publish per value it reads, as photon's.
//! * Added: close, `recv_blocking`, `recv_timeout`, `recv_async`, `Stream`,
//!   `is_closed`, `fill_level`, `fill_ratio`, `sequence`,
//!   `subscribe_group`/[`SubscriberGroup`], [`try_channel`],
//!   [`try_channel_bounded`].
#![doc(test(attr(deny(warnings))))]

mod barrier;
mod error;
mod group;
mod publisher;
#[doc(hidden)]
pub mod raw;
mod shared;
mod subscribable;
mod subscriber;

pub use barrier::{DependencyBarrier, Padded};
pub use error::{ChannelError, Lagged, PublishError, RecvError, RecvTimeoutError, TryRecvError};
pub use group::SubscriberGroup;
pub use publisher::Publisher;
#[doc(no_inline)]
pub use ring_core::WaitStrategy;
pub use subscribable::Subscribable;
pub use subscriber::{Drain, Recv, Subscriber};

use ring_core::sync::Arc;
use shared::Shared;

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

// The README's examples (the crates.io page) are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
