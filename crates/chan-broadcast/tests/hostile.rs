//! A hostile user's tests: drop-in differences from tokio 1.54 (run side by
//! side), races of public operations on real threads (two busy threads at
//! most, every run bounded in time), futures polled after completion or
//! dropped mid-wait, and re-entrant user code. Each test says what it shows.
//! Written by a hostile review of issue 8; the tests that failed then were
//! fixed in the library (or, for doc claims, in the docs and here).
//! Not under Miri: several tests sleep for hundreds of milliseconds.
#![cfg(not(miri))]

use std::future::Future;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use chan_broadcast::error::{RecvError, TryRecvError};
use chan_broadcast::{Receiver, channel, channel_lossless};
use seqcast_test_support::one_at_a_time;

type TokioTryRecvError = tokio::sync::broadcast::error::TryRecvError;

/// Runs `f` on a thread; fails the test if it does not finish in `limit`.
fn bounded<R: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (done, result) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(f());
    });
    match result.recv_timeout(limit) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked (see above)"),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: did not finish in {limit:?} (hang or deadlock)")
        }
    }
}

/// A watchdog for a test that could deadlock: if the returned guard is
/// not dropped within `limit` (the test hung), it prints which test and
/// aborts the whole test binary, so a hang fails the run loudly instead of
/// stalling it. In-process (no child process), so it works under qemu and
/// the i686 loader too.
fn watchdog(name: &str, limit: Duration) -> mpsc::Sender<()> {
    let (done, wait) = mpsc::channel::<()>();
    let name = name.to_owned();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            eprintln!("{name}: did not finish in {limit:?} (hang or deadlock): aborting");
            std::process::abort();
        }
    });
    done
}

/// A tiny deterministic PRNG (xorshift64*), so a failure names its seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn map_try(r: Result<u32, TryRecvError>) -> String {
    format!("{r:?}")
}
fn map_try_tokio(r: Result<u32, TokioTryRecvError>) -> String {
    format!("{r:?}")
}

// ---------------------------------------------------------------------------
// 1. Drop-in: the same operation sequence against tokio and against us.
// ---------------------------------------------------------------------------

/// Random single-threaded sequences of every synchronous public operation
/// (send, subscribe, resubscribe, receiver drop, try_recv, both `len`s,
/// `is_empty`, receiver_count, sender clone/drop, weak upgrade, is_closed),
/// run in lockstep on tokio's broadcast and ours. Every observable result
/// must match (values, `Lagged(n)`, `Empty`/`Closed`, counts). The only
/// documented difference (the last reader moves the value out) is not
/// observable with `u32`.
#[test]
fn lockstep_with_tokio_on_random_operation_sequences() {
    for seed in 1..=400u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let caps = [1usize, 2, 3, 4, 5, 7, 8, 16];
        let cap = caps[rng.below(caps.len() as u64) as usize];
        let (ttx, trx) = tokio::sync::broadcast::channel::<u32>(cap);
        let (otx, orx) = channel::<u32>(cap);
        let mut tsenders = vec![ttx];
        let mut osenders = vec![otx];
        let tweak = tsenders[0].downgrade();
        let oweak = osenders[0].downgrade();
        let mut trxs = vec![trx];
        let mut orxs = vec![orx];
        let mut log = Vec::new();
        let mut value = 0u32;
        for step in 0..300 {
            let op = rng.below(100);
            let what;
            let (t, o): (String, String) = match op {
                0..=29 if !tsenders.is_empty() => {
                    value += 1;
                    let i = rng.below(tsenders.len() as u64) as usize;
                    what = format!("send({value}) via {i}");
                    (
                        format!("{:?}", tsenders[i].send(value).map_err(|e| e.0)),
                        format!("{:?}", osenders[i].send(value).map_err(|e| e.0)),
                    )
                }
                0..=29 => continue,
                30..=54 if !trxs.is_empty() => {
                    let i = rng.below(trxs.len() as u64) as usize;
                    what = format!("rx[{i}].try_recv()");
                    (
                        map_try_tokio(trxs[i].try_recv()),
                        map_try(orxs[i].try_recv()),
                    )
                }
                30..=54 => continue,
                55..=59 if !tsenders.is_empty() => {
                    what = "tx.subscribe()".into();
                    trxs.push(tsenders[0].subscribe());
                    orxs.push(osenders[0].subscribe());
                    (String::new(), String::new())
                }
                55..=59 => continue,
                60..=63 if !trxs.is_empty() => {
                    let i = rng.below(trxs.len() as u64) as usize;
                    what = format!("rx[{i}].resubscribe()");
                    let t = trxs[i].resubscribe();
                    let o = orxs[i].resubscribe();
                    trxs.push(t);
                    orxs.push(o);
                    (String::new(), String::new())
                }
                60..=63 => continue,
                64..=69 if !trxs.is_empty() => {
                    let i = rng.below(trxs.len() as u64) as usize;
                    what = format!("drop rx[{i}]");
                    drop(trxs.remove(i));
                    drop(orxs.remove(i));
                    (String::new(), String::new())
                }
                64..=69 => continue,
                70..=74 if !trxs.is_empty() => {
                    let i = rng.below(trxs.len() as u64) as usize;
                    what = format!("rx[{i}].len/is_empty/is_closed/counts");
                    (
                        format!(
                            "{} {} {} {} {}",
                            trxs[i].len(),
                            trxs[i].is_empty(),
                            trxs[i].is_closed(),
                            trxs[i].sender_strong_count(),
                            trxs[i].sender_weak_count()
                        ),
                        format!(
                            "{} {} {} {} {}",
                            orxs[i].len(),
                            orxs[i].is_empty(),
                            orxs[i].is_closed(),
                            orxs[i].sender_strong_count(),
                            orxs[i].sender_weak_count()
                        ),
                    )
                }
                70..=74 => continue,
                75..=84 if !tsenders.is_empty() => {
                    what = "tx.len/is_empty/receiver_count/counts".into();
                    (
                        format!(
                            "{} {} {} {} {}",
                            tsenders[0].len(),
                            tsenders[0].is_empty(),
                            tsenders[0].receiver_count(),
                            tsenders[0].strong_count(),
                            tsenders[0].weak_count()
                        ),
                        format!(
                            "{} {} {} {} {}",
                            osenders[0].len(),
                            osenders[0].is_empty(),
                            osenders[0].receiver_count(),
                            osenders[0].strong_count(),
                            osenders[0].weak_count()
                        ),
                    )
                }
                75..=84 => continue,
                85..=88 if !tsenders.is_empty() => {
                    what = "tx.clone()".into();
                    tsenders.push(tsenders[0].clone());
                    osenders.push(osenders[0].clone());
                    (String::new(), String::new())
                }
                85..=88 => continue,
                89..=91 if !tsenders.is_empty() => {
                    let i = rng.below(tsenders.len() as u64) as usize;
                    what = format!("drop tx[{i}]");
                    drop(tsenders.remove(i));
                    drop(osenders.remove(i));
                    (String::new(), String::new())
                }
                89..=91 => continue,
                _ => {
                    what = "weak.upgrade()".into();
                    let t = tweak.upgrade();
                    let o = oweak.upgrade();
                    let r = (format!("{}", t.is_some()), format!("{}", o.is_some()));
                    if let (Some(t), Some(o)) = (t, o) {
                        tsenders.push(t);
                        osenders.push(o);
                    }
                    r
                }
            };
            log.push(format!("{step}: {what} -> tokio {t} / ours {o}"));
            if t != o {
                let tail: Vec<_> = log.iter().rev().take(25).rev().cloned().collect();
                panic!(
                    "seed {seed}, capacity {cap}: differs from tokio at step {step}\n{}",
                    tail.join("\n")
                );
            }
        }
    }
}

