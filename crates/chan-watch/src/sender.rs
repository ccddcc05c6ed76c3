//! [`Sender`] and [`WeakSender`].

use core::fmt;
use core::future::poll_fn;

use ring_core::sync::Arc;
use ring_core::sync::atomic::Ordering;

use crate::coop::cooperative;
use crate::error::SendError;
use crate::receiver::{Receiver, Ref};
use crate::shared::Shared;
use crate::wait::Waiter;

/// Sends values to the associated [`Receiver`]s.
///
/// Instances are created by [`channel`](crate::channel), [`Sender::new`]
/// and `clone`; the channel closes when the last one is dropped.
///
/// ```
/// let (tx, rx) = chan_watch::channel(0);
/// tx.send(1).unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// ```
pub struct Sender<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

/// A sender that does not keep the channel open: [`upgrade`] gives a
/// [`Sender`] while another one lives (not in tokio's watch; proposed
/// upstream in tokio PR 8338).
///
/// [`upgrade`]: WeakSender::upgrade
///
/// ```
/// let (tx, rx) = chan_watch::channel(0);
/// let weak = tx.downgrade();
/// weak.upgrade().unwrap().send(1).unwrap();
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// assert!(rx.has_changed().is_err()); // closed
/// ```
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// A sender for a new channel whose only receiver was dropped: sends
    /// fail until [`subscribe`](Sender::subscribe) makes one.
    ///
    /// ```
    /// let tx = chan_watch::Sender::new(0);
    /// assert!(tx.send(1).is_err());
    /// let rx = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// ```
    pub fn new(init: T) -> Self {
        let (tx, _) = crate::channel(init);
        tx
    }

    /// Stores `value` and notifies every receiver, if there is one. Never
    /// waits for a [`Ref`] (not even one alive on this thread): the `Ref`
    /// keeps showing the value it was made from (crate docs).
    ///
    /// # Errors
    ///
    /// [`SendError`] with `value` when there is no receiver; the value is
    /// **not** stored.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(0);
    /// tx.send(1).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// assert_eq!(*tx.borrow(), 1);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        let old = self.shared.store(value);
        self.shared.notify_rx.ring_after_seqcst();
        // Dropped outside the lock: `T::drop` may use the channel.
        drop(old);
        Ok(())
    }

    /// Modifies the value in place and notifies every receiver, even if
    /// there is none. Waits until the [`Ref`]s of the current value are
    /// dropped (as tokio's write lock does): with one alive on this thread
    /// it waits for ever. While it waits, [`send`](Sender::send) does not
    /// wait for it: if a `send` replaces the value meanwhile, this still
    /// waits for the `Ref`s of the value it found, then modifies the value
    /// sent.
    ///
    /// `modify` runs holding the value's write lock, as tokio's does:
    /// inside it, a `borrow` of this channel (from any handle) or another
    /// write (`send`, `send_modify`, ...) on the same thread waits for
    /// ever, as with tokio; a handle's `Debug` prints `<locked>` for the
    /// value instead of waiting (tokio's does too).
    ///
    /// # Panics
    ///
    /// If `modify` panics, the panic propagates after the lock is
    /// released unpoisoned; the partial change stays visible, the version
    /// is not bumped and nobody is woken.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify<F>(&self, modify: F)
    where
        F: FnOnce(&mut T),
    {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Modifies the value in place; notifies receivers (and bumps the
    /// version) only if `modify` returns `true`. Returns what `modify`
    /// returned.
    ///
    /// # Panics
    ///
    /// As [`send_modify`](Sender::send_modify).
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(0);
    /// assert!(!tx.send_if_modified(|_| false));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| {
    ///     *v = 1;
    ///     true
    /// }));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified<F>(&self, modify: F) -> bool
    where
        F: FnOnce(&mut T) -> bool,
    {
        if !self.shared.modify(modify) {
            return false;
        }
        // One load when nobody waits: the bump above was SeqCst.
        self.shared.notify_rx.ring_after_seqcst();
        true
    }

    /// Stores `value`, notifies every receiver (even if there is none) and
    /// returns the previous value. Waits for the [`Ref`]s of the current
    /// value, as [`send_modify`](Sender::send_modify) does.
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(tx.send_replace(3), 2);
    /// ```
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| core::mem::swap(old, &mut value));
        value
    }

    /// A reference to the current value (`has_changed` is always `false`),
    /// as [`Receiver::borrow`]'s.
    ///
    /// # Panics
    ///
    /// As [`Receiver::borrow`] (about 2^27 `Ref`s alive or leaked on a
    /// 32-bit target).
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(5);
    /// assert_eq!(*tx.borrow(), 5);
    /// assert!(!tx.borrow().has_changed());
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref::current(&self.shared, None).0
    }

    /// Whether every receiver is gone.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Resolves when every receiver is gone. Re-checks on each poll: a
    /// receiver subscribed after the wake-up keeps it pending. Spends
    /// tokio's cooperative budget (feature `tokio`).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = chan_watch::channel(());
    /// tokio::spawn(async move { drop(rx) });
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    pub async fn closed(&self) {
        cooperative(async {
            let shared = &*self.shared;
            let mut waiter = Waiter::new(&shared.notify_tx);
            poll_fn(|cx| waiter.poll(cx, || (shared.receiver_count() == 0).then_some(()))).await;
        })
        .await;
    }

    /// A new receiver; the current value counts as seen by it. Reopens a
    /// channel whose receivers were all dropped.
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(0);
    /// tx.send(1).unwrap();
    /// let rx2 = tx.subscribe();
    /// assert!(!rx2.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let version = self.shared.state.load().version();
        Receiver::from_shared(version, Arc::clone(&self.shared))
    }

    /// The number of receivers.
    ///
    /// ```
    /// let (tx, rx) = chan_watch::channel(());
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }

    /// The number of senders (strong ones: [`WeakSender`]s do not count).
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(());
    /// let _tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// ```
    pub fn sender_count(&self) -> usize {
        // Relaxed: a count (tokio's).
        self.shared.ref_count_tx.load(Ordering::Relaxed)
    }

    /// Whether both senders belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(());
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&chan_watch::Sender::new(())));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakSender`] for this channel.
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(());
    /// let weak = tx.downgrade();
    /// assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
    /// # drop(weak);
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        // Relaxed: a count.
        self.shared.ref_count_weak.fetch_add(1, Ordering::Relaxed);
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The number of senders ([`sender_count`](Sender::sender_count)).
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(());
    /// assert_eq!(tx.strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.sender_count()
    }

    /// The number of [`WeakSender`]s.
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(());
    /// let _w = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        // Relaxed: a count.
        self.shared.ref_count_weak.load(Ordering::Relaxed)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        // Relaxed: a count; the clone is made from a live sender.
        self.shared.ref_count_tx.fetch_add(1, Ordering::Relaxed);
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: Default> Default for Sender<T> {
    /// `Sender::new(T::default())`.
    ///
    /// ```
    /// let tx: chan_watch::Sender<u8> = Default::default();
    /// assert_eq!(*tx.borrow(), 0);
    /// ```
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // AcqRel: the last sender's drop sees every other sender's writes
        // (tokio's); upgrades race it through the compare-exchange below.
        if self.shared.ref_count_tx.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.state.set_closed();
            self.shared.notify_rx.ring_after_seqcst();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("shared", &*self.shared)
            .finish()
    }
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if one is still alive.
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(0);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let count = &self.shared.ref_count_tx;
        // Relaxed: the compare-exchange re-reads it.
        let mut n = count.load(Ordering::Relaxed);
        loop {
            if n == 0 {
                return None;
            }
            // Acquire on success: pairs with the AcqRel decrement of a
            // sender dropped before; Relaxed on failure, we retry.
            match count.compare_exchange_weak(n, n + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => {
                    return Some(Sender {
                        shared: Arc::clone(&self.shared),
                    });
                }
                Err(actual) => n = actual,
            }
        }
    }

    /// The number of [`Sender`]s.
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(());
    /// assert_eq!(tx.downgrade().strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        // Relaxed: a count.
        self.shared.ref_count_tx.load(Ordering::Relaxed)
    }

    /// The number of `WeakSender`s.
    ///
    /// ```
    /// let (tx, _rx) = chan_watch::channel(());
    /// let w = tx.downgrade();
    /// let _w2 = w.clone();
    /// assert_eq!(w.weak_count(), 2);
    /// ```
    pub fn weak_count(&self) -> usize {
        // Relaxed: a count.
        self.shared.ref_count_weak.load(Ordering::Relaxed)
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        // Relaxed: a count.
        self.shared.ref_count_weak.fetch_add(1, Ordering::Relaxed);
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        // Relaxed: a count.
        self.shared.ref_count_weak.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}
