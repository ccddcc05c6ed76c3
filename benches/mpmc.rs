//! ring-mpmc against photon-ring 3.0's `channel_mpmc` (lossy), disruptor
//! 4.4's multi-producer ring (lossless) and crossbeam-channel 0.5's bounded
//! MPMC queue (lossless baseline; one queue per subscriber, since it is not
//! a broadcast), in one run.
//!
//! `cargo bench --bench mpmc` runs every row and prints the ratio tables at
//! the end (ours / peer: below 1.0 we are faster). Each row is the time per
//! value for `p` producers (1, 2, 4) sending tagged values to `s`
//! subscribers (1, 2), all of which receive every value (or, lossy, count
//! what they lost), for `u64` and 64-byte payloads: group
//! `mpmc_<lossy|lossless>_<p>p<s>s`, parameter `u64` or `64B`.
//!
//! `mpmc_publish/<name>/u64`: one producer thread, no subscriber, publish
//! only: the cost of a publish's own bookkeeping. `ring-mpmc-bounded` is a
//! bounded ring that nobody gates (only lossy taps, or nobody yet), which
//! must not take the tracker lock on each publish.
//!
//! These machines have two cores: with more threads than cores, consumers
//! and waiting producers yield instead of spinning (disruptor's producers
//! go through `try_publish` and yield on a full ring, as ours and
//! crossbeam's do inside `publish`/`send`). Lossy producers never wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use disruptor::{BusySpin, Polling, Producer};

const CAP: usize = 1024;

/// Cross-thread runs move at least this many values per measurement.
const MIN_VALUES: u64 = 200_000;

use seqcast_benches::pin;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// A payload of `W` words; word 0 carries the tag (producer id and index).
trait Payload: Copy + Send + Sync + 'static {
    fn make(tag: u64) -> Self;
    fn tag(&self) -> u64;
}

impl<const W: usize> Payload for [u64; W] {
    #[inline(always)]
    fn make(tag: u64) -> Self {
        [tag; W]
    }
    #[inline(always)]
    fn tag(&self) -> u64 {
        self[0]
    }
}

fn tag(id: usize, i: u64) -> u64 {
    ((id as u64) << 40) | i
}

/// Per-producer order check (lossless: consecutive; lossy: increasing).
struct Order {
    next: [u64; 4],
    lossless: bool,
}

impl Order {
    fn new(lossless: bool) -> Self {
        Order {
            next: [0; 4],
            lossless,
        }
    }
    #[inline(always)]
    fn check(&mut self, tag: u64) {
        let (id, i) = ((tag >> 40) as usize, tag & ((1 << 40) - 1));
        // Lossy rows are checked by the tests, not here: a peer's lossy
        // ordering is not ours to assert in a bench.
        if self.lossless {
            assert_eq!(
                i, self.next[id],
                "lossless channel lost or reordered a value"
            );
        }
        self.next[id] = i + 1;
    }
}

