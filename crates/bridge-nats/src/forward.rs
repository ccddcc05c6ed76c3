//! The sending side: a task per forwarded channel or byte stream.

use std::fmt;
use std::io;

use async_nats::{Client, Subject, ToSubject};
use bytes::Bytes;
use chan_broadcast::Receiver;
use chan_broadcast::error::{RecvError, TryRecvError};
use futures::{FutureExt, Stream, StreamExt};
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::codec::{Codec, CodecError, Postcard};
use crate::options::Options;
use crate::wire::{BATCH, Kind, MAX_SUBJECT_LEN, Meta, len_of_len, new_session, put_len};

/// What a forwarder did, returned by its task when the forwarded channel
/// or stream closed and the server confirmed the close frame (a round trip).
///
/// ```
/// let f = bridge_nats::Forwarded::default();
/// assert_eq!((f.values, f.bytes, f.lost, f.lost_bytes), (0, 0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Forwarded {
    /// Values (or chunks) published.
    pub values: u64,
    /// Payload bytes published (byte streams; encoded bytes for values).
    pub bytes: u64,
    /// Values the forwarder's own receiver lagged past before it could
    /// publish them (each one still took a sequence number, so remote
    /// receivers report it as lost).
    pub lost: u64,
    /// Bytes the forwarded byte stream lost before the forwarder read them
    /// (a `Disconnected` stream); carried in the close frame's offset.
    pub lost_bytes: u64,
    /// Heartbeats published.
    pub heartbeats: u64,
}

/// Why a forwarder stopped before the close. The task's `JoinHandle`
/// returns it: a forwarder never dies silently (a panic or an abort shows
/// as the handle's `JoinError`). Remote receivers see no close frame from
/// a forwarder that stopped on an error, so they report it lost after the
/// heartbeat timeout.
///
/// ```
/// let e = bridge_nats::ForwardError::Oversize { seq: 3, size: 2_000_000, max_payload: 1_048_576 };
/// assert_eq!(
///     e.to_string(),
///     "bridge-nats: value 3 is 2000000 bytes on the wire, over the server's max_payload of 1048576 bytes"
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ForwardError {
    /// A value (its encoded payload) larger than the server accepts
    /// (`max_payload` in the server's INFO, 1 MiB by default).
    Oversize {
        /// The value's sequence number.
        seq: u64,
        /// Its size on the wire (the payload; the frame's metadata rides in
        /// the reply subject, which the limit does not count).
        size: usize,
        /// The server's limit.
        max_payload: usize,
    },
    /// The codec could not encode a value.
    Encode {
        /// The value's sequence number.
        seq: u64,
        /// What the codec said.
        error: CodecError,
    },
    /// The forwarded byte stream failed (an error other than a
    /// disconnect, which is counted in [`Forwarded::lost_bytes`]).
    Stream(io::Error),
    /// The client refused the publish (closed client, invalid subject).
    Publish(async_nats::PublishError),
    /// The close frame was published but the server did not confirm it: a
    /// round trip through it failed, or took longer than the client's
    /// request timeout (async-nats's `ConnectOptions::request_timeout`,
    /// 10 s by default).
    Unconfirmed(async_nats::Error),
    /// The subject is too long to carry the bridge's frames: with the
    /// frame's metadata in the reply subject, the `PUB` line would pass
    /// nats-server's 4096-byte protocol line limit, and the server would
    /// drop the connection and the message. Returned before anything is
    /// published.
    SubjectTooLong {
        /// The subject's length in bytes.
        len: usize,
        /// The longest subject the bridge forwards to.
        max: usize,
    },
}

