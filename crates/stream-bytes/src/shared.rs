//! The shared state of one writer and its streams: a log of chunks that
//! some live stream has not taken yet, one port per stream (its batch of
//! taken chunks and its count of what it handed out), and the memory
//! limit's bookkeeping.
//!
//! # The protocol
//!
//! * Every entry written carries its counted size (bytes for
//!   `ByteWriter`, 1 for `TypedWriter`). `tail_off` is the sum of the
//!   sizes written while some stream lived: a cumulative offset. Each
//!   stream's port holds `consumed`, the offset it has handed out to its
//!   user up to (it starts at `tail_off` when the stream is made), and
//!   `handed`, the sequence number it has handed out up to (it starts at
//!   the tail's).
//! * **The ledger** is `tail_off - min(consumed)`: every chunk a live
//!   stream has not handed out yet, whether it is still in the log or in
//!   that stream's batch. A chunk is alive (held by the crate) only while
//!   some stream has not handed it out, so the ledger is exactly the
//!   bytes the crate holds. "Uncounting" a chunk is advancing one's
//!   `consumed`: one atomic add per chunk handed out, no shared lock.
//! * **The charge** the limit is compared with adds `overhead` per chunk
//!   ([`CHUNK_OVERHEAD`] for `ByteWriter`, 0 for `TypedWriter`): in
//!   charged units a stream is at `key = consumed + overhead * handed`
//!   and the tail at `tail_off + overhead * tail`, and the charged ledger
//!   is `tail_key - min(key)`. Both halves of a key advance at the same
//!   hand-out and only grow, so a key is a position like `consumed`, and
//!   everything below that says "offset" holds for keys (the writer's
//!   `floor`, the `Block` handshake: the stream stores both before its
//!   fence). `buffered_bytes()`, a disconnect's `lost` and the stall
//!   report use the byte offsets alone.
//! * The log (under the writer's mutex) holds entries `head .. tail`
//!   (sequence numbers), each with `rem`, the live streams that have not
//!   *taken* it into their batch. A write pushes one entry with `rem =
//!   streams.len()` (or stores nothing when there is no stream): one
//!   push, whatever the number of streams.
//! * A stream whose batch is empty takes the mutex once for a run of up
//!   to [`BATCH`] entries: it clones them (for `Bytes`, a reference-count
//!   increment), takes its share off their `rem`, pops the front entries
//!   whose `rem` reached zero, and moves the clones into its batch. It
//!   then hands them out one per poll from its batch, advancing
//!   `consumed` at the moment each is handed out: nothing handed out is
//!   still charged, and everything held for the stream is charged. Under
//!   `DisconnectSlowest` the batch sits in the stream's port, under the
//!   port's own mutex (the stream's and, at a disconnect, the writer's);
//!   under the other policies nobody but the stream ever touches it, and
//!   it is the stream's own `VecDeque` (no lock per chunk).
//! * The writer computes `min(key)` lazily: it keeps `floor`, the
//!   minimum at its last scan (a lower bound: keys only grow, a new
//!   stream starts at the tail), and scans the streams only when
//!   `tail_key - floor` says the limit may be reached.
//! * `DisconnectSlowest` removes the stream with the smallest key:
//!   under that stream's port lock it reads `consumed` (no hand-out can
//!   run then), records `lost = tail_off - consumed` in the port (exactly
//!   the bytes written before the disconnect that the stream never
//!   handed out) and takes the stream's batch out of it, so a stalled
//!   stream keeps nothing alive outside the ledger.
//! * Lock order: the writer's mutex, then a port's. A stream never takes
//!   the writer's mutex while holding its port's.
//! * `consumed` and `handed` have one writer, the stream: it advances
//!   them with a load and a store (no read-modify-write).
//! * Popped entries, batches taken out and removed streams' wakers are
//!   dropped after the locks: a value's `Drop` may call back into the
//!   writer.
//! * A stream that is dropped frees its batch first, while the batch is
//!   still charged to it (its offset has not moved), then leaves: under
//!   the writer's mutex it is removed and the log entries only it needed
//!   are popped; they are dropped after the lock. Under `Block` their
//!   charge is kept in `freeing` (part of the charged ledger) until they
//!   are gone, and only then, under the mutex again, is it taken off and
//!   a waiting writer woken: a `Block` writer is never admitted against
//!   memory that a leaving stream still holds. (Under `DisconnectSlowest`
//!   a write concurrent with a stream drop may be admitted while the
//!   leaving stream's log entries are being freed: counting them would
//!   make the writer disconnect healthy streams for memory about to be
//!   freed.)
//! * Waiting: a stream that finds its batch and the log empty registers
//!   its waker and its id in `waiting` under the writer's mutex; the
//!   write that adds an entry takes the wakers out under the mutex and
//!   wakes them after releasing it. The check and the registration happen
//!   under the same lock as the write, so no wake-up is lost. A stream
//!   empties its batch before it looks at the log again, so it waits (and
//!   costs the writer a wake) at most once per run it takes.
//! * A writer blocked by the `Block` policy sets `writer_waiting` (under
//!   the mutex), issues a SeqCst fence, rescans `consumed` and waits on the
//!   condition variable (thread) or leaves its waker (task) if still
//!   full. A stream advances `consumed`, issues a SeqCst fence and reads
//!   `writer_waiting`: Dekker's pattern with two fences (not SeqCst
//!   accesses, which loom models as AcqRel only): one fence comes first in
//!   their total order, so either the writer's scan sees the room or the
//!   stream sees the flag, takes the mutex (which the writer holds until
//!   it waits) and, if the minimum rose, wakes it. A stream drop and a
//!   disconnect do the same under the mutex.
//!
//! Why a mutex-guarded log and not chan-broadcast's lock-free ring: the
//! memory bound is counted in bytes over a log whose length is not fixed
//! (`Unbounded` keeps everything; `Block` and `DisconnectSlowest` bound
//! the bytes, not the number of chunks), and a disconnect must release
//! exactly one stream's share. chan-broadcast's rings have a fixed number
//! of slots chosen at construction and report lag in values, after the
//! fact, to the reader; neither fits. See the crate guide.

