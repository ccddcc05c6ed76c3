//! A hostile user against the lock-free wait of a stream that caught up
//! (`Port::armed`, 910279b: its refill registered its waker, and an empty
//! batch with the registration standing returned `Pending` without the
//! writer's mutex; backed out in 20ab7b0 for want of a measured gain).
//! These tests now check the same properties of the locked registration.
//! (The recycled chunk buffers this file also attacked were backed out
//! too: they did not measurably change the benches.)
//!
//! Wakers that change between polls, wakers whose `clone` panics, no-op
//! wakers (`now_or_never`), streams polled after they ended.

use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use bytes::Bytes;
use futures::{FutureExt, Stream, StreamExt};
use seqcast_test_support::counting_waker;
use stream_bytes::{ByteStream, ByteWriter, Disconnected, Policy, TypedWriter};

fn poll(s: &mut ByteStream, w: &Waker) -> Poll<Option<std::io::Result<Bytes>>> {
    Pin::new(s).poll_next(&mut Context::from_waker(w))
}

fn chunk(p: Poll<Option<std::io::Result<Bytes>>>) -> Bytes {
    match p {
        Poll::Ready(Some(Ok(b))) => b,
        other => panic!("expected a chunk, got {other:?}"),
    }
}

// ---------------------------------------------------------------------
// A waker whose `clone` panics on demand (every clone is the same
// `RawWaker`: same data, same vtable, so each `will_wake` the others).

struct Switch {
    panic_on_clone: AtomicBool,
    wakes: AtomicUsize,
}

static SWITCH: Switch = Switch {
    panic_on_clone: AtomicBool::new(false),
    wakes: AtomicUsize::new(0),
};

fn raw() -> RawWaker {
    RawWaker::new(core::ptr::from_ref(&SWITCH).cast(), &VTABLE)
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(
    |_| {
        // Relaxed: set and read by the one test thread.
        if SWITCH.panic_on_clone.load(Ordering::Relaxed) {
            panic!("hostile waker: clone panics");
        }
        raw()
    },
    |_| {
        // Relaxed: a count read by the test thread.
        SWITCH.wakes.fetch_add(1, Ordering::Relaxed);
    },
    |_| {
        // Relaxed: see above.
        SWITCH.wakes.fetch_add(1, Ordering::Relaxed);
    },
    |_| {},
);

fn panicky_waker() -> Waker {
    // SAFETY: the vtable's functions only touch the `static SWITCH` (the
    // data pointer is never dereferenced) and `clone` returns a `RawWaker`
    // with the same vtable: the `RawWaker` contract holds.
    unsafe { Waker::from_raw(raw()) }
}

/// Found by this file against the lock-free wait (910279b, backed out):
/// a refill that caught up registered the waker in the same locked step,
/// after taking the run and setting `armed`; a `clone` that panicked there
/// lost the run and left the port armed with no waker. On the locked
/// registration (a poll that finds nothing registers its waker) a
/// panicking `clone` must likewise cost no chunk and no later wake-up.
#[test]
fn a_waker_whose_clone_panics_while_registering_costs_no_chunk_and_no_wake_up() {
    let waker = panicky_waker();
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    assert!(poll(&mut s, &waker).is_pending());
    w.write_all(b"a").unwrap();
    assert_eq!(SWITCH.wakes.load(Ordering::Relaxed), 1);
    assert_eq!(chunk(poll(&mut s, &waker)), "a");
    // Nothing left: the poll registers its waker anew (the write took the
    // last one), and the clone panics.
    SWITCH.panic_on_clone.store(true, Ordering::Relaxed);
    let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll(&mut s, &waker)));
    SWITCH.panic_on_clone.store(false, Ordering::Relaxed);
    assert!(p.is_err(), "the waker's clone panicked out of poll_next");
    // Nothing is lost and the stream still waits properly...
    assert!(poll(&mut s, &waker).is_pending());
    // ...so it is woken by the next write and gets it.
    let before = SWITCH.wakes.load(Ordering::Relaxed);
    w.write_all(b"b").unwrap();
    assert_eq!(SWITCH.wakes.load(Ordering::Relaxed), before + 1, "woken");
    assert_eq!(chunk(poll(&mut s, &waker)), "b");
    drop(w);
    assert_eq!(chunk(poll(&mut s, &waker)), "", "the close signal");
    assert!(matches!(poll(&mut s, &waker), Poll::Ready(None)));
}

