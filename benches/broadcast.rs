//! chan-broadcast against tokio 1.54's `sync::broadcast`, async-broadcast
//! 0.7 and asyncband 0.7.4, in one run.
//!
//! `cargo bench --bench broadcast` runs every row and prints the ratio
//! table at the end (ours / peer: below 1.0 we are faster). Rows:
//!
//! * `contention/<n>`: tokio's own bench shape (`benches/sync_broadcast.rs`):
//!   `n` receiver tasks on a multi-thread runtime (2 workers: this machine
//!   has 2 cores) each do a little work per value; one sender sends 100
//!   values, each after every task finished the previous one. Time per
//!   batch of 100.
//! * `try_recv/<n>`: tokio's other shape: one send, then `n` receivers
//!   `try_recv` it; one thread. Time per send + n receives.
//! * `throughput_1to4`: one sender task, 4 receiver tasks, batches of 256
//!   values (the sender waits for every receiver to finish a batch, so no
//!   channel loses a value). Time per value.
//! * `lossless/<n>`: our lossless channel against async-broadcast (whose
//!   senders wait for space by default; through its unboxed
//!   `broadcast_direct`/`recv_direct`) and asyncband 0.7.4's
//!   `broadcast::mpmc::bounded`: one sender task, `n` receiver tasks on
//!   the 2-worker runtime, capacity 256, 20 000 values, every receiver
//!   checking order. Time per run.
//! * `lossless_loaded/<n>`: `lossless` with a CPU-bound thread of the
//!   bench spinning beside the runtime (the issue's "competing CPU-bound
//!   process": the two workers and it share the two cores).
//! * `lossless_1thread/<n>`: the same on a current-thread runtime: every
//!   task runs on one thread, so this is the channels' serial cost per
//!   value, with no cross-core traffic and no parallelism. With another
//!   CPU-bound process on the second core the 2-worker rows drift towards
//!   it (the workers share one core), so it is the reproducible stand-in
//!   for that case on a quiet machine.

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, measurement::WallTime};
use seqcast_benches::runtime;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

/// A lossy broadcast channel as the benches use it.
trait Chan: 'static {
    const NAME: &'static str;
    type Tx: Clone + Send + Sync + 'static;
    type Rx: Send + 'static;
    fn channel(cap: usize) -> (Self::Tx, Self::Rx);
    fn subscribe(tx: &Self::Tx) -> Self::Rx;
    fn send(tx: &Self::Tx, v: usize);
    /// `None` once closed; a lag counts as `Some(0)`.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send + '_;
    fn try_recv(rx: &mut Self::Rx) -> Option<usize>;
}

struct Ours;
impl Chan for Ours {
    const NAME: &'static str = "chan-broadcast";
    type Tx = chan_broadcast::Sender<usize>;
    type Rx = chan_broadcast::Receiver<usize>;
    fn channel(cap: usize) -> (Self::Tx, Self::Rx) {
        chan_broadcast::channel(cap)
    }
    fn subscribe(tx: &Self::Tx) -> Self::Rx {
        tx.subscribe()
    }
    fn send(tx: &Self::Tx, v: usize) {
        tx.send(v).unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        use chan_broadcast::error::RecvError;
        match rx.recv().await {
            Ok(v) => Some(v),
            Err(RecvError::Lagged(_)) => Some(0),
            Err(RecvError::Closed) => None,
        }
    }
    fn try_recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.try_recv().ok()
    }
}

struct Tokio;
impl Chan for Tokio {
    const NAME: &'static str = "tokio";
    type Tx = tokio::sync::broadcast::Sender<usize>;
    type Rx = tokio::sync::broadcast::Receiver<usize>;
    fn channel(cap: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::broadcast::channel(cap)
    }
    fn subscribe(tx: &Self::Tx) -> Self::Rx {
        tx.subscribe()
    }
    fn send(tx: &Self::Tx, v: usize) {
        tx.send(v).unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        use tokio::sync::broadcast::error::RecvError;
        match rx.recv().await {
            Ok(v) => Some(v),
            Err(RecvError::Lagged(_)) => Some(0),
            Err(RecvError::Closed) => None,
        }
    }
    fn try_recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.try_recv().ok()
    }
}

