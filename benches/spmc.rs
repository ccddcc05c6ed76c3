//! ring-spmc against photon-ring 3.0, disruptor 4.4, bus 2.4 and
//! crossbeam-channel 0.5 (one channel per consumer), in one run.
//!
//! `cargo bench --bench spmc` runs every row and prints the ratio table at
//! the end (ours / peer: below 1.0 we are faster). Rows:
//!
//! * `publish/<size>`: publish only, no reader (lossy rings; a bounded ring
//!   with no gating subscriber).
//! * `roundtrip/<size>`: publish then receive, one thread, payloads of 8,
//!   32, 64 and 256 bytes.
//! * `fanout/<n>`: publish once, `n` subscribers receive it, one thread
//!   (everything in cache); the table adds the marginal cost per subscriber.
//! * `throughput_1to1`, `throughput_1to2`: lossless, cross-thread, time per
//!   value; 1→1 on two pinned threads, 1→2 with yielding consumers (this
//!   machine has two cores: no more busy threads than cores). Ours is read
//!   through photon-ring's API (a `try_recv` loop, `ring-spmc-bounded`) and
//!   through our batch read `recv_each` (`ring-spmc-bounded-each`), the
//!   counterpart of disruptor's `EventPoller`. 1→1 also runs disruptor
//!   with 16-byte events (`disruptor-16B`), the size of our `u64` slot
//!   (8-byte stamp, 8-byte value): at 1→1 the ring moves one cache line
//!   per few values, so the row depends on how many values share a
//!   line (8 for disruptor's `u64` events, 4 for ours). In the runs of
//!   2026-11-30 17:15-17:40 UTC on the 2-core VM (normal placement),
//!   disruptor-16B measured 6.3-7.4 ns, disruptor 4.4-5.2 and ours
//!   6.4-7.4: a stamped `u64` costs what a 16-byte event does. Three
//!   changes tried against it measured no gain, and were not kept:
//!   stamps and values in two arrays (8 values per payload line) read below
//!   a cached head with no stamp load: 7.1-11.0 ns; the cached-head read
//!   on today's layout: 6.4-7.2 ns; stamp and value written and read by one
//!   16-byte `movdqa` (no odd stamp, one store per value): 6.8-6.9 ns.
//! * `pingpong`: round trip over two rings between two pinned threads, and
//!   beside it `hardware-floor`: the same round trip over one cache-padded
//!   atomic each way, no channel at all (what two cores need to pass a
//!   cache line there and back: no channel can beat it).
//!
//! Lossless peers (disruptor, bus, crossbeam) are compared with our bounded
//! ring; photon-ring's lossy channel with our lossy one.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use disruptor::{BusySpin, Polling, Producer};
use ring_core::CachePadded;

const CAP: usize = 1024;

use seqcast_benches::pin;

type P<const W: usize> = [u64; W];

// ---------------------------------------------------------------- publish

/// ring-spmc and photon-ring share one API (that is the point of
/// ring-spmc), so each row is written once for both: `$make` builds the
/// `(publisher, subscribable)` pair.
macro_rules! photon_api_publish {
    ($g:expr, $name:expr, $size:expr, $v:expr, $make:expr) => {
        $g.bench_function(BenchmarkId::new($name, $size), |b| {
            let (mut p, _s) = $make;
            b.iter(|| p.publish(black_box($v)));
        });
    };
}

fn publish<const W: usize>(c: &mut Criterion, size: &str) {
    let v: P<W> = [3; W];
    let mut g = c.benchmark_group("publish");
    g.throughput(Throughput::Elements(1));
    photon_api_publish!(g, "ring-spmc", size, v, ring_spmc::channel::<P<W>>(CAP));
    photon_api_publish!(
        g,
        "ring-spmc-bounded",
        size,
        v,
        ring_spmc::channel_bounded::<P<W>>(CAP, 0)
    );
    photon_api_publish!(g, "photon-ring", size, v, photon_ring::channel::<P<W>>(CAP));
    photon_api_publish!(
        g,
        "photon-ring-bounded",
        size,
        v,
        photon_ring::channel_bounded::<P<W>>(CAP, 0)
    );
    g.finish();
}

// -------------------------------------------------------------- roundtrip

macro_rules! photon_api_roundtrip {
    ($g:expr, $name:expr, $size:expr, $v:expr, $make:expr) => {
        $g.bench_function(BenchmarkId::new($name, $size), |b| {
            let (mut p, subs) = $make;
            let mut s = subs.subscribe();
            b.iter(|| {
                p.publish(black_box($v));
                black_box(s.try_recv().unwrap())
            });
        });
    };
}

