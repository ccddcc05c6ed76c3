//! The channel's shared state and its protocol.
//!
//! A ring of `capacity` slots (a power of two), each a one-word lock around
//! `{pos, rem, val}` (`slot.rs`): the position written there, how many
//! receivers have yet to read it, and the value. Values are cloned per
//! receiver, so the `Copy`-only seqlock slot of ring-core does not serve.
//!
//! Sending, with no lock shared by every sender:
//!
//! 1. *claim*: one compare-and-swap on the tail word (`state.rs`) takes
//!    position `q`; it fails while the gate is set and forever once the
//!    channel is closed;
//! 2. read the receiver count `n` (every receiver alive at the claim will
//!    read `q`, or lag past it, or drop);
//! 3. *write*: under slot `q`'s lock, once the slot holds `q - capacity`
//!    (its previous lap), store `pos = q`, `rem = n` and the value;
//! 4. *commit* in order: wait until `committed == q`, then swap in `q + 1`
//!    (`SeqCst`: it is also the store half of the doorbell's Dekker pair);
//! 5. ring the receivers' doorbell: one load when nobody waits;
//! 6. drop the value that was overwritten, outside every lock.
//!
//! Receivers read `committed` to know whether position `next` exists, then
//! lock its slot: `pos == next` is a value (the last reader moves it out
//! instead of cloning, which drops it from the channel as soon as every
//! receiver that will read it has), `pos != next` means it was overwritten:
//! the receiver lags to `tail - capacity`, the oldest value still held.
//!
//! The receiver count changes only under the *gate*: the holder (a
//! subscribe or a receiver drop) sets the gate bit in the tail word, waits
//! for the claims before it to commit, changes the count, and clears the
//! gate. So every position below the gate was counted with the old count,
//! every position above with the new one, and `rem` is exact: a new
//! receiver starts at the gate's position and is counted in every value it
//! will read; a dropped receiver walks its unread positions and decrements
//! each. Subscribing is rare and the gate is held for a few loads; a sender
//! meets it only if it claims during that window.
//!
//! In the lossless mode a sender claims `q` only when the slot's previous
//! lap has been read by every receiver (`rem == 0`), so nothing is ever
//! overwritten; senders that find it full queue in `queue.rs`. It looks at
//! the slot under the slot's lock, and claims (step 1), reads the count
//! (2) and writes (3) in that same hold: only the claimer of `q` may write
//! slot `q`, so holding on saves a second acquire and release per value.

use std::mem;

use ring_core::sync::Mutex;
use ring_core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use ring_core::{CachePadded, Doorbell, WaitStrategy};

use crate::error::TryRecvError;
use crate::queue::SendQueue;
use crate::slot::Slot;
use crate::state::AtomicTail;
use crate::wait::WaitFor;
use ring_core::ShardedDoorbell;

/// Most receivers a channel can have, as tokio.
const MAX_RECEIVERS: usize = usize::MAX >> 2;

/// Why a claim failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ClaimError {
    /// The channel is closed.
    Closed,
    /// Lossless only: the slot's previous lap is unread.
    Full,
}

/// The state every handle of one channel shares.
pub(crate) struct Shared<T> {
    /// The claim word: next position, gate and closed flags.
    tail: CachePadded<AtomicTail>,
    /// Every position below this is written. Swapped in (SeqCst) by the
    /// sender that committed last; loaded (Acquire) by receivers and gate
    /// holders, so the slot writes below it are visible to them.
    committed: CachePadded<AtomicU64>,
    slots: Box<[Slot<T>]>,
    mask: u64,
    lossless: bool,
    /// Live receivers. Changed only under the gate; read by senders after a
    /// claim, whose Acquire orders the read after the last change.
    receivers: AtomicUsize,
    /// Strong senders (`Sender`, lossless senders); the last to go closes.
    senders: AtomicUsize,
    /// `WeakSender`s.
    weak: AtomicUsize,
    /// Serialises gate holders.
    gate: Mutex<()>,
    /// Receivers waiting for a value or the close.
    pub(crate) recv_bell: ShardedDoorbell,
    /// `Closing::drained` waiters: rung when a value is fully read.
    pub(crate) drain_bell: Doorbell,
    /// `Sender::closed` waiters: rung when the last receiver drops.
    pub(crate) gone_bell: Doorbell,
    /// Lossless senders waiting for space.
    pub(crate) send_queue: SendQueue,
}