fn idle(yielding: bool) {
    if yielding {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

type Job = Box<dyn FnOnce(u64) + Send>;

/// Runs `consumers` and `producers` (each given the value count it
/// handles) and times them from the start signal to the last consumer done;
/// scaled to `iters` values.
fn run(iters: u64, producers: Vec<Job>, consumers: Vec<Job>) -> Duration {
    let p = producers.len() as u64;
    let n = iters.max(MIN_VALUES).div_ceil(p) * p;
    let go = Arc::new(AtomicBool::new(false));
    let threads = producers.len() + consumers.len();
    let pinned = threads <= cores();
    let spawn = |k: usize, job: Job, count: u64| {
        let go = Arc::clone(&go);
        std::thread::spawn(move || {
            if pinned {
                pin(k);
            }
            // Relaxed: a start flag; the channels order the data.
            while !go.load(Ordering::Relaxed) {
                std::thread::yield_now();
            }
            job(count);
        })
    };
    let mut handles = Vec::new();
    for (k, c) in consumers.into_iter().enumerate() {
        handles.push((true, spawn(k, c, n)));
    }
    let first = handles.len();
    for (k, job) in producers.into_iter().enumerate() {
        handles.push((false, spawn(first + k, job, n / p)));
    }
    // Let every thread reach the start line.
    std::thread::sleep(Duration::from_millis(1));
    let start = Instant::now();
    // Relaxed: see above.
    go.store(true, Ordering::Relaxed);
    for (_, h) in handles {
        h.join().unwrap();
    }
    let took = start.elapsed();
    Duration::from_secs_f64(took.as_secs_f64() * iters as f64 / n as f64)
}

/// ring-mpmc and photon-ring share one API: each lossy or bounded row is
/// written once for both. `$make` builds `(publisher, subscribable)`.
macro_rules! photon_api_row {
    ($g:expr, $name:expr, $param:expr, $ty:ty, $p:expr, $s:expr, $lossless:expr, $make:expr) => {
        $g.bench_function(BenchmarkId::new($name, $param), |b| {
            b.iter_custom(|iters| {
                let (publisher, subs) = $make;
                let yielding = $p + $s > cores();
                // Producers that finished: a lossy consumer also stops when
                // all have and nothing is left (in case a peer's lag count
                // falls short, the row must still end).
                let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let consumers: Vec<Job> = (0..$s)
                    .map(|_| {
                        let mut sub = subs.subscribe();
                        let finished = Arc::clone(&finished);
                        Box::new(move |n: u64| {
                            let mut order = Order::new($lossless);
                            while sub.total_received() + sub.total_lagged() < n {
                                match sub.try_recv() {
                                    Ok(v) => order.check(<$ty as Payload>::tag(&v)),
                                    // The `finished` load only on the
                                    // empty path, so a value costs what it
                                    // costs disruptor's and crossbeam's
                                    // consumers: a receive and the order
                                    // check. Acquire: pairs with the
                                    // producers' Release increment after
                                    // their last publish, so after it one
                                    // more empty receive means the end.
                                    Err(_)
                                        if !$lossless && finished.load(Ordering::Acquire) == $p =>
                                    {
                                        match sub.try_recv() {
                                            Ok(v) => order.check(<$ty as Payload>::tag(&v)),
                                            Err(_) => break,
                                        }
                                    }
                                    Err(_) => idle(yielding),
                                }
                            }
                        }) as Job
                    })
                    .collect();
                let producers: Vec<Job> = (0..$p)
                    .map(|id| {
                        let publisher = publisher.clone();
                        let finished = Arc::clone(&finished);
                        Box::new(move |n: u64| {
                            for i in 0..n {
                                publisher.publish(<$ty as Payload>::make(tag(id, i)));
                            }
                            // Release: after the last publish (see above).
                            finished.fetch_add(1, Ordering::Release);
                        }) as Job
                    })
                    .collect();
                drop(publisher);
                run(iters, producers, consumers)
            });
        });
    };
}

/// A disruptor multi-producer ring's pollers and producer; the producer's
/// type depends on the consumer count.
fn disruptor_row<T: Payload + Default>(p: usize, s: usize, iters: u64) -> Duration {
    let yielding = p + s > cores();
    let builder = disruptor::build_multi_producer(CAP, T::default, BusySpin);
    let (first, builder) = builder.new_event_poller();
    let poller_job = |mut poller: disruptor::EventPoller<T, disruptor::MultiProducerBarrier>| {
        Box::new(move |n: u64| {
            let mut order = Order::new(true);
            let mut seen = 0;
            while seen < n {
                match poller.poll() {
                    Ok(mut guard) => {
                        for v in &mut guard {
                            order.check(v.tag());
                            seen += 1;
                        }
                    }
                    Err(Polling::NoEvents) => idle(yielding),
                    Err(Polling::Shutdown) => panic!("shut down early"),
                }
            }
        }) as Job
    };
    fn producer_jobs<T: Payload, P: Producer<T> + Clone + Send + 'static>(
        producer: P,
        p: usize,
        yielding: bool,
    ) -> Vec<Job> {
        (0..p)
            .map(|id| {
                let mut producer = producer.clone();
                Box::new(move |n: u64| {
                    for i in 0..n {
                        let v = T::make(tag(id, i));
                        if yielding {
                            while producer.try_publish(|e| *e = v).is_err() {
                                std::thread::yield_now();
                            }
                        } else {
                            producer.publish(|e| *e = v);
                        }
                    }
                }) as Job
            })
            .collect()
    }
    if s == 1 {
        let producer = builder.build();
        let producers = producer_jobs(producer, p, yielding);
        run(iters, producers, vec![poller_job(first)])
    } else {
        let (second, mut builder) = builder.new_event_poller();
        let mut consumers = vec![poller_job(first), poller_job(second)];
        for _ in 2..s {
            let (poller, next) = builder.new_event_poller();
            consumers.push(poller_job(poller));
            builder = next;
        }
        let producer = builder.build();
        let producers = producer_jobs(producer, p, yielding);
        run(iters, producers, consumers)
    }
}

/// crossbeam-channel: one bounded MPMC queue per subscriber, each producer
/// sends every value to each.
fn crossbeam_row<T: Payload>(p: usize, s: usize, iters: u64) -> Duration {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..s).map(|_| crossbeam_channel::bounded::<T>(CAP)).unzip();
    let yielding = p + s > cores();
    let consumers = rxs
        .into_iter()
        .map(|rx| {
            Box::new(move |n: u64| {
                let mut order = Order::new(true);
                let mut seen = 0;
                while seen < n {
                    match rx.try_recv() {
                        Ok(v) => {
                            order.check(v.tag());
                            seen += 1;
                        }
                        Err(_) => idle(yielding),
                    }
                }
            }) as Job
        })
        .collect();
    let producers = (0..p)
        .map(|id| {
            let txs = txs.clone();
            Box::new(move |n: u64| {
                for i in 0..n {
                    let v = T::make(tag(id, i));
                    for tx in &txs {
                        tx.send(v).unwrap();
                    }
                }
            }) as Job
        })
        .collect();
    drop(txs);
    run(iters, producers, consumers)
}

