//! [`ByteWriter`], its builder, and the core it shares with
//! [`TypedWriter`](crate::TypedWriter).

use core::fmt;
use core::task::{Context, Poll, Waker};
use std::io;
use std::time::Duration;

use bytes::Bytes;
use ring_core::sync::Arc;

use crate::shared::{Blocking, CHUNK_OVERHEAD, Policy, Refused, Shared, Stall, wake_all};
use crate::stream::ByteStream;

/// The next writer id. A std atomic, not the `ring_core::sync` shim's:
/// loom has no `static` atomics, and this counter only hands out ids (no
/// protocol depends on it), so there is nothing for loom to model.
static NEXT_WRITER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_writer_id() -> u64 {
    // Relaxed: only uniqueness matters, which the read-modify-write gives
    // on its own; no other memory is published through it.
    NEXT_WRITER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub(crate) fn broken_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "stream-bytes: write after close")
}

/// The writing half shared by the byte and typed writers.
pub(crate) struct Core<T> {
    pub(crate) shared: Arc<Shared<T>>,
    id: u64,
    closed: bool,
    /// Reused for the wakers a write collects: no allocation per write.
    wakers: Vec<Waker>,
    /// The values a write's disconnect freed, dropped by
    /// [`wake`](Core::wake) after the wake-ups. Not reused: it is empty
    /// (no allocation) unless a write disconnected a stream, and keeping
    /// its capacity would keep up to one handle per chunk of the limit.
    dead: Vec<T>,
}

impl<T: Clone> Core<T> {
    /// `overhead`: what the limit charges each chunk besides its size;
    /// `unit`: what sizes count ("bytes" or "values", for messages).
    pub(crate) fn new(max: usize, policy: Policy, overhead: usize, unit: &'static str) -> Self {
        let max = if policy == Policy::Unbounded {
            usize::MAX
        } else {
            max
        };
        Core {
            shared: Arc::new(Shared::new(max, policy, overhead, unit)),
            id: next_writer_id(),
            closed: false,
            wakers: Vec::new(),
            dead: Vec::new(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    pub(crate) fn write(
        &mut self,
        value: T,
        size: usize,
        block: Blocking<'_>,
    ) -> Result<(), Refused<T>> {
        if self.closed {
            return Err(Refused::Closed(value));
        }
        self.shared
            .write(value, size, block, &mut self.wakers, &mut self.dead)
    }

    /// Wakes the streams the last [`write`](Core::write) collected, then
    /// drops the values its disconnect freed. The caller counts the write
    /// first: a waker or a value's `Drop` that panics unwinds out of here,
    /// after the chunk was delivered and counted and every stream woken.
    pub(crate) fn wake(&mut self) {
        let woken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wake_all(&mut self.wakers);
        }));
        // (A panic here drops the remaining values all the same.)
        drop(core::mem::take(&mut self.dead));
        if let Err(p) = woken {
            std::panic::resume_unwind(p);
        }
    }

    pub(crate) fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.shared.close(&mut self.wakers);
            wake_all(&mut self.wakers);
        }
    }

    pub(crate) fn stalled(&self, idle: Duration) -> Vec<Stall> {
        self.shared.stalled(idle)
    }
}

impl<T> Drop for Core<T> {
    fn drop(&mut self) {
        if !self.closed {
            self.closed = true;
            let mut wakers = Vec::new();
            self.shared.close(&mut wakers);
            wake_all(&mut wakers);
        }
    }
}

impl<T> fmt::Debug for Core<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("id", &self.id)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// The writing half: every chunk written reaches every [`ByteStream`]
/// made by [`stream`](ByteWriter::stream) before the write, with its
/// boundaries kept.
///
/// Each write makes one [`Bytes`](https://docs.rs/bytes/1/bytes/struct.Bytes.html) (one copy of the caller's buffer;
/// [`write_bytes`](ByteWriter::write_bytes) takes a `Bytes` and copies
/// nothing) and shares it with every stream. Closing (or dropping) the
/// writer sends each stream an empty `Bytes`, after which the stream ends.
///
/// ```
/// use std::io::Write;
/// use futures::executor::block_on;
/// use futures::StreamExt;
///
/// let mut writer = stream_bytes::ByteWriter::default();
/// let mut stream = writer.stream();
/// writer.write_all(b"hello").unwrap();
/// writer.close();
/// block_on(async {
///     assert_eq!(stream.next().await.unwrap().unwrap(), "hello");
///     assert_eq!(stream.next().await.unwrap().unwrap(), ""); // the close signal
///     assert!(stream.next().await.is_none());
/// });
/// ```
#[derive(Debug)]
pub struct ByteWriter {
    pub(crate) core: Core<Bytes>,
    written: u64,
}

