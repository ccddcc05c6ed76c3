//! chan-watch against tokio 1.54's `sync::watch` and asyncband 0.7.4's
//! `watch`, in one run.
//!
//! `cargo bench --bench watch` runs every row and prints the ratio table
//! at the end (ours / peer: below 1.0 we are faster). asyncband's watch
//! keeps its value under one mutex: `borrow` is its `get` (a clone under
//! that mutex), and it has no `mark_unchanged`, so the `send` rows mark a
//! value seen by polling `changed()` once, outside the timed part. Rows:
//!
//! * `send/<n>`: one `send` with `n` receivers each waiting in a polled
//!   `changed()` future (registered with a no-op waker). `send/0` has one
//!   receiver that does not wait (a send with no receiver stores nothing).
//!   Only the send is timed; the futures are made and polled outside it.
//! * `borrow_1w2r`: two reader threads each `borrow` and copy the value
//!   while one writer thread sends (yielding between sends). Time per
//!   borrow, the slower reader's.
//! * `contention_resubscribe/<n>`: tokio's own bench shape
//!   (`benches/sync_watch.rs`): `n` receiver tasks on a multi-thread
//!   runtime (2 workers: this machine has 2 cores) wait in `changed()`,
//!   `borrow` the value, do a little work and count down; one sender sends
//!   100 values, each after every task finished the previous one. Time
//!   per batch of 100.
//!
//! After the criterion rows, a paired pass measures `contention_resubscribe`
//! against tokio again, more robustly: for each task count, a rig of ours
//! and one of tokio's take one batch each in turn, 40 rounds after 3 of
//! warm-up, the order swapped every round, and the table gives the median,
//! minimum and maximum of the rounds' time ratios. Criterion's rows run one
//! after another, seconds apart, and this VM's speed drifts between them by
//! more than the difference measured. `SEQCAST_NO_PAIRED=1` skips it (to
//! profile one criterion row alone).
//!
//! What a channel can win in `contention_resubscribe`, measured on this
//! 2-core VM on 2026-12-01 (`SEQCAST_NO_PAIRED=1 perf record <bench
//! binary> --bench '^contention_resubscribe/tokio/1000$'`, and the same
//! for 100 tasks and for chan-watch): the share of samples in tokio's
//! watch code (`Notified` and `BigNotify` polls, `notify_waiters`, the
//! `Coop` wrapper, `borrow`'s read lock) is about 13 % at 100 tasks and 28 %
//! at 1000; the rest is the kernel (context switches and futex wake-ups:
//! 50 % at 100 tasks, 18 % at 1000), tokio's scheduler and the tasks' own
//! work. A channel that cost nothing would take about 0.87 of tokio's time
//! at 100 tasks and 0.72 at 1000. chan-watch's own code is about 9 % and
//! 19 % of its samples (of that, at 1000 tasks, 7 points are `borrow`'s
//! read-lock increment and decrement, two atomic read-modify-writes on a
//! line both workers write, as tokio's are), which puts it near 0.95 and
//! 0.90 of tokio's time; the paired pass measured medians of 0.98 and
//! 0.84 in the same session.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, measurement::WallTime};
use seqcast_benches::runtime;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

/// A watch channel as the benches use it.
trait Watch: 'static {
    const NAME: &'static str;
    type Tx: Send + Sync + 'static;
    type Rx: Clone + Send + Sync + 'static;
    fn channel(init: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, v: usize);
    /// `false` once closed.
    fn changed(rx: &mut Self::Rx) -> impl Future<Output = bool> + Send + '_;
    fn borrow(rx: &Self::Rx) -> usize;
    fn mark_seen(rx: &mut Self::Rx);
}

struct Ours;
impl Watch for Ours {
    const NAME: &'static str = "chan-watch";
    type Tx = chan_watch::Sender<usize>;
    type Rx = chan_watch::Receiver<usize>;
    fn channel(init: usize) -> (Self::Tx, Self::Rx) {
        chan_watch::channel(init)
    }
    fn send(tx: &Self::Tx, v: usize) {
        tx.send(v).unwrap();
    }
    async fn changed(rx: &mut Self::Rx) -> bool {
        rx.changed().await.is_ok()
    }
    fn borrow(rx: &Self::Rx) -> usize {
        *rx.borrow()
    }
    fn mark_seen(rx: &mut Self::Rx) {
        rx.mark_unchanged();
    }
}

