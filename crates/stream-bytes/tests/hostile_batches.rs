//! Hostile review of the batched reads and the per-chunk charge (issue 12,
//! second round): a stream dropped with chunks only it held (in its batch
//! or in the log) against a waiting `Block` writer, the stall report with
//! chunks sitting in a batch, the limit's edge values, and the error
//! contents of typed streams. Poll-level except where a blocked thread
//! writer is the point (bounded waits, at most two threads, none spinning).

use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use seqcast_test_support::counting_waker;
use stream_bytes::{ByteStream, ByteWriter, Disconnected, Policy, TypedStream, TypedWriter};

/// A writer whose limit counts payload bytes only (`chunk_overhead(0)`),
/// so the tests place the limit chunk by chunk.
fn bounded(n: usize, p: Policy) -> ByteWriter {
    ByteWriter::builder()
        .max_buffered_bytes(n)
        .chunk_overhead(0)
        .on_full(p)
        .build()
}

fn next_now(s: &mut ByteStream) -> Poll<Option<std::io::Result<Bytes>>> {
    let (w, _) = counting_waker();
    Pin::new(s).poll_next(&mut Context::from_waker(&w))
}

fn typed_next<T: Clone + Send>(s: &mut TypedStream<T>) -> Poll<Option<std::io::Result<T>>> {
    let (w, _) = counting_waker();
    Pin::new(s).poll_next(&mut Context::from_waker(&w))
}

fn chunk(s: &mut ByteStream) -> Bytes {
    match next_now(s) {
        Poll::Ready(Some(Ok(b))) => b,
        other => panic!("expected a chunk, got {other:?}"),
    }
}

fn drain(s: &mut ByteStream) -> usize {
    let mut n = 0;
    while let Poll::Ready(Some(Ok(_))) = next_now(s) {
        n += 1;
    }
    n
}

fn disconnected(e: &std::io::Error) -> Disconnected {
    *e.get_ref()
        .and_then(|e| e.downcast_ref::<Disconnected>())
        .unwrap_or_else(|| panic!("not a Disconnected: {e:?}"))
}

type Hook = Box<dyn FnOnce() + Send>;

/// A chunk that runs `hook` when its memory is freed (its last `Bytes`
/// handle dropped), before its bytes count as gone from `live`.
struct Hooked {
    data: Vec<u8>,
    live: Arc<AtomicUsize>,
    hook: Option<Hook>,
}

impl AsRef<[u8]> for Hooked {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Hooked {
    fn drop(&mut self) {
        if let Some(h) = self.hook.take() {
            h();
        }
        self.live.fetch_sub(self.data.len(), Ordering::SeqCst);
    }
}

fn hooked(len: usize, live: &Arc<AtomicUsize>, hook: Option<Hook>) -> Bytes {
    live.fetch_add(len, Ordering::SeqCst);
    Bytes::from_owner(Hooked {
        data: vec![0x5A; len],
        live: Arc::clone(live),
        hook,
    })
}

// ---------------------------------------------------------------------
// 1. A dropped stream's chunks are freed after the writer is told there
//    is room: for that moment the writer's new chunks and the dropped
//    stream's old ones are alive together (up to twice the limit).

/// Shows: a stream dropped with chunks in its batch (taken, not handed
/// out) wakes a pending `Block` task writer before those chunks are freed:
/// `Reader::drop` unsubscribes (which wakes the writer) and only then
/// drops its fields, the batch among them. The writer, woken, is admitted
/// against memory that is still held.
#[cfg(feature = "tokio")]
#[test]
fn a_dropped_streams_batch_is_freed_before_the_async_writer_is_woken() {
    use tokio::io::AsyncWrite;
    let live = Arc::new(AtomicUsize::new(0));
    let (waker, count) = counting_waker();
    let wakes_seen_by_the_batch = Arc::new(AtomicUsize::new(usize::MAX));
    let mut w = bounded(8, Policy::Block);
    let mut fast = w.stream();
    let mut stuck = w.stream();
    let seen = Arc::clone(&wakes_seen_by_the_batch);
    let count2 = Arc::clone(&count);
    w.write_bytes(hooked(4, &live, None)).unwrap();
    w.write_bytes(hooked(
        4,
        &live,
        Some(Box::new(move || {
            seen.store(count2.count(), Ordering::SeqCst)
        })),
    ))
    .unwrap();
    assert_eq!(drain(&mut fast), 2, "fast reads both and drops them");
    drop(chunk(&mut stuck)); // takes both into its batch, hands out the first
    assert_eq!(w.buffered_bytes(), 4, "the second waits in stuck's batch");
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        Pin::new(&mut w).poll_write(&mut cx, b"xxxx"),
        Poll::Ready(Ok(4))
    ));
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"y").is_pending());
    assert_eq!(count.count(), 0);
    assert_eq!(live.load(Ordering::SeqCst), 4, "the batch's chunk");
    drop(stuck);
    assert_eq!(live.load(Ordering::SeqCst), 0, "the batch was freed");
    assert_eq!(count.count(), 1, "the drop made room: the writer is woken");
    assert_eq!(
        wakes_seen_by_the_batch.load(Ordering::SeqCst),
        0,
        "the writer was woken while the dropped stream's batch was alive"
    );
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"y").is_ready());
}