macro_rules! traits_of {
    ($t:ty) => {
        seqcast_test_support::trait_table!($t: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe)
    };
}

/// Auto traits of every handle and error, for payloads that are `Send` but
/// not `Sync` (`Cell`), neither (`Rc`, `*const u8`), `Sync` but not `Send`
/// (`MutexGuard`), and not unwind-safe (`&mut u8`): ours must equal
/// tokio's, or code that compiled with tokio stops compiling.
#[test]
fn auto_traits_equal_tokios_for_awkward_payloads() {
    use std::cell::Cell;
    use std::rc::Rc;
    use tokio::sync::broadcast as tb;
    type Guard = std::sync::MutexGuard<'static, u8>;
    let mut diffs = Vec::new();
    macro_rules! cmp {
        ($ours:ty, $theirs:ty) => {
            let o = traits_of!($ours);
            let t = traits_of!($theirs);
            for (a, b) in o.iter().zip(t.iter()) {
                if a.1 != b.1 {
                    diffs.push(format!(
                        "{}: {} ours {} tokio {}",
                        stringify!($ours),
                        a.0,
                        a.1,
                        b.1
                    ));
                }
            }
        };
    }
    macro_rules! all {
        ($p:ty) => {
            cmp!(chan_broadcast::Sender<$p>, tb::Sender<$p>);
            cmp!(chan_broadcast::WeakSender<$p>, tb::WeakSender<$p>);
            cmp!(chan_broadcast::Receiver<$p>, tb::Receiver<$p>);
            cmp!(
                chan_broadcast::error::SendError<$p>,
                tb::error::SendError<$p>
            );
        };
    }
    all!(u8);
    all!(Cell<u8>);
    all!(Rc<u8>);
    all!(*const u8);
    all!(Guard);
    all!(&'static mut u8);
    assert!(
        diffs.is_empty(),
        "auto traits differ from tokio:\n{}",
        diffs.join("\n")
    );
}

/// The `recv()` futures: tokio's is `Send` for `T: Send`. With `T` not
/// `Sync` (a `Cell`) both must still be `Send` so `tokio::spawn` accepts a
/// task that awaits `recv()` over a `Cell` payload.
#[test]
fn recv_future_is_send_for_send_payloads() {
    fn is_send<F: Future + Send>(_: &F) {}
    let (_tx, mut rx) = channel::<std::cell::Cell<u8>>(4);
    is_send(&rx.recv());
    let (_tx, mut rx) = tokio::sync::broadcast::channel::<std::cell::Cell<u8>>(4);
    is_send(&rx.recv());
}

// ---------------------------------------------------------------------------
// 2. Re-entrant user code (T::clone / T::drop / wakers).
// ---------------------------------------------------------------------------

/// A payload whose `clone` runs a hook (set per test, per thread).
struct Hooked(u32);
thread_local! {
    static ON_CLONE: std::cell::RefCell<Option<Box<dyn FnMut()>>> =
        std::cell::RefCell::new(None);
}
impl Clone for Hooked {
    fn clone(&self) -> Self {
        let hook = ON_CLONE.with(|h| h.borrow_mut().take());
        if let Some(mut f) = hook {
            f();
        }
        Hooked(self.0)
    }
}

// ---------------------------------------------------------------------------
// 3. Real-thread races.
// ---------------------------------------------------------------------------

/// Lossy: one thread sends 0..N as fast as it can on a small ring while the
/// test thread keeps a receiver that reads with `recv_many` (batches that
/// end at a lag) and, every so often, churns: drops a second receiver,
/// subscribes one, `resubscribe`s. Per receiver, values are increasing
/// and `received + lagged == sent since it subscribed`.
#[test]
fn stress_recv_many_vs_lag_counts_are_exact() {
    let _turn = one_at_a_time();
    bounded("recv_many vs lag", Duration::from_secs(60), || {
        const N: u64 = 300_000;
        let (tx, mut rx) = channel::<u64>(8);
        let sender = thread::spawn(move || {
            for v in 0..N {
                tx.send(v).unwrap();
                if v % 64 == 0 {
                    thread::yield_now();
                }
            }
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut buf = Vec::new();
            let (mut got, mut lagged) = (0u64, 0u64);
            let mut last: Option<u64> = None;
            loop {
                buf.clear();
                match rx.recv_many(&mut buf, 5).await {
                    Ok(n) => {
                        assert_eq!(n, buf.len());
                        for &v in &buf {
                            let expected = last.map_or(0, |l| l + 1);
                            assert!(v >= expected, "reordered or duplicated: {last:?} then {v}");
                            assert_eq!(
                                v - expected,
                                std::mem::take(&mut lagged),
                                "gap {last:?}..{v} not reported as lag"
                            );
                            last = Some(v);
                            got += 1;
                        }
                    }
                    Err(RecvError::Lagged(n)) => lagged += n,
                    Err(RecvError::Closed) => break,
                }
            }
            let _ = got;
        });
        sender.join().unwrap();
    });
}

/// Lossy: `received + lagged == sent` per receiver, for receivers that
/// subscribe, resubscribe, `subscribe_from_oldest` and drop while one
/// thread sends (the test thread
/// reads all of them with `try_recv`). Values must be strictly increasing
/// and each gap must be exactly the `Lagged(n)` reported before it.
#[test]
fn stress_churning_receivers_get_exact_lag_counts() {
    let _turn = one_at_a_time();
    bounded("churn", Duration::from_secs(60), || {
        const N: u64 = 200_000;
        let (tx, rx) = channel::<u64>(4);
        let tx = Arc::new(tx);
        let sent = Arc::new(AtomicU64::new(0));
        let (tx2, sent2) = (Arc::clone(&tx), Arc::clone(&sent));
        let sender = thread::spawn(move || {
            for v in 0..N {
                tx2.send(v).unwrap();
                sent2.store(v + 1, Ordering::SeqCst);
                if v % 8 == 0 {
                    thread::yield_now();
                }
            }
        });
        struct R {
            rx: Receiver<u64>,
            last: Option<u64>,
            lag: u64,
            first_possible: u64,
            last_possible: u64,
            hist: Vec<String>,
        }
        let mut rxs = vec![R {
            rx,
            last: None,
            lag: 0,
            first_possible: 0,
            last_possible: 0,
            hist: Vec::new(),
        }];
        let mut rng = Rng(7);
        let mut done = false;
        let mut rounds = 0u64;
        while !done {
            done = sender.is_finished();
            rounds += 1;
            for r in rxs.iter_mut() {
                loop {
                    let got = r.rx.try_recv();
                    if r.hist.len() < 6 {
                        r.hist.push(format!("{got:?}"));
                    }
                    match got {
                        Ok(v) => {
                            let lag = std::mem::take(&mut r.lag);
                            match r.last {
                                Some(l) => assert_eq!(
                                    v,
                                    l + 1 + lag,
                                    "gap after {l} not matched by Lagged({lag})"
                                ),
                                None => {
                                    // Its first position lies between the sends
                                    // completed before and after its subscribe
                                    // (one more may have been in flight).
                                    let start = v.checked_sub(lag).expect("lag beyond start");
                                    assert!(
                                        (r.first_possible..=r.last_possible).contains(&start),
                                        "first value {v} after Lagged({lag}): start {start} \
                                         outside {}..={}; first results {:?}",
                                        r.first_possible,
                                        r.last_possible,
                                        r.hist
                                    );
                                }
                            }
                            r.last = Some(v);
                        }
                        Err(TryRecvError::Lagged(n)) => r.lag += n,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Closed) => break,
                    }
                }
            }
            match rng.below(4) {
                0 if rxs.len() < 4 => {
                    // Lower bound on its first value: what was sent before.
                    let first_possible = sent.load(Ordering::SeqCst);
                    let rx = tx.subscribe();
                    let last_possible = sent.load(Ordering::SeqCst) + 1;
                    rxs.push(R {
                        rx,
                        last: None,
                        lag: 0,
                        first_possible,
                        last_possible,
                        hist: Vec::new(),
                    });
                }
                1 if rxs.len() > 1 => {
                    let i = rng.below(rxs.len() as u64) as usize;
                    drop(rxs.swap_remove(i));
                }
                2 if rxs.len() < 4 => {
                    let first_possible = sent.load(Ordering::SeqCst);
                    let rx = rxs[0].rx.resubscribe();
                    let last_possible = sent.load(Ordering::SeqCst) + 1;
                    rxs.push(R {
                        rx,
                        last: None,
                        lag: 0,
                        first_possible,
                        last_possible,
                        hist: Vec::new(),
                    });
                }
                3 if rxs.len() < 4 => {
                    // Starts at the oldest value still held, at most at the
                    // tail when it subscribed.
                    let rx = tx.subscribe_from_oldest();
                    let first_possible = 0;
                    let last_possible = sent.load(Ordering::SeqCst) + 1;
                    rxs.push(R {
                        rx,
                        last: None,
                        lag: 0,
                        first_possible,
                        last_possible,
                        hist: Vec::new(),
                    });
                }
                _ => {}
            }
        }
        sender.join().unwrap();
        eprintln!("churn: {rounds} rounds");
        // Everything sent after the sender finished is readable: the newest
        // value (N - 1) is the last each receiver sees.
        for r in rxs.iter_mut() {
            let mut last = r.last;
            loop {
                match r.rx.try_recv() {
                    Ok(v) => last = Some(v),
                    Err(TryRecvError::Lagged(_)) => {}
                    Err(e) => {
                        assert_eq!(e, TryRecvError::Empty);
                        break;
                    }
                }
            }
            if let Some(l) = last {
                assert_eq!(l, N - 1);
            }
        }
        assert_eq!(tx.len(), tx.len());
    });
}

