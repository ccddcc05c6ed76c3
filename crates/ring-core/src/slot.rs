//! [`Slot<T>`]: one seqlock-stamped cell, sound for every `T: Copy + Send`.
//!
//! The protocol is the seqlock of Boehm's "Can seqlocks get along with
//! programming language memory models?" (MSPC 2012), with the payload moved
//! by atomic word operations (see the `payload` module) so that a reader
//! racing a writer is not a data race:
//!
//! * **write** of sequence `s`: `stamp = 2s+1` (Relaxed) → `fence(Release)` →
//!   payload words (Relaxed) → `stamp = 2s+2` (Release).
//! * **read** of `s`: `s1 = stamp` (Acquire); not `2s+2` → classify and stop;
//!   else payload words (Relaxed) into a `MaybeUninit` → `fence(Acquire)` →
//!   `s2 = stamp` (Relaxed); `s1 == s2` → the copy is one whole write.
//!
//! Why a torn copy is always caught: if any payload load read a word stored
//! by a later write `w'`, that store comes after `w'`'s release fence, so the
//! reader's acquire fence synchronises with it and `w'`'s odd stamp (or a
//! later one) is visible to the second stamp load; stamps of a slot only
//! grow, so `s2 > s1`. If every word came from the write that stored `s1`,
//! the copy is whole. The writer must therefore write each slot with
//! increasing sequences, and only one writer may write a slot at a time;
//! [`Slot::write`] is `unsafe` for those two rules.
//!
//! **Held reads.** The second stamp load exists only to catch a later write
//! racing the copy. A reader that *holds* the slot (the writer starts no
//! later write of it until the reader releases it: a gating subscriber of a
//! bounded ring, whose publisher overwrites slot `s` only after an Acquire
//! load of the subscriber's cursor, stored with Release past `s` after the
//! read) can skip it: [`Slot::try_read_held`] is `s1 = stamp` (Acquire);
//! `2s+2` → payload words, done. The Acquire load read `s`'s completed stamp,
//! so `s`'s payload stores happen before the loads, which read those stores
//! or later ones (coherence); later ones cannot exist yet, because the next
//! write of the slot happens after the reader's release, which follows the
//! loads in program order. So every word is `s`'s. [`Slot::read_published`]
//! drops the first load as well, for a reader that already knows `s` is
//! complete through another Acquire edge (the ring's publish cursor, stored
//! with Release after the write). Both are `unsafe`: the hold is the caller's
//! to prove, and a reader that cannot (a lossy subscriber, whose slot may be
//! overwritten mid-copy) uses [`Slot::try_read`] and its two checks.

use core::fmt;

use crate::payload::{Payload, Words};
use crate::stamp::Stamp;
use crate::sync::atomic::{AtomicU64, Ordering, fence};

/// One seqlock-stamped cell: a 64-bit stamp and a `T` payload.
///
/// A single writer stores sequence-numbered values with [`write`](Slot::write);
/// any number of readers copy them out with [`try_read`](Slot::try_read),
/// which never blocks and never returns a torn value. `T` may be any
/// `Copy + Send` type: padding, `bool`, enums and `Option` included (see the
/// crate docs for how that is made sound). There is no size limit: the
/// payload is copied a machine word at a time, so cost grows with
/// `size_of::<T>()`.
///
/// `Slot` is not cache-aligned itself, so small slots can share a line; put
/// many of them in a [`Slots`](crate::Slots) array for a cache-aligned ring.
///
/// ```
/// use ring_core::{ReadResult, Slot};
///
/// let slot = Slot::<(u8, u64)>::new();
/// assert_eq!(slot.try_read(0), ReadResult::NotWritten);
/// // SAFETY: this thread is the slot's only writer; sequences grow.
/// unsafe { slot.write(0, (1, 10)) };
/// assert_eq!(slot.try_read(0), ReadResult::Ready((1, 10)));
/// ```
#[repr(C)]
pub struct Slot<T> {
    /// The seqlock stamp (see [`Stamp`]). Written only by the slot's single
    /// writer; grows monotonically.
    stamp: AtomicU64,
    /// The value, accessed only through atomic word operations.
    payload: Payload<T>,
}

