//! What every handle of one channel points to, and the slot protocol that
//! lets a [`Ref`] hold no lock on the *current* value.
//!
//! The value lives in one of a few **slots**, each (value, version) behind
//! a reader-writer word of our own (`slot.rs`); `current` points at the
//! slot that holds the latest value. A [`Ref`] holds a read lock on the
//! slot it was made from, so a borrow costs what tokio's does (two
//! read-modify-writes on one line: the lock's `fetch_add` and the
//! unlock's `fetch_sub`), and:
//!
//! * `send` never waits for a `Ref`: it writes in place when it can take
//!   the current slot's write lock at once (`try_write`), and otherwise
//!   writes into another free slot (a new one if every slot is held by
//!   some `Ref`) and makes that one current, then **retires** the old
//!   one (a bit in its word). Readers still holding the old slot keep
//!   showing its value, which the last of them drops when it unlocks (or
//!   the sender, if none held it: `slot.rs` says why one of the two
//!   always sees the other);
//! * `send_modify`, `send_if_modified` and `send_replace` need the value
//!   itself for any `T` (no `T: Clone` in tokio's signatures), so they take
//!   the current slot's write lock and wait for its `Ref`s, as tokio's do:
//!   with a `Ref` of the current value alive on the same thread, they wait
//!   for ever. While one waits, new borrows of that slot wait too (std's
//!   writer-preferring lock does the same; `Debug` prints `<locked>`).
//!   They wait holding nothing else (asleep on the channel's `Parking`,
//!   not spinning), so a `send` meanwhile does not queue behind them: it
//!   moves to another slot, and the waiting modification, once in, finds
//!   its slot no longer current, drops the value the send replaced and
//!   starts again on the new slot. (So it may wait for the `Ref`s of a
//!   value a `send` has already replaced; each new start follows a
//!   `send`.)
//!
//! Borrow: load `current` and read-lock that slot; the lock's `fetch_add`
//! returns the word, and if the slot is retired the reader backs out
//! (unlocking as a `Ref`'s drop does: if it was the last reader, it
//! empties the slot) and retries on the new `current`; if a writer holds
//! or waits for the slot it backs out and waits (a short spin, then
//! asleep) and retries. No second load of `current` is needed: a slot
//! with neither bit was current during the borrow (`slot.rs`). A slot
//! that is current always holds a value: a sender fills a slot before it
//! publishes it, and a slot is emptied only by a holder of its write lock
//! that saw it retired (retired and not write-locked means not current:
//! a reused slot loses the bit only in the unlock that ends the send
//! making it current), or by `send_modify` after checking it is not
//! current under `slots`.
//!
//! Slots are never freed before the channel is: a `Ref` may point at any
//! of them, so there is nothing to reclaim but their values. Senders
//! serialise on `slots` (the list, a mutex readers never touch), and no
//! sender blocks on a slot's lock while it holds `slots` (lock order: a
//! slot's write lock, then `slots`; `Parking`'s mutex is a leaf, taken
//! only to sleep on or to wake a slot's word).
//!
//! [`Ref`]: crate::Ref

use core::fmt;
use core::ptr;
use std::panic;

use ring_core::ShardedDoorbell;
use ring_core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use ring_core::sync::{Arc, Mutex};

use crate::error::RecvError;
pub(crate) use crate::slot::Entry;
use crate::slot::{Parking, Read, Slot};
use crate::state::{AtomicState, Version};

