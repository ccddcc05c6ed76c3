//! [`StallTimeout`]: a stream wrapper that reports silence.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::time::Duration;

use futures_core::Stream;
use tokio::time::{Instant, Sleep};

/// A stream that yields an `io::Error` of kind `TimedOut` each time its
/// inner stream has been silent for the duration, and keeps going: the
/// next chunk still arrives. Made by
/// [`ByteStream::stall_timeout`](crate::ByteStream::stall_timeout) or
/// [`TypedStream::stall_timeout`](crate::TypedStream::stall_timeout); it
/// ends when the inner stream ends. Its timer is tokio's: poll it inside a
/// runtime with the timer enabled.
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let w = stream_bytes::ByteWriter::default();
/// let mut s = w.stream().stall_timeout(Duration::from_millis(5));
/// assert_eq!(s.next().await.unwrap().unwrap_err().kind(), std::io::ErrorKind::TimedOut);
/// assert_eq!(s.next().await.unwrap().unwrap_err().kind(), std::io::ErrorKind::TimedOut);
/// drop(w);
/// assert_eq!(s.next().await.unwrap().unwrap(), ""); // the close signal
/// assert!(s.next().await.is_none());
/// # });
/// ```
pub struct StallTimeout<S> {
    inner: S,
    idle: Duration,
    /// Made at the first `Pending` (so no runtime is needed before) and
    /// reset at every item.
    sleep: Option<Pin<Box<Sleep>>>,
    done: bool,
}

impl<S> StallTimeout<S> {
    pub(crate) fn new(inner: S, idle: Duration) -> Self {
        StallTimeout {
            inner,
            idle,
            sleep: None,
            done: false,
        }
    }

    /// The wrapped stream.
    ///
    /// ```
    /// use std::time::Duration;
    /// let w = stream_bytes::ByteWriter::default();
    /// let s = w.stream().stall_timeout(Duration::from_secs(1));
    /// assert_eq!(s.into_inner().id(), 1);
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, T> Stream for StallTimeout<S>
where
    S: Stream<Item = io::Result<T>> + Unpin,
{
    type Item = io::Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(item) => {
                this.done = item.is_none();
                this.sleep = None;
                return Poll::Ready(item);
            }
            Poll::Pending => {}
        }
        let idle = this.idle;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                sleep.as_mut().reset(Instant::now() + idle);
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("stream-bytes: no chunk for {idle:?}"),
                ))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for StallTimeout<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StallTimeout")
            .field("inner", &self.inner)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

use core::future::Future as _;
