//! Values across a real nats-server: order and every value (1→1, 1→16),
//! close and drain, heartbeat loss, bad payloads, oversize values.

mod common;

use std::time::Duration;

use bridge_nats::{ForwardError, Options, Postcard, RemoteError, RemoteReceiver};
use chan_broadcast::error::RecvError;
use common::{Config, Tick, connect, within};

/// Receives until `Closed`, asserting nothing is lost; the values got.
async fn all_until_closed(rx: &mut RemoteReceiver<Tick>) -> Vec<u64> {
    let mut got = Vec::new();
    loop {
        match within(rx.recv_item()).await {
            Ok(t) => {
                assert_eq!(t.name, format!("tick-{}", t.n));
                got.push(t.n);
            }
            Err(RemoteError::Closed) => return got,
            Err(e) => panic!("after {} values: {e}", got.len()),
        }
    }
}

async fn one_to_many(receivers: usize, values: u64) {
    let server = server_or_skip!();
    let publisher = connect(&server).await;
    // Four client connections shared by the receivers, as four processes.
    let mut clients = Vec::new();
    for _ in 0..receivers.min(4) {
        clients.push(connect(&server).await);
    }
    let mut rxs = Vec::new();
    for i in 0..receivers {
        let rx = within(bridge_nats::subscribe::<Tick>(
            &clients[i % clients.len()],
            "ticks",
            values as usize + 64,
        ))
        .await
        .unwrap();
        rxs.push(rx);
    }
    let (tx, rx) = chan_broadcast::channel(values as usize);
    let forwarder = bridge_nats::forward(rx, publisher, "ticks");
    for n in 1..=values {
        tx.send(Tick::new(n)).unwrap();
    }
    drop(tx);
    let readers: Vec<_> = rxs
        .into_iter()
        .map(|mut rx| tokio::spawn(async move { all_until_closed(&mut rx).await }))
        .collect();
    for r in readers {
        let got = within(r).await.unwrap();
        assert_eq!(got, (1..=values).collect::<Vec<_>>());
    }
    let stats = within(forwarder).await.unwrap().unwrap();
    assert_eq!((stats.values, stats.lost), (values, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_in_order_one_to_one() {
    one_to_many(1, 5_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_in_order_one_to_sixteen() {
    one_to_many(16, 2_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_crosses_the_wire_and_receivers_drain_first() {
    let server = server_or_skip!();
    let client = connect(&server).await;
    let mut fast = within(bridge_nats::subscribe::<u64>(&client, "c", 1024))
        .await
        .unwrap();
    // A second local receiver of the same feed that reads only later.
    let mut late = fast.resubscribe();
    let (tx, rx) = chan_broadcast::channel(1024);
    let forwarder = bridge_nats::forward(rx, client.clone(), "c");
    for n in 0..500u64 {
        tx.send(n).unwrap();
    }
    // chan-broadcast's graceful close: the forwarder drains, then closes.
    let closing = tx.close();
    for n in 0..500u64 {
        assert_eq!(within(fast.recv()).await, Ok(n));
    }
    assert_eq!(within(fast.recv()).await, Err(RecvError::Closed));
    assert_eq!(within(fast.recv()).await, Err(RecvError::Closed));
    within(closing.drained()).await;
    let stats = within(forwarder).await.unwrap().unwrap();
    assert_eq!(stats.values, 500);
    // The late receiver still has every value, then the close.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for n in 0..500u64 {
        assert_eq!(late.try_recv(), Ok(n));
    }
    assert_eq!(
        late.try_recv(),
        Err(chan_broadcast::error::TryRecvError::Closed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_forwarder_is_detected_by_heartbeat() {
    let server = server_or_skip!();
    let options = Options::default()
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_millis(800));
    let client = connect(&server).await;
    let mut rx = within(bridge_nats::subscribe_with::<u64, _>(
        &client, "hb", 64, options, Postcard,
    ))
    .await
    .unwrap();
    // The forwarder has a client of its own, as its own process would.
    let doomed = connect(&server).await;
    let (tx, local) = chan_broadcast::channel(64);
    let forwarder = bridge_nats::forward_with(local, doomed, "hb", options, Postcard);
    tx.send(7u64).unwrap();
    assert_eq!(within(rx.recv()).await, Ok(7));
    // Alive but idle for well over the timeout: heartbeats keep it alive.
    let idle = tokio::time::timeout(Duration::from_millis(2_000), rx.recv_item()).await;
    assert!(
        idle.is_err(),
        "an idle, live forwarder was reported: {idle:?}"
    );
    // The forwarder vanishes without a close: its task and client go.
    forwarder.abort();
    let started = std::time::Instant::now();
    match within(rx.recv_item()).await {
        Err(RemoteError::PublisherLost { silent_for }) => {
            assert!(silent_for >= Duration::from_millis(800), "{silent_for:?}");
        }
        other => panic!("expected PublisherLost, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(within(rx.recv()).await, Err(RecvError::Closed));
    drop(tx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payloads_and_foreign_messages_are_error_items() {
    let server = server_or_skip!();
    let client = connect(&server).await;
    let mut detailed = within(bridge_nats::subscribe::<Tick>(&client, "bad", 64))
        .await
        .unwrap();
    let mut plain = detailed.resubscribe();
    // Frames written by hand, in the documented wire format.
    let raw = connect(&server).await;
    let frame = |kind: &str, seq: u64| format!("_SEQCAST.{kind}.abc.{seq}");
    let good = |n: u64| bytes::Bytes::from(postcard::to_allocvec(&Tick::new(n)).unwrap());
    raw.publish_with_reply("bad", frame("data", 1), good(1))
        .await
        .unwrap();
    // Truncated: the string's length says 6 bytes, 2 follow.
    raw.publish_with_reply(
        "bad",
        frame("data", 2),
        bytes::Bytes::from_static(&[2, 6, b't', b'i']),
    )
    .await
    .unwrap();
    raw.publish("bad", "not a frame".into()).await.unwrap();
    raw.publish_with_reply("bad", frame("nonsense", 3), good(3))
        .await
        .unwrap();
    raw.publish_with_reply("bad", frame("data", 3), good(3))
        .await
        .unwrap();
    raw.publish_with_reply("bad", frame("close", 3), bytes::Bytes::new())
        .await
        .unwrap();
    raw.flush().await.unwrap();

    assert_eq!(within(detailed.recv_item()).await, Ok(Tick::new(1)));
    match within(detailed.recv_item()).await {
        Err(RemoteError::Decode { seq: 2, error }) => assert!(!error.is_empty()),
        other => panic!("expected a decode error, got {other:?}"),
    }
    for _ in 0..2 {
        match within(detailed.recv_item()).await {
            Err(RemoteError::Foreign(e)) => assert!(!e.is_empty()),
            other => panic!("expected a foreign-message error, got {other:?}"),
        }
    }
    assert_eq!(within(detailed.recv_item()).await, Ok(Tick::new(3)));
    assert_eq!(within(detailed.recv_item()).await, Err(RemoteError::Closed));

    // The same through tokio's API: each unreadable message is one lost value.
    assert_eq!(within(plain.recv()).await, Ok(Tick::new(1)));
    for _ in 0..3 {
        assert_eq!(within(plain.recv()).await, Err(RecvError::Lagged(1)));
    }
    assert_eq!(within(plain.recv()).await, Ok(Tick::new(3)));
    assert_eq!(within(plain.recv()).await, Err(RecvError::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_value_is_a_clear_error_at_the_sender() {
    let server = server_or_skip!(Config {
        max_payload: Some(64 * 1024),
        ..Config::default()
    });
    let client = connect(&server).await;
    assert_eq!(client.server_info().max_payload, 64 * 1024);
    let options = Options::default()
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_millis(600));
    let mut rx = within(bridge_nats::subscribe_with::<Vec<u8>, _>(
        &client, "big", 16, options, Postcard,
    ))
    .await
    .unwrap();
    let (tx, local) = chan_broadcast::channel(16);
    let forwarder = bridge_nats::forward_with(local, client.clone(), "big", options, Postcard);
    tx.send(vec![1u8; 60 * 1024]).unwrap(); // fits
    tx.send(vec![2u8; 100 * 1024]).unwrap(); // does not
    match within(forwarder).await.unwrap() {
        Err(ForwardError::Oversize {
            seq,
            size,
            max_payload,
        }) => {
            assert_eq!((seq, max_payload), (2, 64 * 1024));
            assert!(size > 100 * 1024, "{size}");
        }
        other => panic!("expected Oversize, got {other:?}"),
    }
    assert_eq!(within(rx.recv()).await.map(|v| v.len()), Ok(60 * 1024));
    // The remote side sees a forwarder that stopped without a close.
    assert!(matches!(
        within(rx.recv_item()).await,
        Err(RemoteError::PublisherLost { .. })
    ));
}

/// Values already queued at the forwarder go out several to a message,
/// each message within the server's max_payload, and arrive every one, in
/// order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_values_are_batched_within_max_payload() {
    let server = server_or_skip!(Config {
        max_payload: Some(4096),
        ..Config::default()
    });
    let client = connect(&server).await;
    let mut raw = within(client.subscribe("batched")).await.unwrap();
    let mut rx = within(bridge_nats::subscribe::<Vec<u8>>(&client, "batched", 512))
        .await
        .unwrap();
    let values = 300u64;
    let (tx, local) = chan_broadcast::channel(512);
    // All queued before the forwarder's task first runs.
    for n in 0..values {
        tx.send(vec![n as u8; 900]).unwrap();
    }
    drop(tx);
    let forwarder = bridge_nats::forward(local, client.clone(), "batched");
    for n in 0..values {
        assert_eq!(within(rx.recv()).await, Ok(vec![n as u8; 900]), "value {n}");
    }
    assert_eq!(within(rx.recv()).await, Err(RecvError::Closed));
    let stats = within(forwarder).await.unwrap().unwrap();
    assert_eq!((stats.values, stats.lost), (values, 0));
    // What went over the wire: fewer messages than values, none too big.
    let (mut data_messages, mut batches) = (0, 0);
    loop {
        let m = within(futures::StreamExt::next(&mut raw)).await.unwrap();
        let meta = m
            .reply
            .as_ref()
            .unwrap()
            .strip_prefix("_SEQCAST.")
            .unwrap()
            .to_string();
        assert!(m.payload.len() < 4096, "{} bytes", m.payload.len());
        if meta.starts_with("close") {
            break;
        }
        if meta.starts_with("batch") || meta.starts_with("data") {
            data_messages += 1;
            batches += usize::from(meta.starts_with("batch"));
        }
    }
    assert!(
        batches > 0 && data_messages < values,
        "{data_messages} data messages, {batches} batches"
    );
    // At most four 900-byte values fit under 4096 bytes.
    assert!(data_messages >= values.div_ceil(4), "{data_messages}");
}