/// One step of this crate's short waits (a slot lock held by another
/// thread, a claim below ours not yet committed, the gate); `iter` counts
/// the steps. Such a wait ends when another thread finishes a few loads
/// and stores (no user code runs between a claim and its commit) or one
/// clone, unless the kernel preempted that thread. So: exponential PAUSE
/// bursts first (about 700 PAUSEs over 16 steps, a few microseconds), then
/// a few thread yields, then 20 µs sleeps. Yielding for ever was what made
/// the lossless 1→16 bench degrade with another process on the other core:
/// `perf stat -e syscalls:sys_enter_sched_yield` counted 20 000–26 000
/// yields in a 3 s run (all from the slot lock, which then yielded after
/// 32 bare spins) and 83–94 with this wait. A contender that keeps
/// yielding keeps the core from the preempted holder, and with another
/// process runnable each yield may hand that process a time slice; a
/// sleeping one frees the core.
///
/// Out of line and cold: it runs only when a wait is already under way,
/// and keeps its three phases out of `send`'s claim and commit loops.
#[cold]
#[inline(never)]
pub(crate) fn backoff(iter: &mut u32) {
    const SPIN_STEPS: u32 = 16;
    const YIELD_STEPS: u32 = 4;
    if *iter < SPIN_STEPS {
        WaitStrategy::BackoffSpin.wait(*iter);
    } else if *iter < SPIN_STEPS + YIELD_STEPS {
        WaitStrategy::ThreadYield.wait(*iter);
    } else {
        nap();
    }
    *iter = iter.saturating_add(1);
}

/// A short sleep for a waiter whose counterpart is off its core.
#[cfg(not(ring_loom))]
#[cold]
fn nap() {
    std::thread::sleep(std::time::Duration::from_micros(20));
}

/// loom has no clock: yield to the model's scheduler instead.
#[cfg(ring_loom)]
fn nap() {
    ring_core::sync::yield_now();
}

/// Runs a notification when dropped: at the end of the scope, or while
/// unwinding from a waker that panicked in an earlier one, so one user's
/// panicking waker cannot cost another waiter its wake-up.
struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

impl<T> Shared<T> {
    /// A channel of `capacity` slots (a power of two, at least 1), with one
    /// strong sender and no receiver.
    ///
    /// # Panics
    ///
    /// At the caller's line if the slots cannot be allocated (more bytes
    /// than `isize::MAX`, or the allocator refuses): the constructors
    /// promise a panic there, not an abort or a panic inside `alloc`.
    #[track_caller]
    pub(crate) fn new(capacity: usize, lossless: bool) -> Self {
        debug_assert!(capacity.is_power_of_two());
        let cap = capacity as u64;
        let mut slots = Vec::new();
        if slots.try_reserve_exact(capacity).is_err() {
            panic!(
                "broadcast channel: cannot allocate {capacity} slots of {} bytes",
                mem::size_of::<Slot<T>>()
            );
        }
        slots.extend((0..cap).map(|i| Slot::new(i.wrapping_sub(cap))));
        let slots = slots.into_boxed_slice();
        Shared {
            tail: CachePadded::new(AtomicTail::new()),
            committed: CachePadded::new(AtomicU64::new(0)),
            slots,
            mask: cap - 1,
            lossless,
            receivers: AtomicUsize::new(0),
            senders: AtomicUsize::new(1),
            weak: AtomicUsize::new(0),
            gate: Mutex::new(()),
            recv_bell: ShardedDoorbell::new(),
            // Asymmetric: rung on every value freed (a hot path), waited on
            // by a `Closing` handle or `closed()` only.
            drain_bell: Doorbell::new(),
            gone_bell: Doorbell::new(),
            send_queue: SendQueue::new(),
        }
    }

    #[inline]
    fn slot(&self, pos: u64) -> &Slot<T> {
        &self.slots[(pos & self.mask) as usize]
    }

    /// Whether position `pos` is still held for some receiver.
    fn held(&self, pos: u64) -> bool {
        self.slot(pos).with(|s| s.pos == pos && s.rem > 0)
    }

    #[inline]
    fn cap(&self) -> u64 {
        self.mask + 1
    }

    /// The number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    // ---- sending ----

