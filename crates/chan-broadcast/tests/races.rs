//! Real-thread races of pairs of public operations that loom models only on
//! tiny channels: `subscribe_from_oldest` against a receiver draining and
//! against a receiver drop (both modes, a full 65 536-slot ring),
//! `Closing::drained` against a send from another sender clone, `send`'s
//! returned count against subscribes and drops, and queued lossless
//! senders against receivers coming and going. Each run is
//! bounded in time: a hang fails the test instead of stalling CI. Two busy
//! threads at most; sizes shrink under Miri.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::Context;
use std::thread;
use std::time::Duration;

use chan_broadcast::error::TryRecvError;
use chan_broadcast::{LosslessSender, Receiver, Sender, channel, channel_lossless};

const CAP: usize = if cfg!(miri) { 16 } else { 65_536 };
const ROUNDS: usize = if cfg!(miri) { 2 } else { 6 };
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `f` on a thread; fails the test if it does not finish in `LIMIT`.
fn bounded<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, wait) = mpsc::channel();
    let worker = thread::spawn(move || {
        let r = f();
        let _ = done.send(());
        r
    });
    match wait.recv_timeout(LIMIT) {
        Ok(()) => worker.join().unwrap(),
        // A panic drops `done` early: surface the panic itself.
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(_) => unreachable!("sent before returning"),
            Err(p) => std::panic::resume_unwind(p),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: no progress in {LIMIT:?}"),
    }
}

/// Every value `rx` can read now, in order; panics on a lag.
fn drain_now(rx: &mut Receiver<u64>) -> Vec<u64> {
    let mut got = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(v) => got.push(v),
            Err(TryRecvError::Empty | TryRecvError::Closed) => return got,
            Err(TryRecvError::Lagged(n)) => panic!("lagged by {n} with nothing overwritten"),
        }
    }
}

/// A contiguous run ending at `last`, or nothing.
fn assert_suffix(got: &[u64], last: u64, what: &str) {
    if let Some(&first) = got.first() {
        let want: Vec<u64> = (first..=last).collect();
        assert!(got == want, "{what}: not a contiguous run ending at {last}");
    }
}

/// Either kind of sender, for tests that run in both modes.
enum Tx {
    Lossy(Sender<u64>),
    Lossless(LosslessSender<u64>),
}

impl Tx {
    fn new(lossless: bool, cap: usize) -> (Tx, Receiver<u64>) {
        if lossless {
            let (tx, rx) = channel_lossless(cap);
            (Tx::Lossless(tx), rx)
        } else {
            let (tx, rx) = channel(cap);
            (Tx::Lossy(tx), rx)
        }
    }

