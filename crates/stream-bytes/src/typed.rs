//! [`TypedWriter`] and [`TypedStream`]: the same fan-out for any
//! `T: Clone + Send`.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::time::Duration;

use futures_core::Stream;
use ring_core::sync::Arc;

use crate::shared::{Blocking, Policy, Refused, Stall};
use crate::stream::Reader;
use crate::writer::{Core, broken_pipe};

/// Broadcasts values of any `T: Clone + Send` to [`TypedStream`]s, as
/// [`ByteWriter`](crate::ByteWriter) does chunks: each stream gets a clone
/// of every value sent after it was made. The limit counts values.
///
/// ```
/// use futures::{executor::block_on, StreamExt};
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct Tick(u32);
///
/// let mut w = stream_bytes::TypedWriter::default();
/// let s = w.stream();
/// w.send(Tick(1)).unwrap();
/// w.send(Tick(2)).unwrap();
/// drop(w);
/// let got: Vec<Tick> = block_on(s.map(Result::unwrap).collect());
/// assert_eq!(got, [Tick(1), Tick(2)]);
/// ```
#[derive(Debug)]
pub struct TypedWriter<T> {
    core: Core<T>,
}

impl<T: Clone + Send> Default for TypedWriter<T> {
    /// An unbounded typed writer.
    ///
    /// ```
    /// let w: stream_bytes::TypedWriter<u8> = Default::default();
    /// assert!(w.id() >= 1);
    /// ```
    fn default() -> Self {
        TypedWriter::bounded(usize::MAX, Policy::Unbounded)
    }
}

impl<T: Clone + Send> TypedWriter<T> {
    /// A writer holding at most `max_values` unread values, doing `policy`
    /// when full.
    ///
    /// The limit counts values, not their clones: a stream takes up to 32
    /// values at a time into a batch of its own (a clone of each, handed
    /// out one per poll), so besides the values counted, each stream may
    /// hold up to 32 clones. For a `T` whose clone owns memory (a `Vec`, a
    /// `String`), budget for that, or send `Arc<T>`.
    ///
    /// ```
    /// use stream_bytes::{Policy, TypedWriter};
    /// let mut w = TypedWriter::bounded(1, Policy::Block);
    /// let _s = w.stream();
    /// assert!(w.try_send(1).unwrap());
    /// assert!(!w.try_send(2).unwrap());
    /// ```
    pub fn bounded(max_values: usize, policy: Policy) -> Self {
        TypedWriter {
            // Values are counted, not bytes: no per-value overhead.
            core: Core::new(max_values, policy, 0, "values"),
        }
    }

    /// This writer's id (shared numbering with [`ByteWriter`](crate::ByteWriter)).
    ///
    /// ```
    /// let a = stream_bytes::TypedWriter::<u8>::default();
    /// assert!(a.id() >= 1);
    /// ```
    pub fn id(&self) -> u64 {
        self.core.id()
    }

    /// A stream of every value sent from now on.
    ///
    /// ```
    /// let w = stream_bytes::TypedWriter::<u8>::default();
    /// assert_eq!(w.stream().id(), 1);
    /// ```
    pub fn stream(&self) -> TypedStream<T> {
        TypedStream {
            reader: Reader::new(Arc::clone(&self.core.shared)),
        }
    }

    /// Sends `value` to every stream; blocks under [`Policy::Block`] until
    /// there is room.
    ///
    /// # Errors
    ///
    /// `BrokenPipe` after [`close`](TypedWriter::close).
    ///
    /// ```
    /// let mut w = stream_bytes::TypedWriter::default();
    /// w.send("a").unwrap();
    /// w.close();
    /// assert_eq!(w.send("b").unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
    /// ```
    pub fn send(&mut self, value: T) -> io::Result<()> {
        self.send_with(value, Blocking::Thread).map(|_| ())
    }

    /// Sends without blocking: `Ok(false)` when [`Policy::Block`] has no
    /// room (the value is dropped).
    ///
    /// # Errors
    ///
    /// `BrokenPipe` after [`close`](TypedWriter::close).
    ///
    /// ```
    /// let mut w = stream_bytes::TypedWriter::default();
    /// assert!(w.try_send(1).unwrap());
    /// ```
    pub fn try_send(&mut self, value: T) -> io::Result<bool> {
        self.send_with(value, Blocking::No)
    }

    fn send_with(&mut self, value: T, block: Blocking<'_>) -> io::Result<bool> {
        let r = self.core.write(value, 1, block);
        self.core.wake();
        match r {
            Ok(()) => Ok(true),
            Err(Refused::Full(_)) => Ok(false),
            Err(Refused::Closed(_)) => Err(broken_pipe()),
        }
    }

    /// Closes: each stream gets what was sent, then ends.
    ///
    /// ```
    /// let mut w = stream_bytes::TypedWriter::<u8>::default();
    /// w.close();
    /// let mut s = w.stream();
    /// assert!(futures::executor::block_on(futures::StreamExt::next(&mut s)).is_none());
    /// ```
    pub fn close(&mut self) {
        self.core.close();
    }

    /// Streams with an unread value for at least `idle`
    /// ([`Stall::unread_bytes`] counts values here).
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut w = stream_bytes::TypedWriter::default();
    /// let s = w.stream();
    /// w.send(7).unwrap();
    /// assert_eq!(w.stalled(Duration::ZERO)[0].stream_id(), s.id());
    /// ```
    pub fn stalled(&self, idle: Duration) -> Vec<Stall> {
        self.core.stalled(idle)
    }
}

/// One reader of a [`TypedWriter`]: a [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) of `io::Result<T>` that
/// ends at the close (no close item: there is no empty `T`), or after an
/// `io::Error` holding a [`Disconnected`](crate::Disconnected).
///
/// ```
/// use futures::{executor::block_on, StreamExt};
/// let mut w = stream_bytes::TypedWriter::default();
/// let mut s = w.stream();
/// w.send(5u8).unwrap();
/// assert_eq!(block_on(s.next()).unwrap().unwrap(), 5);
/// ```
pub struct TypedStream<T> {
    reader: Reader<T>,
}

impl<T: Clone + Send> TypedStream<T> {
    /// This stream's id among its writer's streams.
    ///
    /// ```
    /// let w = stream_bytes::TypedWriter::<u8>::default();
    /// assert_eq!(w.stream().id(), 1);
    /// ```
    pub fn id(&self) -> u64 {
        self.reader.id()
    }

    /// See [`ByteStream::stall_timeout`](crate::ByteStream::stall_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let w = stream_bytes::TypedWriter::<u8>::default();
    /// let mut s = w.stream().stall_timeout(Duration::from_millis(5));
    /// assert_eq!(s.next().await.unwrap().unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    /// # });
    /// ```
    #[cfg(feature = "tokio")]
    pub fn stall_timeout(self, idle: Duration) -> crate::StallTimeout<Self> {
        crate::StallTimeout::new(self, idle)
    }
}

impl<T> fmt::Debug for TypedStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedStream").finish_non_exhaustive()
    }
}

impl<T: Clone + Send> Stream for TypedStream<T> {
    type Item = io::Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().reader.poll(cx).map(|item| match item {
            Some(Ok(Some(v))) => Some(Ok(v)),
            Some(Ok(None)) | None => None,
            Some(Err(e)) => Some(Err(e)),
        })
    }
}
