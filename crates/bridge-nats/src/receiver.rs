//! [`RemoteReceiver`]: a broadcast receiver fed from a NATS subject.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_nats::{Client, ToSubject};
use chan_broadcast::Lagged;
use chan_broadcast::error::{RecvError, TryRecvError};
use futures::Stream;
use serde::de::DeserializeOwned;

use crate::codec::{Codec, Postcard};
use crate::core::{Core, Out};
use crate::feed::{self, Event};
use crate::options::Options;

/// Why [`RemoteReceiver::recv_item`] returned no value: the whole story,
/// where [`recv`](RemoteReceiver::recv) folds it into tokio's two cases.
///
/// ```
/// use bridge_nats::RemoteError;
/// use chan_broadcast::error::RecvError;
///
/// assert_eq!(RecvError::from(RemoteError::Lagged(3)), RecvError::Lagged(3));
/// let bad = RemoteError::Decode { seq: 9, error: "unexpected end".into() };
/// assert_eq!(RecvError::from(bad), RecvError::Lagged(1));
/// let lost = RemoteError::PublisherLost { silent_for: std::time::Duration::from_secs(5) };
/// assert_eq!(RecvError::from(lost), RecvError::Closed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteError {
    /// This many values were sent and will never reach this receiver:
    /// dropped by NATS (a slow consumer cut off, a reconnect), by the
    /// forwarder's own lag, or overwritten in this process's local channel
    /// because this receiver read too slowly. The next value follows them.
    Lagged(u64),
    /// The value with this sequence number arrived but did not decode
    /// (a different `T` or codec on the two ends, or a corrupt payload).
    /// It counts as one lost value.
    Decode {
        /// The value's sequence number.
        seq: u64,
        /// What the codec said.
        error: String,
    },
    /// A message on the subject that no bridge forwarder sent (no valid
    /// bridge reply subject, `_SEQCAST.…`). Nothing is known about what it
    /// was.
    Foreign(String),
    /// A different forwarder (a new session) now publishes on the
    /// subject. Values the old forwarder sent after the last frame of it
    /// this receiver saw cannot be counted; the new session's are.
    Restarted,
    /// No frame (value or heartbeat) from the forwarder for this long,
    /// more than the heartbeat timeout: it is gone (crashed, cut off, or
    /// stopped by an error it reported to its own process). Terminal:
    /// every later call returns `Closed`.
    PublisherLost {
        /// How long the forwarder had been silent.
        silent_for: Duration,
    },
    /// The forwarder closed and every value it sent before that has been
    /// received (or reported lost); or the client closed. For ever.
    Closed,
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Lagged(n) => write!(f, "channel lagged by {n}"),
            RemoteError::Decode { seq, error } => {
                write!(f, "bridge-nats: value {seq} did not decode: {error}")
            }
            RemoteError::Foreign(e) => write!(f, "bridge-nats: not a bridge frame: {e}"),
            RemoteError::Restarted => {
                write!(f, "bridge-nats: a new forwarder took over the subject")
            }
            RemoteError::PublisherLost { silent_for } => write!(
                f,
                "bridge-nats: the forwarder was silent for {silent_for:?} (no heartbeat): publisher lost"
            ),
            RemoteError::Closed => write!(f, "channel closed"),
        }
    }
}

impl std::error::Error for RemoteError {}

impl From<RemoteError> for RecvError {
    /// tokio's two cases: a value that will not arrive (lost, or
    /// undecodable, or not ours) is `Lagged`; a channel that will give
    /// nothing more (closed, publisher lost) is `Closed`. `Restarted`
    /// carries no loss of its own: `Lagged(0)`, which
    /// [`RemoteReceiver::recv`] never returns (it skips it).
    fn from(e: RemoteError) -> RecvError {
        match e {
            RemoteError::Lagged(n) => RecvError::Lagged(n),
            RemoteError::Decode { .. } | RemoteError::Foreign(_) => RecvError::Lagged(1),
            RemoteError::Restarted => RecvError::Lagged(0),
            RemoteError::PublisherLost { .. } | RemoteError::Closed => RecvError::Closed,
        }
    }
}