impl fmt::Display for ForwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardError::Oversize {
                seq,
                size,
                max_payload,
            } => write!(
                f,
                "bridge-nats: value {seq} is {size} bytes on the wire, over the server's max_payload of {max_payload} bytes"
            ),
            ForwardError::Encode { seq, error } => {
                write!(f, "bridge-nats: value {seq} could not be encoded: {error}")
            }
            ForwardError::Stream(e) => write!(f, "bridge-nats: the forwarded stream failed: {e}"),
            ForwardError::Publish(e) => write!(f, "bridge-nats: publish failed: {e}"),
            ForwardError::Unconfirmed(e) => {
                write!(f, "bridge-nats: the close frame was not confirmed: {e}")
            }
            ForwardError::SubjectTooLong { len, max } => write!(
                f,
                "bridge-nats: the subject is {len} bytes, over the {max} a bridge frame's protocol line leaves under the server's 4096-byte limit"
            ),
        }
    }
}

impl std::error::Error for ForwardError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ForwardError::Encode { error, .. } => Some(&**error),
            ForwardError::Stream(e) => Some(e),
            ForwardError::Publish(e) => Some(e),
            ForwardError::Unconfirmed(e) => Some(&**e),
            ForwardError::Oversize { .. } | ForwardError::SubjectTooLong { .. } => None,
        }
    }
}

/// The state one forwarder keeps: session, position, client, and the
/// values taken in this wake-up and not published yet.
struct Link {
    client: Client,
    subject: Subject,
    session: u64,
    /// Last sequence number used (published, queued in `pending`, or
    /// skipped).
    seq: u64,
    /// Bytes forwarded or lost so far (byte streams), not counting
    /// `pending`; `None` for values.
    offset: Option<u64>,
    stats: Forwarded,
    /// Payloads taken and not published yet: the last `pending.len()`
    /// sequence numbers up to `seq`. Published by `flush`, before the task
    /// waits again, so nothing waits here for more to come.
    pending: Vec<Bytes>,
    /// Their batch payload size (lengths and bytes).
    pending_size: usize,
    /// The largest batch payload: below the server's `max_payload`.
    batch_cap: usize,
}

/// The largest batch payload the forwarder builds (the server's
/// `max_payload` permitting): big enough that the per-message cost is
/// small against it, small enough to stay in cache.
const BATCH_BYTES: usize = 64 * 1024;

/// Chunks shorter than this may be copied into a batch; longer ones go
/// out alone, as they are (no copy).
const SMALL_CHUNK: usize = 1024;

impl Link {
    fn new(client: Client, subject: Subject, bytes: bool) -> Self {
        // Once per forwarder (it clones the server's INFO); 0 (no INFO
        // yet) means the default. Batches stay 256 bytes under the limit
        // (the reply subject does not count against it): a batch is never
        // built at the edge of what the server takes.
        let max = match client.server_info().max_payload {
            0 => BATCH_BYTES,
            m => m,
        };
        let batch_cap = BATCH_BYTES.min(max.saturating_sub(256).max(max / 2));
        Link {
            client,
            subject,
            session: new_session(),
            seq: 0,
            offset: bytes.then_some(0),
            stats: Forwarded::default(),
            pending: Vec::with_capacity(BATCH),
            pending_size: 0,
            batch_cap,
        }
    }

    /// Takes the next data payload: queued for a batch if it fits one,
    /// else published alone (after what is queued). `batchable` false
    /// keeps a chunk out of batches (it is not copied).
    async fn data(&mut self, payload: Bytes, batchable: bool) -> Result<(), ForwardError> {
        let size = len_of_len(payload.len()) + payload.len();
        if !batchable || size > self.batch_cap {
            self.flush().await?;
            self.seq += 1;
            return self.publish_one(payload).await;
        }
        if self.pending.len() == BATCH || self.pending_size + size > self.batch_cap {
            self.flush().await?;
        }
        self.seq += 1;
        self.pending_size += size;
        self.pending.push(payload);
        Ok(())
    }

