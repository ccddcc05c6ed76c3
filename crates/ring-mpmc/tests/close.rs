//! Close: the channel closes when the last `MpPublisher` clone drops, not
//! before; subscribers drain what is retained first, and blocking, timed and
//! async receives waiting at that moment are woken with `Closed`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ring_mpmc::{RecvError, RecvTimeoutError, TryRecvError, channel_mpmc, channel_mpmc_bounded};

#[test]
fn closes_only_when_the_last_clone_drops() {
    let (p, subs) = channel_mpmc::<u8>(8);
    let mut s = subs.subscribe();
    let q = p.clone();
    let r = q.clone();
    drop(p);
    drop(q);
    assert!(!s.is_closed());
    assert_eq!(
        s.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
    r.publish(7);
    drop(r);
    assert!(s.is_closed());
    assert_eq!(s.recv_blocking(), Ok(7));
    assert_eq!(s.recv_blocking(), Err(RecvError::Closed));
    assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
    assert!(subs.subscribe().is_closed());
}

#[test]
fn a_parked_receiver_is_woken_by_the_last_drop_on_another_thread() {
    let (p, subs) = channel_mpmc_bounded::<u64>(4, 0);
    let mut s = subs.subscribe();
    let receiver = std::thread::spawn(move || {
        let mut got = Vec::new();
        loop {
            match s.recv_timeout(Duration::from_secs(30)) {
                Ok(v) => got.push(v),
                Err(RecvTimeoutError::Closed) => return got,
                Err(e) => panic!("{e}"),
            }
        }
    });
    let producers: Vec<_> = (0..2)
        .map(|id| {
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    p.publish(id * 100 + i);
                }
            })
        })
        .collect();
    drop(p);
    for t in producers {
        t.join().unwrap();
    }
    let mut got = receiver.join().unwrap();
    got.sort_unstable();
    let mut want: Vec<u64> = (0..10).chain(100..110).collect();
    want.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn an_async_receiver_is_woken_by_the_last_drop() {
    let (p, subs) = channel_mpmc::<u8>(4);
    let mut s = subs.subscribe();
    let q = p.clone();
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut fut = s.recv_async();
        assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Pending);
        drop(p);
        assert_eq!(count.count(), 0, "a clone is alive: no wake-up");
        drop(q);
        assert_eq!(count.count(), 1, "the last drop wakes the receiver");
        assert_eq!(
            Pin::new(&mut fut).poll(&mut cx),
            Poll::Ready(Err(RecvError::Closed))
        );
    }
}
