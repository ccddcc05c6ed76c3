//! What core NATS drops, reported: the server killed (SIGKILL) and
//! restarted mid-stream, and a slow consumer that NATS cuts off. Both
//! check the exact accounting: values received + values reported lost =
//! values sent, in order, then the close.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bridge_nats::{Options, Postcard, RemoteError, RemoteReceiver};
use common::{Config, connect, connect_with_delay, within};

/// What one receiver saw.
#[derive(Debug, Default)]
struct Seen {
    values: Vec<u64>,
    lost: u64,
    lags: u64,
}

impl Seen {
    /// Checks order and the exact count against `sent` values 1..=sent.
    fn check(&self, sent: u64) {
        assert!(
            self.values.windows(2).all(|w| w[0] < w[1]),
            "out of order or duplicated"
        );
        assert_eq!(
            self.values.len() as u64 + self.lost,
            sent,
            "received {} + reported lost {} != sent {sent}",
            self.values.len(),
            self.lost
        );
        assert_eq!(
            self.values.last(),
            Some(&sent),
            "the tail was not delivered"
        );
    }
}

/// Records values and losses until `Closed`; `progress` counts values.
async fn record<T: Clone>(
    rx: &mut RemoteReceiver<T>,
    n: impl Fn(&T) -> u64,
    progress: &AtomicU64,
    on_lag: impl Fn(),
) -> Seen {
    let mut seen = Seen::default();
    loop {
        match within(rx.recv_item()).await {
            Ok(v) => {
                seen.values.push(n(&v));
                // Relaxed: a progress counter the controller polls.
                progress.fetch_add(1, Ordering::Relaxed);
            }
            Err(RemoteError::Lagged(k)) => {
                seen.lost += k;
                seen.lags += 1;
                on_lag();
            }
            Err(RemoteError::Closed) => return seen,
            Err(e) => panic!("unexpected {e} after {} values", seen.values.len()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_and_restarted_mid_stream_gap_reported_delivery_resumed() {
    let mut server = server_or_skip!();
    // Heartbeats often, and a timeout longer than the outage.
    let options = Options::default()
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_secs(10));
    // The receiver comes back 1 s after the publisher: what the publisher
    // sends in between reaches nobody, so there is a gap to report.
    let receiving = connect_with_delay(&server, Duration::from_millis(1_000)).await;
    let publishing = connect(&server).await;
    let mut rx = within(bridge_nats::subscribe_with::<u64, _>(
        &receiving, "r", 4096, options, Postcard,
    ))
    .await
    .unwrap();
    let progress = Arc::new(AtomicU64::new(0));
    let reader = {
        let progress = progress.clone();
        tokio::spawn(async move { record(&mut rx, |v| *v, &progress, || {}).await })
    };
    let (tx, local) = chan_broadcast::channel(4096);
    let forwarder = bridge_nats::forward_with(local, publishing, "r", options, Postcard);
    const SENT: u64 = 1_500;
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(2));
        for n in 1..=SENT {
            tick.tick().await;
            tx.send(n).unwrap();
        }
    });
    // Kill the server once values flow, restart it on the same port.
    within(async {
        while progress.load(Ordering::Relaxed) < 200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let server = tokio::task::spawn_blocking(move || {
        server.kill();
        std::thread::sleep(Duration::from_millis(200));
        server.restart();
        server
    })
    .await
    .unwrap();
    within(sender).await.unwrap();
    let stats = within(forwarder).await.unwrap().unwrap();
    let seen = within(reader).await.unwrap();
    eprintln!(
        "received {}, reported lost {} in {} gaps",
        seen.values.len(),
        seen.lost,
        seen.lags
    );
    assert!(seen.lost > 0, "no gap reported across a server restart");
    seen.check(SENT);
    assert_eq!(stats.values, SENT);
    drop(server);
}

#[test]
fn a_slow_consumer_cut_off_by_nats_is_reported_as_lag_and_recovers() {
    // A server that cuts off a client whose unsent data passes 256 KiB.
    let Some(server) = common::NatsServer::start_with(Config {
        max_pending: Some(256 * 1024),
        max_payload: Some(64 * 1024), // may not exceed max_pending
        write_deadline: Some(Duration::from_millis(500)),
    }) else {
        return;
    };
    let url_server = Arc::new(server);
    let options = Options::default()
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_secs(15));
    const BURST: u64 = 4_000; // 4 KiB values: 16 MiB, far over the buffers
    const AFTER: u64 = 200;
    let (burst_done_tx, burst_done_rx) = std::sync::mpsc::channel::<()>();
    let (lag_seen_tx, lag_seen_rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();

    // The slow consumer: a process of its own (its own runtime on its own
    // thread) that stops reading its socket for a while.
    let consumer = {
        let server = url_server.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let client = connect(&server).await;
                let mut rx = within(bridge_nats::subscribe_with::<(u64, Vec<u8>), _>(
                    &client, "slow", 8192, options, Postcard,
                ))
                .await
                .unwrap();
                ready_tx.send(()).unwrap();
                let first = within(rx.recv()).await.unwrap();
                assert_eq!(first.0, 1);
                // Stalled: this whole runtime, its socket reads included,
                // stops until the publisher has sent the burst.
                burst_done_rx.recv_timeout(common::LIMIT).unwrap();
                std::thread::sleep(Duration::from_millis(300));
                let progress = AtomicU64::new(0);
                let mut seen = record(
                    &mut rx,
                    |v| v.0,
                    &progress,
                    || {
                        let _ = lag_seen_tx.send(());
                    },
                )
                .await;
                seen.values.insert(0, first.0);
                seen
            })
        })
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stats = rt.block_on(async {
        let client = connect(&url_server).await;
        ready_rx.recv_timeout(common::LIMIT).unwrap();
        let (tx, local) = chan_broadcast::channel(8192);
        let forwarder = bridge_nats::forward_with(local, client.clone(), "slow", options, Postcard);
        for n in 1..=BURST {
            tx.send((n, vec![n as u8; 4096])).unwrap();
        }
        // Wait until the burst is out of this process.
        within(async {
            while !tx.is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        within(client.flush()).await.unwrap();
        burst_done_tx.send(()).unwrap();
        // The consumer reports the gap (at the latest at a heartbeat after
        // it is back); give a reconnect time to finish, then send more.
        tokio::task::spawn_blocking(move || lag_seen_rx.recv_timeout(common::LIMIT))
            .await
            .unwrap()
            .expect("the slow consumer never reported a gap");
        tokio::time::sleep(Duration::from_millis(500)).await;
        for n in BURST + 1..=BURST + AFTER {
            tx.send((n, vec![n as u8; 4096])).unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        drop(tx);
        within(forwarder).await.unwrap().unwrap()
    });
    let seen = consumer.join().unwrap();
    let cut_off = url_server.log().contains("Slow Consumer");
    eprintln!(
        "received {}, reported lost {} in {} gaps; server cut the client off: {cut_off}",
        seen.values.len(),
        seen.lost,
        seen.lags
    );
    assert!(seen.lost > 0);
    seen.check(BURST + AFTER);
    // Recovered: everything sent after the gap was seen arrived.
    let after: Vec<u64> = seen.values.iter().copied().filter(|&v| v > BURST).collect();
    assert_eq!(after, (BURST + 1..=BURST + AFTER).collect::<Vec<_>>());
    assert_eq!(stats.values, BURST + AFTER);
}
