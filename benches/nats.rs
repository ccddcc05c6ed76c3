//! bridge-nats against raw async-nats publish/subscribe of payloads of the
//! same size, through a `nats-server` this bench starts on loopback (it
//! prints why and measures nothing when `nats-server` is not installed).
//!
//! `cargo bench --bench nats` runs every row, then a bounded latency pass,
//! and prints a table: messages per second for each side, the bridge's
//! throughput overhead (raw rate / bridge rate - 1), and the p50/p99
//! latency from `send` to a remote `recv`. Rows:
//!
//! * `nats_64B/<side>/<receivers>`: 64-byte values. The bridge forwards a
//!   chan-broadcast lossless channel of `(u64, u64, [u8; 32], [u8; 16])`
//!   (postcard: about 60 bytes) to `receivers` `RemoteReceiver`s; raw
//!   async-nats publishes 64-byte payloads to as many subscriptions.
//! * `async-nats-header` rows: raw async-nats with the bridge's one
//!   header (`Seqcast: data <session> <seq>`) on every message: what the
//!   header costs the client and the server, apart from the bridge (the
//!   bridge carried its metadata so until it measured this).
//! * `async-nats-reply` rows: raw async-nats with the bridge's metadata
//!   in the reply subject (`_SEQCAST.data.<session>.<seq>`), as the
//!   bridge sends it: what the metadata costs apart from the bridge.
//! * `nats_4KiB/<side>/<receivers>`: 4096-byte chunks. The bridge forwards
//!   a stream-bytes `ByteWriter`'s stream to `RemoteByteStream`s; raw
//!   async-nats publishes the same `Bytes`. The bridge's writer is bounded
//!   (`max_buffered_bytes(1 MiB)`, `Policy::Block`), as raw async-nats's
//!   publishing is (its client's bounded command channel, and tokio's
//!   cooperative budget, which makes the publisher yield every 128 sends).
//! * `bridge-nats-unbounded` rows (4 KiB only): the same with the
//!   default, unbounded writer. The publisher's `write_bytes` then never
//!   waits: each batch puts all its 2 000 chunks (8 MB) in the writer at
//!   once, and when they are freed glibc trims its heap, so the next
//!   batch's allocations fault their pages in again (`perf record -e
//!   page-faults`: most of the bench's faults are in `nats::payload`'s
//!   `calloc` on this row, few on the bounded one). That cost is the
//!   allocator's, paid by the bench's own payloads, not the bridge's.
//!
//! After the criterion rows, a paired pass measures the bridge's overhead
//! again, more robustly: for each payload size and receiver count, a
//! bridge rig and a raw rig (the bridge's writer bounded, as above) take
//! one batch each in turn, 30 rounds after 3 of warm-up, the order swapped
//! every round, and the table gives the median, minimum and maximum of
//! the rounds' overheads (bridge time ÷ raw time − 1). Criterion's rows run
//! one after another, seconds apart, and this VM's speed drifts between
//! them by more than the overhead measured. `SEQCAST_NO_PAIRED=1` skips
//! it, the latency pass and the table (to profile one criterion row alone).
//!
//! Each receiver has a client (a connection) of its own, as separate
//! processes would; everything runs on one 2-worker tokio runtime (this
//! machine has 2 cores, shared with the server). One iteration sends a
//! batch of messages and waits until every receiver has it (or was told
//! it lost it: core NATS may drop; losses are counted and printed).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput};
use futures::StreamExt;
use seqcast_benches::runtime;
use seqcast_test_support::nats::NatsServer;
use tokio::sync::Notify;

/// Messages per iteration.
const BATCH_64: u64 = 10_000;
const BATCH_4K: u64 = 2_000;
/// The paired pass: rounds (one bridge batch and one raw batch each), after
/// warm-up rounds.
const PAIRED_ROUNDS: usize = 30;
const PAIRED_WARM_UP: usize = 3;
/// The latency pass: messages, one per millisecond.
const LATENCY_MESSAGES: u64 = 1_000;
const RECEIVERS: [usize; 2] = [1, 4];
/// The end marker of a raw stream (the bridge has its close frame).
const END: u64 = u64::MAX;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Size {
    B64,
    K4,
}

