//! stream-bytes against the ways users tee bytes today, in one run:
//!
//! * `tokio-broadcast`: tokio 1.54's `broadcast::channel::<Bytes>` and a
//!   `Stream` adapter written here as tokio-stream's `BroadcastStream` is
//!   (a `ReusableBoxFuture` around `recv`), lossy, with a capacity that
//!   holds the whole run so nothing lags;
//! * `async-broadcast`: async-broadcast 0.7 (lossless), capacity holding
//!   the whole run, the writer using `try_broadcast`;
//! * `tokio-mpsc`: one unbounded tokio mpsc per stream (the seed's design),
//!   the writer sending a `Bytes` clone to each.
//!
//! Shape (the issue's): the bench thread is the writer, outside the
//! runtime, writing `CHUNKS` chunks of 64 B or 4 KiB with `write_all`
//! (stream-bytes) or the peer's send (one `Bytes::copy_from_slice` per
//! write for every peer, as `write_all` makes); each of 1, 4, 16, 64
//! streams is a task on a 2-worker tokio runtime that reads to the end.
//! Criterion times a run from the first write to the last stream's end,
//! per write (`Throughput::Bytes` gives bytes written per second); the
//! writer's own time per write (its write loop alone) is collected beside
//! it and printed in the table at the end.
//!
//! `cargo bench --bench bytes` (add `-- --quick` for a short run).

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::hint::black_box;
use std::io::Write;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, measurement::WallTime};
use futures_core::Stream;
use seqcast_benches::runtime;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use tokio_util::sync::ReusableBoxFuture;

const STREAMS: [usize; 4] = [1, 4, 16, 64];
const SIZES: [(usize, &str); 2] = [(64, "64B"), (4096, "4KiB")];
/// Chunks per timed run.
const CHUNKS: usize = 2048;

/// Writer-loop time per write, by (group, impl, streams): (sum ns, runs).
type WriterTimes = BTreeMap<(String, String, usize), (f64, u64)>;
static WRITER: Mutex<WriterTimes> = Mutex::new(BTreeMap::new());

/// Drains a stream of `Result<Bytes, _>` to its end; returns bytes read.
async fn drain<S, E>(mut s: S) -> usize
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut n = 0;
    while let Some(item) = poll_fn(|cx| Pin::new(&mut s).poll_next(cx)).await {
        match item {
            Ok(b) => n += black_box(b).len(),
            Err(_) => panic!("a stream lagged or failed: the bench would be meaningless"),
        }
    }
    n
}

/// tokio broadcast as a `Stream`, the way tokio-stream's `BroadcastStream`
/// is written: a reusable boxed `recv` future that hands the receiver back.
struct BroadcastStream {
    inner: ReusableBoxFuture<
        'static,
        (
            Result<Bytes, tokio::sync::broadcast::error::RecvError>,
            tokio::sync::broadcast::Receiver<Bytes>,
        ),
    >,
}

async fn make_future(
    mut rx: tokio::sync::broadcast::Receiver<Bytes>,
) -> (
    Result<Bytes, tokio::sync::broadcast::error::RecvError>,
    tokio::sync::broadcast::Receiver<Bytes>,
) {
    let r = rx.recv().await;
    (r, rx)
}

impl BroadcastStream {
    fn new(rx: tokio::sync::broadcast::Receiver<Bytes>) -> Self {
        BroadcastStream {
            inner: ReusableBoxFuture::new(make_future(rx)),
        }
    }
}

impl Stream for BroadcastStream {
    type Item = Result<Bytes, u64>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        use tokio::sync::broadcast::error::RecvError;
        let (result, rx) = std::task::ready!(self.inner.poll(cx));
        self.inner.set(make_future(rx));
        match result {
            Ok(b) => Poll::Ready(Some(Ok(b))),
            Err(RecvError::Closed) => Poll::Ready(None),
            Err(RecvError::Lagged(n)) => Poll::Ready(Some(Err(n))),
        }
    }
}

/// One implementation: make `n` stream tasks, then a writer.
trait Tee {
    const NAME: &'static str;
    type Writer;
    fn start(rt: &Runtime, n: usize) -> (Self::Writer, Vec<JoinHandle<usize>>);
    fn write(w: &mut Self::Writer, chunk: &[u8]);
    fn close(w: Self::Writer);
}

struct Ours;
impl Tee for Ours {
    const NAME: &'static str = "stream-bytes";
    type Writer = stream_bytes::ByteWriter;
    fn start(rt: &Runtime, n: usize) -> (Self::Writer, Vec<JoinHandle<usize>>) {
        let w = stream_bytes::ByteWriter::default();
        let tasks = (0..n).map(|_| rt.spawn(drain(w.stream()))).collect();
        (w, tasks)
    }
    fn write(w: &mut Self::Writer, chunk: &[u8]) {
        w.write_all(chunk).unwrap();
    }
    fn close(mut w: Self::Writer) {
        w.close();
    }
}

struct TokioBroadcast;
impl Tee for TokioBroadcast {
    const NAME: &'static str = "tokio-broadcast";
    type Writer = tokio::sync::broadcast::Sender<Bytes>;
    fn start(rt: &Runtime, n: usize) -> (Self::Writer, Vec<JoinHandle<usize>>) {
        let (tx, _) = tokio::sync::broadcast::channel(CHUNKS);
        let tasks = (0..n)
            .map(|_| rt.spawn(drain(BroadcastStream::new(tx.subscribe()))))
            .collect();
        (tx, tasks)
    }
    fn write(w: &mut Self::Writer, chunk: &[u8]) {
        w.send(Bytes::copy_from_slice(chunk)).unwrap();
    }
    fn close(w: Self::Writer) {
        drop(w);
    }
}

