//! The graceful close: [`Closing`] → [`Drained`] → [`Closed`], states the
//! type system tracks. A closing handle has no `send`:
//!
//! ```compile_fail
//! let (tx, _rx) = chan_broadcast::channel::<u8>(4);
//! let closing = tx.close();
//! closing.send(1); // error: no method named `send`
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use ring_core::WaitKey;
use ring_core::sync::Arc;

use crate::shared::Shared;
use ring_core::ShardedKey;

/// A closed channel that receivers may still be draining. Made by
/// [`Sender::close`](crate::Sender::close) or
/// [`LosslessSender::close`](crate::LosslessSender::close); it cannot
/// send. [`drained`](Closing::drained) waits until every receiver has read
/// everything buffered (or dropped).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = chan_broadcast::channel(8);
/// tx.send(1).unwrap();
/// let closing = tx.close();
/// assert!(!closing.is_drained());
/// let reader = tokio::spawn(async move { while rx.recv().await.is_ok() {} });
/// let closed = closing.drained().await;
/// reader.await.unwrap();
/// assert_eq!(closed.receiver_count(), 0);
/// # });
/// ```
pub struct Closing<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Closing<T> {
    /// Closes the channel and returns the handle that watches it drain.
    pub(crate) fn begin(shared: &Arc<Shared<T>>) -> Self {
        shared.close();
        Closing {
            shared: Arc::clone(shared),
        }
    }

    /// Waits until every receiver has read (or dropped) every buffered
    /// value, then yields the [`Closed`] handle.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = chan_broadcast::channel(8);
    /// tx.send(1).unwrap();
    /// let closing = tx.close();
    /// drop(rx); // a dropped receiver counts as done
    /// let _closed: chan_broadcast::Closed<i32> = closing.drained().await;
    /// # });
    /// ```
    pub fn drained(self) -> Drained<T> {
        Drained {
            shared: Some(self.shared),
            key: None,
            commit_key: ShardedKey::default(),
        }
    }

    /// Whether every buffered value has been read by every receiver.
    ///
    /// ```
    /// let (tx, mut rx) = chan_broadcast::channel(8);
    /// tx.send(1).unwrap();
    /// let closing = tx.close();
    /// assert!(!closing.is_drained());
    /// rx.try_recv().unwrap();
    /// assert!(closing.is_drained());
    /// ```
    pub fn is_drained(&self) -> bool {
        self.shared.is_drained()
    }

    /// Values still held for some receiver.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel(8);
    /// tx.send(1).unwrap();
    /// assert_eq!(tx.close().len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.queued()
    }

    /// Whether [`len`](Closing::len) is zero.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<u8>(8);
    /// assert!(tx.close().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of live receivers.
    ///
    /// ```
    /// let (tx, _rx) = chan_broadcast::channel::<u8>(8);
    /// assert_eq!(tx.close().receiver_count(), 1);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }
}

impl<T> fmt::Debug for Closing<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio: the handle's name, no internal state.
        f.write_str("broadcast::Closing")
    }
}

/// The future of [`Closing::drained`]. Named and `Unpin`.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Waker};
///
/// let (tx, mut rx) = chan_broadcast::channel(8);
/// tx.send(1).unwrap();
/// let mut drained = tx.close().drained();
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(Pin::new(&mut drained).poll(&mut cx).is_pending());
/// rx.try_recv().unwrap();
/// assert!(Pin::new(&mut drained).poll(&mut cx).is_ready());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Drained<T> {
    shared: Option<Arc<Shared<T>>>,
    /// Registration on the drain bell, rung when a value is freed.
    key: Option<WaitKey>,
    /// Registration on the receivers' bell, rung on every commit: a send
    /// by another sender clone that claimed before the close commits after
    /// it, and that commit (not a free) may be what completes the drain.
    commit_key: ShardedKey,
}

impl<T> Unpin for Drained<T> {}

impl<T> Future for Drained<T> {
    type Output = Closed<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Closed<T>> {
        let this = self.get_mut();
        let shared = this
            .shared
            .as_ref()
            .expect("Drained polled after completion");
        // Each registration re-checks after registering (the doorbell's
        // Dekker pair), so the drain is seen by the re-check or the waker is
        // rung by whichever of the two events completes it: the last free
        // (drain bell) or the last in-flight commit (receivers' bell).
        let drained = || shared.is_drained().then_some(());
        let ready = shared
            .drain_bell
            .poll_wait(cx, &mut this.key, drained)
            .is_ready()
            || shared
                .recv_bell
                .poll_wait(cx, &mut this.commit_key, drained)
                .is_ready();
        if !ready {
            return Poll::Pending;
        }
        shared.drain_bell.cancel(&mut this.key);
        shared.recv_bell.cancel(&mut this.commit_key);
        Poll::Ready(Closed {
            shared: this.shared.take().expect("checked above"),
        })
    }
}

impl<T> Drop for Drained<T> {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.drain_bell.cancel(&mut self.key);
            shared.recv_bell.cancel(&mut self.commit_key);
        }
    }
}

impl<T> fmt::Debug for Drained<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio: the handle's name, no internal state.
        f.write_str("broadcast::Drained")
    }
}

/// A channel that is closed and drained: every receiver has read every
/// value (or dropped). Receivers left see only `Closed`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use chan_broadcast::error::TryRecvError;
///
/// let (tx, mut rx) = chan_broadcast::channel::<u8>(8);
/// let closed = tx.close().drained().await;
/// assert_eq!(closed.receiver_count(), 1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// # });
/// ```
pub struct Closed<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Closed<T> {
    /// The number of receivers still alive (each sees only `Closed`).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = chan_broadcast::channel::<u8>(8);
    /// drop(rx);
    /// assert_eq!(tx.close().drained().await.receiver_count(), 0);
    /// # });
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }
}

impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As tokio: the handle's name, no internal state.
        f.write_str("broadcast::Closed")
    }
}
