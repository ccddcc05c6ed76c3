//! seqcast quickstart: move values between two threads through ring-core's
//! seqlock slots, and print what happened.
//!
//! Run with `cargo run --release --example quickstart`.
//!
//! One writer thread publishes a million `Tick`s, one every 50 ns (a busy
//! market-data feed), into a ring of 1024 slots without ever waiting for the
//! reader (the ring is lossy); the main thread follows it,
//! parking on a `Doorbell` when it has caught up, and counts how many ticks
//! it received and how many it lost to overwrites. A tick is a struct with
//! padding and a `bool`: ring-core's slot copies any `T: Copy` soundly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ring_core::{Capacity, Doorbell, ReadResult, Slots, WaitStrategy};

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