use core::task::Waker;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use ring_core::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
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
    /// the async writers return `Pending`. A single chunk whose charge
    /// (its length plus [`CHUNK_OVERHEAD`]) is larger than the limit is
    /// accepted once nothing is buffered.
    Block,
    /// A write that would go over the limit disconnects the slowest stream
    /// (the one with the most unread bytes) until the chunk fits. That
    /// stream yields an `io::Error` saying how many bytes it lost (exactly
    /// those written before the disconnect that it never got), then ends;
    /// the others and the writer go on. If that was the last stream, the
    /// chunk is accepted and stored nowhere, as with no stream. A single
    /// chunk whose charge is larger than the limit is accepted when nothing
    /// is buffered; the next write then disconnects every stream that has
    /// not read it yet.
    DisconnectSlowest,
}

/// What a [`ByteWriter`](crate::ByteWriter)'s memory limit charges each
/// buffered chunk besides its length, in bytes: a chunk of `n` bytes
/// counts `n + CHUNK_OVERHEAD` against
/// [`max_buffered_bytes`](crate::Builder::max_buffered_bytes), so the
/// limit bounds the memory the chunks really take, not only their
/// payload, whatever their size.
///
/// It covers what each buffered chunk costs besides its bytes, measured
/// by the repository's `tests/memory.rs` (about 138 bytes per 64-byte
/// chunk on x86-64): its entry in the writer's log (56 bytes, in a
/// `VecDeque` whose capacity doubles, so up to 112), `bytes`' shared
/// header (24 bytes, allocated once a chunk made from a `Vec` is shared),
/// and the allocator's own header of those two allocations (8 bytes each
/// with glibc). [`ByteWriter::buffered_bytes`](crate::ByteWriter::buffered_bytes),
/// the bytes a disconnected stream lost and every other count stay in
/// payload bytes.
///
/// ```
/// use bytes::Bytes;
/// use stream_bytes::{ByteWriter, CHUNK_OVERHEAD, Policy};
///
/// // Room for exactly two unread 64-byte chunks.
/// let mut w = ByteWriter::builder()
///     .max_buffered_bytes(2 * (64 + CHUNK_OVERHEAD))
///     .on_full(Policy::Block)
///     .build();
/// let _s = w.stream();
/// let chunk = Bytes::from(vec![0u8; 64]);
/// assert!(w.try_write_bytes(chunk.clone()).unwrap());
/// assert!(w.try_write_bytes(chunk.clone()).unwrap());
/// assert!(!w.try_write_bytes(chunk).unwrap()); // full
/// assert_eq!(w.buffered_bytes(), 128); // payload bytes
/// ```
pub const CHUNK_OVERHEAD: usize = 160;