impl Size {
    fn group(self) -> &'static str {
        match self {
            Size::B64 => "nats_64B",
            Size::K4 => "nats_4KiB",
        }
    }
    fn batch(self) -> u64 {
        match self {
            Size::B64 => BATCH_64,
            Size::K4 => BATCH_4K,
        }
    }
    /// The payload column of the printed tables.
    fn label(self) -> &'static str {
        match self {
            Size::B64 => "64 B",
            Size::K4 => "4 KiB",
        }
    }
    fn len(self) -> usize {
        match self {
            Size::B64 => 64,
            Size::K4 => 4096,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Bridge,
    /// The bridge with an unbounded `ByteWriter` (4 KiB only).
    BridgeUnbounded,
    Raw,
    /// Raw async-nats with the bridge's one header on every message (what
    /// the header alone costs in the client and the server).
    RawHeader,
    /// Raw async-nats with the bridge's metadata in the reply subject, as
    /// the bridge sends it (what the metadata costs apart from the bridge).
    RawReply,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Bridge => "bridge-nats",
            Side::BridgeUnbounded => "bridge-nats-unbounded",
            Side::Raw => "async-nats",
            Side::RawHeader => "async-nats-header",
            Side::RawReply => "async-nats-reply",
        }
    }
}

/// The bridge's 64-byte value: sequence number, send stamp, padding.
type Value = (u64, u64, [u8; 32], [u8; 16]);

/// A payload of `len` bytes carrying `seq` and `stamp` in its first 16.
fn payload(len: usize, seq: u64, stamp: u64) -> Bytes {
    let mut b = BytesMut::zeroed(len);
    b[..8].copy_from_slice(&seq.to_le_bytes());
    b[8..16].copy_from_slice(&stamp.to_le_bytes());
    b.freeze()
}

fn read_payload(b: &[u8]) -> (u64, u64) {
    (
        u64::from_le_bytes(b[..8].try_into().unwrap()),
        u64::from_le_bytes(b[8..16].try_into().unwrap()),
    )
}

/// What a receiver got from its source.
enum Got {
    Value { seq: u64, stamp: u64 },
    Lost(u64),
    End,
}

/// The publishing end of a rig.
enum Pub {
    Values(
        chan_broadcast::LosslessSender<Value>,
        tokio::task::JoinHandle<Result<bridge_nats::Forwarded, bridge_nats::ForwardError>>,
    ),
    Chunks(
        stream_bytes::ByteWriter,
        tokio::task::JoinHandle<Result<bridge_nats::Forwarded, bridge_nats::ForwardError>>,
    ),
    Raw(async_nats::Client, usize),
    RawHeader(async_nats::Client, usize),
    RawReply(async_nats::Client, usize),
}

impl Pub {
    async fn send(&mut self, subject: &'static str, seq: u64, stamp: u64) {
        match self {
            Pub::Values(tx, _) => {
                tx.send((seq, stamp, [7; 32], [9; 16])).await.unwrap();
            }
            Pub::Chunks(w, _) => w.write_bytes(payload(4096, seq, stamp)).unwrap(),
            Pub::Raw(c, len) => c.publish(subject, payload(*len, seq, stamp)).await.unwrap(),
            Pub::RawHeader(c, len) => {
                let mut h = async_nats::HeaderMap::new();
                h.insert(
                    async_nats::HeaderName::from_static("Seqcast"),
                    format!("data 5eed5eed5eed5eed {seq}"),
                );
                c.publish_with_headers(subject, h, payload(*len, seq, stamp))
                    .await
                    .unwrap()
            }
            Pub::RawReply(c, len) => c
                .publish_with_reply(
                    subject,
                    format!("_SEQCAST.data.5eed5eed5eed5eed.{seq}"),
                    payload(*len, seq, stamp),
                )
                .await
                .unwrap(),
        }
    }

    async fn close(self, subject: &'static str) {
        match self {
            Pub::Values(tx, f) => {
                drop(tx);
                f.await.unwrap().unwrap();
            }
            Pub::Chunks(mut w, f) => {
                w.close();
                f.await.unwrap().unwrap();
            }
            Pub::Raw(c, len) | Pub::RawHeader(c, len) | Pub::RawReply(c, len) => {
                c.publish(subject, payload(len, END, 0)).await.unwrap();
                c.flush().await.unwrap();
            }
        }
    }
}

const SUBJECT: &str = "bench";

/// Where the receivers of one rig report.
#[derive(Default)]
struct Progress {
    /// The sequence number that ends the current batch.
    target: AtomicU64,
    /// Receivers that have not reached it.
    remaining: AtomicUsize,
    done: Notify,
    lost: AtomicU64,
    record: AtomicBool,
}