/// Shows: a stream dropped with unread chunks that only it needed (still
/// in the log) lets a `Block` writer thread waiting in `write_all` go on
/// before those chunks are freed: the condition variable is notified
/// under the writer's mutex, and the chunks are dropped after it. The
/// freed chunk's drop hook waits (at most 500 ms) for the writer to
/// admit its chunk (over the limit with those still alive); with the fix
/// the writer stays blocked until the chunks are gone.
#[test]
fn a_dropped_streams_chunks_are_freed_before_a_blocked_writer_goes_on() {
    const LIMIT: usize = 16;
    let live = Arc::new(AtomicUsize::new(0));
    let admitted = Arc::new(AtomicUsize::new(0));
    // What the writer had admitted when the first freed chunk's drop ended
    // (the chunk it is writing is alive in its hands either way).
    let admitted_while_freeing = Arc::new(AtomicUsize::new(usize::MAX));
    let mut w = bounded(LIMIT, Policy::Block);
    let mut fast = w.stream();
    let stuck = w.stream();
    let hook: Hook = {
        let admitted = Arc::clone(&admitted);
        let seen = Arc::clone(&admitted_while_freeing);
        Box::new(move || {
            let start = Instant::now();
            while admitted.load(Ordering::SeqCst) < 1
                && start.elapsed() < Duration::from_millis(500)
            {
                thread::sleep(Duration::from_millis(1));
            }
            seen.store(admitted.load(Ordering::SeqCst), Ordering::SeqCst);
        })
    };
    w.write_bytes(hooked(4, &live, Some(hook))).unwrap();
    for _ in 0..3 {
        w.write_bytes(hooked(4, &live, None)).unwrap();
    }
    assert_eq!(drain(&mut fast), 4, "fast reads and drops all four");
    assert_eq!(live.load(Ordering::SeqCst), LIMIT, "stuck holds the limit");
    let writer = {
        let live = Arc::clone(&live);
        let admitted = Arc::clone(&admitted);
        thread::spawn(move || {
            // Waits for room: stuck holds the limit.
            w.write_bytes(hooked(4, &live, None)).unwrap();
            admitted.fetch_add(1, Ordering::SeqCst);
            w
        })
    };
    thread::sleep(Duration::from_millis(20));
    assert_eq!(admitted.load(Ordering::SeqCst), 0, "blocked by stuck");
    drop(stuck); // frees its four chunks: the hook runs in this drop
    let start = Instant::now();
    while admitted.load(Ordering::SeqCst) < 1 && start.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(admitted.load(Ordering::SeqCst), 1, "the drop made room");
    assert_eq!(drain(&mut fast), 1);
    let w = writer.join().unwrap();
    assert_eq!(w.bytes_written(), 20);
    assert_eq!(
        admitted_while_freeing.load(Ordering::SeqCst),
        0,
        "the writer admitted a chunk while the dropped stream's {LIMIT} bytes (the limit) were alive"
    );
}

