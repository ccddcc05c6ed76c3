//! chan-broadcast against `tokio::sync::broadcast` (tokio 1.54): seeded
//! random sequences of every single-threaded operation of tokio's API
//! (send, subscribe, resubscribe, try_recv, a poll of `recv`, drops of
//! receivers and senders, clone, downgrade/upgrade, every count, `len`,
//! `is_empty`, `is_closed`, the weak handles' counts, `same_channel` within
//! and across channels, a poll of `Sender::closed`, bursts of sends that lag
//! receivers by more than a lap, `Debug` of handles, `Debug`/`Display` of
//! every result), on capacities from 1 to 40 (powers of two and others),
//! starting from `channel` or from `Sender::new` (no receiver). Each
//! result is rendered with `Debug` (and errors with `Display`) and the
//! strings must be equal. A failure names the seed and step.
//!
//! Also checked at compile time: the auto traits and `Unpin` of every
//! public handle match tokio's.

use std::fmt::Debug;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use seqcast_differential::Rng;

use chan_broadcast as ours;
use tokio::sync::broadcast as theirs;

/// One handle of each side.
struct Both<A, B> {
    ours: A,
    theirs: B,
}

/// Both channels, with their live handles in matching positions.
struct Pair {
    tx: Vec<Both<ours::Sender<u64>, theirs::Sender<u64>>>,
    weak: Vec<Both<ours::WeakSender<u64>, theirs::WeakSender<u64>>>,
    rx: Vec<Both<ours::Receiver<u64>, theirs::Receiver<u64>>>,
    /// A second channel's handles, for `same_channel` against another channel.
    other: Both<ours::Sender<u64>, theirs::Sender<u64>>,
    other_rx: Both<ours::Receiver<u64>, theirs::Receiver<u64>>,
}

/// `Debug` of a result; for an error also its `Display`.
fn show<T: Debug, E: Debug + std::fmt::Display>(r: &Result<T, E>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({e:?}) / {e}"),
    }
}

/// Polls a `recv` future once with a no-op waker (then drops it, which
/// must leave no waiter behind on either side).
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = pin!(fut);
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

fn show_poll<T: Debug, E: Debug + std::fmt::Display>(p: Poll<Result<T, E>>) -> String {
    match p {
        Poll::Pending => "Pending".into(),
        Poll::Ready(r) => format!("Ready({})", show(&r)),
    }
}

