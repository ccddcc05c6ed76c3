//! [`Doorbell`]: a parking (and async) wait that a writer wakes cheaply.
//!
//! Readers that found nothing sleep on a condition variable, or register a
//! task's `Waker` with [`Doorbell::poll_wait`]; the writer,
//! after it publishes, calls [`Doorbell::ring`]. When nobody sleeps, `ring`
//! costs one load of a counter that only sleepers write (kept on its own
//! cache line) and takes no lock; only where Linux's `membarrier` is missing
//! does it add a full fence (see the `asymmetric` module).
//!
//! No lost wake-up: this is Dekker's pattern. A sleeper increments `waiters`
//! (SeqCst), issues a fence, then re-checks its condition; the writer
//! stores its value, issues a fence, then loads `waiters`. With both fences
//! full (or the asymmetric pair of the `asymmetric` module: a compiler fence
//! for the writer, `membarrier` for the sleeper, so an idle `ring` costs the
//! writer no store-buffer drain), at least one side sees the other's write: either the
//! re-check finds the value, or the writer sees a sleeper and takes the lock,
//! which the sleeper holds from before its increment until the condition
//! variable releases it, so the notification cannot fall between the
//! re-check and the sleep. The loom model `tests/loom_doorbell.rs` checks
//! this on the real type.

use alloc::vec::Vec;
use core::fmt;
use core::task::{Context, Poll, Waker};

use crate::asymmetric::Fences;
use crate::padding::CachePadded;
use crate::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::sync::{Condvar, Mutex};
use crate::wait::WaitStrategy;

/// Wakes parked readers when a writer publishes.
///
/// ```
/// use ring_core::{Doorbell, WaitStrategy};
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let bell = Arc::new(Doorbell::new());
/// let value = Arc::new(AtomicU64::new(0));
/// let (b, v) = (Arc::clone(&bell), Arc::clone(&value));
/// let reader = std::thread::spawn(move || {
///     // Parks at once; woken by `ring`.
///     b.wait_until(WaitStrategy::Park { spin_iters: 0 }, || {
///         match v.load(Ordering::Acquire) {
///             0 => None,
///             x => Some(x),
///         }
///     })
/// });
/// value.store(42, Ordering::Release);
/// bell.ring();
/// assert_eq!(reader.join().unwrap(), 42);
/// ```
pub struct Doorbell {
    /// Parked threads plus registered wakers. Written only by waiters (and
    /// by `wake`, which retires wakers); the writer loads it on every `ring`.
    waiters: CachePadded<AtomicUsize>,
    /// Symmetric (two full fences) or asymmetric (compiler fence on `ring`,
    /// membarrier on the waiter): see the `asymmetric` module.
    fences: Fences,
    /// A copy of `State::epoch`, stored (Release) under the lock by `wake`
    /// and loaded (Acquire) by `cancel`: a key registered at an older epoch
    /// was retired by that wake, so `cancel` drops it without the lock.
    rung: AtomicU64,
    state: Mutex<State>,
    cond: Condvar,
}

/// Everything behind the doorbell's lock.
#[derive(Default)]
struct State {
    /// Counts rings that found a waiter; a parked thread sleeps until it
    /// changes.
    epoch: u64,
    /// Threads asleep in `park`; `wake` notifies the condition variable
    /// (a system call) only when there is one.
    parked: usize,
    /// Registered task wakers, a slab indexed by [`WaitKey::index`].
    wakers: Vec<WakerSlot>,
    /// Indices of `wakers` that hold no waker.
    free: Vec<usize>,
}

#[derive(Default)]
struct WakerSlot {
    /// Bumped each time the slot is emptied, so a stale key is recognised.
    generation: u64,
    waker: Option<Waker>,
}

/// A future's registration with a [`Doorbell`], kept between polls.
///
/// Hold it in an `Option<WaitKey>` (starting at `None`) inside the future,
/// pass it to every [`Doorbell::poll_wait`], and hand it to
/// [`Doorbell::cancel`] when the future is dropped, so no waker is left
/// behind.
///
/// ```
/// let key: Option<ring_core::WaitKey> = None;
/// assert!(key.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitKey {
    index: usize,
    generation: u64,
    /// The doorbell's epoch when it registered.
    epoch: u64,
}

impl Doorbell {
    /// A doorbell with no sleepers.
    ///
    /// ```
    /// let bell = ring_core::Doorbell::new();
    /// assert!(!bell.has_waiters());
    /// ```
    pub fn new() -> Self {
        Self::with_fences(Fences::detect())
    }