/// A dropped stream that was not holding the writer back (another stream
/// at the same position holds the same chunks in its batch) does not wake
/// a pending `Block` writer: its log entries are popped and dropped, but
/// the chunks live on in the other stream's batch and the ledger did not
/// fall (spurious wake-ups are bugs too).
#[cfg(feature = "tokio")]
#[test]
fn dropping_a_stream_that_frees_no_room_does_not_wake_the_writer() {
    use tokio::io::AsyncWrite;
    let mut w = bounded(12, Policy::Block);
    let mut slow = w.stream();
    let mut other = w.stream();
    assert!(w.try_write_bytes(Bytes::from_static(b"0000")).unwrap());
    drop(chunk(&mut other)); // other has taken and read "0000"
    assert!(w.try_write_bytes(Bytes::from_static(b"1234")).unwrap());
    assert!(w.try_write_bytes(Bytes::from_static(b"5678")).unwrap());
    drop(chunk(&mut slow)); // takes all three, hands out "0000"
    assert_eq!(w.buffered_bytes(), 8, "both streams at the same offset");
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(
        Pin::new(&mut w)
            .poll_write(&mut cx, b"abcdefgh")
            .is_pending()
    );
    drop(other); // its log entries "1234", "5678" are popped; slow holds them
    assert_eq!(w.buffered_bytes(), 8);
    assert_eq!(count.count(), 0, "no room was made: no wake-up");
    drop(chunk(&mut slow)); // "1234" handed out: room
    assert_eq!(count.count(), 1);
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"abcdefgh").is_ready());
}

/// A chunk whose drop panics (a hostile `Bytes` owner), freed by a stream
/// drop: the panic reaches the dropping thread, but the stream has left
/// and a pending `Block` writer is still woken (before, the wake came
/// after the chunks' drop and was skipped by the unwind: a lost wake-up,
/// the task writer asleep for ever).
#[cfg(feature = "tokio")]
#[test]
fn a_panicking_chunk_drop_in_a_stream_drop_still_wakes_the_writer() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use tokio::io::AsyncWrite;
    let live = Arc::new(AtomicUsize::new(0));
    let mut w = bounded(4, Policy::Block);
    let mut fast = w.stream();
    let stuck = w.stream();
    let boom: Hook = Box::new(|| panic!("hostile chunk drop"));
    w.write_bytes(hooked(4, &live, Some(boom))).unwrap();
    assert_eq!(drain(&mut fast), 1); // only stuck's share is left, in the log
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"x").is_pending());
    let r = catch_unwind(AssertUnwindSafe(move || drop(stuck)));
    assert!(r.is_err(), "the chunk's panic reaches the dropping thread");
    assert_eq!(w.stream_count(), 1, "the stream left all the same");
    assert_eq!(count.count(), 1, "the writer was woken all the same");
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"x").is_ready());
}

/// A `DisconnectSlowest` write that disconnects a stream frees that
/// stream's chunks; one whose drop panics (a hostile `Bytes` owner)
/// unwinds out of the write. The chunk written was delivered all the
/// same: it must be counted in `bytes_written()`, and the streams waiting
/// for it woken (before: neither; the waiting stream slept until the next
/// write).
#[test]
fn a_panicking_chunk_freed_by_a_disconnect_costs_no_wake_up_and_no_count() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let live = Arc::new(AtomicUsize::new(0));
    let mut w = bounded(4, Policy::DisconnectSlowest);
    let mut fast = w.stream();
    let _slow = w.stream();
    let boom: Hook = Box::new(|| panic!("hostile chunk drop"));
    w.write_bytes(hooked(4, &live, Some(boom))).unwrap();
    assert_eq!(drain(&mut fast), 1); // only slow's share is left
    let (waker, count) = counting_waker();
    assert!(
        Pin::new(&mut fast)
            .poll_next(&mut Context::from_waker(&waker))
            .is_pending()
    );
    let r = catch_unwind(AssertUnwindSafe(|| {
        w.write_bytes(Bytes::from_static(b"next")).unwrap()
    }));
    assert!(r.is_err(), "the chunk's panic reaches the writer");
    assert_eq!(w.stream_count(), 1, "slow was disconnected");
    assert_eq!(w.bytes_written(), 8, "the delivered chunk is counted");
    assert_eq!(count.count(), 1, "the waiting stream was woken");
    assert_eq!(chunk(&mut fast), "next");
}

// ---------------------------------------------------------------------
// 2. The stall report with chunks sitting in a batch.

