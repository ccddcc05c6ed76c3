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
//! [`channel`](fn@channel) is lossy: `publish` never waits. A subscriber that falls more
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
//! photon-ring's paths work: [`Pod`] (same supertraits and impls, though
//! the rings here accept any `T: Copy + Send`), the modules
//! [`channel`](mod@channel), [`barrier`] and [`wait`], and its panic
//! texts appear verbatim inside ours (the differential test
//! `ring_dropin` checks both against photon-ring). The multi-producer
//! ring is ring-mpmc's, which re-exports all of this crate's names.
//!
//! * Names photon-ring does not have (`RecvError`, `RecvTimeoutError`,
//!   `Lagged`, `Recv`, `ChannelError`, `SubscriberGroup`, `try_channel`,
//!   ...) can make a glob import ambiguous: `use ring_spmc::*;` beside
//!   `use std::sync::mpsc::*;` and a use of `RecvError` is the
//!   `ambiguous_glob_imports` lint, an error under `deny(warnings)`. Import
//!   such names by path.
//! * Inherent methods photon-ring's handles do not have (`recv_blocking`,
//!   `recv_timeout`, `recv_async`, `recv_each`, `is_closed`, `sequence`,
//!   `fill_level`, `fill_ratio`, `subscribe_group`, ...) take precedence
//!   over a user's extension-trait methods of the same names: with another
//!   signature the call no longer compiles, with the same one it calls
//!   ours. Call the trait's method by path (`MyExt::is_closed(&s)`).
//! * photon-ring's `Publisher::mlock` and `Publisher::prefault` (only with
//!   its `hugepages` feature, Linux) are not here.
//! * `WaitStrategy` has photon's five variants plus `ThreadYield` and `Park`:
//!   a `match` over photon's five without a wildcard arm does not compile
//!   here. `Adaptive` yields then parks instead of PAUSE-spinning forever.
//! * [`Padded`] is aligned to 128 bytes (photon's: 64), so two of them
//!   never share the pair of lines x86-64's adjacent-line prefetcher
//!   fetches together.
//! * `publish_batch` makes its values visible with one head store at the
//!   end (plus one each time a bounded ring makes it wait for room), where
//!   photon's advances per value: a subscriber that joins while a batch is
//!   written starts at the batch's first value (or the last such store),
//!   where photon's may start at any value inside it. Either receives
//!   every value from its start on (loom: `subscribe_racing_publish_batch…`).
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

pub mod barrier;
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
pub use ring_core::Pod;
#[doc(no_inline)]
pub use ring_core::WaitStrategy;
pub use subscribable::Subscribable;
pub use subscriber::{Drain, Recv, Subscriber};

#[doc(hidden)]
pub mod constructors;
pub use constructors::{channel, channel_bounded, try_channel, try_channel_bounded};

/// photon-ring's `channel` module path: `ring_spmc::channel::Publisher`
/// and the rest name the same items as the crate root (the multi-producer
/// ring is ring-mpmc's, whose `channel` module adds it).
///
/// ```
/// use ring_spmc::channel::{channel, Subscribable, Publisher};
///
/// let (mut p, subs): (Publisher<u32>, Subscribable<u32>) = channel(4);
/// let mut s = subs.subscribe();
/// p.publish(7);
/// assert_eq!(s.try_recv(), Ok(7));
/// ```
pub mod channel {
    #[doc(no_inline)]
    pub use crate::constructors::{channel, channel_bounded};
    #[doc(no_inline)]
    pub use crate::{Drain, PublishError, Publisher, Subscribable, Subscriber, TryRecvError};
}

/// photon-ring's `wait` module path for [`WaitStrategy`].
///
/// ```
/// use ring_spmc::wait::WaitStrategy;
///
/// assert_eq!(WaitStrategy::default(), ring_spmc::WaitStrategy::default());
/// ```
pub mod wait {
    #[doc(no_inline)]
    pub use ring_core::WaitStrategy;
}

// The README's examples (the crates.io page) are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
