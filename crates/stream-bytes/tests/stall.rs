//! Stall monitoring: the stream wrapper's `TimedOut` errors (and that it
//! keeps going), and the writer's report of streams that have not
//! advanced.

#[cfg(feature = "tokio")]
use std::io::ErrorKind;
use std::io::Write;
use std::thread;
use std::time::Duration;

use futures::StreamExt;
use futures::executor::block_on;
use stream_bytes::ByteWriter;

#[test]
fn the_writer_lists_a_stuck_stream_but_not_a_reading_or_idle_one() {
    let mut w = ByteWriter::default();
    let stuck = w.stream();
    let mut reading = w.stream();
    let _idle = ByteWriter::default(); // unrelated writer
    w.write_all(b"abc").unwrap();
    w.write_all(b"de").unwrap();
    block_on(reading.next()).unwrap().unwrap();
    // The coarse clock ticks every 1-10 ms: sleep well past the threshold.
    thread::sleep(Duration::from_millis(40));
    let report = w.stalled(Duration::from_millis(20));
    // `reading` still has "de" unread and read last 30 ms ago: listed too.
    assert_eq!(report.len(), 2);
    assert_eq!(report[0].stream_id(), stuck.id());
    assert_eq!(report[0].unread_bytes(), 5);
    assert_eq!(report[0].unread_chunks(), 2);
    assert!(report[0].idle() >= Duration::from_millis(20));
    assert_eq!(report[1].stream_id(), reading.id());
    assert_eq!(report[1].unread_bytes(), 2);
    // `reading` reads: it advanced, it is slow, not stuck.
    block_on(reading.next()).unwrap().unwrap();
    let report = w.stalled(Duration::from_millis(20));
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].stream_id(), stuck.id());
    // Caught up streams are idle, never stalled.
    drop(stuck);
    assert!(w.stalled(Duration::ZERO).is_empty());
}

#[test]
fn a_stream_idle_for_long_is_not_stalled_by_a_fresh_write() {
    let mut w = ByteWriter::default();
    let _s = w.stream();
    thread::sleep(Duration::from_millis(30));
    w.write_all(b"new").unwrap();
    // The stall clock starts when there is something to read.
    assert!(w.stalled(Duration::from_millis(20)).is_empty());
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn stall_timeout_yields_timed_out_and_keeps_going() {
    let mut w = ByteWriter::default();
    let mut s = w.stream().stall_timeout(Duration::from_millis(20));
    let e = s.next().await.unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    let e = s.next().await.unwrap().unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::TimedOut,
        "again after another quiet period"
    );
    w.write_all(b"hello").unwrap();
    assert_eq!(s.next().await.unwrap().unwrap(), "hello");
    w.close();
    assert_eq!(s.next().await.unwrap().unwrap(), "");
    assert!(s.next().await.is_none());
    assert!(s.next().await.is_none(), "no timeout after the end");
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn stall_timeout_does_not_fire_while_chunks_flow() {
    let mut w = ByteWriter::default();
    let mut s = w.stream().stall_timeout(Duration::from_millis(200));
    let writer = tokio::spawn(async move {
        for _ in 0..10 {
            w.write_all(b"tick").unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    for _ in 0..10 {
        assert_eq!(s.next().await.unwrap().unwrap(), "tick");
    }
    writer.await.unwrap();
    assert_eq!(
        s.next().await.unwrap().unwrap(),
        "",
        "writer dropped: closed"
    );
}
