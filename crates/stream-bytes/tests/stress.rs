//! Real-thread stress: one writer thread and two reader threads (all
//! blocking, none spinning), every chunk checked by the sequence number it
//! carries; under each policy. Bounded in size (small under Miri) and in
//! time.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::executor::block_on;
use stream_bytes::{ByteStream, ByteWriter, CHUNK_OVERHEAD, Disconnected, Policy};

/// About a dozen chunks (8 to 31 bytes each) with their per-chunk charge.
const LIMIT: usize = 12 * (20 + CHUNK_OVERHEAD);

// Small under Miri: `cargo xtask miri` reruns this binary over 32 seeds.
// Smaller off x86: `cargo xtask cross` runs aarch64 under qemu user
// emulation, about 10x slower, so the same 60 s bound keeps the same
// margin with a tenth of the chunks (i686 runs natively: full size).
const N: u64 = if cfg!(miri) {
    64
} else if cfg!(any(target_arch = "x86_64", target_arch = "x86")) {
    200_000
} else {
    20_000
};

/// Reads until the end; checks order; returns (chunks read, bytes lost).
fn read_all(mut s: ByteStream, slow: bool) -> (u64, u64) {
    let mut next = 0u64;
    while let Some(item) = block_on(s.next()) {
        match item {
            Ok(c) if c.is_empty() => break,
            Ok(c) => {
                let seq = u64::from_le_bytes(c[..8].try_into().unwrap());
                assert_eq!(seq, next, "a chunk out of order or skipped");
                assert_eq!(c.len(), 8 + (seq % 24) as usize, "a chunk's boundary moved");
                next += 1;
                if slow && next.is_multiple_of(64) {
                    thread::yield_now();
                }
            }
            Err(e) => {
                let d = e.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
                assert!(block_on(s.next()).is_none());
                return (next, d.lost_bytes());
            }
        }
    }
    (next, 0)
}

fn run(policy: Policy, max: usize) -> Vec<(u64, u64)> {
    let _turn = seqcast_test_support::one_at_a_time();
    let start = Instant::now();
    let mut w = ByteWriter::builder()
        .max_buffered_bytes(max)
        .on_full(policy)
        .build();
    let readers: Vec<_> = (0..2)
        .map(|i| {
            let s = w.stream();
            thread::spawn(move || read_all(s, i == 1))
        })
        .collect();
    let mut buf = Vec::new();
    for seq in 0..N {
        buf.clear();
        buf.extend_from_slice(&seq.to_le_bytes());
        buf.resize(8 + (seq % 24) as usize, 0xAB);
        w.write_all(&buf).unwrap();
        assert!(policy == Policy::Unbounded || w.buffered_bytes() <= max);
    }
    w.close();
    let out = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(start.elapsed() < Duration::from_secs(60), "bounded in time");
    out
}

#[test]
fn unbounded_every_reader_gets_every_chunk_in_order() {
    for (read, lost) in run(Policy::Unbounded, usize::MAX) {
        assert_eq!((read, lost), (N, 0));
    }
}

#[test]
fn block_every_reader_gets_every_chunk_and_memory_stays_bounded() {
    for (read, lost) in run(Policy::Block, LIMIT) {
        assert_eq!((read, lost), (N, 0));
    }
}

#[test]
fn disconnect_slowest_loses_nothing_silently() {
    // A reader either read every chunk, or read a prefix and was told how
    // many bytes it lost: the prefix plus the loss never exceeds what was
    // written, and a reader that was not disconnected read everything.
    for (read, lost) in run(Policy::DisconnectSlowest, LIMIT) {
        if lost == 0 {
            assert_eq!(read, N);
        } else {
            assert!(read < N);
        }
    }
}

/// The writer's `stalled()` against a reader thread taking batches and
/// handing them out (the report reads the stream's counters without its
/// lock): every report stays within what was written (no underflow, no
/// out-of-range log index), and once the reader has read everything
/// nothing is reported.
#[test]
fn stalled_reports_stay_consistent_against_a_reading_thread() {
    let _turn = seqcast_test_support::one_at_a_time();
    let start = Instant::now();
    let n = N / 10;
    let mut w = ByteWriter::builder()
        .max_buffered_bytes(LIMIT)
        .on_full(Policy::Block)
        .build();
    let s = w.stream();
    let id = s.id();
    let reader = thread::spawn(move || read_all(s, true));
    let (mut buf, mut bytes) = (Vec::new(), 0u64);
    for seq in 0..n {
        buf.clear();
        buf.extend_from_slice(&seq.to_le_bytes());
        buf.resize(8 + (seq % 24) as usize, 0xAB);
        w.write_all(&buf).unwrap();
        bytes += buf.len() as u64;
        for st in w.stalled(Duration::ZERO) {
            assert_eq!(st.stream_id(), id);
            assert!(
                st.unread_chunks() >= 1 && st.unread_chunks() <= seq + 1,
                "{st:?}"
            );
            assert!(st.unread_bytes() <= bytes, "{st:?}");
            assert!(st.unread_bytes() as usize <= LIMIT, "{st:?}");
        }
    }
    // The reader sees the close only after every chunk: then it is gone.
    w.close();
    assert_eq!(reader.join().unwrap(), (n, 0));
    assert!(w.stalled(Duration::ZERO).is_empty());
    assert!(start.elapsed() < Duration::from_secs(60), "bounded in time");
}

/// A `Block` writer thread against a reader thread and a second stream
/// that reads part of the feed (taking batches) and is dropped with a
/// batch in hand, over and over: the writer never sleeps for ever (each
/// drop or read that makes room wakes it), the reader gets every chunk in
/// order, and the limit holds.
#[test]
fn block_writer_against_a_reader_and_streams_dropped_with_a_batch() {
    let _turn = seqcast_test_support::one_at_a_time();
    let start = Instant::now();
    let n = N / 10;
    let mut w = ByteWriter::builder()
        .max_buffered_bytes(LIMIT)
        .on_full(Policy::Block)
        .build();
    let reader = {
        let s = w.stream();
        thread::spawn(move || read_all(s, false))
    };
    let (tx, rx) = std::sync::mpsc::channel::<ByteStream>();
    let dropper = thread::spawn(move || {
        let mut dropped = 0u64;
        for (k, mut s) in rx.into_iter().enumerate() {
            // Reads 1 to 5 chunks (the first poll takes a batch), then
            // drops the stream with the rest of its batch.
            for _ in 0..=(k % 5) {
                match block_on(s.next()) {
                    Some(Ok(c)) if !c.is_empty() => {}
                    _ => break,
                }
            }
            drop(s);
            dropped += 1;
        }
        dropped
    });
    let mut buf = Vec::new();
    let mut made = 0u64;
    for seq in 0..n {
        if seq % 50 == 0 {
            tx.send(w.stream()).unwrap();
            made += 1;
        }
        buf.clear();
        buf.extend_from_slice(&seq.to_le_bytes());
        buf.resize(8 + (seq % 24) as usize, 0xAB);
        w.write_all(&buf).unwrap();
        assert!(w.buffered_bytes() <= LIMIT);
    }
    w.close();
    drop(tx);
    assert_eq!(dropper.join().unwrap(), made);
    assert_eq!(reader.join().unwrap(), (n, 0));
    assert!(start.elapsed() < Duration::from_secs(60), "bounded in time");
}