impl Default for ByteWriter {
    /// An unbounded writer (see [`Policy::Unbounded`]).
    ///
    /// ```
    /// let a = stream_bytes::ByteWriter::default();
    /// let b = stream_bytes::ByteWriter::default();
    /// assert_ne!(a.id(), b.id());
    /// ```
    fn default() -> Self {
        ByteWriter::builder().build()
    }
}

impl ByteWriter {
    /// A builder for a bounded writer.
    ///
    /// ```
    /// use stream_bytes::{ByteWriter, Policy};
    ///
    /// let w = ByteWriter::builder().max_buffered_bytes(4096).on_full(Policy::Block).build();
    /// assert_eq!(w.max_buffered_bytes(), 4096);
    /// ```
    pub fn builder() -> Builder {
        Builder {
            max: usize::MAX,
            policy: Policy::Unbounded,
            overhead: CHUNK_OVERHEAD,
        }
    }

    /// This writer's id: unique in the process, the first writer's is 1.
    ///
    /// ```
    /// let w = stream_bytes::ByteWriter::default();
    /// assert!(w.id() >= 1);
    /// ```
    pub fn id(&self) -> u64 {
        self.core.id()
    }

    /// A new stream that receives every chunk written from now on. After
    /// the close, the stream gets the close signal at once.
    ///
    /// ```
    /// use futures::{executor::block_on, StreamExt};
    ///
    /// let mut w = stream_bytes::ByteWriter::default();
    /// w.close();
    /// let mut late = w.stream();
    /// assert_eq!(block_on(late.next()).unwrap().unwrap(), ""); // close signal
    /// assert!(block_on(late.next()).is_none());
    /// ```
    pub fn stream(&self) -> ByteStream {
        ByteStream::new(Arc::clone(&self.core.shared))
    }

    /// Bytes accepted so far (closing does not reset it).
    ///
    /// ```
    /// use std::io::Write;
    /// let mut w = stream_bytes::ByteWriter::default();
    /// w.write_all(b"abc").unwrap();
    /// assert_eq!(w.bytes_written(), 3);
    /// ```
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Bytes held for streams that have not read them yet.
    ///
    /// ```
    /// use std::io::Write;
    /// let mut w = stream_bytes::ByteWriter::default();
    /// let s = w.stream();
    /// w.write_all(b"abc").unwrap();
    /// assert_eq!(w.buffered_bytes(), 3);
    /// drop(s);
    /// assert_eq!(w.buffered_bytes(), 0);
    /// ```
    pub fn buffered_bytes(&self) -> usize {
        self.core.shared.buffered()
    }

    /// Live streams.
    ///
    /// ```
    /// let w = stream_bytes::ByteWriter::default();
    /// let s = w.stream();
    /// assert_eq!(w.stream_count(), 1);
    /// drop(s);
    /// assert_eq!(w.stream_count(), 0);
    /// ```
    pub fn stream_count(&self) -> usize {
        self.core.shared.stream_count()
    }

    /// The limit set with [`Builder::max_buffered_bytes`] (`usize::MAX`
    /// when unbounded).
    ///
    /// ```
    /// assert_eq!(stream_bytes::ByteWriter::default().max_buffered_bytes(), usize::MAX);
    /// ```
    pub fn max_buffered_bytes(&self) -> usize {
        self.core.shared.max()
    }

    /// The policy set with [`Builder::on_full`].
    ///
    /// ```
    /// use stream_bytes::{ByteWriter, Policy};
    /// assert_eq!(ByteWriter::default().policy(), Policy::Unbounded);
    /// ```
    pub fn policy(&self) -> Policy {
        self.core.shared.policy()
    }