/// The most entries a stream takes from the log under one lock of the
/// writer's mutex. They stay charged to it (and in its port, where a
/// disconnect can drop them) until it hands each out.
pub(crate) const BATCH: usize = 32;

/// One chunk in the log.
#[derive(Debug)]
struct Entry<T> {
    value: T,
    /// Counted size: bytes for `ByteWriter`, 1 for `TypedWriter`.
    size: usize,
    /// Live streams that have not taken this entry. Never 0 while the
    /// entry is in the log (zero entries are popped at once).
    rem: usize,
    /// When it was written ([`clock::now`]): the start of a stall for a
    /// stream that reaches it.
    at: u64,
}

/// A chunk a stream has taken from the log and not handed out yet.
#[derive(Debug)]
pub(crate) struct Taken<T> {
    value: T,
    size: usize,
}

/// What a port's lock guards (used under `DisconnectSlowest` only: under
/// the other policies nobody but the stream ever touches its batch, which
/// it keeps in its own `VecDeque`, with no lock).
#[derive(Debug)]
struct Batch<T> {
    /// Taken from the log, charged to the stream, not handed out.
    chunks: VecDeque<Taken<T>>,
    /// Set by `DisconnectSlowest` (the bytes lost); `chunks` is emptied
    /// at the same time.
    lost: Option<u64>,
}

/// One stream's side of the shared state, shared by the stream and the
/// writer.
#[derive(Debug)]
pub(crate) struct Port<T> {
    batch: Mutex<Batch<T>>,
    /// The offset (in `Inner::tail_off`'s count) the stream has handed
    /// out up to. Written by the stream only, under `batch`'s lock (so a
    /// disconnect, which reads it under that lock, sees the final value);
    /// read by the writer. Relaxed everywhere: it publishes no memory; the
    /// handshake with a `Block` writer orders it with SeqCst fences (module
    /// doc), and a disconnect reads it under the port's lock.
    consumed: AtomicU64,
    /// The chunks handed out so far, as a sequence number (`taken -
    /// handed` is the batch's length). Written by the stream only; read by
    /// [`Shared::stalled`]: a statistic, every access `Relaxed`.
    handed: AtomicU64,
    /// [`clock::now`] when the stream last handed out a chunk: a
    /// statistic for [`Shared::stalled`]; every access is `Relaxed`
    /// (nothing is published through it, nothing pairs with it).
    read_at: AtomicU64,
}

impl<T> Port<T> {
    /// Takes the chunks out of the batch (under `DisconnectSlowest`; empty
    /// otherwise) without handing them out: they stay charged to the
    /// stream until it leaves. The caller drops them after this returns
    /// (the port's lock released).
    pub(crate) fn take_batch(&self) -> VecDeque<Taken<T>> {
        core::mem::take(&mut self.batch.lock().chunks)
    }
}

/// The writer's record of a stream.
#[derive(Debug)]
struct Reader<T> {
    /// The next log entry it will take; `head <= taken <= tail`.
    taken: u64,
    waker: Option<Waker>,
    port: Arc<Port<T>>,
}

