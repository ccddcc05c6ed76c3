//! Async receive at the poll level with a counting waker: `Pending`, woken
//! (or not), `Ready`; cancel safety; lag as a stream item.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use ring_spmc::{Lagged, RecvError, channel};

#[test]
fn pending_then_woken_by_publish_then_ready() {
    let (mut p, subs) = channel::<u64>(8);
    let mut s = subs.subscribe();
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = s.recv_async();
    assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Pending);
    assert_eq!(count.count(), 0, "no spurious wake-up");
    assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Pending);
    assert_eq!(count.count(), 0);
    p.publish(3);
    assert_eq!(count.count(), 1, "woken once by the publish");
    assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(3)));
    drop(fut);
    p.publish(4);
    assert_eq!(count.count(), 1, "a finished receive is not woken again");
    assert_eq!(s.try_recv(), Ok(4));
}

#[test]
fn ready_at_once_when_a_value_is_there() {
    let (mut p, subs) = channel::<u64>(8);
    let mut s = subs.subscribe();
    p.publish(1);
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(
        Pin::new(&mut s.recv_async()).poll(&mut cx),
        Poll::Ready(Ok(1))
    );
    assert_eq!(count.count(), 0);
}

#[test]
fn dropping_a_pending_receive_loses_nothing_and_leaves_no_waker() {
    let (mut p, subs) = channel::<u64>(8);
    let mut s = subs.subscribe();
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut fut = s.recv_async();
        assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Pending);
    }
    p.publish(8);
    assert_eq!(count.count(), 0, "the cancelled receive was deregistered");
    assert_eq!(s.try_recv(), Ok(8), "and the value is still there");
}

#[test]
fn dropping_another_subscriber_wakes_nobody() {
    let (_p, subs) = channel::<u64>(8);
    let mut s = subs.subscribe();
    let other = subs.subscribe();
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = s.recv_async();
    assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Pending);
    drop(other);
    drop(subs);
    assert_eq!(count.count(), 0);
}

#[test]
fn one_publish_wakes_every_waiting_subscriber() {
    let (mut p, subs) = channel::<u64>(8);
    let mut a = subs.subscribe();
    let mut b = subs.subscribe();
    let (wa, ca) = seqcast_test_support::counting_waker();
    let (wb, cb) = seqcast_test_support::counting_waker();
    let mut fa = a.recv_async();
    let mut fb = b.recv_async();
    assert!(
        Pin::new(&mut fa)
            .poll(&mut Context::from_waker(&wa))
            .is_pending()
    );
    assert!(
        Pin::new(&mut fb)
            .poll(&mut Context::from_waker(&wb))
            .is_pending()
    );
    p.publish(1);
    assert_eq!((ca.count(), cb.count()), (1, 1));
    assert_eq!(
        Pin::new(&mut fa).poll(&mut Context::from_waker(&wa)),
        Poll::Ready(Ok(1))
    );
    assert_eq!(
        Pin::new(&mut fb).poll(&mut Context::from_waker(&wb)),
        Poll::Ready(Ok(1))
    );
}

#[test]
fn lag_is_a_stream_item_and_an_async_error() {
    let (mut p, subs) = channel::<u64>(2);
    let mut s = subs.subscribe();
    let mut t = subs.subscribe();
    p.publish_batch(&[0, 1, 2, 3, 4]);
    let (waker, _) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(
        Pin::new(&mut s).poll_next(&mut cx),
        Poll::Ready(Some(Err(Lagged { skipped: 3 })))
    );
    assert_eq!(
        Pin::new(&mut s).poll_next(&mut cx),
        Poll::Ready(Some(Ok(3)))
    );
    assert_eq!(
        Pin::new(&mut t.recv_async()).poll(&mut cx),
        Poll::Ready(Err(RecvError::Lagged { skipped: 3 }))
    );
}

#[test]
fn recv_async_across_threads() {
    // Bounded, so a slow consumer (Miri, qemu) is waited for, not lapped.
    let (mut p, subs) = ring_spmc::channel_bounded::<u64>(64, 0);
    let mut s = subs.subscribe();
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        // A minimal executor: park the thread until the waker fires.
        let thread = std::thread::current();
        let waker = std::task::Waker::from(std::sync::Arc::new(ThreadWaker(thread)));
        let mut cx = Context::from_waker(&waker);
        loop {
            let mut fut = s.recv_async();
            match Pin::new(&mut fut).poll(&mut cx) {
                Poll::Ready(Ok(v)) => got.push(v),
                Poll::Ready(Err(RecvError::Closed)) => return got,
                Poll::Ready(Err(e)) => panic!("{e}"),
                Poll::Pending => std::thread::park_timeout(std::time::Duration::from_secs(5)),
            }
        }
    });
    for i in 0..1000 {
        p.publish(i);
        if i % 64 == 0 {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
    drop(p);
    let got = consumer.join().unwrap();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
}

struct ThreadWaker(std::thread::Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}