fn roundtrip<const W: usize>(c: &mut Criterion, size: &str) {
    let v: P<W> = [5; W];
    let mut g = c.benchmark_group("roundtrip");
    g.throughput(Throughput::Elements(1));
    photon_api_roundtrip!(g, "ring-spmc", size, v, ring_spmc::channel::<P<W>>(CAP));
    photon_api_roundtrip!(
        g,
        "ring-spmc-bounded",
        size,
        v,
        ring_spmc::channel_bounded::<P<W>>(CAP, 0)
    );
    photon_api_roundtrip!(g, "photon-ring", size, v, photon_ring::channel::<P<W>>(CAP));
    photon_api_roundtrip!(
        g,
        "photon-ring-bounded",
        size,
        v,
        photon_ring::channel_bounded::<P<W>>(CAP, 0)
    );
    g.bench_function(BenchmarkId::new("disruptor", size), |b| {
        let (mut poller, builder) =
            disruptor::build_single_producer(CAP, || [0_u64; W], BusySpin).new_event_poller();
        let mut p = builder.build();
        b.iter(|| {
            p.publish(|e| *e = black_box(v));
            let mut guard = poller.poll().unwrap();
            black_box((&mut guard).next().copied())
        });
    });
    g.bench_function(BenchmarkId::new("bus", size), |b| {
        let mut bus = bus::Bus::<P<W>>::new(CAP);
        let mut rx = bus.add_rx();
        b.iter(|| {
            bus.broadcast(black_box(v));
            black_box(rx.try_recv().unwrap())
        });
    });
    g.bench_function(BenchmarkId::new("crossbeam", size), |b| {
        let (tx, rx) = crossbeam_channel::bounded::<P<W>>(CAP);
        b.iter(|| {
            tx.send(black_box(v)).unwrap();
            black_box(rx.try_recv().unwrap())
        });
    });
    g.finish();
}

// ----------------------------------------------------------------- fanout

const FANOUT: [usize; 6] = [1, 2, 4, 8, 16, 32];

macro_rules! photon_api_fanout {
    ($g:expr, $name:expr, $id:expr, $n:expr, $make:expr) => {
        $g.bench_function(BenchmarkId::new($name, $id), |b| {
            let (mut p, subs) = $make;
            let mut subs: Vec<_> = (0..$n).map(|_| subs.subscribe()).collect();
            b.iter(|| {
                p.publish(black_box(1));
                for s in &mut subs {
                    black_box(s.try_recv().unwrap());
                }
            });
        });
    };
}

fn fanout(c: &mut Criterion) {
    let mut g = c.benchmark_group("fanout");
    for n in FANOUT {
        let id = n.to_string();
        photon_api_fanout!(g, "ring-spmc", &id, n, ring_spmc::channel::<u64>(CAP));
        photon_api_fanout!(
            g,
            "ring-spmc-bounded",
            &id,
            n,
            ring_spmc::channel_bounded::<u64>(CAP, 0)
        );
        photon_api_fanout!(g, "photon-ring", &id, n, photon_ring::channel::<u64>(CAP));
        g.bench_function(BenchmarkId::new("disruptor", &id), |b| {
            let (mut pollers, p) = disruptor_fanout(n);
            let mut p = p;
            b.iter(|| {
                p.publish(black_box(1));
                for poller in &mut pollers {
                    let mut guard = poller.poll().unwrap();
                    black_box((&mut guard).next().copied());
                }
            });
        });
        g.bench_function(BenchmarkId::new("bus", &id), |b| {
            let mut bus = bus::Bus::<u64>::new(CAP);
            let mut rxs: Vec<_> = (0..n).map(|_| bus.add_rx()).collect();
            b.iter(|| {
                bus.broadcast(black_box(1));
                for rx in &mut rxs {
                    black_box(rx.try_recv().unwrap());
                }
            });
        });
        g.bench_function(BenchmarkId::new("crossbeam", &id), |b| {
            let chans: Vec<_> = (0..n)
                .map(|_| crossbeam_channel::bounded::<u64>(CAP))
                .collect();
            b.iter(|| {
                for (tx, _) in &chans {
                    tx.send(black_box(1)).unwrap();
                }
                for (_, rx) in &chans {
                    black_box(rx.try_recv().unwrap());
                }
            });
        });
    }
    g.finish();
}

