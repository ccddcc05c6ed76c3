//! seqcast quickstart: move values between threads, first through
//! ring-core's seqlock slots directly, then through ring-spmc's broadcast
//! ring, and print what happened.
//!
//! Run with `cargo run --release --example quickstart`.
//!
//! One writer thread publishes a million `Tick`s, one every 50 ns (a busy
//! market-data feed), into a ring of 1024 slots without ever waiting for the
//! reader (the ring is lossy); the main thread follows it,
//! parking on a `Doorbell` when it has caught up, and counts how many ticks
//! it received and how many it lost to overwrites. A tick is a struct with
//! padding and a `bool`: ring-core's slot copies any `T: Copy` soundly.
//!
//! Then ring-spmc: one publisher, a risk consumer that must see every tick
//! (it gates a bounded ring), and a telemetry tap that must never slow the
//! feed (a lossy subscriber of the same ring); both park when idle and
//! learn that the feed closed when the publisher is dropped.
//!
//! Last, chan-broadcast on a tokio runtime: order events (`Arc<str>`, a
//! `Clone` type the rings cannot carry) fan out to three tasks. Two
//! dashboards read a lossy channel (the slow one lags and is told by how
//! much); an audit task reads a lossless channel whose sender waits for it,
//! so it sees every event. The feed then closes gracefully and waits until
//! every task has drained what was buffered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ring_core::{Capacity, Doorbell, ReadResult, Slots, WaitStrategy};
use ring_spmc::{RecvError, channel_bounded};

#[derive(Clone, Copy, Debug, PartialEq)]
struct Tick {
    seq: u64,
    price: f64,
    buy: bool,
}

const TICKS: u64 = 1_000_000;
const CAPACITY: usize = 1024;
/// The feed's pace: one tick per this many nanoseconds.
const PACE_NS: u64 = 50;

fn tick(seq: u64) -> Tick {
    Tick {
        seq,
        price: 100.0 + (seq % 100) as f64 / 100.0,
        buy: seq.is_multiple_of(3),
    }
}

fn main() {
    slots_demo();
    spmc_demo();
    broadcast_demo();
}

const EVENTS: u64 = 100_000;

fn broadcast_demo() {
    use chan_broadcast::error::RecvError as BRecvError;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let start = Instant::now();
    let (dash_fast, dash_slow, audit) = rt.block_on(async {
        let (tx, fast_rx) = chan_broadcast::channel::<Arc<str>>(256);
        let slow_rx = tx.subscribe();
        let (audit_tx, mut audit_rx) = chan_broadcast::channel_lossless::<Arc<str>>(256);

        let dashboard = |mut rx: chan_broadcast::Receiver<Arc<str>>, slow: bool| {
            tokio::spawn(async move {
                let (mut got, mut lagged) = (0_u64, 0_u64);
                loop {
                    match rx.recv().await {
                        Ok(event) => {
                            got += 1;
                            if slow && got % 64 == 0 {
                                // A dashboard that redraws now and then.
                                tokio::time::sleep(Duration::from_micros(200)).await;
                            }
                            std::hint::black_box(event);
                        }
                        Err(BRecvError::Lagged(n)) => lagged += n,
                        Err(BRecvError::Closed) => return (got, lagged),
                    }
                }
            })
        };
        let fast = dashboard(fast_rx, false);
        let slow = dashboard(slow_rx, true);
        let audit = tokio::spawn(async move {
            let mut seen = 0_u64;
            while let Ok(event) = audit_rx.recv().await {
                assert_eq!(
                    event.as_ref(),
                    format!("order {seen}"),
                    "in order, none lost"
                );
                seen += 1;
            }
            seen
        });

        for i in 0..EVENTS {
            let event: Arc<str> = format!("order {i}").into();
            let _ = tx.send(Arc::clone(&event));
            audit_tx.send(event).await.expect("the audit task is alive");
        }
        let closing = (tx.close(), audit_tx.close());
        let (_closed, _audit_closed) = (closing.0.drained().await, closing.1.drained().await);
        (
            fast.await.expect("fast dashboard"),
            slow.await.expect("slow dashboard"),
            audit.await.expect("audit"),
        )
    });
    let took = start.elapsed();
    println!("\nchan-broadcast: {EVENTS} order events to three tokio tasks");
    println!(
        "  fast dashboard (lossy):  received {}, lagged {}",
        dash_fast.0, dash_fast.1
    );
    println!(
        "  slow dashboard (lossy):  received {}, lagged {} (told exactly how many)",
        dash_slow.0, dash_slow.1
    );
    println!("  audit (lossless):        received {audit}, lost 0");
    assert_eq!(dash_fast.0 + dash_fast.1, EVENTS);
    assert_eq!(dash_slow.0 + dash_slow.1, EVENTS);
    assert_eq!(audit, EVENTS);
    println!("  closed and drained in {:.1} ms", took.as_secs_f64() * 1e3);
}