    /// Claims the next position (lossy: whatever the slot holds).
    #[inline(always)]
    pub(crate) fn claim(&self) -> Result<u64, ClaimError> {
        let mut cur = self.tail.load();
        let mut iter = 0;
        loop {
            if cur.closed() {
                return Err(ClaimError::Closed);
            }
            if cur.gated() {
                backoff(&mut iter);
                cur = self.tail.load();
                continue;
            }
            match self.tail.try_claim(cur) {
                Ok(q) => return Ok(q),
                Err(now) => cur = now,
            }
        }
    }

    /// A lossless send: claims the next position only if its slot is free
    /// (every receiver read the previous lap), writes `value` there in the
    /// same hold of the slot's lock, then commits it (`commit`). Returns the
    /// number of receivers it went to.
    ///
    /// One hold of the slot lock for the claim and the write: the free
    /// check must be under the lock anyway, and once the claim succeeds
    /// only this sender may write the slot, so keeping the lock for the
    /// write saves a second acquire and release per value (measured with
    /// callgrind on the lossless bench, see the commit).
    ///
    /// # Errors
    ///
    /// `(Full, value)` when the slot's previous lap is unread; a sender that
    /// then registers in the send queue calls this again before it sleeps
    /// (`queue.rs`: the look under the slot lock is what loses no wake-up).
    /// `(Closed, value)` when the channel is closed, or when there is no
    /// receiver: then the position is committed empty, as a lossy send to
    /// no receiver does.
    pub(crate) fn send_lossless(&self, value: T) -> Result<usize, (ClaimError, T)> {
        enum Step<T> {
            Sent(u64, usize),
            /// Claimed with no receiver: nothing written.
            Unread(u64, T),
            Retry(T),
            Full(T),
        }
        let mut value = value;
        let mut iter = 0;
        loop {
            let cur = self.tail.load();
            if cur.closed() {
                return Err((ClaimError::Closed, value));
            }
            if cur.gated() {
                backoff(&mut iter);
                continue;
            }
            let q = cur.pos();
            let prev_lap = q.wrapping_sub(self.cap());
            let step = self.slot(q).with(|slot| {
                if slot.pos == prev_lap && slot.rem == 0 {
                    // Free, and only the claimer of `q` can change that.
                    if self.tail.try_claim(cur).is_err() {
                        return Step::Retry(value);
                    }
                    // After the claim: the receivers that will read `q`.
                    let n = self.receivers_for_claim();
                    debug_assert!(slot.val.is_none(), "a free slot holds no value");
                    slot.pos = q;
                    slot.rem = n;
                    if n == 0 {
                        return Step::Unread(q, value);
                    }
                    slot.val = Some(value);
                    return Step::Sent(q, n);
                }
                if self.tail.load() != cur {
                    // Someone claimed or gated meanwhile: look again.
                    return Step::Retry(value);
                }
                Step::Full(value)
            });
            match step {
                Step::Sent(q, n) => {
                    self.commit(q, n);
                    return Ok(n);
                }
                Step::Unread(q, v) => {
                    self.commit(q, 0);
                    return Err((ClaimError::Closed, v));
                }
                Step::Retry(v) => value = v,
                Step::Full(v) => return Err((ClaimError::Full, v)),
            }
        }
    }

    /// After a successful claim of `q`: the receivers that will read it.
    #[inline]
    pub(crate) fn receivers_for_claim(&self) -> usize {
        // Relaxed: the claim's Acquire already ordered this after the last
        // gate (state.rs, `try_claim`).
        self.receivers.load(Ordering::Relaxed)
    }

    /// Writes `value` (or, with no receiver, nothing) at claimed position
    /// `q` for `rem` receivers, commits it in order and wakes receivers.
    /// Returns the value it overwrote, for the caller to drop.
    #[inline(always)]
    pub(crate) fn publish(&self, q: u64, mut value: Option<T>, rem: usize) -> Option<T> {
        debug_assert_eq!(value.is_some(), rem > 0);
        let prev_lap = q.wrapping_sub(self.cap());
        let mut iter = 0;
        let old = loop {
            let written = self.slot(q).with(|slot| {
                (slot.pos == prev_lap).then(|| {
                    slot.pos = q;
                    slot.rem = rem;
                    mem::replace(&mut slot.val, value.take())
                })
            });
            if let Some(old) = written {
                break old;
            }
            // The previous lap's claimer has not written yet (only with
            // more senders in flight than slots).
            backoff(&mut iter);
        };
        self.commit(q, rem);
        old
    }

