//! Hostile review of stream-bytes (issue 12): each test shows one defect
//! and FAILS on the code as reviewed. Single-threaded and poll-level (no
//! test can hang: nothing blocks, every wait is a `try_` form or a poll).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use futures::Stream;
use seqcast_test_support::counting_waker;
use stream_bytes::{ByteStream, ByteWriter, Disconnected, Policy, TypedStream, TypedWriter};

// ---------------------------------------------------------------------
// A global allocator that counts allocations per thread (so tests running
// in parallel on other threads do not disturb the count).

struct PerThread;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: PerThread = PerThread;

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

// ---------------------------------------------------------------------
// Helpers.

/// A writer whose limit counts payload bytes only (`chunk_overhead(0)`):
/// these tests place the limit byte by byte. The default per-chunk charge
/// is tested in `charge.rs` and `memory.rs`.
fn bounded(n: usize, p: Policy) -> ByteWriter {
    ByteWriter::builder()
        .max_buffered_bytes(n)
        .chunk_overhead(0)
        .on_full(p)
        .build()
}

fn poll_with(s: &mut ByteStream, w: &Waker) -> Poll<Option<std::io::Result<Bytes>>> {
    Pin::new(s).poll_next(&mut Context::from_waker(w))
}

fn next_now(s: &mut ByteStream) -> Poll<Option<std::io::Result<Bytes>>> {
    let (w, _) = counting_waker();
    poll_with(s, &w)
}

fn chunk(s: &mut ByteStream) -> Bytes {
    match next_now(s) {
        Poll::Ready(Some(Ok(b))) => b,
        other => panic!("expected a chunk, got {other:?}"),
    }
}

fn drain(s: &mut ByteStream) {
    while let Poll::Ready(Some(Ok(_))) = next_now(s) {}
}

/// A waker whose `wake` panics (a hostile or buggy executor).
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("hostile waker");
    }
}

/// A chunk whose bytes are counted as live until the last `Bytes` handle
/// to it is dropped: the memory actually held, not the crate's ledger.
struct Tracked {
    data: Vec<u8>,
    live: Arc<AtomicUsize>,
}

impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.live.fetch_sub(self.data.len(), Ordering::SeqCst);
    }
}

fn tracked(len: usize, live: &Arc<AtomicUsize>) -> Bytes {
    live.fetch_add(len, Ordering::SeqCst);
    Bytes::from_owner(Tracked {
        data: vec![0xA5; len],
        live: Arc::clone(live),
    })
}

fn lost_of(e: &std::io::Error) -> u64 {
    e.get_ref()
        .and_then(|e| e.downcast_ref::<Disconnected>())
        .unwrap_or_else(|| panic!("not a Disconnected: {e:?}"))
        .lost_bytes()
}

// ---------------------------------------------------------------------
// 1. Chunks a stream has already handed out of its batch still count as
//    unread until its next lock.

/// Shows: `DisconnectSlowest` disconnects a stream that has received
/// every byte ever written (its error says it lost 0 bytes), because the
/// chunks it handed out of its batch are still charged to it. The chunk
/// that triggered the disconnect would have fit once they were reported.
#[test]
fn disconnect_slowest_kills_a_caught_up_stream_with_zero_loss() {
    let mut w = bounded(8, Policy::DisconnectSlowest);
    let mut s = w.stream();
    w.write_all(b"aaa").unwrap();
    w.write_all(b"bbb").unwrap();
    assert_eq!(chunk(&mut s), "aaa");
    assert_eq!(chunk(&mut s), "bbb"); // s has everything written so far
    w.write_all(b"ccccccc").unwrap(); // 7 bytes <= limit 8, s is caught up
    match next_now(&mut s) {
        Poll::Ready(Some(Ok(b))) => assert_eq!(b, "ccccccc"),
        Poll::Ready(Some(Err(e))) => panic!(
            "a stream with nothing unread was disconnected, lost_bytes = {}",
            lost_of(&e)
        ),
        other => panic!("{other:?}"),
    }
}

