//! [`Receiver`] and [`Ref`].

use core::fmt;
use core::future::poll_fn;
use core::marker::PhantomData;
use core::ops;
use core::ptr::NonNull;

use ring_core::sync::Arc;
use ring_core::sync::atomic::Ordering;

use crate::coop::cooperative;
use crate::error::RecvError;
use crate::shared::Shared;
use crate::slot::{Parking, Slot};
use crate::state::Version;
use crate::stream::WatchStream;
use crate::wait::Waiter;

/// Receives values from the associated [`Sender`](crate::Sender).
///
/// Instances are created by [`channel`](crate::channel),
/// [`Sender::subscribe`](crate::Sender::subscribe) and `clone`.
///
/// ```
/// let (tx, rx) = chan_watch::channel("hello");
/// assert_eq!(*rx.borrow(), "hello");
/// # drop(tx);
/// ```
pub struct Receiver<T> {
    pub(crate) shared: Arc<Shared<T>>,
    /// The last version this receiver has seen.
    pub(crate) version: Version,
}

/// A reference to the value inside the channel, returned by `borrow`,
/// `borrow_and_update` and `wait_for`.
///
/// Unlike tokio's, it does not lock the channel's value against `send`:
/// a `send` on the same thread while it lives does not deadlock (tokio
/// issues 4246, 4360, 4741); the `Ref` goes on showing the value it was
/// made from (crate docs, `shared.rs`). Methods that change the value in
/// place or hand the old one back, `send_modify`, `send_if_modified` and
/// `send_replace`, wait until the current value's `Ref`s are dropped, as
/// tokio's write lock does: call them with such a `Ref` alive on the same
/// thread and they wait for ever. Like tokio's, it is `!Send`.
///
/// ```
/// let (tx, rx) = chan_watch::channel(1);
/// let r = rx.borrow();
/// tx.send(2).unwrap(); // no deadlock
/// assert_eq!(*r, 1); // the value it was made from
/// assert!(!r.has_changed());
/// drop(r);
/// assert_eq!(*rx.borrow(), 2);
/// ```
pub struct Ref<'a, T> {
    /// The slot this `Ref` read-locks until its drop: a `&'a Slot<T>`
    /// with `T` erased, so that `Ref` is covariant in `T` as tokio's is
    /// (a `RwLockReadGuard<'a, T>`, which holds a `NonNull<T>`):
    /// `&Slot<T>` is invariant in `T` (the slot's `UnsafeCell`). Read
    /// back through [`Ref::slot`].
    slot: NonNull<()>,
    /// The channel's sleepers, for the unlock (no `T` in it).
    parking: &'a Parking,
    has_changed: bool,
    /// `!Send`, as tokio's (a read guard): the unlock may run the
    /// replaced value's drop, on the thread that made the `Ref`. The
    /// `&'a T` makes the `Ref` covariant in `'a` and `T` and gives
    /// tokio's unwind safety (a read guard's: `T: RefUnwindSafe`).
    _not_send: PhantomData<(&'a T, *const ())>,
}

// SAFETY: through a shared `&Ref` another thread gets only `&T` (`Deref`,
// `Debug`) and `has_changed`; the slot pointer and `&Parking` the `Ref`
// also holds are used for the unlock only, by its `drop`, which needs the
// `Ref` itself (and a `Ref` is `!Send`: `_not_send`). So sharing a `Ref`
// shares a `&T` and nothing else, as tokio's `RwLockReadGuard`-based
// `Ref` does: `Sync` when `T: Sync`, despite the raw pointer and
// `_not_send`.
unsafe impl<T: Sync> Sync for Ref<'_, T> {}

impl<T> Ref<'_, T> {
    /// Whether this value had not been seen by the receiver when it was
    /// borrowed (always `false` for [`Sender::borrow`](crate::Sender::borrow)).
    ///
    /// `borrow_and_update` marks the value seen, but this still reports
    /// what it was before.
    ///
    /// ```
    /// let (tx, mut rx) = chan_watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert!(rx.borrow().has_changed());
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.borrow().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> ops::Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this `Ref` holds the slot's read lock until its drop,
        // which needs `&mut self`, so the borrow ends first.
        unsafe { self.slot().entry() }
            .value
            .as_ref()
            .expect("a Ref's slot holds a value while it is read")
    }
}

impl<T> Drop for Ref<'_, T> {
    fn drop(&mut self) {
        // The last reader of a replaced value drops it (slot.rs).
        // Dropped outside every lock (`T::drop` may use the channel).
        drop(self.slot().read_unlock(self.parking));
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ref")
            .field("inner", &&**self)
            .field("has_changed", &self.has_changed)
            .finish()
    }
}

