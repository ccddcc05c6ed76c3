//! [`MpPublisher`]: the cloneable, shareable write side.

use core::fmt;

use ring_core::CachePadded;
use ring_core::sync::Arc;
use ring_core::sync::atomic::{AtomicU64, Ordering};
use ring_spmc::PublishError;
use ring_spmc::raw::{GateFloor, Ring};

use crate::commit::{BACKOFF, write_and_commit};

/// What every clone of one channel's publisher shares. Dropped with the
/// last clone, which closes the channel.
struct Producers<T: Copy + Send> {
    ring: Arc<Ring<T>>,
    /// The next sequence to claim. Each sequence is claimed exactly once,
    /// by a `fetch_add` or a successful compare-exchange; Relaxed, because
    /// a claim orders nothing by itself (the lap wait and the room limit
    /// carry the happens-before a write needs; `commit` module docs).
    next: CachePadded<AtomicU64>,
    /// Bounded rings: sequences below it may be written. Raised (never
    /// lowered) with `fetch_max` AcqRel by whoever rescans the trackers,
    /// loaded with Acquire before a write (`commit` module docs, step 2).
    /// Invariant: `limit <= floor + window` for a floor that
    /// `Ring::gate_floor` returned with a gating subscriber registered (or
    /// the initial `window`, as if one were at 0); a floor found with nobody
    /// gating serves one publish and is not cached.
    limit: CachePadded<AtomicU64>,
    /// `capacity - watermark`: how far past the floor a write may go.
    window: u64,
}

impl<T: Copy + Send> Drop for Producers<T> {
    /// The last clone is gone: close the channel. Every clone's writes and
    /// cursor stores happen before this (the `Arc`'s count is decremented
    /// with Release and the last decrement is followed by an Acquire fence).
    fn drop(&mut self) {
        self.ring.close();
    }
}

/// The write side of a multi-producer ring: `Clone + Send + Sync`, and every
/// method takes `&self`, so it can be cloned into each producing thread or
/// shared behind an `Arc`. photon-ring's `MpPublisher`, with the same
/// methods, plus [`try_publish`](MpPublisher::try_publish) for bounded
/// rings.
///
/// The channel closes when the last clone is dropped: subscribers drain
/// what is retained, then see the close.
///
/// ```
/// use ring_mpmc::channel_mpmc;
///
/// let (p, subs) = channel_mpmc::<(u8, u32)>(64);
/// let mut s = subs.subscribe();
/// let workers: Vec<_> = (0..2_u8)
///     .map(|id| {
///         let p = p.clone();
///         std::thread::spawn(move || {
///             for i in 0..10 {
///                 p.publish((id, i));
///             }
///         })
///     })
///     .collect();
/// drop(p);
/// for w in workers {
///     w.join().unwrap();
/// }
/// let mut next = [0, 0];
/// while let Ok((id, i)) = s.recv_blocking() {
///     assert_eq!(i, next[id as usize]); // each producer's values in order
///     next[id as usize] += 1;
/// }
/// assert_eq!(next, [10, 10]);
/// ```
pub struct MpPublisher<T: Copy + Send> {
    /// The ring, held directly as well as through `producers` so the hot
    /// path dereferences one pointer to reach the slots.
    ring: Arc<Ring<T>>,
    producers: Arc<Producers<T>>,
    /// Whether the ring is bounded (then `producers.limit` gates writes).
    bounded: bool,
}

// `Send + Sync` follow from the fields (`Arc` of atomics and `Sync` slots);
// checked in the tests with static assertions, no `unsafe impl` needed.

impl<T: Copy + Send> Clone for MpPublisher<T> {
    /// Another handle on the same channel; the channel stays open until
    /// every clone is dropped.
    ///
    /// ```
    /// let (p, subs) = ring_mpmc::channel_mpmc::<u8>(8);
    /// let mut s = subs.subscribe();
    /// let q = p.clone();
    /// drop(p);
    /// q.publish(1);
    /// assert!(!s.is_closed());
    /// drop(q);
    /// assert_eq!(s.try_recv(), Ok(1));
    /// assert!(s.is_closed());
    /// ```
    fn clone(&self) -> Self {
        MpPublisher {
            ring: Arc::clone(&self.ring),
            producers: Arc::clone(&self.producers),
            bounded: self.bounded,
        }
    }
}