/// Why [`subscribe`] failed.
///
/// ```
/// fn is_error<E: std::error::Error>() {}
/// is_error::<bridge_nats::SubscribeError>();
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The client refused the subscription.
    Subscribe(async_nats::SubscribeError),
    /// The server did not confirm the subscription: a round trip through
    /// it failed, or took longer than the client's request timeout
    /// (async-nats's `ConnectOptions::request_timeout`, 10 s by default).
    Unconfirmed(async_nats::Error),
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscribeError::Subscribe(e) => write!(f, "bridge-nats: subscribe failed: {e}"),
            SubscribeError::Unconfirmed(e) => {
                write!(f, "bridge-nats: subscribe not confirmed: {e}")
            }
        }
    }
}

impl std::error::Error for SubscribeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SubscribeError::Subscribe(e) => Some(e),
            SubscribeError::Unconfirmed(e) => Some(&**e),
        }
    }
}

/// Subscribes to `subject` and starts the feed task; returns once the
/// server has the subscription (a round trip through it confirmed it:
/// `Client::flush` alone only writes to the socket), so a value any
/// connection publishes after this returns reaches the receiver. `offsets`: frames
/// on this subject carry byte offsets (a byte stream's) or none (a
/// broadcast's); a frame of the other kind is foreign.
pub(crate) async fn start<T, D>(
    client: &Client,
    subject: impl ToSubject,
    capacity: usize,
    options: Options,
    offsets: bool,
    decode: D,
) -> Result<Core<T>, SubscribeError>
where
    T: Clone + Send + 'static,
    D: Fn(&bytes::Bytes) -> Result<T, crate::CodecError> + Send + 'static,
{
    // One slot more than asked: `capacity` values and the close (the
    // feed sends no heartbeat that tells nothing).
    let (tx, rx) = chan_broadcast::channel::<Event<T>>(capacity.saturating_add(1));
    let shared = feed::Shared::default();
    let sub = client
        .subscribe(subject.to_subject())
        .await
        .map_err(SubscribeError::Subscribe)?;
    crate::round_trip(client)
        .await
        .map_err(SubscribeError::Unconfirmed)?;
    let stats = client.statistics();
    let at = stats.connects.load(std::sync::atomic::Ordering::Relaxed);
    // Not shared yet: no lock contention.
    feed::lock(&shared).connects = Some((stats, at));
    let core = Core::new(rx, shared.clone());
    tokio::spawn(feed::run(sub, tx, shared, decode, offsets, options));
    Ok(core)
}

/// Subscribes to a subject that a [`forward`](crate::forward) publishes
/// to, decoding with [`Postcard`], with the default [`Options`]. See
/// [`subscribe_with`].
///
/// # Errors
///
/// When the client cannot subscribe (closed client, invalid subject).
///
/// # Panics
///
/// Outside a tokio runtime (it spawns the feed task), or if `capacity`
/// is 0 (as `chan_broadcast::channel`).
///
/// ```no_run
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = async_nats::connect("127.0.0.1:4222").await?;
/// let mut rx = bridge_nats::subscribe::<u64>(&client, "prices", 1024).await?;
/// // The same loop as for a local chan-broadcast (or tokio) receiver:
/// loop {
///     match rx.recv().await {
///         Ok(price) => println!("{price}"),
///         Err(chan_broadcast::error::RecvError::Lagged(n)) => eprintln!("missed {n}"),
///         Err(chan_broadcast::error::RecvError::Closed) => break,
///     }
/// }
/// # Ok(()) }
/// ```
/// (Run against a real server in `tests/broadcast.rs`.)
pub async fn subscribe<T>(
    client: &Client,
    subject: impl ToSubject,
    capacity: usize,
) -> Result<RemoteReceiver<T>, SubscribeError>
where
    T: DeserializeOwned + Clone + Send + 'static,
{
    subscribe_with(client, subject, capacity, Options::default(), Postcard).await
}