    /// Commits the written position `q` (for `rem` receivers) in order and
    /// wakes receivers.
    #[inline(always)]
    fn commit(&self, q: u64, rem: usize) {
        let mut iter = 0;
        // Acquire: pairs with the predecessor's swap below, so our commit
        // carries its writes too.
        while self.committed.load(Ordering::Acquire) != q {
            backoff(&mut iter);
        }
        // SeqCst swap: its Release half pairs with the Acquire loads of
        // receivers (`try_recv`, `has_news`) and gate holders, so the write
        // above is visible to whoever sees `q + 1`; being a SeqCst write it
        // also orders the doorbell's waiter-count load after it, so the
        // ring needs no fence (Dekker with `poll_wait`, which counts itself
        // in, then fences, then re-checks).
        self.committed.swap(q + 1, Ordering::SeqCst);
        self.recv_bell.ring_after_seqcst();
        if self.lossless && rem == 0 && self.send_queue.has_waiters() {
            // A sender may have queued on this slot while our write was in
            // flight; nobody will read it, so it is free now.
            self.send_queue.wake_head();
        }
    }

    /// Marks the channel closed; the call that closes it wakes everyone who
    /// waits on it.
    pub(crate) fn close(&self) {
        if self.tail.close().closed() {
            return;
        }
        // Every notification runs even if a waker panics in an earlier one
        // (the guards run while unwinding, last declared first), as tokio's
        // receivers notify `closed()` from a drop guard.
        let _drainers = Defer(|| self.drain_bell.ring());
        let _senders = Defer(|| self.send_queue.wake_all());
        self.recv_bell.ring();
    }