/// Shows: under `Block`, with every stream having received every chunk,
/// `buffered_bytes()` is still non-zero and a write that fits the limit is
/// refused (a blocking `write` would wait: a deadlock if the reader, having
/// everything, now waits for the writer). The doc: "Bytes held for streams
/// that have not read them yet"; the issue: blocks "until the slowest
/// stream has room".
#[test]
fn block_refuses_a_write_although_every_stream_has_read_everything() {
    let mut w = bounded(8, Policy::Block);
    let mut s = w.stream();
    assert!(w.try_write_bytes(Bytes::from_static(b"1234")).unwrap());
    assert!(w.try_write_bytes(Bytes::from_static(b"5678")).unwrap());
    assert_eq!(chunk(&mut s), "1234");
    assert_eq!(chunk(&mut s), "5678");
    assert_eq!(w.buffered_bytes(), 0, "no stream has anything unread");
    assert!(
        w.try_write_bytes(Bytes::from_static(b"abcdefgh")).unwrap(),
        "8 bytes fit an empty 8-byte buffer"
    );
}

// ---------------------------------------------------------------------
// 2. A write that disconnects the last stream stores its chunk anyway.

/// Shows: after `DisconnectSlowest` removes the only stream, the chunk
/// that caused it is pushed into the log with no reader (`rem = 0`, the
/// invariant "never 0 while the entry is in the log" broken): the writer
/// keeps memory for no stream, `buffered_bytes()` says so, and the
/// phantom byte later counts against a new stream, disconnecting it
/// although its own unread bytes are within the limit.
#[test]
fn disconnecting_the_last_stream_leaves_a_phantom_chunk_that_kills_the_next() {
    let mut w = bounded(4, Policy::DisconnectSlowest);
    let mut slow = w.stream();
    w.write_all(b"1234").unwrap();
    w.write_all(b"5").unwrap(); // disconnects `slow`
    assert!(matches!(next_now(&mut slow), Poll::Ready(Some(Err(_)))));
    assert_eq!(w.stream_count(), 0);
    let phantom = w.buffered_bytes();
    let mut next = w.stream();
    w.write_all(b"abc").unwrap();
    w.write_all(b"d").unwrap(); // `next` holds 3 unread + 1 = 4 <= 4
    let got = next_now(&mut next);
    assert!(
        phantom == 0 && matches!(&got, Poll::Ready(Some(Ok(b))) if b == "abc"),
        "no stream left, yet {phantom} bytes kept; then the new stream got {got:?}"
    );
}

// ---------------------------------------------------------------------
// 3. T::clone panic + DisconnectSlowest: the loss count is wrong.

static POISON_ARMED: AtomicBool = AtomicBool::new(false);

#[derive(Debug)]
struct Poisoned(u32);

impl Clone for Poisoned {
    fn clone(&self) -> Self {
        if self.0 == 4 && POISON_ARMED.swap(false, Ordering::SeqCst) {
            panic!("T::clone panics once on value 4");
        }
        Poisoned(self.0)
    }
}

fn typed_next(s: &mut TypedStream<Poisoned>) -> Poll<Option<std::io::Result<Poisoned>>> {
    let (w, _) = counting_waker();
    Pin::new(s).poll_next(&mut Context::from_waker(&w))
}

/// Shows: a `T::clone` panic during a read reports the previous batch to
/// the writer (`reported` moves) but leaves the stream's `unreported`
/// count as it was; a later disconnect subtracts those values twice:
/// `lost - unreported` underflows (debug: "attempt to subtract with
/// overflow" panic; release: lost_bytes ~ 2^64) instead of the values
/// the stream really lost. (As reviewed, the unreported batch made 5 go
/// over the limit; with every read reported at once it takes 7: the loss
/// is 4, 5 and 6.)
#[test]
fn typed_clone_panic_then_disconnect_miscounts_the_loss() {
    let mut w = TypedWriter::bounded(3, Policy::DisconnectSlowest);
    let mut s = w.stream();
    for i in 1..=3 {
        w.send(Poisoned(i)).unwrap();
    }
    for i in 1..=3 {
        assert!(matches!(typed_next(&mut s), Poll::Ready(Some(Ok(Poisoned(v)))) if v == i));
    }
    POISON_ARMED.store(true, Ordering::SeqCst);
    w.send(Poisoned(4)).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| typed_next(&mut s)));
    assert!(r.is_err(), "the clone of 4 panicked");
    // 1..=3 were read and reported: 4, 5, 6 fill the limit of 3.
    w.send(Poisoned(5)).unwrap();
    w.send(Poisoned(6)).unwrap();
    w.send(Poisoned(7)).unwrap(); // over the limit: `s` is disconnected
    let got = catch_unwind(AssertUnwindSafe(|| match typed_next(&mut s) {
        Poll::Ready(Some(Err(e))) => lost_of(&e),
        other => panic!("expected the disconnect, got {other:?}"),
    }));
    match got {
        Ok(lost) => assert_eq!(lost, 3, "exactly 4, 5 and 6 were lost"),
        Err(p) => panic!(
            "polling the disconnected stream panicked: {:?}",
            p.downcast_ref::<String>()
                .map(String::as_str)
                .or(p.downcast_ref::<&str>().copied())
        ),
    }
}

