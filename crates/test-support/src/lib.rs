//! Dev-only helpers for seqcast's tests (CONVENTIONS: "write the small
//! helper ourselves in a dev-only test-support module").
//!
//! Async behaviour is tested at the poll level: poll a future by hand with
//! a [`counting_waker`], assert `Pending`, assert the waker was woken (or
//! not: spurious wake-ups are bugs too), then assert `Ready`.
//!
//! ```
//! use std::task::Context;
//!
//! let (waker, count) = seqcast_test_support::counting_waker();
//! let _cx = Context::from_waker(&waker);
//! waker.wake_by_ref();
//! assert_eq!(count.count(), 1);
//! ```

pub mod nats;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::task::{Wake, Waker};
use std::time::Duration;

/// Runs `f` on a new thread; `Err(())` if it does not finish within
/// `limit`. The thread is then left blocked (it does not spin), so a test
/// can assert that a call hangs, or bound one that might.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(seqcast_test_support::within(Duration::from_secs(5), || 2 + 2), Ok(4));
/// let (_keep, rx) = std::sync::mpsc::channel::<()>();
/// assert!(seqcast_test_support::within(Duration::from_millis(50), move || rx.recv()).is_err());
/// ```
#[allow(clippy::result_unit_err)]
pub fn within<R: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ()> {
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    wait.recv_timeout(limit).map_err(|_| ())
}

/// Makes the tests of one test binary that hold it take turns.
///
/// The machines have two cores: a stress test that runs as many busy
/// threads as cores must not run beside another one. A test that panics
/// while holding the guard does not stop the others (poisoning is ignored).
///
/// ```
/// let _turn = seqcast_test_support::one_at_a_time();
/// // ... spawn the test's threads ...
/// ```
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts `wake` calls.
///
/// ```
/// let (waker, count) = seqcast_test_support::counting_waker();
/// waker.clone().wake();
/// assert_eq!(count.count(), 1);
/// ```
#[derive(Debug, Default)]
pub struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Relaxed: read by the test thread after the waking call returned.
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl CountingWaker {
    /// Wake-ups so far.
    ///
    /// ```
    /// let (_waker, count) = seqcast_test_support::counting_waker();
    /// assert_eq!(count.count(), 0);
    /// ```
    pub fn count(&self) -> usize {
        // Relaxed: see `wake_by_ref`.
        self.0.load(Ordering::Relaxed)
    }
}

/// A waker and its counter.
///
/// ```
/// let (waker, count) = seqcast_test_support::counting_waker();
/// drop(waker);
/// assert_eq!(count.count(), 0, "dropping is not waking");
/// ```
pub fn counting_waker() -> (Waker, Arc<CountingWaker>) {
    let count = Arc::new(CountingWaker::default());
    (Waker::from(Arc::clone(&count)), count)
}

/// Whether a type implements a trait, as a `bool` at run time, so one test
/// can list every difference from an anchor instead of failing to compile
/// at the first: `implements!(T: Send)` for a type, `implements!(value e
/// => Send)` for the type of a value (a future's, which cannot be named).
/// The probe is autoref specialisation: an inherent method, bounded by the
/// trait, wins over a trait method that says `false`.
///
/// ```
/// use std::rc::Rc;
/// assert!(seqcast_test_support::implements!(u8: Send + Sync));
/// assert!(!seqcast_test_support::implements!(Rc<u8>: Send));
/// let fut = async {};
/// assert!(seqcast_test_support::implements!(value fut => Send));
/// ```
#[macro_export]
macro_rules! implements {
    (value $e:expr => $($tr:tt)+) => {
        $crate::implements!(@probe probe(&$e), $($tr)+)
    };
    ($t:ty: $($tr:tt)+) => {
        $crate::implements!(@probe Probe::<$t>(core::marker::PhantomData), $($tr)+)
    };
    // `$probe` builds a `Probe<T>` for the type in question with the items
    // below (item names are not hygienic in `macro_rules`).
    (@probe $probe:expr, $($tr:tt)+) => {{
        #[allow(dead_code)]
        struct Probe<T: ?Sized>(core::marker::PhantomData<T>);
        #[allow(dead_code)]
        trait No {
            fn yes(&self) -> bool {
                false
            }
        }
        impl<T: ?Sized> No for Probe<T> {}
        #[allow(dead_code)]
        impl<T: ?Sized + $($tr)+> Probe<T> {
            fn yes(&self) -> bool {
                true
            }
        }
        #[allow(dead_code)]
        fn probe<T>(_: &T) -> Probe<T> {
            Probe(core::marker::PhantomData)
        }
        $probe.yes()
    }};
}

/// A type's trait table: `[(name, implements!(T: Trait)), ..]` for each
/// trait listed, named as written, so a test compares a handle's traits
/// with the anchor's in one assertion that lists every difference.
///
/// ```
/// use std::fmt::Display;
/// use std::rc::Rc;
/// let t = seqcast_test_support::trait_table!(Rc<u8>: Send, Clone, Display);
/// assert_eq!(t, [("Send", false), ("Clone", true), ("Display", true)]);
/// ```
#[macro_export]
macro_rules! trait_table {
    ($t:ty: $($tr:path),+ $(,)?) => {
        [$((stringify!($tr), $crate::implements!($t: $tr))),+]
    };
}