    /// Sends without waiting; whether it was sent.
    fn send(&self, v: u64) -> bool {
        match self {
            Tx::Lossy(tx) => tx.send(v).is_ok(),
            Tx::Lossless(tx) => tx.try_send(v).is_ok(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Tx::Lossy(tx) => tx.len(),
            Tx::Lossless(tx) => tx.len(),
        }
    }

    fn subscribe_from_oldest(&self) -> Receiver<u64> {
        match self {
            Tx::Lossy(tx) => tx.subscribe_from_oldest(),
            Tx::Lossless(tx) => tx.subscribe_from_oldest(),
        }
    }
}

/// Which existing-receiver operation races the late subscribe.
#[derive(Clone, Copy, Debug)]
enum Other {
    Drain,
    Drop,
}

/// Fills a ring, then races `subscribe_from_oldest` against `other` on the
/// only receiver. The late receiver must get a contiguous run ending at the
/// newest value; afterwards nothing may stay held for nobody, and (lossless)
/// a whole ring's worth of new sends must fit, reaching both receivers.
fn subscribe_from_oldest_races(lossless: bool, other: Other) {
    for round in 0..ROUNDS {
        bounded("subscribe_from_oldest race", move || {
            let n = CAP as u64;
            let (tx, mut a) = Tx::new(lossless, CAP);
            for v in 0..n {
                assert!(tx.send(v), "round {round}: the ring has room");
            }
            let start = Arc::new(Barrier::new(2));
            let go = Arc::clone(&start);
            let racer = thread::spawn(move || {
                go.wait();
                match other {
                    Other::Drain => {
                        let got = drain_now(&mut a);
                        let want: Vec<u64> = (0..n).collect();
                        assert!(got == want, "the existing receiver lost values");
                        Some(a)
                    }
                    Other::Drop => {
                        drop(a);
                        None
                    }
                }
            });
            start.wait();
            let mut late = tx.subscribe_from_oldest();
            let a = racer.join().unwrap();
            let got = drain_now(&mut late);
            assert_suffix(&got, n - 1, &format!("round {round}, {other:?}"));
            assert_eq!(tx.len(), 0, "round {round}: a value held for nobody");
            if lossless {
                // Every slot must be free again: a count the late receiver
                // consumed for someone else, or one it left behind, shows
                // here as `Full` or as a value missing below.
                for v in n..2 * n {
                    assert!(tx.send(v), "round {round}: slot {v} still held");
                }
                assert_eq!(drain_now(&mut late), (n..2 * n).collect::<Vec<_>>());
                if let Some(mut a) = a {
                    assert_eq!(drain_now(&mut a), (n..2 * n).collect::<Vec<_>>());
                }
            }
        });
    }
}

#[test]
fn subscribe_from_oldest_vs_a_draining_receiver_lossy() {
    let _turn = seqcast_test_support::one_at_a_time();
    subscribe_from_oldest_races(false, Other::Drain);
}

#[test]
fn subscribe_from_oldest_vs_a_draining_receiver_lossless() {
    let _turn = seqcast_test_support::one_at_a_time();
    subscribe_from_oldest_races(true, Other::Drain);
}

#[test]
fn subscribe_from_oldest_vs_a_receiver_drop_lossy() {
    let _turn = seqcast_test_support::one_at_a_time();
    subscribe_from_oldest_races(false, Other::Drop);
}

#[test]
fn subscribe_from_oldest_vs_a_receiver_drop_lossless() {
    let _turn = seqcast_test_support::one_at_a_time();
    subscribe_from_oldest_races(true, Other::Drop);
}

/// `close` on one sender while a clone keeps sending to no receiver (each
/// send claims and commits a position that nobody holds): a `drained()`
/// polled while a claim made before the close is still in flight must be
/// woken by that commit, which no receiver's read follows.
#[test]
fn drained_vs_a_send_from_another_clone() {
    let _turn = seqcast_test_support::one_at_a_time();
    // Each round spawns a thread: about 4 ms under qemu-user (the cross
    // step's debug build on aarch64), where 20 000 rounds passed the 60 s
    // bound on a slow host (about 15 000 done).
    let rounds = if cfg!(miri) {
        3
    } else if cfg!(debug_assertions) {
        4_000
    } else {
        20_000
    };
    bounded("drained vs a clone's send", move || {
        for _ in 0..rounds {
            let (tx, rx) = channel::<u64>(8);
            drop(rx);
            let other = tx.clone();
            let start = Arc::new(Barrier::new(2));
            let go = Arc::clone(&start);
            let sender = thread::spawn(move || {
                go.wait();
                for v in 0..64 {
                    assert!(other.send(v).is_err(), "no receiver");
                }
            });
            start.wait();
            let mut drained = tx.close().drained();
            let (waker, woken) = seqcast_test_support::counting_waker();
            let first = Pin::new(&mut drained).poll(&mut Context::from_waker(&waker));
            sender.join().unwrap();
            if first.is_pending() {
                // Every claim has committed now: the drain is complete, and
                // whatever completed it must have woken the waiter.
                assert!(woken.count() > 0, "drained() was never woken");
                assert!(
                    Pin::new(&mut drained)
                        .poll(&mut Context::from_waker(&waker))
                        .is_ready()
                );
            }
        }
    });
}

/// `send`'s returned count is exact under a racing `subscribe`, as
/// tokio's (taken under its tail lock): for each value, the number of
/// receivers that get it equals what `send` returned. One thread sends into
/// a ring large enough never to lag or fill; the other subscribes (keeping
/// every receiver) and, between subscribes, subscribes and drops one at
/// once (so a drop races the sends too; such a receiver reads nothing, so
/// a count may include it: received <= returned there). Both modes.
#[test]
fn send_counts_match_the_receivers_that_get_the_value_under_subscribe_and_drop() {
    const N: u64 = if cfg!(miri) { 50 } else { 20_000 };
    const KEPT: usize = if cfg!(miri) { 4 } else { 256 };
    fn run<S: Send + Sync + 'static>(
        what: &'static str,
        tx: S,
        first: Receiver<u64>,
        send: fn(&S, u64) -> usize,
        subscribe: fn(&S) -> Receiver<u64>,
    ) {
        bounded(what, move || {
            let tx = Arc::new(tx);
            // The churn starts once a quarter is sent; the sender waits at
            // half for a first subscribe, so the two always overlap.
            let progress = Arc::new((AtomicU64::new(0), AtomicUsize::new(0)));
            let (t2, p2) = (Arc::clone(&tx), Arc::clone(&progress));
            let churn = thread::spawn(move || {
                while p2.0.load(Ordering::SeqCst) < N / 4 {
                    thread::yield_now();
                }
                let mut kept = Vec::new();
                let mut dropped = 0_usize;
                while Arc::strong_count(&t2) > 1 && kept.len() < KEPT {
                    kept.push(subscribe(&t2));
                    p2.1.store(kept.len(), Ordering::SeqCst);
                    drop(subscribe(&t2));
                    dropped += 1;
                    thread::yield_now();
                }
                (kept, dropped)
            });
            let mut sent = Vec::with_capacity(N as usize);
            for v in 0..N {
                if v == N / 2 {
                    while progress.1.load(Ordering::SeqCst) == 0 {
                        thread::yield_now();
                    }
                }
                sent.push(send(&tx, v));
                progress.0.store(v + 1, Ordering::SeqCst);
            }
            drop(tx);
            let (kept, dropped) = churn.join().unwrap();
            let mut got = vec![0_usize; N as usize];
            for mut rx in kept.into_iter().chain([first]) {
                loop {
                    match rx.try_recv() {
                        Ok(v) => got[v as usize] += 1,
                        Err(TryRecvError::Closed) => break,
                        Err(e) => panic!("{what}: {e:?}"),
                    }
                }
            }
            let mut exact = 0;
            for v in 0..N as usize {
                assert!(
                    got[v] <= sent[v] && sent[v] <= got[v] + 1,
                    "{what}: value {v}: {} receivers got it, send returned {} ({dropped} dropped in all)",
                    got[v],
                    sent[v]
                );
                exact += usize::from(got[v] == sent[v]);
            }
            // Not vacuous: receivers joined while values were being sent.
            assert!(
                got[0] < got[N as usize - 1],
                "{what}: no subscribe raced the sends"
            );
            assert!(exact > 0);
        });
    }
    let (tx, rx) = channel::<u64>(N as usize);
    run(
        "lossy",
        tx,
        rx,
        |tx: &Sender<u64>, v| tx.send(v).unwrap(),
        Sender::subscribe,
    );
    let (tx, rx) = channel_lossless::<u64>(N as usize);
    run(
        "lossless",
        tx,
        rx,
        |tx: &LosslessSender<u64>, v| tx.try_send(v).unwrap(),
        LosslessSender::subscribe,
    );
}