// ---------------------------------------------------------------------
// 4. A panicking waker.

/// Shows: one stream's waker panicking inside a write makes every stream
/// registered after it lose its wake-up for ever: `wake_all` drains the
/// wakers, the panic drops the rest un-woken, and their ids have left
/// `waiting`, so neither later writes nor the close wake them (a task
/// that trusts its waker hangs).
#[test]
fn a_panicking_waker_loses_the_other_streams_wake_ups_for_ever() {
    let mut w = ByteWriter::default();
    let mut bad = w.stream();
    let mut good = w.stream();
    let hostile = Waker::from(Arc::new(PanickingWaker));
    let (gw, gcount) = counting_waker();
    assert!(poll_with(&mut bad, &hostile).is_pending());
    assert!(poll_with(&mut good, &gw).is_pending());
    let r = catch_unwind(AssertUnwindSafe(|| w.write_all(b"x")));
    assert!(r.is_err(), "the hostile waker panicked inside write");
    let _ = w.write_all(b"y");
    w.close();
    assert!(
        gcount.count() >= 1,
        "the good stream was never woken (not by the write, the next write, nor the close)"
    );
}

/// Shows: a write whose waker panics has delivered its chunk to the
/// streams but `bytes_written()` does not count it (the `written += n`
/// after `core.write` is skipped by the unwind).
#[test]
fn a_panicking_waker_makes_bytes_written_miss_a_delivered_chunk() {
    let mut w = ByteWriter::default();
    let mut bad = w.stream();
    let hostile = Waker::from(Arc::new(PanickingWaker));
    assert!(poll_with(&mut bad, &hostile).is_pending());
    let _ = catch_unwind(AssertUnwindSafe(|| w.write_all(b"delivered")));
    assert_eq!(chunk(&mut bad), "delivered");
    assert_eq!(w.bytes_written(), 9, "the delivered chunk is not counted");
}

/// Shows: under `Block`, the async writer's waker panicking inside a
/// stream's read (the read that makes room wakes it) loses the chunk that
/// read had fetched: it was reported to the writer and freed, the stream
/// never handed it out, and the next poll returns the chunk after it. A
/// stream skips bytes silently.
#[cfg(feature = "tokio")]
#[test]
fn a_panicking_writer_waker_makes_a_stream_skip_a_chunk_silently() {
    use tokio::io::AsyncWrite;
    let mut w = bounded(2, Policy::Block);
    let mut s = w.stream();
    let hostile = Waker::from(Arc::new(PanickingWaker));
    let mut cx = Context::from_waker(&hostile);
    assert!(matches!(
        Pin::new(&mut w).poll_write(&mut cx, b"a"),
        Poll::Ready(Ok(1))
    ));
    assert!(matches!(
        Pin::new(&mut w).poll_write(&mut cx, b"b"),
        Poll::Ready(Ok(1))
    ));
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"c").is_pending());
    let r = catch_unwind(AssertUnwindSafe(|| next_now(&mut s)));
    assert!(r.is_err(), "waking the writer panicked inside the read");
    assert_eq!(chunk(&mut s), "a", "the stream must still get \"a\"");
}