/// Lossless: a sender thread sends 0..N while the test thread reads two
/// receivers and repeatedly replaces one of them with
/// `subscribe_from_oldest` (dropping the old one). Nothing is lost,
/// duplicated or reordered for the receiver that stays, and each new
/// receiver sees a contiguous run ending at the newest value. Every wait
/// is bounded: a lost wake-up of the sender fails the test.
#[test]
fn stress_lossless_subscribe_from_oldest_churn_loses_nothing() {
    let _turn = one_at_a_time();
    bounded("lossless churn", Duration::from_secs(60), || {
        const N: u64 = 100_000;
        let (tx, mut keep) = channel_lossless::<u64>(4);
        let tx = Arc::new(tx);
        let tx2 = Arc::clone(&tx);
        let sender = thread::spawn(move || {
            for v in 0..N {
                tx2.blocking_send(v).unwrap();
            }
        });
        let mut other = tx.subscribe_from_oldest();
        let mut other_last: Option<u64> = None;
        let mut next = 0u64;
        let mut rounds = 0u64;
        let deadline = Instant::now() + Duration::from_secs(50);
        while next < N {
            assert!(Instant::now() < deadline, "stuck at {next}");
            match keep.try_recv() {
                Ok(v) => {
                    assert_eq!(v, next, "kept receiver lost or reordered a value");
                    next += 1;
                }
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(e) => panic!("kept receiver: {e:?}"),
            }
            loop {
                match other.try_recv() {
                    Ok(v) => {
                        if let Some(l) = other_last {
                            assert_eq!(v, l + 1, "late receiver: gap or reorder");
                        }
                        other_last = Some(v);
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(e) => panic!("late receiver: {e:?}"),
                }
            }
            rounds += 1;
            if rounds.is_multiple_of(7) {
                other = tx.subscribe_from_oldest();
                other_last = None;
            }
        }
        sender.join().unwrap();
    });
}

// ---------------------------------------------------------------------------
// 4. Futures after completion, cancelled mid-wait.
// ---------------------------------------------------------------------------

/// Polls `f` once with `cx`.
fn poll_once<F: Future + Unpin>(f: &mut F, cx: &mut Context<'_>) -> Poll<F::Output> {
    Pin::new(f).poll(cx)
}

/// A receiver's `Stream` that ended (`None`) keeps returning `None`, and
/// `Recv` polled again after `Ready(Closed)` stays `Closed` and registers
/// nothing (a later `send` wakes nobody: no spurious wake-up, no waiter left).
#[test]
fn finished_recv_and_stream_stay_finished_and_leave_no_waiter() {
    use futures::Stream;
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);
    let (tx, mut rx) = channel::<u8>(2);
    let tx2 = tx.clone();
    let closing = tx.close();
    let mut fut = rx.recv();
    assert_eq!(
        poll_once(&mut fut, &mut cx),
        Poll::Ready(Err(RecvError::Closed))
    );
    assert_eq!(
        poll_once(&mut fut, &mut cx),
        Poll::Ready(Err(RecvError::Closed))
    );
    drop(fut);
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
    assert!(tx2.send(1).is_err());
    assert_eq!(count.count(), 0);
    drop(closing);
}