/// Lossless senders queued behind each other (3 tasks on one thread) while
/// another thread subscribes receivers, reads a few values and drops them,
/// often leaving no receiver at all: every send completes (none waits for
/// ever behind a head that will fail), a value whose send failed is never
/// received, and each receiver gets each sender's values in order.
#[test]
fn lossless_queued_senders_vs_receivers_coming_and_going() {
    const PER: u32 = if cfg!(miri) { 20 } else { 5_000 };
    bounded("lossless churn", || {
        let (tx, first) = channel_lossless::<(u32, u32)>(2);
        drop(first);
        let tx = Arc::new(tx);
        let t2 = Arc::clone(&tx);
        let senders = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async move {
                let tasks: Vec<_> = (0..3)
                    .map(|id| {
                        let tx = Arc::clone(&t2);
                        tokio::spawn(async move {
                            let mut failed = Vec::new();
                            for seq in 0..PER {
                                if tx.send((id, seq)).await.is_err() {
                                    failed.push(seq);
                                    // Wait for the next receivers, so that
                                    // sends fail and succeed in turn.
                                    while tx.receiver_count() == 0 {
                                        tokio::task::yield_now().await;
                                    }
                                }
                            }
                            failed
                        })
                    })
                    .collect();
                let mut failed = Vec::new();
                for t in tasks {
                    failed.push(t.await.unwrap());
                }
                failed
            })
        });
        let mut received = vec![Vec::new(); 3];
        let mut round = 0_u32;
        while !senders.is_finished() {
            round += 1;
            // `holder` never reads: the 2 slots fill and the senders queue
            // (a head and two behind it); `rx` reads what it can.
            let holder = tx.subscribe();
            let mut rx = tx.subscribe();
            let mut last = [None::<u32>; 3];
            for _ in 0..1 + round % 5 {
                match rx.try_recv() {
                    Ok((id, seq)) => {
                        let i = id as usize;
                        assert!(
                            last[i].is_none_or(|l| l < seq),
                            "{id}: {seq} after {last:?}"
                        );
                        last[i] = Some(seq);
                        received[i].push(seq);
                    }
                    Err(TryRecvError::Empty) => thread::yield_now(),
                    Err(e) => panic!("{e:?}"),
                }
            }
            // Then no receiver at all: the head fails when woken, those
            // queued behind it fail at once.
            drop(holder);
            drop(rx);
            if round.is_multiple_of(2) {
                thread::yield_now();
            }
        }
        let failed = senders.join().unwrap();
        let n_failed: usize = failed.iter().map(Vec::len).sum();
        let n_received: usize = received.iter().map(Vec::len).sum();
        for (i, failed) in failed.iter().enumerate() {
            for seq in &received[i] {
                assert!(
                    failed.binary_search(seq).is_err(),
                    "sender {i}: {seq} failed yet was received"
                );
            }
        }
        // Not vacuous: sends both failed and were received.
        assert!(
            n_failed > 0 && n_received > 0,
            "{n_failed} failed, {n_received} received"
        );
        println!("{n_failed} failed, {n_received} received");
    });
}