pub(crate) struct Shared<T> {
    /// The slot holding the latest value; points into `slots`. Stored
    /// (Release) by a sender holding that slot's write lock, after filling
    /// it; loaded (Acquire) by borrows.
    current: AtomicPtr<Slot<T>>,
    /// Every slot ever made, in `Arc`s so their addresses are stable; the
    /// senders' lock.
    slots: Mutex<Vec<Arc<Slot<T>>>>,
    /// Where readers and `send_modify` sleep while a slot's word keeps
    /// them out (`slot.rs`).
    parking: Parking,
    /// Version and closed bit (`state.rs`).
    pub(crate) state: AtomicState,
    /// Live receivers. Relaxed counts, as tokio's; the last receiver's drop
    /// rings `notify_tx` (a `SeqCst` decrement: the doorbell's Dekker pair).
    pub(crate) ref_count_rx: AtomicUsize,
    /// Live senders; the last one's drop sets the closed bit.
    pub(crate) ref_count_tx: AtomicUsize,
    /// Live `WeakSender`s (a count for users).
    pub(crate) ref_count_weak: AtomicUsize,
    /// Receivers waiting for a change: every waiting receiver registers
    /// once per change, so registrations are sharded by thread (ring-core's
    /// `ShardedDoorbell`: each worker's registrations take its own shard's
    /// mutex, and a send rings every shard).
    pub(crate) notify_rx: ShardedDoorbell,
    /// Senders waiting in `closed()` (the same doorbell type, so one
    /// `Waiter` serves both).
    pub(crate) notify_tx: ShardedDoorbell,
}

/// What a send displaced, dropped by the caller after every lock is
/// released (`T::drop` may use the channel).
pub(crate) type Displaced<T> = [Option<T>; 2];

impl<T> Shared<T> {
    pub(crate) fn new(init: T) -> Self {
        let first = Arc::new(Slot::new(Entry {
            value: Some(init),
            version: Version::INITIAL,
        }));
        Shared {
            current: AtomicPtr::new(Arc::as_ptr(&first).cast_mut()),
            slots: Mutex::new(vec![first]),
            parking: Parking::new(),
            state: AtomicState::new(),
            ref_count_rx: AtomicUsize::new(1),
            ref_count_tx: AtomicUsize::new(1),
            ref_count_weak: AtomicUsize::new(0),
            notify_rx: ShardedDoorbell::new(),
            notify_tx: ShardedDoorbell::new(),
        }
    }

    fn current(&self) -> *const Slot<T> {
        // Acquire: pairs with the Release store of a sender that made the
        // slot (and filled it) first.
        self.current.load(Ordering::Acquire)
    }

    /// A slot of this channel by address.
    ///
    /// # Safety
    ///
    /// `p` points into an `Arc` of `slots` (every value of `current` does).
    unsafe fn slot(&self, p: *const Slot<T>) -> &Slot<T> {
        // SAFETY: the caller's pointer is into an `Arc` held by `slots`,
        // which is never shrunk before `self` is dropped; the returned
        // borrow is bounded by `&self`.
        unsafe { &*p }
    }

    /// Read-locks the current slot (module docs): the caller reads its
    /// entry and then calls [`read_unlock`](Shared::read_unlock).
    pub(crate) fn read(&self) -> &Slot<T> {
        loop {
            // SAFETY: loaded from `current`.
            let slot = unsafe { self.slot(self.current()) };
            match slot.read_lock() {
                Read::Locked => {
                    debug_assert!(
                        // SAFETY: read-locked just above.
                        unsafe { slot.entry() }.value.is_some(),
                        "a slot read-locked without RETIRED holds a value"
                    );
                    return slot;
                }
                // A send made another slot current: back out (emptying the
                // slot if we were its last reader) and borrow that one.
                Read::Retired => self.read_unlock(slot),
                Read::Blocked => {
                    self.read_unlock(slot);
                    slot.wait_readable(&self.parking);
                }
                Read::Full => {
                    self.read_unlock(slot);
                    too_many_readers();
                }
            }
        }
    }

    /// Where the slots' sleepers wait, for a [`Ref`](crate::Ref)'s unlock
    /// (which calls `Slot::read_unlock` itself: its slot's `T` is erased).
    pub(crate) fn parking(&self) -> &Parking {
        &self.parking
    }

    /// Unlocks a read of `slot` (a borrow's back-out, `Debug`); the last
    /// reader of a replaced value drops it here.
    #[inline]
    pub(crate) fn read_unlock(&self, slot: &Slot<T>) {
        // Dropped outside every lock (`T::drop` may use the channel).
        drop(slot.read_unlock(&self.parking));
    }

