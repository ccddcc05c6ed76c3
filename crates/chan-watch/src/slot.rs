//! One slot: a value behind a reader-writer word of our own, with a
//! "retired" bit so that the reader leaving a replaced value last (or the
//! sender, if nobody holds it) drops it, with no fence and no load of
//! `current` on a `Ref`'s drop.
//!
//! The word (an `AtomicUsize`, bits below) holds a reader count, a writer
//! bit, `RETIRED` (set by the sender when the slot stops being current,
//! cleared when a `send` makes it current again), `WANT_WRITE` (a
//! `send_modify` waits for the readers: new readers wait, as with std's
//! writer-preferring lock, and `Debug`'s `try_read` fails) and `PARKED`
//! (someone sleeps on the channel's [`Parking`] for this word).
//!
//! Why a replaced value is never left behind: every change of the word is
//! a read-modify-write, so all of them are in one total order (the word's
//! modification order), and each sees the one before it. The sender sets
//! `RETIRED` with a `fetch_or` and then tries to take the slot
//! ([`Slot::try_empty`]); every reader's unlock is a `fetch_sub` that
//! returns the word before it. Whoever comes last in that order among
//! "sender's `fetch_or`" and "last reader's `fetch_sub`" sees the other:
//! the sender sees no reader (and empties the slot), or the last reader
//! sees `RETIRED` and a count of one (and empties it). A writer holding
//! the word when it is retired empties or replaces the value itself
//! (`send_modify` finds the slot no longer current; a `send` reusing it
//! replaces the value; an emptier empties it). `try_empty` gives up only
//! when the word shows a reader or a writer, each of which comes back to
//! the same rule when it leaves. A reader that finds `RETIRED` in its
//! lock's `fetch_add` backs out through the same unlock. (std's `RwLock`
//! unlock is only Release, so the previous protocol needed a SeqCst fence
//! on each side to order the unlock against the load of `current`.)
//!
//! Why a reader needs no second load of `current`: a slot whose word has
//! neither `RETIRED` nor `WRITER` is current or was current at some point
//! after the reader loaded `current` (it is retired as soon as it stops
//! being current, and a reused slot loses `RETIRED` only in the unlock
//! that ends its write, after it is current again and the version is
//! bumped). So a read lock taken without either bit shows a value that
//! was current during the borrow, with a version the state has reached.

use core::fmt;

use ring_core::sync::atomic::{AtomicUsize, Ordering};
use ring_core::sync::{Condvar, Mutex, UnsafeCell};

use crate::state::Version;

/// One slot's value (or none, once dropped) and the version it has.
pub(crate) struct Entry<T> {
    pub(crate) value: Option<T>,
    pub(crate) version: Version,
}

/// The lock word's bits (nobody else shifts them).
mod bits {
    /// A writer holds the slot.
    pub(super) const WRITER: usize = 1;
    /// Not current: the last holder to leave drops the value.
    pub(super) const RETIRED: usize = 1 << 1;
    /// A `send_modify` waits for the readers to leave: new reads wait.
    pub(super) const WANT_WRITE: usize = 1 << 2;
    /// Someone sleeps on the channel's `Parking` for this word.
    pub(super) const PARKED: usize = 1 << 3;
    /// One reader (the count is the bits above `PARKED`).
    pub(super) const READER: usize = 1 << 4;
    /// A read lock is refused (and the borrow panics with std's message,
    /// "too many active read locks on RwLock") once the count reaches
    /// this: std's futex `RwLock` limit, 2^30 - 2, where tokio's `borrow`
    /// (a std `RwLock::read`) panics; or, where the word is too small for
    /// that, half the count's range: `Ref`s leaked with `mem::forget`
    /// (2^27 of them on a 32-bit target) must never wrap the count to
    /// zero while a live `Ref` still reads the value. Each in-flight
    /// `fetch_add` adds at most one above the limit before it backs out,
    /// so the count stays far from the wrap.
    pub(super) const MAX_READERS: usize = {
        let std_limit = (1 << 30) - 2;
        let half_range = usize::MAX / READER / 2;
        if std_limit < half_range {
            std_limit
        } else {
            half_range
        }
    };

    pub(super) fn readers(w: usize) -> usize {
        w / READER
    }

    /// Neither readers nor a writer: a writer may take it.
    pub(super) fn free(w: usize) -> bool {
        readers(w) == 0 && w & WRITER == 0
    }
}
use bits::{MAX_READERS, PARKED, READER, RETIRED, WANT_WRITE, WRITER};

