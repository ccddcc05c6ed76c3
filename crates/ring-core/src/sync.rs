//! The one place that names the platform's synchronisation primitives.
//!
//! Every crate of the workspace imports its atomics, `fence`, cells, `Arc`,
//! `Mutex`, `RwLock`, `Condvar`, `spin_loop`, `yield_now` and `AtomicWaker` from here.
//! Under `--cfg ring_loom` they are [loom]'s model-checked types, otherwise
//! `core`/`std`'s. This is tokio's `src/loom` pattern, made public (and
//! `#[doc(hidden)]`) so the layers above share it.
//!
//! The std side speaks loom's API, so code compiles unchanged under both:
//!
//! * [`UnsafeCell`] is accessed through `with(|ptr| ..)` / `with_mut(|ptr| ..)`,
//!   which loom uses to check every access for races;
//! * [`Mutex::lock`] returns the guard directly and never reports poisoning
//!   (a panic while holding one of our locks leaves no broken invariant that
//!   poisoning would protect: every critical section is written to be
//!   panic-free or to restore its state first);
//! * there are no `const fn` constructors on the atomics, because loom has
//!   none, so modelled code keeps no `static` atomics.
//!
//! Why the cfg is `ring_loom` and not `loom`: `RUSTFLAGS` reach every
//! dependency, and tokio changes its own internals under `cfg(loom)` (tokio
//! issue 2463); crossbeam uses `crossbeam_loom` for the same reason.
//!
//! ```
//! use ring_core::sync::atomic::{AtomicU64, Ordering};
//! use ring_core::sync::{Arc, UnsafeCell};
//!
//! let n = Arc::new(AtomicU64::new(1));
//! // Relaxed: single-threaded example, nothing to pair with.
//! n.fetch_add(1, Ordering::Relaxed);
//! assert_eq!(n.load(Ordering::Relaxed), 2);
//!
//! let cell = UnsafeCell::new(5_u32);
//! // SAFETY: `cell` is not shared; no other access exists.
//! let v = cell.with(|p| unsafe { *p });
//! assert_eq!(v, 5);
//! ```
//!
//! [loom]: https://docs.rs/loom

#[cfg(not(ring_loom))]
mod imp {
    pub(crate) mod atomic {
        pub use core::sync::atomic::{
            AtomicBool, AtomicPtr, AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize,
            Ordering, fence,
        };
    }

    pub use alloc::sync::Arc;
    pub use atomic_waker::AtomicWaker;

    /// An `UnsafeCell` with loom's closure-based access API.
    ///
    /// ```
    /// use ring_core::sync::UnsafeCell;
    ///
    /// let cell = UnsafeCell::new(1_u8);
    /// // SAFETY: the cell is not shared, so this is the only access.
    /// cell.with_mut(|p| unsafe { *p = 2 });
    /// assert_eq!(cell.into_inner(), 2);
    /// ```
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        ///
        /// ```
        /// let cell = ring_core::sync::UnsafeCell::new(3_i32);
        /// assert_eq!(cell.into_inner(), 3);
        /// ```
        #[inline(always)]
        pub const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        /// Unwraps the value.
        ///
        /// ```
        /// let cell = ring_core::sync::UnsafeCell::new("x");
        /// assert_eq!(cell.into_inner(), "x");
        /// ```
        #[inline(always)]
        pub fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Runs `f` with a shared raw pointer to the contents.
        ///
        /// ```
        /// let cell = ring_core::sync::UnsafeCell::new(7_u64);
        /// // SAFETY: the cell is not shared, so nobody writes it meanwhile.
        /// assert_eq!(cell.with(|p| unsafe { *p }), 7);
        /// ```
        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a mutable raw pointer to the contents.
        ///
        /// ```
        /// let cell = ring_core::sync::UnsafeCell::new(7_u64);
        /// // SAFETY: the cell is not shared, so this access is exclusive.
        /// cell.with_mut(|p| unsafe { *p += 1 });
        /// assert_eq!(cell.into_inner(), 8);
        /// ```
        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// Hints the processor that this is a spin-wait loop (`PAUSE` on x86).
    ///
    /// ```
    /// ring_core::sync::spin_loop();
    /// ```
    #[inline(always)]
    pub fn spin_loop() {
        core::hint::spin_loop();
    }