impl<'a, T> Ref<'a, T> {
    /// The slot this `Ref` read-locks.
    fn slot(&self) -> &Slot<T> {
        // SAFETY: `slot` was made (in `current`) from a `&'a Slot<U>` of
        // the channel this `Ref` borrows for `'a`, and slots live as long
        // as the channel (never freed before it), so the pointer is valid
        // and aligned. `T` is `U` or, through the covariance this erasure
        // exists for, a supertype of `U`: the same type but for lifetimes,
        // so `Slot<T>` has `Slot<U>`'s layout and drop glue. Through it
        // the `Ref` only reads a `&T` (a `&U` seen with shorter
        // lifetimes: what covariance allows) and, in `read_unlock`, may
        // take the replaced value out and drop it (writing `None`, valid
        // for both); it never writes a `T` into the slot, the one thing
        // invariance would guard against.
        unsafe { self.slot.cast::<Slot<T>>().as_ref() }
    }

    /// A `Ref` of the current value; `seen` is the receiver's version, if
    /// any (`None`: the sender's borrow, never changed). Returns the
    /// value's version too.
    pub(crate) fn current(shared: &'a Shared<T>, seen: Option<Version>) -> (Self, Version) {
        let slot = shared.read();
        // SAFETY: read-locked by `read`; the `Ref` made below unlocks it.
        let version = unsafe { slot.entry() }.version;
        let r = Ref {
            slot: NonNull::from(slot).cast(),
            parking: shared.parking(),
            has_changed: seen.is_some_and(|v| v != version),
            _not_send: PhantomData,
        };
        (r, version)
    }
}

impl<T> Receiver<T> {
    pub(crate) fn from_shared(version: Version, shared: Arc<Shared<T>>) -> Self {
        // Relaxed: a count, not a handover (tokio's).
        shared.ref_count_rx.fetch_add(1, Ordering::Relaxed);
        Receiver { shared, version }
    }

