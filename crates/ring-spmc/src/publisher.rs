//! [`Publisher`]: the single writer.

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;

use ring_core::sync::Arc;
use ring_core::sync::atomic::Ordering;
use ring_core::{RawSlots, Slot, WaitStrategy, prefetch_write};

use crate::error::PublishError;
use crate::shared::{GateFloor, Shared};

/// The write side of a ring: one per channel, `Send` but not `Sync`
/// (publishing takes `&mut self`).
///
/// Dropping it closes the channel: subscribers drain what is retained, then
/// [`Subscriber::is_closed`](crate::Subscriber::is_closed) is true and the
/// blocking and async receives return `Closed`.
///
/// ```
/// let (mut p, subs) = ring_spmc::channel::<u64>(8);
/// let mut s = subs.subscribe();
/// p.publish(1);
/// p.publish_batch(&[2, 3]);
/// assert_eq!(p.published(), 3);
/// assert_eq!(s.drain().collect::<Vec<_>>(), [1, 2, 3]);
/// ```
pub struct Publisher<T: Copy + Send> {
    shared: Arc<Shared<T>>,
    /// `shared.slots`' base and capacity, copied: a publish indexes the
    /// ring without loading them through the `Arc` first (as a
    /// subscriber's `ReadState`, and photon-ring's publisher).
    slots: RawSlots<T>,
    /// The next sequence to publish.
    seq: u64,
    /// Publishing `seq` is known to be safe while `seq < limit`: the
    /// slowest gating cursor seen at the last scan plus the usable capacity
    /// (`u64::MAX` on a lossy ring, so the check is one compare).
    limit: u64,
    /// `capacity - watermark`: how far ahead of the slowest gating cursor
    /// the publisher may run (bounded rings).
    window: u64,
    /// The head last stored by `commit`: what a subscriber registering now
    /// starts at. `seq` runs ahead of it inside `publish_batch`.
    committed: u64,
    /// `Send` but not `Sync`, as photon-ring's.
    _not_sync: PhantomData<Cell<()>>,
}