    /// Whether the channel is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load().closed()
    }

    /// Whether a send now would fail: the channel is closed or has no
    /// receiver. For lossless senders that may not claim yet (others wait
    /// ahead of them), which must still fail at once, as a claim would.
    pub(crate) fn refuses_sends(&self) -> bool {
        self.is_closed() || self.receiver_count() == 0
    }

    // ---- sender counts ----

    pub(crate) fn add_sender(&self) {
        // Relaxed: a new handle made from a live one (Arc's clone argument).
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// Upgrades a weak sender if a strong one is left and the channel is open.
    pub(crate) fn try_add_sender(&self) -> bool {
        // Relaxed loads and failure: the CAS below decides; success AcqRel
        // so the count stays a total order with `drop_sender`.
        let mut n = self.senders.load(Ordering::Relaxed);
        loop {
            if n == 0 || self.is_closed() {
                return false;
            }
            match self
                .senders
                .compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
    }

    /// Drops a strong sender; the last one closes the channel.
    pub(crate) fn drop_sender(&self) {
        // AcqRel: the last dropper sees every other sender's sends done.
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }

    pub(crate) fn sender_count(&self) -> usize {
        // SeqCst: a plain snapshot for the caller.
        self.senders.load(Ordering::SeqCst)
    }

    pub(crate) fn add_weak(&self) {
        // Relaxed: a counter only reported, never synchronised on.
        self.weak.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn drop_weak(&self) {
        // Relaxed: see `add_weak`.
        self.weak.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn weak_count(&self) -> usize {
        // Relaxed: see `add_weak`.
        self.weak.load(Ordering::Relaxed)
    }

    pub(crate) fn receiver_count(&self) -> usize {
        // SeqCst: a plain snapshot for the caller.
        self.receivers.load(Ordering::SeqCst)
    }

    /// Resolves once there is no receiver (`Sender::closed` and
    /// `LosslessSender::closed`).
    pub(crate) async fn no_receivers(&self) {
        // Held across the wait, so that this future and the `closed`
        // futures holding it are, like tokio's, neither `UnwindSafe` nor
        // `RefUnwindSafe`.
        let marker: crate::NotUnwindSafe = core::marker::PhantomData;
        WaitFor::new(&self.gone_bell, || self.receiver_count() == 0).await;
        let _ = &marker;
    }

    // ---- the gate: receiver count changes ----

    /// Runs `f(t)` with claims stopped at position `t` and every claim below
    /// `t` committed.
    fn with_gate<R>(&self, f: impl FnOnce(u64) -> R) -> R {
        let serial = self.gate.lock();
        let t = self.tail.set_gate().pos();
        let mut iter = 0;
        // Acquire: pairs with `publish`'s swap; the counts those claims
        // read happened before, so `f`'s change cannot reach them.
        while self.committed.load(Ordering::Acquire) != t {
            backoff(&mut iter);
        }
        let r = f(t);
        self.tail.clear_gate();
        drop(serial);
        r
    }

    /// A new receiver at the tail; returns its first position.
    pub(crate) fn subscribe(&self) -> u64 {
        self.with_gate(|t| self.add_receiver().then_some(t))
            .expect("max receivers")
    }

    /// A new receiver at the oldest value still held; returns its first
    /// position.
    ///
    /// Scans from the newest position down and joins each value still held
    /// (`rem += 1`), stopping at the first one that is not. Existing
    /// receivers (and a dropped receiver's release walk) free values from
    /// the oldest upwards while this runs, so an upward scan could join
    /// position `p`, then see `p + 1` freed behind a reader and leave the
    /// new receiver uncounted in a value it will read. Scanning downwards,
    /// every position joined is held by the new receiver from then on, and
    /// the run joined is contiguous up to the gate's position `t`, from
    /// where the receiver count covers it. A value freed just before the
    /// scan reached it is one no receiver will read any more: starting
    /// above it loses nothing that was still held.
    pub(crate) fn subscribe_from_oldest(&self) -> u64 {
        self.with_gate(|t| {
            if !self.add_receiver() {
                return None;
            }
            let mut start = t;
            while start > t.saturating_sub(self.cap()) {
                let pos = start - 1;
                let joined = self.slot(pos).with(|slot| {
                    let held = slot.pos == pos && slot.rem > 0;
                    if held {
                        slot.rem += 1;
                    }
                    held
                });
                if !joined {
                    break;
                }
                start = pos;
            }
            Some(start)
        })
        .expect("max receivers")
    }

    /// Counts one more receiver; false (and nothing changed) at tokio's
    /// limit. The callers panic with tokio's message after the gate is
    /// cleared: a panic under the gate would leave it set, and every later
    /// send would wait for it.
    fn add_receiver(&self) -> bool {
        // Relaxed: under the gate, the only place the count changes;
        // published by `clear_gate`'s Release.
        if self.receivers.load(Ordering::Relaxed) >= MAX_RECEIVERS {
            return false;
        }
        self.receivers.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// A receiver whose next position was `next` is gone: leave the count,
    /// then release every value it would still have read.
    pub(crate) fn unsubscribe(&self, next: u64) {
        let (t, left) = self.with_gate(|t| {
            // Relaxed: under the gate, as `add_receiver`.
            let left = self.receivers.fetch_sub(1, Ordering::Relaxed) - 1;
            (t, left)
        });
        // The values this receiver was the last to hold, dropped only once
        // the walk is over and the bells are rung: `T::drop` may use the
        // channel, and if it panics the channel's counts are already right
        // (the rest of the vector still drops while unwinding).
        let mut freed = Vec::new();
        for pos in next.max(t.saturating_sub(self.cap()))..t {
            let taken = self.slot(pos).with(|slot| {
                if slot.pos != pos || slot.rem == 0 {
                    return None;
                }
                slot.rem -= 1;
                if slot.rem == 0 { slot.val.take() } else { None }
            });
            freed.extend(taken);
        }
        // `closed()` is notified even if a waker panics in `on_freed`, and
        // the freed values are dropped after both (see `Defer`).
        let _gone = Defer(|| {
            if left == 0 {
                self.gone_bell.ring();
            }
        });
        if !freed.is_empty() {
            self.on_freed();
        }
        drop(_gone);
        drop(freed);
    }

    /// A value left the ring because every receiver read it.
    #[inline]
    fn on_freed(&self) {
        // The drain bell rings even if the head sender's waker panics.
        let _drainers = Defer(|| self.drain_bell.ring());
        if self.lossless && self.send_queue.has_waiters() {
            self.send_queue.wake_head();
        }
    }

    // ---- receiving ----

    /// Whether a receiver at `next` would find something: a value or the
    /// close. Only loads, so it may run under a doorbell's lock.
    ///
    /// A closed channel is news only once every claim made before the close
    /// has committed: until then `try_recv` answers `Empty`, and a receiver
    /// that called that news would poll again at once, busy-looping while a
    /// preempted sender holds its claim. The commit that completes the
    /// channel rings the receivers' bell.
    pub(crate) fn has_news(&self, next: u64) -> bool {
        // Acquire: pairs with `publish`'s swap.
        let c = self.committed.load(Ordering::Acquire);
        if c > next {
            return true;
        }
        let t = self.tail.load();
        t.closed() && c >= t.pos()
    }

    /// `Receiver::len`: positions committed that `next` has not read.
    pub(crate) fn unread(&self, next: u64) -> usize {
        // Acquire: pairs with `publish`'s swap.
        let c = self.committed.load(Ordering::Acquire);
        usize::try_from(c.saturating_sub(next)).unwrap_or(usize::MAX)
    }

    /// Values still held for some receiver (`Sender::len`). Binary search:
    /// held values are a suffix of the committed window.
    pub(crate) fn queued(&self) -> usize {
        // Acquire: pairs with `publish`'s swap.
        let c = self.committed.load(Ordering::Acquire);
        let (mut lo, mut hi) = (c.saturating_sub(self.cap()), c);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.held(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        (c - lo) as usize
    }

    /// Closed, nothing in flight, and no value held for any receiver.
    pub(crate) fn is_drained(&self) -> bool {
        let t = self.tail.load();
        // Acquire: pairs with `publish`'s swap.
        let c = self.committed.load(Ordering::Acquire);
        if !t.closed() || c != t.pos() {
            return false;
        }
        // Held values are a suffix: the newest tells.
        c == 0 || !self.held(c - 1)
    }
}

// tokio's handles are `UnwindSafe + RefUnwindSafe` for every `T`, and code
// that switches from it may hold one across `catch_unwind`. Ours would not
// be (the slots' `UnsafeCell`s), so say it, because it holds: no operation
// leaves the shared state broken when user code panics in it. `T::clone`
// runs under a slot lock that an unwind guard releases, after the reader's
// count and cursor moved (the reader skips that value, as tokio's does);
// `T::drop` and wakers run only after the protocol step is complete (a
// send commits before dropping what it overwrote; a receiver drop finishes
// its release walk before dropping what it freed).
impl<T> std::panic::RefUnwindSafe for Shared<T> {}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("capacity", &self.capacity())
            .field("lossless", &self.lossless)
            .field("tail", &self.tail.load())
            // Relaxed: a debugging snapshot.
            .field("committed", &self.committed.load(Ordering::Relaxed))
            .field("receivers", &self.receiver_count())
            .field("senders", &self.sender_count())
            .finish_non_exhaustive()
    }
}

impl<T: Clone> Shared<T> {
    /// Reads position `*next`; advances `*next` past what it returns.
    #[cfg(all(test, not(ring_loom)))]
    pub(crate) fn try_recv(&self, next: &mut u64) -> Result<T, TryRecvError> {
        self.try_recv_seen(next, &mut 0)
    }

    /// [`try_recv`](Shared::try_recv) for a receiver that remembers, in
    /// `*seen`, the last value of `committed` it loaded. Positions below it
    /// are committed for good (it only grows), so a receiver that is behind
    /// reads the sender's hot `committed` line once per batch instead of
    /// once per value.
    #[inline(always)]
    pub(crate) fn try_recv_seen(&self, next: &mut u64, seen: &mut u64) -> Result<T, TryRecvError> {
        enum Read<T> {
            Cloned(T),
            Taken(Option<T>),
            Overwritten,
            Unheld,
        }
        loop {
            let pos = *next;
            if pos >= *seen {
                // Acquire: pairs with `publish`'s swap; the slot write for
                // `pos` happened before. (A position below an earlier load
                // was ordered by that load's Acquire; the slot lock below
                // orders the slot's state in any case.)
                *seen = self.committed.load(Ordering::Acquire);
                if pos >= *seen {
                    return Err(self.empty_or_closed(pos));
                }
            }
            // Moved before reading: if `T::clone` panics below, this
            // receiver skips the value (its `rem` share is already paid).
            *next = pos + 1;
            let read = self.slot(pos).with(|slot| {
                if slot.pos != pos {
                    // Overwritten: `pos` is committed, so the slot held it.
                    return Read::Overwritten;
                }
                if slot.rem == 0 {
                    return Read::Unheld;
                }
                slot.rem -= 1;
                if slot.rem == 0 {
                    // The last reader moves the value out: no clone, and
                    // the channel no longer holds it.
                    return Read::Taken(slot.val.take());
                }
                // Under the slot lock: clones of one value never overlap.
                Read::Cloned(
                    slot.val
                        .as_ref()
                        .expect("rem > 0 means the value is held")
                        .clone(),
                )
            });
            match read {
                Read::Cloned(v) => return Ok(v),
                Read::Taken(v) => {
                    self.on_freed();
                    return Ok(v.expect("rem > 0 means the value is held"));
                }
                Read::Overwritten => {
                    let oldest = self.tail.load().pos().saturating_sub(self.cap());
                    debug_assert!(oldest > pos);
                    *next = oldest;
                    return Err(TryRecvError::Lagged(oldest - pos));
                }
                Read::Unheld => {
                    // Unreachable by the gate's accounting (a receiver is
                    // counted in every position it reads); skip rather than
                    // invent a value.
                    debug_assert!(false, "receiver reached an unheld position {pos}");
                }
            }
        }
    }

    #[cold]
    fn empty_or_closed(&self, pos: u64) -> TryRecvError {
        let t = self.tail.load();
        // Acquire: pairs with `publish`'s swap. Once closed no
        // claim succeeds, so `t.pos()` is final.
        if t.closed() && self.committed.load(Ordering::Acquire) >= t.pos() && pos >= t.pos() {
            TryRecvError::Closed
        } else {
            TryRecvError::Empty
        }
    }
}

#[cfg(all(test, not(ring_loom)))]
mod tests {
    use super::*;

    #[test]
    fn values_are_counted_for_exactly_the_receivers_alive_at_the_send() {
        let s = Shared::<u32>::new(4, false);
        let a = s.subscribe();
        let q = s.claim().unwrap();
        assert_eq!(s.receivers_for_claim(), 1);
        assert!(s.publish(q, Some(1), 1).is_none());
        let b = s.subscribe();
        assert_eq!(b, 1);
        let (mut a, mut b) = (a, b);
        assert_eq!(s.try_recv(&mut a), Ok(1));
        assert_eq!(s.try_recv(&mut b), Err(TryRecvError::Empty));
        assert_eq!(s.queued(), 0);
    }

    /// A sender preempted between its claim and its commit, then a close:
    /// the receiver has nothing to read yet and must wait (the commit rings
    /// it), not be told there is news and poll again at once.
    #[test]
    fn a_closed_channel_with_a_claim_in_flight_is_not_news_until_it_commits() {
        let s = Shared::<u32>::new(4, false);
        let mut next = s.subscribe();
        let q = s.claim().unwrap();
        s.close();
        assert!(!s.has_news(next), "a receiver would busy-loop");
        assert_eq!(s.try_recv(&mut next), Err(TryRecvError::Empty));
        assert!(s.publish(q, Some(7), 1).is_none());
        assert!(s.has_news(next));
        assert_eq!(s.try_recv(&mut next), Ok(7));
        assert!(s.has_news(next), "the close is news now");
        assert_eq!(s.try_recv(&mut next), Err(TryRecvError::Closed));
    }

    /// `subscribe_from_oldest` joins exactly the held run below the tail,
    /// newest first, and stops at the first position nobody holds.
    #[test]
    fn subscribe_from_oldest_joins_the_contiguous_held_run() {
        let s = Shared::<u32>::new(8, false);
        let mut a = s.subscribe();
        for v in 0..5 {
            let q = s.claim().unwrap();
            assert!(s.publish(q, Some(v), 1).is_none());
        }
        assert_eq!(s.try_recv(&mut a), Ok(0));
        assert_eq!(s.try_recv(&mut a), Ok(1));
        let mut late = s.subscribe_from_oldest();
        assert_eq!(late, 2);
        for v in 2..5 {
            assert_eq!(s.try_recv(&mut late), Ok(v));
        }
        assert_eq!(s.queued(), 3, "still held for `a`");
        for v in 2..5 {
            assert_eq!(s.try_recv(&mut a), Ok(v));
        }
        assert_eq!(s.queued(), 0);
    }
}