    /// A doorbell whose waiters register cheaply: both sides pay a full
    /// fence (`ring` one `fence(SeqCst)` even when nobody waits), and no
    /// waiter ever makes the `membarrier` system call.
    ///
    /// For async channels, where every receiver that finds nothing
    /// registers a waker (many times per value with many receivers): there
    /// the syscall per registration of [`new`](Doorbell::new)'s asymmetric
    /// protocol costs far more than the writer's fence saves. Measured in
    /// `benches/broadcast.rs` (`contention`): with 100 receiver tasks,
    /// 29.6 ms per 100 sends with the asymmetric protocol against 5.0 ms
    /// with this one.
    ///
    /// ```
    /// let bell = ring_core::Doorbell::symmetric();
    /// bell.ring();
    /// assert!(!bell.has_waiters());
    /// ```
    pub fn symmetric() -> Self {
        Self::with_fences(Fences::Symmetric)
    }

    fn with_fences(fences: Fences) -> Self {
        Doorbell {
            waiters: CachePadded::new(AtomicUsize::new(0)),
            fences,
            rung: AtomicU64::new(0),
            state: Mutex::new(State::default()),
            cond: Condvar::new(),
        }
    }

    /// Wakes every parked reader. Call after publishing.
    ///
    /// When nobody is parked this is one load (and, where Linux's membarrier is
    /// unavailable, a full fence), no lock.
    ///
    /// ```
    /// let bell = ring_core::Doorbell::new();
    /// bell.ring(); // nobody waits: returns at once
    /// ```
    #[inline]
    pub fn ring(&self) {
        // Orders the caller's publish before the load below; pairs with the
        // heavy fence of `park`/`poll_wait` (Dekker, module docs).
        self.fences.light();
        // Relaxed: ordered by the fence above.
        if self.waiters.load(Ordering::Relaxed) != 0 {
            self.wake();
        }
    }

    /// [`ring`](Doorbell::ring) for a caller whose publishing write was a
    /// `SeqCst` store or read-modify-write. That write and this `SeqCst`
    /// load form the writer's half of the Dekker pair by themselves (with
    /// the waiter's full fence; C++20 [atomics.order], the rules for `SeqCst`
    /// fences), so no fence is issued: one load when nobody waits.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let bell = ring_core::Doorbell::symmetric();
    /// let value = AtomicU64::new(0);
    /// value.swap(1, Ordering::SeqCst); // the publish, SeqCst
    /// bell.ring_after_seqcst();
    /// ```
    #[inline]
    pub fn ring_after_seqcst(&self) {
        // loom treats SeqCst loads and stores as Acquire and Release (its
        // documented limitation); this fence gives the model what the
        // language guarantees for them, so it checks the same protocol.
        #[cfg(ring_loom)]
        crate::sync::atomic::fence(Ordering::SeqCst);
        // SeqCst: see above.
        if self.waiters.load(Ordering::SeqCst) != 0 {
            self.wake();
        }
    }

    /// Counts one more waiter. Called with the lock held: every change of
    /// `waiters` happens under it, so a load and a store do what an atomic
    /// increment would, without its locked instruction (a registration is
    /// the hot path of an async receiver: measured in `benches/broadcast.rs`,
    /// `contention`). The caller's full fence (`heavy`) that follows orders
    /// the store before its re-check: Dekker with `ring`, module docs.
    #[inline]
    fn add_waiter(&self) {
        // Relaxed: under the lock (see above); the fence that follows
        // publishes it to `ring`.
        let n = self.waiters.load(Ordering::Relaxed);
        self.waiters.store(n + 1, Ordering::Relaxed);
    }

    /// Counts `k` fewer waiters; with the lock held, as `add_waiter`.
    #[inline]
    fn sub_waiters(&self, k: usize) {
        // Relaxed: under the lock; a `ring` that still sees the old count
        // takes the lock once for nothing.
        let n = self.waiters.load(Ordering::Relaxed);
        self.waiters.store(n - k, Ordering::Relaxed);
    }

    #[cold]
    fn wake(&self) {
        let mut state = self.state.lock();
        state.epoch = state.epoch.wrapping_add(1);
        // Release: pairs with `cancel`'s Acquire load; the retirements below
        // happen under this lock before `cancel` could act on the new epoch
        // (it only skips the lock, it never reads the slab without it).
        self.rung.store(state.epoch, Ordering::Release);
        let notify_threads = state.parked != 0;
        // Relaxed: a size hint, exact under the lock (registrations change
        // it only while holding it).
        let mut woken = Vec::with_capacity(self.waiters.load(Ordering::Relaxed));
        let State { wakers, free, .. } = &mut *state;
        for (index, slot) in wakers.iter_mut().enumerate() {
            if let Some(waker) = slot.waker.take() {
                slot.generation = slot.generation.wrapping_add(1);
                free.push(index);
                woken.push(waker);
            }
        }
        // Relaxed: the retired registrations leave the count under the lock
        // that registered them; `ring`'s fence orders the next load.
        self.sub_waiters(woken.len());
        drop(state);
        if notify_threads {
            self.cond.notify_all();
        }
        // Outside the lock: a waker's `wake` (or drop) may call back into the
        // channel, even ring this doorbell.
        for waker in woken {
            waker.wake();
        }
    }

