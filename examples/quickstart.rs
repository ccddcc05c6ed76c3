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