fn run(seed: u64, steps: usize, ran: &mut std::collections::BTreeMap<&'static str, usize>) {
    let mut rng = Rng::new(seed);
    let capacity = 1 + rng.below(40);
    // One run in four starts from `Sender::new`: no receiver yet.
    let from_new = rng.below(4) == 0;
    let (otx, ttx) = (
        ours::Sender::<u64>::new(capacity),
        theirs::Sender::<u64>::new(capacity),
    );
    let rx = if from_new {
        Vec::new()
    } else {
        vec![Both {
            ours: otx.subscribe(),
            theirs: ttx.subscribe(),
        }]
    };
    let (oo, oorx) = ours::channel::<u64>(capacity);
    let (to, torx) = theirs::channel::<u64>(capacity);
    let mut p = Pair {
        tx: vec![Both {
            ours: otx,
            theirs: ttx,
        }],
        weak: Vec::new(),
        rx,
        other: Both {
            ours: oo,
            theirs: to,
        },
        other_rx: Both {
            ours: oorx,
            theirs: torx,
        },
    };
    let mut next_value = 0_u64;
    for step in 0..steps {
        let op = rng.below(20);
        let (what, a, b): (&str, String, String) = match op {
            // send (weighted: three ops of sixteen)
            0..=2 if !p.tx.is_empty() => {
                let h = &p.tx[rng.below(p.tx.len())];
                next_value += 1;
                (
                    "send",
                    show(&h.ours.send(next_value)),
                    show(&h.theirs.send(next_value)),
                )
            }
            // try_recv (weighted)
            3..=5 if !p.rx.is_empty() => {
                let i = rng.below(p.rx.len());
                let h = &mut p.rx[i];
                (
                    "try_recv",
                    show(&h.ours.try_recv()),
                    show(&h.theirs.try_recv()),
                )
            }
            6 if !p.rx.is_empty() => {
                let i = rng.below(p.rx.len());
                let h = &mut p.rx[i];
                (
                    "poll recv",
                    show_poll(poll_once(h.ours.recv())),
                    show_poll(poll_once(h.theirs.recv())),
                )
            }
            7 if !p.tx.is_empty() && p.rx.len() < 8 => {
                let h = &p.tx[rng.below(p.tx.len())];
                p.rx.push(Both {
                    ours: h.ours.subscribe(),
                    theirs: h.theirs.subscribe(),
                });
                ("subscribe", String::new(), String::new())
            }
            8 if !p.rx.is_empty() && p.rx.len() < 8 => {
                let h = &p.rx[rng.below(p.rx.len())];
                let n = Both {
                    ours: h.ours.resubscribe(),
                    theirs: h.theirs.resubscribe(),
                };
                p.rx.push(n);
                ("resubscribe", String::new(), String::new())
            }
            9 if !p.rx.is_empty() => {
                let i = rng.below(p.rx.len());
                drop(p.rx.swap_remove(i));
                ("drop receiver", String::new(), String::new())
            }
            10 if !p.tx.is_empty() && p.tx.len() < 4 => {
                let h = &p.tx[rng.below(p.tx.len())];
                let n = Both {
                    ours: h.ours.clone(),
                    theirs: h.theirs.clone(),
                };
                p.tx.push(n);
                ("clone sender", String::new(), String::new())
            }
            11 if !p.tx.is_empty() && rng.below(4) == 0 => {
                let i = rng.below(p.tx.len());
                drop(p.tx.swap_remove(i));
                ("drop sender", String::new(), String::new())
            }
            12 if !p.tx.is_empty() && p.weak.len() < 4 => {
                let h = &p.tx[rng.below(p.tx.len())];
                p.weak.push(Both {
                    ours: h.ours.downgrade(),
                    theirs: h.theirs.downgrade(),
                });
                ("downgrade", String::new(), String::new())
            }
            13 if !p.weak.is_empty() => {
                let i = rng.below(p.weak.len());
                let h = &p.weak[i];
                let (o, t) = (h.ours.upgrade(), h.theirs.upgrade());
                let shown = (format!("{o:?}"), format!("{t:?}"));
                if let (Some(ours), Some(theirs)) = (o, t) {
                    p.tx.push(Both { ours, theirs });
                } else if rng.below(2) == 0 {
                    drop(p.weak.swap_remove(i));
                }
                ("upgrade", shown.0, shown.1)
            }
            14 if !p.tx.is_empty() => {
                let h = &p.tx[rng.below(p.tx.len())];
                let o = (
                    h.ours.len(),
                    h.ours.is_empty(),
                    h.ours.receiver_count(),
                    h.ours.strong_count(),
                    h.ours.weak_count(),
                    format!("{:?}", h.ours),
                );
                let t = (
                    h.theirs.len(),
                    h.theirs.is_empty(),
                    h.theirs.receiver_count(),
                    h.theirs.strong_count(),
                    h.theirs.weak_count(),
                    format!("{:?}", h.theirs),
                );
                ("sender counts", format!("{o:?}"), format!("{t:?}"))
            }
            15 if !p.rx.is_empty() => {
                let h = &p.rx[rng.below(p.rx.len())];
                let o = (
                    h.ours.len(),
                    h.ours.is_empty(),
                    h.ours.is_closed(),
                    h.ours.sender_strong_count(),
                    h.ours.sender_weak_count(),
                    format!("{:?}", h.ours),
                );
                let t = (
                    h.theirs.len(),
                    h.theirs.is_empty(),
                    h.theirs.is_closed(),
                    h.theirs.sender_strong_count(),
                    h.theirs.sender_weak_count(),
                    format!("{:?}", h.theirs),
                );
                ("receiver counts", format!("{o:?}"), format!("{t:?}"))
            }
            // The weak handles' own counts and `Debug`.
            16 if !p.weak.is_empty() => {
                let h = &p.weak[rng.below(p.weak.len())];
                let o = (
                    h.ours.strong_count(),
                    h.ours.weak_count(),
                    format!("{:?}", h.ours),
                );
                let t = (
                    h.theirs.strong_count(),
                    h.theirs.weak_count(),
                    format!("{:?}", h.theirs),
                );
                ("weak counts", format!("{o:?}"), format!("{t:?}"))
            }
            // `same_channel`: two handles of this channel, and one of another.
            17 if !p.tx.is_empty() || !p.rx.is_empty() => {
                // Two random handles of one list and the other channel's
                // handle of the same kind, asked on both sides.
                macro_rules! same_channel_of {
                    ($list:expr, $other:expr) => {{
                        let a = &$list[rng.below($list.len())];
                        let b = &$list[rng.below($list.len())];
                        (
                            (
                                a.ours.same_channel(&b.ours),
                                a.ours.same_channel(&$other.ours),
                            ),
                            (
                                a.theirs.same_channel(&b.theirs),
                                a.theirs.same_channel(&$other.theirs),
                            ),
                        )
                    }};
                }
                let (o, t) = if !p.tx.is_empty() && (p.rx.is_empty() || rng.below(2) == 0) {
                    same_channel_of!(p.tx, p.other)
                } else {
                    same_channel_of!(p.rx, p.other_rx)
                };
                ("same_channel", format!("{o:?}"), format!("{t:?}"))
            }
            // One poll of `Sender::closed()` (ready once no receiver is left).
            18 if !p.tx.is_empty() => {
                let h = &p.tx[rng.below(p.tx.len())];
                let o = poll_once(h.ours.closed());
                let t = poll_once(h.theirs.closed());
                ("poll closed", format!("{o:?}"), format!("{t:?}"))
            }
            // A burst of sends: lag of more than one lap at any capacity.
            19 if !p.tx.is_empty() => {
                let h = &p.tx[rng.below(p.tx.len())];
                let n = rng.below(3 * capacity.next_power_of_two());
                let (mut o, mut t) = (Vec::new(), Vec::new());
                for _ in 0..n {
                    next_value += 1;
                    o.push(show(&h.ours.send(next_value)));
                    t.push(show(&h.theirs.send(next_value)));
                }
                ("send burst", o.join(","), t.join(","))
            }
            _ => continue,
        };
        *ran.entry(what).or_default() += 1;
        if what == "try_recv" && a.contains("Lagged") {
            *ran.entry("try_recv: lagged").or_default() += 1;
        }
        if what == "poll closed" && a.starts_with("Ready") {
            *ran.entry("poll closed: ready").or_default() += 1;
        }
        if what == "send" && a.starts_with("Err") {
            *ran.entry("send: no receiver or closed").or_default() += 1;
        }
        assert_eq!(
            a, b,
            "seed {seed}, capacity {capacity}, step {step}: `{what}` differs (left: ours, right: tokio)"
        );
    }
}