/// Where threads sleep while a slot's word keeps them out (one per
/// channel, shared by its slots). A waiter sets `PARKED` in the word
/// while holding `lock` and sleeps on `cv`; whoever clears `PARKED` in
/// an unlock takes `lock` and wakes them all. The word's bit and the
/// unlock are read-modify-writes of one word, so either the waiter's
/// `fetch_or` sees the unlock (and does not sleep), or the unlock sees
/// `PARKED` (and wakes it, after it sleeps: it holds `lock` until then).
#[derive(Default)]
pub(crate) struct Parking {
    lock: Mutex<()>,
    cv: Condvar,
}

impl Parking {
    pub(crate) fn new() -> Self {
        Parking {
            lock: Mutex::new(()),
            cv: Condvar::new(),
        }
    }

    fn wake_all(&self) {
        drop(self.lock.lock());
        self.cv.notify_all();
    }
}

/// What a read lock found (the word before the reader counted itself).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Read {
    /// Locked: the value was current during the call.
    Locked,
    /// Not current any more: unlock and borrow the new current slot.
    Retired,
    /// A writer holds or waits for it: unlock, wait, retry.
    Blocked,
    /// Too many readers ([`bits::MAX_READERS`]): unlock and give up
    /// (`borrow` panics, `Debug` prints `<locked>`, as std's `RwLock`).
    Full,
}

/// A value and the word that guards it.
pub(crate) struct Slot<T> {
    word: AtomicUsize,
    entry: UnsafeCell<Entry<T>>,
}

// SAFETY: the entry is reached only under the word's protocol: `&Entry`
// by readers counted in the word (many threads at once: `T: Sync`) and
// `&mut Entry` by the one writer holding `WRITER` (which may drop or
// replace the value on any thread: `T: Send`), as std's `RwLock<T>`.
unsafe impl<T: Send + Sync> Sync for Slot<T> {}

// A panic never leaves an entry half-written under our protocol in a way
// a later reader could see as broken (a `send_modify` closure's partial
// change stays visible, as tokio's, which does not poison either): as
// std's `RwLock`, which is unwind-safe whatever `T`.
impl<T> core::panic::RefUnwindSafe for Slot<T> {}
impl<T> core::panic::UnwindSafe for Slot<T> {}

impl<T> Slot<T> {
    /// A slot holding `entry`, unlocked (the channel's first).
    pub(crate) fn new(entry: Entry<T>) -> Self {
        Slot {
            word: AtomicUsize::new(0),
            entry: UnsafeCell::new(entry),
        }
    }

    /// A new slot, write-locked by the caller.
    pub(crate) fn new_written(entry: Entry<T>) -> Self {
        Slot {
            word: AtomicUsize::new(WRITER),
            entry: UnsafeCell::new(entry),
        }
    }

    /// Counts the caller as a reader and says what it found. The caller
    /// holds a read lock only for [`Read::Locked`]; in every case it
    /// calls [`read_unlock`](Slot::read_unlock) once (for the other
    /// outcomes, at once: the back-out).
    #[inline]
    pub(crate) fn read_lock(&self) -> Read {
        // Acquire: pairs with the Release of the last write unlock, so the
        // entry it wrote is visible to this reader.
        let old = self.word.fetch_add(READER, Ordering::Acquire);
        // One test and one compare on the common path: no flag, and a
        // count below the limit (the flags are the low bits, so `old`
        // itself compares with the limit's word).
        if old & (WRITER | WANT_WRITE | RETIRED) == 0 && old < MAX_READERS * READER {
            Read::Locked
        } else {
            Self::not_locked(old)
        }
    }

    /// [`read_lock`](Slot::read_lock)'s other outcomes.
    #[cold]
    fn not_locked(old: usize) -> Read {
        if bits::readers(old) >= MAX_READERS {
            Read::Full
        } else if old & RETIRED != 0 && old & WRITER == 0 {
            // Even with `WANT_WRITE`: a `send_modify` waiting on a replaced
            // slot must not hold up borrows of the current one.
            Read::Retired
        } else {
            Read::Blocked
        }
    }

    /// Uncounts a reader (after [`read_lock`](Slot::read_lock), whatever
    /// it returned). If it was the last reader of a retired slot, empties
    /// it and returns the value for the caller to drop (outside any
    /// lock: `T::drop` may use the channel); if it was the last reader
    /// and someone sleeps, wakes them.
    #[inline]
    pub(crate) fn read_unlock(&self, parking: &Parking) -> Option<T> {
        // Release: pairs with the Acquire of the next writer (`try_write`,
        // `try_empty`, `write_wait`): this reader's reads of the entry
        // happen before it is written or dropped. The fetch_subs of
        // readers and this one form a release sequence, so a writer that
        // reads a later value of the word synchronises with all of them.
        let old = self.word.fetch_sub(READER, Ordering::Release);
        debug_assert!(bits::readers(old) > 0, "a reader was counted");
        if old & (RETIRED | PARKED) == 0 || bits::readers(old) != 1 {
            return None;
        }
        self.last_reader_left(old, parking)
    }