#[derive(Debug)]
struct Inner<T> {
    log: VecDeque<Entry<T>>,
    /// Sequence number of `log[0]`.
    head: u64,
    /// Sum of the sizes of every entry pushed (the ledger's offsets).
    tail_off: u64,
    /// The smallest [`Inner::key`] over the streams at the writer's last
    /// scan, or less: a lower bound (see the module doc).
    floor: u64,
    /// What each chunk is charged besides its size ([`CHUNK_OVERHEAD`]
    /// for `ByteWriter`, 0 for `TypedWriter`).
    overhead: u64,
    /// Under `Block` only: the charge of chunks a leaving stream took out
    /// of the ledger that it has not freed yet (it drops them after the
    /// lock, then takes them off here and wakes the writer; see
    /// [`Shared::unsubscribe`]). Counted in the charged ledger, so a
    /// `Block` writer is not admitted against memory still held. 0 under
    /// the other policies (a `DisconnectSlowest` writer would disconnect
    /// healthy streams for memory that is about to be freed).
    freeing: u64,
    /// How many times a `Block` writer has found no room (and waited, or
    /// left its waker). A leaving stream compares it before and after it
    /// frees its chunks: only a writer that found no room while their
    /// charge was in `freeing` can have been held back by it.
    waits: u64,
    streams: IdMap<Reader<T>>,
    next_stream: u64,
    /// Ids of streams with a registered waker (may hold ids of dropped
    /// streams: skipped, and compacted by `unsubscribe` once they
    /// outnumber twice the live streams).
    waiting: Vec<u64>,
    writer_waker: Option<Waker>,
    closed: bool,
}

impl<T> Inner<T> {
    fn tail(&self) -> u64 {
        self.head + self.log.len() as u64
    }

    /// A stream's position in charged units: its byte offset plus
    /// `overhead` per chunk it has handed out (both count from the same
    /// origin as the tail's, [`Inner::tail_key`]).
    fn key(&self, port: &Port<T>) -> u64 {
        // Relaxed: counts (see the fields); the `Block` writer's fence
        // before a scan pairs with the stream's fence after its stores
        // (module doc). The stream stores `consumed`, then `handed`: a
        // scan that sees only one of the two new values gets a key
        // between the old and the new one, so the charge is
        // overestimated, never under.
        let handed = port.handed.load(Ordering::Relaxed);
        let consumed = port.consumed.load(Ordering::Relaxed);
        consumed + self.overhead * handed
    }

    /// The tail's position in charged units.
    fn tail_key(&self) -> u64 {
        self.tail_off + self.overhead * self.tail()
    }

    /// The smallest [`Inner::key`] (the tail's with no stream).
    fn min_key(&self) -> u64 {
        self.streams
            .values()
            .map(|r| self.key(&r.port))
            .min()
            .unwrap_or_else(|| self.tail_key())
    }

    /// The charged ledger, exactly: rescans the streams and updates
    /// `floor`. Includes the chunks a leaving stream is still freeing.
    fn charged_exact(&mut self) -> u64 {
        self.floor = self.min_key();
        self.tail_key() - self.floor + self.freeing
    }

    /// At least the charged ledger, without a scan (`floor` is a lower
    /// bound of the smallest key).
    fn charged_bound(&self) -> u64 {
        self.tail_key() - self.floor + self.freeing
    }

    /// The ledger in bytes (sizes only, no overhead): `tail_off -
    /// min(consumed)`.
    fn buffered_bytes(&self) -> u64 {
        let min = self
            .streams
            .values()
            // Relaxed: a count (see `Port::consumed`).
            .map(|r| r.port.consumed.load(Ordering::Relaxed))
            .min()
            .unwrap_or(self.tail_off);
        self.tail_off - min
    }

    /// Pops the entries nobody needs into `dead` (dropped by the caller
    /// after the lock: a value's `Drop` may call back into the writer);
    /// returns their charge (sizes plus the per-chunk overhead).
    fn trim(&mut self, dead: &mut Vec<T>) -> u64 {
        let mut charge = 0;
        while self.log.front().is_some_and(|e| e.rem == 0) {
            let e = self.log.pop_front().expect("front checked");
            self.head += 1;
            charge += e.size as u64 + self.overhead;
            dead.push(e.value);
        }
        debug_assert!(
            self.log.front().is_none_or(|e| e.rem > 0),
            "only the front can reach zero"
        );
        charge
    }

    /// Releases `taken ..` for a stream leaving.
    fn release(&mut self, taken: u64) {
        let start = (taken - self.head) as usize;
        for e in self.log.range_mut(start..) {
            e.rem -= 1;
        }
        debug_assert!(
            self.log.iter().map(|e| e.rem > 0).is_sorted(),
            "only the front can reach zero"
        );
    }

    fn take_wakers(&mut self, wakers: &mut Vec<Waker>) {
        for id in self.waiting.drain(..) {
            if let Some(w) = self.streams.get_mut(&id).and_then(|r| r.waker.take()) {
                wakers.push(w);
            }
        }
    }
}

