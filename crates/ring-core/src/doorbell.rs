//! [`Doorbell`]: a parking wait that a writer wakes cheaply.
//!
//! Readers that found nothing sleep on a condition variable; the writer,
//! after it publishes, calls [`Doorbell::ring`]. When nobody sleeps, `ring`
//! costs one full fence and one load of a counter that only sleepers write
//! (kept on its own cache line), and takes no lock.
//!
//! No lost wake-up: this is Dekker's pattern. A sleeper increments `waiters`
//! (SeqCst), issues a SeqCst fence, then re-checks its condition; the writer
//! stores its value, issues a SeqCst fence, then loads `waiters`. With both
//! fences SeqCst, at least one side sees the other's write: either the
//! re-check finds the value, or the writer sees a sleeper and takes the lock,
//! which the sleeper holds from before its increment until the condition
//! variable releases it, so the notification cannot fall between the
//! re-check and the sleep. The loom model `tests/loom_doorbell.rs` checks
//! this on the real type.

use core::fmt;

use crate::padding::CachePadded;
use crate::sync::atomic::{AtomicUsize, Ordering, fence};
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
    /// Readers between announcing themselves and leaving `park`. Written
    /// only by sleepers; the writer loads it on every `ring`.
    waiters: CachePadded<AtomicUsize>,
    /// Counts rings that found a sleeper; a sleeper sleeps until it changes.
    epoch: Mutex<u64>,
    cond: Condvar,
}

impl Doorbell {
    /// A doorbell with no sleepers.
    ///
    /// ```
    /// let bell = ring_core::Doorbell::new();
    /// assert!(!bell.has_waiters());
    /// ```
    pub fn new() -> Self {
        Doorbell {
            waiters: CachePadded::new(AtomicUsize::new(0)),
            epoch: Mutex::new(0),
            cond: Condvar::new(),
        }
    }

    /// Wakes every parked reader. Call after publishing.
    ///
    /// When nobody is parked this is a fence and a load, no lock.
    ///
    /// ```
    /// let bell = ring_core::Doorbell::new();
    /// bell.ring(); // nobody waits: returns at once
    /// ```
    #[inline]
    pub fn ring(&self) {
        // SeqCst: orders the caller's publish before the load below; pairs
        // with the SeqCst fence in `park` (Dekker, module docs).
        fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence above.
        if self.waiters.load(Ordering::Relaxed) != 0 {
            self.wake();
        }
    }

    #[cold]
    fn wake(&self) {
        let mut epoch = self.epoch.lock();
        *epoch = epoch.wrapping_add(1);
        drop(epoch);
        self.cond.notify_all();
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
        let mut epoch = self.epoch.lock();
        // SeqCst (with the fence): Dekker with `ring`, module docs.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let found = poll();
        if found.is_none() {
            let seen = *epoch;
            while *epoch == seen {
                epoch = match deadline {
                    None => self.cond.wait(epoch),
                    #[cfg(feature = "std")]
                    Some(d) => {
                        let now = std::time::Instant::now();
                        if now >= d {
                            break;
                        }
                        self.cond.wait_timeout(epoch, d - now)
                    }
                };
            }
        }
        // Relaxed: only the count matters; a `ring` that still sees this
        // sleeper takes the lock once for nothing.
        self.waiters.fetch_sub(1, Ordering::Relaxed);
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