#[test]
fn random_sequences_match_tokio() {
    let mut ran = std::collections::BTreeMap::new();
    for seed in 0..1500 {
        run(seed, 400, &mut ran);
    }
    // Not vacuous: every operation, and the edge cases, ran many times.
    println!("{ran:#?}");
    assert_eq!(ran.len(), 19, "{ran:?}");
    assert!(ran.values().all(|&n| n > 1000), "{ran:?}");
}

/// The weak handle's `Debug` and the `SendError` unwrap message, which
/// users see in logs and panics.
#[test]
fn strings_users_see_match_tokio() {
    let (otx, orx) = ours::channel::<u64>(4);
    let (ttx, trx) = theirs::channel::<u64>(4);
    assert_eq!(
        format!("{:?}", otx.downgrade()),
        format!("{:?}", ttx.downgrade())
    );
    drop((orx, trx));
    let o = std::panic::catch_unwind(|| otx.send(3).unwrap()).unwrap_err();
    let t = std::panic::catch_unwind(|| ttx.send(3).unwrap()).unwrap_err();
    assert_eq!(o.downcast_ref::<String>(), t.downcast_ref::<String>());
}

mod auto_traits {
    use static_assertions::{assert_impl_all, assert_not_impl_any};
    use std::cell::Cell;
    use std::panic::{RefUnwindSafe, UnwindSafe};
    use std::rc::Rc;

