//! [`RemoteByteStream`]: a byte stream read from a NATS subject.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_nats::{Client, ToSubject};
use bytes::Bytes;
use futures::Stream;

use crate::core::{Core, Out};
use crate::options::Options;
use crate::receiver::{SubscribeError, start};

/// The error a [`RemoteByteStream`] yields when chunks were lost (inside
/// an `io::Error` of kind `Other`; get it back with `io::Error::get_ref`
/// and `downcast_ref`). The stream goes on with the chunk after them.
///
/// ```
/// let lost = bridge_nats::LostBytes::new(3, 12_288);
/// assert_eq!(lost.bytes(), 12_288);
/// assert_eq!(lost.chunks(), 3);
/// assert_eq!(
///     lost.to_string(),
///     "bridge-nats: 12288 bytes (3 chunks) were lost on the way and will not be delivered"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostBytes {
    chunks: u64,
    bytes: u64,
}

impl LostBytes {
    /// A loss of `chunks` chunks holding `bytes` bytes.
    ///
    /// ```
    /// assert_eq!(bridge_nats::LostBytes::new(1, 5).bytes(), 5);
    /// ```
    pub fn new(chunks: u64, bytes: u64) -> Self {
        LostBytes { chunks, bytes }
    }

    /// Bytes the writer wrote that this stream will never get (exact: the
    /// frames carry byte offsets).
    ///
    /// ```
    /// assert_eq!(bridge_nats::LostBytes::new(2, 10).bytes(), 10);
    /// ```
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Chunks lost (0 when the bytes were lost before the forwarder read
    /// them, where chunk counts are unknown).
    ///
    /// ```
    /// assert_eq!(bridge_nats::LostBytes::new(2, 10).chunks(), 2);
    /// ```
    pub fn chunks(&self) -> u64 {
        self.chunks
    }
}

impl fmt::Display for LostBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bridge-nats: {} bytes ({} chunks) were lost on the way and will not be delivered",
            self.bytes, self.chunks
        )
    }
}

impl std::error::Error for LostBytes {}

/// Subscribes to a subject a [`forward_bytes`](crate::forward_bytes)
/// publishes to; the stream gets the chunks published from now on, its
/// local buffer holding `capacity` chunks (a reader further behind loses
/// the oldest, reported as [`LostBytes`]).
///
/// # Errors
///
/// When the client cannot subscribe.
///
/// # Panics
///
/// Outside a tokio runtime, or if `capacity` is 0.
///
/// ```no_run
/// use futures::StreamExt;
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = async_nats::connect("127.0.0.1:4222").await?;
/// let mut stream = bridge_nats::subscribe_bytes(&client, "video", 1024, Default::default()).await?;
/// while let Some(chunk) = stream.next().await {
///     match chunk {
///         Ok(b) if b.is_empty() => println!("closed"),
///         Ok(b) => println!("{} bytes", b.len()),
///         Err(e) => eprintln!("{e}"),
///     }
/// }
/// # Ok(()) }
/// ```
/// (Run against a real server in `tests/bytes.rs`.)
pub async fn subscribe_bytes(
    client: &Client,
    subject: impl ToSubject,
    capacity: usize,
    options: Options,
) -> Result<RemoteByteStream, SubscribeError> {
    let core = start(client, subject, capacity, options, true, chunk_of).await?;
    Ok(RemoteByteStream {
        core,
        state: State::Open,
    })
}

/// A data frame's payload as a chunk. An empty one is refused: the
/// forwarder never sends one, and handing it out would be the empty chunk
/// that means "closed" on a byte stream while more may follow; it comes
/// out as an `InvalidData` error item (like a chunk that does not decode)
/// and the stream goes on. Applies to a chunk inside a batch too.
fn chunk_of(payload: &Bytes) -> Result<Bytes, crate::CodecError> {
    if payload.is_empty() {
        return Err("an empty data frame (the forwarder never sends one)".into());
    }
    Ok(payload.clone())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// The close (empty chunk) or the last error was yielded.
    Ending,
    Done,
}