    /// A read lock on the current slot if it can be had without waiting
    /// (std's `try_read`: none while a writer holds or waits for it), for
    /// `Debug`, which must not block as tokio's does not. The caller
    /// calls [`read_unlock`](Shared::read_unlock) after it.
    fn try_read(&self) -> Option<&Slot<T>> {
        loop {
            // SAFETY: loaded from `current`.
            let slot = unsafe { self.slot(self.current()) };
            match slot.read_lock() {
                Read::Locked => return Some(slot),
                Read::Retired => self.read_unlock(slot),
                Read::Blocked | Read::Full => {
                    self.read_unlock(slot);
                    return None;
                }
            }
        }
    }

    /// `send_if_modified`: runs `modify` on the current value under its
    /// slot's write lock (waiting for its `Ref`s, as tokio's write lock
    /// does); bumps the version if `modify` returns `true`.
    ///
    /// It waits for the write lock holding nothing else, so that `send`
    /// (which needs only the senders' lock `slots`) never queues behind a
    /// `Ref` through it; then it takes `slots`, so that `current` stays
    /// put, and checks that its slot is still current. If a `send` moved
    /// to another slot meanwhile, the value it replaced is ours to drop (we
    /// hold its slot's write lock: no `Ref` shows it, and the slot cannot
    /// be made current again under us) and we start again on the new slot.
    /// Lock order: a slot's write lock, then `slots`; `store` holds `slots`
    /// and only ever `try_write`s a slot, so the two cannot deadlock.
    ///
    /// A panic in `modify` is resumed after both locks are released
    /// (nothing poisoned, no version bumped); the partial change stays.
    pub(crate) fn modify(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        loop {
            let p = self.current();
            // SAFETY: loaded from `current`.
            let slot = unsafe { self.slot(p) };
            slot.write_wait(&self.parking);
            let slots = self.slots.lock();
            // SAFETY: we hold the slot's write lock until `write_unlock`
            // below, and make no other borrow of its entry meanwhile.
            let entry = unsafe { slot.entry_mut() };
            // Relaxed: only senders store `current`, under `slots`.
            if !ptr::eq(self.current.load(Ordering::Relaxed), p) {
                // Replaced by a `send` while we waited: retired, and only
                // a sender holding this write lock could reuse it.
                let replaced = entry.value.take();
                drop(slots);
                slot.write_unlock(&self.parking, false);
                // Outside the locks: `T::drop` may use the channel.
                drop(replaced);
                continue;
            }
            let value = entry.value.as_mut().expect("a current slot holds a value");
            let modified = match panic::catch_unwind(panic::AssertUnwindSafe(|| modify(value))) {
                Ok(modified) => modified,
                Err(panicked) => {
                    slot.write_unlock(&self.parking, false);
                    drop(slots);
                    panic::resume_unwind(panicked);
                }
            };
            if modified {
                // Under the slot's write lock: a borrow reads the version
                // with the value. Exact: every bump happens under `slots`.
                entry.version = self.state.load().version().next();
                self.state.increment_version_while_locked();
            }
            slot.write_unlock(&self.parking, false);
            drop(slots);
            return modified;
        }
    }

    /// `send`'s store: in place if the current slot is free, else into
    /// another slot made current. Never waits for a `Ref`. Returns what
    /// it displaced, for the caller to drop outside the locks.
    pub(crate) fn store(&self, value: T) -> Displaced<T> {
        let mut slots = self.slots.lock();
        // Relaxed: only senders store `current`, under `slots`.
        let cur = self.current.load(Ordering::Relaxed).cast_const();
        let next = self.state.load().version().next();
        // SAFETY: loaded from `current`.
        let cur_slot = unsafe { self.slot(cur) };
        if cur_slot.try_write() {
            // SAFETY: write-locked just above, unlocked below.
            let entry = unsafe { cur_slot.entry_mut() };
            let old = entry.value.replace(value);
            entry.version = next;
            self.state.increment_version_while_locked();
            cur_slot.write_unlock(&self.parking, false);
            return [old, None];
        }
        // Some `Ref` (or a borrow in progress) holds the current slot.
        let mut target = None;
        for s in slots.iter() {
            let p = Arc::as_ptr(s);
            // Every slot but the current one is retired: `try_write` takes
            // one nobody holds.
            if !ptr::eq(p, cur) && s.try_write() {
                target = Some(p);
                break;
            }
        }
        let p = match target {
            Some(p) => p,
            None => {
                let fresh = Arc::new(Slot::new_written(Entry {
                    value: None,
                    version: next,
                }));
                let p = Arc::as_ptr(&fresh);
                slots.push(fresh);
                p
            }
        };
        // SAFETY: `p` points into `slots`.
        let slot = unsafe { self.slot(p) };
        // SAFETY: write-locked above (`try_write` or `new_written`).
        let entry = unsafe { slot.entry_mut() };
        let stale = entry.value.replace(value);
        entry.version = next;
        // Published before the bump, and both before the unlock: a
        // receiver that sees the new version (Acquire) finds `current` at
        // the new slot, then waits for our write lock to read it; and a
        // reused slot loses `RETIRED` only once it is current (`slot.rs`).
        // Release: pairs with `current()`'s Acquire.
        self.current.store(p.cast_mut(), Ordering::Release);
        self.state.increment_version_while_locked();
        slot.write_unlock(&self.parking, true);
        // The old current value goes now if no `Ref` holds it, else with
        // its last `Ref` (`slot.rs`: the retired bit).
        let old = cur_slot.retire(&self.parking);
        drop(slots);
        [stale, old]
    }

