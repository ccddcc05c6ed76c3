//! [`WatchStream`]: a receiver as a `futures_core::Stream`.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use futures_core::Stream;
use ring_core::ShardedKey;

use crate::coop::poll_proceed;
use crate::receiver::Receiver;

/// A [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) of clones of a channel's value; what tokio-stream's
/// `WatchStream` does, without tokio-stream and without boxing a future.
///
/// [`new`](WatchStream::new) (or [`Receiver::into_stream`]) yields the
/// current value first, [`from_changes`](WatchStream::from_changes) only
/// later ones. Changes between two polls are coalesced: the stream yields
/// the latest value. It ends once every sender is gone and the last value
/// was yielded.
///
/// ```
/// use futures::StreamExt;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, rx) = chan_watch::channel("a");
/// let mut s = chan_watch::WatchStream::from_changes(rx);
/// tx.send("b").unwrap();
/// assert_eq!(s.next().await, Some("b"));
/// # });
/// ```
pub struct WatchStream<T> {
    rx: Receiver<T>,
    key: ShardedKey,
    /// Yield the current value on the next poll, seen or not.
    first: bool,
}

impl<T: Clone> WatchStream<T> {
    /// A stream that yields the current value, then every change.
    ///
    /// ```
    /// use futures::StreamExt;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (_tx, rx) = chan_watch::channel(7);
    /// let mut s = chan_watch::WatchStream::new(rx);
    /// assert_eq!(s.next().await, Some(7));
    /// # });
    /// ```
    pub fn new(rx: Receiver<T>) -> Self {
        WatchStream {
            rx,
            key: ShardedKey::default(),
            first: true,
        }
    }

    /// A stream that yields only values not yet seen by `rx` when it is
    /// polled.
    ///
    /// ```
    /// use futures::StreamExt;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = chan_watch::channel(7);
    /// let mut s = chan_watch::WatchStream::from_changes(rx);
    /// drop(tx);
    /// assert_eq!(s.next().await, None); // 7 was seen
    /// # });
    /// ```
    pub fn from_changes(rx: Receiver<T>) -> Self {
        WatchStream {
            rx,
            key: ShardedKey::default(),
            first: false,
        }
    }
}

impl<T: Clone> Stream for WatchStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if !this.first {
            let coop = ready!(poll_proceed(cx));
            let Receiver { shared, version } = &mut this.rx;
            let changed = ready!(
                shared
                    .notify_rx
                    .poll_wait(cx, &mut this.key, || shared.maybe_changed(version))
            );
            coop.made_progress();
            if changed.is_err() {
                return Poll::Ready(None);
            }
        }
        this.first = false;
        Poll::Ready(Some(this.rx.borrow_and_update().clone()))
    }
}

impl<T> Drop for WatchStream<T> {
    fn drop(&mut self) {
        self.rx.shared.notify_rx.cancel(&mut self.key);
    }
}

impl<T: fmt::Debug> fmt::Debug for WatchStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchStream")
            .field("rx", &self.rx)
            .finish_non_exhaustive()
    }
}
