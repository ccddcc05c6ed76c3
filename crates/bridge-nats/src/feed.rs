//! The receiving side's shared half: one task per remote subscription
//! reads the NATS subscription, parses each frame's metadata (its reply
//! subject), decodes its payload once, and broadcasts the result to the local receivers through
//! a chan-broadcast channel. It also watches the forwarder's heartbeats.
//!
//! Gaps are not decided here but by each local receiver (its own
//! [`Sequencer`](crate::sequencer::Sequencer)): a receiver that lags on
//! the local channel then finds the exact number of values it missed from
//! the sequence numbers, wherever they were lost.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_nats::Subscriber;
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};

use crate::codec::CodecError;
use crate::options::Options;
use crate::sequencer::Sequencer;
use crate::wire::{Kind, Meta, split};

/// What the feed task broadcasts.
#[derive(Debug, Clone)]
pub(crate) enum Event<T> {
    /// A bridge frame: its metadata, payload length and decoded payload.
    Frame { meta: Meta, len: u64, body: Body<T> },
    /// A message on the subject that is not a bridge frame.
    Foreign(Arc<str>),
    /// No frame from the followed forwarder for this long: it is lost.
    /// The last event.
    Silent(Duration),
}

/// The feed's position in the forwarded sequence, shared with the local
/// receivers: what the frames put into the local channel so far add up to.
/// The feed updates it and sends the frame under its lock; a receiver is
/// created (subscribed to the local channel) under the same lock and
/// starts from it, so a lag on the local channel is counted in values and
/// bytes by the sequence numbers and offsets, even before the receiver's
/// first frame.
#[derive(Debug, Default)]
pub(crate) struct Position {
    /// Every frame sent to the local channel, taken in.
    pub(crate) seq: Sequencer,
    /// Where the feed joined (set at its first frame, before sending it):
    /// the start of a receiver that was created before any frame.
    pub(crate) first: Option<Sequencer>,
    /// The client's statistics and its count of connections when the
    /// subscription was confirmed: a reconnect before the first frame may
    /// have dropped values sent after `subscribe` returned.
    pub(crate) connects: Option<(Arc<async_nats::Statistics>, u64)>,
}

impl Position {
    /// Where the feed starts at its first frame, `meta`: at the frame (a
    /// receiver joining mid-stream, as a new tokio receiver), unless the
    /// client reconnected since the subscription: then at the start of
    /// the frame's session (sequence number 1, offset 0), so the values
    /// before the frame are reported lost. That is an upper bound: those
    /// sent before `subscribe` returned are counted too.
    fn start(&self, meta: &Meta) -> Sequencer {
        let reconnected = self.connects.as_ref().is_some_and(|(stats, at)| {
            // A counter read: nothing else is published through it.
            stats.connects.load(Ordering::Relaxed) > *at
        });
        let mut first = Sequencer::default();
        if reconnected {
            first.join(&Meta {
                kind: Kind::Heartbeat,
                seq: 0,
                offset: meta.offset.map(|_| 0),
                ..*meta
            });
        } else {
            first.join(meta);
        }
        first
    }
}

/// The feed's position, shared.
pub(crate) type Shared = Arc<Mutex<Position>>;

/// Locks the position (a panic while holding it cannot leave it torn:
/// every update is one assignment).
pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, Position> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes one frame into the feed's position and sends it to the local
/// channel if a receiver must see it: a data frame or a close always; a
/// heartbeat only when it tells something (values or bytes lost at the
/// tail, a new session), so an idle forwarder's heartbeats never take
/// the slots of unread values. False when no receiver is left.
pub(crate) fn send_frame<T: Clone>(
    tx: &chan_broadcast::Sender<Event<T>>,
    shared: &Shared,
    meta: Meta,
    len: u64,
    body: Body<T>,
) -> bool {
    let mut pos = lock(shared);
    if pos.first.is_none() {
        let first = pos.start(&meta);
        pos.seq = first.clone();
        pos.first = Some(first);
    }
    let v = pos.seq.on_frame(&meta, len);
    let tells = v.lost > 0 || v.lost_bytes > 0 || v.restarted;
    if meta.kind == Kind::Heartbeat && !tells {
        return tx.receiver_count() > 0;
    }
    tx.send(Event::Frame { meta, len, body }).is_ok()
}

/// A frame's payload.
#[derive(Debug, Clone)]
pub(crate) enum Body<T> {
    Value(T),
    /// A data payload the codec rejected.
    Bad(Arc<str>),
    /// Heartbeat and close frames.
    Empty,
}