// ---------------------------------------------------------------------
// Properties that hold (tests that pass and show it).

/// A stream polled from task A, then B, then A again (moved between tasks,
/// or a `FuturesUnordered`-style per-poll waker): each empty poll with
/// another waker re-registers (the lock-free wait is only taken for the
/// waker registered), so a write wakes the last poller and only it.
#[test]
fn a_stream_polled_with_another_waker_re_registers_and_the_write_wakes_the_last_one() {
    let (a, ca) = counting_waker();
    let (b, cb) = counting_waker();
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    assert!(poll(&mut s, &a).is_pending());
    assert!(poll(&mut s, &b).is_pending());
    w.write_all(b"1").unwrap();
    assert_eq!((ca.count(), cb.count()), (0, 1), "B, the last poller");
    // B polls: its refill catches up and registers B again.
    assert_eq!(chunk(poll(&mut s, &b)), "1");
    // A polls the empty stream: A is registered, B is not woken any more.
    assert!(poll(&mut s, &a).is_pending());
    w.write_all(b"2").unwrap();
    assert_eq!((ca.count(), cb.count()), (1, 1), "A, the last poller");
    assert_eq!(chunk(poll(&mut s, &a)), "2");
    // A fresh waker per poll (never `will_wake` the last one): no wait
    // taken without the lock, every write still wakes the last one.
    for i in 0..50u8 {
        let (fresh, c) = counting_waker();
        assert!(poll(&mut s, &fresh).is_pending());
        w.write_all(&[i]).unwrap();
        assert_eq!(c.count(), 1);
        let (other, _) = counting_waker();
        assert_eq!(chunk(poll(&mut s, &other)), [i].as_slice());
    }
}

/// No busy loop: a caught-up stream polled again and again without a
/// write is never woken, and each write wakes it at most once.
#[test]
fn a_caught_up_stream_is_woken_at_most_once_per_write_and_never_without_one() {
    let (a, ca) = counting_waker();
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    for _ in 0..100 {
        assert!(poll(&mut s, &a).is_pending());
    }
    assert_eq!(ca.count(), 0);
    for i in 0..100u8 {
        w.write_all(&[i]).unwrap();
        assert_eq!(ca.count(), i as usize + 1);
        assert_eq!(chunk(poll(&mut s, &a)), [i].as_slice());
        for _ in 0..3 {
            assert!(poll(&mut s, &a).is_pending());
        }
    }
    // Two writes before the stream looks: one wake-up (the registration is
    // taken by the first), both chunks delivered.
    w.write_all(b"x").unwrap();
    w.write_all(b"y").unwrap();
    assert_eq!(ca.count(), 101);
    assert_eq!(chunk(poll(&mut s, &a)), "x");
    assert_eq!(chunk(poll(&mut s, &a)), "y");
}