/// The chunks a remote writer forwarded, as stream-bytes' `ByteStream`
/// yields them: a `Stream` of `io::Result<Bytes>`, chunk boundaries and
/// order kept, an empty chunk at the close, then the end. The `Bytes` are
/// the client's received buffers, not copies.
///
/// Errors, after which the stream goes on unless said otherwise:
///
/// * lost chunks: kind `Other`, holding a [`LostBytes`] with the exact
///   byte count (a network gap, a slow consumer cut off, the forwarder's
///   own loss, or this stream's local buffer overwritten);
/// * a message that is not a bridge frame: kind `InvalidData`;
/// * a new forwarder on the subject: kind `Other` (its bytes follow);
/// * the forwarder silent past the heartbeat timeout: kind
///   `ConnectionAborted`, then the end (no empty chunk: it did not close).
pub struct RemoteByteStream {
    core: Core<Bytes>,
    state: State,
}

impl RemoteByteStream {
    /// A new stream of the same subscription, from the next chunk on.
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # fn demo(s: bridge_nats::RemoteByteStream) {
    /// let _second = s.resubscribe();
    /// # }
    /// ```
    pub fn resubscribe(&self) -> Self {
        RemoteByteStream {
            core: self.core.resubscribe(),
            state: State::Open,
        }
    }
}

