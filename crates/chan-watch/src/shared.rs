//! What every handle of one channel points to, and the slot protocol that
//! lets a [`Ref`] hold no lock on the *current* value.
//!
//! The value lives in one of a few **slots**, each a reader-writer lock
//! around (value, version); `current` points at the slot that holds the
//! latest value. A [`Ref`] is a read guard on the slot it was made from,
//! so a borrow costs what tokio's does (a read lock and an unlock), and:
//!
//! * `send` never waits for a `Ref`: it writes in place when it can take
//!   the current slot's write lock at once (`try_write`), and otherwise
//!   writes into another free slot (a new one if every slot is held by
//!   some `Ref`) and makes that one current. Readers still holding the
//!   old slot keep showing its value, which is dropped with the last of
//!   them (or by the next send that finds the slot free);
//! * `send_modify`, `send_if_modified` and `send_replace` need the value
//!   itself for any `T` (no `T: Clone` in tokio's signatures), so they take
//!   the current slot's write lock and wait for its `Ref`s, as tokio's do:
//!   with a `Ref` of the current value alive on the same thread, they wait
//!   for ever. They wait holding nothing else, so a `send` meanwhile does
//!   not queue behind them: it moves to another slot, and the waiting
//!   modification, once in, finds its slot no longer current, drops the
//!   value the send replaced and starts again on the new slot. (So it
//!   may wait for the `Ref`s of a value a `send` has already replaced;
//!   each new start follows a `send`.)
//!
//! Borrow: load `current`, read-lock that slot, re-load `current`; if it
//! moved meanwhile, unlock, release the old slot as a `Ref`'s drop does
//! (`release`: the reader that leaves a replaced slot last empties it)
//! and retry (a send made another slot current between the two loads).
//! A slot that is current always holds a value:
//! a sender fills a slot before it publishes it, and a slot is emptied
//! only under its write lock after checking it is not current, which
//! only a sender holding that write lock can change.
//!
//! Slots are never freed before the channel is: a `Ref` may point at any
//! of them, so there is nothing to reclaim but their values. Senders
//! serialise on `slots` (the list, a mutex readers never touch), and no
//! sender blocks on a slot's lock while it holds `slots` (lock order: a
//! slot's write lock, then `slots`).
//!
//! [`Ref`]: crate::Ref

use core::fmt;
use core::ptr;
use std::panic;

use ring_core::Doorbell;
use ring_core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering, fence};
use ring_core::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use crate::error::RecvError;
use crate::state::{AtomicState, Version};

/// One slot: a value (or none, once dropped) and the version it has.
pub(crate) struct Entry<T> {
    pub(crate) value: Option<T>,
    pub(crate) version: Version,
}

pub(crate) type Slot<T> = RwLock<Entry<T>>;

pub(crate) struct Shared<T> {
    /// The slot holding the latest value; points into `slots`. Stored
    /// (Release) by a sender holding that slot's write lock, after filling
    /// it; loaded (Acquire) by borrows.
    current: AtomicPtr<Slot<T>>,
    /// Every slot ever made, in `Arc`s so their addresses are stable; the
    /// senders' lock.
    slots: Mutex<Vec<Arc<Slot<T>>>>,
    /// Version and closed bit (`state.rs`).
    pub(crate) state: AtomicState,
    /// Live receivers. Relaxed counts, as tokio's; the last receiver's drop
    /// rings `notify_tx` (a `SeqCst` decrement: the doorbell's Dekker pair).
    pub(crate) ref_count_rx: AtomicUsize,
    /// Live senders; the last one's drop sets the closed bit.
    pub(crate) ref_count_tx: AtomicUsize,
    /// Live `WeakSender`s (a count for users).
    pub(crate) ref_count_weak: AtomicUsize,
    /// Receivers waiting for a change (symmetric: every waiting receiver
    /// registers once per change, `Doorbell::symmetric`'s case).
    pub(crate) notify_rx: Doorbell,
    /// Senders waiting in `closed()`.
    pub(crate) notify_tx: Doorbell,
}