/// Lossless: the head of the send queue is dropped at the moment a
/// receiver frees its slot (two threads), many times over. The next waiting
/// send must always be woken and complete; the freed value must not be
/// lost.
#[test]
fn lossless_waiting_head_cancelled_while_a_receiver_frees() {
    let _turn = one_at_a_time();
    bounded("cancel vs free", Duration::from_secs(60), || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        for round in 0..2000u64 {
            let (tx, mut rx) = channel_lossless::<u64>(1);
            tx.try_send(0).unwrap();
            let tx = Arc::new(tx);
            let go = Arc::new(AtomicBool::new(false));
            let g2 = Arc::clone(&go);
            let reader = thread::spawn(move || {
                while !g2.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                let v = rx.try_recv();
                (v, rx)
            });
            let got = rt.block_on(async {
                let mut head = tx.send(1); // waits: slot 0 is full
                let mut second = tx.send(2);
                let waker = Waker::noop();
                let mut cx = Context::from_waker(waker);
                assert!(poll_once(&mut head, &mut cx).is_pending());
                assert!(poll_once(&mut second, &mut cx).is_pending());
                go.store(true, Ordering::Release);
                if round % 2 == 0 {
                    std::hint::spin_loop();
                }
                drop(head);
                tokio::time::timeout(Duration::from_secs(2), second).await
            });
            let (first, mut rx) = reader.join().unwrap();
            assert_eq!(first, Ok(0), "round {round}");
            assert_eq!(
                got.map_err(|_| "second send never woken")
                    .and_then(|r| r.map_err(|_| "send failed")),
                Ok(1),
                "round {round}"
            );
            assert_eq!(rx.try_recv(), Ok(2), "round {round}");
        }
    });
}

/// `Closing::drained()` polled after it completed panics (documented as
/// allowed), but it must not disturb the channel: receivers still read.
#[test]
fn drained_polled_after_completion_leaves_the_channel_untouched() {
    let (tx, mut rx) = channel::<u8>(2);
    let other = tx.clone();
    let closing = tx.close();
    let mut d = closing.drained();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(poll_once(&mut d, &mut cx).is_ready());
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = poll_once(&mut d, &mut cx);
    }));
    assert!(again.is_err());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(other.send(1).is_err());
}

// Keep the imports used by every configuration.
#[allow(dead_code)]
fn _unused(_: AtomicUsize, _: Mutex<()>) {}

// ---------------------------------------------------------------------------
// 5. Wakers run (woken or dropped) where the protocol cannot afford it.
// ---------------------------------------------------------------------------

/// A waker that runs `on_wake` when woken and `on_drop` when its last
/// clone goes.
struct HookWaker {
    on_wake: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    on_drop: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}
impl std::task::Wake for HookWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let f = self.on_wake.lock().unwrap().take();
        if let Some(f) = f {
            f();
        }
    }
}
impl Drop for HookWaker {
    fn drop(&mut self) {
        let f = self.on_drop.get_mut().unwrap().take();
        if let Some(f) = f {
            f();
        }
    }
}
fn hook_waker(
    on_wake: Option<Box<dyn FnOnce() + Send>>,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
) -> Waker {
    Waker::from(Arc::new(HookWaker {
        on_wake: Mutex::new(on_wake),
        on_drop: Mutex::new(on_drop),
    }))
}

