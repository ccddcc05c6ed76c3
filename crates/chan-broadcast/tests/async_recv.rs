//! `recv`, `recv_many`, the stream and the cooperative budget under tokio.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use chan_broadcast::error::RecvError;
use chan_broadcast::{Lagged, channel};
use futures_core::Stream;
use seqcast_test_support::counting_waker;

#[test]
fn the_stream_yields_values_and_lags_and_ends_at_close() {
    let (tx, mut rx) = channel(2);
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    assert_eq!(count.count(), 1);
    let mut next = || Pin::new(&mut rx).poll_next(&mut cx);
    assert_eq!(next(), Poll::Ready(Some(Err(Lagged(2)))));
    assert_eq!(next(), Poll::Ready(Some(Ok(2))));
    assert_eq!(next(), Poll::Ready(Some(Ok(3))));
    assert!(next().is_pending());
    drop(tx);
    assert_eq!(count.count(), 2);
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
}

#[tokio::test]
async fn recv_many_takes_what_is_there_and_reports_lag_next() {
    let (tx, mut rx) = channel(4);
    let mut buf = Vec::new();
    assert_eq!(rx.recv_many(&mut buf, 0).await, Ok(0));
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.recv_many(&mut buf, 10).await, Ok(3));
    assert_eq!(buf, [0, 1, 2]);
    // A lag met mid-batch ends it and is reported by the next receive.
    tx.send(3).unwrap();
    let mut buf = Vec::new();
    let (waker, _) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut fut = Box::pin(rx.recv_many(&mut buf, 10));
        // Fill and overflow while the batch is being taken is not possible
        // from one thread; instead overflow first, then batch.
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(1))));
    }
    for i in 4..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.recv_many(&mut buf, 10).await, Err(RecvError::Lagged(2)));
    assert_eq!(rx.recv_many(&mut buf, 10).await, Ok(4));
    assert_eq!(buf, [3, 6, 7, 8, 9]);
    drop(tx);
    assert_eq!(rx.recv_many(&mut buf, 10).await, Err(RecvError::Closed));
}

#[tokio::test]
#[cfg_attr(
    miri,
    ignore = "4096 receives: slow under Miri, and no unsafe path of ours"
)]
async fn recv_spends_the_cooperative_budget() {
    // A receiver that always finds a value must still let other tasks run.
    let (tx, mut rx) = channel(4096);
    for i in 0..4096 {
        tx.send(i).unwrap();
    }
    let other_ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&other_ran);
    let other = tokio::spawn(async move { flag.store(true, Ordering::SeqCst) });
    let mut received_before_yield = None;
    for i in 0..4096 {
        rx.recv().await.unwrap();
        if other_ran.load(Ordering::SeqCst) {
            received_before_yield = Some(i);
            break;
        }
    }
    other.await.unwrap();
    let n = received_before_yield.expect("the receiver never yielded");
    assert!(n < 1024, "yielded only after {n} values");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    miri,
    ignore = "10k values through 16 tasks: minutes under Miri; the stress test covers threads"
)]
async fn many_tasks_receive_every_value() {
    let (tx, _) = channel::<u64>(64);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let mut rx = tx.subscribe();
        tasks.push(tokio::spawn(async move {
            let mut expect = 0;
            loop {
                match rx.recv().await {
                    Ok(v) => {
                        assert!(v >= expect, "reordered: {v} after {expect}");
                        expect = v + 1;
                    }
                    Err(RecvError::Lagged(n)) => expect += n,
                    Err(RecvError::Closed) => return expect,
                }
            }
        }));
    }
    for i in 0..10_000 {
        tx.send(i).unwrap();
        if i % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    drop(tx);
    for t in tasks {
        assert_eq!(t.await.unwrap(), 10_000, "received + lagged == sent");
    }
}

