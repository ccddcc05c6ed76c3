//! The limit's charging rule, exactly at the limit: each buffered chunk
//! counts its length plus `CHUNK_OVERHEAD` (the default) or the
//! builder's `chunk_overhead`, while `buffered_bytes()`, `bytes_written()`
//! and a disconnected stream's lost bytes stay in payload bytes.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use seqcast_test_support::counting_waker;
use stream_bytes::{ByteStream, ByteWriter, CHUNK_OVERHEAD, Disconnected, Policy};

const K: usize = 16;
const SIZE: usize = 64;

fn writer(max: usize, policy: Policy) -> ByteWriter {
    ByteWriter::builder()
        .max_buffered_bytes(max)
        .on_full(policy)
        .build()
}

fn chunk() -> Bytes {
    Bytes::from(vec![7u8; SIZE])
}

fn next_now(s: &mut ByteStream) -> Poll<Option<std::io::Result<Bytes>>> {
    let (waker, _) = counting_waker();
    Pin::new(s).poll_next(&mut Context::from_waker(&waker))
}

fn drain(s: &mut ByteStream) -> usize {
    let mut n = 0;
    while let Poll::Ready(Some(Ok(c))) = next_now(s) {
        n += c.len();
    }
    n
}

#[test]
fn block_holds_exactly_k_chunks_with_their_overhead() {
    let mut w = writer(K * (SIZE + CHUNK_OVERHEAD), Policy::Block);
    let mut s = w.stream();
    for i in 0..K {
        assert!(w.try_write_bytes(chunk()).unwrap(), "chunk {i} fits");
    }
    assert!(!w.try_write_bytes(chunk()).unwrap(), "chunk K+1 is refused");
    assert_eq!(w.buffered_bytes(), K * SIZE, "payload bytes");
    assert_eq!(w.bytes_written(), (K * SIZE) as u64);
    // One chunk handed out frees exactly one chunk's charge.
    assert!(matches!(next_now(&mut s), Poll::Ready(Some(Ok(c))) if c.len() == SIZE));
    assert!(w.try_write_bytes(chunk()).unwrap());
    assert!(!w.try_write_bytes(chunk()).unwrap());
}

#[test]
fn block_one_byte_short_of_k_charges_holds_k_minus_one() {
    let mut w = writer(K * (SIZE + CHUNK_OVERHEAD) - 1, Policy::Block);
    let _s = w.stream();
    for i in 0..K - 1 {
        assert!(w.try_write_bytes(chunk()).unwrap(), "chunk {i} fits");
    }
    assert!(!w.try_write_bytes(chunk()).unwrap(), "chunk K is refused");
    assert_eq!(w.buffered_bytes(), (K - 1) * SIZE);
}

#[test]
fn disconnect_slowest_fires_at_the_k_plus_first_unread_chunk() {
    let mut w = writer(K * (SIZE + CHUNK_OVERHEAD), Policy::DisconnectSlowest);
    let mut stalled = w.stream();
    let mut healthy = w.stream();
    let data = [7u8; SIZE];
    let mut read = 0;
    for _ in 0..K {
        w.write_all(&data).unwrap();
        read += drain(&mut healthy);
    }
    assert_eq!(w.stream_count(), 2, "K unread chunks fit");
    assert_eq!(w.buffered_bytes(), K * SIZE);
    w.write_all(&data).unwrap();
    read += drain(&mut healthy);
    assert_eq!(w.stream_count(), 1, "chunk K+1 disconnects the stalled one");
    assert_eq!(read, (K + 1) * SIZE, "the healthy stream got everything");
    let e = match next_now(&mut stalled) {
        Poll::Ready(Some(Err(e))) => e,
        other => panic!("expected the disconnect error, got {other:?}"),
    };
    let d = e.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
    assert_eq!(d.lost_bytes(), (K * SIZE) as u64, "payload bytes lost");
}

#[test]
fn a_chunk_whose_charge_exceeds_the_limit_is_accepted_when_empty() {
    // A 64-byte chunk is charged more than a limit of 100.
    let mut w = writer(100, Policy::Block);
    let mut s = w.stream();
    assert!(w.try_write_bytes(chunk()).unwrap(), "nothing buffered");
    assert!(!w.try_write_bytes(chunk()).unwrap());
    assert_eq!(drain(&mut s), SIZE);
    assert!(w.try_write_bytes(chunk()).unwrap());
}

#[test]
fn chunk_overhead_is_configurable_and_capped() {
    // No overhead: the limit counts payload bytes.
    let mut w = ByteWriter::builder()
        .max_buffered_bytes(K * SIZE)
        .chunk_overhead(0)
        .on_full(Policy::Block)
        .build();
    let _s = w.stream();
    for _ in 0..K {
        assert!(w.try_write_bytes(chunk()).unwrap());
    }
    assert!(!w.try_write_bytes(chunk()).unwrap());

    // A huge overhead is taken as 4096 (no overflow of the charged
    // offsets): two 1-byte chunks fit in 2 * (1 + 4096).
    let mut w = ByteWriter::builder()
        .max_buffered_bytes(2 * (1 + 4096))
        .chunk_overhead(usize::MAX)
        .on_full(Policy::Block)
        .build();
    let mut s = w.stream();
    for _ in 0..2 {
        assert!(w.try_write_bytes(Bytes::from_static(b"x")).unwrap());
    }
    assert!(!w.try_write_bytes(Bytes::from_static(b"x")).unwrap());
    assert_eq!(drain(&mut s), 2);
    assert_eq!(w.buffered_bytes(), 0);
}