    use super::{ours, theirs};

    /// Asserts that ours and tokio's implement the same of these traits,
    /// for a `!Sync` and a `!Send` payload.
    macro_rules! same_auto_traits {
        ($($t:ident),*) => {$(
            assert_impl_all!(ours::$t<Cell<u8>>: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
            assert_impl_all!(theirs::$t<Cell<u8>>: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
            assert_not_impl_any!(ours::$t<Rc<u8>>: Send, Sync);
            assert_not_impl_any!(theirs::$t<Rc<u8>>: Send, Sync);
        )*};
    }

    same_auto_traits!(Sender, WeakSender, Receiver);
}

/// tokio's cooperative budget: a receiver that always finds a value
/// yields to its worker after exactly as many values as tokio's does.
#[test]
fn recv_yields_after_as_many_values_as_tokio() {
    fn values_before_yield(recv_one: impl AsyncFnMut() + 'static) -> usize {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut recv_one = recv_one;
            let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let f2 = std::sync::Arc::clone(&flag);
            let other =
                tokio::spawn(async move { f2.store(true, std::sync::atomic::Ordering::SeqCst) });
            let mut n = 0;
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                recv_one().await;
                n += 1;
            }
            other.await.unwrap();
            n
        })
    }
    let (otx, mut orx) = ours::channel::<u64>(1024);
    let (ttx, mut trx) = theirs::channel::<u64>(1024);
    for i in 0..1024 {
        otx.send(i).unwrap();
        ttx.send(i).unwrap();
    }
    let o = values_before_yield(async move || {
        orx.recv().await.unwrap();
    });
    let t = values_before_yield(async move || {
        trx.recv().await.unwrap();
    });
    assert!(t < 1024, "tokio never yielded");
    assert_eq!(o, t, "values received before the first yield: ours, tokio");
}

/// A payload whose every clone panics.
#[derive(Debug)]
struct AlwaysPanics(u32);

impl Clone for AlwaysPanics {
    fn clone(&self) -> Self {
        panic!("clone of {} refused", self.0)
    }
}

/// The one documented difference (chan-broadcast's crate docs): the last
/// receiver to read a value gets it moved out, so with a `Clone` that
/// always panics the first reader loses the value (as with tokio) and the
/// last one receives it (tokio panics there too and loses it).
#[test]
fn a_panicking_clone_differs_from_tokio_only_on_the_last_reader() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let (otx, mut o1) = ours::channel(4);
    let mut o2 = otx.subscribe();
    let (ttx, mut t1) = theirs::channel(4);
    let mut t2 = ttx.subscribe();
    otx.send(AlwaysPanics(1)).unwrap();
    ttx.send(AlwaysPanics(1)).unwrap();
    // The first reader: both panic in the clone, and the value is skipped.
    assert!(catch_unwind(AssertUnwindSafe(|| o1.try_recv())).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| t1.try_recv())).is_err());
    assert_eq!(
        format!("{:?}", o1.try_recv()),
        format!("{:?}", t1.try_recv())
    );
    // The last reader: ours moves the value out, tokio clones and panics.
    assert_eq!(o2.try_recv().map(|v| v.0).ok(), Some(1));
    assert!(catch_unwind(AssertUnwindSafe(|| t2.try_recv())).is_err());
    // Both channels are still usable, and empty.
    assert_eq!(
        format!("{:?}", o2.try_recv()),
        format!("{:?}", t2.try_recv())
    );
    assert_eq!((otx.len(), otx.is_empty()), (ttx.len(), ttx.is_empty()));
}