// SAFETY: all shared access to the payload goes through atomic operations
// (no data race), a reader only hands out a `T` after the stamp proved the
// copy whole, and handing a bitwise copy of a `T: Copy` to another thread is
// a transfer, which `T: Send` allows. Concurrent writes are excluded by the
// `unsafe` contract of `write`.
unsafe impl<T: Send> Sync for Slot<T> {}

/// What [`Slot::try_read`] found for the sequence it was asked for.
///
/// ```
/// use ring_core::{ReadResult, Slot};
///
/// let slot = Slot::<u64>::new();
/// assert_eq!(slot.try_read(2), ReadResult::NotWritten);
/// // SAFETY: single writer, increasing sequences.
/// unsafe { slot.write(2, 22) };
/// assert_eq!(slot.try_read(2).ready(), Some(22));
/// assert_eq!(slot.try_read(3), ReadResult::NotWritten);
/// assert!(matches!(slot.try_read(1), ReadResult::Overwritten { .. }));
/// ```
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadResult<T> {
    /// The value of the requested sequence, copied out whole.
    Ready(T),
    /// The slot holds an earlier sequence (or nothing): the requested one is
    /// not written yet.
    NotWritten,
    /// The requested sequence is being written right now.
    Writing,
    /// A later sequence has overwritten (or is overwriting) the requested
    /// one; `stamp` is the stamp seen, and `stamp.sequence()` the newer
    /// sequence.
    Overwritten {
        /// The stamp that proved the overwrite.
        stamp: Stamp,
    },
}

impl<T> ReadResult<T> {
    /// The value, if the read succeeded.
    ///
    /// ```
    /// use ring_core::ReadResult;
    ///
    /// assert_eq!(ReadResult::Ready(3).ready(), Some(3));
    /// assert_eq!(ReadResult::<u8>::Writing.ready(), None);
    /// ```
    #[inline]
    pub fn ready(self) -> Option<T> {
        match self {
            ReadResult::Ready(value) => Some(value),
            _ => None,
        }
    }
}

impl<T: Copy> Slot<T> {
    /// An empty slot (stamp 0: never written).
    ///
    /// ```
    /// let slot = ring_core::Slot::<[u8; 3]>::new();
    /// assert_eq!(slot.stamp(), ring_core::Stamp::EMPTY);
    /// ```
    pub fn new() -> Self {
        Slot {
            stamp: AtomicU64::new(0),
            payload: Payload::new(),
        }
    }

    /// Stores `value` as sequence `seq`.
    ///
    /// # Safety
    ///
    /// * No other write to this slot may run at the same time (single
    ///   writer per slot at any moment).
    /// * `seq` must be greater than every sequence written to this slot
    ///   before, and at most [`Stamp::MAX_SEQUENCE`]. A reader that compares
    ///   stamps relies on them growing; a repeated or smaller sequence could
    ///   let a torn value pass the check.
    ///
    /// ```
    /// let slot = ring_core::Slot::<u16>::new();
    /// // SAFETY: one writer; 0 < 8.
    /// unsafe {
    ///     slot.write(0, 1);
    /// }
    /// // SAFETY: as above.
    /// unsafe { slot.write(8, 2) };
    /// assert_eq!(slot.try_read(8).ready(), Some(2));
    /// ```
    #[inline(always)]
    pub unsafe fn write(&self, seq: u64, value: T) {
        let mut staged = Words::uninit();
        staged.value.write(value);
        self.commit(seq, &staged);
    }

    /// Stores the value that `init` builds, as sequence `seq`.
    ///
    /// `init` fills a word-aligned staging buffer that is then copied into
    /// the slot by atomic word stores; for large values written field by
    /// field this saves building a `T` and moving it again. The slot's stamp
    /// turns odd only after `init` returns, so a slow `init` never makes
    /// readers see a write in progress.
    ///
    /// # Safety
    ///
    /// The contract of [`write`](Slot::write), and `init` must fully
    /// initialise the value it is given (readers will treat it as a `T`).
    ///
    /// ```
    /// let slot = ring_core::Slot::<[u64; 8]>::new();
    /// // SAFETY: one writer, first sequence; `init` writes the whole array.
    /// unsafe {
    ///     slot.write_with(0, |v| {
    ///         v.write([7; 8]);
    ///     })
    /// };
    /// assert_eq!(slot.try_read(0).ready(), Some([7; 8]));
    /// ```
    #[inline]
    pub unsafe fn write_with(&self, seq: u64, init: impl FnOnce(&mut core::mem::MaybeUninit<T>)) {
        let mut staged = Words::uninit();
        init(&mut staged.value);
        self.commit(seq, &staged);
    }

