//! What one local receiver does with the feed's events: the sequencer's
//! verdicts, turned into an ordered list of outcomes (a loss is handed out
//! before the value it precedes).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use chan_broadcast::Lagged;
use chan_broadcast::error::TryRecvError;
use futures::Stream;

use crate::feed::{self, Body, Event, Shared};
use crate::sequencer::Sequencer;

/// One outcome for the user, before the API (values or bytes) words it.
#[derive(Debug)]
pub(crate) enum Out<T> {
    Value(T),
    /// Values (chunks) and bytes lost before what follows.
    Lost {
        values: u64,
        bytes: u64,
    },
    /// A new forwarder took over the subject.
    Restarted,
    /// The value with this sequence number did not decode.
    Bad {
        seq: u64,
        error: Arc<str>,
    },
    /// A message that is not a bridge frame.
    Foreign(Arc<str>),
    /// The forwarder was lost (heartbeat timeout). Terminal.
    Silent(Duration),
    /// Closed (close frame, or the feed ended). Terminal.
    Closed,
}

/// A local receiver of the feed's channel and its position in the
/// forwarded sequence.
#[derive(Debug)]
pub(crate) struct Core<T> {
    inner: chan_broadcast::Receiver<Event<T>>,
    /// The feed's position: where a receiver created before any frame
    /// starts, and the final count when the feed ends after a local lag.
    shared: Shared,
    seq: Sequencer,
    /// Outcomes decided and not handed out yet (at most four: restart,
    /// loss, value, close).
    queue: VecDeque<Out<T>>,
    /// The local channel overwrote this many events before this receiver
    /// read them; the next frame's sequence number gives the exact count
    /// of values among them, the feed's final position if no frame
    /// follows.
    local_lag: Option<u64>,
    /// A terminal outcome was handed out.
    done: bool,
}

// Nothing in a core is pinned: values are moved in and out by value.
impl<T> Unpin for Core<T> {}

impl<T: Clone> Core<T> {
    /// A receiver of `inner`, which was subscribed to the feed's channel
    /// under the position's lock (or before the feed started).
    pub(crate) fn new(inner: chan_broadcast::Receiver<Event<T>>, shared: Shared) -> Self {
        let seq = {
            let pos = feed::lock(&shared);
            if pos.seq.started() {
                pos.seq.clone()
            } else {
                Sequencer::default()
            }
        };
        Core::with(inner, shared, seq)
    }

    fn with(inner: chan_broadcast::Receiver<Event<T>>, shared: Shared, seq: Sequencer) -> Self {
        Core {
            inner,
            shared,
            seq,
            queue: VecDeque::with_capacity(4),
            local_lag: None,
            done: false,
        }
    }

    /// A new receiver of the same feed, from its next event on.
    pub(crate) fn resubscribe(&self) -> Self {
        // Under the lock: the new receiver gets exactly the frames sent
        // after the position it starts from.
        let (inner, seq) = {
            let pos = feed::lock(&self.shared);
            let seq = if pos.seq.started() {
                pos.seq.clone()
            } else {
                Sequencer::default()
            };
            (self.inner.resubscribe(), seq)
        };
        Core::with(inner, self.shared.clone(), seq)
    }

    /// The position this receiver is at (tests).
    #[cfg(test)]
    pub(crate) fn position(&self) -> &Sequencer {
        &self.seq
    }

    /// The next outcome, waiting for one.
    pub(crate) fn poll_out(&mut self, cx: &mut Context<'_>) -> Poll<Out<T>> {
        loop {
            if let Some(out) = self.pop() {
                return Poll::Ready(out);
            }
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(item) => self.take(item),
            }
        }
    }

    /// The next outcome if one is ready.
    pub(crate) fn try_out(&mut self) -> Option<Out<T>> {
        loop {
            if let Some(out) = self.pop() {
                return Some(out);
            }
            let item = match self.inner.try_recv() {
                Ok(e) => Some(Ok(e)),
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Closed) => None,
                Err(TryRecvError::Lagged(n)) => Some(Err(Lagged(n))),
            };
            self.take(item);
        }
    }

    fn pop(&mut self) -> Option<Out<T>> {
        if let Some(out) = self.queue.pop_front() {
            if matches!(out, Out::Closed | Out::Silent(_)) {
                self.done = true;
                self.queue.clear();
            }
            return Some(out);
        }
        self.done.then_some(Out::Closed)
    }

    /// Takes one item of the local channel.
    fn take(&mut self, item: Option<Result<Event<T>, Lagged>>) {
        match item {
            None => {
                self.flush_local_lag();
                self.queue.push_back(Out::Closed);
            }
            Some(Err(Lagged(n))) => {
                *self.local_lag.get_or_insert(0) += n;
            }
            Some(Ok(Event::Frame { meta, len, body })) => {
                self.start_at_first();
                if self.seq.started() {
                    // The sequence numbers count this lag exactly.
                    self.local_lag = None;
                } else {
                    // No position known (a channel fed by hand, without
                    // a feed): the channel's count of events (an upper
                    // bound on values) is reported.
                    if let Some(n) = self.local_lag.take() {
                        self.queue.push_back(Out::Lost {
                            values: n,
                            bytes: 0,
                        });
                    }
                }
                let v = self.seq.on_frame(&meta, len);
                if v.restarted {
                    self.queue.push_back(Out::Restarted);
                }
                if v.lost > 0 || v.lost_bytes > 0 {
                    self.queue.push_back(Out::Lost {
                        values: v.lost,
                        bytes: v.lost_bytes,
                    });
                }
                if v.deliver {
                    match body {
                        Body::Value(t) => self.queue.push_back(Out::Value(t)),
                        Body::Bad(error) => self.queue.push_back(Out::Bad {
                            seq: meta.seq,
                            error,
                        }),
                        Body::Empty => {}
                    }
                }
                if v.closed {
                    self.queue.push_back(Out::Closed);
                }
            }
            Some(Ok(Event::Foreign(e))) => {
                // A local lag stays pending: the next frame counts it.
                self.queue.push_back(Out::Foreign(e));
            }
            Some(Ok(Event::Silent(d))) => {
                self.flush_local_lag();
                self.queue.push_back(Out::Silent(d));
            }
        }
    }

    /// A receiver that has seen no frame yet starts where the feed joined
    /// (it was created before the feed's first frame).
    fn start_at_first(&mut self) {
        if !self.seq.started()
            && let Some(first) = feed::lock(&self.shared).first.clone()
        {
            self.seq = first;
        }
    }

    /// A local lag with no frame after it to count it (the feed ended):
    /// the feed's final position counts it exactly. Without a position
    /// (the feed sent no frame) only foreign messages were overwritten: no
    /// value was lost.
    fn flush_local_lag(&mut self) {
        if self.local_lag.take().is_none() {
            return;
        }
        self.start_at_first();
        let (values, bytes) = self.seq.behind(&feed::lock(&self.shared).seq);
        if values > 0 || bytes > 0 {
            self.queue.push_back(Out::Lost { values, bytes });
        }
    }
}