struct AsyncBroadcast;
impl Chan for AsyncBroadcast {
    const NAME: &'static str = "async-broadcast";
    type Tx = async_broadcast::Sender<usize>;
    type Rx = async_broadcast::Receiver<usize>;
    fn channel(cap: usize) -> (Self::Tx, Self::Rx) {
        let (mut tx, rx) = async_broadcast::broadcast(cap);
        // Lossy like the others: a full channel drops its oldest value.
        tx.set_overflow(true);
        (tx, rx)
    }
    fn subscribe(tx: &Self::Tx) -> Self::Rx {
        tx.new_receiver()
    }
    fn send(tx: &Self::Tx, v: usize) {
        tx.try_broadcast(v).unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        use async_broadcast::RecvError;
        match rx.recv().await {
            Ok(v) => Some(v),
            Err(RecvError::Overflowed(_)) => Some(0),
            Err(RecvError::Closed) => None,
        }
    }
    fn try_recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.try_recv().ok()
    }
}

/// One thread runs every task (`lossless_1thread`).
fn current_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A little work per value, as tokio's bench does (it hashes with an RNG).
fn do_work(seed: &mut u64) -> u64 {
    for _ in 0..64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
    }
    *seed
}

/// Counts tasks still working on the current value; the last one notifies.
type WaitGroup = Arc<(AtomicUsize, Notify)>;

fn contention<C: Chan>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, tasks: usize) {
    let (tx, rx) = C::channel(1000);
    let wg: WaitGroup = Arc::new((AtomicUsize::new(0), Notify::new()));
    let mut handles = Vec::new();
    for n in 0..tasks {
        let mut rx = C::subscribe(&tx);
        let wg = Arc::clone(&wg);
        let mut seed = n as u64 + 1;
        handles.push(rt.spawn(async move {
            while C::recv(&mut rx).await.is_some() {
                black_box(do_work(&mut seed));
                // Relaxed: a count; the notify orders the hand-off.
                if wg.0.fetch_sub(1, Ordering::AcqRel) == 1 {
                    wg.1.notify_one();
                }
            }
        }));
    }
    drop(rx);
    const N_ITERS: usize = 100;
    g.bench_function(BenchmarkId::new(C::NAME, tasks), |b| {
        b.iter(|| {
            rt.block_on(async {
                for i in 0..N_ITERS {
                    assert_eq!(wg.0.fetch_add(tasks, Ordering::AcqRel), 0);
                    C::send(&tx, i);
                    while wg.0.load(Ordering::Acquire) > 0 {
                        wg.1.notified().await;
                    }
                }
            })
        })
    });
    drop(tx);
    rt.block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
}

fn try_recv<C: Chan>(g: &mut BenchmarkGroup<'_, WallTime>, receivers: usize) {
    let (tx, rx) = C::channel(128);
    let mut rxs: Vec<_> = (1..receivers).map(|_| C::subscribe(&tx)).collect();
    rxs.push(rx);
    g.bench_function(BenchmarkId::new(C::NAME, receivers), |b| {
        let mut i = 0;
        b.iter(|| {
            C::send(&tx, i);
            i += 1;
            for rx in &mut rxs {
                black_box(C::try_recv(rx));
            }
        })
    });
}

const BATCH: usize = 256;
const FANOUT: usize = 4;

fn throughput<C: Chan>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime) {
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            let batches = (iters as usize).div_ceil(BATCH).max(1);
            let (tx, rx) = C::channel(2 * BATCH);
            let wg: WaitGroup = Arc::new((AtomicUsize::new(0), Notify::new()));
            let mut handles = Vec::new();
            for _ in 0..FANOUT {
                let mut rx = C::subscribe(&tx);
                let wg = Arc::clone(&wg);
                handles.push(rt.spawn(async move {
                    let mut n = 0;
                    while let Some(v) = C::recv(&mut rx).await {
                        black_box(v);
                        n += 1;
                        if n % BATCH == 0 && wg.0.fetch_sub(1, Ordering::AcqRel) == 1 {
                            wg.1.notify_one();
                        }
                    }
                }));
            }
            drop(rx);
            let start = std::time::Instant::now();
            rt.block_on(async {
                for b in 0..batches {
                    wg.0.fetch_add(FANOUT, Ordering::AcqRel);
                    for i in 0..BATCH {
                        C::send(&tx, b * BATCH + i);
                    }
                    while wg.0.load(Ordering::Acquire) > 0 {
                        wg.1.notified().await;
                    }
                }
            });
            let took = start.elapsed();
            drop(tx);
            rt.block_on(async {
                for h in handles {
                    h.await.unwrap();
                }
            });
            took.mul_f64(iters as f64 / (batches * BATCH) as f64)
        })
    });
}

