//! The lossy sending half, [`Sender`], and [`WeakSender`].

use core::fmt;

use ring_core::sync::Arc;

use crate::close::Closing;
use crate::error::SendError;
use crate::receiver::Receiver;
use crate::shared::Shared;

/// The sending half of a broadcast channel. Cloneable; every clone sends
/// into the same channel, and the channel closes when the last one drops
/// (or one calls [`close`](Sender::close)).
///
/// `send` never waits for a slow receiver: when the ring is full the oldest
/// value is overwritten and receivers that had not read it get `Lagged`.
/// It does wait, briefly, for other threads inside the channel: a
/// receiver's `T::clone` of the value it overwrites (the slot lock), a
/// sender that claimed the position before it (commits are in order), and
/// a subscribe or receiver drop changing the receiver count (the gate), as
/// tokio's `send` waits for its tail lock.
///
/// ```
/// let (tx, mut rx) = chan_broadcast::channel(16);
/// let tx2 = tx.clone();
/// tx.send(1).unwrap();
/// tx2.send(2).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(2));
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A sender that does not keep the channel open: when every [`Sender`] is
/// gone the channel closes and [`upgrade`](WeakSender::upgrade) returns
/// `None`.
///
/// ```
/// let (tx, _rx) = chan_broadcast::channel::<u8>(16);
/// let weak = tx.downgrade();
/// assert!(weak.upgrade().is_some());
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

/// Checks a capacity the way tokio does and rounds it up to a power of two.
#[track_caller]
pub(crate) fn slots_for(capacity: usize) -> usize {
    assert!(capacity > 0, "broadcast channel capacity cannot be zero");
    assert!(
        capacity <= usize::MAX >> 1,
        "broadcast channel capacity exceeded `usize::MAX / 2`"
    );
    capacity.next_power_of_two()
}

impl<T> Sender<T> {
    /// A sender with no receiver yet; receivers come from
    /// [`subscribe`](Sender::subscribe). Capacity as in
    /// [`channel`](crate::channel).
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 or above `usize::MAX / 2` (tokio's texts), or if
    /// its slots cannot be allocated (there tokio aborts, or panics inside
    /// `alloc` with "capacity overflow"), at the caller's line.
    ///
    /// ```
    /// let tx = chan_broadcast::Sender::<u32>::new(8);
    /// assert!(tx.send(1).is_err()); // nobody listens yet
    /// let mut rx = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        let slots = slots_for(capacity);
        Sender {
            shared: Arc::new(Shared::new(slots, false)),
        }
    }

    /// Sends `value` to every receiver alive now. Returns how many that is.
    /// Never waits for a slow receiver: on a full ring the oldest value is
    /// overwritten. (It may wait for a clone of that value in progress; see
    /// [`Sender`].)
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver (nothing is
    /// stored) or the channel was closed.
    ///
    /// ```
    /// let (tx, rx) = chan_broadcast::channel(16);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send(5).unwrap(), 2);
    /// drop((rx, _rx2));
    /// assert_eq!(tx.send(6).unwrap_err().0, 6);
    /// ```
    #[inline(always)]
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let Ok(q) = self.shared.claim() else {
            return Err(SendError(value));
        };
        let n = self.shared.receivers_for_claim();
        if n == 0 {
            drop(self.shared.publish(q, None, 0));
            return Err(SendError(value));
        }
        // The value it replaced (if still unread by someone, they lag).
        drop(self.shared.publish(q, Some(value), n));
        Ok(n)
    }