impl<T: Copy + Send> MpPublisher<T> {
    pub(crate) fn new(ring: Arc<Ring<T>>) -> Self {
        let capacity = ring.capacity().get() as u64;
        let (bounded, window) = match ring.watermark() {
            Some(w) => (true, capacity - w),
            None => (false, capacity),
        };
        let producers = Producers {
            ring: Arc::clone(&ring),
            next: CachePadded::new(AtomicU64::new(0)),
            // A scan now would find the floor at 0 (nothing published, every
            // subscriber at 0), so `window` is a limit it could return.
            limit: CachePadded::new(AtomicU64::new(if bounded { window } else { u64::MAX })),
            window,
        };
        MpPublisher {
            ring,
            producers: Arc::new(producers),
            bounded,
        }
    }

    /// Publishes `value`. On a lossy ring this never waits for subscribers;
    /// on a bounded ring it waits (spinning briefly, then yielding the
    /// thread) until the slowest gating subscriber leaves room. It may also
    /// wait, the same way, for another producer still writing this slot's
    /// previous lap (only when more publishes are in flight than the ring
    /// has slots).
    ///
    /// ```
    /// let (p, subs) = ring_mpmc::channel_mpmc::<u64>(8);
    /// let mut s = subs.subscribe();
    /// p.publish(5);
    /// assert_eq!(s.try_recv(), Ok(5));
    /// ```
    #[inline(always)]
    pub fn publish(&self, value: T) {
        let seq = self.claim();
        write_and_commit(&self.ring, seq, value);
    }

    /// Publishes the value `f` returns. `f` runs *before* a sequence is
    /// claimed, so a panicking `f` publishes nothing and stalls nobody
    /// (photon-ring's runs after the claim, and a panic there wedges every
    /// later publisher).
    ///
    /// ```
    /// let (p, subs) = ring_mpmc::channel_mpmc::<u64>(8);
    /// let mut s = subs.subscribe();
    /// p.publish_with(|| 6 * 7);
    /// assert_eq!(s.try_recv(), Ok(42));
    /// ```
    #[inline(always)]
    pub fn publish_with(&self, f: impl FnOnce() -> T) {
        let value = f();
        self.publish(value);
    }

    /// Publishes `value` if the ring has room for it now; never waits for
    /// subscribers. On a lossy ring it always publishes.
    ///
    /// # Errors
    ///
    /// [`PublishError::Full`] with the value, on a bounded ring whose
    /// slowest gating subscriber (counting publishes in flight on other
    /// threads) leaves no room.
    ///
    /// ```
    /// use ring_mpmc::{channel_mpmc_bounded, PublishError};
    ///
    /// let (p, subs) = channel_mpmc_bounded::<u8>(4, 1);
    /// let mut s = subs.subscribe();
    /// for i in 0..3 {
    ///     p.try_publish(i).unwrap(); // capacity 4 minus watermark 1
    /// }
    /// assert_eq!(p.try_publish(9), Err(PublishError::Full(9)));
    /// assert_eq!(s.try_recv(), Ok(0));
    /// assert_eq!(p.try_publish(9), Ok(()));
    /// ```
    #[inline]
    pub fn try_publish(&self, value: T) -> Result<(), PublishError<T>> {
        if !self.bounded {
            self.publish(value);
            return Ok(());
        }
        let next = &self.producers.next;
        // Relaxed: a first guess; the compare-exchange below decides.
        let mut seq = next.load(Ordering::Relaxed);
        loop {
            if !self.has_room(seq) {
                return Err(PublishError::Full(value));
            }
            // Relaxed: a claim orders nothing (see `Producers::next`); the
            // room was checked with Acquire for exactly this `seq`.
            match next.compare_exchange_weak(seq, seq + 1, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => seq = now,
            }
        }
        write_and_commit(&self.ring, seq, value);
        Ok(())
    }