const LOSSLESS_VALUES: usize = 20_000;
const LOSSLESS_CAPACITY: usize = 256;
const LOSSLESS_RECEIVERS: [usize; 2] = [4, 16];

/// A channel whose senders wait for space, each peer through its fastest
/// public path.
trait Lossless: 'static {
    const NAME: &'static str;
    type Tx: Send + Sync + 'static;
    type Rx: Send + 'static;
    fn channel(cap: usize) -> (Self::Tx, Self::Rx);
    fn subscribe(tx: &Self::Tx) -> Self::Rx;
    fn send(tx: &Self::Tx, v: usize) -> impl Future<Output = ()> + Send + '_;
    /// `None` once closed.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<usize>> + Send + '_;
}

impl Lossless for Ours {
    const NAME: &'static str = "chan-broadcast";
    type Tx = chan_broadcast::LosslessSender<usize>;
    type Rx = chan_broadcast::Receiver<usize>;
    fn channel(cap: usize) -> (Self::Tx, Self::Rx) {
        chan_broadcast::channel_lossless(cap)
    }
    fn subscribe(tx: &Self::Tx) -> Self::Rx {
        tx.subscribe()
    }
    async fn send(tx: &Self::Tx, v: usize) {
        tx.send(v).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
}

impl Lossless for AsyncBroadcast {
    const NAME: &'static str = "async-broadcast";
    type Tx = async_broadcast::Sender<usize>;
    type Rx = async_broadcast::Receiver<usize>;
    fn channel(cap: usize) -> (Self::Tx, Self::Rx) {
        // Not overflowing: `broadcast` waits for space.
        async_broadcast::broadcast(cap)
    }
    fn subscribe(tx: &Self::Tx) -> Self::Rx {
        tx.new_receiver()
    }
    /// The unboxed path: `broadcast()`/`recv()` box their futures.
    async fn send(tx: &Self::Tx, v: usize) {
        tx.broadcast_direct(v).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv_direct().await.ok()
    }
}

/// asyncband 0.7.4's lossless broadcast (`broadcast::mpmc::bounded`),
/// runtime-agnostic.
struct Asyncband;

impl Lossless for Asyncband {
    const NAME: &'static str = "asyncband";
    type Tx = asyncband::broadcast::mpmc::BoundedSender<usize>;
    type Rx = asyncband::broadcast::mpmc::BoundedReceiver<usize>;
    fn channel(cap: usize) -> (Self::Tx, Self::Rx) {
        asyncband::broadcast::mpmc::bounded(cap)
    }
    fn subscribe(tx: &Self::Tx) -> Self::Rx {
        tx.subscribe()
    }
    async fn send(tx: &Self::Tx, v: usize) {
        tx.send(v).await;
    }
    async fn recv(rx: &mut Self::Rx) -> Option<usize> {
        rx.recv().await.ok()
    }
}

/// One sender task and `receivers` receiver tasks on the 2-worker
/// runtime; every receiver checks that it got every value, in order.
fn lossless<C: Lossless>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, receivers: usize) {
    g.bench_function(BenchmarkId::new(<C as Lossless>::NAME, receivers), |b| {
        b.iter(|| {
            let (tx, rx) = <C as Lossless>::channel(LOSSLESS_CAPACITY);
            let handles: Vec<_> = (0..receivers)
                .map(|_| {
                    let mut rx = <C as Lossless>::subscribe(&tx);
                    rt.spawn(async move {
                        let mut next = 0;
                        while let Some(v) = <C as Lossless>::recv(&mut rx).await {
                            assert_eq!(v, next, "a lossless channel lost or reordered");
                            next += 1;
                        }
                        assert_eq!(next, LOSSLESS_VALUES, "a lossless channel lost values");
                    })
                })
                .collect();
            drop(rx);
            let send_all = async move {
                for i in 0..LOSSLESS_VALUES {
                    <C as Lossless>::send(&tx, i).await;
                }
            };
            rt.block_on(async move {
                rt.spawn(send_all).await.unwrap();
                for h in handles {
                    h.await.unwrap();
                }
            });
        })
    });
}

