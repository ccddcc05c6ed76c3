//! The writer's time per write when every stream waits for each write:
//! stream-bytes against tokio's broadcast, in one run.
//!
//! `benches/bytes.rs` times a writer that writes as fast as it can; there a
//! writer whose streams fall behind wakes nobody (they are not waiting), so
//! its loop's time depends on how fast its streams read. Here the writer
//! writes one 64 B chunk, then yields until every stream has read it (each
//! stream task counts its chunks), so every write finds every stream
//! waiting and must wake it, for tokio's writer as for ours. Only the write
//! call is timed (criterion's `iter_custom`). Streams are tasks on a
//! 2-worker tokio runtime, as in `bytes.rs`; tokio's receivers use `recv`
//! directly.
//!
//! A separate bench binary: in `bytes.rs` the extra code moved that
//! binary's 64 B rows by up to 30 % (alternated runs of the two builds),
//! a code-layout effect, not a change in what they measure.
//!
//! `cargo bench --bench bytes_paced`.

use std::future::poll_fn;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion};
use futures_core::Stream;
use seqcast_benches::runtime;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

const STREAMS: [usize; 4] = [1, 4, 16, 64];

/// Writes `writes` chunks, each after every stream read the one before;
/// returns the time spent in the write calls only.
fn paced<W>(
    rt: &Runtime,
    n: usize,
    writes: u64,
    make: impl FnOnce(&Runtime, usize, Arc<AtomicUsize>) -> (W, Vec<JoinHandle<()>>),
    mut write: impl FnMut(&mut W, &[u8]),
) -> Duration {
    let read = Arc::new(AtomicUsize::new(0));
    let (mut w, tasks) = make(rt, n, Arc::clone(&read));
    let chunk = [0x5Au8; 64];
    let mut timed = Duration::ZERO;
    for i in 1..=writes as usize {
        let start = Instant::now();
        write(&mut w, &chunk);
        timed += start.elapsed();
        // Yield, not spin: the two workers need the cores. Acquire pairs
        // with the streams' Release increments (a count, nothing more).
        while read.load(Ordering::Acquire) < n * i {
            std::thread::yield_now();
        }
    }
    drop(w);
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    timed
}

fn ours(
    rt: &Runtime,
    n: usize,
    read: Arc<AtomicUsize>,
) -> (stream_bytes::ByteWriter, Vec<JoinHandle<()>>) {
    let w = stream_bytes::ByteWriter::default();
    let tasks = (0..n)
        .map(|_| {
            let mut s = w.stream();
            let read = Arc::clone(&read);
            rt.spawn(async move {
                while let Some(b) = poll_fn(|cx| Pin::new(&mut s).poll_next(cx)).await {
                    if !b.unwrap().is_empty() {
                        read.fetch_add(1, Ordering::Release);
                    }
                }
            })
        })
        .collect();
    (w, tasks)
}

fn tokio_broadcast(
    rt: &Runtime,
    n: usize,
    read: Arc<AtomicUsize>,
) -> (tokio::sync::broadcast::Sender<Bytes>, Vec<JoinHandle<()>>) {
    // Room for every write of a run: nothing lags (a lag would panic).
    let (tx, _) = tokio::sync::broadcast::channel::<Bytes>(1 << 16);
    let tasks = (0..n)
        .map(|_| {
            let mut rx = tx.subscribe();
            let read = Arc::clone(&read);
            rt.spawn(async move {
                while let Ok(b) = rx.recv().await {
                    std::hint::black_box(b);
                    read.fetch_add(1, Ordering::Release);
                }
            })
        })
        .collect();
    (tx, tasks)
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(10)
        .configure_from_args();
    let rt = runtime();
    let mut g = c.benchmark_group("bytes_writer_paced");
    for n in STREAMS {
        g.bench_with_input(BenchmarkId::new("stream-bytes", n), &n, |b, &n| {
            b.iter_custom(|iters| paced(&rt, n, iters, ours, |w, c| w.write_all(c).unwrap()))
        });
        g.bench_with_input(BenchmarkId::new("tokio-broadcast", n), &n, |b, &n| {
            b.iter_custom(|iters| {
                // A run's writes stay within the channel's capacity.
                let mut left = iters;
                let mut total = Duration::ZERO;
                while left > 0 {
                    let k = left.min(1 << 15);
                    total += paced(&rt, n, k, tokio_broadcast, |tx, c| {
                        tx.send(Bytes::copy_from_slice(c)).unwrap();
                    });
                    left -= k;
                }
                total
            })
        });
    }
    g.finish();
    c.final_summary();
}