    pub(crate) fn receiver_count(&self) -> usize {
        // Relaxed: a count, not a handover (tokio's). `closed()` re-checks it
        // after the doorbell's full fence.
        self.ref_count_rx.load(Ordering::Relaxed)
    }

    /// `Some(result)` if `version` is out of date (and brings it up to
    /// date) or the channel is closed; `None` to wait.
    pub(crate) fn maybe_changed(&self, version: &mut Version) -> Option<Result<(), RecvError>> {
        let state = self.state.load();
        let new_version = state.version();
        if *version != new_version {
            *version = new_version;
            return Some(Ok(()));
        }
        if state.is_closed() {
            return Some(Err(RecvError(())));
        }
        None
    }
}

/// std's `RwLock::read` panics so, and with it tokio's `borrow`: the same
/// message (`slot::bits::MAX_READERS` is std's limit).
#[cold]
#[inline(never)]
fn too_many_readers() -> ! {
    panic!("too many active read locks on RwLock")
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `try_read` with std's `RwLock` rule (so tokio's output): prints
        // `<locked>` rather than wait, e.g. inside a `send_modify` closure
        // on this thread or behind a `send_modify` waiting for a `Ref`.
        // A guard, not a call after the printing: `T::fmt` may panic, and
        // the read lock must go with the unwind (std's guard does), or a
        // later `send_modify` waits for it for ever.
        let held = self.try_read().map(|slot| ReadGuard { shared: self, slot });
        let state = self.state.load();
        // SAFETY: `held` keeps the slot read-locked until it is dropped, at
        // the end of this function, after the last use of `value`.
        let value = held
            .as_ref()
            .and_then(|g| unsafe { g.slot.entry() }.value.as_ref());
        f.debug_struct("Shared")
            .field("value", &LikeTokiosLock(value))
            .field("version", &state.version())
            .field("is_closed", &state.is_closed())
            .field("ref_count_rx", &self.receiver_count())
            .finish()
    }
}

/// A read lock taken by [`Shared::try_read`], released on drop (also
/// when unwinding) as a `Ref`'s: a send may have left the slot meanwhile.
struct ReadGuard<'a, T> {
    shared: &'a Shared<T>,
    slot: &'a Slot<T>,
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        self.shared.read_unlock(self.slot);
    }
}

/// Prints what tokio's `RwLock` adapter over std's prints (`RwLock(RwLock
/// { data: .., poisoned: false, .. })`), so handles' `Debug` output is
/// tokio's. The value is never poisoned: panics are caught before the
/// lock is released.
struct LikeTokiosLock<'a, T>(Option<&'a T>);

impl<T: fmt::Debug> fmt::Debug for LikeTokiosLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Std<'a, T>(Option<&'a T>);
        impl<T: fmt::Debug> fmt::Debug for Std<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut d = f.debug_struct("RwLock");
                match self.0 {
                    Some(v) => d.field("data", v),
                    None => d.field("data", &format_args!("<locked>")),
                };
                d.field("poisoned", &false).finish_non_exhaustive()
            }
        }
        f.debug_tuple("RwLock").field(&Std(self.0)).finish()
    }
}