    /// Writes `chunk` as one chunk without copying it: every stream gets a
    /// clone of it (a reference-count increment). An empty chunk sends
    /// nothing. Under [`Policy::Block`] this blocks the calling thread
    /// until there is room.
    ///
    /// # Errors
    ///
    /// `BrokenPipe` after [`close`](ByteWriter::close).
    ///
    /// ```
    /// let mut w = stream_bytes::ByteWriter::default();
    /// w.write_bytes(bytes::Bytes::from_static(b"zero-copy")).unwrap();
    /// w.close();
    /// let e = w.write_bytes(bytes::Bytes::from_static(b"late")).unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    /// ```
    pub fn write_bytes(&mut self, chunk: Bytes) -> io::Result<()> {
        self.send(chunk, Blocking::Thread).map(|_| ())
    }

    /// Like [`write_bytes`](ByteWriter::write_bytes) but never blocks:
    /// returns `Ok(false)` when [`Policy::Block`] has no room (the chunk is
    /// not written).
    ///
    /// # Errors
    ///
    /// `BrokenPipe` after [`close`](ByteWriter::close).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use stream_bytes::{ByteWriter, Policy};
    ///
    /// let mut w = ByteWriter::builder().max_buffered_bytes(4).on_full(Policy::Block).build();
    /// let _s = w.stream();
    /// assert!(w.try_write_bytes(Bytes::from_static(b"1234")).unwrap());
    /// assert!(!w.try_write_bytes(Bytes::from_static(b"5")).unwrap()); // full
    /// ```
    pub fn try_write_bytes(&mut self, chunk: Bytes) -> io::Result<bool> {
        self.send(chunk, Blocking::No)
    }

    fn send(&mut self, chunk: Bytes, block: Blocking<'_>) -> io::Result<bool> {
        if self.core.is_closed() {
            return Err(broken_pipe());
        }
        let n = chunk.len();
        if n == 0 {
            return Ok(true);
        }
        let r = self.core.write(chunk, n, block);
        if r.is_ok() {
            self.written += n as u64;
        }
        self.core.wake();
        match r {
            Ok(()) => Ok(true),
            Err(Refused::Full(_)) => Ok(false),
            Err(Refused::Closed(_)) => Err(broken_pipe()),
        }
    }