    /// Gives up the rest of this thread's time slice (std), or spins once
    /// (`no_std`, where there is no scheduler to yield to).
    ///
    /// ```
    /// ring_core::sync::yield_now();
    /// ```
    #[inline]
    pub fn yield_now() {
        #[cfg(feature = "std")]
        std::thread::yield_now();
        #[cfg(not(feature = "std"))]
        core::hint::spin_loop();
    }

    #[cfg(feature = "std")]
    pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    #[cfg(feature = "std")]
    mod rwlock {
        /// A reader-writer lock whose `read` and `write` never report
        /// poisoning (tokio's `loom/std/rwlock.rs` adapter). Its `Debug`
        /// output is `RwLock(` + std's + `)`, as tokio's.
        ///
        /// ```
        /// let l = ring_core::sync::RwLock::new(1);
        /// *l.write() += 1;
        /// assert_eq!(*l.read(), 2);
        /// ```
        #[derive(Debug, Default)]
        pub struct RwLock<T: ?Sized>(std::sync::RwLock<T>);

        /// The shared guard of [`RwLock`].
        pub type RwLockReadGuard<'a, T> = std::sync::RwLockReadGuard<'a, T>;
        /// The exclusive guard of [`RwLock`].
        pub type RwLockWriteGuard<'a, T> = std::sync::RwLockWriteGuard<'a, T>;

        impl<T> RwLock<T> {
            /// Creates an unlocked lock holding `value`.
            ///
            /// ```
            /// let l = ring_core::sync::RwLock::new("x");
            /// assert_eq!(*l.read(), "x");
            /// ```
            pub fn new(value: T) -> Self {
                Self(std::sync::RwLock::new(value))
            }
        }

        impl<T: ?Sized> RwLock<T> {
            /// Locks for reading, ignoring poisoning.
            ///
            /// ```
            /// let l = ring_core::sync::RwLock::new(3_u8);
            /// let (a, b) = (l.read(), l.read());
            /// assert_eq!(*a + *b, 6);
            /// ```
            #[inline]
            pub fn read(&self) -> RwLockReadGuard<'_, T> {
                self.0
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }

            /// Locks for writing, ignoring poisoning.
            ///
            /// ```
            /// let l = ring_core::sync::RwLock::new(0_u8);
            /// *l.write() = 9;
            /// assert_eq!(*l.read(), 9);
            /// ```
            #[inline]
            pub fn write(&self) -> RwLockWriteGuard<'_, T> {
                self.0
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }

            /// Locks for writing if nobody holds the lock, ignoring
            /// poisoning.
            ///
            /// ```
            /// let l = ring_core::sync::RwLock::new(0_u8);
            /// let r = l.read();
            /// assert!(l.try_write().is_none());
            /// drop(r);
            /// assert!(l.try_write().is_some());
            /// ```
            #[inline]
            pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
                match self.0.try_write() {
                    Ok(guard) => Some(guard),
                    Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => None,
                }
            }

            /// Locks for reading if no writer holds or waits for the lock
            /// (std's rule), ignoring poisoning.
            ///
            /// ```
            /// let l = ring_core::sync::RwLock::new(0_u8);
            /// let w = l.write();
            /// assert!(l.try_read().is_none());
            /// drop(w);
            /// assert_eq!(*l.try_read().unwrap(), 0);
            /// ```
            #[inline]
            pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
                match self.0.try_read() {
                    Ok(guard) => Some(guard),
                    Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => None,
                }
            }
        }
    }

    #[cfg(feature = "std")]
    pub use self::mutex::{Condvar, Mutex, MutexGuard};

    #[cfg(feature = "std")]
    mod mutex {
        use std::time::Duration;

        /// A mutex whose `lock` never reports poisoning.
        ///
        /// ```
        /// let m = ring_core::sync::Mutex::new(1);
        /// *m.lock() += 1;
        /// assert_eq!(*m.lock(), 2);
        /// ```
        #[derive(Debug, Default)]
        pub struct Mutex<T: ?Sized>(std::sync::Mutex<T>);

        /// The guard of [`Mutex`].
        pub type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;

        impl<T> Mutex<T> {
            /// Creates an unlocked mutex holding `value`.
            ///
            /// ```
            /// let m = ring_core::sync::Mutex::new(vec![1]);
            /// assert_eq!(m.lock().len(), 1);
            /// ```
            pub fn new(value: T) -> Self {
                Self(std::sync::Mutex::new(value))
            }
        }

        impl<T: ?Sized> Mutex<T> {
            /// Locks, ignoring poisoning.
            ///
            /// ```
            /// let m = ring_core::sync::Mutex::new(0_u8);
            /// *m.lock() = 9;
            /// assert_eq!(*m.lock(), 9);
            /// ```
            #[inline]
            pub fn lock(&self) -> MutexGuard<'_, T> {
                self.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        }

        /// A condition variable whose waits never report poisoning.
        ///
        /// ```
        /// use ring_core::sync::{Condvar, Mutex};
        ///
        /// let (m, cv) = (Mutex::new(true), Condvar::new());
        /// let mut ready = m.lock();
        /// while !*ready {
        ///     ready = cv.wait(ready);
        /// }
        /// cv.notify_all();
        /// ```
        #[derive(Debug, Default)]
        pub struct Condvar(std::sync::Condvar);

        impl Condvar {
            /// Creates a condition variable.
            ///
            /// ```
            /// let _cv = ring_core::sync::Condvar::new();
            /// ```
            pub fn new() -> Self {
                Self(std::sync::Condvar::new())
            }

            /// Blocks until notified (or spuriously woken).
            ///
            /// ```
            /// use ring_core::sync::{Condvar, Mutex};
            /// use std::sync::Arc;
            ///
            /// let pair = Arc::new((Mutex::new(false), Condvar::new()));
            /// let p2 = Arc::clone(&pair);
            /// let t = std::thread::spawn(move || {
            ///     *p2.0.lock() = true;
            ///     p2.1.notify_all();
            /// });
            /// let mut done = pair.0.lock();
            /// while !*done {
            ///     done = pair.1.wait(done);
            /// }
            /// t.join().unwrap();
            /// ```
            pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
                self.0
                    .wait(guard)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }

            /// Blocks until notified, spuriously woken, or `timeout` passes.
            ///
            /// ```
            /// use ring_core::sync::{Condvar, Mutex};
            /// use std::time::Duration;
            ///
            /// let (m, cv) = (Mutex::new(()), Condvar::new());
            /// let _guard = cv.wait_timeout(m.lock(), Duration::from_millis(1));
            /// ```
            pub fn wait_timeout<'a, T>(
                &self,
                guard: MutexGuard<'a, T>,
                timeout: Duration,
            ) -> MutexGuard<'a, T> {
                match self.0.wait_timeout(guard, timeout) {
                    Ok((guard, _)) => guard,
                    Err(poisoned) => poisoned.into_inner().0,
                }
            }

            /// Wakes every waiter.
            ///
            /// ```
            /// ring_core::sync::Condvar::new().notify_all();
            /// ```
            pub fn notify_all(&self) {
                self.0.notify_all();
            }
        }
    }
}

#[cfg(ring_loom)]
mod imp {
    pub(crate) mod atomic {
        pub use loom::sync::atomic::{
            AtomicBool, AtomicPtr, AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize,
            Ordering, fence,
        };
    }

    pub use loom::cell::UnsafeCell;
    pub use loom::future::AtomicWaker;
    pub use loom::hint::spin_loop;
    pub use loom::sync::Arc;
    pub use loom::thread::yield_now;

    pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    mod rwlock {
        use core::mem::ManuallyDrop;
        use core::ops::Deref;

        use loom::sync::atomic::{AtomicUsize, Ordering};

        /// loom's reader-writer lock, with `read`/`write` returning the
        /// guard, and a `try_write` that fails at once while a reader holds
        /// the lock, as std's does.
        ///
        /// loom 0.7's own `try_write` marks the calling thread blocked
        /// while another thread holds a read lock and resumes it (with the
        /// lock) when the last reader leaves: it never returns `WouldBlock`
        /// because of readers. That hides every interleaving in which a
        /// `try_write` loses to a reader, and reports a false deadlock when
        /// the reader waits for the `try_write`'s thread. So readers are
        /// counted here (`readers`, SeqCst: loom explores each order of the
        /// count's updates and loads), and `try_write` fails when the count
        /// is not zero. A reader counts itself before it locks and uncounts
        /// itself after it unlocks, so the count is never below the number
        /// of read locks held; a `try_write` that fails on a reader about
        /// to lock (or just unlocked) is a `try_write` std could fail by
        /// running a moment earlier (or later). One that finds the count at
        /// zero may still meet a reader locking meanwhile: loom then makes
        /// it wait for that reader, a std run in which it came just after.
        #[derive(Debug)]
        pub struct RwLock<T> {
            lock: loom::sync::RwLock<T>,
            readers: AtomicUsize,
        }

        /// The shared guard of [`RwLock`]: uncounts the reader on drop,
        /// after the unlock.
        pub struct RwLockReadGuard<'a, T> {
            guard: ManuallyDrop<loom::sync::RwLockReadGuard<'a, T>>,
            readers: &'a AtomicUsize,
        }