/// Subscribes to `subject` and returns a receiver of the values a
/// forwarder publishes there from now on.
///
/// One feed task per call reads the NATS subscription and decodes each
/// payload once into a local chan-broadcast channel of `capacity` values;
/// [`RemoteReceiver::resubscribe`] adds receivers to the same feed (one
/// NATS subscription, one decode per value, for every local receiver). A
/// local receiver more than `capacity` values behind the feed lags, as a
/// local one does. The feed ends at the close frame, at the heartbeat
/// timeout, when the client closes, or when every receiver is dropped.
///
/// # Errors
///
/// When the client cannot subscribe (closed client, invalid subject).
///
/// # Panics
///
/// Outside a tokio runtime (it spawns the feed task), or if `capacity`
/// is 0.
///
/// ```no_run
/// use std::time::Duration;
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = async_nats::connect("127.0.0.1:4222").await?;
/// let options = bridge_nats::Options::default().heartbeat_timeout(Duration::from_secs(2));
/// let mut rx = bridge_nats::subscribe_with::<String, _>(&client, "log", 256, options, bridge_nats::Postcard).await?;
/// while let Ok(line) = rx.recv_item().await {
///     println!("{line}");
/// }
/// # Ok(()) }
/// ```
pub async fn subscribe_with<T, C>(
    client: &Client,
    subject: impl ToSubject,
    capacity: usize,
    options: Options,
    codec: C,
) -> Result<RemoteReceiver<T>, SubscribeError>
where
    T: DeserializeOwned + Clone + Send + 'static,
    C: Codec,
{
    let core = start(client, subject, capacity, options, false, move |payload| {
        codec.decode::<T>(payload)
    })
    .await?;
    Ok(RemoteReceiver { core })
}

/// A receiver of the values forwarded to a NATS subject, with
/// chan-broadcast's (and so tokio's) receiving API: `recv`, `try_recv`,
/// `resubscribe`, the same `RecvError`/`TryRecvError` types, and a
/// `Stream` of `Result<T, Lagged>` that ends at the close.
///
/// It is not a `chan_broadcast::Receiver` itself: that type's lag count
/// comes from its own ring, and a network gap must be reported through
/// it. This type wraps one (fed from the subject) and reports every gap,
/// wherever it happened, as `Lagged(n)` with the exact number of values
/// lost, before the value that follows them. Code written against
/// `Receiver<T>`'s methods compiles unchanged against it; code that names
/// the type needs the new name. [`recv_item`](Self::recv_item) tells the
/// full reason ([`RemoteError`]).
///
/// No `blocking_recv`: use it from async code.
pub struct RemoteReceiver<T> {
    core: Core<T>,
}

impl<T: Clone> RemoteReceiver<T> {
    /// The next value, or why there is none: tokio's two cases (see
    /// [`RemoteError`]'s `From` impl for how the others fold in). Cancel
    /// safe: a value taken from the channel is kept for the next call.
    ///
    /// # Errors
    ///
    /// `Lagged(n)`: `n` values will never arrive (the next call returns
    /// the value after them); `Closed`: nothing more will arrive (the
    /// forwarder closed, or was lost).
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # async fn demo(mut rx: bridge_nats::RemoteReceiver<u64>) {
    /// while let Ok(v) = rx.recv().await {
    ///     println!("{v}");
    /// }
    /// # }
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        loop {
            match self.recv_item().await {
                Ok(v) => return Ok(v),
                Err(RemoteError::Restarted) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The next value, or the full reason there is none. Cancel safe.
    ///
    /// # Errors
    ///
    /// See [`RemoteError`]; after `PublisherLost` or `Closed`, every call
    /// returns `Closed`.
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # async fn demo(mut rx: bridge_nats::RemoteReceiver<u64>) {
    /// use bridge_nats::RemoteError;
    /// loop {
    ///     match rx.recv_item().await {
    ///         Ok(v) => println!("{v}"),
    ///         Err(RemoteError::PublisherLost { silent_for }) => {
    ///             eprintln!("publisher gone for {silent_for:?}");
    ///             break;
    ///         }
    ///         Err(RemoteError::Closed) => break,
    ///         Err(other) => eprintln!("{other}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn recv_item(&mut self) -> Result<T, RemoteError> {
        let out = poll_fn(|cx| self.core.poll_out(cx)).await;
        into_item(out)
    }

    /// The next value if one is here, without waiting.
    ///
    /// # Errors
    ///
    /// `Empty` when nothing is ready; otherwise as [`recv`](Self::recv).
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # fn demo(mut rx: bridge_nats::RemoteReceiver<u64>) {
    /// use chan_broadcast::error::TryRecvError;
    /// match rx.try_recv() {
    ///     Ok(v) => println!("{v}"),
    ///     Err(TryRecvError::Empty) => println!("nothing yet"),
    ///     Err(e) => println!("{e}"),
    /// }
    /// # }
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        loop {
            let Some(out) = self.core.try_out() else {
                return Err(TryRecvError::Empty);
            };
            match into_item(out) {
                Ok(v) => return Ok(v),
                Err(RemoteError::Restarted) => continue,
                Err(e) => {
                    return Err(match RecvError::from(e) {
                        RecvError::Lagged(n) => TryRecvError::Lagged(n),
                        RecvError::Closed => TryRecvError::Closed,
                    });
                }
            }
        }
    }