/// A completing `LosslessSend` claims its position, then leaves the send
/// queue, which wakes the next waiting sender's waker (and drops its own
/// queue entry's waker) *before* the claimed position is committed. A
/// waker that calls back into the channel from `wake` (here: `subscribe`,
/// which waits for every claim to commit) deadlocks the thread for ever.
/// ARCHITECTURE: "Wakers are woken and dropped outside every lock (a
/// waker's drop may call back into the channel)"; the claim-to-commit
/// window is a lock in all but name (every send, subscribe and receiver
/// drop waits for it).
#[test]
fn lossless_send_wakes_the_next_sender_between_claim_and_commit_reentrant_wake_deadlocks() {
    let _watchdog = watchdog(
        "lossless_send_wakes_the_next_sender_between_claim_and_commit_reentrant_wake_deadlocks",
        Duration::from_secs(30),
    );
    let (tx, mut rx) = channel_lossless::<u32>(1);
    let tx = Arc::new(tx);
    tx.try_send(0).unwrap();
    let mut head = tx.send(1);
    let mut second = tx.send(2);
    let noop = Waker::noop();
    assert!(poll_once(&mut head, &mut Context::from_waker(noop)).is_pending());
    let t2 = Arc::clone(&tx);
    let reenter = hook_waker(
        Some(Box::new(move || {
            // E.g. a waker that registers interest by subscribing.
            let _rx = t2.subscribe();
        })),
        None,
    );
    assert!(poll_once(&mut second, &mut Context::from_waker(&reenter)).is_pending());
    drop(reenter);
    assert_eq!(rx.try_recv(), Ok(0)); // frees the slot, wakes `head`
    // Completing `head` wakes `second`'s waker inside its claim window.
    assert_eq!(
        poll_once(&mut head, &mut Context::from_waker(noop)).map_err(|e| e.0),
        Poll::Ready(Ok(1))
    );
    assert_eq!(rx.try_recv(), Ok(1));
}

/// Same window, a waker that panics when woken: the panic leaves position
/// 1 claimed and never committed, so the channel is wedged for good: the
/// next `subscribe` (or receiver drop, or send) spins for ever. The crate
/// guide says no operation leaves the shared state broken when user code
/// panics in it (shared.rs, `RefUnwindSafe for Shared`).
#[test]
fn lossless_send_panicking_next_waker_wedges_the_channel() {
    let _watchdog = watchdog(
        "lossless_send_panicking_next_waker_wedges_the_channel",
        Duration::from_secs(30),
    );
    let (tx, mut rx) = channel_lossless::<u32>(1);
    tx.try_send(0).unwrap();
    let mut head = tx.send(1);
    let mut second = tx.send(2);
    let noop = Waker::noop();
    assert!(poll_once(&mut head, &mut Context::from_waker(noop)).is_pending());
    let bomb = hook_waker(Some(Box::new(|| panic!("waker panics"))), None);
    assert!(poll_once(&mut second, &mut Context::from_waker(&bomb)).is_pending());
    drop(bomb);
    assert_eq!(rx.try_recv(), Ok(0));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        poll_once(&mut head, &mut Context::from_waker(noop))
    }));
    assert!(r.is_err(), "the waker's panic propagates");
    drop(second);
    // The channel must still work.
    let _late = tx.subscribe();
    assert_eq!(
        rx.try_recv(),
        Ok(1),
        "the value whose send panicked after claiming"
    );
}