/// What a read found.
#[derive(Debug)]
pub(crate) enum Read {
    /// Entries were moved into the stream's batch.
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
    /// Signalled when the ledger falls while a blocking writer waits.
    room: Condvar,
    /// A `Block` writer waits for room. Written under `inner`'s lock; read
    /// without it by a stream after each hand-out. Relaxed everywhere: the
    /// handshake with `Port::consumed` is ordered by SeqCst fences (module
    /// doc), the rest happens under `inner`'s lock.
    writer_waiting: AtomicBool,
    max: usize,
    policy: Policy,
    /// What sizes count, for messages: "bytes" or "values".
    unit: &'static str,
}

impl<T> Shared<T> {
    /// `overhead`: what each chunk is charged besides its size (see
    /// [`CHUNK_OVERHEAD`]); `unit`: what sizes count ("bytes", "values").
    pub(crate) fn new(max: usize, policy: Policy, overhead: usize, unit: &'static str) -> Self {
        Shared {
            inner: Mutex::new(Inner {
                log: VecDeque::new(),
                head: 0,
                tail_off: 0,
                floor: 0,
                overhead: overhead as u64,
                freeing: 0,
                waits: 0,
                streams: IdMap::default(),
                next_stream: 1,
                waiting: Vec::new(),
                writer_waker: None,
                closed: false,
            }),
            room: Condvar::new(),
            writer_waiting: AtomicBool::new(false),
            max,
            policy,
            unit,
        }
    }

    pub(crate) fn unit(&self) -> &'static str {
        self.unit
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

    /// A new stream at the tail: its id and its port.
    pub(crate) fn subscribe(&self) -> (u64, Arc<Port<T>>) {
        let mut inner = self.lock();
        let id = inner.next_stream;
        inner.next_stream += 1;
        let taken = inner.tail();
        let port = Arc::new(Port {
            batch: Mutex::new(Batch {
                chunks: VecDeque::new(),
                lost: None,
            }),
            consumed: AtomicU64::new(inner.tail_off),
            handed: AtomicU64::new(taken),
            read_at: AtomicU64::new(clock::now()),
        });
        inner.streams.insert(
            id,
            Reader {
                taken,
                waker: None,
                port: Arc::clone(&port),
            },
        );
        (id, port)
    }

    /// The writer's waker if a `Block` writer waits and the ledger fell
    /// (`freed`: chunks that held it back were taken off `freeing`; or
    /// the minimum key rose, or the last stream left); the thread writer
    /// is notified here. Under the lock.
    fn room_made(&self, inner: &mut Inner<T>, freed: bool) -> Option<Waker> {
        // Relaxed: under the lock, which every store of the flag holds.
        if !self.writer_waiting.load(Ordering::Relaxed) {
            return None;
        }
        // Not below `floor`: the writer's scan that set it happened before
        // this lock, and the keys only grow.
        let floor = inner.min_key();
        if freed || floor > inner.floor || inner.streams.is_empty() {
            inner.floor = floor;
            // Relaxed: under the lock (see the field).
            self.writer_waiting.store(false, Ordering::Relaxed);
            self.room.notify_all();
            inner.writer_waker.take()
        } else {
            None
        }
    }

    /// Forgets stream `id` (dropped or finished). The stream has freed
    /// its batch already (see `Reader`'s `Drop`: freed while still charged
    /// to it). The log entries only it needed are popped under the lock
    /// and freed after it (a value's `Drop` may re-enter the writer); under
    /// `Block` their charge stays in `freeing` until they are gone, and
    /// only then is a waiting writer woken: it is never admitted against
    /// memory still held.
    pub(crate) fn unsubscribe(&self, id: u64) {
        let mut dead = Vec::new();
        let (gone, charge, waits) = {
            let mut inner = self.lock();
            let Some(r) = inner.streams.remove(&id) else {
                return;
            };
            // A waiting stream's id stays in `waiting` until a write or the
            // close drains it: on an idle writer whose streams come and go
            // they would pile up. Compacted once they outnumber twice the
            // live streams (at least that many pushes between two passes).
            if inner.waiting.len() > 2 * inner.streams.len() + 16 {
                let inner = &mut *inner;
                let streams = &inner.streams;
                inner.waiting.retain(|id| streams.contains_key(id));
            }
            inner.release(r.taken);
            let mut charge = inner.trim(&mut dead);
            // Empty unless the stream left without its `Drop` (the close
            // path, which finds its batch empty): freed after the lock.
            let batch = core::mem::take(&mut r.port.batch.lock().chunks);
            charge += batch
                .iter()
                .map(|t| t.size as u64 + inner.overhead)
                .sum::<u64>();
            if self.policy != Policy::Block {
                // No writer waits under the other policies (only `Block`
                // sets the flag): nothing to hold back.
                charge = 0;
            }
            inner.freeing += charge;
            ((r, batch), charge, inner.waits)
        };
        // The second half runs even if a value's `Drop` panics below:
        // otherwise `freeing` would keep a `Block` writer waiting for ever.
        let _freed = Freed {
            shared: self,
            charge,
            waits,
        };
        // After the lock: a value's or a waker's `Drop` may re-enter.
        drop(gone);
        drop(dead);
    }

