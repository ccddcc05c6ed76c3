//! seqcast quickstart: every layer in one short program, each printing what
//! happened and what its numbers mean.
//!
//! Run with `cargo run --release --example quickstart`.
//!
//! 1. `seqcast::spmc`: one thread publishes a million market ticks into a
//!    bounded ring. A risk consumer *gates* the ring (the publisher waits for
//!    it, so it loses nothing); a telemetry tap is *lossy* (it never slows
//!    the publisher; when it falls more than the ring's capacity behind, it
//!    is told exactly how many ticks it skipped).
//! 2. `seqcast::mpmc`: two feed-handler threads publish into one lossless
//!    ring that a consumer reads; each feed's ticks arrive in its order.
//! 3. `seqcast::broadcast`: order events (`Arc<str>`, a `Clone` type the
//!    rings cannot carry) fan out to tokio tasks, as with
//!    `tokio::sync::broadcast`; a lossless channel feeds an audit task that
//!    must see every event. Both close gracefully.
//! 4. `seqcast::watch`: a configuration value watched by tasks, as with
//!    `tokio::sync::watch`; they see the latest version, not every one.
//! 5. `seqcast::stream`: one writer tees bytes to three streams, sharing
//!    one allocation per write.
//!
//! Every count is checked with an assertion before it is printed.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use seqcast::{broadcast, mpmc, spmc, stream, watch};

/// A market tick: a struct with padding and a `bool`; the ring copies any
/// `T: Copy` soundly.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Tick {
    seq: u64,
    price: f64,
    buy: bool,
}

fn tick(seq: u64) -> Tick {
    Tick {
        seq,
        price: 100.0 + (seq % 100) as f64 / 100.0,
        buy: seq.is_multiple_of(3),
    }
}

const TICKS: u64 = 1_000_000;
const CAPACITY: usize = 1024;

fn main() {
    spmc_demo();
    mpmc_demo();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime");
    rt.block_on(broadcast_demo());
    rt.block_on(watch_demo());
    rt.block_on(stream_demo());
}

fn spmc_demo() {
    let (mut publisher, subscribable) = spmc::channel_bounded::<Tick>(CAPACITY, 0);
    let mut risk = subscribable.subscribe(); // gating: must see every tick
    let mut tap = subscribable.subscribe_lossy(); // lossy: must never slow the feed
    let start = Instant::now();

    let risk = std::thread::spawn(move || {
        let mut expected = 0;
        loop {
            match risk.recv_blocking() {
                Ok(t) => {
                    assert_eq!(t, tick(expected), "the gating subscriber lost a tick");
                    expected += 1;
                }
                Err(spmc::RecvError::Closed) => return expected,
                Err(spmc::RecvError::Lagged { .. }) => {
                    unreachable!("a gating subscriber never lags")
                }
            }
        }
    });
    let tap = std::thread::spawn(move || {
        let mut last = None;
        loop {
            match tap.recv_blocking() {
                Ok(t) => {
                    assert!(last < Some(t.seq), "the tap saw ticks out of order");
                    last = Some(t.seq);
                    // Telemetry is slow: it formats and ships each sample.
                    if t.seq.is_multiple_of(1024) {
                        std::thread::sleep(Duration::from_micros(50));
                    }
                }
                Err(spmc::RecvError::Lagged { .. }) => {}
                Err(spmc::RecvError::Closed) => return (tap.total_received(), tap.total_lagged()),
            }
        }
    });

    for seq in 0..TICKS {
        publisher.publish(tick(seq));
    }
    drop(publisher); // closes the ring: subscribers drain it, then see `Closed`
    let risk_got = risk.join().expect("risk consumer panicked");
    let (tap_got, tap_skipped) = tap.join().expect("telemetry tap panicked");
    let took = start.elapsed();

    assert_eq!(risk_got, TICKS);
    assert_eq!(tap_got + tap_skipped, TICKS);
    println!("seqcast::spmc: {TICKS} ticks from one thread through a {CAPACITY}-slot bounded ring");
    println!(
        "  risk consumer (gating, the publisher waits for it): received all {risk_got}, in order"
    );
    println!(
        "  telemetry tap (lossy, never waited for): received {tap_got}; skipped {tap_skipped} while it \
         was more than {CAPACITY} ticks behind, each skip reported as Lagged (received + skipped = {TICKS})"
    );
    println!(
        "  took {:.1} ms; both saw the close and stopped",
        took.as_secs_f64() * 1e3
    );
}

const PER_FEED: u32 = 500_000;

fn mpmc_demo() {
    // Lossless: every producer waits for the consumer rather than overwrite.
    let (publisher, subscribable) = mpmc::channel_mpmc_bounded::<(u8, u32)>(CAPACITY, 0);
    let mut consumer = subscribable.subscribe();
    let start = Instant::now();
    let feeds: Vec<_> = (0..2_u8)
        .map(|feed| {
            let p = publisher.clone(); // one handle per thread; `&self` publishes
            std::thread::spawn(move || {
                for seq in 0..PER_FEED {
                    p.publish((feed, seq));
                }
            })
        })
        .collect();
    drop(publisher); // the ring closes when the feeds' clones drop too
    let mut next = [0_u32; 2];
    let mut interleavings = 0_u64;
    let mut last_feed = None;
    while let Ok((feed, seq)) = consumer.recv_blocking() {
        assert_eq!(
            seq,
            next[usize::from(feed)],
            "a feed's ticks out of order or lost"
        );
        next[usize::from(feed)] += 1;
        if last_feed.is_some_and(|f| f != feed) {
            interleavings += 1;
        }
        last_feed = Some(feed);
    }
    for f in feeds {
        f.join().expect("feed panicked");
    }
    let took = start.elapsed();
    assert_eq!(next, [PER_FEED; 2]);
    println!(
        "\nseqcast::mpmc: two feed threads, {PER_FEED} ticks each, into one lossless {CAPACITY}-slot ring"
    );
    println!(
        "  consumer: received all {} ticks; each feed's in its own order; the feeds \
         interleaved {interleavings} times",
        2 * u64::from(PER_FEED)
    );
    println!(
        "  took {:.1} ms; the ring closed when the last feed's handle dropped",
        took.as_secs_f64() * 1e3
    );
}