/// A lossless send that finds the ring full and is re-polled with a
/// different waker replaces its queued waker *inside* its claim (`Shared::send_lossless` now),
/// i.e. while it holds the full slot's lock; the old waker is dropped
/// there. A waker whose drop releases a receiver (the receiver's drop
/// walks its unread slots, including the locked one) spins for ever on
/// the lock its own thread holds. ARCHITECTURE promises wakers are dropped
/// outside every lock.
#[test]
fn lossless_send_drops_a_replaced_waker_under_the_slot_lock() {
    let _watchdog = watchdog(
        "lossless_send_drops_a_replaced_waker_under_the_slot_lock",
        Duration::from_secs(30),
    );
    let (tx, mut rx) = channel_lossless::<u32>(1);
    let inner = tx.subscribe();
    tx.try_send(0).unwrap();
    let mut send = tx.send(1);
    let holder = Mutex::new(Some(inner));
    let first = hook_waker(
        None,
        Some(Box::new(move || {
            // The task owning this waker also owned a receiver.
            drop(holder.lock().unwrap().take());
        })),
    );
    assert!(poll_once(&mut send, &mut Context::from_waker(&first)).is_pending());
    drop(first); // the queue holds the only clone now
    let second = Waker::noop();
    assert!(poll_once(&mut send, &mut Context::from_waker(second)).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(
        poll_once(&mut send, &mut Context::from_waker(second)).map_err(|e| e.0),
        Poll::Ready(Ok(1))
    );
}

// ---------------------------------------------------------------------------
// 6. Docs that claim more than the code does.
// ---------------------------------------------------------------------------

/// A payload whose clone sleeps once armed, and says when it started.
struct Slow(u32);
static SLOW_ARMED: AtomicBool = AtomicBool::new(false);
static SLOW_CLONING: AtomicBool = AtomicBool::new(false);
impl Clone for Slow {
    fn clone(&self) -> Self {
        if SLOW_ARMED.swap(false, Ordering::SeqCst) {
            SLOW_CLONING.store(true, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(600));
        }
        Slow(self.0)
    }
}

/// What `Sender::send`'s docs now say: a lossy send never waits for a
/// slow receiver to read, but it does wait for a `T::clone` of the value it
/// overwrites that is running at that moment (the slot lock), here 600 ms.
/// (The docs used to say "never waits".)
#[test]
fn lossy_send_waits_for_a_slow_clone_of_the_value_it_overwrites() {
    let _turn = one_at_a_time();
    let (tx, mut rx1) = channel::<Slow>(1);
    let _rx2 = tx.subscribe(); // rx1 clones instead of moving out
    tx.send(Slow(0)).ok().unwrap();
    SLOW_ARMED.store(true, Ordering::SeqCst);
    let reader = thread::spawn(move || rx1.try_recv().map(|s| s.0));
    while !SLOW_CLONING.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    let start = Instant::now();
    tx.send(Slow(1)).ok().unwrap();
    let took = start.elapsed();
    assert_eq!(reader.join().unwrap().ok(), Some(0));
    assert!(
        took >= Duration::from_millis(300),
        "the send overwrote a value while a receiver was cloning it ({took:?})"
    );
}

static WAKER_CLONE_ARMED: AtomicBool = AtomicBool::new(false);
static WAKER_CLONING: AtomicBool = AtomicBool::new(false);
fn slow_clone_waker() -> Waker {
    use std::task::{RawWaker, RawWakerVTable};
    fn clone(p: *const ()) -> RawWaker {
        if WAKER_CLONE_ARMED.swap(false, Ordering::SeqCst) {
            WAKER_CLONING.store(true, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(600));
        }
        RawWaker::new(p, &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the data pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// Cargo.toml's description: "a drop-in for tokio::sync::broadcast whose
/// sends and reads take no channel-wide lock". A send that finds a waiting
/// receiver takes the receivers' doorbell mutex, which every receiver that
/// finds the channel empty also takes (and holds while cloning its
/// waker): here one receiver's registration holds up an unrelated send
/// for 600 ms. (The crate guide and README say so; the package
/// description, which crates.io shows, still does not.)
#[test]
fn a_send_waits_on_an_unrelated_receivers_registration_channel_wide_lock() {
    let _turn = one_at_a_time();
    let (tx, mut parked) = channel::<u32>(4);
    let mut slow = tx.subscribe();
    // One receiver already waits, so the send will have someone to wake.
    let mut fut = parked.recv();
    assert!(poll_once(&mut fut, &mut Context::from_waker(Waker::noop())).is_pending());
    WAKER_CLONING.store(false, Ordering::SeqCst);
    WAKER_CLONE_ARMED.store(true, Ordering::SeqCst);
    let registering = thread::spawn(move || {
        let waker = slow_clone_waker();
        let mut f = slow.recv();
        let p = poll_once(&mut f, &mut Context::from_waker(&waker));
        drop(f);
        (p.is_pending(), slow)
    });
    while !WAKER_CLONING.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    let start = Instant::now();
    tx.send(1).unwrap();
    let took = start.elapsed();
    let _ = registering.join().unwrap();
    drop(fut);
    assert!(
        took < Duration::from_millis(100),
        "the send waited {took:?} on a lock held by another receiver's registration"
    );
}

// ---------------------------------------------------------------------------
// 7. A waker that panics skips the wake-ups that follow it.
// ---------------------------------------------------------------------------

/// A lossless receiver drop frees a value, wakes the waiting sender (whose
/// waker panics), and only then would ring `closed()`'s bell: the panic
/// skips it, so `LosslessSender::closed()` is never woken although no
/// receiver is left. tokio's `Receiver::drop` notifies `closed()` from a
/// drop guard precisely so that an unwind cannot skip it; shared.rs says
/// wakers and `T::drop` run only after the protocol step is complete.
#[test]
fn panicking_sender_waker_in_receiver_drop_skips_the_closed_notification() {
    let (tx, rx) = channel_lossless::<u32>(1);
    tx.try_send(0).unwrap();
    let mut send = tx.send(1);
    let bomb = hook_waker(Some(Box::new(|| panic!("waker panics"))), None);
    assert!(poll_once(&mut send, &mut Context::from_waker(&bomb)).is_pending());
    drop(bomb);
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut closed = Box::pin(tx.closed());
    assert!(
        closed
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rx)));
    assert!(r.is_err(), "the waker's panic propagates out of the drop");
    assert_eq!(tx.receiver_count(), 0);
    assert!(
        count.count() > 0,
        "`closed()` was not woken although the last receiver is gone"
    );
}

/// `close` wakes receivers first, then the waiting lossless senders, then
/// `drained()`. A receiver waker that panics skips the rest: a lossless
/// send waiting on another handle is never told the channel closed (and a
/// `drained()` would not be woken either).
#[test]
fn panicking_receiver_waker_in_close_skips_waiting_senders() {
    let (tx, mut rx) = channel_lossless::<u32>(1);
    let mut rx2 = tx.subscribe();
    tx.try_send(0).unwrap();
    assert_eq!(rx2.try_recv(), Ok(0)); // rx still holds 0: the ring is full
    let tx2 = tx.clone();
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut send = tx2.send(1);
    assert!(poll_once(&mut send, &mut Context::from_waker(&waker)).is_pending());
    let bomb = hook_waker(Some(Box::new(|| panic!("waker panics"))), None);
    let mut fut = rx2.recv();
    assert!(poll_once(&mut fut, &mut Context::from_waker(&bomb)).is_pending());
    drop(bomb);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || tx.close()));
    assert!(
        r.is_err(),
        "the receiver waker's panic propagates out of close"
    );
    drop(fut);
    assert!(
        count.count() > 0,
        "the waiting lossless send was not woken by the close"
    );
    // Had it been woken, it would fail with the value back.
    assert!(matches!(
        poll_once(&mut send, &mut Context::from_waker(&waker)),
        Poll::Ready(Err(_))
    ));
    assert_eq!(rx.try_recv(), Ok(0));
}