/// A polled `recv` future that is leaked (never dropped) and then its
/// receiver dropped: later sends, subscribes and receives work on both.
#[test]
fn a_leaked_pending_recv_then_its_receiver_dropped_leaves_a_working_channel() {
    let (otx, mut orx) = ours::channel::<u64>(4);
    let (ttx, mut trx) = theirs::channel::<u64>(4);
    {
        let mut f = Box::pin(orx.recv());
        assert!(
            f.as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        std::mem::forget(f);
        let mut f = Box::pin(trx.recv());
        assert!(
            f.as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        std::mem::forget(f);
    }
    drop((orx, trx));
    let (mut o2, mut t2) = (otx.subscribe(), ttx.subscribe());
    assert_eq!(show(&otx.send(1)), show(&ttx.send(1)));
    assert_eq!(show(&o2.try_recv()), show(&t2.try_recv()));
    assert_eq!(otx.receiver_count(), ttx.receiver_count());
}

/// `blocking_recv` where tokio allows it: inside `block_in_place` on a
/// multi-thread worker, and on a plain thread with no runtime.
#[test]
fn blocking_recv_where_tokio_allows_it() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (otx, mut orx) = ours::channel::<u64>(4);
    let (ttx, mut trx) = theirs::channel::<u64>(4);
    otx.send(7).unwrap();
    ttx.send(7).unwrap();
    let (o, t) = rt.block_on(async move {
        tokio::spawn(async move {
            tokio::task::block_in_place(|| (orx.blocking_recv(), trx.blocking_recv()))
        })
        .await
        .unwrap()
    });
    assert_eq!(format!("{o:?}"), format!("{t:?}"));
    drop(rt);
    let (mut orx, mut trx) = (otx.subscribe(), ttx.subscribe());
    drop((otx, ttx));
    assert_eq!(
        format!("{:?}", orx.blocking_recv()),
        format!("{:?}", trx.blocking_recv())
    );
}

/// The panic message of a constructor call.
fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("it must panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// Every capacity tokio rejects, rejected with tokio's text; the edges it
/// accepts, accepted with the same rounding (`len` after more sends than
/// the capacity). `usize::MAX / 2` passes both checks and cannot be
/// allocated: tokio panics in `alloc` ("capacity overflow"), ours with its
/// own text at the caller's line (documented on `channel`).
#[test]
fn capacities_are_accepted_and_rejected_as_tokio() {
    for cap in [0, usize::MAX / 2 + 1, usize::MAX - 1, usize::MAX] {
        assert_eq!(
            panic_text(move || drop(ours::channel::<u8>(cap))),
            panic_text(move || drop(theirs::channel::<u8>(cap))),
            "capacity {cap}"
        );
        assert_eq!(
            panic_text(move || drop(ours::Sender::<u8>::new(cap))),
            panic_text(move || drop(theirs::Sender::<u8>::new(cap))),
            "Sender::new({cap})"
        );
    }
    for cap in [1, 2, 3, 5, 7, 8, 9, 100, 1000, 1025] {
        let (otx, orx) = ours::channel::<usize>(cap);
        let (ttx, trx) = theirs::channel::<usize>(cap);
        for i in 0..3 * cap {
            otx.send(i).unwrap();
            ttx.send(i).unwrap();
        }
        assert_eq!(
            (otx.len(), orx.len()),
            (ttx.len(), trx.len()),
            "capacity {cap}"
        );
    }
    let ours_text = panic_text(|| drop(ours::channel::<u64>(usize::MAX / 2)));
    assert!(
        ours_text.starts_with("broadcast channel: cannot allocate"),
        "{ours_text}"
    );
    assert_eq!(
        panic_text(|| drop(theirs::channel::<u64>(usize::MAX / 2))),
        "capacity overflow"
    );
}

/// Set to make the next drop of a [`Bomb`] panic (once).
static BOMB_ARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A payload whose drop panics once armed.
#[derive(Clone, Debug)]
struct Bomb(u32);

impl Drop for Bomb {
    fn drop(&mut self) {
        if BOMB_ARMED.swap(false, std::sync::atomic::Ordering::SeqCst) {
            panic!("drop of {}", self.0)
        }
    }
}

/// A `T::drop` that panics inside the channel (the send that overwrites
/// it, the drop of the receiver that held it last) propagates, as with
/// tokio, and leaves a channel that works as tokio's does after it.
#[test]
fn a_panicking_drop_inside_the_channel_leaves_it_working_as_tokio() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let arm = || BOMB_ARMED.store(true, std::sync::atomic::Ordering::SeqCst);
    // The send that overwrites it.
    let (otx, mut orx) = ours::channel::<Bomb>(1);
    let (ttx, mut trx) = theirs::channel::<Bomb>(1);
    otx.send(Bomb(1)).unwrap();
    ttx.send(Bomb(1)).unwrap();
    arm();
    assert!(catch_unwind(AssertUnwindSafe(|| otx.send(Bomb(2)))).is_err());
    arm();
    assert!(catch_unwind(AssertUnwindSafe(|| ttx.send(Bomb(2)))).is_err());
    for _ in 0..2 {
        assert_eq!(show(&otx.send(Bomb(3))), show(&ttx.send(Bomb(3))));
        assert_eq!(show(&orx.try_recv()), show(&trx.try_recv()));
        assert_eq!(show(&orx.try_recv()), show(&trx.try_recv()));
    }
    // The drop of the last receiver holding it (run on a thread: a wedged
    // channel would hang, not fail).
    let (otx, mut orx) = ours::channel::<Bomb>(4);
    let (ttx, mut trx) = theirs::channel::<Bomb>(4);
    let (orx2, trx2) = (otx.subscribe(), ttx.subscribe());
    otx.send(Bomb(1)).unwrap();
    ttx.send(Bomb(1)).unwrap();
    drop((orx.try_recv(), trx.try_recv()));
    arm();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(orx2))).is_err());
    arm();
    assert!(catch_unwind(AssertUnwindSafe(|| drop(trx2))).is_err());
    let after = std::thread::spawn(move || {
        let o = (
            show(&otx.send(Bomb(3))),
            show(&orx.try_recv()),
            otx.len(),
            otx.receiver_count(),
        );
        let t = (
            show(&ttx.send(Bomb(3))),
            show(&trx.try_recv()),
            ttx.len(),
            ttx.receiver_count(),
        );
        (format!("{o:?}"), format!("{t:?}"))
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !after.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "the channel is wedged"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let (o, t) = after.join().unwrap();
    assert_eq!(o, t);
}

/// Tasks waiting in `recv` aborted on a 2-worker runtime: their futures and
/// receivers drop while registered. `Sender::closed()` then resolves, later
/// sends find no receiver, and a new receiver works, as with tokio.
#[test]
fn receivers_aborted_while_waiting_in_recv() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    // One body for both crates: `$m` is `ours` or `theirs`.
    macro_rules! aborted_in_recv {
        ($m:ident) => {
            rt.block_on(async move {
                let tx = $m::Sender::<u64>::new(8);
                let mut tasks = Vec::new();
                let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(64);
                for _ in 0..32 {
                    let ready = ready_tx.clone();
                    let mut rx = tx.subscribe();
                    tasks.push(tokio::spawn(async move {
                        let mut fut = pin!(rx.recv());
                        let first =
                            std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
                        assert!(first.is_pending(), "registered before the abort");
                        ready.send(()).await.unwrap();
                        format!("{:?}", fut.await)
                    }));
                }
                for _ in 0..32 {
                    ready_rx.recv().await.unwrap();
                }
                for t in &tasks {
                    t.abort();
                }
                let mut log = Vec::new();
                for t in tasks {
                    log.push(format!("{:?}", t.await.map_err(|e| e.is_cancelled())));
                }
                let closed = tokio::time::timeout(std::time::Duration::from_secs(10), tx.closed());
                log.push(format!("closed: {:?}", closed.await.is_ok()));
                log.push(format!("{:?}", tx.receiver_count()));
                log.push(show(&tx.send(1)));
                let mut rx = tx.subscribe();
                log.push(show(&tx.send(2)));
                log.push(show(&rx.try_recv()));
                log.join("\n")
            })
        };
    }
    let out = [aborted_in_recv!(ours), aborted_in_recv!(theirs)];
    assert_eq!(out[0], out[1]);
}