    #[cold]
    fn last_reader_left(&self, old: usize, parking: &Parking) -> Option<T> {
        if old & PARKED != 0 {
            self.unpark(parking);
        }
        if old & RETIRED != 0 && old & WRITER == 0 {
            return self.try_empty(parking);
        }
        None
    }

    /// Clears `PARKED` and wakes the sleepers (who re-check the word).
    fn unpark(&self, parking: &Parking) {
        // Relaxed: the bit carries no data; the RMW order on the word and
        // `parking`'s mutex order it against the sleeper's `fetch_or`.
        self.word.fetch_and(!PARKED, Ordering::Relaxed);
        parking.wake_all();
    }

    /// Retires the slot (the sender, holding the senders' lock, after it
    /// made another slot current) and empties it if nobody holds it.
    pub(crate) fn retire(&self, parking: &Parking) -> Option<T> {
        // Release: pairs with `read_lock`'s Acquire. A reader that finds
        // `RETIRED` (in this RMW's release sequence) then loads `current`
        // after the sender's store of the new slot, so its retry does not
        // find this slot again (without it, loom shows a reader spinning
        // on a stale `current`). For the emptying itself only the total
        // order of RMWs on this word matters (module docs); `try_empty`
        // acquires before touching the entry.
        let old = self.word.fetch_or(RETIRED, Ordering::Release);
        debug_assert!(old & RETIRED == 0, "only a current slot is retired");
        if old & PARKED != 0 {
            // A borrow asleep behind a `send_modify` waiting on this slot
            // may now move to the new current slot instead (`wait_readable`
            // lets it go once the slot is retired and not write-locked).
            self.unpark(parking);
        }
        if bits::free(old) {
            return self.try_empty(parking);
        }
        None
    }

    /// Takes the write lock of a retired slot nobody holds and drops its
    /// value; gives up if the word shows a holder (who empties it when
    /// it leaves, module docs) or the slot is current again.
    fn try_empty(&self, parking: &Parking) -> Option<T> {
        // Relaxed: a first guess; only the compare-exchange below decides
        // (and acquires), and a failed one re-reads the word (Relaxed too:
        // nothing is touched before a success).
        let mut w = self.word.load(Ordering::Relaxed);
        loop {
            if !bits::free(w) || w & RETIRED == 0 {
                return None;
            }
            // Acquire: pairs with the readers' Release unlocks (the
            // release sequence on the word): their reads of the value
            // happen before we drop it.
            match self.word.compare_exchange(
                w,
                (w | WRITER) & !WANT_WRITE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => w = now,
            }
        }
        // SAFETY: we hold `WRITER` (taken above): no reader or writer
        // reaches the entry until `write_unlock`.
        let value = unsafe { self.entry_mut() }.value.take();
        self.write_unlock(parking, false);
        value
    }

    /// Takes the write lock if nobody holds it (std's `try_write`).
    pub(crate) fn try_write(&self) -> bool {
        // Relaxed: a first guess, as in `try_empty`; the compare-exchange
        // decides and acquires.
        let mut w = self.word.load(Ordering::Relaxed);
        loop {
            if !bits::free(w) {
                return false;
            }
            // Acquire: pairs with the Release unlocks of the readers and
            // writers before us (their accesses to the entry come first).
            match self.word.compare_exchange(
                w,
                (w | WRITER) & !WANT_WRITE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => w = now,
            }
        }
    }

    /// Takes the write lock, sleeping while others hold it; new readers
    /// wait meanwhile (`WANT_WRITE`). Holds no other lock while it waits
    /// (lock order in `shared.rs`).
    pub(crate) fn write_wait(&self, parking: &Parking) {
        while !self.try_write() {
            let guard = parking.lock.lock();
            // Relaxed: the RMW order on the word decides (`Parking`).
            let w = self.word.fetch_or(WANT_WRITE | PARKED, Ordering::Relaxed);
            if bits::free(w) {
                continue;
            }
            drop(parking.cv.wait(guard));
        }
    }