/// One publisher and its remote receivers, kept across iterations.
struct Rig {
    publisher: Pub,
    /// The subject its messages go through (rigs alive at once differ).
    subject: &'static str,
    receivers: Vec<tokio::task::JoinHandle<Vec<u64>>>,
    progress: Arc<Progress>,
    next: u64,
    base: Instant,
    n: usize,
}

fn options() -> bridge_nats::Options {
    bridge_nats::Options::default().heartbeat_interval(Duration::from_millis(200))
}

impl Rig {
    async fn new(
        server: &NatsServer,
        side: Side,
        size: Size,
        n: usize,
        subject: &'static str,
    ) -> Rig {
        let progress = Arc::new(Progress::default());
        let base = Instant::now();
        let mut receivers = Vec::new();
        for _ in 0..n {
            let client = async_nats::connect(server.url()).await.unwrap();
            let progress = progress.clone();
            // As a user would size it: a few thousand messages of slack.
            let capacity = 4096;
            let handle = match (side, size) {
                (Side::Bridge | Side::BridgeUnbounded, Size::B64) => {
                    let mut rx = bridge_nats::subscribe_with::<Value, _>(
                        &client,
                        subject,
                        capacity,
                        options(),
                        bridge_nats::Postcard,
                    )
                    .await
                    .unwrap();
                    tokio::spawn(receive(progress, base, async move || {
                        match rx.recv().await {
                            Ok(v) => Got::Value {
                                seq: black_box(v).0,
                                stamp: v.1,
                            },
                            Err(chan_broadcast::error::RecvError::Lagged(n)) => Got::Lost(n),
                            Err(chan_broadcast::error::RecvError::Closed) => Got::End,
                        }
                    }))
                }
                (Side::Bridge | Side::BridgeUnbounded, Size::K4) => {
                    let mut s = bridge_nats::subscribe_bytes(&client, subject, capacity, options())
                        .await
                        .unwrap();
                    tokio::spawn(receive(progress, base, async move || {
                        match s.next().await {
                            Some(Ok(b)) if b.is_empty() => Got::End,
                            Some(Ok(b)) => {
                                let (seq, stamp) = read_payload(&b);
                                Got::Value { seq, stamp }
                            }
                            Some(Err(e)) => Got::Lost(
                                e.get_ref()
                                    .and_then(|e| e.downcast_ref::<bridge_nats::LostBytes>())
                                    .map_or(1, bridge_nats::LostBytes::chunks),
                            ),
                            None => Got::End,
                        }
                    }))
                }
                (Side::Raw | Side::RawHeader | Side::RawReply, _) => {
                    let mut sub = client.subscribe(subject).await.unwrap();
                    // Live for the publisher's connection (a flush only
                    // writes to the socket).
                    bridge_nats::round_trip(&client).await.unwrap();
                    tokio::spawn(receive(progress, base, async move || {
                        match sub.next().await {
                            Some(m) => match read_payload(&m.payload) {
                                (END, _) => Got::End,
                                (seq, stamp) => Got::Value { seq, stamp },
                            },
                            None => Got::End,
                        }
                    }))
                }
            };
            receivers.push(handle);
        }
        let client = async_nats::connect(server.url()).await.unwrap();
        let publisher = match (side, size) {
            (Side::Bridge | Side::BridgeUnbounded, Size::B64) => {
                let (tx, rx) = chan_broadcast::channel_lossless(1024);
                let f = bridge_nats::forward_with(
                    rx,
                    client,
                    subject,
                    options(),
                    bridge_nats::Postcard,
                );
                Pub::Values(tx, f)
            }
            (Side::Bridge | Side::BridgeUnbounded, Size::K4) => {
                let w = if side == Side::Bridge {
                    stream_bytes::ByteWriter::builder()
                        .max_buffered_bytes(1 << 20)
                        .on_full(stream_bytes::Policy::Block)
                        .build()
                } else {
                    stream_bytes::ByteWriter::default()
                };
                let f = bridge_nats::forward_bytes(w.stream(), client, subject, options());
                Pub::Chunks(w, f)
            }
            (Side::Raw, size) => Pub::Raw(client, size.len()),
            (Side::RawHeader, size) => Pub::RawHeader(client, size.len()),
            (Side::RawReply, size) => Pub::RawReply(client, size.len()),
        };
        Rig {
            publisher,
            subject,
            receivers,
            progress,
            next: 1,
            base,
            n,
        }
    }

