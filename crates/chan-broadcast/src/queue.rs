//! The FIFO queue of lossless senders waiting for space.
//!
//! Only the sender at the head may claim while others wait, so waiting
//! senders go in the order they arrived. The head keeps its place when it
//! is woken and still finds the ring full; when it sends (or its future is
//! dropped) it leaves and wakes the next one (the baton is passed, so a
//! cancelled send never strands the queue).
//!
//! No lost wake-up, without a fence: a sender registers while it holds the
//! lock of the slot that blocks it, after seeing that slot full; a receiver
//! frees that slot under the same lock, then loads `waiting`. Either the
//! sender's critical section came first, and the receiver's lock
//! acquisition makes the registration visible to its load, or the
//! receiver's came first, and the sender sees the slot free.

use std::collections::VecDeque;
use std::task::Waker;

use ring_core::sync::Mutex;
use ring_core::sync::atomic::{AtomicUsize, Ordering};

/// Senders waiting for space, oldest first.
#[derive(Debug)]
pub(crate) struct SendQueue {
    /// `entries.len()`, readable without the lock. Written under the lock.
    waiting: AtomicUsize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_ticket: u64,
    entries: VecDeque<Entry>,
}

#[derive(Debug)]
struct Entry {
    ticket: u64,
    waker: Waker,
    /// Woken since it last registered: another wake would be redundant
    /// (for a thread blocked in `blocking_send`, each is a system call).
    notified: bool,
}

impl SendQueue {
    pub(crate) fn new() -> Self {
        SendQueue {
            waiting: AtomicUsize::new(0),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Whether any sender waits. Relaxed: callers that need to see a
    /// registration are ordered with it by a slot lock (module docs).
    #[inline]
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) != 0
    }

    /// Whether `ticket` may claim now: it is the head, or (no ticket) nobody
    /// waits.
    pub(crate) fn may_claim(&self, ticket: Option<u64>) -> bool {
        match ticket {
            None => !self.has_waiters(),
            Some(t) => self
                .inner
                .lock()
                .entries
                .front()
                .is_some_and(|e| e.ticket == t),
        }
    }

    /// Queues `waker` under `ticket` (a new ticket at the back if it has
    /// none), or refreshes its waker in place. Returns whether it is the head.
    pub(crate) fn register(&self, ticket: &mut Option<u64>, waker: &Waker) -> bool {
        let mut inner = self.inner.lock();
        let mut replaced = None;
        if let Some(t) = *ticket
            && let Some(entry) = inner.entries.iter_mut().find(|e| e.ticket == t)
        {
            if !entry.waker.will_wake(waker) {
                replaced = Some(std::mem::replace(&mut entry.waker, waker.clone()));
            }
            entry.notified = false;
            let head = inner.entries.front().is_some_and(|e| e.ticket == t);
            drop(inner);
            drop(replaced);
            return head;
        }
        let t = inner.next_ticket;
        inner.next_ticket += 1;
        inner.entries.push_back(Entry {
            ticket: t,
            waker: waker.clone(),
            notified: false,
        });
        // Relaxed: under the lock; see `has_waiters`.
        self.waiting.store(inner.entries.len(), Ordering::Relaxed);
        *ticket = Some(t);
        inner.entries.len() == 1
    }

    /// Removes `ticket` (if queued). If it was the head, wakes the new head:
    /// space it was going to take may still be there.
    pub(crate) fn leave(&self, ticket: &mut Option<u64>) {
        let Some(t) = ticket.take() else { return };
        let mut inner = self.inner.lock();
        let Some(at) = inner.entries.iter().position(|e| e.ticket == t) else {
            return;
        };
        let gone = inner.entries.remove(at);
        // Relaxed: under the lock; see `has_waiters`.
        self.waiting.store(inner.entries.len(), Ordering::Relaxed);
        let next = if at == 0 {
            inner.entries.front_mut().map(|e| {
                e.notified = true;
                e.waker.clone()
            })
        } else {
            None
        };
        drop(inner);
        // Outside the lock: a waker's drop or wake may re-enter the channel.
        drop(gone);
        if let Some(w) = next {
            w.wake();
        }
    }

    /// Wakes the head, unless it was woken since it last registered; it
    /// keeps its place.
    pub(crate) fn wake_head(&self) {
        let head = self
            .inner
            .lock()
            .entries
            .front_mut()
            .filter(|e| !e.notified)
            .map(|e| {
                e.notified = true;
                e.waker.clone()
            });
        if let Some(w) = head {
            w.wake();
        }
    }

    /// Wakes every waiting sender (the channel closed).
    pub(crate) fn wake_all(&self) {
        let all: Vec<Waker> = self
            .inner
            .lock()
            .entries
            .iter_mut()
            .map(|e| {
                e.notified = true;
                e.waker.clone()
            })
            .collect();
        for w in all {
            w.wake();
        }
    }
}