    /// Waits until a reader may try again: the word shows no writer and
    /// no waiting writer, or no writer on a retired slot (the reader then
    /// moves to the current slot). Sleeps after a short spin.
    pub(crate) fn wait_readable(&self, parking: &Parking) {
        let ok = |w: usize| w & WRITER == 0 && (w & WANT_WRITE == 0 || w & RETIRED != 0);
        // A `send`'s write is a few stores long: spin a little first (not
        // under loom, where a spin is only more states).
        #[cfg(not(ring_loom))]
        for _ in 0..64 {
            // Relaxed: a hint; `read_lock` acquires.
            if ok(self.word.load(Ordering::Relaxed)) {
                return;
            }
            ring_core::sync::spin_loop();
        }
        let mut guard = parking.lock.lock();
        loop {
            // Relaxed: the RMW order on the word decides (`Parking`).
            let w = self.word.fetch_or(PARKED, Ordering::Relaxed);
            if ok(w) {
                return;
            }
            guard = parking.cv.wait(guard);
        }
    }

    /// Releases the write lock; `reopen` also clears `RETIRED` (a `send`
    /// made this reused slot current). Wakes sleepers.
    pub(crate) fn write_unlock(&self, parking: &Parking, reopen: bool) {
        let clear = if reopen { WRITER | RETIRED } else { WRITER };
        // Release: pairs with the Acquire of the next reader's
        // `read_lock` and writer's lock: what we wrote is visible to them.
        let old = self.word.fetch_and(!(clear | PARKED), Ordering::Release);
        debug_assert!(old & WRITER != 0, "the caller held the write lock");
        if old & PARKED != 0 {
            parking.wake_all();
        }
    }

    /// The entry, for a reader.
    ///
    /// # Safety
    ///
    /// The caller holds a read lock ([`Read::Locked`]) or the write lock
    /// for as long as the borrow lives.
    pub(crate) unsafe fn entry(&self) -> &Entry<T> {
        // SAFETY: per the caller's contract, no writer holds the word (or
        // the caller is the writer) while the borrow lives.
        self.entry.with(|p| unsafe { &*p })
    }

    /// The entry, for the writer.
    ///
    /// # Safety
    ///
    /// The caller holds the write lock (`WRITER`) for as long as the
    /// borrow lives, and makes no other borrow of the entry meanwhile.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn entry_mut(&self) -> &mut Entry<T> {
        // SAFETY: per the caller's contract, the write lock excludes every
        // other access while the borrow lives.
        self.entry.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(ring_loom)))]
mod tests {
    use super::*;

    /// A hostile user leaks `Ref`s (`mem::forget`) until the reader count
    /// is about to wrap (2^28 of them on a 32-bit target): the count must
    /// never wrap to zero, or a writer gets in while a live `Ref` reads
    /// the value (std's `RwLock`, and so tokio's watch, panics instead).
    /// Starts three below the largest count the word holds, as if that
    /// many `Ref`s were leaked, and keeps every read lock it gets.
    #[test]
    fn leaked_readers_never_wrap_the_count_to_let_a_writer_in() {
        let parking = Parking::new();
        let slot = Slot::new(Entry {
            value: Some(1_u32),
            version: Version::INITIAL,
        });
        let start = (usize::MAX / READER - 3) * READER;
        slot.word.store(start, Ordering::Relaxed);
        let mut refused = false;
        for held in 1..=4 {
            let got = slot.read_lock();
            if got != Read::Locked {
                // The caller's back-out: the word is as it was.
                assert!(slot.read_unlock(&parking).is_none());
                assert_eq!(
                    slot.word.load(Ordering::Relaxed),
                    start + (held - 1) * READER
                );
                refused = true;
                break;
            }
            assert!(
                !slot.try_write(),
                "a writer got in with {held} more live readers: the count wrapped"
            );
        }
        assert!(refused, "the lock was granted on a full count");
    }

    /// tokio's `borrow` is std's `RwLock::read`, which refuses the
    /// 2^30 - 1st reader (futex `RwLock`, 64-bit Linux): ours grants
    /// exactly as many and refuses the next one, the count unchanged.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn the_reader_limit_is_std_rwlocks() {
        assert_eq!(MAX_READERS, (1 << 30) - 2);
        let parking = Parking::new();
        let slot = Slot::new(Entry {
            value: Some(1_u32),
            version: Version::INITIAL,
        });
        // As if MAX_READERS - 1 `Ref`s were leaked.
        slot.word
            .store((MAX_READERS - 1) * READER, Ordering::Relaxed);
        assert!(
            slot.read_lock() == Read::Locked,
            "the last reader std allows"
        );
        assert!(slot.read_lock() == Read::Full, "one more than std allows");
        assert!(slot.read_unlock(&parking).is_none());
        assert_eq!(slot.word.load(Ordering::Relaxed), MAX_READERS * READER);
    }
}