    /// Publishes what is queued: one data frame, or one batch frame.
    async fn flush(&mut self) -> Result<(), ForwardError> {
        match self.pending.len() {
            0 => Ok(()),
            1 => {
                let payload = self.pending.pop().unwrap_or_default();
                self.pending_size = 0;
                self.publish_one(payload).await
            }
            n => {
                let mut buf = Vec::with_capacity(self.pending_size);
                let mut len = 0u64;
                for p in &self.pending {
                    put_len(&mut buf, p.len());
                    buf.extend_from_slice(p);
                    len += p.len() as u64;
                }
                self.pending.clear();
                self.pending_size = 0;
                let meta = Meta {
                    kind: Kind::Data,
                    session: self.session,
                    seq: self.seq + 1 - n as u64,
                    offset: self.offset,
                };
                let reply = meta.encode_batch(n as u64);
                self.publish(meta.seq, reply, Bytes::from(buf)).await?;
                if let Some(o) = &mut self.offset {
                    *o += len;
                }
                self.stats.values += n as u64;
                self.stats.bytes += len;
                Ok(())
            }
        }
    }

    /// Publishes the data frame of sequence number `seq` (nothing
    /// pending before it).
    async fn publish_one(&mut self, payload: Bytes) -> Result<(), ForwardError> {
        let meta = Meta {
            kind: Kind::Data,
            session: self.session,
            seq: self.seq,
            offset: self.offset,
        };
        let len = payload.len() as u64;
        self.publish(meta.seq, meta.encode(), payload).await?;
        if let Some(o) = &mut self.offset {
            *o += len;
        }
        self.stats.values += 1;
        self.stats.bytes += len;
        Ok(())
    }

    /// Publishes one message, its metadata (`reply`, from `wire`) in its
    /// reply subject; `seq` names it in an `Oversize` error.
    async fn publish(
        &mut self,
        seq: u64,
        reply: String,
        payload: Bytes,
    ) -> Result<(), ForwardError> {
        // The server's limit counts the payload alone (the reply subject
        // is not counted).
        let size = payload.len();
        // async-nats checks the size against the server's max_payload (it
        // keeps it in an atomic): no per-message `server_info()`, which
        // clones the whole INFO, strings and all.
        match self
            .client
            .publish_with_reply(self.subject.clone(), reply, payload)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == async_nats::client::PublishErrorKind::MaxPayloadExceeded => {
                Err(ForwardError::Oversize {
                    seq,
                    size,
                    max_payload: self.client.server_info().max_payload,
                })
            }
            Err(e) => Err(ForwardError::Publish(e)),
        }
    }

    /// The forwarder's first step: refuses a subject whose frames the
    /// server would not take ([`ForwardError::SubjectTooLong`]), then
    /// publishes the first heartbeat.
    async fn start(&mut self) -> Result<(), ForwardError> {
        let len = self.subject.len();
        if len > MAX_SUBJECT_LEN {
            return Err(ForwardError::SubjectTooLong {
                len,
                max: MAX_SUBJECT_LEN,
            });
        }
        self.control(Kind::Heartbeat).await
    }

    /// Publishes a heartbeat or close frame (carrying the last sequence
    /// number and offset).
    async fn control(&mut self, kind: Kind) -> Result<(), ForwardError> {
        let meta = Meta {
            kind,
            session: self.session,
            seq: self.seq,
            offset: self.offset,
        };
        self.client
            .publish_with_reply(self.subject.clone(), meta.encode(), Bytes::new())
            .await
            .map_err(ForwardError::Publish)?;
        if kind == Kind::Heartbeat {
            self.stats.heartbeats += 1;
        }
        Ok(())
    }

    /// Sends the close frame and waits until the server has processed it
    /// (a round trip: `Client::flush` alone only writes to the socket).
    async fn close(mut self) -> Result<Forwarded, ForwardError> {
        self.flush().await?;
        self.control(Kind::Close).await?;
        crate::round_trip(&self.client)
            .await
            .map_err(ForwardError::Unconfirmed)?;
        Ok(self.stats)
    }
}

