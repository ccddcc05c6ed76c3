//! The receiving half: [`Receiver`], its [`Recv`] future and its `Stream`.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use futures_core::Stream;
use ring_core::sync::Arc;

use crate::Lagged;
use crate::coop;
use crate::error::{RecvError, TryRecvError};
use crate::shared::Shared;
use ring_core::ShardedKey;

/// The receiving half of a broadcast channel: every receiver sees every
/// value sent after it subscribed, each its own clone.
///
/// Made by [`channel`](crate::channel), [`Sender::subscribe`](crate::Sender::subscribe)
/// or [`resubscribe`](Receiver::resubscribe). Must not be used concurrently
/// (its methods take `&mut self`). It is also a
/// [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) of `Result<T, Lagged>` that ends when the channel closes.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use chan_broadcast as broadcast;
///
/// let (tx, mut rx1) = broadcast::channel(16);
/// let mut rx2 = tx.subscribe();
/// tx.send(10).unwrap();
/// tx.send(20).unwrap();
/// assert_eq!(rx1.recv().await.unwrap(), 10);
/// assert_eq!(rx1.recv().await.unwrap(), 20);
/// assert_eq!(rx2.recv().await.unwrap(), 10);
/// # });
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The next position to read.
    next: u64,
    /// This receiver's registration with the receivers' doorbell, between
    /// polls of `recv` or the stream.
    key: ShardedKey,
    /// A lag `recv_many` met after it had values; reported by the next
    /// receive. Zero when none.
    pending_lag: u64,
    /// The last value of the channel's `committed` this receiver loaded
    /// (`Shared::try_recv_seen`).
    seen: u64,
}

impl<T> Receiver<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>, next: u64) -> Self {
        Receiver {
            shared,
            next,
            key: ShardedKey::default(),
            pending_lag: 0,
            seen: 0,
        }
    }

    /// A new receiver of `shared` at the tail.
    pub(crate) fn subscribe_to(shared: &Arc<Shared<T>>) -> Self {
        let next = shared.subscribe();
        Receiver::new(Arc::clone(shared), next)
    }

    /// A new receiver of `shared` at the oldest value held.
    pub(crate) fn from_oldest_of(shared: &Arc<Shared<T>>) -> Self {
        let next = shared.subscribe_from_oldest();
        Receiver::new(Arc::clone(shared), next)
    }

    /// The number of values sent that this receiver has yet to receive,
    /// including any already overwritten: above the capacity (rounded up to
    /// a power of two), the next receive reports `Lagged`.
    ///
    /// ```
    /// let (tx, mut rx) = chan_broadcast::channel(16);
    /// tx.send(10).unwrap();
    /// tx.send(20).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.unread(self.next)
    }

    /// Whether [`len`](Receiver::len) is zero.
    ///
    /// ```
    /// let (tx, rx) = chan_broadcast::channel(16);
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// ```
    /// let (tx, rx) = chan_broadcast::channel::<()>(16);
    /// let rx2 = tx.subscribe();
    /// assert!(rx.same_channel(&rx2));
    /// let (_tx3, rx3) = chan_broadcast::channel::<()>(16);
    /// assert!(!rx3.same_channel(&rx2));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Whether the channel is closed: every sender is gone (or it was
    /// closed with [`Sender::close`](crate::Sender::close)). Values may still
    /// be waiting to be received.
    ///
    /// ```
    /// let (tx, rx) = chan_broadcast::channel::<()>(16);
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// The number of [`Sender`](crate::Sender) handles.
    ///
    /// ```
    /// let (tx, rx) = chan_broadcast::channel::<()>(16);
    /// let _tx2 = tx.clone();
    /// assert_eq!(rx.sender_strong_count(), 2);
    /// ```
    pub fn sender_strong_count(&self) -> usize {
        self.shared.sender_count()
    }

    /// The number of [`WeakSender`](crate::WeakSender) handles.
    ///
    /// ```
    /// let (tx, rx) = chan_broadcast::channel::<()>(16);
    /// let _weak = tx.downgrade();
    /// assert_eq!(rx.sender_weak_count(), 1);
    /// ```
    pub fn sender_weak_count(&self) -> usize {
        self.shared.weak_count()
    }
}