    pub(crate) fn stream_count(&self) -> usize {
        self.lock().streams.len()
    }

    pub(crate) fn buffered(&self) -> usize {
        let b = self.lock().buffered_bytes();
        usize::try_from(b).unwrap_or(usize::MAX)
    }

    /// Hands out the next chunk of the stream's batch into `slot`,
    /// advancing its `consumed` in the same step: under the port's lock
    /// with `DisconnectSlowest` (a disconnect may empty the batch), from
    /// the stream's own `local` batch otherwise (nobody else touches it).
    /// Then, under `Block`, lets a waiting writer know. `None`: the batch
    /// is empty; `Some(Err(lost))`: disconnected.
    pub(crate) fn hand_out(
        &self,
        port: &Port<T>,
        local: &mut VecDeque<Taken<T>>,
        slot: &mut Option<T>,
    ) -> Option<Result<(), u64>> {
        // Only this stream writes `consumed` and `handed` (so a load and a
        // store, not a read-modify-write); Relaxed: see the fields.
        let advance = |size: usize| {
            let c = port.consumed.load(Ordering::Relaxed);
            port.consumed.store(c + size as u64, Ordering::Relaxed);
            let h = port.handed.load(Ordering::Relaxed);
            port.handed.store(h + 1, Ordering::Relaxed);
        };
        if self.policy == Policy::DisconnectSlowest {
            let mut b = port.batch.lock();
            if let Some(lost) = b.lost {
                return Some(Err(lost));
            }
            let t = b.chunks.pop_front()?;
            // Under the port's lock: a disconnect reads the final value.
            advance(t.size);
            *slot = Some(t.value);
        } else {
            let t = local.pop_front()?;
            advance(t.size);
            *slot = Some(t.value);
        }
        // Relaxed: a statistic (see `Port::read_at`).
        port.read_at.store(clock::now(), Ordering::Relaxed);
        if self.policy == Policy::Block {
            // The stream's half of the handshake with a `Block` writer
            // (module doc): the store of `consumed` above, this fence,
            // then the flag. Pairs with the fence in `write_locked`
            // between the flag's store and the scan of `consumed`. (Only
            // `Block` ever sets the flag.)
            fence(Ordering::SeqCst);
            // Relaxed: ordered by the fence.
            if self.writer_waiting.load(Ordering::Relaxed) {
                let writer = self.room_made(&mut self.lock(), false);
                // The value is in `slot` already: a writer waker that
                // panics here does not lose it (the stream hands it out
                // at its next poll).
                if let Some(w) = writer {
                    w.wake();
                }
            }
        }
        Some(Ok(()))
    }