/// Reads `sub` until the forwarder closes or is lost, the client closes,
/// or every local receiver is gone (checked at each heartbeat check).
pub(crate) async fn run<T, D>(
    mut sub: Subscriber,
    tx: chan_broadcast::Sender<Event<T>>,
    shared: Shared,
    decode: D,
    offsets: bool,
    options: Options,
) where
    T: Clone + Send + 'static,
    D: Fn(&Bytes) -> Result<T, CodecError> + Send + 'static,
{
    let timeout = options.timeout();
    let every = (timeout / 4).max(Duration::from_millis(5));
    let mut check = tokio::time::interval_at(Instant::now() + every, every);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The clock of silence starts at the first frame: a receiver waits for
    // a forwarder that has not started yet.
    let mut last_frame: Option<Instant> = None;
    // The forwarder session followed (of the last data or heartbeat
    // frame): only its close ends the feed.
    let mut followed: Option<u64> = None;
    loop {
        tokio::select! {
            biased;
            message = sub.next() => {
                let Some(message) = message else {
                    // The client closed: dropping `tx` closes the channel.
                    break;
                };
                if !take(message, &tx, &shared, &decode, offsets, &mut last_frame, &mut followed) {
                    break;
                }
                // Then what is already there, without going back through
                // the select (up to a batch, so the checks get their turn).
                let mut more = true;
                for _ in 0..BATCH {
                    match sub.next().now_or_never() {
                        Some(Some(message)) => {
                            if !take(message, &tx, &shared, &decode, offsets, &mut last_frame, &mut followed) {
                                more = false;
                                break;
                            }
                        }
                        Some(None) => {
                            more = false;
                            break;
                        }
                        None => break,
                    }
                }
                if !more {
                    break;
                }
                // The silence check here too: under a flood of messages
                // that are not the forwarder's (foreign ones, a forged
                // session's close), the other branch may never run.
                if silent_for(last_frame, timeout, &tx) {
                    break;
                }
            }
            _ = check.tick() => {
                if tx.receiver_count() == 0 {
                    break;
                }
                if silent_for(last_frame, timeout, &tx) {
                    break;
                }
            }
        }
    }
    // Best effort: the server drops the interest with the client anyway.
    let _ = sub.unsubscribe().await;
}

/// Whether the forwarder has been silent for `timeout` since its last
/// frame; if so, tells the receivers (the feed then ends).
fn silent_for<T>(
    last_frame: Option<Instant>,
    timeout: Duration,
    tx: &chan_broadcast::Sender<Event<T>>,
) -> bool
where
    T: Clone,
{
    let Some(at) = last_frame else {
        return false;
    };
    let silent = at.elapsed();
    if silent < timeout {
        return false;
    }
    let _ = tx.send(Event::Silent(silent));
    true
}

/// Messages the feed takes from the subscription per wake-up at most.
const BATCH: usize = 64;

/// Parses, decodes and broadcasts one message; false when the feed ends
/// (a close frame, or no receiver left).
///
/// A close frame of a session other than the one followed (the session of
/// the last data, batch or heartbeat frame) is dropped: it neither ends
/// the feed nor resets the silence clock (a stray or forged close must not
/// end every receiver while the real forwarder goes on). Before any frame
/// was seen, any session's close is taken. A data or heartbeat frame of
/// another session is a new forwarder taking over (receivers report
/// `Restarted`) and is followed from then on.
fn take<T, D>(
    message: async_nats::Message,
    tx: &chan_broadcast::Sender<Event<T>>,
    shared: &Shared,
    decode: &D,
    offsets: bool,
    last_frame: &mut Option<Instant>,
    followed: &mut Option<u64>,
) -> bool
where
    T: Clone,
    D: Fn(&Bytes) -> Result<T, CodecError>,
{
    let (meta, count) = match Meta::of(&message) {
        Err(e) => return tx.send(Event::Foreign(e.into())).is_ok(),
        Ok(m) => m,
    };
    // A byte stream's frames carry offsets, a broadcast's do not: a frame
    // of the other kind would count bytes from nothing (or from a stream
    // this subject does not carry), so it is not this subject's frame.
    if meta.offset.is_some() != offsets {
        let e = if offsets {
            "a frame without a byte offset on a byte-stream subject (a broadcast forwarder's?)"
        } else {
            "a frame with a byte offset on a broadcast subject (a byte-stream forwarder's?)"
        };
        return tx.send(Event::Foreign(e.into())).is_ok();
    }
    if meta.kind == Kind::Close && followed.is_some_and(|s| s != meta.session) {
        return true;
    }
    *followed = Some(meta.session);
    *last_frame = Some(Instant::now());
    if let Some(count) = count {
        return batch(meta, count, &message.payload, tx, shared, decode);
    }
    let body = match meta.kind {
        Kind::Data => match decode(&message.payload) {
            Ok(v) => Body::Value(v),
            Err(e) => Body::Bad(e.to_string().into()),
        },
        Kind::Heartbeat | Kind::Close => Body::Empty,
    };
    let len = message.payload.len() as u64;
    send_frame(tx, shared, meta, len, body) && meta.kind != Kind::Close
}

/// Broadcasts a batch frame as its `count` data frames (each value's
/// sequence number and, for bytes, offset); false when no receiver is
/// left. A value that does not decode is one `Bad` frame, the others are
/// delivered; a payload whose framing is broken is one `Bad` frame for
/// the batch's last sequence number at its first offset, so a receiver
/// reports the `count - 1` values before it (and every byte of it) lost.
pub(crate) fn batch<T, D>(
    first: Meta,
    count: u64,
    payload: &Bytes,
    tx: &chan_broadcast::Sender<Event<T>>,
    shared: &Shared,
    decode: &D,
) -> bool
where
    T: Clone,
    D: Fn(&Bytes) -> Result<T, CodecError>,
{
    let values = match split(payload, count) {
        Ok(values) => values,
        Err(e) => {
            let meta = Meta {
                seq: first.seq + (count - 1),
                ..first
            };
            let body = Body::Bad(e.into());
            return send_frame(tx, shared, meta, 0, body);
        }
    };
    let mut meta = first;
    for value in values {
        let len = value.len() as u64;
        let body = match decode(&value) {
            Ok(v) => Body::Value(v),
            Err(e) => Body::Bad(e.to_string().into()),
        };
        if !send_frame(tx, shared, meta, len, body) {
            return false;
        }
        // Unused after the last value, which may be u64::MAX.
        meta.seq = meta.seq.saturating_add(1);
        meta.offset = meta.offset.map(|o| o.saturating_add(len));
    }
    true
}