    /// Polls `poll`; if it finds nothing, registers the task's waker so the
    /// next [`ring`](Doorbell::ring) wakes it, re-checks, and returns
    /// `Pending`. The lost-wake-up argument is the same as for parking
    /// (module docs).
    ///
    /// `key` is the future's registration: `None` at first, kept between
    /// polls, released by [`cancel`](Doorbell::cancel) on drop. `poll` runs
    /// with the doorbell's lock held on the re-check, so it must not ring
    /// this doorbell.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use ring_core::Doorbell;
    ///
    /// let bell = Doorbell::new();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut key = None;
    /// let mut value = None;
    /// assert_eq!(bell.poll_wait(&mut cx, &mut key, || value), Poll::Pending);
    /// assert!(bell.has_waiters());
    /// value = Some(3);
    /// bell.ring(); // wakes the registered task
    /// assert_eq!(bell.poll_wait(&mut cx, &mut key, || value), Poll::Ready(3));
    /// assert!(!bell.has_waiters());
    /// ```
    pub fn poll_wait<R>(
        &self,
        cx: &mut Context<'_>,
        key: &mut Option<WaitKey>,
        mut poll: impl FnMut() -> Option<R>,
    ) -> Poll<R> {
        if let Some(r) = poll() {
            self.cancel(key);
            return Poll::Ready(r);
        }
        let mut state = self.state.lock();
        let mut replaced = None;
        let live = key.filter(|k| {
            state
                .wakers
                .get(k.index)
                .is_some_and(|s| s.generation == k.generation && s.waker.is_some())
        });
        if let Some(k) = live {
            let slot = &mut state.wakers[k.index];
            if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                replaced = slot.waker.replace(cx.waker().clone());
            }
        } else {
            let index = match state.free.pop() {
                Some(i) => i,
                None => {
                    state.wakers.push(WakerSlot::default());
                    state.wakers.len() - 1
                }
            };
            let slot = &mut state.wakers[index];
            slot.waker = Some(cx.waker().clone());
            *key = Some(WaitKey {
                index,
                generation: slot.generation,
                epoch: state.epoch,
            });
            self.add_waiter();
        }
        self.fences.heavy();
        let found = poll();
        // The registration is withdrawn whenever the re-check finds a value,
        // also when this poll replaced its waker: a finished wait must leave
        // no key, no waiter count and no waker behind.
        let removed = if found.is_some() {
            self.remove(&mut state, key)
        } else {
            None
        };
        drop(state);
        // Dropped outside the lock (a waker's drop may re-enter).
        drop(replaced);
        drop(removed);
        match found {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }

    /// Withdraws a registration made by [`poll_wait`](Doorbell::poll_wait),
    /// if it is still live. Call it when the waiting future is dropped.
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// use ring_core::Doorbell;
    ///
    /// let bell = Doorbell::new();
    /// let mut key = None;
    /// let _ = bell.poll_wait(&mut Context::from_waker(Waker::noop()), &mut key, || None::<()>);
    /// assert!(bell.has_waiters());
    /// bell.cancel(&mut key);
    /// assert!(!bell.has_waiters());
    /// assert!(key.is_none());
    /// ```
    pub fn cancel(&self, key: &mut Option<WaitKey>) {
        let Some(k) = key else { return };
        // Acquire: pairs with `wake`'s Release store. A newer epoch means a
        // wake retired every registration older than it, this one included,
        // and took its waker: nothing left to remove, no lock needed (an
        // async receiver cancels after every wake-up; measured in
        // `benches/broadcast.rs`, `contention`).
        if self.rung.load(Ordering::Acquire) != k.epoch {
            *key = None;
            return;
        }
        let mut state = self.state.lock();
        let waker = self.remove(&mut state, key);
        drop(state);
        drop(waker);
    }

