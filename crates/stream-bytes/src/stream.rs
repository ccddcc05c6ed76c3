//! [`ByteStream`], the generic reading half, and the stall wrapper.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::VecDeque;
use std::io;

use bytes::Bytes;
use futures_core::Stream;
use ring_core::sync::Arc;

use crate::shared::{Port, Read, Shared, Taken};

/// The error a stream disconnected by
/// [`Policy::DisconnectSlowest`](crate::Policy::DisconnectSlowest) yields
/// (inside an `io::Error` of kind `Other`; get it back with
/// `io::Error::get_ref` and `downcast_ref`).
///
/// ```
/// use std::io::Write;
/// use futures::{executor::block_on, StreamExt};
/// use stream_bytes::{ByteWriter, Disconnected, Policy};
///
/// let mut w = ByteWriter::builder().max_buffered_bytes(4).on_full(Policy::DisconnectSlowest).build();
/// let mut slow = w.stream();
/// w.write_all(b"1234").unwrap();
/// w.write_all(b"5").unwrap(); // over the limit: `slow` is dropped
/// let err = block_on(slow.next()).unwrap().unwrap_err();
/// let d = err.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
/// assert_eq!(d.lost_bytes(), 4);
/// assert!(block_on(slow.next()).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected {
    lost: u64,
    limit: usize,
    /// What `lost` and `limit` count: "bytes" or "values".
    unit: &'static str,
}

impl Disconnected {
    /// Bytes (values, for a typed stream) written before the disconnect
    /// that this stream had not read and will never get. The error's
    /// message says which ("fell 4 values behind" for a typed stream).
    ///
    /// ```
    /// # use std::io::Write;
    /// # use futures::{executor::block_on, StreamExt};
    /// # use stream_bytes::{ByteWriter, Disconnected, Policy};
    /// # let mut w = ByteWriter::builder().max_buffered_bytes(2).on_full(Policy::DisconnectSlowest).build();
    /// # let mut slow = w.stream();
    /// w.write_all(b"ab").unwrap();
    /// w.write_all(b"c").unwrap();
    /// # let err = block_on(slow.next()).unwrap().unwrap_err();
    /// # let d = err.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
    /// assert_eq!(d.lost_bytes(), 2);
    /// ```
    pub fn lost_bytes(&self) -> u64 {
        self.lost
    }

    /// The writer's limit at the time. A byte writer's limit counts each
    /// chunk's length plus its overhead
    /// ([`CHUNK_OVERHEAD`](crate::CHUNK_OVERHEAD)), so a stream can be
    /// disconnected with fewer [`lost_bytes`](Disconnected::lost_bytes)
    /// than the limit (a typed writer's counts values).
    ///
    /// ```
    /// # use std::io::Write;
    /// # use futures::{executor::block_on, StreamExt};
    /// # use stream_bytes::{ByteWriter, Disconnected, Policy};
    /// # let mut w = ByteWriter::builder().max_buffered_bytes(2).on_full(Policy::DisconnectSlowest).build();
    /// # let mut slow = w.stream();
    /// # w.write_all(b"ab").unwrap();
    /// # w.write_all(b"c").unwrap();
    /// # let err = block_on(slow.next()).unwrap().unwrap_err();
    /// # let d = err.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
    /// assert_eq!(d.limit(), 2);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Display for Disconnected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stream-bytes: this stream fell {lost} {unit} behind the writer (limit {limit}) and was disconnected; those {unit} were not delivered",
            lost = self.lost,
            limit = self.limit,
            unit = self.unit,
        )
    }
}

impl std::error::Error for Disconnected {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// Close signal (or error) yielded; next poll is `None`.
    Ending,
    Done,
}

/// The reading half shared by the byte and typed streams. `signal` is the
/// item yielded at the close before ending (the empty `Bytes` for bytes).
pub(crate) struct Reader<T> {
    shared: Arc<Shared<T>>,
    id: u64,
    state: State,
    /// The value taken by the last hand-out and not returned yet (a
    /// writer waker that panicked inside that hand-out unwound past the
    /// return).
    slot: Option<T>,
    /// This stream's batch and counts, shared with the writer.
    port: Arc<Port<T>>,
    /// Reused buffers of a refill: the clones taken, the entries popped
    /// (dropped after the writer's lock).
    scratch: Vec<Taken<T>>,
    /// The batch, except under `DisconnectSlowest` (where it is in the
    /// port, for the writer to free; see `Shared::hand_out`).
    local: VecDeque<Taken<T>>,
    dead: Vec<T>,
}

// Nothing in a reader is ever pinned (the streams hand out owned values
// and never project a pin into the slot), whatever `T` is.
impl<T> Unpin for Reader<T> {}