impl<T: Copy + Send> Publisher<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>) -> Self {
        let (limit, window) = match &shared.gate {
            // As if a scan had found a subscriber at 0 (photon-ring's
            // initial cache): the first `window` values overwrite nothing.
            Some(gate) => {
                let window = shared.capacity - gate.watermark;
                (window, window)
            }
            None => (u64::MAX, shared.capacity),
        };
        Publisher {
            slots: shared.slots.raw(),
            shared,
            seq: 0,
            limit,
            window,
            committed: 0,
            _not_sync: PhantomData,
        }
    }

    /// Whether `self.seq` may be written now; rescans the gating trackers
    /// only when the cached limit says the ring may be full.
    ///
    /// The cache is safe against subscribers that register later: a new
    /// subscriber starts at the committed head (read under the tracker
    /// lock), which is at least every cursor the last scan saw and at least
    /// the head committed at that scan, so `limit` never exceeds its own
    /// limit. The scan must therefore never count past the *committed*
    /// head: inside `publish_batch` `seq` runs ahead of it, and so may a
    /// gating subscriber, which reads slots by their stamps before the
    /// batch's head store. A subscriber joining mid-batch starts at the
    /// committed head; a limit taken from `seq` (issue 9, bug 2, with no
    /// gating subscriber) or from a cursor that read ahead (its review,
    /// `tests/loom_spmc.rs`,
    /// `subscribe_racing_publish_batch_with_a_gating_reader_ahead`) let the
    /// batch lap it.
    ///
    /// With no gating subscriber the room is a window past the committed
    /// head, kept not in `limit` but in the ring's
    /// [`ungated_limit`](Shared::ungated_limit), which each publish past
    /// `limit` loads (one line that only scans and registrations write):
    /// a subscriber that registers *behind* the head
    /// (`subscribe_from_oldest`) resets it, and so gates the very next
    /// publish, as photon-ring's rescan does. Caching that window in
    /// `limit` let it be lapped (`tests/bounded.rs`,
    /// `subscribe_from_oldest_is_seen_at_once_when_nobody_else_gates`);
    /// rescanning on every publish instead cost a lock per publish (3x on
    /// `benches/spmc.rs`, `publish/ring-spmc-bounded`). ring-mpmc's
    /// producers share the same word.
    #[inline]
    fn has_room(&mut self) -> bool {
        self.seq < self.limit || self.seq < self.shared.ungated_limit() || self.rescan()
    }

    /// Scans the gating trackers; caches the limit if any gates (if none
    /// does, `gate_floor` keeps the room in the ring). Returns whether
    /// `seq` may be written now.
    #[cold]
    fn rescan(&mut self) -> bool {
        // The floor is at most the committed head (this publisher's last
        // cursor store), never `seq`, which runs ahead inside a batch.
        let Some(GateFloor { floor, gated }) = self.shared.gate_floor() else {
            return true; // lossy: `limit` is u64::MAX, never called
        };
        let fresh = floor + self.window;
        if gated {
            self.limit = fresh;
        }
        self.seq < fresh
    }

    /// The slot of `seq`.
    #[inline(always)]
    fn slot(&self, seq: u64) -> &Slot<T> {
        // SAFETY: `self.slots` was copied from `self.shared.slots` in `new`;
        // the `Arc` keeps that array alive for as long as `self`.
        unsafe { self.slots.get(seq) }
    }

    /// Writes `seq`'s slot and advances the head. Room was checked.
    #[inline(always)]
    fn write(&mut self, value: T) {
        prefetch_write(self.slot(self.seq + 1));
        // SAFETY: this publisher is the ring's only writer (`&mut self`,
        // one per channel), and it writes sequences in increasing order.
        unsafe { self.slot(self.seq).write(self.seq, value) };
        self.seq += 1;
    }

    /// Publishes the head after one or more `write`s and wakes waiters.
    #[inline(always)]
    fn commit(&mut self) {
        // Release: pairs with the Acquire head loads of subscribers (lag
        // arithmetic, `pending`, `latest`, new subscriptions).
        self.shared.head.store(self.seq, Ordering::Release);
        self.committed = self.seq;
        self.shared.bell.ring();
    }

    /// Waits (spin, then yield: never burns a core for long) until the ring
    /// has room for the next value.
    #[inline]
    fn wait_for_room(&mut self) {
        let mut iter = 0;
        while !self.has_room() {
            WaitStrategy::Adaptive {
                spin_iters: 64,
                yield_iters: u32::MAX,
            }
            .wait(iter);
            iter = iter.saturating_add(1);
        }
    }

    /// Publishes `value`. On a lossy ring this never waits; on a bounded
    /// ring it waits (spinning, then yielding) until the slowest gating
    /// subscriber leaves room.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<(u32, bool)>(4);
    /// let mut s = subs.subscribe();
    /// p.publish((7, true));
    /// assert_eq!(s.try_recv(), Ok((7, true)));
    /// ```
    // `inline(always)`: with any-capacity indexing (mask or fastmod, in
    // ring-core's `Capacity::index`) `#[inline]` left `publish` out of line
    // in a caller's loop (criterion's): 4.1-4.3 ns instead of 2.0-2.2 for
    // the 8-byte publish on a 1024-slot ring (`benches/spmc.rs`, `publish`,
    // 8B; the commit that added this has the table).
    #[inline(always)]
    pub fn publish(&mut self, value: T) {
        self.wait_for_room();
        self.write(value);
        self.commit();
    }

    /// Publishes `value` if the ring has room for it.
    ///
    /// # Errors
    ///
    /// [`PublishError::Full`] with the value, on a bounded ring whose slowest
    /// gating subscriber has not left room. A lossy ring always has room.
    ///
    /// ```
    /// use ring_spmc::{channel_bounded, PublishError};
    ///
    /// let (mut p, subs) = channel_bounded::<u8>(4, 1);
    /// let mut s = subs.subscribe();
    /// for i in 0..3 {
    ///     p.try_publish(i).unwrap(); // capacity 4 minus watermark 1
    /// }
    /// assert_eq!(p.try_publish(9), Err(PublishError::Full(9)));
    /// s.try_recv().unwrap();
    /// assert_eq!(p.try_publish(9), Ok(()));
    /// ```
    #[inline(always)]
    pub fn try_publish(&mut self, value: T) -> Result<(), PublishError<T>> {
        if !self.has_room() {
            return Err(PublishError::Full(value));
        }
        self.write(value);
        self.commit();
        Ok(())
    }

    /// Publishes the value `f` returns (waiting for room first, as
    /// [`publish`](Publisher::publish)).
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u64>(4);
    /// let mut s = subs.subscribe();
    /// p.publish_with(|| 6 * 7);
    /// assert_eq!(s.try_recv(), Ok(42));
    /// ```
    #[inline(always)]
    pub fn publish_with(&mut self, f: impl FnOnce() -> T) {
        self.wait_for_room();
        self.write(f());
        self.commit();
    }

    /// Publishes every value of `values` in order, making them visible with
    /// one head store and one wake-up check at the end (on a bounded ring,
    /// also whenever it has to wait for room).
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u16>(8);
    /// let mut s = subs.subscribe();
    /// p.publish_batch(&[1, 2, 3]);
    /// let mut buf = [0; 8];
    /// assert_eq!(s.recv_batch(&mut buf), 3);
    /// assert_eq!(buf[..3], [1, 2, 3]);
    /// ```
    #[inline]
    pub fn publish_batch(&mut self, values: &[T]) {
        for &v in values {
            if !self.has_room() {
                // Let subscribers see what is written before waiting on them.
                self.commit();
                self.wait_for_room();
            }
            self.write(v);
        }
        if !values.is_empty() {
            self.commit();
        }
    }

    /// How many values this publisher has published.
    ///
    /// ```
    /// let (mut p, _subs) = ring_spmc::channel::<u8>(4);
    /// p.publish(1);
    /// assert_eq!(p.published(), 1);
    /// ```
    #[inline]
    pub fn published(&self) -> u64 {
        self.seq
    }

    /// The sequence number the next value will get (equal to
    /// [`published`](Publisher::published): sequences count from 0).
    ///
    /// ```
    /// let (mut p, _subs) = ring_spmc::channel::<u8>(4);
    /// assert_eq!(p.sequence(), 0);
    /// p.publish(1);
    /// assert_eq!(p.sequence(), 1);
    /// ```
    #[inline]
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// The ring's capacity: exactly the one requested (any value ≥ 2, as
    /// photon-ring 3.0).
    ///
    /// ```
    /// let (p, _subs) = ring_spmc::channel::<u8>(1000);
    /// assert_eq!(p.capacity(), 1000);
    /// ```
    #[inline]
    pub fn capacity(&self) -> u64 {
        self.shared.capacity
    }

    /// How many published values the slowest gating subscriber has not
    /// read yet (rescanning the trackers, so it is current). 0 on a lossy
    /// ring or when no subscriber gates.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel_bounded::<u8>(8, 0);
    /// let mut s = subs.subscribe();
    /// p.publish_batch(&[1, 2, 3]);
    /// assert_eq!(p.fill_level(), 3);
    /// s.try_recv().unwrap();
    /// assert_eq!(p.fill_level(), 2);
    /// ```
    pub fn fill_level(&mut self) -> u64 {
        if self.shared.gate.is_none() {
            return 0;
        }
        match self.shared.slowest() {
            Some(slowest) => self.seq - slowest.min(self.seq),
            None => 0,
        }
    }

    /// [`fill_level`](Publisher::fill_level) as a fraction of the usable
    /// capacity (`capacity - watermark`): 1.0 means `publish` would wait.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel_bounded::<u8>(4, 0);
    /// let _s = subs.subscribe();
    /// p.publish_batch(&[1, 2]);
    /// assert_eq!(p.fill_ratio(), 0.5);
    /// ```
    pub fn fill_ratio(&mut self) -> f64 {
        self.fill_level() as f64 / self.window as f64
    }
}

impl<T: Copy + Send> Drop for Publisher<T> {
    /// Closes the channel.
    fn drop(&mut self) {
        // After the last head store, so a subscriber that sees `closed`
        // also sees every published value (Release, in `close`).
        self.shared.close();
    }
}

impl<T: Copy + Send> fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("published", &self.seq)
            .field("capacity", &self.shared.capacity)
            .field("bounded", &self.shared.gate.is_some())
            .finish()
    }
}
