//! [`DependencyBarrier`]: gate a downstream subscriber on upstream ones, for
//! pipelines and diamonds; and [`Padded`], photon-ring's cache-line wrapper.
//! Public under photon-ring's path (`ring_spmc::barrier::DependencyBarrier`);
//! both are at the crate root too.

use std::sync::Arc;

use ring_core::sync::atomic::{AtomicU64, Ordering};

use crate::shared::Tracker;
use crate::subscriber::Subscriber;

/// A value on its own cache line(s): photon-ring's `Padded`, aligned to
/// 128 bytes (two 64-byte lines: the adjacent-line prefetcher of x86-64 and
/// the 128-byte lines of some aarch64 cores would otherwise share them).
///
/// ```
/// use ring_spmc::Padded;
/// use std::sync::atomic::AtomicU64;
///
/// let p = Padded(AtomicU64::new(0));
/// assert_eq!(core::mem::align_of_val(&p), 128);
/// ```
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

/// The slowest of several upstream subscribers' cursors: a downstream
/// subscriber reads sequence `n` only once every upstream has read it.
///
/// A dropped upstream releases its dependants: its tracker then reads
/// `u64::MAX`, so the barrier waits only for the upstreams still alive
/// (with none left, only for the publisher). photon-ring's barrier stalls
/// forever on a dropped upstream.
///
/// ```
/// use ring_spmc::{channel, DependencyBarrier, TryRecvError};
///
/// let (mut p, subs) = channel::<u64>(64);
/// let mut a = subs.subscribe_tracked();
/// let mut b = subs.subscribe_tracked();
/// let barrier = DependencyBarrier::from_subscribers(&[&a, &b]);
/// let mut c = subs.subscribe();
///
/// p.publish(42);
/// assert_eq!(c.try_recv_gated(&barrier), Err(TryRecvError::Empty));
/// a.try_recv().unwrap();
/// b.try_recv().unwrap();
/// assert_eq!(c.try_recv_gated(&barrier), Ok(42));
/// ```
#[derive(Debug, Clone)]
pub struct DependencyBarrier {
    upstreams: Vec<Tracker>,
}

impl DependencyBarrier {
    /// A barrier over trackers from [`Subscriber::tracker`].
    ///
    /// # Panics
    ///
    /// If `trackers` is empty.
    ///
    /// ```
    /// use ring_spmc::{channel, DependencyBarrier};
    ///
    /// let (_p, subs) = channel::<u8>(8);
    /// let up = subs.subscribe_tracked();
    /// let barrier = DependencyBarrier::new(vec![up.tracker().unwrap()]);
    /// assert_eq!(barrier.upstream_count(), 1);
    /// ```
    #[track_caller]
    pub fn new(trackers: Vec<Arc<Padded<AtomicU64>>>) -> Self {
        assert!(
            !trackers.is_empty(),
            "DependencyBarrier requires at least one upstream tracker"
        );
        DependencyBarrier {
            upstreams: trackers,
        }
    }

    /// A barrier over these subscribers' trackers.
    ///
    /// # Panics
    ///
    /// If `subscribers` is empty, or one has no tracker (a plain
    /// `subscribe()` on a lossy ring: use
    /// [`subscribe_tracked`](crate::Subscribable::subscribe_tracked)).
    ///
    /// ```
    /// use ring_spmc::{channel_bounded, DependencyBarrier};
    ///
    /// let (_p, subs) = channel_bounded::<u8>(8, 0);
    /// let up = subs.subscribe(); // bounded: already tracked
    /// assert_eq!(DependencyBarrier::from_subscribers(&[&up]).upstream_count(), 1);
    /// ```
    #[track_caller]
    pub fn from_subscribers<T: Copy + Send>(subscribers: &[&Subscriber<T>]) -> Self {
        assert!(
            !subscribers.is_empty(),
            "DependencyBarrier requires at least one upstream subscriber"
        );
        let upstreams = subscribers
            .iter()
            .map(|s| {
                // Not `Subscriber::tracker`, which ends the upstream's held
                // reads: the barrier only loads the tracker.
                s.st.tracker
                    .clone()
                    .expect("upstream subscriber has no tracker — use subscribe_tracked()")
            })
            .collect();
        DependencyBarrier { upstreams }
    }

    /// The slowest upstream's next sequence to read: a downstream at cursor
    /// `n` may read `n` only if `slowest() > n`. `u64::MAX` once every
    /// upstream is dropped.
    ///
    /// ```
    /// use ring_spmc::{channel, DependencyBarrier};
    ///
    /// let (mut p, subs) = channel::<u8>(8);
    /// let mut up = subs.subscribe_tracked();
    /// let barrier = DependencyBarrier::from_subscribers(&[&up]);
    /// p.publish(1);
    /// assert_eq!(barrier.slowest(), 0);
    /// up.try_recv().unwrap();
    /// assert_eq!(barrier.slowest(), 1);
    /// ```
    #[inline]
    pub fn slowest(&self) -> u64 {
        self.upstreams
            .iter()
            // Acquire: pairs with the upstream's Release tracker store, so
            // its reads (and whatever it did before them) happen before the
            // downstream's read of the same sequence.
            .map(|t| t.0.load(Ordering::Acquire))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// How many upstreams the barrier waits for.
    ///
    /// ```
    /// use ring_spmc::{channel, DependencyBarrier};
    ///
    /// let (_p, subs) = channel::<u8>(8);
    /// let (a, b) = (subs.subscribe_tracked(), subs.subscribe_tracked());
    /// assert_eq!(DependencyBarrier::from_subscribers(&[&a, &b]).upstream_count(), 2);
    /// ```
    #[inline]
    pub fn upstream_count(&self) -> usize {
        self.upstreams.len()
    }
}
