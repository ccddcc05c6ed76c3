//! The shared state of one writer and its streams: a log of chunks that
//! some live stream has not read yet, one cursor per stream, and the
//! memory limit's bookkeeping. Everything sits under one mutex.
//!
//! # The protocol
//!
//! * The log holds entries `head .. tail` (sequence numbers). Each entry
//!   carries `rem`, the number of live streams that have not read it yet.
//!   A write pushes one entry with `rem = streams.len()` (or stores nothing
//!   when there is no stream): one push, whatever the number of streams.
//! * A stream takes the lock for each entry: it clones the entry at its
//!   cursor (for `Bytes`, a reference-count increment: no copy), takes
//!   its share off the entry's `rem` at once, and pops the front entries
//!   whose `rem` reached zero. Streams read in order, so an entry whose
//!   `rem` is zero has every earlier entry at zero too (every stream that
//!   needed the earlier one needed this one, and read it after): popping
//!   from the front frees every entry nobody needs. Nothing a stream
//!   handed out is still charged to it, and nothing charged to nobody is
//!   held by a stream (no batch outside the count).
//! * Popped entries (and removed streams' wakers) are dropped after the
//!   lock: a value's `Drop` may call back into the writer.
//! * `buffered` is the sum of the sizes of the entries in the log: the
//!   memory held for streams, counted exactly.
//! * Waiting: a stream that finds nothing registers its waker and its id in
//!   `waiting` under the lock; the write that adds an entry takes the
//!   wakers out under the lock and wakes them after releasing it (a waker
//!   may call back into the writer). The check and the registration happen
//!   under the same lock as the write, so no wake-up is lost.
//! * A writer blocked by the `Block` policy sets `writer_waiting` and waits
//!   on the condition variable (thread) or leaves its waker (task); every
//!   operation that lowers `buffered` (a read that pops, a stream drop, a
//!   disconnect) notifies it when the flag is set.
//!
//! Why one mutex and not chan-broadcast's lock-free ring: the memory bound
//! is counted in bytes over a log whose length is not fixed (`Unbounded`
//! keeps everything; `Block` and `DisconnectSlowest` bound the bytes, not
//! the number of chunks), and a disconnect must release exactly one
//! stream's share. chan-broadcast's rings have a fixed number of slots
//! chosen at construction and report lag in values, after the fact, to the
//! reader; neither fits. See the crate guide.

use core::task::Waker;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use ring_core::sync::atomic::{AtomicU64, Ordering};
use ring_core::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::clock;

/// Stream ids are handed out in sequence by the writer and never chosen by
/// a user, so they hash to themselves (no SipHash on every read).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// What a full writer does.
///
/// ```
/// use stream_bytes::{ByteWriter, Policy};
///
/// let writer = ByteWriter::builder()
///     .max_buffered_bytes(1 << 20)
///     .on_full(Policy::DisconnectSlowest)
///     .build();
/// assert_eq!(writer.policy(), Policy::DisconnectSlowest);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Keep every chunk until every stream has read it (the default; the
    /// limit is ignored).
    #[default]
    Unbounded,
    /// A write that would go over the limit waits until the slowest stream
    /// has read enough: `std::io::Write::write` blocks the calling thread,
    /// the async writers return `Pending`. A single chunk larger than the
    /// limit is accepted once nothing is buffered.
    Block,
    /// A write that would go over the limit disconnects the slowest stream
    /// (the one with the most unread bytes) until the chunk fits. That
    /// stream yields an `io::Error` saying how many bytes it lost (exactly
    /// those written before the disconnect that it never got), then ends;
    /// the others and the writer go on. If that was the last stream, the
    /// chunk is accepted and stored nowhere, as with no stream.
    DisconnectSlowest,
}

/// One chunk in the log.
#[derive(Debug)]
struct Entry<T> {
    value: T,
    /// Counted size: bytes for `ByteWriter`, 1 for `TypedWriter`.
    size: usize,
    /// Live streams that have not read this entry. Never 0 while the entry
    /// is in the log (zero entries are popped at once).
    rem: usize,
    /// When it was written ([`clock::now`]): the start of a stall for a
    /// stream that reaches it.
    at: u64,
}

