//! The lossless mode: [`LosslessSender`], whose sends wait for space.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use ring_core::sync::Arc;

use crate::TrySendError;
use crate::close::Closing;
use crate::error::SendError;
use crate::receiver::Receiver;
use crate::shared::{ClaimError, Shared};

/// The sending half of a lossless channel (from
/// [`channel_lossless`](crate::channel_lossless)). A send waits until the
/// slowest receiver has read the value it would replace, so no value is
/// ever overwritten and receivers never lag (a receiver whose `T::clone`
/// panics skips that value, as in the lossy mode). Senders that wait are served in the
/// order they started waiting.
///
/// Receivers are the same [`Receiver`] type as the lossy channel's.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = chan_broadcast::channel_lossless(2);
/// let producer = tokio::spawn(async move {
///     for i in 0..100 {
///         tx.send(i).await.unwrap();
///     }
/// });
/// for i in 0..100 {
///     assert_eq!(rx.recv().await, Ok(i)); // never Lagged
/// }
/// producer.await.unwrap();
/// # });
/// ```
pub struct LosslessSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> LosslessSender<T> {
    pub(crate) fn from_shared(shared: Arc<Shared<T>>) -> Self {
        LosslessSender { shared }
    }

    /// Sends `value` to every receiver alive now, waiting while the ring is
    /// full. Returns how many receivers that is.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver or the channel
    /// is closed (also while waiting).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes, nothing
    /// was sent and its place in the queue passes to the next sender.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = chan_broadcast::channel_lossless(4);
    /// assert_eq!(tx.send("a").await.unwrap(), 1);
    /// assert_eq!(rx.recv().await, Ok("a"));
    /// # });
    /// ```
    pub fn send(&self, value: T) -> LosslessSend<'_, T> {
        LosslessSend {
            tx: self,
            value: Some(value),
            ticket: None,
        }
    }

    /// Sends `value` if there is space now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the slowest receiver has not read the value
    /// this would replace (or other senders are already waiting: they go
    /// first); [`TrySendError::Closed`] if there is no receiver or the
    /// channel is closed.
    ///
    /// ```
    /// use chan_broadcast::TrySendError;
    ///
    /// let (tx, mut rx) = chan_broadcast::channel_lossless(1);
    /// assert_eq!(tx.try_send(1), Ok(1));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(tx.try_send(2), Ok(1));
    /// ```
    pub fn try_send(&self, value: T) -> Result<usize, TrySendError<T>> {
        if self.shared.send_queue.has_waiters() {
            // Senders wait ahead of this one; but with no receiver or a
            // closed channel a send fails whatever the queue holds.
            if self.shared.refuses_sends() {
                return Err(TrySendError::Closed(value));
            }
            return Err(TrySendError::Full(value));
        }
        match self.shared.send_lossless(value) {
            Ok(n) => Ok(n),
            Err((ClaimError::Closed, value)) => Err(TrySendError::Closed(value)),
            Err((ClaimError::Full, value)) => Err(TrySendError::Full(value)),
        }
    }

    /// Sends `value`, blocking the thread while the ring is full. For
    /// synchronous code.
    ///
    /// # Panics
    ///
    /// With the `tokio` feature, when called on a thread that drives async
    /// tasks, with tokio's own message, located at the caller's line (as
    /// tokio's `blocking_send` on its bounded channels).
    ///
    /// # Errors
    ///
    /// As [`send`](LosslessSender::send).
    ///
    /// ```
    /// let (tx, mut rx) = chan_broadcast::channel_lossless(1);
    /// tx.blocking_send(1).unwrap();
    /// let t = std::thread::spawn(move || tx.blocking_send(2)); // waits for rx
    /// assert_eq!(rx.blocking_recv(), Ok(1));
    /// assert_eq!(t.join().unwrap().unwrap(), 1);
    /// assert_eq!(rx.blocking_recv(), Ok(2));
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<usize, SendError<T>> {
        crate::block::block_on(self.send(value))
    }

    /// A new receiver that sees every value sent after this call.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// let mut rx2 = tx.subscribe();
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx2.try_recv(), Ok(1));
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::subscribe_to(&self.shared)
    }

    /// A new receiver starting at the oldest value still held.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// tx.try_send(1).unwrap();
    /// let mut late = tx.subscribe_from_oldest();
    /// assert_eq!(late.try_recv(), Ok(1));
    /// ```
    pub fn subscribe_from_oldest(&self) -> Receiver<T> {
        Receiver::from_oldest_of(&self.shared)
    }

    /// The number of values still held for some receiver.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.queued()
    }

    /// Whether [`len`](LosslessSender::len) is zero.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of slots: how many values fit before a send waits.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(3);
    /// assert_eq!(tx.capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// The number of live receivers.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// assert_eq!(tx.receiver_count(), 1);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }

    /// Whether both senders belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Resolves once there are no receivers (not latched).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// drop(rx);
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.shared.no_receivers().await;
    }

    /// A [`WeakLosslessSender`] for this channel: it does not keep the
    /// channel open, as [`Sender::downgrade`](crate::Sender::downgrade).
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// assert!(weak.upgrade().unwrap().same_channel(&tx));
    /// drop(tx);
    /// assert!(weak.upgrade().is_none(), "the last strong sender closed it");
    /// ```
    #[must_use = "Downgrade creates a WeakLosslessSender without destroying the original non-weak sender."]
    pub fn downgrade(&self) -> WeakLosslessSender<T> {
        self.shared.add_weak();
        WeakLosslessSender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The number of [`LosslessSender`] handles.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// let _tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.shared.sender_count()
    }

    /// The number of [`WeakLosslessSender`] handles.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// let _weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.shared.weak_count()
    }

    /// Closes the channel for every sender (waiting sends fail) and turns
    /// this one into a [`Closing`] handle.
    ///
    /// ```
    /// let (tx, mut rx) = chan_broadcast::channel_lossless(4);
    /// tx.try_send(1).unwrap();
    /// let closing = tx.close();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(closing.is_drained());
    /// ```
    pub fn close(self) -> Closing<T> {
        // `self` drops after: its strong count goes, the channel is closed.
        Closing::begin(&self.shared)
    }
}

