//! Hostile loom models (issue 12 review): each FAILS on the code as
//! reviewed. Each model sets its own preemption bound
//! (`LOOM_MAX_PREEMPTIONS` overrides it).
#![cfg(ring_loom)]

use std::io::Write;

use bytes::Bytes;
use futures::StreamExt;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use stream_bytes::{ByteWriter, CHUNK_OVERHEAD, Disconnected, Policy};

/// A writer whose limit holds one 1-byte chunk (its length plus the
/// per-chunk charge), doing `policy` when full.
fn one_chunk(policy: Policy) -> ByteWriter {
    ByteWriter::builder()
        .max_buffered_bytes(1 + CHUNK_OVERHEAD)
        .on_full(policy)
        .build()
}

fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

/// Shows: `DisconnectSlowest` at its limit against a reader thread: in
/// the interleavings where the reader hands out its batch, polls once more
/// (`Pending`: that read reports the batch) and is then disconnected, its
/// `lost_bytes` subtracts the already-reported batch again (short, or an
/// underflow). The writer knows which write disconnected the stream
/// (`stream_count()` drops to 0 after it); 1-byte chunks, so the exact
/// loss is that write's index minus the chunks the reader got.
#[test]
fn disconnect_loss_is_exact_against_a_reading_thread() {
    model(2, || {
        let mut w = ByteWriter::builder()
            .max_buffered_bytes(2 * (1 + CHUNK_OVERHEAD))
            .on_full(Policy::DisconnectSlowest)
            .build();
        let mut s = w.stream();
        let reader = thread::spawn(move || {
            let mut got = 0u64;
            while let Some(item) = block_on(s.next()) {
                match item {
                    Ok(c) if c.is_empty() => return (got, None),
                    Ok(c) => {
                        assert_eq!(c[0], b'a' + got as u8, "skipped or reordered");
                        got += 1;
                    }
                    Err(e) => {
                        let d = *e.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
                        return (got, Some(d.lost_bytes()));
                    }
                }
            }
            panic!("no close signal, no error")
        });
        let mut disconnected_at = None;
        for (k, c) in (b'a'..=b'e').enumerate() {
            w.write_all(&[c]).unwrap();
            if disconnected_at.is_none() && w.stream_count() == 0 {
                disconnected_at = Some(k as u64);
            }
        }
        w.close();
        let (got, lost) = reader.join().unwrap();
        match (lost, disconnected_at) {
            (None, None) => assert_eq!(got, 5),
            (Some(lost), Some(k)) => assert_eq!(
                lost,
                k - got,
                "disconnected by write {k} after reading {got} chunks"
            ),
            other => panic!("inconsistent: {other:?}"),
        }
    });
}

/// Shows: `DisconnectSlowest` chooses the slowest stream from positions
/// read before it takes that stream's lock; a stream that hands out its
/// last chunk in between was disconnected anyway, having lost nothing
/// (`lost_bytes() == 0`, then the end: every later chunk missed). With the
/// per-chunk charge a limit of one chunk makes that window one hand-out
/// wide (the real-thread stress test hit it under Miri). The writer must
/// re-check the stream's position under its lock and spare it.
#[test]
fn disconnect_spares_a_stream_that_caught_up_before_its_lock() {
    model(2, || {
        let mut w = one_chunk(Policy::DisconnectSlowest);
        let mut s = w.stream();
        w.write_all(b"a").unwrap();
        let reader = thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(item) = block_on(s.next()) {
                match item {
                    Ok(c) if c.is_empty() => break,
                    Ok(c) => got.push(Ok(c[0])),
                    Err(e) => {
                        let d = *e.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
                        got.push(Err(d.lost_bytes()));
                        break;
                    }
                }
            }
            got
        });
        w.write_all(b"b").unwrap();
        w.close();
        let got = reader.join().unwrap();
        // Disconnected before handing "a" out (it lost "a"), or "a" was
        // handed out first and the stream was not over the limit.
        assert!(got == [Err(1)] || got == [Ok(b'a'), Ok(b'b')], "{got:?}");
    });
}

/// A chunk whose drop counts down `live` (a loom atomic): the memory the
/// crate really holds, not its ledger.
struct Counted(Arc<AtomicUsize>);

impl AsRef<[u8]> for Counted {
    fn as_ref(&self) -> &[u8] {
        b"a"
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Shows (second review): a stream dropped with the only handle to a
/// chunk lets a `Block` writer blocked in `write_all` go on before that
/// chunk is freed (the writer was notified under the lock, the chunk
/// dropped after it), so the writer's new chunk and the dropped stream's
/// old one are alive together: over the limit. With the fix the leaving
/// stream's chunks stay charged until they are freed.
#[test]
fn a_block_writer_is_not_admitted_before_a_dropped_streams_chunks_are_freed() {
    model(2, || {
        let live = Arc::new(AtomicUsize::new(1));
        let mut w = one_chunk(Policy::Block);
        let mut fast = w.stream();
        let stuck = w.stream();
        w.write_bytes(Bytes::from_owner(Counted(Arc::clone(&live))))
            .unwrap();
        drop(block_on(fast.next()).unwrap().unwrap()); // only stuck holds it now
        let writer = {
            let live = Arc::clone(&live);
            thread::spawn(move || {
                w.write_all(b"b").unwrap(); // waits: stuck holds the limit
                assert_eq!(
                    live.load(Ordering::SeqCst),
                    0,
                    "admitted while the dropped stream's chunk was alive"
                );
                w
            })
        };
        drop(stuck);
        let mut w = writer.join().unwrap();
        w.close();
        let mut got = Vec::new();
        while let Some(c) = block_on(fast.next()) {
            got.push(c.unwrap());
        }
        assert_eq!(got, ["b", ""]);
    });
}