struct Tokio;
impl Watch for Tokio {
    const NAME: &'static str = "tokio";
    type Tx = tokio::sync::watch::Sender<usize>;
    type Rx = tokio::sync::watch::Receiver<usize>;
    fn channel(init: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::watch::channel(init)
    }
    fn send(tx: &Self::Tx, v: usize) {
        tx.send(v).unwrap();
    }
    async fn changed(rx: &mut Self::Rx) -> bool {
        rx.changed().await.is_ok()
    }
    fn borrow(rx: &Self::Rx) -> usize {
        *rx.borrow()
    }
    fn mark_seen(rx: &mut Self::Rx) {
        rx.mark_unchanged();
    }
}

/// asyncband 0.7.4's watch (`asyncband::watch`): one mutex around the
/// value, the version and the waiters.
struct Asyncband;
impl Watch for Asyncband {
    const NAME: &'static str = "asyncband";
    type Tx = asyncband::watch::Sender<usize>;
    type Rx = asyncband::watch::Receiver<usize>;
    fn channel(init: usize) -> (Self::Tx, Self::Rx) {
        asyncband::watch::channel(init)
    }
    fn send(tx: &Self::Tx, v: usize) {
        tx.send(v).unwrap();
    }
    async fn changed(rx: &mut Self::Rx) -> bool {
        rx.changed().await.is_ok()
    }
    fn borrow(rx: &Self::Rx) -> usize {
        rx.get()
    }
    fn mark_seen(rx: &mut Self::Rx) {
        // No `mark_unchanged`: a `changed()` that finds the unseen version
        // resolves at once and marks it seen.
        let mut cx = Context::from_waker(Waker::noop());
        let changed = std::pin::pin!(rx.changed());
        assert!(changed.poll(&mut cx).is_ready(), "the value was unseen");
    }
}

fn send<C: Watch>(g: &mut BenchmarkGroup<'_, WallTime>, waiting: usize) {
    let (tx, rx) = C::channel(0);
    let mut rxs: Vec<C::Rx> = (0..waiting).map(|_| rx.clone()).collect();
    let mut cx = Context::from_waker(Waker::noop());
    g.bench_function(BenchmarkId::new(C::NAME, waiting), |b| {
        let mut i = 0;
        if waiting == 0 {
            b.iter(|| {
                i += 1;
                C::send(&tx, black_box(i));
            });
            return;
        }
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                {
                    let mut futs: Vec<Pin<Box<_>>> =
                        rxs.iter_mut().map(|rx| Box::pin(C::changed(rx))).collect();
                    for f in &mut futs {
                        assert!(f.as_mut().poll(&mut cx).is_pending());
                    }
                    i += 1;
                    let start = Instant::now();
                    C::send(&tx, black_box(i));
                    took += start.elapsed();
                }
                for rx in &mut rxs {
                    C::mark_seen(rx);
                }
            }
            took
        });
    });
    drop(rx);
}

fn borrow_1w2r<C: Watch>(g: &mut BenchmarkGroup<'_, WallTime>) {
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = C::channel(0);
            let stop = Arc::new(AtomicBool::new(false));
            let s = Arc::clone(&stop);
            let writer = std::thread::spawn(move || {
                let mut i = 0;
                // Relaxed: a stop flag; join() orders the rest.
                while !s.load(Ordering::Relaxed) {
                    i += 1;
                    C::send(&tx, i);
                    std::thread::yield_now();
                }
            });
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let rx = rx.clone();
                    std::thread::spawn(move || {
                        let start = Instant::now();
                        for _ in 0..iters {
                            black_box(C::borrow(&rx));
                        }
                        start.elapsed()
                    })
                })
                .collect();
            let took = readers
                .into_iter()
                .map(|r| r.join().unwrap())
                .max()
                .unwrap();
            stop.store(true, Ordering::Relaxed);
            writer.join().unwrap();
            took
        })
    });
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