    /// The async write: copies `buf` into one chunk, or returns `Pending`
    /// with the task's waker left for the stream that makes room.
    #[cfg_attr(not(any(feature = "tokio", feature = "futures-io")), allow(dead_code))]
    pub(crate) fn poll_write_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.core.is_closed() {
            return Poll::Ready(Err(broken_pipe()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let r = self.core.write(
            Bytes::copy_from_slice(buf),
            buf.len(),
            Blocking::Task(cx.waker()),
        );
        if r.is_ok() {
            self.written += buf.len() as u64;
        }
        self.core.wake();
        match r {
            Ok(()) => Poll::Ready(Ok(buf.len())),
            Err(Refused::Full(_)) => Poll::Pending,
            Err(Refused::Closed(_)) => Poll::Ready(Err(broken_pipe())),
        }
    }

    /// Closes: every stream gets the chunks already written, then an empty
    /// `Bytes` (the close signal), then ends. Later writes return
    /// `BrokenPipe`. Closing twice does nothing. Dropping the writer
    /// closes it.
    ///
    /// ```
    /// use std::io::Write;
    /// let mut w = stream_bytes::ByteWriter::default();
    /// w.close();
    /// assert!(w.is_closed());
    /// assert_eq!(w.write(b"x").unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
    /// ```
    pub fn close(&mut self) {
        self.core.close();
    }

    /// Whether [`close`](ByteWriter::close) was called.
    ///
    /// ```
    /// let mut w = stream_bytes::ByteWriter::default();
    /// assert!(!w.is_closed());
    /// w.close();
    /// assert!(w.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// The streams that have had a chunk to read for at least `idle` and
    /// have not read one, by id. A stream with nothing to read is never
    /// listed (it is idle, not stuck); a slow stream that keeps reading
    /// drops off the list each time it reads.
    ///
    /// ```
    /// use std::time::Duration;
    /// use std::io::Write;
    ///
    /// let mut w = stream_bytes::ByteWriter::default();
    /// let stuck = w.stream();
    /// let _idle = w.stream(); // reads everything (below), so never listed
    /// w.write_all(b"data").unwrap();
    /// # let mut idle = _idle;
    /// # futures::executor::block_on(futures::StreamExt::next(&mut idle));
    /// let report = w.stalled(Duration::ZERO);
    /// assert_eq!(report.len(), 1);
    /// assert_eq!(report[0].stream_id(), stuck.id());
    /// assert!(w.stalled(Duration::from_secs(3600)).is_empty());
    /// ```
    pub fn stalled(&self, idle: Duration) -> Vec<Stall> {
        self.core.stalled(idle)
    }
}

impl io::Write for ByteWriter {
    /// Writes all of `buf` as one chunk (`Ok(buf.len())`); an empty `buf`
    /// sends nothing. Blocks under [`Policy::Block`] until there is room.
    ///
    /// # Errors
    ///
    /// `BrokenPipe` after [`close`](ByteWriter::close).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.core.is_closed() {
            return Err(broken_pipe());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        self.send(Bytes::copy_from_slice(buf), Blocking::Thread)
            .map(|_| buf.len())
    }

    /// Nothing to flush: a write is visible to the streams when it returns.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Configures a bounded [`ByteWriter`].
///
/// ```
/// use stream_bytes::{ByteWriter, Policy};
///
/// let w = ByteWriter::builder()
///     .max_buffered_bytes(1 << 20)
///     .on_full(Policy::Block)
///     .build();
/// assert_eq!(w.policy(), Policy::Block);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Builder {
    max: usize,
    policy: Policy,
    overhead: usize,
}

/// The largest [`Builder::chunk_overhead`]: keeps the charged offsets
/// (an overhead per chunk ever written) far from `u64`'s end (2^52 chunks).
const MAX_CHUNK_OVERHEAD: usize = 4096;

impl Builder {
    /// The most bytes held for the streams at once (ignored under
    /// [`Policy::Unbounded`]), counting each buffered chunk as its length
    /// plus [`CHUNK_OVERHEAD`] (what its bookkeeping costs; see
    /// [`chunk_overhead`](Builder::chunk_overhead)), so the limit bounds
    /// the memory the chunks take for small chunks as for large ones: a
    /// write is over the limit when the charge of the chunks buffered
    /// plus its own exceeds `n`. A single chunk whose charge exceeds `n`
    /// is accepted when nothing is buffered, so one write never waits for
    /// ever. [`ByteWriter::buffered_bytes`] and the bytes a disconnected
    /// stream lost count payload bytes only.
    ///
    /// ```
    /// let w = stream_bytes::ByteWriter::builder().max_buffered_bytes(10).build();
    /// assert_eq!(w.max_buffered_bytes(), usize::MAX); // still Unbounded
    /// ```
    pub fn max_buffered_bytes(mut self, n: usize) -> Self {
        self.max = n;
        self
    }

    /// What the limit charges each buffered chunk besides its length, in
    /// bytes: [`CHUNK_OVERHEAD`] unless set. 0 counts payload bytes only
    /// (then many small chunks can take several times the limit: a
    /// 64-byte chunk costs about 200 bytes). At most 4096; larger values
    /// are taken as 4096.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use stream_bytes::{ByteWriter, Policy};
    ///
    /// let mut w = ByteWriter::builder()
    ///     .max_buffered_bytes(8)
    ///     .chunk_overhead(0)
    ///     .on_full(Policy::Block)
    ///     .build();
    /// let _s = w.stream();
    /// assert!(w.try_write_bytes(Bytes::from_static(b"1234")).unwrap());
    /// assert!(w.try_write_bytes(Bytes::from_static(b"5678")).unwrap());
    /// assert!(!w.try_write_bytes(Bytes::from_static(b"9")).unwrap()); // full
    /// ```
    pub fn chunk_overhead(mut self, bytes: usize) -> Self {
        self.overhead = bytes.min(MAX_CHUNK_OVERHEAD);
        self
    }

    /// What a write that would go over the limit does.
    ///
    /// ```
    /// use stream_bytes::Policy;
    /// let w = stream_bytes::ByteWriter::builder().on_full(Policy::DisconnectSlowest).build();
    /// assert_eq!(w.policy(), Policy::DisconnectSlowest);
    /// ```
    pub fn on_full(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The writer.
    ///
    /// ```
    /// let w = stream_bytes::ByteWriter::builder().build();
    /// assert!(!w.is_closed());
    /// ```
    pub fn build(self) -> ByteWriter {
        ByteWriter {
            core: Core::new(self.max, self.policy, self.overhead, "bytes"),
            written: 0,
        }
    }
}
