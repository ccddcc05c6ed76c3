//! Error types. `TryRecvError` and `PublishError` are photon-ring's, with
//! exactly its variants, so exhaustive `match`es keep compiling; closure is
//! reported by our own receive methods' errors ([`RecvError`],
//! [`RecvTimeoutError`]) and by [`Subscriber::is_closed`](crate::Subscriber::is_closed).

use core::fmt;

use ring_core::{AllocError, CapacityError};

/// Why [`Subscriber::try_recv`](crate::Subscriber::try_recv) returned no value.
///
/// ```
/// use ring_spmc::{channel, TryRecvError};
///
/// let (mut p, s) = channel::<u64>(4);
/// let mut sub = s.subscribe();
/// assert_eq!(sub.try_recv(), Err(TryRecvError::Empty));
/// for i in 0..6 {
///     p.publish(i);
/// }
/// assert_eq!(sub.try_recv(), Err(TryRecvError::Lagged { skipped: 2 }));
/// assert_eq!(sub.try_recv(), Ok(2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new has been published.
    Empty,
    /// The publisher overwrote values this subscriber had not read;
    /// `skipped` of them are lost and the cursor moved to the oldest value
    /// still in the ring.
    Lagged {
        /// How many values were lost.
        skipped: u64,
    },
}

/// Why [`Publisher::try_publish`](https://docs.rs/ring-spmc/0.1/ring_spmc/struct.Publisher.html#method.try_publish) did not publish.
///
/// ```
/// use ring_spmc::{channel_bounded, PublishError};
///
/// let (mut p, s) = channel_bounded::<u32>(2, 0);
/// let _sub = s.subscribe();
/// p.try_publish(1).unwrap();
/// p.try_publish(2).unwrap();
/// assert_eq!(p.try_publish(3), Err(PublishError::Full(3)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishError<T> {
    /// The ring is full for the slowest gating subscriber; the value is
    /// handed back.
    Full(T),
}

/// Why a blocking or async receive returned no value.
///
/// ```
/// use ring_spmc::{channel, RecvError};
///
/// let (p, s) = channel::<u8>(4);
/// let mut sub = s.subscribe();
/// drop(p);
/// assert_eq!(sub.recv_blocking(), Err(RecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecvError {
    /// The subscriber fell behind: `skipped` values were lost; the next
    /// receive returns the oldest retained value.
    Lagged {
        /// How many values were lost.
        skipped: u64,
    },
    /// The publisher was dropped and every retained value has been read.
    Closed,
}

/// Why [`Subscriber::recv_timeout`](crate::Subscriber::recv_timeout)
/// returned no value.
///
/// ```
/// use ring_spmc::{channel, RecvTimeoutError};
/// use std::time::Duration;
///
/// let (_p, s) = channel::<u8>(4);
/// let mut sub = s.subscribe();
/// assert_eq!(sub.recv_timeout(Duration::from_millis(1)), Err(RecvTimeoutError::Timeout));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecvTimeoutError {
    /// Nothing arrived in time.
    Timeout,
    /// The subscriber fell behind; see [`RecvError::Lagged`].
    Lagged {
        /// How many values were lost.
        skipped: u64,
    },
    /// The publisher was dropped and every retained value has been read.
    Closed,
}

/// The item a [`Subscriber`](crate::Subscriber) yields as a `Stream` when it
/// fell behind: lag is an item, never hidden.
///
/// ```
/// let lag = ring_spmc::Lagged { skipped: 3 };
/// assert_eq!(lag.to_string(), "subscriber lagged by 3 values");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lagged {
    /// How many values were lost.
    pub skipped: u64,
}

/// Why [`try_channel`](https://docs.rs/ring-spmc/0.1/ring_spmc/fn.try_channel.html) or
/// [`try_channel_bounded`](https://docs.rs/ring-spmc/0.1/ring_spmc/fn.try_channel_bounded.html) refused its arguments.
///
/// ```
/// use ring_spmc::{try_channel_bounded, ChannelError};
///
/// let err = try_channel_bounded::<u8>(8, 8).unwrap_err();
/// assert_eq!(err, ChannelError::Watermark { watermark: 8, capacity: 8 });
/// // photon-ring's panic text, then the values.
/// assert_eq!(err.to_string(), "watermark must be less than capacity (watermark 8, capacity 8)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelError {
    /// The capacity is out of range: any value in `2..=Capacity::MAX` is
    /// accepted, and kept exactly.
    Capacity(CapacityError),
    /// A bounded ring's watermark must leave room: `watermark < capacity`.
    Watermark {
        /// The watermark asked for.
        watermark: usize,
        /// The capacity asked for.
        capacity: usize,
    },
    /// The slot array could not be allocated: it would exceed `isize::MAX`
    /// bytes, or the allocator refused it.
    Alloc(AllocError),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Lagged { skipped } => write!(f, "subscriber lagged by {skipped} values"),
        }
    }
}

impl<T> fmt::Display for PublishError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ring full for the slowest gating subscriber")
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged { skipped } => Lagged { skipped: *skipped }.fmt(f),
            RecvError::Closed => f.write_str("channel closed"),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out waiting on channel"),
            RecvTimeoutError::Lagged { skipped } => Lagged { skipped: *skipped }.fmt(f),
            RecvTimeoutError::Closed => f.write_str("channel closed"),
        }
    }
}

impl fmt::Display for Lagged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "subscriber lagged by {} values", self.skipped)
    }
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Capacity(e) => e.fmt(f),
            ChannelError::Alloc(e) => e.fmt(f),
            ChannelError::Watermark {
                watermark,
                capacity,
            } => write!(
                f,
                "watermark must be less than capacity (watermark {watermark}, capacity {capacity})"
            ),
        }
    }
}

impl std::error::Error for TryRecvError {}
impl<T: fmt::Debug> std::error::Error for PublishError<T> {}
impl std::error::Error for RecvError {}
impl std::error::Error for RecvTimeoutError {}
impl std::error::Error for Lagged {}
impl std::error::Error for ChannelError {}

impl From<Lagged> for RecvError {
    fn from(l: Lagged) -> Self {
        RecvError::Lagged { skipped: l.skipped }
    }
}
