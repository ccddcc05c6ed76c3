//! ByteWriter and ByteStream behaviour at the poll level: ordering and
//! boundaries, empty writes, close (with data in flight, by drop, before a
//! stream is made), write after close, stream drop, ids, zero-copy
//! sharing, the typed pair.

use std::io::{ErrorKind, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::executor::block_on;
use futures::{Stream, StreamExt};
use seqcast_test_support::counting_waker;
use stream_bytes::{ByteStream, ByteWriter, TypedWriter};

fn poll(s: &mut ByteStream, cx: &mut Context<'_>) -> Poll<Option<std::io::Result<Bytes>>> {
    Pin::new(s).poll_next(cx)
}

fn ready_chunk(s: &mut ByteStream) -> Bytes {
    let (waker, _) = counting_waker();
    match poll(s, &mut Context::from_waker(&waker)) {
        Poll::Ready(Some(Ok(b))) => b,
        other => panic!("expected a chunk, got {other:?}"),
    }
}

#[test]
fn chunks_arrive_in_order_with_their_boundaries_across_many_writes() {
    let n = if cfg!(miri) { 200 } else { 10_000 };
    let mut w = ByteWriter::default();
    let mut a = w.stream();
    let mut b = w.stream();
    let mut expected = Vec::new();
    for i in 0..n {
        let chunk = format!("{i}:").repeat(i % 7 + 1);
        w.write_all(chunk.as_bytes()).unwrap();
        expected.push(chunk);
    }
    w.close();
    for s in [&mut a, &mut b] {
        for e in &expected {
            assert_eq!(ready_chunk(s), e.as_bytes());
        }
        assert_eq!(ready_chunk(s), "", "close signal");
        let (waker, _) = counting_waker();
        assert!(matches!(
            poll(s, &mut Context::from_waker(&waker)),
            Poll::Ready(None)
        ));
    }
    let total: usize = expected.iter().map(String::len).sum();
    assert_eq!(w.bytes_written(), total as u64);
    assert_eq!(w.buffered_bytes(), 0);
}

#[test]
fn a_stream_sees_only_chunks_written_after_it_was_made() {
    let mut w = ByteWriter::default();
    w.write_all(b"before").unwrap();
    let mut s = w.stream();
    w.write_all(b"after").unwrap();
    assert_eq!(ready_chunk(&mut s), "after");
}

#[test]
fn an_empty_write_sends_nothing_and_is_not_the_close() {
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    assert_eq!(w.write(b"").unwrap(), 0);
    w.write_bytes(Bytes::new()).unwrap();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(poll(&mut s, &mut cx).is_pending());
    w.write_all(b"x").unwrap();
    assert_eq!(count.count(), 1, "the write wakes the waiting stream once");
    assert_eq!(ready_chunk(&mut s), "x");
    assert_eq!(w.bytes_written(), 1);
}

#[test]
fn a_waiting_stream_is_woken_by_a_write_and_not_before() {
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(poll(&mut s, &mut cx).is_pending());
    assert!(poll(&mut s, &mut cx).is_pending());
    assert_eq!(count.count(), 0, "no spurious wake-up");
    w.write_all(b"a").unwrap();
    w.write_all(b"b").unwrap();
    assert_eq!(count.count(), 1, "woken once, not once per write");
    assert_eq!(ready_chunk(&mut s), "a");
    assert_eq!(ready_chunk(&mut s), "b");
}

#[test]
fn close_with_data_in_flight_delivers_it_then_the_signal_then_ends() {
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    w.write_all(b"one").unwrap();
    w.write_all(b"two").unwrap();
    w.close();
    w.close(); // twice: no second signal
    let got: Vec<_> = block_on(s.by_ref().map(Result::unwrap).collect());
    assert_eq!(got, ["one", "two", ""]);
    assert!(block_on(s.next()).is_none(), "stays ended");
}

#[test]
fn close_wakes_a_waiting_stream() {
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(poll(&mut s, &mut cx).is_pending());
    w.close();
    assert_eq!(count.count(), 1);
    assert_eq!(ready_chunk(&mut s), "");
}

#[test]
fn dropping_the_writer_closes() {
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    let (waker, count) = counting_waker();
    assert!(poll(&mut s, &mut Context::from_waker(&waker)).is_pending());
    w.write_all(b"last").unwrap();
    drop(w);
    assert!(count.count() >= 1);
    let got: Vec<_> = block_on(s.map(Result::unwrap).collect());
    assert_eq!(got, ["last", ""]);
}

#[test]
fn a_stream_made_after_close_gets_the_signal_at_once() {
    let mut w = ByteWriter::default();
    w.write_all(b"gone").unwrap();
    w.close();
    let got: Vec<_> = block_on(w.stream().map(Result::unwrap).collect());
    assert_eq!(got, [""]);
}

#[test]
fn write_after_close_is_broken_pipe_and_counts_nothing() {
    let mut w = ByteWriter::default();
    w.write_all(b"ok").unwrap();
    w.close();
    assert_eq!(w.write(b"no").unwrap_err().kind(), ErrorKind::BrokenPipe);
    assert_eq!(
        w.write_all(b"no").unwrap_err().kind(),
        ErrorKind::BrokenPipe
    );
    assert_eq!(
        w.write_bytes(Bytes::from_static(b"no")).unwrap_err().kind(),
        ErrorKind::BrokenPipe
    );
    w.flush().unwrap();
    assert_eq!(w.bytes_written(), 2);
}

#[test]
fn a_dropped_stream_is_forgotten_and_its_chunks_freed() {
    let mut w = ByteWriter::default();
    let keep = w.stream();
    let gone = w.stream();
    w.write_all(b"12345").unwrap();
    assert_eq!(w.buffered_bytes(), 5);
    drop(keep);
    assert_eq!(w.buffered_bytes(), 5, "gone still needs it");
    drop(gone);
    assert_eq!(w.buffered_bytes(), 0);
    assert_eq!(w.stream_count(), 0);
    w.write_all(b"nobody").unwrap();
    assert_eq!(w.buffered_bytes(), 0, "with no stream nothing is kept");
    assert_eq!(w.bytes_written(), 11, "but it is accepted");
}

#[test]
fn a_stream_that_reads_frees_what_only_it_held() {
    let mut w = ByteWriter::default();
    let mut fast = w.stream();
    let slow = w.stream();
    w.write_all(b"abc").unwrap();
    ready_chunk(&mut fast);
    assert_eq!(w.buffered_bytes(), 3, "slow has not read it");
    drop(slow);
    assert_eq!(w.buffered_bytes(), 0);
}

#[test]
fn every_stream_shares_the_one_allocation_of_a_write() {
    let mut w = ByteWriter::default();
    let mut a = w.stream();
    let mut b = w.stream();
    let chunk = Bytes::from(vec![7u8; 4096]);
    let ptr = chunk.as_ptr();
    w.write_bytes(chunk).unwrap();
    assert_eq!(ready_chunk(&mut a).as_ptr(), ptr);
    assert_eq!(ready_chunk(&mut b).as_ptr(), ptr);
    // std::io::Write copies once; the streams still share that copy.
    w.write_all(&[1u8; 100]).unwrap();
    assert_eq!(ready_chunk(&mut a).as_ptr(), ready_chunk(&mut b).as_ptr());
}

#[test]
fn ids_writers_process_wide_and_streams_per_writer() {
    let a = ByteWriter::default();
    let b = ByteWriter::default();
    assert!(a.id() >= 1);
    assert_ne!(a.id(), b.id());
    assert_eq!(a.stream().id(), 1);
    assert_eq!(a.stream().id(), 2);
    assert_eq!(b.stream().id(), 1);
}

#[test]
fn streams_are_independent_futures_stream_readers() {
    // A stream that finished is `None` for ever; one dropped mid-wait
    // leaves nothing behind.
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    let (waker, _) = counting_waker();
    assert!(poll(&mut s, &mut Context::from_waker(&waker)).is_pending());
    drop(s);
    w.write_all(b"x").unwrap();
    assert_eq!(w.buffered_bytes(), 0);
}

#[derive(Clone, Debug, PartialEq)]
struct Reading {
    sensor: u16,
    value: f32,
}

#[test]
fn the_typed_pair_broadcasts_values_and_ends_at_the_close() {
    let mut w = TypedWriter::default();
    let a = w.stream();
    let b = w.stream();
    for i in 0..10 {
        w.send(Reading {
            sensor: i,
            value: f32::from(i) / 2.0,
        })
        .unwrap();
    }
    w.close();
    assert_eq!(
        w.send(Reading {
            sensor: 0,
            value: 0.0
        })
        .unwrap_err()
        .kind(),
        ErrorKind::BrokenPipe
    );
    for s in [a, b] {
        let got: Vec<_> = block_on(s.map(Result::unwrap).collect());
        assert_eq!(got.len(), 10);
        assert_eq!(
            got[9],
            Reading {
                sensor: 9,
                value: 4.5
            }
        );
    }
}

#[derive(Debug)]
struct Fragile(u32);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert_ne!(self.0, 13, "unlucky");
        Fragile(self.0)
    }
}

#[test]
fn a_panicking_clone_leaves_the_counts_intact() {
    let mut w = TypedWriter::default();
    let mut s = w.stream();
    w.send(Fragile(1)).unwrap();
    w.send(Fragile(13)).unwrap();
    assert_eq!(block_on(s.next()).unwrap().unwrap().0, 1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| block_on(s.next())));
    assert!(r.is_err(), "the clone panicked");
    drop(s); // releases both values without underflowing a count
    let mut t = w.stream();
    w.send(Fragile(2)).unwrap();
    assert_eq!(block_on(t.next()).unwrap().unwrap().0, 2);
}