type Poller = disruptor::EventPoller<u64, disruptor::SingleProducerBarrier>;

/// disruptor's single producer, whose type depends on the consumer count.
enum DProducer {
    One(disruptor::SingleProducer<u64, disruptor::SingleConsumerBarrier>),
    Many(disruptor::SingleProducer<u64, disruptor::MultiConsumerBarrier>),
}

impl DProducer {
    #[inline]
    fn publish(&mut self, v: u64) {
        match self {
            DProducer::One(p) => {
                p.publish(|e| *e = v);
            }
            DProducer::Many(p) => {
                p.publish(|e| *e = v);
            }
        }
    }
}

/// `n` disruptor pollers in parallel behind one single producer.
fn disruptor_fanout(n: usize) -> (Vec<Poller>, DProducer) {
    let builder = disruptor::build_single_producer(CAP, || 0_u64, BusySpin);
    let (first, builder) = builder.new_event_poller();
    if n == 1 {
        return (vec![first], DProducer::One(builder.build()));
    }
    let (second, mut builder) = builder.new_event_poller();
    let mut pollers = vec![first, second];
    for _ in 2..n {
        let (poller, next) = builder.new_event_poller();
        pollers.push(poller);
        builder = next;
    }
    (pollers, DProducer::Many(builder.build()))
}

// ------------------------------------------------------------- throughput

/// Time for `iters` values through a lossless channel to `consumers`
/// threads; each consumer checks it got 0..iters in order.
fn cross_thread<Tx: Send + 'static>(
    iters: u64,
    consumers: Vec<Box<dyn FnOnce(u64) + Send>>,
    tx: Tx,
    send: impl Fn(&mut Tx, u64) + Send + 'static,
) -> Duration {
    // Thread start-up costs tens of microseconds: run at least
    // `MIN_VALUES` values and scale the time back to `iters`.
    let n = iters.max(MIN_VALUES);
    let go = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = consumers
        .into_iter()
        .enumerate()
        .map(|(k, consume)| {
            let go = Arc::clone(&go);
            std::thread::spawn(move || {
                pin(k + 1);
                // Relaxed: a start flag; the channel orders the data.
                while !go.load(Ordering::Relaxed) {
                    std::thread::yield_now();
                }
                consume(n);
            })
        })
        .collect();
    pin(0);
    let mut tx = tx;
    let start = Instant::now();
    // Relaxed: see above.
    go.store(true, Ordering::Relaxed);
    for i in 0..n {
        send(&mut tx, i);
    }
    for h in handles {
        h.join().unwrap();
    }
    let took = start.elapsed();
    drop(tx);
    scale(took, iters, n)
}

/// Cross-thread runs move at least this many values per measurement.
const MIN_VALUES: u64 = 200_000;

/// `took` for `n` operations, scaled to `iters` of them.
fn scale(took: Duration, iters: u64, n: u64) -> Duration {
    Duration::from_secs_f64(took.as_secs_f64() * iters as f64 / n as f64)
}