/// A stream's progress, written by the stream as it hands out chunks
/// (no lock), read by [`Shared::stalled`] for the time of its last read.
/// (Where the stream is, the writer knows from its own cursor.)
///
/// A statistic: a reader may see a slightly old value, and no other memory
/// is published through it, so every access is `Relaxed` (nothing pairs
/// with anything).
#[derive(Debug)]
pub(crate) struct Progress {
    /// [`clock::now`] when it last handed one out.
    at: AtomicU64,
}

impl Progress {
    /// The stream handed out a chunk, now.
    pub(crate) fn advance(&self) {
        // Relaxed: a statistic (see the type's doc).
        self.at.store(clock::now(), Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Reader {
    /// Entries below this have been handed to the stream and had its
    /// `rem` share taken off; `head <= reported <= tail`.
    reported: u64,
    waker: Option<Waker>,
    progress: Arc<Progress>,
}

impl Reader {
    /// Where the stream really is: the next entry it will take.
    fn pos(&self) -> u64 {
        self.reported
    }
}

#[derive(Debug)]
struct Inner<T> {
    log: VecDeque<Entry<T>>,
    /// Sequence number of `log[0]`.
    head: u64,
    /// Sum of `size` over `log`.
    buffered: usize,
    streams: IdMap<Reader>,
    /// Streams disconnected by `DisconnectSlowest` that have not yet seen
    /// their error: id → bytes lost.
    disconnected: IdMap<u64>,
    next_stream: u64,
    /// Ids of streams with a registered waker (may hold ids of dropped
    /// streams: skipped).
    waiting: Vec<u64>,
    writer_waker: Option<Waker>,
    writer_waiting: bool,
    closed: bool,
}

impl<T> Inner<T> {
    fn tail(&self) -> u64 {
        self.head + self.log.len() as u64
    }

    /// Pops the entries nobody needs into `dead` (dropped by the caller
    /// after the lock: a value's `Drop` may call back into the writer);
    /// true if any bytes were freed.
    fn trim(&mut self, dead: &mut Vec<T>) -> bool {
        let mut freed = false;
        while self.log.front().is_some_and(|e| e.rem == 0) {
            let e = self.log.pop_front().expect("front checked");
            self.buffered -= e.size;
            self.head += 1;
            dead.push(e.value);
            freed = true;
        }
        // O(1): a read checks the entry it decrements, `release` its
        // range (a scan of the whole log here, on every read, made debug
        // builds quadratic in the log's length).
        debug_assert!(
            self.log.front().is_none_or(|e| e.rem > 0),
            "only the front can reach zero"
        );
        freed
    }

    /// Releases `cursor ..` for a stream leaving; returns the bytes it had
    /// not read.
    fn release(&mut self, cursor: u64) -> u64 {
        let start = (cursor - self.head) as usize;
        let mut unread = 0u64;
        for e in self.log.range_mut(start..) {
            e.rem -= 1;
            unread += e.size as u64;
        }
        debug_assert!(
            self.log.iter().map(|e| e.rem > 0).is_sorted(),
            "only the front can reach zero"
        );
        unread
    }

    /// The writer's waker if it waits for room and room was made.
    fn room_made(&mut self, room: &Condvar, dead: &mut Vec<T>) -> Option<Waker> {
        if self.trim(dead) && self.writer_waiting {
            self.writer_waiting = false;
            room.notify_all();
            self.writer_waker.take()
        } else {
            None
        }
    }
}

/// What a read found.
#[derive(Debug)]
pub(crate) enum Read {
    /// The next value is in the caller's slot.
    Value,
    /// Disconnected by `DisconnectSlowest`, having lost this many bytes.
    Disconnected(u64),
    Closed,
    Pending,
}

/// Why a write was refused.
#[derive(Debug)]
pub(crate) enum Refused<T> {
    Closed(T),
    /// `Block` policy and no room: the value back.
    Full(T),
}

/// A stream that has not advanced.
///
/// ```
/// use std::time::Duration;
/// use stream_bytes::ByteWriter;
///
/// let mut writer = ByteWriter::default();
/// let stream = writer.stream();
/// writer.write_bytes(bytes::Bytes::from_static(b"abc")).unwrap();
/// let stalled = writer.stalled(Duration::ZERO);
/// assert_eq!(stalled.len(), 1);
/// assert_eq!(stalled[0].stream_id(), stream.id());
/// assert_eq!(stalled[0].unread_bytes(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    pub(crate) id: u64,
    pub(crate) unread: u64,
    pub(crate) unread_chunks: u64,
    pub(crate) idle: Duration,
}

impl Stall {
    /// The stalled stream's [`id`](crate::ByteStream::id).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let mut writer = stream_bytes::ByteWriter::default();
    /// let s = writer.stream();
    /// writer.write_bytes(bytes::Bytes::from_static(b"x")).unwrap();
    /// assert_eq!(writer.stalled(Duration::ZERO)[0].stream_id(), s.id());
    /// ```
    pub fn stream_id(&self) -> u64 {
        self.id
    }

    /// Bytes written that it has not read (for a typed writer, values).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let mut writer = stream_bytes::ByteWriter::default();
    /// let _s = writer.stream();
    /// writer.write_bytes(bytes::Bytes::from_static(b"xy")).unwrap();
    /// assert_eq!(writer.stalled(Duration::ZERO)[0].unread_bytes(), 2);
    /// ```
    pub fn unread_bytes(&self) -> u64 {
        self.unread
    }

    /// Chunks written that it has not read.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let mut writer = stream_bytes::ByteWriter::default();
    /// let _s = writer.stream();
    /// writer.write_bytes(bytes::Bytes::from_static(b"x")).unwrap();
    /// writer.write_bytes(bytes::Bytes::from_static(b"y")).unwrap();
    /// assert_eq!(writer.stalled(Duration::ZERO)[0].unread_chunks(), 2);
    /// ```
    pub fn unread_chunks(&self) -> u64 {
        self.unread_chunks
    }

    /// How long it has had a chunk to read and not read one.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let mut writer = stream_bytes::ByteWriter::default();
    /// let _s = writer.stream();
    /// writer.write_bytes(bytes::Bytes::from_static(b"x")).unwrap();
    /// assert!(writer.stalled(Duration::ZERO)[0].idle() < Duration::from_secs(60));
    /// ```
    pub fn idle(&self) -> Duration {
        self.idle
    }
}

#[derive(Debug)]
pub(crate) struct Shared<T> {
    inner: Mutex<Inner<T>>,
    /// Signalled when `buffered` falls while a blocking writer waits.
    room: Condvar,
    max: usize,
    policy: Policy,
}

impl<T> Shared<T> {
    pub(crate) fn new(max: usize, policy: Policy) -> Self {
        Shared {
            inner: Mutex::new(Inner {
                log: VecDeque::new(),
                head: 0,
                buffered: 0,
                streams: IdMap::default(),
                disconnected: IdMap::default(),
                next_stream: 1,
                waiting: Vec::new(),
                writer_waker: None,
                writer_waiting: false,
                closed: false,
            }),
            room: Condvar::new(),
            max,
            policy,
        }
    }

    pub(crate) fn policy(&self) -> Policy {
        self.policy
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock()
    }

    /// A new stream at the tail: its id and its progress.
    pub(crate) fn subscribe(&self) -> (u64, Arc<Progress>) {
        let mut inner = self.lock();
        let id = inner.next_stream;
        inner.next_stream += 1;
        let cursor = inner.tail();
        let progress = Arc::new(Progress {
            at: AtomicU64::new(clock::now()),
        });
        inner.streams.insert(
            id,
            Reader {
                reported: cursor,
                waker: None,
                progress: Arc::clone(&progress),
            },
        );
        (id, progress)
    }

    /// Forgets stream `id` (dropped or finished).
    pub(crate) fn unsubscribe(&self, id: u64) {
        let mut dead = Vec::new();
        let mut gone = None;
        let writer = {
            let mut inner = self.lock();
            inner.disconnected.remove(&id);
            match inner.streams.remove(&id) {
                Some(r) => {
                    inner.release(r.reported);
                    gone = Some(r);
                    inner.room_made(&self.room, &mut dead)
                }
                None => None,
            }
        };
        // After the lock: a value's or a waker's `Drop` may re-enter.
        drop(gone);
        drop(dead);
        if let Some(w) = writer {
            w.wake();
        }
    }

    pub(crate) fn stream_count(&self) -> usize {
        self.lock().streams.len()
    }

    pub(crate) fn buffered(&self) -> usize {
        self.lock().buffered
    }

    /// Takes the stream's next entry under the lock: clones it into
    /// `slot` (for `Bytes`, a reference-count increment: no copy) and
    /// reports it at once (its `rem` falls, and it is popped if this was
    /// its last reader); or registers `waker`. Nothing a stream handed out
    /// is ever still charged to it, and nothing it was charged for is held
    /// outside the log's count. Entries popped are moved to `dead`, which
    /// the caller drops after the lock.
    pub(crate) fn read(
        &self,
        id: u64,
        waker: Option<&Waker>,
        slot: &mut Option<T>,
        dead: &mut Vec<T>,
    ) -> Read
    where
        T: Clone,
    {
        let mut old = None;
        let (read, writer) = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            let tail = inner.tail();
            let head = inner.head;
            let Some(r) = inner.streams.get_mut(&id) else {
                return match inner.disconnected.remove(&id) {
                    Some(lost) => Read::Disconnected(lost),
                    None => Read::Closed,
                };
            };
            if r.reported < tail {
                let at = (r.reported - head) as usize;
                // The clone before any bookkeeping: a `T::clone` that
                // panics leaves the counts as they were.
                *slot = Some(inner.log[at].value.clone());
                inner.log[at].rem -= 1;
                debug_assert!(
                    at == 0 || inner.log[at].rem > 0,
                    "only the front can reach zero"
                );
                r.reported += 1;
                let writer = inner.room_made(&self.room, dead);
                (Read::Value, writer)
            } else if inner.closed {
                (Read::Closed, None)
            } else {
                if let Some(w) = waker {
                    match &mut r.waker {
                        Some(current) if current.will_wake(w) => {}
                        slot => {
                            if slot.is_none() {
                                inner.waiting.push(id);
                            }
                            // The replaced waker is dropped after the lock.
                            old = slot.replace(w.clone());
                        }
                    }
                }
                (Read::Pending, None)
            }
        };
        drop(old);
        dead.clear();
        // The value is in `slot` already: a writer waker that panics here
        // does not lose it (the stream hands it out at its next poll).
        if let Some(w) = writer {
            w.wake();
        }
        read
    }

    /// Appends `value`; `wakers` collects the streams to wake (the caller
    /// wakes them: a reusable buffer, so a write allocates nothing for
    /// them). `writer` is the waker to leave when `Block` refuses.
    pub(crate) fn write(
        &self,
        value: T,
        size: usize,
        block: Blocking<'_>,
        wakers: &mut Vec<Waker>,
    ) -> Result<(), Refused<T>> {
        let mut dead = Vec::new();
        let r = self.write_locked(value, size, block, wakers, &mut dead);
        // After the lock: entries freed by a disconnect (a value's `Drop`
        // may re-enter the writer).
        drop(dead);
        r
    }

    fn write_locked(
        &self,
        value: T,
        size: usize,
        block: Blocking<'_>,
        wakers: &mut Vec<Waker>,
        dead: &mut Vec<T>,
    ) -> Result<(), Refused<T>> {
        let mut guard = self.lock();
        loop {
            let inner = &mut *guard;
            if inner.closed {
                return Err(Refused::Closed(value));
            }
            if inner.streams.is_empty() {
                // Nobody to read it: accepted, stored nowhere.
                return Ok(());
            }
            let over = |inner: &Inner<T>| {
                inner.buffered > 0 && inner.buffered.saturating_add(size) > self.max
            };
            if self.policy == Policy::Unbounded || !over(inner) {
                break;
            }
            match self.policy {
                Policy::Unbounded => unreachable!("checked above"),
                Policy::DisconnectSlowest => {
                    while over(inner) {
                        let slowest = inner
                            .streams
                            .iter()
                            .min_by_key(|(id, r)| (r.pos(), **id))
                            .map(|(id, _)| *id)
                            .expect("buffered > 0 means a stream");
                        let r = inner.streams.remove(&slowest).expect("just found");
                        let lost = inner.release(r.reported);
                        inner.disconnected.insert(slowest, lost);
                        inner.trim(dead);
                        if let Some(w) = r.waker {
                            wakers.push(w);
                        }
                    }
                    if inner.streams.is_empty() {
                        // The last stream was disconnected: nobody to
                        // read it, stored nowhere (as with no stream).
                        return Ok(());
                    }
                }
                Policy::Block => match block {
                    Blocking::Thread => {
                        inner.writer_waiting = true;
                        guard = self.room.wait(guard);
                        continue;
                    }
                    Blocking::Task(w) => {
                        inner.writer_waiting = true;
                        let old = inner.writer_waker.replace(w.clone());
                        drop(guard);
                        drop(old);
                        return Err(Refused::Full(value));
                    }
                    Blocking::No => return Err(Refused::Full(value)),
                },
            }
            break;
        }
        let inner = &mut *guard;
        inner.buffered += size;
        inner.log.push_back(Entry {
            value,
            size,
            rem: inner.streams.len(),
            at: clock::now(),
        });
        inner.take_wakers(wakers);
        Ok(())
    }

    /// Closes; `wakers` collects every waiting stream.
    pub(crate) fn close(&self, wakers: &mut Vec<Waker>) {
        let mut inner = self.lock();
        if inner.closed {
            return;
        }
        inner.closed = true;
        inner.take_wakers(wakers);
        if inner.writer_waiting {
            inner.writer_waiting = false;
            self.room.notify_all();
            if let Some(w) = inner.writer_waker.take() {
                wakers.push(w);
            }
        }
    }

    /// Streams with something to read that have not read for `idle`.
    pub(crate) fn stalled(&self, idle: Duration) -> Vec<Stall> {
        let now = clock::now();
        let inner = self.lock();
        let tail = inner.tail();
        let mut out = Vec::new();
        for (&id, r) in &inner.streams {
            let pos = r.pos().min(tail);
            if pos == tail {
                continue;
            }
            let start = (pos - inner.head) as usize;
            // Relaxed: a statistic (see `Progress`).
            let last_read = r.progress.at.load(Ordering::Relaxed);
            let waiting_since = last_read.max(inner.log[start].at);
            let waited = clock::since(now, waiting_since);
            if waited >= idle {
                out.push(Stall {
                    id,
                    unread: inner.log.range(start..).map(|e| e.size as u64).sum(),
                    unread_chunks: tail - pos,
                    idle: waited,
                });
            }
        }
        out.sort_by_key(|s| s.id);
        out
    }
}

impl<T> Inner<T> {
    fn take_wakers(&mut self, wakers: &mut Vec<Waker>) {
        for id in self.waiting.drain(..) {
            if let Some(w) = self.streams.get_mut(&id).and_then(|r| r.waker.take()) {
                wakers.push(w);
            }
        }
    }
}

/// How a write that finds no room under `Block` waits.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Blocking<'a> {
    /// Park the thread on the condition variable.
    Thread,
    /// Leave this waker and return `Full`.
    #[cfg_attr(not(any(feature = "tokio", feature = "futures-io")), allow(dead_code))]
    Task(&'a Waker),
    /// Return `Full`.
    No,
}

/// Wakes and empties `wakers` (outside every lock). A waker that panics
/// does not cost the others their wake-up: every waker is woken, then the
/// first panic is resumed.
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    let mut panic = None;
    for w in wakers.drain(..) {
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.wake())) {
            panic.get_or_insert(p);
        }
    }
    if let Some(p) = panic {
        std::panic::resume_unwind(p);
    }
}