impl<T> Clone for LosslessSender<T> {
    fn clone(&self) -> Self {
        self.shared.add_sender();
        LosslessSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for LosslessSender<T> {
    fn drop(&mut self) {
        self.shared.drop_sender();
    }
}

impl<T> fmt::Debug for LosslessSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio: the handle's name, no internal state.
        f.write_str("broadcast::LosslessSender")
    }
}

/// A lossless sender that does not keep the channel open (from
/// [`LosslessSender::downgrade`]): the same surface as
/// [`WeakSender`](crate::WeakSender).
///
/// ```
/// let (tx, mut rx) = chan_broadcast::channel_lossless::<u8>(4);
/// let weak = tx.downgrade();
/// let tx2 = weak.upgrade().unwrap();
/// drop(tx);
/// assert_eq!(tx2.try_send(1), Ok(1));
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct WeakLosslessSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> WeakLosslessSender<T> {
    /// A [`LosslessSender`], if one is still alive and the channel is open.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// let _closing = tx.close();
    /// assert!(weak.upgrade().is_none(), "closed");
    /// ```
    #[must_use]
    pub fn upgrade(&self) -> Option<LosslessSender<T>> {
        self.shared
            .try_add_sender()
            .then(|| LosslessSender::from_shared(Arc::clone(&self.shared)))
    }

    /// The number of [`LosslessSender`] handles.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// assert_eq!(tx.downgrade().strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.shared.sender_count()
    }

    /// The number of [`WeakLosslessSender`] handles.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(4);
    /// let weak = tx.downgrade();
    /// let _weak2 = weak.clone();
    /// assert_eq!(weak.weak_count(), 2);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.shared.weak_count()
    }
}