/// Waiting in a consumer: spin when it has a core of its own (1→1), yield
/// when consumers outnumber the free cores (1→2).
fn idle(yielding: bool) {
    if yielding {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

fn check(expected: &mut u64, v: u64) {
    assert_eq!(v, *expected, "lossless channel lost or reordered a value");
    *expected += 1;
}

macro_rules! photon_api_throughput {
    ($g:expr, $name:expr, $id:expr, $consumers:expr, $yielding:expr, $make:expr) => {
        $g.bench_function(BenchmarkId::new($name, $id), |b| {
            b.iter_custom(|iters| {
                let (p, subs) = $make;
                let cs = (0..$consumers)
                    .map(|_| {
                        let mut s = subs.subscribe();
                        let yielding = $yielding;
                        Box::new(move |n: u64| {
                            let mut expected = 0;
                            while expected < n {
                                match s.try_recv() {
                                    Ok(v) => check(&mut expected, v),
                                    Err(_) => idle(yielding),
                                }
                            }
                        }) as Box<dyn FnOnce(u64) + Send>
                    })
                    .collect();
                cross_thread(iters, cs, p, |p, i| p.publish(i))
            });
        });
    };
}

fn throughput(c: &mut Criterion, consumers: usize) {
    let name = format!("throughput_1to{consumers}");
    let yielding = consumers > 1;
    let id = "u64";
    let mut g = c.benchmark_group(&name);
    g.throughput(Throughput::Elements(1));
    photon_api_throughput!(
        g,
        "ring-spmc-bounded",
        id,
        consumers,
        yielding,
        ring_spmc::channel_bounded::<u64>(CAP, 0)
    );
    photon_api_throughput!(
        g,
        "photon-ring-bounded",
        id,
        consumers,
        yielding,
        photon_ring::channel_bounded::<u64>(CAP, 0)
    );
    // Our disruptor-style batch read (`Subscriber::recv_each`): one head
    // load and one cursor store per batch, as disruptor's poller.
    g.bench_function(BenchmarkId::new("ring-spmc-bounded-each", id), |b| {
        b.iter_custom(|iters| {
            let (p, subs) = ring_spmc::channel_bounded::<u64>(CAP, 0);
            let cs = (0..consumers)
                .map(|_| {
                    let mut s = subs.subscribe();
                    Box::new(move |n: u64| {
                        let mut expected = 0;
                        while expected < n {
                            if s.recv_each(usize::MAX, |v| check(&mut expected, v)) == 0 {
                                idle(yielding);
                            }
                        }
                    }) as Box<dyn FnOnce(u64) + Send>
                })
                .collect();
            cross_thread(iters, cs, p, |p, i| p.publish(i))
        });
    });
    g.bench_function(BenchmarkId::new("disruptor", id), |b| {
        b.iter_custom(|iters| {
            let (pollers, p) = disruptor_fanout(consumers);
            let cs = pollers
                .into_iter()
                .map(|mut poller| {
                    Box::new(move |n: u64| {
                        let mut expected = 0;
                        while expected < n {
                            match poller.poll() {
                                Ok(mut guard) => {
                                    for v in &mut guard {
                                        check(&mut expected, *v);
                                    }
                                }
                                Err(Polling::NoEvents) => idle(yielding),
                                Err(Polling::Shutdown) => panic!("shut down early"),
                            }
                        }
                    }) as Box<dyn FnOnce(u64) + Send>
                })
                .collect();
            cross_thread(iters, cs, p, |p, i| p.publish(i))
        });
    });
    if consumers == 1 {
        // disruptor again, with 16-byte events: the size of our `u64`
        // slot (stamp and value). The consumer checks the first word.
        // Beside the 8-byte row it shows what the stamp's density costs
        // a ring that moves a line per few values (see the docs above).
        g.bench_function(BenchmarkId::new("disruptor-16B", id), |b| {
            b.iter_custom(|iters| {
                let builder = disruptor::build_single_producer(CAP, || [0_u64; 2], BusySpin);
                let (mut poller, builder) = builder.new_event_poller();
                let p = builder.build();
                let consume = Box::new(move |n: u64| {
                    let mut expected = 0;
                    while expected < n {
                        match poller.poll() {
                            Ok(mut guard) => {
                                for v in &mut guard {
                                    check(&mut expected, v[0]);
                                }
                            }
                            Err(Polling::NoEvents) => idle(yielding),
                            Err(Polling::Shutdown) => panic!("shut down early"),
                        }
                    }
                }) as Box<dyn FnOnce(u64) + Send>;
                cross_thread(iters, vec![consume], p, |p, i| p.publish(|e| *e = [i, !i]))
            });
        });
    }
    g.bench_function(BenchmarkId::new("bus", id), |b| {
        b.iter_custom(|iters| {
            let mut bus = bus::Bus::<u64>::new(CAP);
            let cs = (0..consumers)
                .map(|_| {
                    let mut rx = bus.add_rx();
                    Box::new(move |n: u64| {
                        let mut expected = 0;
                        while expected < n {
                            match rx.try_recv() {
                                Ok(v) => check(&mut expected, v),
                                Err(_) => idle(yielding),
                            }
                        }
                    }) as Box<dyn FnOnce(u64) + Send>
                })
                .collect();
            cross_thread(iters, cs, bus, |bus, i| bus.broadcast(i))
        });
    });
    g.bench_function(BenchmarkId::new("crossbeam", id), |b| {
        b.iter_custom(|iters| {
            let (txs, rxs): (Vec<_>, Vec<_>) = (0..consumers)
                .map(|_| crossbeam_channel::bounded::<u64>(CAP))
                .unzip();
            let cs = rxs
                .into_iter()
                .map(|rx| {
                    Box::new(move |n: u64| {
                        let mut expected = 0;
                        while expected < n {
                            match rx.try_recv() {
                                Ok(v) => check(&mut expected, v),
                                Err(_) => idle(yielding),
                            }
                        }
                    }) as Box<dyn FnOnce(u64) + Send>
                })
                .collect();
            cross_thread(iters, cs, txs, |txs, i| {
                for tx in txs.iter() {
                    tx.send(i).unwrap();
                }
            })
        });
    });
    g.finish();
}

// --------------------------------------------------------------- pingpong

/// Mean round trip of `iters` pings between two pinned threads.
fn pingpong_run<A: Send + 'static, B: Send + 'static>(
    iters: u64,
    ends: (A, B),
    ping: impl Fn(&mut A, u64) -> u64 + Send + 'static,
    pong: impl Fn(&mut B, u64) + Send + 'static,
) -> Duration {
    let n = iters.max(MIN_VALUES / 10);
    let (mut a, mut b) = ends;
    let echo = std::thread::spawn(move || {
        pin(1);
        pong(&mut b, n);
        b
    });
    pin(0);
    let start = Instant::now();
    for i in 0..n {
        assert_eq!(ping(&mut a, i), i);
    }
    let took = start.elapsed();
    drop(echo.join().unwrap());
    drop(a);
    scale(took, iters, n)
}

macro_rules! photon_api_pingpong {
    ($g:expr, $name:expr, $id:expr, $make:expr) => {
        $g.bench_function(BenchmarkId::new($name, $id), |b| {
            b.iter_custom(|iters| {
                let (p1, s1) = $make;
                let (p2, s2) = $make;
                let (r1, r2) = (s1.subscribe(), s2.subscribe());
                pingpong_run(
                    iters,
                    ((p1, r2), (p2, r1)),
                    |(p, r), i| {
                        p.publish(i);
                        r.recv()
                    },
                    |(p, r), n| {
                        for _ in 0..n {
                            let v = r.recv();
                            p.publish(v);
                        }
                    },
                )
            });
        });
    };
}

fn pingpong(c: &mut Criterion) {
    let mut g = c.benchmark_group("pingpong");
    let id = "u64";
    photon_api_pingpong!(
        g,
        "ring-spmc-bounded",
        id,
        ring_spmc::channel_bounded::<u64>(64, 0)
    );
    photon_api_pingpong!(
        g,
        "photon-ring-bounded",
        id,
        photon_ring::channel_bounded::<u64>(64, 0)
    );
    g.bench_function(BenchmarkId::new("disruptor", id), |b| {
        b.iter_custom(|iters| {
            let (e1, b1) =
                disruptor::build_single_producer(64, || 0_u64, BusySpin).new_event_poller();
            let (e2, b2) =
                disruptor::build_single_producer(64, || 0_u64, BusySpin).new_event_poller();
            let (p1, p2) = (b1.build(), b2.build());
            fn take(
                poller: &mut disruptor::EventPoller<u64, disruptor::SingleProducerBarrier>,
            ) -> u64 {
                loop {
                    if let Ok(mut guard) = poller.take(1)
                        && let Some(v) = (&mut guard).next()
                    {
                        return *v;
                    }
                    std::hint::spin_loop();
                }
            }
            pingpong_run(
                iters,
                ((p1, e2), (p2, e1)),
                |(p, e), i| {
                    p.publish(|x| *x = i);
                    take(e)
                },
                |(p, e), n| {
                    for _ in 0..n {
                        let v = take(e);
                        p.publish(|x| *x = v);
                    }
                },
            )
        });
    });
    g.bench_function(BenchmarkId::new("bus", id), |b| {
        b.iter_custom(|iters| {
            let mut b1 = bus::Bus::<u64>::new(64);
            let mut b2 = bus::Bus::<u64>::new(64);
            let (r1, r2) = (b1.add_rx(), b2.add_rx());
            pingpong_run(
                iters,
                ((b1, r2), (b2, r1)),
                |(b, r), i| {
                    b.broadcast(i);
                    loop {
                        if let Ok(v) = r.try_recv() {
                            return v;
                        }
                        std::hint::spin_loop();
                    }
                },
                |(b, r), n| {
                    for _ in 0..n {
                        let v = loop {
                            if let Ok(v) = r.try_recv() {
                                break v;
                            }
                            std::hint::spin_loop();
                        };
                        b.broadcast(v);
                    }
                },
            )
        });
    });
    g.bench_function(BenchmarkId::new("crossbeam", id), |b| {
        b.iter_custom(|iters| {
            let (t1, r1) = crossbeam_channel::bounded::<u64>(64);
            let (t2, r2) = crossbeam_channel::bounded::<u64>(64);
            pingpong_run(
                iters,
                ((t1, r2), (t2, r1)),
                |(t, r), i| {
                    t.send(i).unwrap();
                    loop {
                        if let Ok(v) = r.try_recv() {
                            return v;
                        }
                        std::hint::spin_loop();
                    }
                },
                |(t, r), n| {
                    for _ in 0..n {
                        let v = loop {
                            if let Ok(v) = r.try_recv() {
                                break v;
                            }
                            std::hint::spin_loop();
                        };
                        t.send(v).unwrap();
                    }
                },
            )
        });
    });
    g.bench_function(BenchmarkId::new("hardware-floor", id), |b| {
        b.iter_custom(|iters| {
            // One cache-padded word each way, so the two directions never
            // share a line: each hop is one line transfer, as for a ring's
            // slot. Values are i + 1 so the initial 0 is never taken for
            // ping 0. The waits are bare loads, without `spin_loop()`: a
            // pause instruction can delay seeing the new line by tens of
            // nanoseconds, and the floor is the transfer alone.
            let words = Arc::new(Floor::default());
            pingpong_run(
                iters,
                (Arc::clone(&words), words),
                |w, i| {
                    // Release/Acquire: the same handover a channel's slot
                    // does (pairs with the echo's load/store below).
                    w.ping.store(i + 1, Ordering::Release);
                    while w.pong.load(Ordering::Acquire) != i + 1 {}
                    i
                },
                |w, n| {
                    for i in 0..n {
                        while w.ping.load(Ordering::Acquire) != i + 1 {}
                        w.pong.store(i + 1, Ordering::Release);
                    }
                },
            )
        });
    });
    g.finish();
}

/// The hardware floor's two words, each on its own cache line(s).
#[derive(Default)]
struct Floor {
    ping: CachePadded<AtomicU64>,
    pong: CachePadded<AtomicU64>,
}

// ------------------------------------------------------------------- main

fn main() {
    pin(0);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
        .configure_from_args();
    publish::<1>(&mut c, "8B");
    publish::<4>(&mut c, "32B");
    publish::<8>(&mut c, "64B");
    publish::<32>(&mut c, "256B");
    roundtrip::<1>(&mut c, "8B");
    roundtrip::<4>(&mut c, "32B");
    roundtrip::<8>(&mut c, "64B");
    roundtrip::<32>(&mut c, "256B");
    fanout(&mut c);
    throughput(&mut c, 1);
    throughput(&mut c, 2);
    pingpong(&mut c);
    c.final_summary();

    let sizes = ["8B", "32B", "64B", "256B"];
    let lossless = ["photon-ring-bounded", "disruptor", "bus", "crossbeam"];
    seqcast_benches::print_ratios("publish", "ring-spmc", &["photon-ring"], &sizes);
    seqcast_benches::print_ratios(
        "publish",
        "ring-spmc-bounded",
        &["photon-ring-bounded"],
        &sizes,
    );
    seqcast_benches::print_ratios("roundtrip", "ring-spmc", &["photon-ring"], &sizes);
    seqcast_benches::print_ratios("roundtrip", "ring-spmc-bounded", &lossless, &sizes);
    let ns: Vec<String> = FANOUT.iter().map(|n| n.to_string()).collect();
    let ns: Vec<&str> = ns.iter().map(String::as_str).collect();
    seqcast_benches::print_ratios("fanout", "ring-spmc", &["photon-ring"], &ns);
    seqcast_benches::print_ratios("fanout", "ring-spmc-bounded", &lossless[1..], &ns);
    seqcast_benches::print_marginal(
        "fanout",
        &[
            "ring-spmc",
            "ring-spmc-bounded",
            "photon-ring",
            "disruptor",
            "bus",
            "crossbeam",
        ],
        "1",
        "32",
        31.0,
    );
    let with_16b = [&lossless[..], &["disruptor-16B"]].concat();
    for group in ["throughput_1to1", "throughput_1to2"] {
        let peers = if group == "throughput_1to1" {
            &with_16b[..]
        } else {
            &lossless[..]
        };
        seqcast_benches::print_ratios(group, "ring-spmc-bounded", peers, &["u64"]);
        seqcast_benches::print_ratios(group, "ring-spmc-bounded-each", peers, &["u64"]);
    }
    let with_floor = [&lossless[..], &["hardware-floor"]].concat();
    seqcast_benches::print_ratios("pingpong", "ring-spmc-bounded", &with_floor, &["u64"]);
}