    /// Empties `key`'s slot if it is still its registration; returns the
    /// waker for the caller to drop outside the lock.
    fn remove(&self, state: &mut State, key: &mut Option<WaitKey>) -> Option<Waker> {
        let k = key.take()?;
        let slot = state.wakers.get_mut(k.index)?;
        if slot.generation != k.generation {
            return None;
        }
        let waker = slot.waker.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        state.free.push(k.index);
        // Relaxed: under the lock, like the increment.
        self.sub_waiters(1);
        Some(waker)
    }

    /// Whether a reader is parked (or about to park) right now.
    ///
    /// ```
    /// assert!(!ring_core::Doorbell::new().has_waiters());
    /// ```
    pub fn has_waiters(&self) -> bool {
        // SeqCst: a snapshot consistent with `ring`'s view.
        self.waiters.load(Ordering::SeqCst) != 0
    }

    /// Waits with `strategy` until `poll` returns `Some`, parking here in the
    /// strategy's park phase. `poll` is re-run after every wake-up, spurious
    /// or not.
    ///
    /// `poll` runs with the doorbell's lock held while parking: it must not
    /// call [`ring`](Doorbell::ring) on this doorbell.
    ///
    /// ```
    /// use ring_core::{Doorbell, WaitStrategy};
    ///
    /// let bell = Doorbell::new();
    /// let mut tries = 0;
    /// let got = bell.wait_until(WaitStrategy::BusySpin, || {
    ///     tries += 1;
    ///     (tries == 3).then_some(tries)
    /// });
    /// assert_eq!(got, 3);
    /// ```
    pub fn wait_until<R>(&self, strategy: WaitStrategy, mut poll: impl FnMut() -> Option<R>) -> R {
        let mut iter: u32 = 0;
        loop {
            if let Some(r) = poll() {
                return r;
            }
            if strategy.parks_at(iter) {
                if let Some(r) = self.park(&mut poll, None) {
                    return r;
                }
            } else {
                strategy.wait(iter);
            }
            iter = iter.saturating_add(1);
        }
    }

    /// Like [`wait_until`](Doorbell::wait_until), giving up after `timeout`.
    ///
    /// Returns `None` if `poll` still returned `None` when the time ran out.
    ///
    /// ```
    /// use ring_core::{Doorbell, WaitStrategy};
    /// use std::time::Duration;
    ///
    /// let bell = Doorbell::new();
    /// let got: Option<()> =
    ///     bell.wait_timeout(WaitStrategy::Park { spin_iters: 0 }, Duration::from_millis(5), || None);
    /// assert_eq!(got, None);
    /// ```
    #[cfg(feature = "std")]
    pub fn wait_timeout<R>(
        &self,
        strategy: WaitStrategy,
        timeout: core::time::Duration,
        mut poll: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        let deadline = std::time::Instant::now().checked_add(timeout);
        let mut iter: u32 = 0;
        loop {
            if let Some(r) = poll() {
                return Some(r);
            }
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return None;
            }
            if strategy.parks_at(iter) {
                if let Some(r) = self.park(&mut poll, deadline) {
                    return Some(r);
                }
            } else {
                strategy.wait(iter);
            }
            iter = iter.saturating_add(1);
        }
    }

    /// Announces a sleeper, re-checks `poll`, and sleeps until a ring (or the
    /// deadline). Returns `poll`'s value if the re-check found one.
    fn park<R>(
        &self,
        poll: &mut impl FnMut() -> Option<R>,
        #[cfg_attr(not(feature = "std"), allow(unused_variables))] deadline: Option<Deadline>,
    ) -> Option<R> {
        let mut state = self.state.lock();
        self.add_waiter();
        self.fences.heavy();
        let found = poll();
        if found.is_none() {
            state.parked += 1;
            let seen = state.epoch;
            while state.epoch == seen {
                state = match deadline {
                    None => self.cond.wait(state),
                    #[cfg(feature = "std")]
                    Some(d) => {
                        let now = std::time::Instant::now();
                        if now >= d {
                            break;
                        }
                        self.cond.wait_timeout(state, d - now)
                    }
                };
            }
            state.parked -= 1;
        }
        // Relaxed: only the count matters; a `ring` that still sees this
        // sleeper takes the lock once for nothing.
        self.sub_waiters(1);
        found
    }
}

#[cfg(feature = "std")]
type Deadline = std::time::Instant;
#[cfg(not(feature = "std"))]
type Deadline = core::convert::Infallible;

impl Default for Doorbell {
    /// Same as [`Doorbell::new`].
    ///
    /// ```
    /// let _bell: ring_core::Doorbell = Default::default();
    /// ```
    fn default() -> Self {
        Doorbell::new()
    }
}

impl fmt::Debug for Doorbell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Doorbell")
            // Relaxed: diagnostic snapshot.
            .field("waiters", &self.waiters.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
