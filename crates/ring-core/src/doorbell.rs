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
//! (under the lock), issues a fence, then re-checks its condition; the
//! writer stores its value, issues a fence, then loads `waiters`. With both
//! fences full (or the asymmetric pair of the `asymmetric` module: a
//! compiler fence for the writer, `membarrier` for the sleeper, so an idle
//! `ring` costs the writer no store-buffer drain), at least one side sees
//! the other's write: either the re-check finds the value, or the writer
//! sees a sleeper and bumps the epoch under the lock. A parking thread read
//! the epoch when it registered and sleeps only while it is unchanged,
//! checked under the lock, so the notification cannot fall between the
//! re-check and the sleep. The fence (or syscall) and the re-check run
//! outside the lock for a parking thread; a task's re-check runs under it,
//! after a plain fence. The loom model `tests/loom_doorbell.rs` checks this
//! on the real type.
//!
//! A task registration switches the doorbell to full fences on both sides
//! for good (one membarrier, the first time): async receivers register on
//! every empty poll, and a syscall per registration would cost far more
//! than the writer's fence saves (`asymmetric` module).

use alloc::vec::Vec;
use core::fmt;
use core::task::{Context, Poll, Waker};

use crate::asymmetric::Mode;
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
    /// What the writer loads on every `ring`, on one line of its own.
    hot: CachePadded<Hot>,
    /// A copy of `State::epoch`, stored (Release) under the lock by `wake`
    /// and loaded (Acquire) by `cancel`: a key registered at an older epoch
    /// was retired by that wake, so `cancel` drops it without the lock.
    /// On a line of its own: it changes once per wake, while the lock's
    /// line next to it changes on every registration, and a task woken
    /// onto another worker cancels from there (`ShardedDoorbell`).
    rung: CachePadded<AtomicU64>,
    state: Mutex<State>,
    cond: Condvar,
}

/// The doorbell's writer-read line.
struct Hot {
    /// Parked threads plus registered wakers. Written only by waiters (and
    /// by `wake`, which retires wakers), under the lock.
    waiters: AtomicUsize,
    /// Symmetric (two full fences) or asymmetric (compiler fence on `ring`,
    /// membarrier on the waiter), switched to symmetric by the first task
    /// registration: see the `asymmetric` module.
    mode: Mode,
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
    /// A doorbell with no sleepers. Where Linux's `membarrier` is
    /// available, `ring` costs one load when nobody waits and a parking
    /// thread pays the syscall; the first task that registers through
    /// [`poll_wait`](Doorbell::poll_wait) switches the doorbell to
    /// [`symmetric`](Doorbell::symmetric) fences for good.
    ///
    /// ```
    /// let bell = ring_core::Doorbell::new();
    /// assert!(!bell.has_waiters());
    /// ```
    pub fn new() -> Self {
        Self::with_mode(Mode::detect())
    }

    /// A doorbell whose waiters register cheaply: both sides pay a full
    /// fence (`ring` one `fence(SeqCst)` even when nobody waits), and no
    /// waiter ever makes the `membarrier` system call.
    ///
    /// For async channels, where every receiver that finds nothing
    /// registers a waker (many times per value with many receivers): there
    /// the syscall per registration of [`new`](Doorbell::new)'s asymmetric
    /// protocol costs far more than the writer's fence saves. Measured in
    /// the repository's `benches/broadcast.rs` (`contention`): with 100 receiver tasks,
    /// 29.6 ms per 100 sends with the asymmetric protocol against 5.0 ms
    /// with this one.
    ///
    /// ```
    /// let bell = ring_core::Doorbell::symmetric();
    /// bell.ring();
    /// assert!(!bell.has_waiters());
    /// ```
    pub fn symmetric() -> Self {
        Self::with_mode(Mode::symmetric())
    }