/// tokio's `contention_resubscribe` set-up: `tasks` receiver tasks
/// spawned on `rt`, and the sender that drives them.
struct Contention<C: Watch> {
    tx: C::Tx,
    rx: C::Rx,
    tasks: usize,
    wg: Arc<(AtomicUsize, Notify)>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl<C: Watch> Contention<C> {
    fn new(rt: &Runtime, tasks: usize) -> Self {
        let (tx, rx) = C::channel(0);
        let wg = Arc::new((AtomicUsize::new(0), Notify::new()));
        let handles = (0..tasks)
            .map(|n| {
                let mut rx = rx.clone();
                let wg = Arc::clone(&wg);
                let mut seed = n as u64 + 1;
                rt.spawn(async move {
                    while C::changed(&mut rx).await {
                        black_box(C::borrow(&rx)); // contend on the value
                        black_box(do_work(&mut seed));
                        if wg.0.fetch_sub(1, Ordering::AcqRel) == 1 {
                            wg.1.notify_one();
                        }
                    }
                })
            })
            .collect();
        Contention {
            tx,
            rx,
            tasks,
            wg,
            handles,
        }
    }

    /// One iteration: `N_ITERS` values, each sent after every task has
    /// handled the previous one.
    async fn batch(&self) {
        for i in 0..N_ITERS {
            assert_eq!(self.wg.0.fetch_add(self.tasks, Ordering::AcqRel), 0);
            C::send(&self.tx, black_box(i));
            while self.wg.0.load(Ordering::Acquire) > 0 {
                self.wg.1.notified().await;
            }
        }
    }

    /// One [`batch`](Contention::batch) on `rt`, timed.
    fn timed_batch(&self, rt: &Runtime) -> Duration {
        let start = Instant::now();
        rt.block_on(self.batch());
        start.elapsed()
    }

    /// Closes the channel and waits for every task to end.
    fn finish(self, rt: &Runtime) {
        drop(self.tx);
        drop(self.rx);
        rt.block_on(async {
            for h in self.handles {
                h.await.unwrap();
            }
        });
    }
}

/// Values sent per iteration of `contention_resubscribe`.
const N_ITERS: usize = 100;

fn contention_resubscribe<C: Watch>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    tasks: usize,
) {
    let rig = Contention::<C>::new(rt, tasks);
    g.bench_function(BenchmarkId::new(C::NAME, tasks), |b| {
        b.iter(|| rt.block_on(rig.batch()))
    });
    rig.finish(rt);
}

/// The paired pass of `contention_resubscribe` (`paired_ratios`): ours
/// and tokio's rigs side by side. Returns the sorted time ratios.
fn contention_paired(rt: &Runtime, tasks: usize, rounds: usize) -> Vec<f64> {
    let ours = Contention::<Ours>::new(rt, tasks);
    let tokio = Contention::<Tokio>::new(rt, tasks);
    let ratios = seqcast_benches::paired_ratios(
        PAIRED_WARM_UP,
        rounds,
        || ours.timed_batch(rt),
        || tokio.timed_batch(rt),
    );
    ours.finish(rt);
    tokio.finish(rt);
    ratios
}

/// Rounds of the paired pass, after warm-up rounds.
const PAIRED_ROUNDS: usize = 40;
const PAIRED_WARM_UP: usize = 3;

const WAITING: [usize; 2] = [0, 10];
const TASKS: [usize; 4] = [10, 100, 500, 1000];

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10)
        .configure_from_args();
    let rt = runtime();

    let mut g = c.benchmark_group("watch_send");
    for n in WAITING {
        send::<Ours>(&mut g, n);
        send::<Tokio>(&mut g, n);
        send::<Asyncband>(&mut g, n);
    }
    g.finish();

    let mut g = c.benchmark_group("watch_borrow_1w2r");
    borrow_1w2r::<Ours>(&mut g);
    borrow_1w2r::<Tokio>(&mut g);
    borrow_1w2r::<Asyncband>(&mut g);
    g.finish();

    let mut g = c.benchmark_group("contention_resubscribe");
    for n in TASKS {
        contention_resubscribe::<Ours>(&mut g, &rt, n);
        contention_resubscribe::<Tokio>(&mut g, &rt, n);
        contention_resubscribe::<Asyncband>(&mut g, &rt, n);
    }
    g.finish();
    c.final_summary();

    let waiting: Vec<String> = WAITING.iter().map(|n| n.to_string()).collect();
    let waiting: Vec<&str> = waiting.iter().map(String::as_str).collect();
    let peers = ["tokio", "asyncband"];
    seqcast_benches::print_ratios("watch_send", "chan-watch", &peers, &waiting);
    seqcast_benches::print_ratios_flat("watch_borrow_1w2r", "chan-watch", &peers);
    let tasks: Vec<String> = TASKS.iter().map(|n| n.to_string()).collect();
    let tasks: Vec<&str> = tasks.iter().map(String::as_str).collect();
    seqcast_benches::print_ratios("contention_resubscribe", "chan-watch", &peers, &tasks);

    if seqcast_benches::paired_pass_skipped() {
        return;
    }
    let rounds = if std::env::args().any(|a| a == "--test") {
        2
    } else {
        PAIRED_ROUNDS
    };
    println!(
        "\ncontention_resubscribe, paired: chan-watch's time / tokio's, batch by batch in turn ({rounds} pairs each)\n\
         | tasks | median | min | max | pairs at or under 0.75 |\n|--:|--:|--:|--:|--:|"
    );
    for n in TASKS {
        let r = contention_paired(&rt, n, rounds);
        println!(
            "| {n} | {:.2} | {:.2} | {:.2} | {} of {rounds} |",
            r[r.len() / 2],
            r[0],
            r[r.len() - 1],
            r.iter().filter(|&&x| x <= 0.75).count()
        );
    }
}