#[test]
fn a_named_recv_future_can_be_stored_and_polled_by_hand() {
    struct Holder<'a> {
        fut: chan_broadcast::Recv<'a, u8>,
    }
    let (tx, mut rx) = channel(2);
    let mut h = Holder { fut: rx.recv() };
    let (waker, count) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut h.fut).poll(&mut cx).is_pending());
    tx.send(5).unwrap();
    assert_eq!(count.count(), 1);
    let out = poll_fn(|cx| Pin::new(&mut h.fut).poll(cx));
    let mut out = Box::pin(out);
    assert_eq!(out.as_mut().poll(&mut cx), Poll::Ready(Ok(5)));
}

#[test]
#[should_panic(expected = "attempted to block the current thread")]
fn blocking_recv_on_a_thread_driving_tasks_panics_like_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (_tx, mut rx) = channel::<u8>(1);
    rt.block_on(async move {
        let _ = rx.blocking_recv();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    miri,
    ignore = "a multi-thread runtime: slow under Miri, no unsafe path of ours"
)]
async fn blocking_recv_works_from_spawn_blocking() {
    let (tx, mut rx) = channel(1);
    let reader = tokio::task::spawn_blocking(move || (rx.blocking_recv(), rx.blocking_recv()));
    tx.send(3).unwrap();
    drop(tx);
    assert_eq!(reader.await.unwrap(), (Ok(3), Err(RecvError::Closed)));
}

/// As documented on `Recv`: polled after it completed, it receives the
/// next value (or the same end), never a value twice.
#[test]
fn a_recv_polled_after_completion_receives_the_next_value() {
    let (tx, mut rx) = channel(4);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut fut = rx.recv();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(1)));
    assert_eq!(Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(2)));
    assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    drop(tx);
    assert_eq!(
        Pin::new(&mut fut).poll(&mut cx),
        Poll::Ready(Err(RecvError::Closed))
    );
}

/// Cancel-safety under real concurrency: a receiver task that races every
/// `recv` against a `yield_now` in `select!` (so most `recv` futures are
/// dropped, often while registered) still gets every value, in order, from
/// a sender task on the other worker. Lossy with room for all values, and
/// lossless with 4 slots (the sender waits on the cancelling receiver).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(miri, ignore = "a multi-thread runtime: slow under Miri")]
async fn recv_cancelled_by_select_loses_nothing_across_workers() {
    const N: u64 = 20_000;
    async fn drain(mut rx: chan_broadcast::Receiver<u64>) -> (u64, u64) {
        let (mut next, mut cancelled) = (0, 0);
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(v) => {
                        assert_eq!(v, next);
                        next += 1;
                    }
                    Err(RecvError::Closed) => return (next, cancelled),
                    Err(e) => panic!("{e:?}"),
                },
                _ = tokio::task::yield_now() => cancelled += 1,
            }
        }
    }
    fn bounded<F: Future>(f: F) -> tokio::time::Timeout<F> {
        tokio::time::timeout(std::time::Duration::from_secs(60), f)
    }
    let (tx, rx) = channel::<u64>(N as usize);
    let reader = tokio::spawn(drain(rx));
    let writer = tokio::spawn(async move {
        for v in 0..N {
            tx.send(v).unwrap();
            if v % 64 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    writer.await.unwrap();
    let (got, lossy_cancelled) = bounded(reader).await.expect("lossy: hung").unwrap();
    assert_eq!(got, N);

    let (tx, rx) = chan_broadcast::channel_lossless::<u64>(4);
    let reader = tokio::spawn(drain(rx));
    let writer = tokio::spawn(async move {
        for v in 0..N {
            tx.send(v).await.unwrap();
        }
    });
    bounded(writer)
        .await
        .expect("lossless sender: hung")
        .unwrap();
    let (got, cancelled) = bounded(reader).await.expect("lossless: hung").unwrap();
    assert_eq!(got, N);
    // Not vacuous: the lossless reader waits on its sender (4 slots).
    assert!(
        cancelled > 0,
        "no recv was cancelled ({lossy_cancelled} lossy)"
    );
}