    /// Sends `count` messages (`gap` apart, if any) and waits until every
    /// receiver has them; the time it took.
    async fn batch(&mut self, count: u64, gap: Option<Duration>) -> Duration {
        let last = self.next + count - 1;
        // Set before the batch's first send, which the receivers can see
        // only after (through the server): no receiver reads a stale target.
        self.progress.target.store(last, Ordering::SeqCst);
        self.progress.remaining.store(self.n, Ordering::SeqCst);
        let done = self.progress.done.notified();
        tokio::pin!(done);
        done.as_mut().enable();
        let start = Instant::now();
        for seq in self.next..=last {
            let stamp = self.base.elapsed().as_nanos() as u64;
            self.publisher.send(self.subject, seq, stamp).await;
            if let Some(g) = gap {
                tokio::time::sleep(g).await;
            }
        }
        if tokio::time::timeout(Duration::from_secs(30), done)
            .await
            .is_err()
        {
            panic!("a batch did not arrive within 30 s");
        }
        self.next = last + 1;
        start.elapsed()
    }

    /// Closes the publisher; every receiver's latencies (ns).
    async fn finish(self) -> (Vec<u64>, u64) {
        self.publisher.close(self.subject).await;
        let mut all = Vec::new();
        for r in self.receivers {
            all.extend(
                tokio::time::timeout(Duration::from_secs(30), r)
                    .await
                    .expect("a receiver did not end")
                    .unwrap(),
            );
        }
        (all, self.progress.lost.load(Ordering::SeqCst))
    }
}