/// `now_or_never` polls with the no-op waker, which `will_wake` every
/// other no-op waker: the registration it leaves is still cleared by the
/// next write, close or disconnect, so the next `now_or_never` sees it.
#[test]
fn now_or_never_with_no_op_wakers_sees_every_write_the_close_and_a_disconnect() {
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    assert!(s.next().now_or_never().is_none());
    for i in 0..20u8 {
        w.write_all(&[i]).unwrap();
        assert_eq!(
            s.next().now_or_never().unwrap().unwrap().unwrap(),
            [i].as_slice()
        );
        assert!(s.next().now_or_never().is_none());
    }
    w.close();
    assert_eq!(s.next().now_or_never().unwrap().unwrap().unwrap(), "");
    assert!(s.next().now_or_never().unwrap().is_none());
    assert!(
        s.next().now_or_never().unwrap().is_none(),
        "polled after it ended"
    );

    let mut w = ByteWriter::builder()
        .max_buffered_bytes(4096)
        .on_full(Policy::DisconnectSlowest)
        .build();
    let mut slow = w.stream();
    let mut fast = w.stream();
    w.write_all(&[1; 100]).unwrap();
    assert_eq!(
        slow.next().now_or_never().unwrap().unwrap().unwrap().len(),
        100
    );
    assert!(slow.next().now_or_never().is_none(), "caught up, waiting");
    assert_eq!(
        fast.next().now_or_never().unwrap().unwrap().unwrap().len(),
        100
    );
    for _ in 0..100 {
        w.write_all(&[2; 100]).unwrap();
        assert_eq!(
            fast.next().now_or_never().unwrap().unwrap().unwrap().len(),
            100
        );
    }
    // `slow` was disconnected while it waited without the lock.
    let e = slow.next().now_or_never().unwrap().unwrap().unwrap_err();
    let d = e.get_ref().and_then(|e| e.downcast_ref::<Disconnected>());
    assert!(d.is_some(), "a Disconnected error: {e}");
    assert!(slow.next().now_or_never().unwrap().is_none());
    drop(w);
    assert_eq!(fast.next().now_or_never().unwrap().unwrap().unwrap(), "");
}

/// The typed pair shares the lock-free wait: woken by writes and the
/// writer's drop while caught up.
#[test]
fn a_caught_up_typed_stream_is_woken_by_writes_and_the_writer_drop() {
    let (a, ca) = counting_waker();
    let mut cx = Context::from_waker(&a);
    let mut w = TypedWriter::<u32>::default();
    let mut s = w.stream();
    assert!(Pin::new(&mut s).poll_next(&mut cx).is_pending());
    w.send(7).unwrap();
    assert_eq!(ca.count(), 1);
    assert!(matches!(
        Pin::new(&mut s).poll_next(&mut cx),
        Poll::Ready(Some(Ok(7)))
    ));
    assert!(Pin::new(&mut s).poll_next(&mut cx).is_pending());
    drop(w);
    assert_eq!(ca.count(), 2, "the writer's drop wakes it");
    assert!(matches!(
        Pin::new(&mut s).poll_next(&mut cx),
        Poll::Ready(None)
    ));
}

/// Real threads: streams on a 2-worker runtime that keep up (so they wait
/// without the lock most of the time) against a writer thread that writes
/// then drops the writer. Every stream gets every chunk and the close; a
/// lost wake-up would hang a task (bounded by the timeout).
#[test]
fn streams_waiting_without_the_lock_on_tasks_get_every_chunk_and_the_close() {
    let n: u32 = if cfg!(miri) { 20 } else { 20_000 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let mut w = ByteWriter::default();
    let streams: Vec<ByteStream> = (0..4).map(|_| w.stream()).collect();
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            rt.spawn(async move {
                let mut next = 0u32;
                while let Some(c) = s.next().await {
                    let c = c.unwrap();
                    if c.is_empty() {
                        return next;
                    }
                    assert_eq!(c.as_ref(), next.to_le_bytes());
                    next += 1;
                }
                panic!("ended without the close signal");
            })
        })
        .collect();
    let writer = std::thread::spawn(move || {
        for i in 0..n {
            w.write_all(&i.to_le_bytes()).unwrap();
            if i % 64 == 0 {
                std::thread::yield_now();
            }
        }
    });
    let got = rt.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(60), async {
            let mut got = Vec::new();
            for t in tasks {
                got.push(t.await.unwrap());
            }
            got
        })
        .await
    });
    writer.join().unwrap();
    assert_eq!(got.expect("a stream waiting without the lock hung"), [n; 4]);
}