/// One lossless group: every peer at every receiver count, on `rt`.
fn lossless_group(c: &mut Criterion, name: &str, rt: &Runtime) {
    let mut g = c.benchmark_group(name);
    g.throughput(criterion::Throughput::Elements(LOSSLESS_VALUES as u64));
    for n in LOSSLESS_RECEIVERS {
        lossless::<Ours>(&mut g, rt, n);
        lossless::<AsyncBroadcast>(&mut g, rt, n);
        lossless::<Asyncband>(&mut g, rt, n);
    }
    g.finish();
}

const TASKS: [usize; 4] = [10, 100, 500, 1000];
const RECEIVERS: [usize; 3] = [1, 4, 16];

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10)
        .configure_from_args();
    let rt = runtime();

    let mut g = c.benchmark_group("contention");
    for n in TASKS {
        contention::<Ours>(&mut g, &rt, n);
        contention::<Tokio>(&mut g, &rt, n);
        contention::<AsyncBroadcast>(&mut g, &rt, n);
    }
    g.finish();

    let mut g = c.benchmark_group("try_recv");
    for n in RECEIVERS {
        try_recv::<Ours>(&mut g, n);
        try_recv::<Tokio>(&mut g, n);
        try_recv::<AsyncBroadcast>(&mut g, n);
    }
    g.finish();

    let mut g = c.benchmark_group("throughput_1to4");
    throughput::<Ours>(&mut g, &rt);
    throughput::<Tokio>(&mut g, &rt);
    throughput::<AsyncBroadcast>(&mut g, &rt);
    g.finish();

    lossless_group(&mut c, "lossless", &rt);

    // The same with a CPU-bound thread competing for the two cores (the
    // issue's "with a competing CPU-bound process"): one busy thread, so
    // the busy threads never outnumber the cores (the workers park).
    let stop = Arc::new(AtomicBool::new(false));
    let hog = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut x = 0u64;
            // Relaxed: a stop flag; nothing is published through it.
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..1000 {
                    x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
        })
    };
    lossless_group(&mut c, "lossless_loaded", &rt);
    stop.store(true, Ordering::Relaxed);
    hog.join().unwrap();

    let ct = current_thread_runtime();
    lossless_group(&mut c, "lossless_1thread", &ct);
    c.final_summary();

    let peers = ["tokio", "async-broadcast"];
    let tasks: Vec<String> = TASKS.iter().map(|n| n.to_string()).collect();
    let tasks: Vec<&str> = tasks.iter().map(String::as_str).collect();
    seqcast_benches::print_ratios("contention", "chan-broadcast", &peers, &tasks);
    let rxs: Vec<String> = RECEIVERS.iter().map(|n| n.to_string()).collect();
    let rxs: Vec<&str> = rxs.iter().map(String::as_str).collect();
    seqcast_benches::print_ratios("try_recv", "chan-broadcast", &peers, &rxs);
    seqcast_benches::print_ratios_flat("throughput_1to4", "chan-broadcast", &peers);
    let rxs: Vec<String> = LOSSLESS_RECEIVERS.iter().map(|n| n.to_string()).collect();
    let rxs: Vec<&str> = rxs.iter().map(String::as_str).collect();
    for group in ["lossless", "lossless_loaded", "lossless_1thread"] {
        seqcast_benches::print_ratios(
            group,
            "chan-broadcast",
            &["async-broadcast", "asyncband"],
            &rxs,
        );
    }
}