// ---------------------------------------------------------------------
// 5. Memory held by disconnected streams is not counted.

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// Shows: with `max_buffered_bytes(1 MiB)`, `DisconnectSlowest`, 32 KiB
/// chunks and ONE stalled stream (it polled once, as a client blocked on
/// its socket does, so it took a batch), the chunks actually alive reach
/// 2 MiB: the disconnect removes the batch from the ledger but the
/// stalled stream still holds it. The issue: peak "under 2 MiB with one
/// stalled stream".
#[test]
fn one_stalled_stream_with_a_batch_holds_2x_the_limit_after_disconnect() {
    let live = Arc::new(AtomicUsize::new(0));
    let mut w = bounded(MIB, Policy::DisconnectSlowest);
    let mut stalled = w.stream();
    let mut healthy = w.stream();
    let mut peak = 0;
    let mut held = None;
    for round in 0..4 {
        for _ in 0..32 {
            w.write_bytes(tracked(32 * KIB, &live)).unwrap();
            peak = peak.max(live.load(Ordering::SeqCst));
            assert!(w.buffered_bytes() <= MIB);
        }
        if round == 0 {
            held = Some(next_now(&mut stalled)); // takes a batch, then stalls
        }
        drain(&mut healthy); // reads every 1 MiB: within the limit
    }
    drop(held);
    assert!(
        peak < 2 * MIB,
        "peak live chunk bytes {peak} (= {} MiB), limit 1 MiB",
        peak as f64 / MIB as f64
    );
}

/// Shows: the bound is not "exact" as the crate doc says ("bounds the
/// bytes held for the streams, exactly"): each disconnected stream that
/// has not been polled since keeps up to one batch alive outside the
/// ledger, so k such streams hold (k+1) x the limit while
/// `buffered_bytes()` never exceeds it.
#[test]
fn disconnected_streams_keep_their_batches_alive_outside_the_limit() {
    const MAX: usize = 32;
    let live = Arc::new(AtomicUsize::new(0));
    let mut w = bounded(MAX, Policy::DisconnectSlowest);
    let mut healthy = w.stream();
    let mut stalled = Vec::new();
    let mut worst = 0;
    for _ in 0..3 {
        let mut s = w.stream();
        for _ in 0..MAX {
            w.write_bytes(tracked(1, &live)).unwrap();
        }
        let _ = next_now(&mut s); // one batch taken, first chunk dropped
        stalled.push(s);
        drain(&mut healthy);
        worst = worst.max(live.load(Ordering::SeqCst));
    }
    for _ in 0..MAX {
        w.write_bytes(tracked(1, &live)).unwrap();
        assert!(w.buffered_bytes() <= MAX);
        worst = worst.max(live.load(Ordering::SeqCst));
    }
    assert!(
        worst <= MAX,
        "live chunk bytes {worst} with a limit of {MAX}"
    );
}

// ---------------------------------------------------------------------
// 6. "One allocation per write".

/// Shows: `std::io::Write::write` costs two allocations per write, not
/// one: `Bytes::copy_from_slice` makes a promotable `Vec`-backed `Bytes`,
/// and the first clone for a stream allocates its shared header.
/// Counted by a per-thread allocation counter, after a warm-up that grows
/// every queue. Now asserts the documented two (lib.rs).
#[test]
fn a_write_read_by_streams_costs_two_allocations_not_one() {
    let mut w = ByteWriter::default();
    let mut a = w.stream();
    let mut b = w.stream();
    let buf = [7u8; 64];
    for _ in 0..200 {
        w.write_all(&buf).unwrap();
    }
    drain(&mut a);
    drain(&mut b);
    // One waker for every poll: the test itself allocates nothing.
    let (waker, _) = counting_waker();
    let n = 500;
    let before = allocs();
    for _ in 0..n {
        w.write_all(&buf).unwrap();
        for s in [&mut a, &mut b] {
            while let Poll::Ready(Some(Ok(_))) = poll_with(s, &waker) {}
        }
    }
    let per_write = (allocs() - before) as f64 / n as f64;
    // The documented cost (lib.rs): the copy, and `bytes`' shared header
    // at the first clone; each further stream costs a reference count.
    assert!(
        per_write <= 2.05,
        "{per_write:.2} allocations per write (documented: two)"
    );
}

// ---------------------------------------------------------------------
// 7. "The writer's cost per write does not grow with the number of
//    streams".