const EVENTS: u64 = 20_000;

async fn broadcast_demo() {
    let (tx, fast_rx) = broadcast::channel::<Arc<str>>(256);
    let slow_rx = tx.subscribe();
    let (audit_tx, mut audit_rx) = broadcast::channel_lossless::<Arc<str>>(256);

    let dashboard = |mut rx: broadcast::Receiver<Arc<str>>, slow: bool| {
        tokio::spawn(async move {
            let (mut got, mut lagged) = (0_u64, 0_u64);
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        got += 1;
                        if slow && got.is_multiple_of(64) {
                            // A dashboard that redraws now and then.
                            tokio::time::sleep(Duration::from_micros(200)).await;
                        }
                        std::hint::black_box(event);
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => lagged += n,
                    Err(broadcast::error::RecvError::Closed) => return (got, lagged),
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
        let _ = tx.send(Arc::clone(&event)); // lossy: never waits
        audit_tx.send(event).await.expect("the audit task is alive"); // waits for room
    }
    // A graceful close: no more sends, and wait until every receiver has
    // read what was buffered.
    let (closing, audit_closing) = (tx.close(), audit_tx.close());
    closing.drained().await;
    audit_closing.drained().await;
    let fast = fast.await.expect("fast dashboard");
    let slow = slow.await.expect("slow dashboard");
    let audit = audit.await.expect("audit");

    assert_eq!(fast.0 + fast.1, EVENTS);
    assert_eq!(slow.0 + slow.1, EVENTS);
    assert_eq!(audit, EVENTS);
    println!(
        "\nseqcast::broadcast: {EVENTS} order events to three tokio tasks (256 buffered at most)"
    );
    println!(
        "  fast dashboard (lossy):  received {}, told it lagged by {} (received + lagged = {EVENTS})",
        fast.0, fast.1
    );
    println!(
        "  slow dashboard (lossy):  received {}, told it lagged by {} (received + lagged = {EVENTS})",
        slow.0, slow.1
    );
    println!("  audit (lossless, the sender waited for it): received all {audit}, in order");
    println!("  closed gracefully: every receiver drained what was buffered");
}

#[derive(Clone, Debug, PartialEq)]
struct Config {
    version: u32,
    rate_limit: u32,
}

async fn watch_demo() {
    let (tx, rx) = watch::channel(Config {
        version: 1,
        rate_limit: 100,
    });
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let mut rx = rx.clone();
            tokio::spawn(async move {
                let mut applied = vec![rx.borrow_and_update().version];
                while rx.changed().await.is_ok() {
                    applied.push(rx.borrow_and_update().version);
                }
                applied
            })
        })
        .collect();
    drop(rx);
    for version in 2..=5 {
        tx.send_modify(|c| {
            c.version = version;
            c.rate_limit += 50;
        });
        // A reload every few milliseconds; workers apply whichever
        // version is current when they wake.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    drop(tx); // the workers' `changed` returns Err once they have seen v5
    println!("\nseqcast::watch: configuration versions 1 to 5, watched by three tasks");
    for (i, w) in workers.into_iter().enumerate() {
        let applied = w.await.expect("worker");
        assert_eq!(applied.last(), Some(&5), "every worker ends on the latest");
        assert!(applied.is_sorted(), "versions never go backwards");
        println!(
            "  worker {i} applied versions {applied:?} (it may skip versions that were replaced \
             before it looked; it never misses the latest)"
        );
    }
}

async fn stream_demo() {
    let mut writer = stream::ByteWriter::default();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let mut s = writer.stream();
            tokio::spawn(async move {
                let (mut chunks, mut bytes, mut addresses) = (0, 0, Vec::new());
                while let Some(chunk) = s.next().await {
                    let chunk = chunk.expect("an unbounded writer never disconnects a stream");
                    if chunk.is_empty() {
                        break; // the close signal
                    }
                    chunks += 1;
                    bytes += chunk.len();
                    addresses.push(chunk.as_ptr().addr()); // where this write's bytes live
                }
                (chunks, bytes, addresses)
            })
        })
        .collect();
    for i in 0..100 {
        writer
            .write_all(format!("log line {i}\n").as_bytes())
            .expect("the writer is open");
    }
    let written = writer.bytes_written();
    writer.close();
    println!("\nseqcast::stream: one writer, 100 log lines ({written} bytes), three streams");
    let mut first_addresses = None;
    for (i, r) in readers.into_iter().enumerate() {
        let (chunks, bytes, addresses) = r.await.expect("reader");
        assert_eq!((chunks, bytes as u64), (100, written));
        // Zero-copy: every stream's chunk of a write is the same bytes in
        // memory, not a copy per stream.
        let first = first_addresses.get_or_insert_with(|| addresses.clone());
        assert_eq!(*first, addresses, "a stream got a copy");
        println!(
            "  stream {i}: {chunks} chunks, {bytes} bytes (every chunk as written, at the same \
             address in every stream: one shared allocation per write), then the close signal"
        );
    }
}
