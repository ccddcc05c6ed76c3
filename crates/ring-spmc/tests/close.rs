//! Close: dropping the publisher is observable; subscribers drain what is
//! retained first, then the blocking, timed and async receives report
//! `Closed` and the spinning ones panic instead of hanging.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use ring_spmc::{RecvError, RecvTimeoutError, TryRecvError, WaitStrategy, channel};

#[test]
fn drain_then_closed() {
    let (mut p, subs) = channel::<u8>(8);
    let mut s = subs.subscribe();
    p.publish_batch(&[1, 2]);
    assert!(!s.is_closed());
    drop(p);
    assert!(s.is_closed());
    assert_eq!(s.recv_blocking(), Ok(1));
    assert_eq!(s.recv_timeout(Duration::from_secs(1)), Ok(2));
    assert_eq!(s.recv_blocking(), Err(RecvError::Closed));
    assert_eq!(s.recv_blocking(), Err(RecvError::Closed), "closed forever");
    assert_eq!(
        s.recv_timeout(Duration::from_secs(1)),
        Err(RecvTimeoutError::Closed)
    );
    assert_eq!(
        s.try_recv(),
        Err(TryRecvError::Empty),
        "photon's variants only"
    );
}

#[test]
fn a_subscriber_created_after_close_is_closed_too() {
    let (p, subs) = channel::<u8>(8);
    drop(p);
    let mut s = subs.subscribe();
    assert!(s.is_closed());
    assert_eq!(s.recv_blocking(), Err(RecvError::Closed));
}

#[test]
fn close_wakes_a_parked_receiver() {
    let (p, subs) = channel::<u8>(8);
    let mut s = subs.subscribe();
    let waiter = std::thread::spawn(move || s.recv_timeout(Duration::from_secs(20)));
    std::thread::sleep(Duration::from_millis(20));
    drop(p);
    assert_eq!(waiter.join().unwrap(), Err(RecvTimeoutError::Closed));
}

#[test]
fn close_wakes_an_async_receiver_and_ends_the_stream() {
    let (mut p, subs) = channel::<u8>(8);
    let mut s = subs.subscribe();
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Pending);
    p.publish(5);
    assert_eq!(count.count(), 1);
    drop(p);
    assert_eq!(
        Pin::new(&mut s).poll_next(&mut cx),
        Poll::Ready(Some(Ok(5)))
    );
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(None));
    let (p2, subs2) = channel::<u8>(8);
    let mut s2 = subs2.subscribe();
    assert_eq!(Pin::new(&mut s2).poll_next(&mut cx), Poll::Pending);
    let before = count.count();
    drop(p2);
    assert_eq!(count.count(), before + 1, "the close woke the task");
    assert_eq!(Pin::new(&mut s2).poll_next(&mut cx), Poll::Ready(None));
}

#[test]
#[should_panic(expected = "waiting on a closed channel")]
fn spinning_recv_panics_instead_of_hanging() {
    let (p, subs) = channel::<u8>(8);
    let mut s = subs.subscribe();
    drop(p);
    s.recv();
}

#[test]
#[should_panic(expected = "waiting on a closed channel")]
fn recv_with_panics_instead_of_hanging() {
    let (p, subs) = channel::<u8>(8);
    let mut s = subs.subscribe();
    drop(p);
    s.recv_with(WaitStrategy::Park { spin_iters: 0 });
}