/// A stream that took a batch and handed out one chunk of it, then
/// stopped polling, is stuck: `stalled()` lists it once `idle` has passed
/// since that hand-out, counting the chunks in its batch as unread (taking
/// a batch is not reading it).
#[test]
fn a_stream_stuck_with_a_full_batch_is_reported_as_stalled() {
    let mut w = ByteWriter::default();
    let mut stuck = w.stream();
    let mut reading = w.stream();
    for _ in 0..40 {
        w.write_all(b"abcd").unwrap();
    }
    drop(chunk(&mut stuck)); // a batch of 32 taken, one handed out
    assert_eq!(drain(&mut reading), 40);
    assert!(
        w.stalled(Duration::from_secs(3600)).is_empty(),
        "it handed a chunk out just now"
    );
    thread::sleep(Duration::from_millis(40)); // the coarse clock ticks 1-10 ms
    let report = w.stalled(Duration::from_millis(20));
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].stream_id(), stuck.id());
    assert_eq!(
        report[0].unread_chunks(),
        39,
        "31 in its batch, 8 in the log"
    );
    assert_eq!(report[0].unread_bytes(), 39 * 4);
    assert!(report[0].idle() >= Duration::from_millis(20));
    // Reading one chunk of the batch is advancing: off the list.
    drop(chunk(&mut stuck));
    assert!(w.stalled(Duration::from_millis(20)).is_empty());
}

// ---------------------------------------------------------------------
// 3. The limit's edge values: never a hang, never silent loss.