/// Shows: with every stream waiting (the normal state of fast readers),
/// one write runs one waker per stream on the writer's thread: its cost
/// is linear in the streams (64 wakes for 64 streams), against the
/// issue's "does not grow with the number of streams" and "flat within
/// 1.5x from 1 to 64 streams". Now asserts the documented behaviour
/// (lib.rs, Costs): one wake per waiting stream, none lost.
#[test]
fn one_write_wakes_every_stream_on_the_writer_thread() {
    let mut w = ByteWriter::default();
    let (waker, count) = counting_waker();
    let mut streams: Vec<_> = (0..64).map(|_| w.stream()).collect();
    for s in &mut streams {
        assert!(poll_with(s, &waker).is_pending());
    }
    w.write_all(b"x").unwrap();
    // The documented behaviour (lib.rs, Costs): the writer wakes every
    // waiting stream itself, each exactly once, none lost.
    assert_eq!(count.count(), 64, "one wake per waiting stream");
    for s in &mut streams {
        assert_eq!(chunk(s), "x");
    }
}

// ---------------------------------------------------------------------
// 8. Threads: the consequence of (1) under `Block`, bounded in time.

/// Shows: a request/response pair deadlocks under `Block`. The reader has
/// received every chunk written and waits for the writer's next one; the
/// writer's next write (it fits the limit once the reader's reads are
/// counted) blocks for ever, because the chunks the reader handed out of
/// its batch are charged to it until it polls again, and it polls again
/// only after the write. Fails by timeout (the blocked writer thread is
/// parked on the condition variable and leaked; nothing spins).
#[test]
fn block_deadlocks_a_reader_that_has_everything_and_waits_for_the_writer() {
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;
    let mut w = bounded(8, Policy::Block);
    let mut s = w.stream();
    w.write_all(b"1234").unwrap();
    w.write_all(b"5678").unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        // Reads both chunks (all there is), then waits for the third.
        let a = futures::executor::block_on(futures::StreamExt::next(&mut s));
        let b = futures::executor::block_on(futures::StreamExt::next(&mut s));
        (a.unwrap().unwrap(), b.unwrap().unwrap(), s)
    });
    let (a, b, mut s) = reader.join().unwrap();
    assert_eq!((&a[..], &b[..]), (&b"1234"[..], &b"5678"[..]));
    // The reader now holds everything written; the writer sends the
    // reply it waits for: 8 bytes, the limit, nothing unread anywhere.
    thread::spawn(move || {
        w.write_all(b"reply!!!").unwrap();
        let _ = done_tx.send(());
        drop(w);
    });
    let r = done_rx.recv_timeout(Duration::from_secs(2));
    assert!(
        r.is_ok(),
        "the writer is still blocked 2 s after the only stream read everything"
    );
    assert_eq!(chunk(&mut s), "reply!!!");
}

// ---------------------------------------------------------------------
// 9. A value's Drop runs under the writer's lock.

/// Holds a stream of the writer its chunk was written to (a chunk that
/// carries a subscription: e.g. a "join" message handing out a stream).
struct CarriesStream {
    data: [u8; 4],
    stream: std::sync::Mutex<Option<ByteStream>>,
}

impl AsRef<[u8]> for CarriesStream {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

/// Shows: chunks (and typed values) are dropped while the writer's mutex
/// is held (`Inner::trim` pops and drops entries inside `read`,
/// `unsubscribe` and the disconnect loop), unlike the wakers the crate
/// takes care to wake and drop after the lock. A chunk whose owner's drop
/// drops a stream of the same writer re-locks the mutex on the same
/// thread: a self-deadlock (std's mutex on Linux). Fails by timeout.
#[test]
fn dropping_the_last_chunk_handle_under_the_lock_can_self_deadlock() {
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut w = ByteWriter::default();
        let first = w.stream();
        let owner = Arc::new(CarriesStream {
            data: *b"join",
            stream: std::sync::Mutex::new(None),
        });
        struct Shared(Arc<CarriesStream>);
        impl AsRef<[u8]> for Shared {
            fn as_ref(&self) -> &[u8] {
                &self.0.data
            }
        }
        w.write_bytes(Bytes::from_owner(Shared(Arc::clone(&owner))))
            .unwrap();
        // A stream made after the write: it does not need the chunk.
        *owner.stream.lock().unwrap() = Some(w.stream());
        drop(owner); // the log's handle is now the last one
        drop(first); // unsubscribe -> trim drops the chunk under the lock
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(2)).is_ok(),
        "dropping a stream hung: the chunk's owner re-entered the writer under its lock"
    );
}

// ---------------------------------------------------------------------
// 10. The loss count of a stream that went `Pending` before its
//     disconnect.