/// A heartbeat ticker: first tick after one interval (the first heartbeat
/// goes out at once, from the caller).
fn ticker(options: &Options) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(Instant::now() + options.interval(), options.interval());
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// Forwards every value of `rx` to `subject`, encoded with [`Postcard`],
/// with the default [`Options`]. See [`forward_with`].
///
/// # Panics
///
/// Outside a tokio runtime (it spawns the task).
///
/// ```no_run
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = async_nats::connect("127.0.0.1:4222").await?;
/// let (tx, rx) = chan_broadcast::channel::<u64>(1024);
/// let task = bridge_nats::forward(rx, client, "prices");
/// tx.send(42)?;
/// drop(tx); // close: remote receivers drain, then see `Closed`
/// let stats = task.await??;
/// assert_eq!(stats.values, 1);
/// # Ok(()) }
/// ```
/// (Run against a real server in `tests/broadcast.rs`.)
pub fn forward<T>(
    rx: Receiver<T>,
    client: Client,
    subject: impl ToSubject,
) -> JoinHandle<Result<Forwarded, ForwardError>>
where
    T: Serialize + Clone + Send + 'static,
{
    forward_with(rx, client, subject, Options::default(), Postcard)
}

/// Spawns a task that publishes every value of `rx` to `subject` until
/// the channel closes (its last sender dropped or closed), then publishes
/// a close frame, flushes it to the server and returns what it did.
///
/// Each value goes out with the frame's metadata (session, sequence
/// number) in its reply subject and the codec's payload: one NATS
/// message per value, or, when several values are already queued as the task wakes up, one message
/// for up to 256 of them (their payloads length-prefixed, under the
/// server's `max_payload`; the task never waits to fill a batch). A
/// heartbeat goes out every `options.interval()`. If `rx` itself lags (the forwarder
/// could not keep up with the local senders), the values it missed still
/// take sequence numbers, so remote receivers report them as lost.
///
/// The task stops with a [`ForwardError`] on a value it cannot send (too
/// large for the server, not encodable) or a client that refuses the
/// publish; abort its handle to stop it without a close (remote receivers
/// then report it lost after their heartbeat timeout).
///
/// # Panics
///
/// Outside a tokio runtime (it spawns the task).
///
/// ```no_run
/// use std::time::Duration;
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = async_nats::connect("127.0.0.1:4222").await?;
/// let (tx, rx) = chan_broadcast::channel::<String>(1024);
/// let options = bridge_nats::Options::default().heartbeat_interval(Duration::from_millis(200));
/// let task = bridge_nats::forward_with(rx, client, "log", options, bridge_nats::Postcard);
/// tx.send("started".to_owned())?;
/// drop(tx);
/// task.await??;
/// # Ok(()) }
/// ```
pub fn forward_with<T, C>(
    mut rx: Receiver<T>,
    client: Client,
    subject: impl ToSubject,
    options: Options,
    codec: C,
) -> JoinHandle<Result<Forwarded, ForwardError>>
where
    T: Serialize + Clone + Send + 'static,
    C: Codec,
{
    let mut link = Link::new(client, subject.to_subject(), false);
    tokio::spawn(async move {
        let mut beat = ticker(&options);
        link.start().await?;
        loop {
            tokio::select! {
                biased;
                r = rx.recv() => {
                    let mut closed = link.value(r, &codec).await?;
                    // Then what is already there, without going back
                    // through the select (up to a batch, so heartbeats
                    // still get their turn), into as few messages as fit;
                    // published before waiting again.
                    for _ in 1..BATCH {
                        if closed {
                            break;
                        }
                        let r = match rx.try_recv() {
                            Err(TryRecvError::Empty) => break,
                            Ok(v) => Ok(v),
                            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                            Err(TryRecvError::Closed) => Err(RecvError::Closed),
                        };
                        closed = link.value(r, &codec).await?;
                    }
                    link.flush().await?;
                    if closed {
                        return link.close().await;
                    }
                }
                _ = beat.tick() => link.control(Kind::Heartbeat).await?,
            }
        }
    })
}