/// The crate guide, "What is shared, what is serialised": "a receive that
/// finds a value locks only that value's slot". In the lossless mode a
/// receive that frees a value while senders wait takes the send queue's
/// mutex (to wake the head), the same mutex every waiting sender registers
/// under (cloning its waker inside it): here a receive waits 600 ms on a
/// sender's registration. The guide's list of what is serialised does not
/// say that receivers take it.
#[test]
fn a_lossless_receive_waits_on_the_send_queue_mutex() {
    let _turn = one_at_a_time();
    let (tx, mut rx) = channel_lossless::<u32>(1);
    let tx = Arc::new(tx);
    tx.try_send(0).unwrap();
    let mut head = tx.send(1);
    assert!(poll_once(&mut head, &mut Context::from_waker(Waker::noop())).is_pending());
    WAKER_CLONING.store(false, Ordering::SeqCst);
    WAKER_CLONE_ARMED.store(true, Ordering::SeqCst);
    let t2 = Arc::clone(&tx);
    let registering = thread::spawn(move || {
        let waker = slow_clone_waker();
        let mut second = t2.send(2);
        let p = poll_once(&mut second, &mut Context::from_waker(&waker));
        drop(second);
        p.is_pending()
    });
    while !WAKER_CLONING.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    let start = Instant::now();
    assert_eq!(rx.try_recv(), Ok(0));
    let took = start.elapsed();
    assert!(registering.join().unwrap());
    drop(head);
    assert!(
        took < Duration::from_millis(100),
        "a receive waited {took:?} on the send queue's mutex"
    );
}

// ---------------------------------------------------------------------------
// 8. Held up: cancelled futures leave no waiter behind.
// ---------------------------------------------------------------------------

/// `Recv`, `LosslessSend`, `Drained` and `closed()` dropped mid-wait: the
/// events that would have woken them must not wake the dropped waker, and
/// no value is lost (the next receive gets it).
#[test]
fn futures_dropped_mid_wait_leave_no_waiter_and_lose_nothing() {
    let (waker, count) = seqcast_test_support::counting_waker();
    let mut cx = Context::from_waker(&waker);

    let (tx, mut rx) = channel::<u32>(2);
    let mut f = rx.recv();
    assert!(poll_once(&mut f, &mut cx).is_pending());
    drop(f);
    tx.send(1).unwrap();
    assert_eq!(count.count(), 0, "dropped Recv woken");
    assert_eq!(rx.try_recv(), Ok(1));

    let (ltx, mut lrx) = channel_lossless::<u32>(1);
    ltx.try_send(0).unwrap();
    let mut s = ltx.send(1);
    assert!(poll_once(&mut s, &mut cx).is_pending());
    drop(s);
    assert_eq!(lrx.try_recv(), Ok(0));
    assert_eq!(count.count(), 0, "dropped LosslessSend woken");
    assert_eq!(
        ltx.try_send(2),
        Ok(1),
        "a dropped head must not block the queue"
    );

    let (tx, mut rx) = channel::<u32>(2);
    tx.send(1).unwrap();
    let mut d = tx.close().drained();
    assert!(poll_once(&mut d, &mut cx).is_pending());
    drop(d);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(count.count(), 0, "dropped Drained woken");

    let (tx, rx) = channel::<u32>(2);
    let mut c = Box::pin(tx.closed());
    assert!(c.as_mut().poll(&mut cx).is_pending());
    drop(c);
    drop(rx);
    assert_eq!(count.count(), 0, "dropped closed() woken");
}

/// Held up: a `T::clone` that panics for one receiver of a lossless
/// channel skips that value for that receiver only; the other receiver
/// still gets it (moved out), the slot is freed and the next send fits.
#[test]
fn lossless_panicking_clone_skips_one_receiver_and_frees_the_slot() {
    let (tx, mut a) = channel_lossless::<Hooked>(1);
    let mut b = tx.subscribe();
    tx.try_send(Hooked(1)).ok().unwrap();
    ON_CLONE.with(|h| *h.borrow_mut() = Some(Box::new(|| panic!("clone panics"))));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.try_recv().map(|h| h.0)));
    assert!(r.is_err());
    assert_eq!(b.try_recv().map(|h| h.0).ok(), Some(1));
    assert!(tx.try_send(Hooked(2)).is_ok(), "slot freed");
    assert_eq!(a.try_recv().map(|h| h.0).ok(), Some(2));
}

/// Lossless under cancellation: two sender tasks send with a short
/// `timeout` around each `send(v).await` (a cancelled send must not
/// deliver, a completed one must deliver exactly once, in order per
/// sender), while a reader thread reads with `blocking_recv`. Bounded in
/// time: a
/// stranded send queue (a cancelled head that did not pass its turn on)
/// fails the test.
#[test]
fn stress_lossless_cancelled_sends_never_deliver_and_completed_ones_always_do() {
    let _turn = one_at_a_time();
    bounded("lossless cancellation", Duration::from_secs(90), || {
        const PER: u64 = 20_000;
        let (tx, rx) = channel_lossless::<(u64, u64)>(2);
        let reader = thread::spawn(move || {
            let mut rx = rx;
            let mut got: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
            loop {
                match rx.blocking_recv() {
                    Ok((s, v)) => {
                        got[s as usize].push(v);
                        if v % 97 == 0 {
                            thread::sleep(Duration::from_micros(50));
                        }
                    }
                    Err(RecvError::Closed) => break,
                    Err(e) => panic!("lossless receiver: {e:?}"),
                }
            }
            got
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let sent = rt.block_on(async move {
            let mut tasks = Vec::new();
            for s in 0..2u64 {
                let tx = tx.clone();
                tasks.push(tokio::spawn(async move {
                    let mut ok = Vec::new();
                    for v in 0..PER {
                        let mut fut = tx.send((s, v));
                        // Poll once; if it has to wait, cancel every other one
                        // (after letting the other task run), await the rest.
                        let first =
                            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).poll(cx)))
                                .await;
                        match first {
                            Poll::Ready(r) => {
                                r.unwrap();
                                ok.push(v);
                            }
                            Poll::Pending if v % 2 == 0 => {
                                tokio::task::yield_now().await;
                                drop(fut); // cancelled: must not be delivered
                            }
                            Poll::Pending => {
                                fut.await.unwrap();
                                ok.push(v);
                            }
                        }
                    }
                    ok
                }));
            }
            drop(tx);
            let mut sent = Vec::new();
            for t in tasks {
                sent.push(t.await.unwrap());
            }
            sent
        });
        let got = reader.join().unwrap();
        let cancelled: usize = sent.iter().map(|v| PER as usize - v.len()).sum();
        eprintln!(
            "lossless cancellation: {cancelled} of {} sends cancelled",
            2 * PER
        );
        for s in 0..2 {
            assert_eq!(
                got[s].len(),
                sent[s].len(),
                "sender {s}: delivered {} values, completed {}",
                got[s].len(),
                sent[s].len()
            );
            assert_eq!(got[s], sent[s], "sender {s}: delivered != completed sends");
        }
    });
}