/// Shows: the common path gets the loss wrong. A stream hands out its
/// batch (`unreported` grows), polls again and finds nothing: that read
/// reports the batch to the writer (`reported = fetched`) but returns
/// `Pending` without zeroing `unreported`. Disconnected later, the stream
/// subtracts the already-reported batch a second time: `lost_bytes` is
/// short by the batch (here 4 instead of 8).
#[test]
fn disconnect_after_pending_understates_the_loss_by_the_last_batch() {
    let mut w = bounded(8, Policy::DisconnectSlowest);
    let mut s = w.stream();
    let mut fast = w.stream();
    for c in [&b"aa"[..], b"bb", b"cc"] {
        w.write_all(c).unwrap();
    }
    assert_eq!(chunk(&mut s), "aa");
    assert_eq!(chunk(&mut s), "bb");
    assert_eq!(chunk(&mut s), "cc");
    assert!(next_now(&mut s).is_pending()); // caught up, waits
    drain(&mut fast);
    w.write_all(b"1234").unwrap();
    w.write_all(b"5678").unwrap();
    drain(&mut fast);
    w.write_all(b"9").unwrap(); // over the limit: `s` loses 1234 and 5678
    match next_now(&mut s) {
        Poll::Ready(Some(Err(e))) => assert_eq!(lost_of(&e), 8, "1234 + 5678 were lost"),
        other => panic!("expected the disconnect, got {other:?}"),
    }
}

/// Shows: the same with a bigger last batch than the loss: `lost -
/// unreported` underflows, so polling the stream panics in a debug build
/// ("attempt to subtract with overflow", src/stream.rs) and reports
/// ~2^64 lost bytes in a release build.
#[test]
fn disconnect_after_pending_underflows_the_loss() {
    let mut w = bounded(64, Policy::DisconnectSlowest);
    let mut s = w.stream();
    let big = [b'x'; 30];
    w.write_all(b"frst").unwrap(); // 4 + 30 + 30 = 64: at the limit
    w.write_all(&big).unwrap();
    w.write_all(&big).unwrap();
    for _ in 0..3 {
        chunk(&mut s);
    }
    assert!(next_now(&mut s).is_pending()); // reports the 60-byte batch
    w.write_all(b"lost").unwrap();
    w.write_all(&[b'y'; 61]).unwrap(); // 4 + 61 > 64: `s` loses "lost"
    let got = catch_unwind(AssertUnwindSafe(|| match next_now(&mut s) {
        Poll::Ready(Some(Err(e))) => lost_of(&e),
        other => panic!("expected the disconnect, got {other:?}"),
    }));
    match got {
        Ok(lost) => assert_eq!(lost, 4),
        Err(p) => panic!(
            "poll_next panicked: {:?}",
            p.downcast_ref::<String>()
                .map(String::as_str)
                .or(p.downcast_ref::<&str>().copied())
        ),
    }
}