/// What a send displaced, dropped by the caller after every lock is
/// released (`T::drop` may use the channel).
pub(crate) type Displaced<T> = [Option<T>; 2];

impl<T> Shared<T> {
    pub(crate) fn new(init: T) -> Self {
        let first = Arc::new(RwLock::new(Entry {
            value: Some(init),
            version: Version::INITIAL,
        }));
        Shared {
            current: AtomicPtr::new(Arc::as_ptr(&first).cast_mut()),
            slots: Mutex::new(vec![first]),
            state: AtomicState::new(),
            ref_count_rx: AtomicUsize::new(1),
            ref_count_tx: AtomicUsize::new(1),
            ref_count_weak: AtomicUsize::new(0),
            notify_rx: Doorbell::symmetric(),
            notify_tx: Doorbell::symmetric(),
        }
    }

    fn current(&self) -> *const Slot<T> {
        // Acquire: pairs with the Release store of a sender that filled
        // the slot first.
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

    /// A read guard on the current slot, and the slot (module docs).
    pub(crate) fn read(&self) -> (RwLockReadGuard<'_, Entry<T>>, &Slot<T>) {
        loop {
            let p = self.current();
            // SAFETY: loaded from `current`.
            let slot = unsafe { self.slot(p) };
            let guard = slot.read();
            if ptr::eq(self.current(), p) {
                debug_assert!(guard.value.is_some(), "a current slot holds a value");
                return (guard, slot);
            }
            // A send made another slot current meanwhile. Our read lock
            // may be what made the old slot's last `Ref` (or the send
            // itself) fail to empty it: we are then its last reader, so
            // we release it as a `Ref` does.
            drop(guard);
            self.release(slot);
        }
    }

    /// A read guard on the current slot if it can be had without waiting
    /// (std's `try_read`: none while a writer holds or waits for it), for
    /// `Debug`, which must not block as tokio's does not. The caller drops
    /// the guard and then calls [`release`](Shared::release), as a `Ref`
    /// does.
    fn try_read(&self) -> Option<(RwLockReadGuard<'_, Entry<T>>, &Slot<T>)> {
        loop {
            let p = self.current();
            // SAFETY: loaded from `current`.
            let slot = unsafe { self.slot(p) };
            let guard = slot.try_read()?;
            if ptr::eq(self.current(), p) {
                debug_assert!(guard.value.is_some(), "a current slot holds a value");
                return Some((guard, slot));
            }
            drop(guard);
            self.release(slot);
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
            let mut guard = slot.write();
            let slots = self.slots.lock();
            // Relaxed: only senders store `current`, under `slots`.
            if !ptr::eq(self.current.load(Ordering::Relaxed), p) {
                // Replaced by a `send` while we waited: not current, and
                // only a sender holding this write lock could make it so.
                let replaced = guard.value.take();
                drop(slots);
                drop(guard);
                // Outside the locks: `T::drop` may use the channel.
                drop(replaced);
                continue;
            }
            let value = guard.value.as_mut().expect("a current slot holds a value");
            match panic::catch_unwind(panic::AssertUnwindSafe(|| modify(value))) {
                Ok(true) => {}
                Ok(false) => return false,
                Err(panicked) => {
                    drop(guard);
                    drop(slots);
                    panic::resume_unwind(panicked);
                }
            }
            // Under the slot's write lock: a borrow reads the version with
            // the value. Exact: every bump happens under `slots`.
            guard.version = self.state.load().version().next();
            self.state.increment_version_while_locked();
            return true;
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
        if let Some(mut guard) = unsafe { self.slot(cur) }.try_write() {
            let old = guard.value.replace(value);
            guard.version = next;
            self.state.increment_version_while_locked();
            return [old, None];
        }
        // Some `Ref` (or a borrow in progress) holds the current slot.
        let mut target = None;
        for s in slots.iter() {
            let p = Arc::as_ptr(s);
            if !ptr::eq(p, cur) {
                // SAFETY: `p` points into `slots`, alive as `self` is.
                if let Some(g) = unsafe { self.slot(p) }.try_write() {
                    target = Some((p, g));
                    break;
                }
            }
        }
        let (p, mut guard) = match target {
            Some(t) => t,
            None => {
                let fresh = Arc::new(RwLock::new(Entry {
                    value: None,
                    version: next,
                }));
                let p = Arc::as_ptr(&fresh);
                slots.push(fresh);
                // SAFETY: just pushed into `slots`; nobody else knows it.
                let g = unsafe { self.slot(p) }
                    .try_write()
                    .expect("a new slot is free");
                (p, g)
            }
        };
        let stale = guard.value.replace(value);
        guard.version = next;
        // Published before the bump: a receiver that sees the new version
        // (Acquire) finds `current` at the new slot, then waits for our
        // write lock to read it.
        // Release: pairs with `current()`'s Acquire.
        self.current.store(p.cast_mut(), Ordering::Release);
        self.state.increment_version_while_locked();
        drop(guard);
        // The old current value goes now if no `Ref` holds it any more
        // (else with its last `Ref`): not current, and only we make a
        // slot current.
        // SeqCst fence between publishing `p` and looking at the old
        // slot's lock word: pairs with the fence in `release` between a
        // reader's unlock and its load of `current` (a store-buffering
        // pair). Either this `try_write` sees that reader's unlock, or
        // the reader sees the new `current` and empties the slot itself.
        fence(Ordering::SeqCst);
        // SAFETY: `cur` points into `slots`.
        let old = unsafe { self.slot(cur) }
            .try_write()
            .and_then(|mut g| g.value.take());
        drop(slots);
        [stale, old]
    }

    /// Called by every reader of `slot` after it unlocks it (a `Ref`'s
    /// drop, a borrow's retry, `Debug`): drops the slot's value if the
    /// slot is no longer current and nobody else holds it.
    ///
    /// Why a replaced value is never left behind: a slot stops being
    /// current only in `store`, which then `try_write`s it; and every
    /// reader, after unlocking, `try_write`s it too unless it is still
    /// current. The SeqCst fences here and in `store` order each reader's
    /// unlock and load of `current` against the store of `current` and
    /// the sender's `try_write`: one of the two sees the other. A
    /// `try_write` fails only while someone holds the lock: a reader,
    /// which comes here after it unlocks; `modify`, which empties a slot
    /// it finds no longer current itself; or a `store` reusing the slot
    /// (which replaces the value). So the last holder to leave finds the
    /// slot free and empties it. (The fences reason about the lock word
    /// of std's `RwLock`: an unlock is an atomic write to it and
    /// `try_write` reads it, fails only while the lock is held, never
    /// spuriously.)
    pub(crate) fn release(&self, slot: &Slot<T>) {
        // SeqCst fence after the caller's unlock, before the load of
        // `current`: the other half of the pair in `store` (above).
        fence(Ordering::SeqCst);
        if ptr::eq(self.current(), slot) {
            return;
        }
        let Some(mut guard) = slot.try_write() else {
            return;
        };
        // Re-checked under the write lock: a sender makes a slot current
        // only while holding its write lock.
        if ptr::eq(self.current(), slot) {
            return;
        }
        let value = guard.value.take();
        drop(guard);
        drop(value);
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

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `try_read`, as std's `RwLock` `Debug` (so tokio's): prints
        // `<locked>` rather than wait, e.g. inside a `send_modify` closure
        // on this thread or behind a `send_modify` waiting for a `Ref`.
        let held = self.try_read();
        let state = self.state.load();
        let value = held.as_ref().and_then(|(guard, _)| guard.value.as_ref());
        let res = f
            .debug_struct("Shared")
            .field("value", &LikeTokiosLock(value))
            .field("version", &state.version())
            .field("is_closed", &state.is_closed())
            .field("ref_count_rx", &self.receiver_count())
            .finish();
        if let Some((guard, slot)) = held {
            drop(guard);
            // As a `Ref`'s drop: a send may have left this slot meanwhile.
            self.release(slot);
        }
        res
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