impl<T> Clone for WeakLosslessSender<T> {
    fn clone(&self) -> Self {
        self.shared.add_weak();
        WeakLosslessSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for WeakLosslessSender<T> {
    fn drop(&mut self) {
        self.shared.drop_weak();
    }
}

impl<T> fmt::Debug for WeakLosslessSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio's weak sender: the handle's name, no internal state.
        f.write_str("broadcast::WeakLosslessSender")
    }
}

/// The future of [`LosslessSender::send`]: named and `Unpin`.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Poll, Waker};
///
/// let (tx, mut rx) = chan_broadcast::channel_lossless(1);
/// tx.try_send(1).unwrap();
/// let mut cx = Context::from_waker(Waker::noop());
/// let mut send = tx.send(2);
/// assert!(Pin::new(&mut send).poll(&mut cx).is_pending()); // full
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert!(matches!(Pin::new(&mut send).poll(&mut cx), Poll::Ready(Ok(1))));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct LosslessSend<'a, T> {
    tx: &'a LosslessSender<T>,
    value: Option<T>,
    /// Place in the send queue, once it had to wait.
    ticket: Option<u64>,
}

impl<T> Unpin for LosslessSend<'_, T> {}

impl<T> Future for LosslessSend<'_, T> {
    type Output = Result<usize, SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Before anything touches the channel: a claim made here could never
        // be committed (there is no value to write), and every later send,
        // subscribe and receiver drop would wait for it for ever.
        assert!(
            self.value.is_some(),
            "`LosslessSend` polled after completion"
        );
        // One unit of tokio's budget per send, as tokio's bounded senders;
        // given back (by dropping `coop`) when the send has to wait.
        let coop = ready!(crate::coop::poll_proceed(cx));
        let out = self.get_mut().poll_send(cx);
        if out.is_ready() {
            coop.made_progress();
            // Its drop would restore nothing now: skip the call.
            core::mem::forget(coop);
        }
        out
    }
}

impl<T> LosslessSend<'_, T> {
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize, SendError<T>>> {
        let this = self;
        let shared = &*this.tx.shared;
        let queue = &shared.send_queue;
        // Registered (or refreshed) in the queue during this poll: the next
        // look that finds no room returns `Pending` (see `queue.rs`: a
        // registration followed by a look under the slot lock loses no
        // wake-up).
        let mut registered = false;
        loop {
            // Falls through when this sender must wait: another is ahead
            // of it in the queue, or the ring is full.
            if !queue.may_claim(this.ticket) {
                if shared.refuses_sends() {
                    break;
                }
            } else {
                // Checked in `poll`, before anything touched the channel.
                let value = this.value.take().expect("value present");
                match shared.send_lossless(value) {
                    Ok(n) => {
                        // Committed first: leaving the queue drops this
                        // future's waker, and a waker's drop may use the
                        // channel, which must not wait on our claim.
                        queue.leave(&mut this.ticket);
                        return Poll::Ready(Ok(n));
                    }
                    Err((ClaimError::Closed, value)) => {
                        this.value = Some(value);
                        break;
                    }
                    Err((ClaimError::Full, value)) => this.value = Some(value),
                }
            }
            if registered {
                return Poll::Pending;
            }
            // Cloned and (a replaced one) dropped outside every lock: a
            // waker's clone and drop are user code.
            let mut fresh = Some(cx.waker().clone());
            queue.register(&mut this.ticket, &mut fresh);
            drop(fresh);
            registered = true;
        }
        queue.leave(&mut this.ticket);
        let value = this.value.take().expect("value present");
        Poll::Ready(Err(SendError(value)))
    }
}

impl<T> Drop for LosslessSend<'_, T> {
    fn drop(&mut self) {
        // Cancel-safe: give up the place, passing the turn on.
        self.tx.shared.send_queue.leave(&mut self.ticket);
    }
}

impl<T> fmt::Debug for LosslessSend<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio: the handle's name, no internal state.
        f.write_str("broadcast::LosslessSend")
    }
}