/// Shows: the same under real threads (a writer and two reader threads,
/// blocking, none spinning; bounded by timeouts): a disconnected reader's
/// `lost_bytes` matches no write at which a stream was disconnected. For
/// each disconnect the test knows the write `k` that caused it (the
/// writer watches `stream_count()` after each write), so the exact loss
/// is the sizes of chunks `next .. k` (`next` = chunks the reader got).
#[test]
fn threaded_disconnect_loss_is_not_exact() {
    use futures::StreamExt;
    use futures::executor::block_on;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    fn size(seq: u64) -> usize {
        8 + (seq % 24) as usize
    }
    fn read_all(mut s: ByteStream, pause_every: u64) -> (u64, Option<u64>) {
        let mut next = 0u64;
        while let Some(item) = block_on(s.next()) {
            match item {
                Ok(c) if c.is_empty() => return (next, None),
                Ok(c) => {
                    let seq = u64::from_le_bytes(c[..8].try_into().unwrap());
                    assert_eq!(seq, next, "a chunk skipped or reordered");
                    assert_eq!(c.len(), size(seq), "a boundary moved");
                    next += 1;
                    if pause_every > 0 && next.is_multiple_of(pause_every) {
                        thread::sleep(Duration::from_micros(50));
                    }
                }
                Err(e) => return (next, Some(lost_of(&e))),
            }
        }
        panic!("ended without the close signal or an error")
    }

    // Miri runs one small round (10 x 20 000 writes would take hours).
    let (rounds, n) = if cfg!(miri) {
        (1, 300u64)
    } else {
        (10, 20_000u64)
    };
    let mut bad = Vec::new();
    for round in 0..rounds {
        let mut w = bounded(2048, Policy::DisconnectSlowest);
        let (tx, rx) = mpsc::channel();
        let readers: Vec<_> = [0u64, 7]
            .into_iter()
            .map(|pause| {
                let s = w.stream();
                let tx = tx.clone();
                thread::spawn(move || {
                    let r = read_all(s, pause);
                    let _ = tx.send(());
                    r
                })
            })
            .collect();
        let mut disconnects = Vec::new();
        let mut count = 2;
        for seq in 0..n {
            let mut c = vec![0u8; size(seq)];
            c[..8].copy_from_slice(&seq.to_le_bytes());
            w.write_all(&c).unwrap();
            let now = w.stream_count();
            if now < count {
                disconnects.push(seq);
                count = now;
            }
        }
        w.close();
        for _ in 0..2 {
            rx.recv_timeout(Duration::from_secs(30))
                .expect("a reader hung");
        }
        for r in readers {
            let (next, lost) = r.join().unwrap();
            if let Some(lost) = lost {
                let exact = disconnects
                    .iter()
                    .any(|&k| k >= next && (next..k).map(|i| size(i) as u64).sum::<u64>() == lost);
                if !exact {
                    bad.push(format!(
                        "round {round}: read {next} chunks, told lost {lost}, disconnects at writes {disconnects:?}"
                    ));
                }
            } else {
                assert_eq!(next, n);
            }
        }
    }
    assert!(bad.is_empty(), "inexact losses:\n{}", bad.join("\n"));
}

// ---------------------------------------------------------------------
// 11. T::clone panic under `Block`: a lost wake-up.

static POISON_B_ARMED: AtomicBool = AtomicBool::new(false);

#[derive(Debug)]
struct PoisonedB(u32);

impl Clone for PoisonedB {
    fn clone(&self) -> Self {
        if self.0 == 3 && POISON_B_ARMED.swap(false, Ordering::SeqCst) {
            panic!("T::clone panics once on value 3");
        }
        PoisonedB(self.0)
    }
}

/// Shows: under `Block`, a read whose `T::clone` panics has already
/// reported the stream's previous batch (their `rem` reaches 0) but
/// unwinds before `room_made`: the entries are not trimmed and the
/// blocked writer is not woken, although the room it waits for exists.
/// A stream kept after the caught panic and not polled again (it waits
/// for the writer) leaves the writer parked for ever. Fails by timeout.
#[test]
fn typed_clone_panic_under_block_loses_the_writer_wake_up() {
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;
    let mut w = TypedWriter::bounded(2, Policy::Block);
    let mut s = w.stream();
    w.send(PoisonedB(1)).unwrap();
    w.send(PoisonedB(2)).unwrap();
    let (waker, _) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        Pin::new(&mut s).poll_next(&mut cx),
        Poll::Ready(Some(Ok(PoisonedB(1))))
    ));
    assert!(matches!(
        Pin::new(&mut s).poll_next(&mut cx),
        Poll::Ready(Some(Ok(PoisonedB(2))))
    ));
    POISON_B_ARMED.store(true, Ordering::SeqCst);
    w.send(PoisonedB(3)).unwrap(); // buffered: 2 (unreported) + 3 = at the limit
    let (tx, rx) = mpsc::channel();
    let writer = thread::spawn(move || {
        w.send(PoisonedB(4)).unwrap(); // waits for room
        let _ = tx.send(());
        w
    });
    thread::sleep(Duration::from_millis(50)); // the writer is parked by now
    let r = catch_unwind(AssertUnwindSafe(|| Pin::new(&mut s).poll_next(&mut cx)));
    assert!(r.is_err(), "the clone of 3 panicked");
    // Value 2 is now reported and unneeded: one slot is free.
    let woke = rx.recv_timeout(Duration::from_secs(2));
    if woke.is_ok() {
        drop(writer.join());
    }
    assert!(
        woke.is_ok(),
        "the writer stays parked although value 2's slot is free"
    );
    drop(s);
}