    /// A new receiver that sees every value sent after this call.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel(16);
    /// tx.send(1).unwrap();
    /// let mut rx2 = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx2.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::subscribe_to(&self.shared)
    }

    /// A new receiver that starts at the oldest value the channel still
    /// holds (one some receiver has yet to read), rather than after the
    /// newest. tokio issue 7313. It visits every slot once (`capacity`
    /// short lock holds) while new sends wait.
    ///
    /// ```
    /// let (tx, mut rx) = chan_broadcast::channel(16);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// let mut late = tx.subscribe_from_oldest();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    pub fn subscribe_from_oldest(&self) -> Receiver<T> {
        Receiver::from_oldest_of(&self.shared)
    }

    /// The number of values still held for some receiver: a value counts
    /// until every receiver alive when it was sent has read it, or it is
    /// overwritten.
    ///
    /// ```
    /// let (tx, mut rx1) = chan_broadcast::channel(16);
    /// let mut rx2 = tx.subscribe();
    /// tx.send(10).unwrap();
    /// tx.send(20).unwrap();
    /// rx1.try_recv().unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx2.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.queued()
    }

    /// Whether [`len`](Sender::len) is zero.
    ///
    /// ```
    /// let (tx, mut rx) = chan_broadcast::channel(16);
    /// assert!(tx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of live receivers.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<()>(16);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }

    /// Whether both senders belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<()>(16);
    /// let tx2 = tx.clone();
    /// assert!(tx.same_channel(&tx2));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Resolves once there are no receivers. Not latched: a receiver
    /// subscribed later makes it wait again.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = chan_broadcast::channel::<()>(16);
    /// let waiter = tokio::spawn({
    ///     let tx = tx.clone();
    ///     async move { tx.closed().await }
    /// });
    /// drop(rx);
    /// waiter.await.unwrap();
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.shared.no_receivers().await;
    }

    /// A [`WeakSender`] for this channel.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<()>(16);
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// assert!(weak.upgrade().unwrap().same_channel(&tx));
    /// ```
    ///
    /// `#[must_use]`, as tokio's: a weak sender dropped at once is a bug.
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// let (tx, _rx) = chan_broadcast::channel::<()>(16);
    /// tx.downgrade();
    /// ```
    #[must_use = "Downgrade creates a WeakSender without destroying the original non-weak sender."]
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.add_weak();
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The number of [`Sender`] handles.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<()>(16);
    /// let _tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.shared.sender_count()
    }

    /// The number of [`WeakSender`] handles.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<()>(16);
    /// assert_eq!(tx.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.shared.weak_count()
    }

    /// Closes the channel for every sender and turns this one into a
    /// [`Closing`] handle, which can no longer send. Receivers read what is
    /// buffered, then get `Closed`; [`Closing::drained`] waits for that.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use chan_broadcast::error::RecvError;
    ///
    /// let (tx, mut rx) = chan_broadcast::channel(16);
    /// let other = tx.clone();
    /// tx.send(1).unwrap();
    /// let closing = tx.close();
    /// assert!(other.send(2).is_err());
    /// assert_eq!(rx.recv().await, Ok(1));
    /// assert_eq!(rx.recv().await, Err(RecvError::Closed));
    /// let _closed = closing.drained().await;
    /// # });
    /// ```
    pub fn close(self) -> Closing<T> {
        // `self` drops after: its strong count goes, the channel is closed.
        Closing::begin(&self.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.add_sender();
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio: the handle's name, no internal state.
        f.write_str("broadcast::Sender")
    }
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if one is still alive and the channel is open.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// let tx2 = weak.upgrade().unwrap();
    /// drop(tx);
    /// assert_eq!(tx2.send(1).unwrap(), 1);
    /// ```
    ///
    /// `#[must_use]`, as tokio's:
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// let (tx, _rx) = chan_broadcast::channel::<()>(16);
    /// tx.downgrade().upgrade();
    /// ```
    #[must_use]
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.shared.try_add_sender().then(|| Sender {
            shared: Arc::clone(&self.shared),
        })
    }

    /// The number of [`Sender`] handles.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<u8>(4);
    /// assert_eq!(tx.downgrade().strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.shared.sender_count()
    }

    /// The number of [`WeakSender`] handles.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// let _weak2 = weak.clone();
    /// assert_eq!(weak.weak_count(), 2);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.shared.weak_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.shared.add_weak();
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.drop_weak();
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio: the handle's name, no internal state.
        f.write_str("broadcast::WeakSender")
    }
}