/// A receiver's loop: counts, records latency when asked, reports the end
/// of each batch.
async fn receive(
    progress: Arc<Progress>,
    base: Instant,
    mut next: impl AsyncFnMut() -> Got,
) -> Vec<u64> {
    let mut latencies = Vec::new();
    let mut position = 0u64;
    loop {
        match next().await {
            Got::Value { seq, stamp } => {
                position = seq;
                // Relaxed: set once before the latency batch is sent, and
                // seen after it through the server's round trip.
                if progress.record.load(Ordering::Relaxed) {
                    latencies.push((base.elapsed().as_nanos() as u64).saturating_sub(stamp));
                }
            }
            Got::Lost(n) => {
                position += n;
                progress.lost.fetch_add(n, Ordering::SeqCst);
            }
            Got::End => return latencies,
        }
        let target = progress.target.load(Ordering::SeqCst);
        if position == target && progress.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            progress.done.notify_one();
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let Some(server) = NatsServer::start() else {
        println!(
            "nats bench: nats-server not found; nothing measured (apt-get install nats-server)"
        );
        return;
    };
    let test_mode = std::env::args().any(|a| a == "--test");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .configure_from_args();
    let rt = runtime();
    for size in [Size::B64, Size::K4] {
        let mut g = c.benchmark_group(size.group());
        g.throughput(Throughput::Elements(size.batch()));
        for n in RECEIVERS {
            for side in [
                Side::Bridge,
                Side::BridgeUnbounded,
                Side::Raw,
                Side::RawHeader,
                Side::RawReply,
            ] {
                if side == Side::BridgeUnbounded && size == Size::B64 {
                    continue;
                }
                let mut rig = rt.block_on(Rig::new(&server, side, size, n, SUBJECT));
                g.bench_function(BenchmarkId::new(side.name(), n), |b| {
                    b.iter_custom(|iters| {
                        rt.block_on(async {
                            let mut t = Duration::ZERO;
                            for _ in 0..iters {
                                t += rig.batch(size.batch(), None).await;
                            }
                            t
                        })
                    });
                });
                let (_, lost) = rt.block_on(rig.finish());
                if lost > 0 {
                    eprintln!(
                        "note: {} {} x{n}: {lost} messages lost on the way (core NATS or the receiver's local channel; reported as lag, counted as delivered in the rate)",
                        size.group(),
                        side.name()
                    );
                }
            }
        }
        g.finish();
    }
    c.final_summary();
    if seqcast_benches::paired_pass_skipped() {
        return;
    }

    // The paired pass: a bridge rig and a raw rig side by side, one batch
    // each in turn (the order swapped every round), so a drift of the
    // machine between criterion's rows, run one after the other, does not
    // land on one side only. The overhead of each pair, its median and
    // range.
    let rounds = if test_mode { 2 } else { PAIRED_ROUNDS };
    let mut paired = Vec::new();
    for size in [Size::B64, Size::K4] {
        for n in RECEIVERS {
            let mut bridge = rt.block_on(Rig::new(
                &server,
                Side::Bridge,
                size,
                n,
                "bench.paired.bridge",
            ));
            let mut raw = rt.block_on(Rig::new(&server, Side::Raw, size, n, "bench.paired.raw"));
            let ratios = seqcast_benches::paired_ratios(
                PAIRED_WARM_UP,
                rounds,
                || rt.block_on(bridge.batch(size.batch(), None)),
                || rt.block_on(raw.batch(size.batch(), None)),
            );
            rt.block_on(bridge.finish());
            rt.block_on(raw.finish());
            // Time ratio = raw rate / bridge rate; sorted, as `ratios`.
            let overheads: Vec<f64> = ratios.iter().map(|r| (r - 1.0) * 100.0).collect();
            paired.push((size, n, overheads));
        }
    }

    // The latency pass: one message a millisecond (tokio's timer
    // granularity), so latency is not queueing behind a burst.
    let messages = if test_mode { 20 } else { LATENCY_MESSAGES };
    let mut latency = Vec::new();
    for size in [Size::B64, Size::K4] {
        for n in RECEIVERS {
            for side in [Side::Bridge, Side::Raw] {
                let (mut l, _) = rt.block_on(async {
                    let mut rig = Rig::new(&server, side, size, n, SUBJECT).await;
                    rig.progress.record.store(true, Ordering::SeqCst);
                    rig.batch(messages, Some(Duration::from_millis(1))).await;
                    rig.finish().await
                });
                l.sort_unstable();
                latency.push((size, n, side, percentile(&l, 0.5), percentile(&l, 0.99)));
            }
        }
    }

    println!(
        "\nbridge-nats vs raw async-nats (same payload sizes, same server, same run)\n\
         | payload | receivers | bridge msgs/s | raw msgs/s | overhead | raw+header msgs/s | overhead vs raw+header | raw+reply msgs/s | overhead vs raw+reply | bridge p50/p99 µs | raw p50/p99 µs | bridge, unbounded writer msgs/s | its overhead |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for size in [Size::B64, Size::K4] {
        for n in RECEIVERS {
            let p = n.to_string();
            let rate = |side: Side| {
                seqcast_benches::mean_ns(size.group(), side.name(), &p)
                    .map(|ns| size.batch() as f64 / ns * 1e9)
            };
            let lat = |side: Side| {
                latency
                    .iter()
                    .find(|l| l.0 == size && l.1 == n && l.2 == side)
                    .map_or("-".to_owned(), |l| format!("{:.0} / {:.0}", l.3, l.4))
            };
            let (b, r, h, y) = (
                rate(Side::Bridge),
                rate(Side::Raw),
                rate(Side::RawHeader),
                rate(Side::RawReply),
            );
            let fmt = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.0}"));
            // Of the bridge at rate `bridge` against a raw rate `r`.
            let overhead_of = |bridge: Option<f64>, r: Option<f64>| match (bridge, r) {
                (Some(bridge), Some(r)) => format!("{:+.1}%", (r / bridge - 1.0) * 100.0),
                _ => "-".to_owned(),
            };
            let overhead = |r: Option<f64>| overhead_of(b, r);
            let u = rate(Side::BridgeUnbounded);
            println!(
                "| {} | 1→{n} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                size.label(),
                fmt(b),
                fmt(r),
                overhead(r),
                fmt(h),
                overhead(h),
                fmt(y),
                overhead(y),
                lat(Side::Bridge),
                lat(Side::Raw),
                fmt(u),
                overhead_of(u, r)
            );
        }
    }
    println!(
        "\nPaired: the bridge's overhead on throughput, batch by batch against raw async-nats in turn ({rounds} pairs each)\n\
         | payload | receivers | median | min | max | pairs over 10 % |\n\
         |---|---|--:|--:|--:|--:|"
    );
    for (size, n, o) in paired {
        let over = o.iter().filter(|&&x| x > 10.0).count();
        println!(
            "| {} | 1→{n} | {:+.1}% | {:+.1}% | {:+.1}% | {over} of {} |",
            size.label(),
            o[o.len() / 2],
            o[0],
            o[o.len() - 1],
            o.len()
        );
    }
    drop(server);
}