impl<T: Clone> Reader<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>) -> Self {
        let (id, port) = shared.subscribe();
        Reader {
            shared,
            id,
            state: State::Open,
            slot: None,
            port,
            scratch: Vec::new(),
            local: VecDeque::new(),
            dead: Vec::new(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// `Some(Ok(None))` is the close.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Option<T>>>> {
        match self.state {
            State::Open => {}
            State::Ending => {
                self.state = State::Done;
                return Poll::Ready(None);
            }
            State::Done => return Poll::Ready(None),
        }
        while self.slot.is_none() {
            match self
                .shared
                .hand_out(&self.port, &mut self.local, &mut self.slot)
            {
                Some(Ok(())) => {}
                Some(Err(lost)) => return Poll::Ready(Some(Err(self.disconnected(lost)))),
                None => match self.shared.refill(
                    self.id,
                    &self.port,
                    Some(cx.waker()),
                    &mut self.scratch,
                    &mut self.local,
                    &mut self.dead,
                ) {
                    Read::Value => {}
                    Read::Pending => return Poll::Pending,
                    Read::Closed => {
                        self.state = State::Ending;
                        self.shared.unsubscribe(self.id);
                        return Poll::Ready(Some(Ok(None)));
                    }
                    Read::Disconnected(lost) => {
                        return Poll::Ready(Some(Err(self.disconnected(lost))));
                    }
                },
            }
        }
        match self.slot.take() {
            Some(v) => Poll::Ready(Some(Ok(Some(v)))),
            None => unreachable!("the loop ends with a value in the slot"),
        }
    }

    fn disconnected(&mut self, lost: u64) -> io::Error {
        self.state = State::Ending;
        io::Error::other(Disconnected {
            lost,
            limit: self.shared.max(),
            unit: self.shared.unit(),
        })
    }
}

impl<T> Drop for Reader<T> {
    fn drop(&mut self) {
        if self.state != State::Open {
            return;
        }
        /// Leaves the writer even if a value's `Drop` panics below.
        struct Leave<'a, T>(&'a Shared<T>, u64);
        impl<T> Drop for Leave<'_, T> {
            fn drop(&mut self) {
                self.0.unsubscribe(self.1);
            }
        }
        let _leave = Leave(&self.shared, self.id);
        // The batch is freed first, while it is still charged to this
        // stream (its offset has not moved): a `Block` writer cannot be
        // admitted against it. The port's lock is released before the
        // values are dropped (a value's `Drop` may re-enter the writer).
        drop(core::mem::take(&mut self.local));
        drop(self.port.take_batch());
        // Already handed out (uncharged); freed before leaving all the same.
        self.slot = None;
    }
}

/// One reader of a [`ByteWriter`](crate::ByteWriter): a
/// [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) of the chunks written after it was made, in order, each
/// with the boundaries it was written with.
///
/// At the close it yields an empty `Bytes` (the close signal), then ends.
/// Disconnected by [`Policy::DisconnectSlowest`](crate::Policy::DisconnectSlowest),
/// it yields an `io::Error` holding a [`Disconnected`], then ends. It never
/// skips a chunk without saying so. Dropping it releases every chunk only
/// it was holding.
///
/// ```
/// use std::io::Write;
/// use futures::{executor::block_on, StreamExt};
///
/// let mut w = stream_bytes::ByteWriter::default();
/// let s = w.stream();
/// w.write_all(b"ab").unwrap();
/// w.write_all(b"cd").unwrap();
/// drop(w);
/// let chunks: Vec<_> = block_on(s.map(Result::unwrap).collect());
/// assert_eq!(chunks, ["ab", "cd", ""]);
/// ```
pub struct ByteStream {
    reader: Reader<Bytes>,
}

impl ByteStream {
    pub(crate) fn new(shared: Arc<Shared<Bytes>>) -> Self {
        ByteStream {
            reader: Reader::new(shared),
        }
    }

    /// This stream's id, unique among its writer's streams (the first is
    /// 1); [`ByteWriter::stalled`](crate::ByteWriter::stalled) reports by it.
    ///
    /// ```
    /// let w = stream_bytes::ByteWriter::default();
    /// assert_eq!(w.stream().id(), 1);
    /// assert_eq!(w.stream().id(), 2);
    /// ```
    pub fn id(&self) -> u64 {
        self.reader.id()
    }

    /// Wraps this stream so that it yields an `io::Error` of kind
    /// `TimedOut` each time `idle` passes with no item, and keeps going.
    /// Needs a tokio runtime with its timer (feature `tokio`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let mut w = stream_bytes::ByteWriter::default();
    /// let mut s = w.stream().stall_timeout(Duration::from_millis(10));
    /// let e = s.next().await.unwrap().unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    /// w.write_bytes(bytes::Bytes::from_static(b"late")).unwrap();
    /// assert_eq!(s.next().await.unwrap().unwrap(), "late"); // still going
    /// # });
    /// ```
    #[cfg(feature = "tokio")]
    pub fn stall_timeout(self, idle: std::time::Duration) -> crate::StallTimeout<Self> {
        crate::StallTimeout::new(self, idle)
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStream")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl Stream for ByteStream {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .reader
            .poll(cx)
            .map(|item| item.map(|r| r.map(Option::unwrap_or_default)))
    }
}
