//! The memory policies at their limit: `Block` (thread and task writers
//! wait and are woken by the read, stream drop or close that makes room),
//! `DisconnectSlowest` (the slowest stream is told how many bytes it lost,
//! then ends; the others go on), `Unbounded`; a stream never skips bytes
//! silently.

use std::io::{ErrorKind, Write};
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use futures::executor::block_on;
use futures::{Stream, StreamExt};
use seqcast_test_support::counting_waker;
use stream_bytes::{ByteStream, ByteWriter, Disconnected, Policy, TypedWriter};

fn next_now(s: &mut ByteStream) -> Poll<Option<std::io::Result<Bytes>>> {
    let (waker, _) = counting_waker();
    Pin::new(s).poll_next(&mut Context::from_waker(&waker))
}

/// A writer whose limit counts payload bytes only (`chunk_overhead(0)`):
/// these tests place the limit byte by byte. The default per-chunk charge
/// is tested in `charge.rs` and `memory.rs`.
fn bounded(n: usize, p: Policy) -> ByteWriter {
    ByteWriter::builder()
        .max_buffered_bytes(n)
        .chunk_overhead(0)
        .on_full(p)
        .build()
}

#[test]
fn unbounded_keeps_everything() {
    let mut w = bounded(4, Policy::Unbounded);
    let _s = w.stream();
    for _ in 0..100 {
        w.write_all(b"12345678").unwrap();
    }
    assert_eq!(w.buffered_bytes(), 800);
}

#[test]
fn block_refuses_at_the_limit_and_accepts_up_to_it() {
    let mut w = bounded(8, Policy::Block);
    let mut s = w.stream();
    assert!(w.try_write_bytes(Bytes::from_static(b"1234")).unwrap());
    assert!(w.try_write_bytes(Bytes::from_static(b"5678")).unwrap());
    assert_eq!(w.buffered_bytes(), 8);
    assert!(
        !w.try_write_bytes(Bytes::from_static(b"9")).unwrap(),
        "full"
    );
    assert_eq!(w.bytes_written(), 8, "a refused write is not counted");
    assert!(matches!(next_now(&mut s), Poll::Ready(Some(Ok(_)))));
    assert!(w.try_write_bytes(Bytes::from_static(b"9")).unwrap());
}

#[test]
fn block_accepts_one_oversized_chunk_when_empty() {
    let mut w = bounded(4, Policy::Block);
    let mut s = w.stream();
    w.write_all(b"much more than four").unwrap();
    assert!(!w.try_write_bytes(Bytes::from_static(b"x")).unwrap());
    assert!(matches!(next_now(&mut s), Poll::Ready(Some(Ok(b))) if b.len() == 19));
}

#[test]
fn block_write_waits_for_the_slowest_reader_thread() {
    let mut w = bounded(4, Policy::Block);
    let s = w.stream();
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        // Starts reading only when told: the writer is blocked by then.
        rx.recv().unwrap();
        block_on(s.map(|c| c.unwrap().len()).collect::<Vec<_>>())
    });
    w.write_all(b"1234").unwrap();
    let writer = thread::spawn(move || {
        w.write_all(b"5678").unwrap(); // blocks until the reader reads
        w.close();
        w.bytes_written()
    });
    thread::sleep(Duration::from_millis(20));
    assert!(!writer.is_finished(), "the second write waits for room");
    tx.send(()).unwrap();
    assert_eq!(writer.join().unwrap(), 8);
    assert_eq!(reader.join().unwrap(), [4, 4, 0]);
}

#[test]
fn block_write_is_released_by_a_stream_drop() {
    let mut w = bounded(4, Policy::Block);
    let s = w.stream();
    w.write_all(b"1234").unwrap();
    let writer = thread::spawn(move || {
        w.write_all(b"5678").unwrap();
        w.buffered_bytes()
    });
    thread::sleep(Duration::from_millis(20));
    drop(s);
    assert_eq!(writer.join().unwrap(), 0, "no stream left: nothing kept");
}

