//! The FIFO queue of lossless senders waiting for space.
//!
//! Only the sender at the head may claim while others wait, so waiting
//! senders go in the order they arrived. The head keeps its place when it
//! is woken and still finds the ring full; when it sends (or its future is
//! dropped) it leaves and wakes the next one (the baton is passed, so a
//! cancelled send never strands the queue).
//!
//! No lost wake-up, without a fence: a sender that found its slot full
//! registers here, then looks at that slot again under the slot's lock
//! before it sleeps; a receiver frees the slot under the same lock, then
//! loads `waiting`. Either the sender's look came after the receiver's
//! free, and it sees the slot free, or it came first: then the sender's
//! registration happened before its release of the slot lock, which
//! happened before the receiver's acquisition of it, so the receiver's load
//! sees the registration. (Registering outside the slot lock keeps the
//! waker's clone and drop, which are user code, out of every lock.)

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

    /// Queues `fresh` (a clone of the task's waker, made by the caller
    /// outside every lock) under `ticket` (a new ticket at the back if it
    /// has none), or refreshes the queued waker with it if that one would
    /// not wake the same task. Whatever waker is left in `fresh` (unused, or
    /// the one replaced) is the caller's to drop, outside every lock: no
    /// user code (a waker's clone or drop) runs under this lock. The caller
    /// looks again (at the head and the slot) after registering.
    pub(crate) fn register(&self, ticket: &mut Option<u64>, fresh: &mut Option<Waker>) {
        let mut inner = self.inner.lock();
        if let Some(t) = *ticket
            && let Some(entry) = inner.entries.iter_mut().find(|e| e.ticket == t)
        {
            if let Some(w) = fresh.as_mut()
                && !entry.waker.will_wake(w)
            {
                std::mem::swap(&mut entry.waker, w);
            }
            entry.notified = false;
            return;
        }
        let Some(waker) = fresh.take() else {
            return;
        };
        let t = inner.next_ticket;
        inner.next_ticket += 1;
        inner.entries.push_back(Entry {
            ticket: t,
            waker,
            notified: false,
        });
        // Relaxed: under the lock; see `has_waiters`.
        self.waiting.store(inner.entries.len(), Ordering::Relaxed);
        *ticket = Some(t);
    }

    /// Removes `ticket` (if queued). If it was the head, wakes the new head:
    /// space it was going to take may still be there. Inline for the
    /// common case, a send that never waited (no ticket).
    #[inline(always)]
    pub(crate) fn leave(&self, ticket: &mut Option<u64>) {
        if ticket.is_some() {
            self.leave_queued(ticket);
        }
    }

    fn leave_queued(&self, ticket: &mut Option<u64>) {
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