/// `max_buffered_bytes(0)`: under `Block` one chunk at a time (accepted
/// when nothing is buffered, refused otherwise); under
/// `DisconnectSlowest` the second write disconnects a stream that has not
/// read the first, with the exact loss, and spares one that has.
#[test]
fn a_zero_limit_admits_one_chunk_at_a_time_and_loses_nothing_silently() {
    let mut w = ByteWriter::builder()
        .max_buffered_bytes(0)
        .on_full(Policy::Block)
        .build();
    let mut s = w.stream();
    assert!(w.try_write_bytes(Bytes::from_static(b"abc")).unwrap());
    assert!(!w.try_write_bytes(Bytes::from_static(b"d")).unwrap());
    assert_eq!(chunk(&mut s), "abc");
    assert!(w.try_write_bytes(Bytes::from_static(b"d")).unwrap());
    assert_eq!(chunk(&mut s), "d");
    assert_eq!(w.bytes_written(), 4);

    let mut w = ByteWriter::builder()
        .max_buffered_bytes(0)
        .on_full(Policy::DisconnectSlowest)
        .build();
    let mut slow = w.stream();
    let mut fast = w.stream();
    w.write_all(b"abc").unwrap();
    assert_eq!(chunk(&mut fast), "abc");
    w.write_all(b"de").unwrap();
    assert_eq!(w.stream_count(), 1, "slow had not read abc");
    match next_now(&mut slow) {
        Poll::Ready(Some(Err(e))) => {
            let d = disconnected(&e);
            assert_eq!((d.lost_bytes(), d.limit()), (3, 0));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(next_now(&mut slow), Poll::Ready(None)));
    assert_eq!(chunk(&mut fast), "de");
}

/// A chunk larger than the limit under `DisconnectSlowest`: accepted when
/// nothing is buffered; the next write disconnects each stream that has
/// not read it (each told it lost exactly that chunk), never a stream
/// that has.
#[test]
fn an_oversized_chunk_disconnects_only_the_streams_that_did_not_read_it() {
    let mut w = bounded(10, Policy::DisconnectSlowest);
    let mut a = w.stream();
    let mut b = w.stream();
    let mut c = w.stream();
    w.write_all(&[1; 100]).unwrap();
    assert_eq!(w.stream_count(), 3, "accepted: nothing was buffered");
    assert_eq!(chunk(&mut c).len(), 100);
    w.write_all(b"x").unwrap();
    assert_eq!(w.stream_count(), 1);
    for s in [&mut a, &mut b] {
        match next_now(s) {
            Poll::Ready(Some(Err(e))) => assert_eq!(disconnected(&e).lost_bytes(), 100),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(chunk(&mut c), "x");
    assert_eq!(w.bytes_written(), 101);
}

/// Many streams made at different times reading at different paces under
/// `DisconnectSlowest` (pseudo-random, seeded), writes of 1 to 40 bytes,
/// with and without the per-chunk charge: each disconnected stream's
/// bytes received plus `lost_bytes()` end exactly at the `bytes_written()`
/// of a write that disconnected streams (what was written before it, from
/// the stream's creation), and a stream never disconnected gets
/// everything written after its creation.
#[test]
fn received_plus_lost_is_exactly_what_was_written_before_the_disconnect() {
    struct S {
        s: ByteStream,
        created_at: u64,
        got: u64,
        pace: u64,
        done: bool,
    }
    for overhead in [0, stream_bytes::CHUNK_OVERHEAD] {
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut rand = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut w = ByteWriter::builder()
            .max_buffered_bytes(300 + 4 * overhead)
            .chunk_overhead(overhead)
            .on_full(Policy::DisconnectSlowest)
            .build();
        let mut streams: Vec<S> = Vec::new();
        let mut boundaries = std::collections::HashSet::new();
        let mut cut = 0;
        // Small under Miri (`cargo xtask miri` runs every test).
        let (writes, every) = if cfg!(miri) { (100, 10) } else { (3000, 100) };
        for i in 0..writes {
            if i % every == 0 {
                streams.push(S {
                    s: w.stream(),
                    created_at: w.bytes_written(),
                    got: 0,
                    pace: 1 + rand(8),
                    done: false,
                });
            }
            let before = (w.stream_count(), w.bytes_written());
            let len = 1 + rand(40) as usize;
            w.write_all(&vec![7; len]).unwrap();
            if w.stream_count() < before.0 {
                boundaries.insert(before.1);
            }
            for st in streams.iter_mut().filter(|st| !st.done) {
                if rand(st.pace) != 0 {
                    continue;
                }
                for _ in 0..rand(6) {
                    match next_now(&mut st.s) {
                        Poll::Ready(Some(Ok(c))) => st.got += c.len() as u64,
                        Poll::Ready(Some(Err(e))) => {
                            let end = st.created_at + st.got + disconnected(&e).lost_bytes();
                            assert!(
                                boundaries.contains(&end),
                                "received {} + lost, from {}, ends at {end}: no disconnecting write there",
                                st.got,
                                st.created_at
                            );
                            st.done = true;
                            cut += 1;
                            break;
                        }
                        Poll::Pending => break,
                        Poll::Ready(None) => unreachable!("not closed yet"),
                    }
                }
            }
        }
        w.close();
        for st in streams.iter_mut().filter(|st| !st.done) {
            loop {
                match next_now(&mut st.s) {
                    Poll::Ready(Some(Ok(c))) if c.is_empty() => break,
                    Poll::Ready(Some(Ok(c))) => st.got += c.len() as u64,
                    Poll::Ready(Some(Err(e))) => {
                        let end = st.created_at + st.got + disconnected(&e).lost_bytes();
                        assert!(boundaries.contains(&end));
                        cut += 1;
                        st.done = true;
                        break;
                    }
                    other => panic!("{other:?}"),
                }
            }
            if !st.done {
                assert_eq!(st.created_at + st.got, w.bytes_written(), "everything");
            }
        }
        let enough = if cfg!(miri) { 2 } else { 5 };
        assert!(cut >= enough, "the test exercises disconnects: {cut}");
    }
}

/// `Block` with a stalled stream that took a batch (polled once, as a
/// client blocked on its socket does) and a healthy one: the chunk bytes
/// really alive (tracked by their owners' drops, not the ledger) never
/// exceed the limit, batch included, and the writer refuses at the limit.
#[test]
fn block_bounds_live_memory_with_a_batch_taken_and_not_handed_out() {
    const LIMIT: usize = 64 * 32;
    let live = Arc::new(AtomicUsize::new(0));
    let mut w = bounded(LIMIT, Policy::Block);
    let mut stalled = w.stream();
    let mut healthy = w.stream();
    let mut worst = 0;
    let mut held = None;
    let mut accepted = 0;
    for round in 0..200 {
        if !w.try_write_bytes(hooked(32, &live, None)).unwrap() {
            break;
        }
        accepted += 1;
        if round == 40 {
            held = Some(chunk(&mut stalled)); // takes a batch of 32, then stalls
        }
        drain(&mut healthy);
        // The chunk `held` by the test is the user's, not the crate's.
        let ours = live.load(Ordering::SeqCst) - held.as_ref().map_or(0, Bytes::len);
        worst = worst.max(ours);
    }
    assert!(worst <= LIMIT, "{worst} live chunk bytes, limit {LIMIT}");
    assert_eq!(
        accepted,
        LIMIT / 32 + 1,
        "refused at the limit (the first is handed out)"
    );
    drop(held);
}

// ---------------------------------------------------------------------
// 4. Typed streams under the same policies.

/// A typed stream disconnected while values wait in its batch loses
/// exactly the values it never got, and its error says so in values (a
/// typed writer's limit and loss count values, not bytes).
#[test]
fn a_typed_stream_disconnected_with_a_batch_reports_lost_values() {
    let mut w = TypedWriter::bounded(4, Policy::DisconnectSlowest);
    let mut slow = w.stream();
    let mut fast = w.stream();
    for i in 0..4u32 {
        w.send(i).unwrap();
    }
    assert!(matches!(typed_next(&mut slow), Poll::Ready(Some(Ok(0)))));
    for i in 0..4 {
        assert!(matches!(typed_next(&mut fast), Poll::Ready(Some(Ok(v))) if v == i));
    }
    w.send(4).unwrap(); // 3 unread by slow + 1 fits
    w.send(5).unwrap(); // over: slow goes, 1, 2, 3 and 4 in its batch/log
    match typed_next(&mut slow) {
        Poll::Ready(Some(Err(e))) => {
            let d = disconnected(&e);
            assert_eq!((d.lost_bytes(), d.limit()), (4, 4));
            let text = e.to_string();
            assert!(
                text.contains("4 values") && !text.contains(" bytes"),
                "a typed stream's loss is in values: {text}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(typed_next(&mut slow), Poll::Ready(None)));
    for i in 4..6 {
        assert!(matches!(typed_next(&mut fast), Poll::Ready(Some(Ok(v))) if v == i));
    }
}

/// A typed stream dropped with values in its batch frees them (its
/// clones) and unblocks a `Block` writer thread.
#[test]
fn a_typed_stream_dropped_with_a_batch_frees_it_and_unblocks_the_writer() {
    #[derive(Clone)]
    struct Noisy(u32, Arc<Mutex<Vec<u32>>>);
    impl Drop for Noisy {
        fn drop(&mut self) {
            self.1.lock().unwrap().push(self.0);
        }
    }
    let drops = Arc::new(Mutex::new(Vec::new()));
    let mut w = TypedWriter::bounded(2, Policy::Block);
    let mut s = w.stream();
    let mut t = w.stream();
    w.send(Noisy(1, Arc::clone(&drops))).unwrap();
    w.send(Noisy(2, Arc::clone(&drops))).unwrap();
    for i in [1, 2] {
        assert!(matches!(typed_next(&mut t), Poll::Ready(Some(Ok(v))) if v.0 == i));
    }
    assert!(matches!(typed_next(&mut s), Poll::Ready(Some(Ok(v))) if v.0 == 1));
    drops.lock().unwrap().clear();
    let sent = Arc::new(AtomicUsize::new(0));
    let writer = {
        let sent = Arc::clone(&sent);
        let drops = Arc::clone(&drops);
        thread::spawn(move || {
            for i in [3, 4] {
                // 3 fits (s's 2 + 3), 4 waits for s.
                w.send(Noisy(i, Arc::clone(&drops))).unwrap();
                sent.fetch_add(1, Ordering::SeqCst);
            }
            w
        })
    };
    let start = Instant::now();
    while sent.load(Ordering::SeqCst) < 1 && start.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(20));
    assert_eq!(sent.load(Ordering::SeqCst), 1, "4 waits for s");
    drop(s);
    assert!(
        drops.lock().unwrap().contains(&2),
        "s's clone of 2, in its batch, freed with it"
    );
    let _w = writer.join().unwrap();
    assert_eq!(sent.load(Ordering::SeqCst), 2);
    for i in [3, 4] {
        assert!(matches!(typed_next(&mut t), Poll::Ready(Some(Ok(v))) if v.0 == i));
    }
}