impl Link {
    /// Handles one receive of a forwarded channel; true at its close.
    async fn value<T: Serialize, C: Codec>(
        &mut self,
        r: Result<T, RecvError>,
        codec: &C,
    ) -> Result<bool, ForwardError> {
        match r {
            Ok(v) => {
                let payload = codec.encode(&v).map_err(|error| ForwardError::Encode {
                    seq: self.seq + 1,
                    error,
                })?;
                self.data(Bytes::from(payload), true).await?;
            }
            Err(RecvError::Lagged(n)) => {
                // The queued values keep their numbers; the lost ones
                // follow them.
                self.flush().await?;
                self.seq += n;
                self.stats.lost += n;
            }
            Err(RecvError::Closed) => return Ok(true),
        }
        Ok(false)
    }
}

/// Spawns a task that publishes every chunk of a byte stream (a
/// [`stream_bytes::ByteStream`] of a `ByteWriter`, or any stream of
/// `io::Result<Bytes>`) to `subject`, each chunk of 1 KiB or more as one
/// NATS message, its `Bytes` handed to the client as they are (no copy);
/// chunks under 1 KiB already queued when the task wakes up are copied
/// into one message (up to 256, never waiting for more). Chunk
/// boundaries and order are kept. Empty chunks (stream-bytes yields one at
/// the close) are not sent. When the stream ends, a close frame goes out
/// and the server confirms it (a round trip), and the task returns what it
/// did.
///
/// A stream that reports bytes it lost (stream-bytes'
/// [`Disconnected`](stream_bytes::Disconnected)) is not an error: the lost
/// bytes are added to the offset the close frame carries, so remote
/// streams report them. Other stream errors stop the task with
/// [`ForwardError::Stream`]; a chunk larger than the server's
/// `max_payload` with [`ForwardError::Oversize`] (chunks are never split).
///
/// # Panics
///
/// Outside a tokio runtime (it spawns the task).
///
/// ```no_run
/// use std::io::Write;
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = async_nats::connect("127.0.0.1:4222").await?;
/// let mut writer = stream_bytes::ByteWriter::default();
/// let task = bridge_nats::forward_bytes(writer.stream(), client, "video", Default::default());
/// writer.write_all(b"frame 1")?;
/// writer.close();
/// let stats = task.await??;
/// assert_eq!(stats.bytes, 7);
/// # Ok(()) }
/// ```
/// (Run against a real server in `tests/bytes.rs`.)
pub fn forward_bytes<S>(
    mut stream: S,
    client: Client,
    subject: impl ToSubject,
    options: Options,
) -> JoinHandle<Result<Forwarded, ForwardError>>
where
    S: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
{
    let mut link = Link::new(client, subject.to_subject(), true);
    tokio::spawn(async move {
        let mut beat = ticker(&options);
        link.start().await?;
        loop {
            tokio::select! {
                biased;
                item = stream.next() => {
                    let mut ended = link.chunk(item).await?;
                    // Then what is already there (up to a batch): small
                    // chunks into as few messages as fit, published
                    // before waiting again.
                    for _ in 1..BATCH {
                        if ended {
                            break;
                        }
                        let Some(item) = stream.next().now_or_never() else {
                            break;
                        };
                        ended = link.chunk(item).await?;
                    }
                    link.flush().await?;
                    if ended {
                        return link.close().await;
                    }
                }
                _ = beat.tick() => link.control(Kind::Heartbeat).await?,
            }
        }
    })
}

impl Link {
    /// Handles one item of a forwarded byte stream; true at its end.
    async fn chunk(&mut self, item: Option<io::Result<Bytes>>) -> Result<bool, ForwardError> {
        match item {
            Some(Ok(chunk)) if chunk.is_empty() => {}
            Some(Ok(chunk)) => {
                let small = chunk.len() < SMALL_CHUNK;
                self.data(chunk, small).await?;
            }
            Some(Err(e)) => {
                let lost = e
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<stream_bytes::Disconnected>())
                    .map(stream_bytes::Disconnected::lost_bytes);
                // What was taken before the error goes out first.
                self.flush().await?;
                match lost {
                    Some(n) => {
                        if let Some(o) = &mut self.offset {
                            *o += n;
                        }
                        self.stats.lost_bytes += n;
                    }
                    None => return Err(ForwardError::Stream(e)),
                }
            }
            None => return Ok(true),
        }
        Ok(false)
    }
}