        /// The exclusive guard of [`RwLock`].
        pub type RwLockWriteGuard<'a, T> = loom::sync::RwLockWriteGuard<'a, T>;

        impl<T> core::fmt::Debug for RwLockReadGuard<'_, T> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct("RwLockReadGuard").finish_non_exhaustive()
            }
        }

        impl<T> Deref for RwLockReadGuard<'_, T> {
            type Target = T;

            fn deref(&self) -> &T {
                &self.guard
            }
        }

        impl<T> Drop for RwLockReadGuard<'_, T> {
            fn drop(&mut self) {
                // SAFETY: `guard` is not used again: this is the drop.
                unsafe { ManuallyDrop::drop(&mut self.guard) };
                self.readers.fetch_sub(1, Ordering::SeqCst);
            }
        }

        impl<T> RwLock<T> {
            /// Creates an unlocked lock holding `value`.
            pub fn new(value: T) -> Self {
                Self {
                    lock: loom::sync::RwLock::new(value),
                    readers: AtomicUsize::new(0),
                }
            }

            /// Locks for reading, ignoring poisoning.
            pub fn read(&self) -> RwLockReadGuard<'_, T> {
                self.readers.fetch_add(1, Ordering::SeqCst);
                let guard = self
                    .lock
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                RwLockReadGuard {
                    guard: ManuallyDrop::new(guard),
                    readers: &self.readers,
                }
            }

            /// Locks for reading if no writer holds the lock.
            pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
                self.readers.fetch_add(1, Ordering::SeqCst);
                let guard = match self.lock.try_read() {
                    Ok(guard) => guard,
                    Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock) => {
                        self.readers.fetch_sub(1, Ordering::SeqCst);
                        return None;
                    }
                };
                Some(RwLockReadGuard {
                    guard: ManuallyDrop::new(guard),
                    readers: &self.readers,
                })
            }

            /// Locks for writing, ignoring poisoning.
            pub fn write(&self) -> RwLockWriteGuard<'_, T> {
                self.lock
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }

            /// Locks for writing if nobody holds the lock; fails at once
            /// while a reader holds it (std's behaviour, above).
            pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
                if self.readers.load(Ordering::SeqCst) != 0 {
                    return None;
                }
                match self.lock.try_write() {
                    Ok(guard) => Some(guard),
                    Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                    Err(std::sync::TryLockError::WouldBlock) => None,
                }
            }
        }
    }

    pub use self::mutex::{Condvar, Mutex, MutexGuard};

    mod mutex {
        use std::time::Duration;

        /// loom's mutex, with `lock` returning the guard directly.
        #[derive(Debug, Default)]
        pub struct Mutex<T>(loom::sync::Mutex<T>);

        /// The guard of [`Mutex`].
        pub type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

        impl<T> Mutex<T> {
            /// Creates an unlocked mutex holding `value`.
            pub fn new(value: T) -> Self {
                Self(loom::sync::Mutex::new(value))
            }

            /// Locks, ignoring poisoning.
            pub fn lock(&self) -> MutexGuard<'_, T> {
                self.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        }

        /// loom's condition variable, with waits returning the guard directly.
        #[derive(Debug, Default)]
        pub struct Condvar(loom::sync::Condvar);

        impl Condvar {
            /// Creates a condition variable.
            pub fn new() -> Self {
                Self(loom::sync::Condvar::new())
            }

            /// Blocks until notified.
            pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
                self.0
                    .wait(guard)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }

            /// loom has no clock: a timed wait is modelled as an untimed one,
            /// which explores a superset of the real behaviours' wake-ups
            /// minus the time-outs (time-outs only ever add wake-ups).
            pub fn wait_timeout<'a, T>(
                &self,
                guard: MutexGuard<'a, T>,
                _timeout: Duration,
            ) -> MutexGuard<'a, T> {
                self.wait(guard)
            }

            /// Wakes every waiter.
            pub fn notify_all(&self) {
                self.0.notify_all();
            }
        }
    }
}

/// Atomic integers, [`Ordering`](atomic::Ordering) and [`fence`](atomic::fence).
pub mod atomic {
    pub use super::imp::atomic::*;
}

pub use imp::*;