fn slots_demo() {
    let ring = Arc::new(Slots::<Tick>::new(Capacity::new(CAPACITY)));
    let bell = Arc::new(Doorbell::new());
    let start = Instant::now();

    let writer = {
        let (ring, bell) = (Arc::clone(&ring), Arc::clone(&bell));
        std::thread::spawn(move || {
            let begin = Instant::now();
            for seq in 0..TICKS {
                while begin.elapsed() < Duration::from_nanos(seq * PACE_NS) {
                    std::hint::spin_loop();
                }
                // SAFETY: this thread is the ring's only writer and writes
                // sequences in increasing order.
                unsafe { ring.get(seq).write(seq, tick(seq)) };
                bell.ring();
            }
        })
    };

    let (mut cursor, mut received, mut lost) = (0_u64, 0_u64, 0_u64);
    while cursor < TICKS {
        let outcome = bell.wait_until(WaitStrategy::default(), || {
            match ring.get(cursor).try_read(cursor) {
                ReadResult::NotWritten | ReadResult::Writing => None,
                other => Some(other),
            }
        });
        match outcome {
            ReadResult::Ready(t) => {
                assert_eq!(t, tick(cursor), "a torn or misplaced tick");
                received += 1;
                cursor += 1;
            }
            ReadResult::Overwritten { stamp } => {
                // The writer lapped us: skip to the oldest tick it still holds.
                let newest = stamp.sequence().expect("an overwrite has a sequence");
                let oldest = Capacity::new(CAPACITY).oldest_retained(newest + 1);
                lost += oldest - cursor;
                cursor = oldest;
            }
            ReadResult::NotWritten | ReadResult::Writing => unreachable!(),
        }
    }
    writer.join().expect("writer panicked");
    let took = start.elapsed();

    println!(
        "ring-core quickstart: {TICKS} ticks, one per {PACE_NS} ns, through a {CAPACITY}-slot lossy ring"
    );
    println!(
        "  received {received}, lost to overwrites {lost} (sum {})",
        received + lost
    );
    println!("  took {:.1} ms", took.as_secs_f64() * 1e3);
    assert_eq!(
        received + lost,
        TICKS,
        "every tick is received or counted as lost"
    );
    println!("  every tick arrived whole, in order, or was counted as lost");
}

fn spmc_demo() {
    let (mut publisher, subscribable) = channel_bounded::<Tick>(CAPACITY, 0);
    let mut risk = subscribable.subscribe();
    let mut tap = subscribable.subscribe_lossy();
    let start = Instant::now();

    let risk = std::thread::spawn(move || {
        let mut expected = 0;
        loop {
            match risk.recv_blocking() {
                Ok(t) => {
                    assert_eq!(t, tick(expected), "the gating subscriber lost a tick");
                    expected += 1;
                }
                Err(RecvError::Closed) => return expected,
                Err(RecvError::Lagged { .. }) => unreachable!("a gating subscriber never lags"),
            }
        }
    });
    let tap = std::thread::spawn(move || {
        loop {
            match tap.recv_blocking() {
                Ok(_) | Err(RecvError::Lagged { .. }) => {}
                Err(RecvError::Closed) => return (tap.total_received(), tap.total_lagged()),
            }
        }
    });

    for seq in 0..TICKS {
        publisher.publish(tick(seq));
    }
    drop(publisher); // closes the channel
    let risk_got = risk.join().expect("risk consumer panicked");
    let (tap_got, tap_lost) = tap.join().expect("tap panicked");
    let took = start.elapsed();

    println!("\nring-spmc: {TICKS} ticks through a bounded {CAPACITY}-slot ring, two subscribers");
    println!("  risk (gating):  received {risk_got}, lost 0");
    println!(
        "  telemetry tap:  received {tap_got}, lost to lag {tap_lost} (sum {})",
        tap_got + tap_lost
    );
    println!(
        "  took {:.1} ms; both saw the close and stopped",
        took.as_secs_f64() * 1e3
    );
    assert_eq!(risk_got, TICKS);
    assert_eq!(tap_got + tap_lost, TICKS);
}