impl<T: Clone> Receiver<T> {
    /// A new receiver of the same channel, starting at the newest end: it
    /// sees only values sent after this call, whatever this receiver has
    /// yet to read.
    ///
    /// ```
    /// let (tx, mut rx) = chan_broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx2.try_recv(), Ok(2));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn resubscribe(&self) -> Self {
        Receiver::subscribe_to(&self.shared)
    }

    /// Receives the next value, waiting for one.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`]`(n)` once if `n` values were overwritten before
    /// this receiver read them (the next call returns the oldest value still
    /// held); [`RecvError::Closed`] once the channel is closed and every
    /// value this receiver could read has been read.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future before it completes loses no value
    /// and leaves no registration behind. The future is a named, `Unpin`
    /// type, [`Recv`], so it can be stored and polled by hand.
    ///
    /// Under a tokio runtime (feature `tokio`, on by default) each value
    /// spends one unit of the task's cooperative budget, as tokio's does.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = chan_broadcast::channel(16);
    /// tx.send("hi").unwrap();
    /// assert_eq!(rx.recv().await, Ok("hi"));
    /// drop(tx);
    /// assert_eq!(rx.recv().await, Err(chan_broadcast::error::RecvError::Closed));
    /// # });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            rx: self,
            _not_unwind_safe: core::marker::PhantomData,
        }
    }

    /// Receives the next value if there is one, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is waiting, `Lagged` and `Closed`
    /// as for [`recv`](Receiver::recv).
    ///
    /// ```
    /// use chan_broadcast::error::TryRecvError;
    ///
    /// let (tx, mut rx) = chan_broadcast::channel(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    #[inline(always)]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.pending_lag != 0 {
            return Err(TryRecvError::Lagged(core::mem::take(&mut self.pending_lag)));
        }
        self.shared.try_recv_seen(&mut self.next, &mut self.seen)
    }

    /// Receives the next value, blocking the thread until there is one. For
    /// synchronous code.
    ///
    /// # Panics
    ///
    /// With the `tokio` feature, when called on a thread that drives async
    /// tasks (inside `block_on` or on a runtime worker), with tokio's own
    /// message ("Cannot block the current thread from within a
    /// runtime. …"), located at the caller's line; `spawn_blocking` threads
    /// may call it.
    ///
    /// # Errors
    ///
    /// As [`recv`](Receiver::recv).
    ///
    /// ```
    /// let (tx, mut rx) = chan_broadcast::channel(16);
    /// let t = std::thread::spawn(move || rx.blocking_recv());
    /// tx.send(10).unwrap();
    /// assert_eq!(t.join().unwrap(), Ok(10));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        crate::block::block_on(self.recv())
    }

    /// Waits for at least one value, then appends up to `limit` values
    /// (all that are waiting, up to the limit) to `buffer`. Returns how
    /// many it appended; `limit == 0` returns `Ok(0)` at once.
    ///
    /// # Errors
    ///
    /// `Lagged` and `Closed` as [`recv`](Receiver::recv), but only when
    /// nothing was appended: a lag met after some values ends the batch
    /// and is reported by the next call.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: values are appended only once the first one is here,
    /// with no further await.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, mut rx) = chan_broadcast::channel(16);
    /// for i in 0..5 {
    ///     tx.send(i).unwrap();
    /// }
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.recv_many(&mut buf, 3).await, Ok(3));
    /// assert_eq!(rx.recv_many(&mut buf, 10).await, Ok(2));
    /// assert_eq!(buf, [0, 1, 2, 3, 4]);
    /// # });
    /// ```
    pub async fn recv_many(
        &mut self,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Result<usize, RecvError> {
        if limit == 0 {
            return Ok(0);
        }
        let first = self.recv().await?;
        buffer.push(first);
        let mut n = 1;
        while n < limit {
            match self.try_recv() {
                Ok(v) => {
                    buffer.push(v);
                    n += 1;
                }
                Err(TryRecvError::Lagged(missed)) => {
                    // The position already moved to the oldest value held;
                    // the count is reported by the next receive.
                    self.pending_lag = missed;
                    break;
                }
                Err(_) => break,
            }
        }
        Ok(n)
    }

    /// The body of `recv` and of the stream.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let coop = ready!(coop::poll_proceed(cx));
        loop {
            let result = match self.try_recv() {
                Ok(v) => Ok(v),
                Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => Err(RecvError::Closed),
                Err(TryRecvError::Empty) => {
                    let shared = &*self.shared;
                    let next = self.next;
                    match shared
                        .recv_bell
                        .poll_wait(cx, &mut self.key, || shared.has_news(next).then_some(()))
                    {
                        Poll::Ready(()) => continue,
                        // Dropping `coop` gives the budget unit back.
                        Poll::Pending => return Poll::Pending,
                    }
                }
            };
            self.shared.recv_bell.cancel(&mut self.key);
            coop.made_progress();
            // After `made_progress` its drop restores nothing (tokio's
            // documented contract); forgetting it skips tokio's
            // out-of-line drop call on every value.
            core::mem::forget(coop);
            return Poll::Ready(result);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.recv_bell.cancel(&mut self.key);
        self.shared.unsubscribe(self.next);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio: the handle's name, no internal state.
        f.write_str("broadcast::Receiver")
    }
}

/// The future of [`Receiver::recv`]: named and `Unpin`, so it can be kept
/// in a struct and polled by hand. Polled again after it completed, it
/// receives the next value (tokio's `async fn` future panics there).
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Poll, Waker};
///
/// let (tx, mut rx) = chan_broadcast::channel(4);
/// let mut cx = Context::from_waker(Waker::noop());
/// let mut fut: chan_broadcast::Recv<'_, u32> = rx.recv();
/// assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
/// tx.send(3).unwrap();
/// assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(3)));
/// ```
#[must_use = "futures do nothing unless polled"]
// tokio's `recv` future (an `async fn`'s) has no `Debug` either.
#[allow(missing_debug_implementations)]
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    // tokio's `recv` future is neither `UnwindSafe` nor `RefUnwindSafe`.
    _not_unwind_safe: crate::NotUnwindSafe,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.rx.poll_recv(cx)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        // Cancel-safe: no registration outlives the future.
        self.rx.shared.recv_bell.cancel(&mut self.rx.key);
    }
}

/// Values as `Ok`, lag as `Err(Lagged(n))` (never hidden); the stream ends
/// when the channel is closed and drained.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
/// use chan_broadcast::Lagged;
///
/// let (tx, mut rx) = chan_broadcast::channel(1);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// drop(tx);
/// let mut items = Vec::new();
/// while let Some(item) = poll_fn(|cx| Pin::new(&mut rx).poll_next(cx)).await {
///     items.push(item);
/// }
/// assert_eq!(items, [Err(Lagged(1)), Ok(2)]);
/// # });
/// ```
impl<T: Clone> Stream for Receiver<T> {
    type Item = Result<T, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match ready!(self.get_mut().poll_recv(cx)) {
            Ok(v) => Poll::Ready(Some(Ok(v))),
            Err(RecvError::Lagged(n)) => Poll::Ready(Some(Err(Lagged(n)))),
            Err(RecvError::Closed) => Poll::Ready(None),
        }
    }
}