/// The futures' auto traits leak through tokio's `async fn`s: code that
/// holds `recv()` or `closed()` across an `.await` in a spawned task (or
/// needs a `Sync` future) must still compile after the switch. (Neither
/// of tokio's is `UnwindSafe` or `RefUnwindSafe`, so nobody relies on it.)
#[test]
fn futures_have_tokios_auto_traits() {
    use std::cell::Cell;
    fn send_sync<F: Send + Sync>(_: &F) {}
    let (otx, mut orx) = ours::channel::<Cell<u8>>(2);
    let (ttx, mut trx) = theirs::channel::<Cell<u8>>(2);
    send_sync(&orx.recv());
    send_sync(&trx.recv());
    send_sync(&otx.closed());
    send_sync(&ttx.closed());
}

/// Every public function and method of tokio's broadcast module, named
/// through a `use … as broadcast` line and coerced to tokio's exact
/// signature (receiver type, arguments, return type), for both crates:
/// a rename, a changed argument or return type, or a missing `T: Clone`
/// relaxation fails to compile. (`recv` and `closed` are `async fn`s in
/// tokio; their outputs are compared by the tests above.)
#[test]
fn every_tokio_signature_is_ours() {
    macro_rules! signatures {
        ($broadcast:ident) => {{
            use $broadcast::error::{RecvError, SendError, TryRecvError};
            use $broadcast::{Receiver, Sender, WeakSender};
            // `T` without `Clone` where tokio does not ask for it.
            struct NoClone;
            let _: fn(usize) -> (Sender<u8>, Receiver<u8>) = $broadcast::channel::<u8>;
            let _: fn(usize) -> Sender<NoClone> = Sender::<NoClone>::new;
            let _: fn(&Sender<NoClone>, NoClone) -> Result<usize, SendError<NoClone>> =
                Sender::send;
            let _: fn(&Sender<NoClone>) -> Receiver<NoClone> = Sender::subscribe;
            let _: fn(&Sender<NoClone>) -> WeakSender<NoClone> = Sender::downgrade;
            let _: fn(&Sender<NoClone>) -> usize = Sender::len;
            let _: fn(&Sender<NoClone>) -> bool = Sender::is_empty;
            let _: fn(&Sender<NoClone>) -> usize = Sender::receiver_count;
            let _: fn(&Sender<NoClone>, &Sender<NoClone>) -> bool = Sender::same_channel;
            let _: fn(&Sender<NoClone>) -> usize = Sender::strong_count;
            let _: fn(&Sender<NoClone>) -> usize = Sender::weak_count;
            let _: fn(&Sender<NoClone>) -> Sender<NoClone> = Clone::clone;
            let _: fn(&WeakSender<NoClone>) -> Option<Sender<NoClone>> = WeakSender::upgrade;
            let _: fn(&WeakSender<NoClone>) -> usize = WeakSender::strong_count;
            let _: fn(&WeakSender<NoClone>) -> usize = WeakSender::weak_count;
            let _: fn(&WeakSender<NoClone>) -> WeakSender<NoClone> = Clone::clone;
            let _: fn(&Receiver<NoClone>) -> usize = Receiver::len;
            let _: fn(&Receiver<NoClone>) -> bool = Receiver::is_empty;
            let _: fn(&Receiver<NoClone>, &Receiver<NoClone>) -> bool = Receiver::same_channel;
            let _: fn(&Receiver<NoClone>) -> usize = Receiver::sender_strong_count;
            let _: fn(&Receiver<NoClone>) -> usize = Receiver::sender_weak_count;
            let _: fn(&Receiver<NoClone>) -> bool = Receiver::is_closed;
            let _: fn(&Receiver<u8>) -> Receiver<u8> = Receiver::resubscribe;
            let _: fn(&mut Receiver<u8>) -> Result<u8, TryRecvError> = Receiver::try_recv;
            let _: fn(&mut Receiver<u8>) -> Result<u8, RecvError> = Receiver::blocking_recv;
            // The futures' outputs.
            fn output<O, F: Future<Output = O>>(_: F) {}
            let (tx, mut rx) = $broadcast::channel::<u8>(1);
            output::<Result<u8, RecvError>, _>(rx.recv());
            output::<(), _>(tx.closed());
            // Errors: tuple field, variants, `Error` impls.
            let e: SendError<NoClone> = SendError(NoClone);
            let _: NoClone = e.0;
            let _ = [RecvError::Closed, RecvError::Lagged(1_u64)];
            let _ = [
                TryRecvError::Empty,
                TryRecvError::Closed,
                TryRecvError::Lagged(1_u64),
            ];
            fn error<E: std::error::Error + Send + Sync + 'static>() {}
            error::<SendError<u8>>();
            error::<RecvError>();
            error::<TryRecvError>();
        }};
    }
    signatures!(ours);
    signatures!(theirs);
}