    /// Claims the next sequence and, on a bounded ring, waits for room.
    #[inline(always)]
    fn claim(&self) -> u64 {
        // Relaxed: see `Producers::next`.
        let seq = self.producers.next.fetch_add(1, Ordering::Relaxed);
        if self.bounded && !self.has_room(seq) {
            self.wait_for_room(seq);
        }
        seq
    }

    /// Whether `seq` may be written now (bounded rings); rescans the
    /// trackers only when the cached limits say no: `limit` (computed with
    /// a subscriber gating) or, while nobody gates, the ring's
    /// [`ungated_limit`](Ring::ungated_limit), which a gating registration
    /// resets so that a subscriber registered behind the cursor
    /// (`subscribe_from_oldest`) gates the very next publish
    /// (`tests/bounded.rs`). Without it a ring that nobody gates took the
    /// tracker lock on every publish past the first window
    /// (`benches/mpmc.rs`, `mpmc_publish`).
    #[inline(always)]
    fn has_room(&self, seq: u64) -> bool {
        // Acquire: pairs with the AcqRel `fetch_max` in `rescan`, which
        // acquired the gating subscribers' tracker stores.
        seq < self.producers.limit.load(Ordering::Acquire)
            || seq < self.ring.ungated_limit()
            || seq < self.rescan()
    }

    /// Recomputes the limit from the trackers and the cursor, raises the
    /// shared one if a subscriber gates, and returns it.
    #[cold]
    fn rescan(&self) -> u64 {
        let Some(GateFloor { floor, gated }) = self.ring.gate_floor() else {
            return u64::MAX; // lossy: never called
        };
        let fresh = floor + self.producers.window;
        if !gated {
            // Nobody gates: the room is a window past the cursor, kept by
            // `gate_floor` in the ring's `ungated_limit`, never in `limit`.
            // Cached there, it let a subscriber registered behind the
            // cursor (`subscribe_from_oldest`) be lapped by the next
            // publishes (`tests/bounded.rs`), where ring-spmc's publisher
            // and photon-ring's scan again and refuse.
            return fresh;
        }
        // AcqRel: Release hands the tracker loads of `gate_floor` on to the
        // Acquire limit loads of other producers; Acquire takes theirs if
        // their limit was higher.
        let old = self.producers.limit.fetch_max(fresh, Ordering::AcqRel);
        old.max(fresh)
    }

    #[cold]
    fn wait_for_room(&self, seq: u64) {
        let mut iter = 0_u32;
        while !self.has_room(seq) {
            BACKOFF.wait(iter);
            iter = iter.saturating_add(1);
        }
    }

    /// How many values are published: every sequence below this one is
    /// written and readable, shared by all clones. A publish still in
    /// flight on another thread (or waiting for an earlier one to finish
    /// writing) is not counted yet; once every publish has returned, this
    /// is their number.
    ///
    /// ```
    /// let (p, _subs) = ring_mpmc::channel_mpmc::<u8>(8);
    /// let q = p.clone();
    /// p.publish(1);
    /// q.publish(2);
    /// assert_eq!(p.published(), 2);
    /// assert_eq!(q.published(), 2);
    /// ```
    #[inline]
    pub fn published(&self) -> u64 {
        self.ring.published()
    }

    /// The ring's capacity: exactly the one requested (any value ≥ 2).
    ///
    /// ```
    /// let (p, _subs) = ring_mpmc::channel_mpmc::<u8>(6);
    /// assert_eq!(p.capacity(), 6);
    /// ```
    #[inline]
    pub fn capacity(&self) -> u64 {
        self.ring.capacity().get() as u64
    }
}

impl<T: Copy + Send> fmt::Debug for MpPublisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpPublisher")
            .field("published", &self.published())
            .field("capacity", &self.capacity())
            .field("bounded", &self.bounded)
            .finish()
    }
}
