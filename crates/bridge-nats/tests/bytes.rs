//! Byte streams across a real nats-server: chunk boundaries and order
//! (1→2), the close, exact lost-byte counts (a gap on the wire, and bytes
//! the forwarded stream itself lost), heartbeat loss, an oversize chunk.

mod common;

use std::io;
use std::time::Duration;

use bridge_nats::{ForwardError, LostBytes, Options, RemoteByteStream};
use bytes::Bytes;
use common::{Config, connect, within};
use futures::StreamExt;
use stream_bytes::{ByteWriter, Policy};

/// Collects chunks until the end; errors are pushed as their text.
async fn collect(mut s: RemoteByteStream) -> Vec<Result<Bytes, String>> {
    let mut out = Vec::new();
    while let Some(item) = within(s.next()).await {
        out.push(item.map_err(|e| format!("{:?}: {e}", e.kind())));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_keep_their_boundaries_and_order_then_the_close() {
    let server = server_or_skip!();
    let client = connect(&server).await;
    let a = within(bridge_nats::subscribe_bytes(
        &client,
        "b",
        4096,
        Options::default(),
    ))
    .await
    .unwrap();
    let other = connect(&server).await;
    let b = within(bridge_nats::subscribe_bytes(
        &other,
        "b",
        4096,
        Options::default(),
    ))
    .await
    .unwrap();
    let mut writer = ByteWriter::default();
    let forwarder =
        bridge_nats::forward_bytes(writer.stream(), client.clone(), "b", Options::default());
    // 1 B to 8 KiB chunks, each filled with its index.
    let chunks: Vec<Bytes> = (0..1_000usize)
        .map(|i| Bytes::from(vec![i as u8; 1 + (i * 37) % 8192]))
        .collect();
    let total: usize = chunks.iter().map(Bytes::len).sum();
    for c in &chunks {
        writer.write_bytes(c.clone()).unwrap();
    }
    writer.close();
    let (got_a, got_b) = tokio::join!(collect(a), collect(b));
    for got in [got_a, got_b] {
        assert_eq!(got.len(), chunks.len() + 1);
        for (g, c) in got.iter().zip(&chunks) {
            assert_eq!(g.as_ref().unwrap(), c);
        }
        assert_eq!(got.last().unwrap().as_ref().unwrap(), ""); // the close
    }
    let stats = within(forwarder).await.unwrap().unwrap();
    assert_eq!((stats.values, stats.bytes), (1_000, total as u64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_on_the_wire_is_an_error_with_the_exact_byte_count() {
    let server = server_or_skip!();
    let client = connect(&server).await;
    let stream = within(bridge_nats::subscribe_bytes(
        &client,
        "g",
        64,
        Options::default(),
    ))
    .await
    .unwrap();
    // Frames written by hand in the documented format, as a forwarder
    // whose chunks 2 and 3 (5 + 7 bytes) and its last chunk (4 bytes)
    // were dropped on the way.
    let raw = connect(&server).await;
    let frame = |kind: &str, seq: u64, offset: u64| format!("_SEQCAST.{kind}.5eed.{seq}.{offset}");
    for (reply, body) in [
        (frame("data", 1, 0), &b"abc"[..]),
        (frame("data", 4, 15), &b"xy"[..]),
        (frame("close", 5, 21), &b""[..]),
    ] {
        raw.publish_with_reply("g", reply, Bytes::copy_from_slice(body))
            .await
            .unwrap();
    }
    raw.flush().await.unwrap();
    let mut s = stream;
    assert_eq!(within(s.next()).await.unwrap().unwrap(), "abc");
    let lost = |e: io::Error| {
        assert_eq!(e.kind(), io::ErrorKind::Other);
        *e.get_ref().unwrap().downcast_ref::<LostBytes>().unwrap()
    };
    assert_eq!(
        lost(within(s.next()).await.unwrap().unwrap_err()),
        LostBytes::new(2, 12)
    );
    assert_eq!(within(s.next()).await.unwrap().unwrap(), "xy");
    assert_eq!(
        lost(within(s.next()).await.unwrap().unwrap_err()),
        LostBytes::new(1, 4)
    );
    assert_eq!(within(s.next()).await.unwrap().unwrap(), "");
    assert!(within(s.next()).await.is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn bytes_the_forwarded_stream_lost_are_reported_remotely() {
    let server = server_or_skip!();
    let client = connect(&server).await;
    let remote = within(bridge_nats::subscribe_bytes(
        &client,
        "d",
        64,
        Options::default(),
    ))
    .await
    .unwrap();
    let mut writer = ByteWriter::builder()
        .max_buffered_bytes(500)
        // Count payload bytes only (no per-chunk charge), so the limit
        // holds exactly 5 of these 100-byte chunks.
        .chunk_overhead(0)
        .on_full(Policy::DisconnectSlowest)
        .build();
    let forwarder =
        bridge_nats::forward_bytes(writer.stream(), client.clone(), "d", Options::default());
    // On this single-threaded runtime the forwarder has not run yet: its
    // stream holds 5 chunks (500 bytes) when the 6th write disconnects it.
    for i in 0..6u8 {
        writer.write_bytes(Bytes::from(vec![i; 100])).unwrap();
    }
    let stats = within(forwarder).await.unwrap().unwrap();
    assert_eq!((stats.values, stats.lost_bytes), (0, 500));
    let got = collect(remote).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].as_ref().unwrap_err().contains("500 bytes"),
        "{got:?}"
    );
    assert_eq!(got[1].as_ref().unwrap(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_writer_ends_the_stream_with_connection_aborted() {
    let server = server_or_skip!();
    let options = Options::default()
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_millis(700));
    let client = connect(&server).await;
    let mut s = within(bridge_nats::subscribe_bytes(&client, "v", 64, options))
        .await
        .unwrap();
    let doomed = connect(&server).await;
    let mut writer = ByteWriter::default();
    let forwarder = bridge_nats::forward_bytes(writer.stream(), doomed, "v", options);
    writer.write_bytes(Bytes::from_static(b"hello")).unwrap();
    assert_eq!(within(s.next()).await.unwrap().unwrap(), "hello");
    forwarder.abort();
    let e = within(s.next()).await.unwrap().unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted, "{e}");
    assert!(within(s.next()).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_chunk_is_a_clear_error_at_the_sender() {
    let server = server_or_skip!(Config {
        max_payload: Some(32 * 1024),
        ..Config::default()
    });
    let client = connect(&server).await;
    let mut writer = ByteWriter::default();
    let forwarder = bridge_nats::forward_bytes(writer.stream(), client, "o", Options::default());
    writer.write_bytes(Bytes::from(vec![0; 40 * 1024])).unwrap();
    match within(forwarder).await.unwrap() {
        Err(ForwardError::Oversize {
            seq: 1,
            max_payload,
            ..
        }) => {
            assert_eq!(max_payload, 32 * 1024);
        }
        other => panic!("expected Oversize, got {other:?}"),
    }
}