    /// The seqlock write of `staged` as sequence `seq`.
    #[inline(always)]
    fn commit(&self, seq: u64, staged: &Words<T>) {
        debug_assert!(
            seq <= Stamp::MAX_SEQUENCE,
            "sequence {seq} overflows the stamp"
        );
        debug_assert!(
            // Relaxed: the writer reads its own last store; no other thread writes.
            Stamp::from_raw(self.stamp.load(Ordering::Relaxed)) < Stamp::writing(seq),
            "slot written with a sequence that does not grow"
        );
        // Relaxed: the release fence below orders this store before every
        // payload store; a reader's acquire fence pairs with that fence.
        self.stamp
            .store(Stamp::writing(seq).into_raw(), Ordering::Relaxed);
        fence(Ordering::Release);
        self.payload.store(staged);
        // Release: publishes the payload stores above; pairs with the Acquire
        // stamp load at the start of `try_read`.
        self.stamp
            .store(Stamp::done(seq).into_raw(), Ordering::Release);
    }

    /// Copies out sequence `seq` if this slot holds it, whole.
    ///
    /// Never blocks, never retries, never returns a torn value: a copy that
    /// raced a write is reported as [`ReadResult::Overwritten`] with the
    /// stamp that proved it.
    ///
    /// ```
    /// use ring_core::{ReadResult, Slot};
    ///
    /// let slot = Slot::<Option<u32>>::new();
    /// // SAFETY: one writer, increasing sequences.
    /// unsafe { slot.write(4, None) };
    /// assert_eq!(slot.try_read(4), ReadResult::Ready(None));
    /// assert_eq!(slot.try_read(5), ReadResult::NotWritten);
    /// ```
    #[inline(always)]
    pub fn try_read(&self, seq: u64) -> ReadResult<T> {
        if seq > Stamp::MAX_SEQUENCE {
            return ReadResult::NotWritten;
        }
        let expected = Stamp::done(seq).into_raw();
        // Acquire: pairs with the Release store of the completed stamp in
        // `commit`, making that write's payload visible to the loads below.
        let s1 = self.stamp.load(Ordering::Acquire);
        if s1 != expected {
            return Self::classify(Stamp::from_raw(s1), seq);
        }
        let mut staged = Words::uninit();
        self.payload.load(&mut staged);
        // Acquire: pairs with the writer's Release fence after its odd stamp
        // store: if a payload load above read a word of a later write, that
        // write's odd stamp is visible to the load below.
        fence(Ordering::Acquire);
        // Relaxed: ordered after the payload loads by the fence above.
        let s2 = self.stamp.load(Ordering::Relaxed);
        if s2 == s1 {
            // SAFETY: the stamp did not move across the copy, so every word
            // came from the one completed write of `seq` (module docs), which
            // stored a whole, initialised `T`.
            ReadResult::Ready(unsafe { staged.value.assume_init() })
        } else {
            ReadResult::Overwritten {
                stamp: Stamp::from_raw(s2),
            }
        }
    }

