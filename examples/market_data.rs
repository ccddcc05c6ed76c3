//! A market-data feed on `seqcast::spmc`: one publisher, a gating risk
//! consumer that must lose nothing, a lossy telemetry tap that can never
//! stall the feed, and a debug tap that attaches halfway through.
//!
//! ```sh
//! cargo run --release --example market_data
//! ```
//!
//! The ring is bounded (`channel_bounded`): the risk consumer *gates* it,
//! so the publisher waits rather than overwrite a quote risk has not read.
//! The taps come from `subscribe_lossy`: they never gate, so a tap that
//! stops reading costs the feed nothing; when a tap falls more than the
//! ring's capacity behind it gets `Lagged { skipped }` with the exact count
//! and carries on from the oldest quote still held. Each consumer prints
//! what it received and what it was told it skipped, and the program checks
//! that the two add up to what was published while it was subscribed.
//!
//! That the telemetry tap cannot stall the feed is shown, not assumed: it
//! reads nothing at all for the first half of the feed (stuck shipping a
//! batch), and the feed publishes that half anyway, hundreds of times the
//! ring's capacity; the tap is then told it skipped at least all but a
//! ring's worth of it.

use std::time::{Duration, Instant};

use seqcast::spmc::{self, RecvError, Subscriber};

/// One quote: an instrument id, bid and ask in ticks, and the feed's
/// sequence number (checked by every consumer).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Quote {
    seq: u64,
    instrument: u32,
    bid: i64,
    ask: i64,
}

fn quote(seq: u64) -> Quote {
    let mid = 10_000 + (seq % 500) as i64;
    Quote {
        seq,
        instrument: (seq % 64) as u32,
        bid: mid - 1,
        ask: mid + 1,
    }
}

const QUOTES: u64 = 2_000_000;
const CAPACITY: usize = 4096;

/// What a consumer saw: quotes received, quotes it was told it skipped.
#[derive(Debug)]
struct Seen {
    received: u64,
    skipped: u64,
    first: Option<u64>,
}

/// Reads until the close, checking order, sleeping `pause` every
/// `every` quotes (a slow consumer).
fn consume(mut sub: Subscriber<Quote>, every: u64, pause: Duration) -> Seen {
    let mut first = None;
    let mut last: Option<u64> = None;
    loop {
        match sub.recv_blocking() {
            Ok(q) => {
                assert_eq!(q, quote(q.seq), "a torn quote");
                assert!(last < Some(q.seq), "quotes out of order");
                first.get_or_insert(q.seq);
                last = Some(q.seq);
                if every > 0 && q.seq.is_multiple_of(every) {
                    std::thread::sleep(pause);
                }
            }
            Err(RecvError::Lagged { .. }) => {} // counted in total_lagged()
            Err(RecvError::Closed) => {
                return Seen {
                    received: sub.total_received(),
                    skipped: sub.total_lagged(),
                    first,
                };
            }
        }
    }
}

fn main() {
    let (mut publisher, subscribable) = spmc::channel_bounded::<Quote>(CAPACITY, 0);
    let risk = subscribable.subscribe();
    let telemetry = subscribable.subscribe_lossy();
    let start = Instant::now();

    let risk = std::thread::spawn(move || {
        let mut risk = risk;
        let mut exposure = 0_i64;
        let mut next = 0;
        while let Ok(q) = risk.recv_blocking() {
            assert_eq!(q.seq, next, "the risk consumer lost or reordered a quote");
            next += 1;
            exposure += q.ask - q.bid;
        }
        (next, exposure)
    });
    // Telemetry is stuck (reads nothing) until the feed is halfway, then
    // ships a sample every 256 quotes and takes 100 µs to do it: far slower
    // than the feed.
    let (unstick, stuck) = std::sync::mpsc::channel::<()>();
    let telemetry = std::thread::spawn(move || {
        stuck.recv().expect("the feed reaches its halfway point");
        consume(telemetry, 256, Duration::from_micros(100))
    });

    let mut debug = None;
    for seq in 0..QUOTES {
        if seq == QUOTES / 2 {
            // Half the feed went out while the telemetry tap read nothing:
            // it never held the feed back.
            unstick.send(()).expect("the telemetry tap is waiting");
            // An engineer attaches a debug tap to the live feed: it sees
            // quotes from now on, and cannot slow the feed down.
            let tap = subscribable.subscribe_lossy();
            debug = Some(std::thread::spawn(move || {
                consume(tap, 1024, Duration::from_micros(20))
            }));
        }
        publisher.publish(quote(seq));
    }
    let published = publisher.published();
    drop(publisher); // closes the feed: consumers drain what is held, then see Closed
    let feed_time = start.elapsed();

    let (risk_received, exposure) = risk.join().expect("risk consumer panicked");
    let telemetry = telemetry.join().expect("telemetry tap panicked");
    let debug = debug.expect("attached").join().expect("debug tap panicked");

    assert_eq!(published, QUOTES);
    assert_eq!(risk_received, QUOTES);
    assert_eq!(exposure, 2 * QUOTES as i64);
    assert_eq!(telemetry.received + telemetry.skipped, QUOTES);
    // While stuck it fell behind by half the feed, of which the ring held
    // at most its capacity: the rest was skipped, not waited for.
    assert!(telemetry.skipped >= QUOTES / 2 - CAPACITY as u64);
    assert_eq!(debug.received + debug.skipped, QUOTES / 2);
    assert!(debug.first.is_some_and(|f| f >= QUOTES / 2));

    println!(
        "{QUOTES} quotes published through a {CAPACITY}-slot bounded ring in {:.1} ms",
        feed_time.as_secs_f64() * 1e3
    );
    println!(
        "  risk (gating; the feed waits for it):  received {risk_received}, skipped 0, in order"
    );
    println!(
        "  telemetry tap (lossy; read nothing until quote {}, then slow): received {}, told it skipped {} \
         (sum {}: every quote since it subscribed; the feed never waited for it)",
        QUOTES / 2,
        telemetry.received,
        telemetry.skipped,
        telemetry.received + telemetry.skipped
    );
    println!(
        "  debug tap (lossy, attached at quote {}): received {}, told it skipped {} (sum {}: every quote since it attached)",
        QUOTES / 2,
        debug.received,
        debug.skipped,
        debug.received + debug.skipped
    );
}