    /// The stream's batch is empty: takes the next run of entries into
    /// it (clones, for `Bytes` a reference-count increment: no copy), or
    /// registers `waker`. The batch is the port's under
    /// `DisconnectSlowest`, `local` otherwise (see [`Shared::hand_out`]).
    /// `scratch` is the stream's reusable buffer for the clones; entries
    /// popped are moved to `dead`, which the caller drops after the lock.
    pub(crate) fn refill(
        &self,
        id: u64,
        port: &Port<T>,
        waker: Option<&Waker>,
        scratch: &mut Vec<Taken<T>>,
        local: &mut VecDeque<Taken<T>>,
        dead: &mut Vec<T>,
    ) -> Read
    where
        T: Clone,
    {
        scratch.clear();
        let mut old = None;
        let read = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            let tail = inner.tail();
            let head = inner.head;
            let Some(r) = inner.streams.get_mut(&id) else {
                // Disconnected (the port says by how much) or finished.
                return match port.batch.lock().lost {
                    Some(lost) => Read::Disconnected(lost),
                    None => Read::Closed,
                };
            };
            if r.taken < tail {
                let start = (r.taken - head) as usize;
                let n = ((tail - r.taken) as usize).min(BATCH);
                // Each entry's clone before its bookkeeping: a `T::clone`
                // that panics leaves that entry's count as it was. The
                // first entry's panic is the caller's (as with one entry
                // per read); a later one ends the run before that entry
                // (the entries before it are taken and will be handed out
                // first), and the entry is cloned again when the stream
                // reaches it (its panic, if it repeats, reaches the
                // caller then).
                for (i, e) in inner.log.range_mut(start..start + n).enumerate() {
                    let value = if i == 0 {
                        e.value.clone()
                    } else {
                        let clone = std::panic::AssertUnwindSafe(|| e.value.clone());
                        match std::panic::catch_unwind(clone) {
                            Ok(v) => v,
                            Err(_) => break,
                        }
                    };
                    e.rem -= 1;
                    scratch.push(Taken {
                        value,
                        size: e.size,
                    });
                }
                r.taken += scratch.len() as u64;
                if self.policy == Policy::DisconnectSlowest {
                    // Where a disconnect can empty it. Lock order: the
                    // writer's mutex, then the port's.
                    port.batch.lock().chunks.extend(scratch.drain(..));
                } else {
                    local.extend(scratch.drain(..));
                }
                inner.trim(dead);
                Read::Value
            } else if inner.closed {
                Read::Closed
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
                Read::Pending
            }
        };
        drop(old);
        dead.clear();
        read
    }

    /// Appends `value`; `wakers` collects the streams to wake (the caller
    /// wakes them: a reusable buffer, so a write allocates nothing for
    /// them). `block` says how to wait when `Block` refuses. `dead`
    /// receives the entries and batches a disconnect freed: the caller
    /// drops them after the lock, and after it has counted the write and
    /// woken the streams (a value's `Drop` may re-enter the writer, or
    /// panic: the chunk written is delivered all the same).
    pub(crate) fn write(
        &self,
        value: T,
        size: usize,
        block: Blocking<'_>,
        wakers: &mut Vec<Waker>,
        dead: &mut Vec<T>,
    ) -> Result<(), Refused<T>> {
        self.write_locked(value, size, block, wakers, dead)
    }

    fn write_locked(
        &self,
        value: T,
        size: usize,
        block: Blocking<'_>,
        wakers: &mut Vec<Waker>,
        dead: &mut Vec<T>,
    ) -> Result<(), Refused<T>> {
        let max = self.max as u64;
        let mut guard = self.lock();
        // The chunk's charge: its size plus the per-chunk overhead.
        let charge = (size as u64).saturating_add(guard.overhead);
        let over = |charged: u64| charged > 0 && charged.saturating_add(charge) > max;
        loop {
            let inner = &mut *guard;
            if inner.closed {
                return Err(Refused::Closed(value));
            }
            if inner.streams.is_empty() {
                // Nobody to read it: accepted, stored nowhere.
                return Ok(());
            }
            // `tail_key - floor` is at least the charged ledger: if it fits, the
            // write fits, with no scan of the streams.
            if self.policy == Policy::Unbounded || !over(inner.charged_bound()) {
                break;
            }
            match self.policy {
                Policy::Unbounded => unreachable!("checked above"),
                Policy::DisconnectSlowest => {
                    while over(inner.charged_exact()) {
                        let (slowest, port) = inner
                            .streams
                            .iter()
                            // A choice, not a count; the exact position is
                            // read under the port's lock below.
                            .min_by_key(|(id, r)| (inner.key(&r.port), **id))
                            .map(|(id, r)| (*id, Arc::clone(&r.port)))
                            .expect("buffered > 0 means a stream");
                        let mut b = port.batch.lock();
                        // Under the port's lock no hand-out runs: this is
                        // the stream's final position. It may have handed
                        // chunks out since the scan: if it is no longer
                        // over the limit, spare it and rescan (the loop
                        // ends: each retry has seen a position advance).
                        if !over(inner.tail_key() - inner.key(&port)) {
                            continue;
                        }
                        let r = inner.streams.remove(&slowest).expect("just found");
                        // (Any ordering would do: Relaxed, see the field.)
                        let consumed = port.consumed.load(Ordering::Relaxed);
                        b.lost = Some(inner.tail_off - consumed);
                        dead.extend(b.chunks.drain(..).map(|t| t.value));
                        drop(b);
                        inner.release(r.taken);
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
                Policy::Block => {
                    if let Blocking::No = block {
                        if over(inner.charged_exact()) {
                            return Err(Refused::Full(value));
                        }
                        break;
                    }
                    // The writer's half of the handshake (module doc): the
                    // flag, a SeqCst fence (pairs with the one in
                    // `hand_out`), then the scan. Relaxed: ordered by the
                    // fence; the flag's other accesses hold the lock.
                    self.writer_waiting.store(true, Ordering::Relaxed);
                    fence(Ordering::SeqCst);
                    if !over(inner.charged_exact()) {
                        // Relaxed: under the lock (see the field).
                        self.writer_waiting.store(false, Ordering::Relaxed);
                        break;
                    }
                    inner.waits += 1;
                    match block {
                        Blocking::Thread => {
                            guard = self.room.wait(guard);
                            continue;
                        }
                        Blocking::Task(w) => {
                            let old = inner.writer_waker.replace(w.clone());
                            drop(guard);
                            drop(old);
                            return Err(Refused::Full(value));
                        }
                        Blocking::No => unreachable!("returned above"),
                    }
                }
            }
            break;
        }
        let inner = &mut *guard;
        inner.tail_off += size as u64;
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
        // Relaxed: under the lock (see the field).
        if self.writer_waiting.swap(false, Ordering::Relaxed) {
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
            // Relaxed: statistics (see the fields); a stream handing out
            // meanwhile makes the report at most one chunk old.
            let handed = r.port.handed.load(Ordering::Relaxed).min(r.taken);
            let consumed = r.port.consumed.load(Ordering::Relaxed);
            let last_read = r.port.read_at.load(Ordering::Relaxed);
            let unread_chunks = tail - handed;
            if unread_chunks == 0 {
                continue;
            }
            // With chunks in its batch, the stream has had something to
            // read since it took them, and it hands one out in the same
            // poll as it takes them: since its last hand-out. Otherwise,
            // since the first chunk waiting in the log was written, or
            // its last hand-out if later.
            let since = if handed < r.taken {
                last_read
            } else {
                last_read.max(inner.log[(r.taken - inner.head) as usize].at)
            };
            let waited = clock::since(now, since);
            if waited >= idle {
                out.push(Stall {
                    id,
                    unread: inner.tail_off.saturating_sub(consumed),
                    unread_chunks,
                    idle: waited,
                });
            }
        }
        out.sort_by_key(|s| s.id);
        out
    }
}

/// The second half of [`Shared::unsubscribe`], run when the chunks a
/// leaving stream held are freed (also while unwinding from a value's
/// `Drop`): takes their charge off `freeing` and wakes a `Block` writer if
/// that, or the stream's leaving, made room.
struct Freed<'a, T> {
    shared: &'a Shared<T>,
    charge: u64,
    /// `Inner::waits` when the charge was put in `freeing`.
    waits: u64,
}

impl<T> Drop for Freed<'_, T> {
    fn drop(&mut self) {
        if self.shared.policy != Policy::Block {
            return;
        }
        let writer = {
            let mut inner = self.shared.lock();
            inner.freeing -= self.charge;
            // The charge held a writer back only if it found no room
            // since the charge was added; a writer waiting from before
            // is woken if the leaving raised the minimum (`room_made`).
            let held_back = self.charge > 0 && inner.waits != self.waits;
            self.shared.room_made(&mut inner, held_back)
        };
        if let Some(w) = writer {
            if std::thread::panicking() {
                // A second panic while unwinding would abort: the writer
                // is woken, a panic of its waker is dropped.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.wake()));
            } else {
                w.wake();
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