    /// Copies out sequence `seq` with one stamp check, for a reader that
    /// *holds* the slot: the writer starts no later write of this slot
    /// until the reader lets it (a gating subscriber of a bounded ring,
    /// whose writer waits for the subscriber's cursor to pass `seq`).
    ///
    /// The second stamp load of [`try_read`](Slot::try_read) only catches a
    /// later write racing the copy; a held slot has none, so the Acquire
    /// load that saw `seq` complete is enough (module docs). Saves a load
    /// and a branch per value, and a second touch of a line the writer may
    /// be taking back to write the next slot.
    ///
    /// # Safety
    ///
    /// No write of a later sequence to this slot may begin before this call
    /// returns. A writer that loads (Acquire, directly or through a chain)
    /// a "released" mark that the caller stores (Release) only after this
    /// call, and waits for it before writing the slot again, satisfies it.
    /// If a write could race, the copy could be torn, which is undefined
    /// behaviour for types with invalid bit patterns.
    ///
    /// ```
    /// use ring_core::{ReadResult, Slot};
    ///
    /// let slot = Slot::<u64>::new();
    /// // SAFETY: one writer, first sequence.
    /// unsafe { slot.write(0, 5) };
    /// // SAFETY: this thread is also the writer and writes nothing until
    /// // the read returns.
    /// assert_eq!(unsafe { slot.try_read_held(0) }, ReadResult::Ready(5));
    /// // SAFETY: as above.
    /// assert_eq!(unsafe { slot.try_read_held(1) }, ReadResult::NotWritten);
    /// ```
    #[inline(always)]
    pub unsafe fn try_read_held(&self, seq: u64) -> ReadResult<T> {
        if seq > Stamp::MAX_SEQUENCE {
            return ReadResult::NotWritten;
        }
        // Acquire: pairs with the Release store of the completed stamp in
        // `commit`, making that write's payload visible to the loads below.
        let s1 = self.stamp.load(Ordering::Acquire);
        if s1 != Stamp::done(seq).into_raw() {
            return Self::classify(Stamp::from_raw(s1), seq);
        }
        let mut staged = Words::uninit();
        self.payload.load(&mut staged);
        // SAFETY: the Acquire load saw `seq`'s completed stamp, so every
        // payload store of that write happens before the loads above, which
        // therefore read that write or a later one (coherence); no later
        // write begins before this call returns (the caller's contract), so
        // every word is from `seq`'s write, which stored a whole `T`.
        ReadResult::Ready(unsafe { staged.value.assume_init() })
    }

    /// Copies out sequence `seq` with no stamp check at all, for a reader
    /// that holds the slot and already knows `seq` is complete there.
    ///
    /// # Safety
    ///
    /// The contract of [`try_read_held`](Slot::try_read_held), and the
    /// write of `seq` to this slot happens before this call (for example,
    /// the caller loaded with Acquire a cursor that the writer stored with
    /// Release after the write).
    ///
    /// ```
    /// let slot = ring_core::Slot::<u64>::new();
    /// // SAFETY: one writer, first sequence.
    /// unsafe { slot.write(0, 5) };
    /// // SAFETY: written above, on this thread, which writes nothing else.
    /// assert_eq!(unsafe { slot.read_published(0) }, 5);
    /// ```
    #[inline(always)]
    pub unsafe fn read_published(&self, seq: u64) -> T {
        debug_assert!(
            // Relaxed: a check of the caller's contract, not a synchronisation.
            Stamp::from_raw(self.stamp.load(Ordering::Relaxed)) == Stamp::done(seq),
            "read_published of a sequence the slot does not hold"
        );
        let mut staged = Words::uninit();
        self.payload.load(&mut staged);
        // SAFETY: `seq`'s write happens before the loads above (the caller's
        // contract), so they read it or a later write; no later write begins
        // before this call returns (held); so every word is from `seq`'s
        // write, which stored a whole `T`.
        unsafe { staged.value.assume_init() }
    }

    /// Sorts a stamp that is not `seq`'s completed stamp.
    #[inline]
    fn classify(seen: Stamp, seq: u64) -> ReadResult<T> {
        let writing = Stamp::writing(seq);
        if seen < writing {
            ReadResult::NotWritten
        } else if seen == writing {
            ReadResult::Writing
        } else {
            ReadResult::Overwritten { stamp: seen }
        }
    }

    /// The slot's current stamp.
    ///
    /// Acquire, so a reader that sees a completed stamp here may rely on
    /// the writes that preceded it; multi-producer commit uses it to wait for
    /// a predecessor's slot.
    ///
    /// ```
    /// let slot = ring_core::Slot::<u8>::new();
    /// // SAFETY: one writer, first write.
    /// unsafe { slot.write(9, 0) };
    /// assert!(slot.stamp().is_done(9));
    /// ```
    #[inline]
    pub fn stamp(&self) -> Stamp {
        // Acquire: pairs with the Release store of a completed stamp in `commit`.
        Stamp::from_raw(self.stamp.load(Ordering::Acquire))
    }
}

impl<T: Copy> Default for Slot<T> {
    /// Same as [`Slot::new`].
    ///
    /// ```
    /// let slot: ring_core::Slot<u8> = Default::default();
    /// assert_eq!(slot.stamp().sequence(), None);
    /// ```
    fn default() -> Self {
        Slot::new()
    }
}

impl<T> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            // Relaxed: a diagnostic snapshot, nothing is read through it.
            .field(
                "stamp",
                &Stamp::from_raw(self.stamp.load(Ordering::Relaxed)),
            )
            .finish_non_exhaustive()
    }
}