#[cfg(feature = "tokio")]
#[test]
fn async_block_returns_pending_and_the_read_that_makes_room_wakes_it() {
    use tokio::io::AsyncWrite;
    let mut w = bounded(4, Policy::Block);
    let mut s = w.stream();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        Pin::new(&mut w).poll_write(&mut cx, b"1234"),
        Poll::Ready(Ok(4))
    ));
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"5").is_pending());
    assert_eq!(count.count(), 0);
    assert!(matches!(next_now(&mut s), Poll::Ready(Some(Ok(_)))));
    assert_eq!(
        count.count(),
        1,
        "the read that freed the chunk woke the writer"
    );
    assert!(matches!(
        Pin::new(&mut w).poll_write(&mut cx, b"5"),
        Poll::Ready(Ok(1))
    ));
    assert_eq!(w.bytes_written(), 5);
}

#[cfg(feature = "tokio")]
#[test]
fn async_block_is_woken_by_a_stream_drop_but_not_by_a_read_that_frees_nothing() {
    use tokio::io::AsyncWrite;
    let mut w = bounded(4, Policy::Block);
    let mut fast = w.stream();
    let slow = w.stream();
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"1234").is_ready());
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"5").is_pending());
    assert!(matches!(next_now(&mut fast), Poll::Ready(Some(Ok(_)))));
    assert_eq!(
        count.count(),
        0,
        "slow still holds the chunk: no spurious wake-up"
    );
    drop(slow);
    assert_eq!(count.count(), 1);
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"5").is_ready());
}

#[test]
fn disconnect_slowest_at_the_limit() {
    let mut w = bounded(8, Policy::DisconnectSlowest);
    let mut slow = w.stream();
    let mut fast = w.stream();
    w.write_all(b"1234").unwrap();
    assert!(matches!(next_now(&mut fast), Poll::Ready(Some(Ok(_)))));
    w.write_all(b"5678").unwrap(); // buffered 8: at the limit, nobody dropped
    assert!(matches!(next_now(&mut fast), Poll::Ready(Some(Ok(_)))));
    assert_eq!(w.stream_count(), 2);
    w.write_all(b"9").unwrap(); // 9 > 8: slow (8 unread bytes) goes
    assert_eq!(w.stream_count(), 1);
    assert_eq!(w.buffered_bytes(), 1);
    let err = match next_now(&mut slow) {
        Poll::Ready(Some(Err(e))) => e,
        other => panic!("expected the disconnect error, got {other:?}"),
    };
    assert_eq!(err.kind(), ErrorKind::Other);
    let d = err
        .get_ref()
        .unwrap()
        .downcast_ref::<Disconnected>()
        .unwrap();
    assert_eq!(d.lost_bytes(), 8);
    assert_eq!(d.limit(), 8);
    assert!(err.to_string().contains("8 bytes behind"), "{err}");
    assert!(
        matches!(next_now(&mut slow), Poll::Ready(None)),
        "then it ends"
    );
    assert!(matches!(next_now(&mut fast), Poll::Ready(Some(Ok(b))) if b == "9"));
    w.close();
    assert!(matches!(next_now(&mut fast), Poll::Ready(Some(Ok(b))) if b.is_empty()));
}

#[test]
fn a_disconnected_waiting_stream_is_woken() {
    let mut w = bounded(2, Policy::DisconnectSlowest);
    let mut a = w.stream();
    let mut b = w.stream();
    w.write_all(b"12").unwrap();
    assert!(matches!(next_now(&mut a), Poll::Ready(Some(Ok(_)))));
    let (waker, count) = counting_waker();
    assert!(
        Pin::new(&mut a)
            .poll_next(&mut Context::from_waker(&waker))
            .is_pending()
    );
    w.write_all(b"3").unwrap(); // b is dropped; a is woken by the write
    assert_eq!(count.count(), 1);
    assert!(matches!(next_now(&mut b), Poll::Ready(Some(Err(_)))));
}