/// Poll level, side by side with tokio: which events wake a receiver
/// waiting in `recv()` (no spurious wake-ups, none missing): a subscribe,
/// a resubscribe, another receiver's drop, a non-last sender drop, a send,
/// the last sender's drop.
#[test]
fn wake_ups_of_a_waiting_receiver_match_tokio() {
    fn ours() -> Vec<usize> {
        let (waker, count) = seqcast_test_support::counting_waker();
        let mut cx = Context::from_waker(&waker);
        let (tx, mut rx) = channel::<u32>(4);
        let other = tx.subscribe();
        let tx2 = tx.clone();
        let mut seen = Vec::new();
        let mut f = rx.recv();
        assert!(poll_once(&mut f, &mut cx).is_pending());
        let _s = tx.subscribe();
        seen.push(count.count());
        drop(other);
        seen.push(count.count());
        drop(tx2);
        seen.push(count.count());
        tx.send(1).unwrap();
        seen.push(count.count());
        assert_eq!(poll_once(&mut f, &mut cx), Poll::Ready(Ok(1)));
        drop(f);
        let mut f = rx.recv();
        assert!(poll_once(&mut f, &mut cx).is_pending());
        drop(tx);
        seen.push(count.count());
        seen
    }
    fn tokio_() -> Vec<usize> {
        let (waker, count) = seqcast_test_support::counting_waker();
        let mut cx = Context::from_waker(&waker);
        let (tx, mut rx) = tokio::sync::broadcast::channel::<u32>(4);
        let other = tx.subscribe();
        let tx2 = tx.clone();
        let mut seen = Vec::new();
        let mut f = Box::pin(rx.recv());
        assert!(f.as_mut().poll(&mut cx).is_pending());
        let _s = tx.subscribe();
        seen.push(count.count());
        drop(other);
        seen.push(count.count());
        drop(tx2);
        seen.push(count.count());
        tx.send(1).unwrap();
        seen.push(count.count());
        assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
        drop(f);
        let mut f = Box::pin(rx.recv());
        assert!(f.as_mut().poll(&mut cx).is_pending());
        drop(tx);
        seen.push(count.count());
        seen
    }
    assert_eq!(ours(), tokio_());
}

/// The other half of the claim window: the completing send drops its own
/// queue entry (and with it its registered waker) after claiming and before
/// committing. A waker whose drop releases a receiver (the task that owned
/// it had one) makes that receiver's drop wait for the uncommitted claim:
/// the thread deadlocks on itself.
#[test]
fn lossless_send_drops_its_own_waker_between_claim_and_commit() {
    let _watchdog = watchdog(
        "lossless_send_drops_its_own_waker_between_claim_and_commit",
        Duration::from_secs(30),
    );
    let (tx, mut rx) = channel_lossless::<u32>(1);
    let mut inner = tx.subscribe();
    tx.try_send(0).unwrap();
    assert_eq!(inner.try_recv(), Ok(0));
    let mut send = tx.send(1);
    let holder = Mutex::new(Some(inner));
    let w = hook_waker(
        None,
        Some(Box::new(move || drop(holder.lock().unwrap().take()))),
    );
    assert!(poll_once(&mut send, &mut Context::from_waker(&w)).is_pending());
    drop(w); // the queue entry holds the only clone
    assert_eq!(rx.try_recv(), Ok(0)); // frees the slot
    // The send commits (to both receivers) before it leaves the queue and
    // drops that waker, which then releases `inner`: no hang.
    assert_eq!(
        poll_once(&mut send, &mut Context::from_waker(Waker::noop())).map_err(|e| e.0),
        Poll::Ready(Ok(2))
    );
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.len(), 0, "the dropped receiver released its share");
}

/// Lossless on tokio's 2-worker multi-thread runtime: two sender tasks and
/// two receiver tasks (one of them replaced mid-run by a
/// `subscribe_from_oldest` receiver), capacity 2: every value of each
/// sender reaches the steady receiver, in order, and the run finishes
/// (a lost wake-up of a sender or receiver task fails on the timeout).
#[test]
fn stress_lossless_tasks_on_a_multi_thread_runtime() {
    let _turn = one_at_a_time();
    bounded("lossless tasks", Duration::from_secs(90), || {
        const PER: u64 = 50_000;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, mut steady) = channel_lossless::<(u64, u64)>(2);
            let churn = tx.subscribe();
            let mut senders = Vec::new();
            for s in 0..2u64 {
                let tx = tx.clone();
                senders.push(tokio::spawn(async move {
                    for v in 0..PER {
                        tx.send((s, v)).await.unwrap();
                    }
                }));
            }
            let tx2 = tx.clone();
            drop(tx);
            let churner = tokio::spawn(async move {
                let mut rx = churn;
                let mut n = 0u64;
                loop {
                    match rx.recv().await {
                        Ok(_) => {
                            n += 1;
                            if n.is_multiple_of(1000) {
                                rx = tx2.subscribe_from_oldest();
                            }
                        }
                        Err(RecvError::Closed) => break,
                        Err(e) => panic!("churning receiver: {e:?}"),
                    }
                    if n == 30_000 {
                        break; // leaves; the senders must not wait for it
                    }
                }
                drop(tx2);
            });
            let mut next = [0u64; 2];
            loop {
                match steady.recv().await {
                    Ok((s, v)) => {
                        assert_eq!(v, next[s as usize], "sender {s}: lost or reordered");
                        next[s as usize] += 1;
                    }
                    Err(RecvError::Closed) => break,
                    Err(e) => panic!("steady receiver: {e:?}"),
                }
            }
            assert_eq!(next, [PER, PER]);
            for s in senders {
                s.await.unwrap();
            }
            churner.await.unwrap();
        });
    });
}