    fn with_mode(mode: Mode) -> Self {
        Doorbell {
            hot: CachePadded::new(Hot {
                waiters: AtomicUsize::new(0),
                mode,
            }),
            rung: CachePadded::new(AtomicU64::new(0)),
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
        self.hot.mode.light();
        // Relaxed: ordered by the fence above.
        if self.hot.waiters.load(Ordering::Relaxed) != 0 {
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
        if self.hot.waiters.load(Ordering::SeqCst) != 0 {
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
        let n = self.hot.waiters.load(Ordering::Relaxed);
        self.hot.waiters.store(n + 1, Ordering::Relaxed);
    }

    /// Counts `k` fewer waiters; with the lock held, as `add_waiter`.
    #[inline]
    fn sub_waiters(&self, k: usize) {
        // Relaxed: under the lock; a `ring` that still sees the old count
        // takes the lock once for nothing.
        let n = self.hot.waiters.load(Ordering::Relaxed);
        self.hot.waiters.store(n - k, Ordering::Relaxed);
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
        let mut woken = Vec::with_capacity(self.hot.waiters.load(Ordering::Relaxed));
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
        // Full fences on both sides from now on; at most one syscall, the
        // first time, and never under the lock.
        let proven = self.hot.mode.to_symmetric();
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
        // Pairs with `ring`'s fence (Dekker, module docs): the mode is
        // symmetric now, so a plain fence, no syscall under the lock.
        crate::sync::atomic::fence(Ordering::SeqCst);
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
            None => {
                if !proven {
                    // A membarrier failed during the switch: a publish in
                    // flight may not be visible yet. Ask to be polled again
                    // rather than risk sleeping past it (asymmetric module).
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
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
        self.hot.waiters.load(Ordering::SeqCst) != 0
    }

    /// Waits with `strategy` until `poll` returns `Some`, parking here in the
    /// strategy's park phase. `poll` is re-run after every wake-up, spurious
    /// or not.
    ///
    /// `poll` runs without the doorbell's lock, so it may do anything.
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
    ///
    /// The fence (a membarrier on the asymmetric protocol) and the re-check
    /// run outside the lock, so no syscall is made under it; the epoch read
    /// at registration keeps the wake-up from being lost (module docs).
    fn park<R>(
        &self,
        poll: &mut impl FnMut() -> Option<R>,
        #[cfg_attr(not(feature = "std"), allow(unused_variables))] deadline: Option<Deadline>,
    ) -> Option<R> {
        let seen = {
            let state = self.state.lock();
            self.add_waiter();
            state.epoch
        };
        let proven = self.hot.mode.heavy();
        let found = poll();
        let mut state = self.state.lock();
        if found.is_none() {
            state.parked += 1;
            while state.epoch == seen {
                // A failed membarrier proves nothing about a publish in
                // flight: sleep a bounded time, then let the caller re-check
                // (asymmetric module). Not expected on any kernel.
                #[cfg(feature = "std")]
                let deadline = if proven {
                    deadline
                } else {
                    let soon = std::time::Instant::now() + core::time::Duration::from_millis(1);
                    Some(deadline.map_or(soon, |d| d.min(soon)))
                };
                #[cfg(not(feature = "std"))]
                let _ = proven;
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
        drop(state);
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
            .field("waiters", &self.hot.waiters.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, target_os = "linux", feature = "std", not(any(miri, ring_loom))))]
mod tests {
    use core::task::{Context, Poll, Waker};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::Doorbell;
    use crate::WaitStrategy;
    use crate::asymmetric::test_hooks;

    /// Issue 9, bug 7: task registrations make at most one membarrier per
    /// doorbell (they used to make one each, under the lock).
    #[test]
    fn task_registrations_make_at_most_one_syscall() {
        let bell = Doorbell::new();
        let before = test_hooks::calls();
        for _ in 0..100 {
            let mut key = None;
            let mut cx = Context::from_waker(Waker::noop());
            assert_eq!(
                bell.poll_wait(&mut cx, &mut key, || None::<()>),
                Poll::Pending
            );
            bell.cancel(&mut key);
        }
        assert!(test_hooks::calls() - before <= 1, "one switch, then fences");
        assert!(!bell.hot.mode.is_asymmetric());
    }

    /// A membarrier that fails after registration (a seccomp filter added
    /// later) must not panic, and waits must still end (it used to panic:
    /// "membarrier(PRIVATE_EXPEDITED) failed after registration").
    #[test]
    fn a_failing_membarrier_falls_back_to_fences() {
        let bell = Arc::new(Doorbell::new());
        test_hooks::fail_from_now_on();
        // Task side.
        let mut key = None;
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(
            bell.poll_wait(&mut cx, &mut key, || None::<()>),
            Poll::Pending
        );
        bell.cancel(&mut key);
        // Thread side: parks, is woken.
        let value = Arc::new(AtomicU64::new(0));
        let reader = {
            let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
            std::thread::spawn(move || {
                bell.wait_until(WaitStrategy::Park { spin_iters: 0 }, || {
                    // Acquire: pairs with the Release store below.
                    match value.load(Ordering::Acquire) {
                        0 => None,
                        v => Some(v),
                    }
                })
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Release: pairs with the reader's Acquire load.
        value.store(4, Ordering::Release);
        bell.ring();
        assert_eq!(reader.join().unwrap(), 4);
        assert!(
            !Doorbell::new().hot.mode.is_asymmetric(),
            "later doorbells start symmetric"
        );
    }
}