struct AsyncBroadcast;
impl Tee for AsyncBroadcast {
    const NAME: &'static str = "async-broadcast";
    type Writer = async_broadcast::Sender<Bytes>;
    fn start(rt: &Runtime, n: usize) -> (Self::Writer, Vec<JoinHandle<usize>>) {
        let (tx, rx) = async_broadcast::broadcast(CHUNKS);
        let tasks = (0..n)
            .map(|_| rt.spawn(drain(rx.clone().map_ok())))
            .collect();
        drop(rx);
        (tx, tasks)
    }
    fn write(w: &mut Self::Writer, chunk: &[u8]) {
        w.try_broadcast(Bytes::copy_from_slice(chunk)).unwrap();
    }
    fn close(w: Self::Writer) {
        drop(w);
    }
}

/// async-broadcast's receiver yields `Bytes`; `drain` wants `Result`s.
trait MapOk: Sized {
    fn map_ok(self) -> OkStream<Self>;
}
impl MapOk for async_broadcast::Receiver<Bytes> {
    fn map_ok(self) -> OkStream<Self> {
        OkStream(self)
    }
}
struct OkStream<S>(S);
impl<S: Stream<Item = Bytes> + Unpin> Stream for OkStream<S> {
    type Item = Result<Bytes, ()>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.0).poll_next(cx).map(|o| o.map(Ok))
    }
}

struct TokioMpsc;
impl Tee for TokioMpsc {
    const NAME: &'static str = "tokio-mpsc";
    type Writer = Vec<tokio::sync::mpsc::UnboundedSender<Bytes>>;
    fn start(rt: &Runtime, n: usize) -> (Self::Writer, Vec<JoinHandle<usize>>) {
        let mut txs = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
            txs.push(tx);
            tasks.push(rt.spawn(async move {
                let mut total = 0;
                while let Some(b) = rx.recv().await {
                    total += black_box(b).len();
                }
                total
            }));
        }
        (txs, tasks)
    }
    fn write(w: &mut Self::Writer, chunk: &[u8]) {
        let b = Bytes::copy_from_slice(chunk);
        for tx in w.iter() {
            tx.send(b.clone()).unwrap();
        }
    }
    fn close(w: Self::Writer) {
        drop(w);
    }
}

fn fanout<T: Tee>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    group: &str,
    size: usize,
    n: usize,
) {
    let chunk = vec![0xA5u8; size];
    g.bench_with_input(BenchmarkId::new(T::NAME, n), &n, |b, &n| {
        b.iter_custom(|iters| {
            let runs = (iters as usize).div_ceil(CHUNKS).max(1);
            let mut total = Duration::ZERO;
            let mut writer_time = Duration::ZERO;
            for _ in 0..runs {
                let (mut w, tasks) = T::start(rt, n);
                let start = Instant::now();
                for _ in 0..CHUNKS {
                    T::write(&mut w, &chunk);
                }
                writer_time += start.elapsed();
                T::close(w);
                let read: usize = rt.block_on(async {
                    let mut sum = 0;
                    for t in tasks {
                        sum += t.await.unwrap();
                    }
                    sum
                });
                total += start.elapsed();
                assert_eq!(read, n * CHUNKS * size, "every stream read every byte");
            }
            let per_write = writer_time.as_nanos() as f64 / (runs * CHUNKS) as f64;
            let mut m = WRITER.lock().unwrap();
            let e = m
                .entry((group.to_owned(), T::NAME.to_owned(), n))
                .or_default();
            e.0 += per_write;
            e.1 += 1;
            total.mul_f64(iters as f64 / (runs * CHUNKS) as f64)
        })
    });
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10)
        .configure_from_args();
    let rt = runtime();
    for (size, label) in SIZES {
        let group = format!("bytes_fanout_{label}");
        let mut g = c.benchmark_group(&group);
        g.throughput(Throughput::Bytes(size as u64));
        for n in STREAMS {
            fanout::<Ours>(&mut g, &rt, &group, size, n);
            fanout::<TokioBroadcast>(&mut g, &rt, &group, size, n);
            fanout::<AsyncBroadcast>(&mut g, &rt, &group, size, n);
            fanout::<TokioMpsc>(&mut g, &rt, &group, size, n);
        }
        g.finish();
    }
    c.final_summary();

    let peers = ["tokio-broadcast", "async-broadcast", "tokio-mpsc"];
    let writer = WRITER.lock().unwrap();
    for (size, label) in SIZES {
        let group = format!("bytes_fanout_{label}");
        println!(
            "\n{group}: per write, end to end (ns; MB/s written) and writer loop only (ns); ratio = stream-bytes / peer (< 1.0: ours faster)"
        );
        for n in STREAMS {
            let p = n.to_string();
            let mut line = format!("  {n:>2} streams:");
            for name in std::iter::once("stream-bytes").chain(peers) {
                let Some(t) = seqcast_benches::mean_ns(&group, name, &p) else {
                    continue;
                };
                let w = writer
                    .get(&(group.clone(), name.to_owned(), n))
                    .map_or(f64::NAN, |(s, k)| s / *k as f64);
                line.push_str(&format!(
                    "  {name} {t:.0} ns ({:.0} MB/s) writer {w:.0} ns",
                    size as f64 / t * 1e3
                ));
                if name != "stream-bytes"
                    && let Some(us) = seqcast_benches::mean_ns(&group, "stream-bytes", &p)
                {
                    let wu = writer
                        .get(&(group.clone(), "stream-bytes".to_owned(), n))
                        .map_or(f64::NAN, |(s, k)| s / *k as f64);
                    line.push_str(&format!(" [ratio e2e {:.2}, writer {:.2}]", us / t, wu / w));
                }
                line.push(';');
            }
            println!("{line}");
        }
    }
}