    /// Returns a reference to the most recent value, without marking it
    /// seen.
    ///
    /// The [`Ref`] does not block `send`, but `send_modify`,
    /// `send_if_modified` and `send_replace` wait until it is dropped: do
    /// not keep it alive across one of those on the same thread, nor for
    /// long. For `T: Clone`, [`get`](Receiver::get) copies the value out.
    ///
    /// # Panics
    ///
    /// If 2^30 - 2 `Ref`s of one value are alive or leaked (`mem::forget`),
    /// with tokio's message ("too many active read locks on RwLock"), as
    /// tokio's `borrow` (std's `RwLock::read`) panics on 64-bit Linux; on
    /// a 32-bit target at about 2^27 already (the count must not wrap).
    /// The same holds for every method that returns or clones the value.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel("hello");
    /// assert_eq!(*rx.borrow(), "hello");
    /// tx.send("goodbye").unwrap();
    /// assert_eq!(*rx.borrow(), "goodbye");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref::current(&self.shared, Some(self.version)).0
    }

    /// Returns a reference to the most recent value and marks it seen.
    ///
    /// The [`Ref`] is [`borrow`](Receiver::borrow)'s; see
    /// [`get_and_update`](Receiver::get_and_update) for a copy.
    ///
    /// ```
    /// let (tx, mut rx) = chan_watch::channel(0);
    /// tx.send(5).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// assert_eq!(*rx.borrow_and_update(), 5);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let (r, version) = Ref::current(&self.shared, Some(self.version));
        self.version = version;
        r
    }

    /// A clone of the most recent value, without marking it seen (not in
    /// tokio). `T::clone` runs under the slot's read lock (it must not
    /// call `send_modify` on this channel); the result keeps nothing
    /// locked, so it can be kept across any send and `.await`.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(String::from("a"));
    /// let v = rx.get();
    /// tx.send(String::from("b")).unwrap(); // no deadlock: `v` holds no lock
    /// assert_eq!(v, "a");
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        T::clone(&self.borrow())
    }

    /// A clone of the most recent value, marked seen (not in tokio):
    /// `borrow_and_update().clone()` as a value that keeps nothing locked.
    ///
    /// ```
    /// let (tx, mut rx) = chan_watch::channel(0);
    /// tx.send(3).unwrap();
    /// let v = rx.get_and_update();
    /// tx.send(4).unwrap(); // `v` holds no lock
    /// assert_eq!(v, 3);
    /// assert_eq!(rx.get_and_update(), 4);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn get_and_update(&mut self) -> T
    where
        T: Clone,
    {
        self.borrow_and_update().clone()
    }

    /// Whether the current value has not been seen yet.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone, even if the current value
    /// is unseen (tokio's behaviour).
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(0);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load();
        if state.is_closed() {
            return Err(RecvError(()));
        }
        Ok(self.version != state.version())
    }

    /// Whether every sender is gone.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(());
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.state.load().is_closed()
    }

    /// Marks the current value unseen, so the next `changed()` returns at
    /// once. Can be called repeatedly.
    ///
    /// ```
    /// let (_tx, mut rx) = chan_watch::channel(0);
    /// rx.mark_changed();
    /// rx.mark_changed();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn mark_changed(&mut self) {
        self.version.decrement();
    }

    /// Marks the current value seen.
    ///
    /// ```
    /// let (tx, mut rx) = chan_watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.state.load().version();
    }

    /// Waits for a value not seen yet, and marks it seen.
    ///
    /// Returns at once if the current value is unseen, even when every
    /// sender is gone. Cancel safe. Spends one unit of tokio's cooperative
    /// budget per poll (feature `tokio`).
    ///
    /// # Errors
    ///
    /// [`RecvError`] when every sender is gone and the current value was
    /// seen.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = chan_watch::channel("hello");
    /// let t = tokio::spawn(async move { tx.send("goodbye").unwrap() });
    /// assert!(rx.changed().await.is_ok());
    /// assert_eq!(*rx.borrow_and_update(), "goodbye");
    /// t.await.unwrap();
    /// assert!(rx.changed().await.is_err()); // the sender is gone
    /// # });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        cooperative(changed_impl(&self.shared, &mut self.version)).await
    }

    /// Waits for a value that satisfies `f`, testing the current value
    /// first (even if seen), then each new one; marks every value it tests
    /// seen. A panic in `f` propagates and poisons nothing.
    ///
    /// The returned [`Ref`] is one of `borrow`'s.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when every sender is gone and the last value was seen
    /// (and did not satisfy `f`).
    ///
    /// # Panics
    ///
    /// If `f` panics, the panic propagates; the value it was testing is
    /// marked seen and nothing is poisoned.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = chan_watch::channel(0);
    /// tokio::spawn(async move {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///         tokio::task::yield_now().await;
    ///     }
    /// });
    /// assert_eq!(*rx.wait_for(|v| *v >= 3).await.unwrap() >= 3, true);
    /// # });
    /// ```
    pub async fn wait_for(&mut self, f: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        cooperative(self.wait_for_inner(f)).await
    }

    async fn wait_for_inner(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let mut closed = false;
        loop {
            {
                let (r, version) = Ref::current(&self.shared, Some(self.version));
                self.version = version;
                // A read guard never poisons: a panic in `f` unwinds
                // through the `Ref` and leaves the lock as it found it.
                if (!closed || r.has_changed) && f(&r) {
                    return Ok(r);
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = changed_impl(&self.shared, &mut self.version).await.is_err();
        }
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(());
    /// let rx2 = rx.clone();
    /// assert!(rx.same_channel(&rx2));
    /// let (_tx3, rx3) = chan_watch::channel(());
    /// assert!(!rx3.same_channel(&rx2));
    /// # drop(tx);
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) of clones of the value: the
    /// current one first, then every change; it ends once every sender is
    /// gone and the last value was yielded. Replaces tokio-stream's
    /// `WatchStream::new(rx)`; see [`WatchStream::from_changes`] for
    /// changes only.
    ///
    /// ```
    /// use futures::StreamExt;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = chan_watch::channel(1);
    /// let mut s = rx.into_stream();
    /// assert_eq!(s.next().await, Some(1));
    /// tx.send(2).unwrap();
    /// drop(tx);
    /// assert_eq!(s.next().await, Some(2));
    /// assert_eq!(s.next().await, None);
    /// # });
    /// ```
    pub fn into_stream(self) -> WatchStream<T>
    where
        T: Clone,
    {
        WatchStream::new(self)
    }
}

/// Waits until `version` is out of date or the channel closes.
pub(crate) async fn changed_impl<T>(
    shared: &Shared<T>,
    version: &mut Version,
) -> Result<(), RecvError> {
    let mut waiter = Waiter::new(&shared.notify_rx);
    poll_fn(|cx| waiter.poll(cx, || shared.maybe_changed(version))).await
}

impl<T> Clone for Receiver<T> {
    /// A receiver that has seen what this one has.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(0);
    /// tx.send(1).unwrap();
    /// let rx2 = rx.clone();
    /// assert!(rx2.has_changed().unwrap());
    /// ```
    fn clone(&self) -> Self {
        Receiver::from_shared(self.version, Arc::clone(&self.shared))
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // SeqCst: the writer's half of the `notify_tx` Dekker pair with a
        // sender waiting in `closed()`.
        if self.shared.ref_count_rx.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.notify_tx.ring_after_seqcst();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("shared", &*self.shared)
            .field("version", &self.version)
            .finish()
    }
}