/// The error types implement what tokio's implement and nothing more: an
/// extra `PartialEq` or `Clone` compiles code that then fails to compile
/// when the user goes back, and changes which impl a generic call picks.
/// (`SendError` derived `PartialEq, Eq, Clone, Copy` until a drop-in
/// review; tokio's derives `Debug` only.)
#[test]
fn error_types_implement_what_tokios_implement() {
    use seqcast_test_support::implements;
    macro_rules! traits {
        ($t:ty) => {
            [
                implements!($t: Debug),
                implements!($t: std::fmt::Display),
                implements!($t: std::error::Error),
                implements!($t: PartialEq),
                implements!($t: Eq),
                implements!($t: PartialOrd),
                implements!($t: std::hash::Hash),
                implements!($t: Clone),
                implements!($t: Copy),
                implements!($t: Default),
                implements!($t: Send),
                implements!($t: Sync),
                implements!($t: Unpin),
                implements!($t: std::panic::UnwindSafe),
                implements!($t: std::panic::RefUnwindSafe),
            ]
        };
    }
    assert_eq!(
        traits!(ours::error::SendError<u8>),
        traits!(theirs::error::SendError<u8>),
        "SendError<u8>"
    );
    assert_eq!(
        traits!(ours::error::SendError<String>),
        traits!(theirs::error::SendError<String>),
        "SendError<String>"
    );
    assert_eq!(
        traits!(ours::error::RecvError),
        traits!(theirs::error::RecvError),
        "RecvError"
    );
    assert_eq!(
        traits!(ours::error::TryRecvError),
        traits!(theirs::error::TryRecvError),
        "TryRecvError"
    );
}

/// The sizes chan-broadcast's crate docs give ("Where it is not tokio's
/// broadcast"), next to tokio's (64-bit targets).
#[cfg(target_pointer_width = "64")]
#[test]
fn handle_sizes_are_the_documented_ones() {
    use std::mem::{size_of, size_of_val};
    let (_otx, mut orx) = ours::channel::<u64>(4);
    let (_ttx, mut trx) = theirs::channel::<u64>(4);
    let ours_sizes = [
        size_of::<ours::Sender<u64>>(),
        size_of::<ours::WeakSender<u64>>(),
        size_of::<ours::Receiver<u64>>(),
        size_of_val(&orx.recv()),
    ];
    let tokio_sizes = [
        size_of::<theirs::Sender<u64>>(),
        size_of::<theirs::WeakSender<u64>>(),
        size_of::<theirs::Receiver<u64>>(),
        size_of_val(&trx.recv()),
    ];
    assert_eq!(ours_sizes, [8, 8, 72, 8]);
    assert_eq!(tokio_sizes, [8, 8, 16, 64]);
}