#[test]
fn no_stream_ever_skips_bytes_silently() {
    // Every byte written is either read, in order, or counted in the
    // disconnect error of the stream that lost it.
    let n = if cfg!(miri) { 100 } else { 5_000 };
    let mut w = bounded(64, Policy::DisconnectSlowest);
    let mut streams: Vec<_> = (0..4).map(|_| (w.stream(), 0u64, 0u64, false)).collect();
    let mut written = 0u64;
    for i in 0..n {
        let len = i % 13 + 1;
        w.write_all(&vec![(i % 251) as u8; len]).unwrap();
        written += len as u64;
        for (k, (s, read, lost, ended)) in streams.iter_mut().enumerate() {
            // Stream k reads once every k+1 writes: the slow ones fall behind.
            if *ended || i % (k + 1) != 0 {
                continue;
            }
            match next_now(s) {
                Poll::Ready(Some(Ok(b))) => *read += b.len() as u64,
                Poll::Ready(Some(Err(e))) => {
                    let d = e.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
                    *lost = d.lost_bytes();
                    *ended = true;
                }
                other => panic!("{other:?}"),
            }
        }
    }
    w.close();
    for (s, read, lost, ended) in &mut streams {
        if !*ended {
            loop {
                match next_now(s) {
                    Poll::Ready(Some(Ok(b))) if b.is_empty() => break,
                    Poll::Ready(Some(Ok(b))) => *read += b.len() as u64,
                    Poll::Ready(Some(Err(e))) => {
                        let d = e.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
                        *lost = d.lost_bytes();
                        break;
                    }
                    other => panic!("{other:?}"),
                }
            }
            // A stream that survived read every byte.
            if *lost == 0 {
                assert_eq!(*read, written);
            }
        }
    }
    assert!(
        streams[0].1 == written,
        "the reader that keeps up loses nothing"
    );
    assert!(
        streams.iter().any(|s| s.2 > 0),
        "some slow stream was dropped"
    );
}

#[test]
fn typed_block_counts_values() {
    let mut w = TypedWriter::bounded(2, Policy::Block);
    let mut s = w.stream();
    assert!(w.try_send("a").unwrap());
    assert!(w.try_send("b").unwrap());
    assert!(!w.try_send("c").unwrap());
    assert_eq!(block_on(s.next()).unwrap().unwrap(), "a");
    assert!(w.try_send("c").unwrap());
}

#[test]
fn a_disconnect_counts_exactly_what_a_partly_read_stream_never_got() {
    // The loss a disconnected stream reports is exactly the chunks it
    // never got, after it read some and went `Pending` in between.
    let mut w = bounded(100, Policy::DisconnectSlowest);
    let mut slow = w.stream();
    let mut fast = w.stream();
    for _ in 0..10 {
        w.write_all(b"aaaaa").unwrap();
    }
    for _ in 0..10 {
        assert!(matches!(next_now(&mut slow), Poll::Ready(Some(Ok(_)))));
    }
    assert!(next_now(&mut slow).is_pending());
    while let Poll::Ready(Some(Ok(_))) = next_now(&mut fast) {}
    assert_eq!(w.buffered_bytes(), 0, "both read everything");
    for _ in 0..20 {
        w.write_all(b"bbbbb").unwrap();
        while let Poll::Ready(Some(Ok(_))) = next_now(&mut fast) {}
    }
    assert_eq!(w.buffered_bytes(), 100);
    assert_eq!(w.stream_count(), 2);
    w.write_all(b"ccccc").unwrap(); // over: slow goes
    assert_eq!(w.stream_count(), 1);
    match next_now(&mut slow) {
        Poll::Ready(Some(Err(e))) => {
            let lost = e
                .get_ref()
                .unwrap()
                .downcast_ref::<Disconnected>()
                .unwrap()
                .lost_bytes();
            assert_eq!(lost, 100, "exactly the 20 chunks it never got");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(next_now(&mut slow), Poll::Ready(None)));
}

#[test]
fn a_chunk_is_uncounted_as_soon_as_its_last_stream_reads_it() {
    let mut w = bounded(20, Policy::Block);
    let mut s = w.stream();
    for _ in 0..4 {
        assert!(w.try_write_bytes(Bytes::from_static(b"12345")).unwrap());
    }
    for left in [15, 10, 5, 0] {
        assert!(matches!(next_now(&mut s), Poll::Ready(Some(Ok(_)))));
        assert_eq!(w.buffered_bytes(), left, "reported by the read itself");
    }
    assert!(next_now(&mut s).is_pending());
    assert_eq!(w.buffered_bytes(), 0);
}