const PRODUCERS: [usize; 3] = [1, 2, 4];
const SUBSCRIBERS: [usize; 2] = [1, 2];

fn rows<const W: usize>(c: &mut Criterion, param: &str)
where
    [u64; W]: Payload + Default + photon_ring::Pod,
{
    for p in PRODUCERS {
        for s in SUBSCRIBERS {
            let mut g = c.benchmark_group(format!("mpmc_lossy_{p}p{s}s"));
            g.throughput(Throughput::Elements(1));
            photon_api_row!(
                g,
                "ring-mpmc",
                param,
                [u64; W],
                p,
                s,
                false,
                ring_mpmc::channel_mpmc::<[u64; W]>(CAP)
            );
            photon_api_row!(
                g,
                "photon-ring",
                param,
                [u64; W],
                p,
                s,
                false,
                photon_ring::channel_mpmc::<[u64; W]>(CAP)
            );
            g.finish();

            let mut g = c.benchmark_group(format!("mpmc_lossless_{p}p{s}s"));
            g.throughput(Throughput::Elements(1));
            photon_api_row!(
                g,
                "ring-mpmc-bounded",
                param,
                [u64; W],
                p,
                s,
                true,
                ring_mpmc::channel_mpmc_bounded::<[u64; W]>(CAP, 0)
            );
            g.bench_function(BenchmarkId::new("disruptor", param), |b| {
                b.iter_custom(|iters| disruptor_row::<[u64; W]>(p, s, iters));
            });
            g.bench_function(BenchmarkId::new("crossbeam", param), |b| {
                b.iter_custom(|iters| crossbeam_row::<[u64; W]>(p, s, iters));
            });
            g.finish();
        }
    }
}

/// One thread publishing, nobody reading (a lossy tap would not gate).
fn publish_only(c: &mut Criterion) {
    let mut g = c.benchmark_group("mpmc_publish");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("ring-mpmc", "u64"), |b| {
        let (p, _s) = ring_mpmc::channel_mpmc::<u64>(CAP);
        b.iter(|| p.publish(std::hint::black_box(3)));
    });
    g.bench_function(BenchmarkId::new("ring-mpmc-bounded", "u64"), |b| {
        let (p, _s) = ring_mpmc::channel_mpmc_bounded::<u64>(CAP, 0);
        b.iter(|| p.publish(std::hint::black_box(3)));
    });
    g.bench_function(BenchmarkId::new("photon-ring", "u64"), |b| {
        let (p, _s) = photon_ring::channel_mpmc::<u64>(CAP);
        b.iter(|| p.publish(std::hint::black_box(3)));
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(10)
        .configure_from_args();
    publish_only(&mut c);
    rows::<1>(&mut c, "u64");
    rows::<8>(&mut c, "64B");
    c.final_summary();

    seqcast_benches::print_ratios("mpmc_publish", "ring-mpmc", &["photon-ring"], &["u64"]);
    seqcast_benches::print_ratios(
        "mpmc_publish",
        "ring-mpmc-bounded",
        &["photon-ring"],
        &["u64"],
    );
    let params = ["u64", "64B"];
    for p in PRODUCERS {
        for s in SUBSCRIBERS {
            seqcast_benches::print_ratios(
                &format!("mpmc_lossy_{p}p{s}s"),
                "ring-mpmc",
                &["photon-ring"],
                &params,
            );
            seqcast_benches::print_ratios(
                &format!("mpmc_lossless_{p}p{s}s"),
                "ring-mpmc-bounded",
                &["disruptor", "crossbeam"],
                &params,
            );
        }
    }
}