    /// A new receiver of the same subscription (same feed task, no new
    /// NATS subscription), which gets the values that arrive from now on.
    ///
    /// ```no_run
    /// # #[allow(dead_code)]
    /// # async fn demo(rx: bridge_nats::RemoteReceiver<u64>) {
    /// let mut second = rx.resubscribe();
    /// let _ = second.recv().await;
    /// # }
    /// ```
    pub fn resubscribe(&self) -> Self {
        RemoteReceiver {
            core: self.core.resubscribe(),
        }
    }
}

fn into_item<T>(out: Out<T>) -> Result<T, RemoteError> {
    match out {
        Out::Value(v) => Ok(v),
        Out::Lost { values, .. } => Err(RemoteError::Lagged(values)),
        Out::Restarted => Err(RemoteError::Restarted),
        Out::Bad { seq, error } => Err(RemoteError::Decode {
            seq,
            error: error.to_string(),
        }),
        Out::Foreign(e) => Err(RemoteError::Foreign(e.to_string())),
        Out::Silent(silent_for) => Err(RemoteError::PublisherLost { silent_for }),
        Out::Closed => Err(RemoteError::Closed),
    }
}

impl<T> fmt::Debug for RemoteReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteReceiver").finish_non_exhaustive()
    }
}

/// As chan-broadcast's `Receiver`: items `Result<T, Lagged>` (a lost,
/// undecodable or foreign value is a `Lagged` item), ending at the close
/// or when the publisher is lost.
impl<T: Clone> Stream for RemoteReceiver<T> {
    type Item = Result<T, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let out = std::task::ready!(this.core.poll_out(cx));
            return Poll::Ready(match into_item(out) {
                Ok(v) => Some(Ok(v)),
                Err(RemoteError::Restarted) => continue,
                Err(e) => match RecvError::from(e) {
                    RecvError::Lagged(n) => Some(Err(Lagged(n))),
                    RecvError::Closed => None,
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    //! The receiving path without a server: frames with holes fed into the
    //! local channel, as the feed task would.

    use super::*;
    use crate::feed::Body;
    use crate::wire::{Kind, Meta};
    use futures::StreamExt;

    fn frame(kind: Kind, session: u64, seq: u64, value: Option<u64>) -> Event<u64> {
        Event::Frame {
            meta: Meta {
                kind,
                session,
                seq,
                offset: None,
            },
            len: 0,
            body: value.map_or(Body::Empty, Body::Value),
        }
    }

    fn data(seq: u64) -> Event<u64> {
        frame(Kind::Data, 7, seq, Some(seq * 10))
    }

    fn pair(capacity: usize) -> (chan_broadcast::Sender<Event<u64>>, RemoteReceiver<u64>) {
        let (tx, rx) = chan_broadcast::channel(capacity);
        (
            tx,
            RemoteReceiver {
                core: Core::new(rx, Default::default()),
            },
        )
    }

    #[test]
    fn a_network_gap_is_lagged_before_the_next_value() {
        let (tx, mut rx) = pair(16);
        for q in [1, 2, 5, 6] {
            tx.send(data(q)).unwrap();
        }
        tx.send(frame(Kind::Close, 7, 8, None)).unwrap();
        assert_eq!(rx.try_recv(), Ok(10));
        assert_eq!(rx.try_recv(), Ok(20));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
        assert_eq!(rx.try_recv(), Ok(50));
        assert_eq!(rx.try_recv(), Ok(60));
        // 7 and 8 lost: the close frame says 8 was the last sent.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn a_local_lag_is_counted_in_values_not_events() {
        let (tx, mut rx) = pair(4);
        tx.send(data(1)).unwrap();
        assert_eq!(rx.try_recv(), Ok(10));
        // 7 events into 4 slots: a heartbeat and values 2 and 3 are
        // overwritten (3 events, 2 values).
        for e in [
            frame(Kind::Heartbeat, 7, 1, None),
            data(2),
            data(3),
            frame(Kind::Heartbeat, 7, 3, None),
            data(4),
            data(5),
            data(6),
        ] {
            tx.send(e).unwrap();
        }
        drop(tx);
        let got: Vec<_> = futures::executor::block_on(rx.collect());
        assert_eq!(got, [Err(Lagged(2)), Ok(40), Ok(50), Ok(60)]);
    }

    #[test]
    fn a_local_lag_before_any_frame_reports_the_channel_count() {
        let (tx, mut rx) = pair(2);
        for q in 1..=5 {
            tx.send(data(q)).unwrap();
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
        assert_eq!(rx.try_recv(), Ok(40));
        assert_eq!(rx.try_recv(), Ok(50));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    /// Sends a frame through the feed's path (its position, its filter).
    fn feed(tx: &chan_broadcast::Sender<Event<u64>>, shared: &feed::Shared, e: Event<u64>) {
        let Event::Frame { meta, len, body } = e else {
            panic!("not a frame")
        };
        feed::send_frame(tx, shared, meta, len, body);
    }

    #[test]
    fn through_the_feed_a_lag_before_the_first_frame_is_counted_in_values() {
        let shared = feed::Shared::default();
        let (tx, rx) = chan_broadcast::channel(2);
        let mut rx = RemoteReceiver {
            core: Core::new(rx, shared.clone()),
        };
        // The heartbeats tell nothing new: not sent, no slot taken.
        feed(&tx, &shared, frame(Kind::Heartbeat, 7, 0, None));
        for q in 1..=5 {
            feed(&tx, &shared, data(q));
            feed(&tx, &shared, frame(Kind::Heartbeat, 7, q, None));
        }
        // 2 slots: 4 and 5 kept, 3 values lost (not 8 events).
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
        assert_eq!(rx.try_recv(), Ok(40));
        // A receiver made now starts after value 5; a lost tail of 2
        // values shows at a heartbeat, then the close.
        let mut late = rx.resubscribe();
        feed(&tx, &shared, frame(Kind::Heartbeat, 7, 7, None));
        feed(&tx, &shared, frame(Kind::Close, 7, 7, None));
        drop(tx);
        assert_eq!(late.try_recv(), Err(TryRecvError::Lagged(2)));
        assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
        // The first: 5 overwritten too; the heartbeat counts 5, 6, 7.
        let got: Vec<_> = futures::executor::block_on(rx.collect());
        assert_eq!(got, [Err(Lagged(3))]);
    }

    #[test]
    fn a_reconnect_before_the_first_frame_reports_the_session_start_lost() {
        for reconnected in [false, true] {
            let shared = feed::Shared::default();
            let stats = std::sync::Arc::new(async_nats::Statistics::default());
            feed::lock(&shared).connects = Some((stats.clone(), 0));
            if reconnected {
                stats
                    .connects
                    .store(1, std::sync::atomic::Ordering::Relaxed);
            }
            let (tx, rx) = chan_broadcast::channel(8);
            let mut rx = RemoteReceiver {
                core: Core::new(rx, shared.clone()),
            };
            feed(&tx, &shared, data(4));
            if reconnected {
                assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
            }
            assert_eq!(rx.try_recv(), Ok(40));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        }
    }

    /// Receivers made (`resubscribe`) while another thread sends through
    /// the feed's path: each starts exactly where the feed was, so what
    /// it receives plus what it is told it lost is every value sent after
    /// it was made (a race between the two would count one too many or
    /// too few). Two threads, both busy; bounded by the count.
    #[test]
    fn resubscribe_while_the_feed_sends() {
        const N: u64 = 20_000;
        let shared = feed::Shared::default();
        let (tx, rx) = chan_broadcast::channel(8);
        let rx = RemoteReceiver {
            core: Core::new(rx, shared.clone()),
        };
        // The sender waits (yielding) at every 1000th value until that
        // many thousands of receivers were made, so receivers are made all
        // along the run even when the scheduler would let it finish first
        // (under load it did: CI saw one receiver made).
        let made_count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = std::sync::Arc::clone(&made_count);
        let sender = std::thread::spawn(move || {
            for q in 1..=N {
                if q % 1000 == 0 {
                    // Acquire/Release: only a count; no data rides on it.
                    while seen.load(std::sync::atomic::Ordering::Acquire) < (q / 1000) as usize {
                        std::thread::yield_now();
                    }
                }
                feed(&tx, &shared, data(q));
            }
            feed(&tx, &shared, frame(Kind::Close, 7, N, None));
        });
        // Receivers made while it sends, each reading a little at once.
        let mut made = Vec::new();
        while !sender.is_finished() && made.len() < 2_000 {
            let mut late = rx.resubscribe();
            // Before the first frame the position is unset: from 1.
            let start = late.core.position().next_seq().max(1) as u64;
            let mut count = (0u64, 0u64);
            for _ in 0..3 {
                match late.try_recv() {
                    Ok(v) => {
                        assert_eq!(v / 10, start + count.0 + count.1);
                        count.0 += 1;
                    }
                    Err(TryRecvError::Lagged(n)) => count.1 += n,
                    Err(_) => break,
                }
            }
            made.push((late, start, count));
            made_count.store(made.len(), std::sync::atomic::Ordering::Release);
        }
        sender.join().unwrap();
        assert!(made.len() >= (N / 1000) as usize, "{} made", made.len());
        for (mut late, start, (mut got, mut lost)) in made {
            loop {
                match late.try_recv() {
                    Ok(_) => got += 1,
                    Err(TryRecvError::Lagged(n)) => lost += n,
                    Err(TryRecvError::Closed) => break,
                    Err(TryRecvError::Empty) => panic!("no close"),
                }
            }
            assert_eq!(got + lost, N + 1 - start, "made at {start}");
        }
    }

    #[test]
    fn through_the_feed_a_lag_with_no_frame_after_it_is_counted_at_the_end() {
        let shared = feed::Shared::default();
        let (tx, rx) = chan_broadcast::channel(1);
        let mut rx = RemoteReceiver {
            core: Core::new(rx, shared.clone()),
        };
        for q in 1..=6 {
            feed(&tx, &shared, data(q));
        }
        tx.send(Event::Silent(Duration::from_secs(1))).unwrap();
        // 6 values and the Silent event into 1 slot: 6 values lost.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn bad_payloads_and_foreign_messages_are_error_items() {
        let (tx, mut rx) = pair(16);
        tx.send(data(1)).unwrap();
        tx.send(Event::Frame {
            meta: Meta {
                kind: Kind::Data,
                session: 7,
                seq: 2,
                offset: None,
            },
            len: 3,
            body: Body::Bad("unexpected end of input".into()),
        })
        .unwrap();
        tx.send(Event::Foreign("no reply subject".into())).unwrap();
        tx.send(data(3)).unwrap();
        futures::executor::block_on(async {
            assert_eq!(rx.recv_item().await, Ok(10));
            assert_eq!(
                rx.recv_item().await,
                Err(RemoteError::Decode {
                    seq: 2,
                    error: "unexpected end of input".into()
                })
            );
            assert_eq!(
                rx.recv_item().await,
                Err(RemoteError::Foreign("no reply subject".into()))
            );
            assert_eq!(rx.recv().await, Ok(30));
        });
    }

    #[test]
    fn publisher_lost_is_terminal() {
        let (tx, mut rx) = pair(16);
        tx.send(data(1)).unwrap();
        tx.send(Event::Silent(Duration::from_secs(3))).unwrap();
        tx.send(data(2)).unwrap(); // never handed out
        let mut second = rx.resubscribe();
        futures::executor::block_on(async {
            assert_eq!(rx.recv().await, Ok(10));
            assert_eq!(
                rx.recv_item().await,
                Err(RemoteError::PublisherLost {
                    silent_for: Duration::from_secs(3)
                })
            );
            assert_eq!(rx.recv().await, Err(RecvError::Closed));
            assert_eq!(rx.recv_item().await, Err(RemoteError::Closed));
            // A resubscribed receiver sees only later events.
            drop(tx);
            assert_eq!(second.recv().await, Err(RecvError::Closed));
        });
    }

    /// A batch frame of values `first..first + values.len()` as the
    /// feed hands it on; an entry `None` is bytes that do not decode.
    fn send_batch(
        tx: &chan_broadcast::Sender<Event<u64>>,
        first: u64,
        values: &[Option<u64>],
        cut: usize,
    ) {
        let mut buf = Vec::new();
        for v in values {
            let bytes = match v {
                Some(v) => postcard::to_allocvec(v).unwrap(),
                None => vec![0xff], // a varint cut off
            };
            crate::wire::put_len(&mut buf, bytes.len());
            buf.extend(bytes);
        }
        buf.truncate(buf.len() - cut);
        let meta = Meta {
            kind: Kind::Data,
            session: 7,
            seq: first,
            offset: None,
        };
        let decode = |b: &bytes::Bytes| crate::Postcard.decode::<u64>(b);
        let count = values.len() as u64;
        assert!(crate::feed::batch(
            meta,
            count,
            &buf.into(),
            tx,
            &Default::default(),
            &decode
        ));
    }

    #[test]
    fn a_batch_is_its_values_in_order() {
        let (tx, mut rx) = pair(16);
        tx.send(data(1)).unwrap();
        send_batch(&tx, 2, &[Some(20), Some(30), Some(40)], 0);
        tx.send(data(5)).unwrap();
        for v in [10, 20, 30, 40, 50] {
            assert_eq!(rx.try_recv(), Ok(v));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn a_lost_batch_is_lagged_by_its_count() {
        let (tx, mut rx) = pair(16);
        send_batch(&tx, 1, &[Some(10), Some(20)], 0);
        // The batch 3..=6 (4 values) is lost on the way.
        send_batch(&tx, 7, &[Some(70), Some(80), Some(90)], 0);
        tx.send(frame(Kind::Close, 7, 9, None)).unwrap();
        assert_eq!(rx.try_recv(), Ok(10));
        assert_eq!(rx.try_recv(), Ok(20));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(4)));
        assert_eq!(rx.try_recv(), Ok(70));
        assert_eq!(rx.try_recv(), Ok(80));
        assert_eq!(rx.try_recv(), Ok(90));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn a_value_of_a_batch_that_does_not_decode_is_one_error_the_rest_delivered() {
        let (tx, mut rx) = pair(16);
        send_batch(&tx, 1, &[Some(10), None, Some(30)], 0);
        tx.send(data(4)).unwrap();
        futures::executor::block_on(async {
            assert_eq!(rx.recv_item().await, Ok(10));
            assert!(matches!(
                rx.recv_item().await,
                Err(RemoteError::Decode { seq: 2, .. })
            ));
            assert_eq!(rx.recv_item().await, Ok(30));
            assert_eq!(rx.recv_item().await, Ok(40));
        });
    }

    #[test]
    fn a_batch_with_broken_framing_is_lost_whole() {
        let (tx, mut rx) = pair(16);
        let mut plain = rx.resubscribe();
        tx.send(data(1)).unwrap();
        // Values 2, 3, 4, the last one's bytes cut: nothing of it is
        // delivered, its three values are reported lost.
        send_batch(&tx, 2, &[Some(20), Some(30), Some(40)], 1);
        tx.send(data(5)).unwrap();
        drop(tx);
        futures::executor::block_on(async {
            assert_eq!(rx.recv_item().await, Ok(10));
            assert_eq!(rx.recv_item().await, Err(RemoteError::Lagged(2)));
            assert!(matches!(
                rx.recv_item().await,
                Err(RemoteError::Decode { seq: 4, .. })
            ));
            assert_eq!(rx.recv_item().await, Ok(50));
            // Through recv: Lagged(2) and Lagged(1), the batch's 3 values.
            assert_eq!(plain.recv().await, Ok(10));
            assert_eq!(plain.recv().await, Err(RecvError::Lagged(2)));
            assert_eq!(plain.recv().await, Err(RecvError::Lagged(1)));
            assert_eq!(plain.recv().await, Ok(50));
            assert_eq!(plain.recv().await, Err(RecvError::Closed));
        });
    }

    #[test]
    fn a_new_session_is_reported_and_recv_skips_it() {
        let (tx, mut rx) = pair(16);
        let mut detailed = rx.resubscribe();
        tx.send(data(1)).unwrap();
        tx.send(frame(Kind::Data, 8, 2, Some(99))).unwrap();
        // recv: the restart is no loss of its own; the new session's
        // value 1 was missed.
        assert_eq!(rx.try_recv(), Ok(10));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
        assert_eq!(rx.try_recv(), Ok(99));
        futures::executor::block_on(async {
            assert_eq!(detailed.recv_item().await, Ok(10));
            assert_eq!(detailed.recv_item().await, Err(RemoteError::Restarted));
            assert_eq!(detailed.recv_item().await, Err(RemoteError::Lagged(1)));
            assert_eq!(detailed.recv_item().await, Ok(99));
        });
    }
}