impl fmt::Debug for RemoteByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteByteStream")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Stream for RemoteByteStream {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.state {
            State::Open => {}
            State::Ending => {
                this.state = State::Done;
                return Poll::Ready(None);
            }
            State::Done => return Poll::Ready(None),
        }
        let out = std::task::ready!(this.core.poll_out(cx));
        Poll::Ready(Some(match out {
            Out::Value(b) => Ok(b),
            Out::Lost { values, bytes } => Err(io::Error::other(LostBytes::new(values, bytes))),
            Out::Bad { seq, error } => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bridge-nats: chunk {seq} unreadable: {error}"),
            )),
            Out::Foreign(e) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bridge-nats: not a bridge frame: {e}"),
            )),
            Out::Restarted => Err(io::Error::other(
                "bridge-nats: a new forwarder took over the subject; its stream follows from its offset 0",
            )),
            Out::Silent(d) => {
                this.state = State::Ending;
                Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    format!(
                        "bridge-nats: the forwarder was silent for {d:?} (no heartbeat): publisher lost"
                    ),
                ))
            }
            Out::Closed => {
                this.state = State::Ending;
                Ok(Bytes::new())
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The byte path without a server: chunks with holes, exact byte counts.

    use super::*;
    use crate::feed::{Body, Event};
    use crate::wire::{Kind, Meta};
    use futures::StreamExt;

    fn chunk(seq: u64, offset: u64, text: &'static str) -> Event<Bytes> {
        Event::Frame {
            meta: Meta {
                kind: Kind::Data,
                session: 1,
                seq,
                offset: Some(offset),
            },
            len: text.len() as u64,
            body: Body::Value(Bytes::from_static(text.as_bytes())),
        }
    }

    #[test]
    fn lost_chunks_are_an_error_with_the_exact_byte_count_then_the_stream_goes_on() {
        let (tx, rx) = chan_broadcast::channel(16);
        let mut s = RemoteByteStream {
            core: Core::new(rx, Default::default()),
            state: State::Open,
        };
        // "ab" "cde" "f" "ghij": "cde" and "f" lost, then a 3-byte tail.
        tx.send(chunk(1, 0, "ab")).unwrap();
        tx.send(chunk(4, 6, "ghij")).unwrap();
        tx.send(Event::Frame {
            meta: Meta {
                kind: Kind::Close,
                session: 1,
                seq: 5,
                offset: Some(13),
            },
            len: 0,
            body: Body::Empty,
        })
        .unwrap();
        drop(tx);
        futures::executor::block_on(async {
            assert_eq!(s.next().await.unwrap().unwrap(), "ab");
            let e = s.next().await.unwrap().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::Other);
            let lost = e.get_ref().unwrap().downcast_ref::<LostBytes>().unwrap();
            assert_eq!((lost.chunks(), lost.bytes()), (2, 4));
            assert_eq!(s.next().await.unwrap().unwrap(), "ghij");
            let e = s.next().await.unwrap().unwrap_err();
            let lost = e.get_ref().unwrap().downcast_ref::<LostBytes>().unwrap();
            assert_eq!((lost.chunks(), lost.bytes()), (1, 3));
            assert_eq!(s.next().await.unwrap().unwrap(), ""); // the close
            assert!(s.next().await.is_none());
            assert!(s.next().await.is_none());
        });
    }

    /// A batch frame of `chunks` from sequence number `first` at byte
    /// `offset`, as the feed hands it on; `cut` bytes cut off its end.
    fn send_batch(
        tx: &chan_broadcast::Sender<Event<Bytes>>,
        first: u64,
        offset: u64,
        chunks: &[&str],
        cut: usize,
    ) {
        let mut buf = Vec::new();
        for c in chunks {
            crate::wire::put_len(&mut buf, c.len());
            buf.extend_from_slice(c.as_bytes());
        }
        buf.truncate(buf.len() - cut);
        let meta = Meta {
            kind: Kind::Data,
            session: 1,
            seq: first,
            offset: Some(offset),
        };
        let keep = |b: &Bytes| Ok::<_, crate::CodecError>(b.clone());
        assert!(crate::feed::batch(
            meta,
            chunks.len() as u64,
            &buf.into(),
            tx,
            &Default::default(),
            &keep
        ));
    }

    #[test]
    fn an_empty_payload_is_not_a_chunk() {
        assert!(chunk_of(&Bytes::new()).is_err());
        assert_eq!(chunk_of(&Bytes::from_static(b"a")).unwrap(), "a");
    }

    fn lost(e: io::Error) -> (u64, u64) {
        let l = e.get_ref().unwrap().downcast_ref::<LostBytes>().unwrap();
        (l.chunks(), l.bytes())
    }

    #[test]
    fn batched_chunks_keep_their_boundaries_and_a_lost_batch_its_byte_count() {
        let (tx, rx) = chan_broadcast::channel(16);
        let mut s = RemoteByteStream {
            core: Core::new(rx, Default::default()),
            state: State::Open,
        };
        // "ab" "x" "cde" in one batch; "fg" "h" (3 bytes) in a lost one;
        // "ijkl" "m" in a third; then one with broken framing ("no" "pq",
        // 4 bytes) and "rs" alone.
        send_batch(&tx, 1, 0, &["ab", "x", "cde"], 0);
        send_batch(&tx, 6, 9, &["ijkl", "m"], 0);
        send_batch(&tx, 8, 14, &["no", "pq"], 1);
        tx.send(chunk(10, 18, "rs")).unwrap();
        futures::executor::block_on(async {
            for want in ["ab", "x", "cde"] {
                assert_eq!(s.next().await.unwrap().unwrap(), want);
            }
            assert_eq!(lost(s.next().await.unwrap().unwrap_err()), (2, 3));
            assert_eq!(s.next().await.unwrap().unwrap(), "ijkl");
            assert_eq!(s.next().await.unwrap().unwrap(), "m");
            // The broken batch: its first chunk lost, its last unreadable,
            // then its 4 bytes counted lost before "rs".
            assert_eq!(lost(s.next().await.unwrap().unwrap_err()), (1, 0));
            let e = s.next().await.unwrap().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            assert_eq!(lost(s.next().await.unwrap().unwrap_err()), (0, 4));
            assert_eq!(s.next().await.unwrap().unwrap(), "rs");
        });
    }

    #[test]
    fn a_lost_publisher_ends_the_stream_with_connection_aborted() {
        let (tx, rx) = chan_broadcast::channel(16);
        let mut s = RemoteByteStream {
            core: Core::new(rx, Default::default()),
            state: State::Open,
        };
        tx.send(chunk(1, 0, "x")).unwrap();
        tx.send(Event::Silent(std::time::Duration::from_secs(2)))
            .unwrap();
        futures::executor::block_on(async {
            assert_eq!(s.next().await.unwrap().unwrap(), "x");
            let e = s.next().await.unwrap().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted);
            assert!(s.next().await.is_none());
        });
    }
}
