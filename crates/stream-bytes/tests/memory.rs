//! Peak memory with `max_buffered_bytes(1 MiB)` and one stalled stream,
//! measured by a counting global allocator (live bytes and their peak),
//! not assumed: the target is under 2 MiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use stream_bytes::{ByteStream, ByteWriter, Policy};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            // Relaxed: a statistic; the test reads it on the same thread
            // after the allocations it measures.
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on as is.
        unsafe { System.dealloc(ptr, layout) };
        // Relaxed: see `alloc`.
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const MIB: usize = 1 << 20;

fn drain(s: &mut ByteStream) -> usize {
    let (waker, _) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut n = 0;
    while let Poll::Ready(Some(Ok(c))) = Pin::new(&mut *s).poll_next(&mut cx) {
        n += c.len();
    }
    n
}

/// Writes `total` bytes in 4 KiB chunks with one stalled and one healthy
/// stream; returns the peak of live heap bytes above the start.
fn peak_with_a_stalled_stream(policy: Policy, total: usize) -> usize {
    let chunk = vec![0x5Au8; 4096];
    let mut w = ByteWriter::builder()
        .max_buffered_bytes(MIB)
        .on_full(policy)
        .build();
    let _stalled = w.stream();
    let mut healthy = w.stream();
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut written = 0;
    let mut read = 0;
    while written < total {
        if policy == Policy::Block {
            // The stalled stream never reads: the writer would wait for
            // ever, so the non-blocking form shows it is full.
            if !w.try_write_bytes(Bytes::copy_from_slice(&chunk)).unwrap() {
                break;
            }
        } else {
            w.write_all(&chunk).unwrap();
        }
        written += chunk.len();
        read += drain(&mut healthy);
        assert!(w.buffered_bytes() <= MIB);
    }
    assert_eq!(read, written, "the healthy stream got everything");
    PEAK.load(Ordering::Relaxed) - base
}

#[test]
fn peak_memory_with_one_stalled_stream_stays_under_2_mib() {
    let total = if cfg!(miri) { 2 * MIB } else { 64 * MIB };
    let disconnect = peak_with_a_stalled_stream(Policy::DisconnectSlowest, total);
    let block = peak_with_a_stalled_stream(Policy::Block, total);
    println!(
        "peak heap above baseline: DisconnectSlowest {disconnect} B, Block {block} B (limit 1 MiB, 4 KiB chunks)"
    );
    assert!(disconnect < 2 * MIB, "DisconnectSlowest peak {disconnect}");
    assert!(block < 2 * MIB, "Block peak {block}");
    assert!(
        disconnect >= MIB / 2,
        "the measurement sees the buffer ({disconnect})"
    );
}
