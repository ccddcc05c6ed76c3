//! chan-watch against `tokio::sync::watch` (tokio 1.54): seeded random
//! sequences of every single-threaded operation of tokio's API (`send`,
//! `send_replace`, `send_modify` (also panicking), `send_if_modified`,
//! borrows of both ends, `has_changed`, `is_closed`, `mark_changed`,
//! `mark_unchanged`, a poll of `changed`, of `wait_for` (also with a
//! panicking predicate) and of `Sender::closed`, subscribe, clone and drop
//! of both handles, `Sender::new`, every count, `same_channel`, `Debug` of
//! handles and `Ref`s, `Debug`/`Display` of every result); and futures of
//! `changed`, `wait_for` and `Sender::closed` kept pending across steps
//! (on handles of their own) with a counting waker: after every step,
//! whether each was woken must agree, and so must what a re-poll (woken
//! or not) returns; parked futures are also dropped mid-wait. Each result is
//! rendered with `Debug`, plain and alternate (`{:#?}`), and errors with
//! `Display` too, and the strings must be equal. A failure names the seed and step.
//!
//! The values record their drops (`V`): after every step, the values
//! each side has dropped so far, in order, must be equal, so a change in
//! when a replaced value is dropped shows. One operation holds a `Ref`
//! while it borrows again and prints the handles (what tokio allows with a
//! read lock held: no send).
//!
//! Also checked at compile time: the auto traits of every public handle
//! match tokio's.

use std::cell::RefCell;
use std::fmt::Debug;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use seqcast_differential::Rng;

use chan_watch as ours;
use tokio::sync::watch as theirs;

/// A value that logs its drop; its `Debug` is the number's (so every
/// string compared is what it was with `u64` values).
struct V(u64, Rc<RefCell<Vec<u64>>>);

impl V {
    fn new(n: u64, log: &Rc<RefCell<Vec<u64>>>) -> Self {
        V(n, Rc::clone(log))
    }
}

impl Drop for V {
    fn drop(&mut self) {
        self.1.borrow_mut().push(self.0);
    }
}

impl Debug for V {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

struct Both<A, B> {
    ours: A,
    theirs: B,
}

fn show<T: Debug, E: Debug + std::fmt::Display>(r: &Result<T, E>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?}) {v:#?}"),
        Err(e) => format!("Err({e:?}) {e:#?} / {e}"),
    }
}

/// Polls a future once with a no-op waker, then drops it (which must leave
/// no waiter behind on either side); `f` renders a ready output.
fn poll_once<F: Future>(fut: F, f: impl FnOnce(F::Output) -> String) -> String {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Pending => "Pending".into(),
        Poll::Ready(v) => format!("Ready({})", f(v)),
    }
}

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

type Fut = std::pin::Pin<Box<dyn Future<Output = String>>>;

/// A future kept pending across steps (on handles of its own), polled
/// with a counting waker: whether each side was woken since its last
/// poll is compared after every step, and so is what a re-poll returns.
struct Parked {
    kind: &'static str,
    ours: (Fut, Arc<Count>),
    theirs: (Fut, Arc<Count>),
}

/// Polls with the counting waker (its count reset first).
fn poll_counted((fut, count): &mut (Fut, Arc<Count>)) -> Option<String> {
    count.0.store(0, Ordering::SeqCst);
    let waker = Waker::from(Arc::clone(count));
    match fut.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Pending => None,
        Poll::Ready(s) => Some(s),
    }
}

fn woken((_, count): &(Fut, Arc<Count>)) -> bool {
    count.0.load(Ordering::SeqCst) > 0
}

fn run(seed: u64, steps: usize, ran: &mut std::collections::BTreeMap<&'static str, usize>) {
    let mut rng = Rng::new(seed);
    // What each side has dropped, in order.
    let (olog, tlog) = (Rc::default(), Rc::default());
    let mut tx = Vec::new();
    let mut rx = Vec::new();
    if rng.below(4) == 0 {
        tx.push(Both {
            ours: ours::Sender::new(V::new(0, &olog)),
            theirs: theirs::Sender::new(V::new(0, &tlog)),
        });
    } else {
        let (ot, or) = ours::channel(V::new(0, &olog));
        let (tt, tr) = theirs::channel(V::new(0, &tlog));
        tx.push(Both {
            ours: ot,
            theirs: tt,
        });
        rx.push(Both {
            ours: or,
            theirs: tr,
        });
    }
    let mut next = 0_u64;
    let mut parked: Vec<Parked> = Vec::new();
    for step in 0..steps {
        let op = rng.below(30);
        let (what, a, b): (&str, String, String) = match op {
            0..=1 if !tx.is_empty() => {
                let h = &tx[rng.below(tx.len())];
                next += 1;
                (
                    "send",
                    show(&h.ours.send(V::new(next, &olog))),
                    show(&h.theirs.send(V::new(next, &tlog))),
                )
            }
            2 if !tx.is_empty() => {
                let h = &tx[rng.below(tx.len())];
                next += 1;
                (
                    "send_replace",
                    format!("{:?}", h.ours.send_replace(V::new(next, &olog))),
                    format!("{:?}", h.theirs.send_replace(V::new(next, &tlog))),
                )
            }
            3 if !tx.is_empty() => {
                let h = &tx[rng.below(tx.len())];
                h.ours.send_modify(|v| v.0 += 1);
                h.theirs.send_modify(|v| v.0 += 1);
                ("send_modify", String::new(), String::new())
            }
            4 if !tx.is_empty() => {
                let h = &tx[rng.below(tx.len())];
                let notify = rng.below(2) == 0;
                let add = rng.below(3) as u64;
                (
                    "send_if_modified",
                    format!(
                        "{:?}",
                        h.ours.send_if_modified(|v| {
                            v.0 += add;
                            notify
                        })
                    ),
                    format!(
                        "{:?}",
                        h.theirs.send_if_modified(|v| {
                            v.0 += add;
                            notify
                        })
                    ),
                )
            }
            5 if !tx.is_empty() && rng.below(4) == 0 => {
                let h = &tx[rng.below(tx.len())];
                let o = catch_unwind(AssertUnwindSafe(|| {
                    h.ours.send_modify(|v| {
                        v.0 += 100;
                        panic!("in send_modify")
                    })
                }));
                let t = catch_unwind(AssertUnwindSafe(|| {
                    h.theirs.send_modify(|v| {
                        v.0 += 100;
                        panic!("in send_modify")
                    })
                }));
                (
                    "send_modify: panics",
                    format!("{} {:?}", o.is_err(), h.ours),
                    format!("{} {:?}", t.is_err(), h.theirs),
                )
            }
            6 if !tx.is_empty() => {
                let h = &tx[rng.below(tx.len())];
                (
                    "sender borrow",
                    format!("{:?}", h.ours.borrow()),
                    format!("{:?}", h.theirs.borrow()),
                )
            }
            7 if !tx.is_empty() && rx.len() < 6 => {
                let h = &tx[rng.below(tx.len())];
                rx.push(Both {
                    ours: h.ours.subscribe(),
                    theirs: h.theirs.subscribe(),
                });
                ("subscribe", String::new(), String::new())
            }
            8 if !rx.is_empty() && rx.len() < 6 => {
                let h = &rx[rng.below(rx.len())];
                let n = Both {
                    ours: h.ours.clone(),
                    theirs: h.theirs.clone(),
                };
                rx.push(n);
                ("clone receiver", String::new(), String::new())
            }
            9 if !rx.is_empty() => {
                let i = rng.below(rx.len());
                drop(rx.swap_remove(i));
                ("drop receiver", String::new(), String::new())
            }
            10 if !tx.is_empty() && tx.len() < 4 => {
                let h = &tx[rng.below(tx.len())];
                let n = Both {
                    ours: h.ours.clone(),
                    theirs: h.theirs.clone(),
                };
                tx.push(n);
                ("clone sender", String::new(), String::new())
            }
            11 if !tx.is_empty() && rng.below(4) == 0 => {
                let i = rng.below(tx.len());
                drop(tx.swap_remove(i));
                ("drop sender", String::new(), String::new())
            }
            12 if !rx.is_empty() => {
                let h = &rx[rng.below(rx.len())];
                (
                    "borrow",
                    format!("{:?} {:#?}", h.ours.borrow(), h.ours.borrow()),
                    format!("{:?} {:#?}", h.theirs.borrow(), h.theirs.borrow()),
                )
            }
            13 if !rx.is_empty() => {
                let i = rng.below(rx.len());
                let h = &mut rx[i];
                (
                    "borrow_and_update",
                    format!("{:?}", h.ours.borrow_and_update()),
                    format!("{:?}", h.theirs.borrow_and_update()),
                )
            }
            14 if !rx.is_empty() => {
                let h = &rx[rng.below(rx.len())];
                (
                    "has_changed, is_closed",
                    format!("{} {}", show(&h.ours.has_changed()), h.ours.is_closed()),
                    format!("{} {}", show(&h.theirs.has_changed()), h.theirs.is_closed()),
                )
            }
            15 if !rx.is_empty() => {
                let i = rng.below(rx.len());
                let h = &mut rx[i];
                if rng.below(2) == 0 {
                    h.ours.mark_changed();
                    h.theirs.mark_changed();
                    ("mark_changed", String::new(), String::new())
                } else {
                    h.ours.mark_unchanged();
                    h.theirs.mark_unchanged();
                    ("mark_unchanged", String::new(), String::new())
                }
            }
            16..=17 if !rx.is_empty() => {
                let i = rng.below(rx.len());
                let h = &mut rx[i];
                (
                    "poll changed",
                    poll_once(h.ours.changed(), |r| show(&r)),
                    poll_once(h.theirs.changed(), |r| show(&r)),
                )
            }
            18 if !rx.is_empty() => {
                let i = rng.below(rx.len());
                let h = &mut rx[i];
                let m = 1 + rng.below(3) as u64;
                let a = poll_once(h.ours.wait_for(|v| v.0 % m == 0), |r| show(&r));
                let b = poll_once(h.theirs.wait_for(|v| v.0 % m == 0), |r| show(&r));
                // The version each one marked seen must agree too.
                let seen = (show(&h.ours.has_changed()), show(&h.theirs.has_changed()));
                (
                    "poll wait_for",
                    format!("{a} {}", seen.0),
                    format!("{b} {}", seen.1),
                )
            }
            19 if !rx.is_empty() && rng.below(4) == 0 => {
                let i = rng.below(rx.len());
                let h = &mut rx[i];
                let o = catch_unwind(AssertUnwindSafe(|| {
                    poll_once(h.ours.wait_for(|_| panic!("predicate")), |_| String::new())
                }));
                let t = catch_unwind(AssertUnwindSafe(|| {
                    poll_once(h.theirs.wait_for(|_| panic!("predicate")), |_| {
                        String::new()
                    })
                }));
                (
                    "wait_for: panics",
                    format!("{} {:?}", o.is_err(), h.ours),
                    format!("{} {:?}", t.is_err(), h.theirs),
                )
            }
            20 if !tx.is_empty() => {
                let h = &tx[rng.below(tx.len())];
                (
                    "poll closed",
                    poll_once(h.ours.closed(), |()| "()".into()),
                    poll_once(h.theirs.closed(), |()| "()".into()),
                )
            }
            21 if !tx.is_empty() => {
                let h = &tx[rng.below(tx.len())];
                let o = (
                    h.ours.receiver_count(),
                    h.ours.sender_count(),
                    h.ours.is_closed(),
                    format!("{:?} {:#?}", h.ours, h.ours),
                );
                let t = (
                    h.theirs.receiver_count(),
                    h.theirs.sender_count(),
                    h.theirs.is_closed(),
                    format!("{:?} {:#?}", h.theirs, h.theirs),
                );
                ("sender counts", format!("{o:?}"), format!("{t:?}"))
            }
            22 if !rx.is_empty() => {
                let h = &rx[rng.below(rx.len())];
                (
                    "receiver debug",
                    format!("{:?} {:#?}", h.ours, h.ours),
                    format!("{:?} {:#?}", h.theirs, h.theirs),
                )
            }
            23 if rx.len() >= 2 || tx.len() >= 2 => {
                let r = (rng.below(rx.len().max(1)), rng.below(rx.len().max(1)));
                let t = (rng.below(tx.len().max(1)), rng.below(tx.len().max(1)));
                let o = (
                    (rx.len() >= 2).then(|| rx[r.0].ours.same_channel(&rx[r.1].ours)),
                    (tx.len() >= 2).then(|| tx[t.0].ours.same_channel(&tx[t.1].ours)),
                );
                let th = (
                    (rx.len() >= 2).then(|| rx[r.0].theirs.same_channel(&rx[r.1].theirs)),
                    (tx.len() >= 2).then(|| tx[t.0].theirs.same_channel(&tx[t.1].theirs)),
                );
                ("same_channel", format!("{o:?}"), format!("{th:?}"))
            }
            24 if !rx.is_empty() => {
                // A `Ref` held while this thread borrows again (another
                // receiver or the same), prints a receiver and a sender and
                // asks `has_changed`: read-only, as tokio allows with the
                // value's read lock held.
                let (i, j) = (rng.below(rx.len()), rng.below(rx.len()));
                let k = rng.below(tx.len().max(1));
                let (held_o, held_t) = (rx[i].ours.borrow(), rx[i].theirs.borrow());
                let (g, t) = (&rx[j], tx.get(k));
                let o = format!(
                    "{held_o:?} {:?} {:?} {} {:?}",
                    g.ours.borrow(),
                    g.ours,
                    show(&g.ours.has_changed()),
                    t.map(|t| format!("{:?}", t.ours)),
                );
                let th = format!(
                    "{held_t:?} {:?} {:?} {} {:?}",
                    g.theirs.borrow(),
                    g.theirs,
                    show(&g.theirs.has_changed()),
                    t.map(|t| format!("{:?}", t.theirs)),
                );
                ("borrow held: borrow, Debug", o, th)
            }
            25..=26 if parked.len() < 3 && (!rx.is_empty() || !tx.is_empty()) => {
                // Parks `changed` or `wait_for` on a clone of a receiver,
                // or `closed` on a clone of a sender, and polls it once.
                let kind = rng.below(3);
                let m = 1 + rng.below(3) as u64;
                let mut p = if kind < 2 && !rx.is_empty() {
                    let h = &rx[rng.below(rx.len())];
                    let (mut o, mut t) = (h.ours.clone(), h.theirs.clone());
                    let (ours, theirs): (Fut, Fut) = if kind == 0 {
                        (
                            Box::pin(async move {
                                let r = o.changed().await;
                                format!("{} {o:?}", show(&r))
                            }),
                            Box::pin(async move {
                                let r = t.changed().await;
                                format!("{} {t:?}", show(&r))
                            }),
                        )
                    } else {
                        (
                            Box::pin(async move { show(&o.wait_for(|v| v.0 % m == 0).await) }),
                            Box::pin(async move { show(&t.wait_for(|v| v.0 % m == 0).await) }),
                        )
                    };
                    Parked {
                        kind: if kind == 0 { "changed" } else { "wait_for" },
                        ours: (ours, Arc::default()),
                        theirs: (theirs, Arc::default()),
                    }
                } else if !tx.is_empty() {
                    let h = &tx[rng.below(tx.len())];
                    let (o, t) = (h.ours.clone(), h.theirs.clone());
                    Parked {
                        kind: "closed",
                        ours: (
                            Box::pin(async move {
                                o.closed().await;
                                format!("{o:?}")
                            }),
                            Arc::default(),
                        ),
                        theirs: (
                            Box::pin(async move {
                                t.closed().await;
                                format!("{t:?}")
                            }),
                            Arc::default(),
                        ),
                    }
                } else {
                    continue;
                };
                let (a, b) = (poll_counted(&mut p.ours), poll_counted(&mut p.theirs));
                let what = match (a.is_some(), p.kind) {
                    (true, _) => "park: ready at once",
                    (false, "closed") => "park closed",
                    (false, "changed") => "park changed",
                    (false, _) => "park wait_for",
                };
                if a.is_none() {
                    parked.push(p);
                }
                (what, format!("{a:?}"), format!("{b:?}"))
            }
            27..=28 if !parked.is_empty() => {
                // Re-polls a parked future (woken or not: a poll without a
                // wake-up must stay pending on both sides).
                let i = rng.below(parked.len());
                let p = &mut parked[i];
                let was = woken(&p.ours);
                let (a, b) = (poll_counted(&mut p.ours), poll_counted(&mut p.theirs));
                let what = match (a.is_some(), was) {
                    (true, _) => "parked: ready",
                    (false, true) => "parked: woken, still pending",
                    (false, false) => "parked: pending",
                };
                if a.is_some() {
                    parked.swap_remove(i);
                }
                (what, format!("{a:?}"), format!("{b:?}"))
            }
            29 if !parked.is_empty() => {
                // Cancels a parked future: it must leave nothing behind.
                let i = rng.below(parked.len());
                drop(parked.swap_remove(i));
                ("parked: dropped", String::new(), String::new())
            }
            _ => continue,
        };
        *ran.entry(what).or_default() += 1;
        for p in &parked {
            // Woken since its last poll: the same on both sides (a missed
            // or a spurious wake-up differs).
            let (o, t) = (woken(&p.ours), woken(&p.theirs));
            assert_eq!(
                o, t,
                "seed {seed}, step {step}: after `{what}`, a parked `{}` was woken (left: ours, right: tokio)",
                p.kind
            );
        }
        if what.starts_with("send") && a.starts_with("Err") {
            *ran.entry("send: no receiver").or_default() += 1;
        }
        if what == "poll changed" && a.contains("Err") {
            *ran.entry("poll changed: closed").or_default() += 1;
        }
        if what == "poll changed" && a == "Pending" {
            *ran.entry("poll changed: pending").or_default() += 1;
        }
        if what == "poll closed" && a != "Pending" {
            *ran.entry("poll closed: ready").or_default() += 1;
        }
        assert_eq!(
            a, b,
            "seed {seed}, step {step}: `{what}` differs (left: ours, right: tokio)"
        );
        assert_eq!(
            *olog.borrow(),
            *tlog.borrow(),
            "seed {seed}, step {step}: after `{what}`, the values dropped differ (left: ours, right: tokio)"
        );
    }
    drop((tx, rx, parked));
    assert_eq!(
        *olog.borrow(),
        *tlog.borrow(),
        "seed {seed}: after the handles' drop, the values dropped differ"
    );
    assert_eq!(olog.borrow().len(), tlog.borrow().len());
}

#[test]
fn random_sequences_match_tokio() {
    // The panicking closures are expected: keep their messages out of the
    // output, and only theirs (a failed comparison must still print).
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<&str>();
        if !matches!(msg, Some(&("in send_modify" | "predicate"))) {
            default(info);
        }
    }));
    let mut ran = std::collections::BTreeMap::new();
    for seed in 0..1500 {
        run(seed, 400, &mut ran);
    }
    let _ = std::panic::take_hook();
    println!("{ran:#?}");
    assert_eq!(ran.len(), 36, "{ran:?}");
    assert!(ran.values().all(|&n| n > 1000), "{ran:?}");
}

/// The `SendError` unwrap message, which users see in panics.
#[test]
fn strings_users_see_match_tokio() {
    let (otx, orx) = ours::channel(0_u64);
    let (ttx, trx) = theirs::channel(0_u64);
    drop((orx, trx));
    let o = catch_unwind(|| otx.send(3).unwrap()).unwrap_err();
    let t = catch_unwind(|| ttx.send(3).unwrap()).unwrap_err();
    assert_eq!(o.downcast_ref::<String>(), t.downcast_ref::<String>());
}

/// The futures of `changed`, `wait_for` and `Sender::closed`, for a
/// `Send + Sync`, a `!Sync` and a `!Send` payload: `Send`, `Sync`,
/// `Unpin` and `UnwindSafe` as tokio's (a task spawned with
/// `tokio::spawn(async move { rx.changed().await })` builds with either).
/// Ours are also `RefUnwindSafe` where tokio's are not (tokio's hold a
/// `Notified`): a superset, so no code that builds with tokio breaks.
#[test]
fn futures_have_tokios_auto_traits() {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    let mut rows = Vec::new();
    // Send, Sync, Unpin, UnwindSafe, RefUnwindSafe of one value.
    macro_rules! traits {
        ($v:ident) => {
            [
                seqcast_test_support::implements!(value $v => Send),
                seqcast_test_support::implements!(value $v => Sync),
                seqcast_test_support::implements!(value $v => Unpin),
                seqcast_test_support::implements!(value $v => UnwindSafe),
                seqcast_test_support::implements!(value $v => RefUnwindSafe),
            ]
        };
    }
    macro_rules! row {
        ($what:expr, $o:expr, $t:expr) => {{
            let (o, t) = ($o, $t);
            let (o, t) = (traits!(o), traits!(t));
            rows.push(format!("{}: ours {o:?} tokio {t:?}", $what));
            assert_eq!(o[..4], t[..4], "{}: Send, Sync, Unpin, UnwindSafe", $what);
            assert!(!t[4] || o[4], "{}: RefUnwindSafe", $what);
        }};
    }
    macro_rules! payload {
        ($v:expr) => {{
            let (ot, mut or) = ours::channel($v);
            let (tt, mut tr) = theirs::channel($v);
            let what = stringify!($v);
            row!(format!("changed {what}"), or.changed(), tr.changed());
            row!(
                format!("wait_for {what}"),
                or.wait_for(|_| true),
                tr.wait_for(|_| true)
            );
            row!(format!("closed {what}"), ot.closed(), tt.closed());
        }};
    }
    payload!(0_u32);
    payload!(std::cell::Cell::new(0_u32));
    payload!(Rc::new(0_u32));
    println!("{}", rows.join("\n"));
}

mod auto_traits {
    use static_assertions::{assert_impl_all, assert_not_impl_any};
    use std::cell::Cell;
    use std::panic::{RefUnwindSafe, UnwindSafe};
    use std::rc::Rc;

    use super::{ours, theirs};

    /// Asserts that ours and tokio's implement the same of these traits,
    /// for a `Send + Sync`, a `!Sync` and a `!Send` payload.
    macro_rules! same_auto_traits {
        ($($t:ident),*) => {$(
            assert_impl_all!(ours::$t<u8>: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
            assert_impl_all!(theirs::$t<u8>: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
            assert_not_impl_any!(ours::$t<Cell<u8>>: Send, Sync);
            assert_not_impl_any!(theirs::$t<Cell<u8>>: Send, Sync);
            assert_not_impl_any!(ours::$t<Rc<u8>>: Send, Sync);
            assert_not_impl_any!(theirs::$t<Rc<u8>>: Send, Sync);
        )*};
    }

    same_auto_traits!(Sender, Receiver);

    assert_impl_all!(ours::Ref<'static, u8>: Sync, Unpin, UnwindSafe, RefUnwindSafe);
    assert_impl_all!(theirs::Ref<'static, u8>: Sync, Unpin, UnwindSafe, RefUnwindSafe);
    assert_not_impl_any!(ours::Ref<'static, u8>: Send);
    assert_not_impl_any!(theirs::Ref<'static, u8>: Send);
    assert_impl_all!(ours::error::SendError<u8>: Send, Sync, Copy, Eq, std::error::Error);
    assert_impl_all!(theirs::error::SendError<u8>: Send, Sync, Copy, Eq, std::error::Error);
    assert_impl_all!(ours::error::RecvError: Send, Sync, Clone, std::error::Error);
    assert_impl_all!(theirs::error::RecvError: Send, Sync, Clone, std::error::Error);
}

/// tokio's `Ref<'a, T>` is covariant in `T` (it wraps std's
/// `RwLockReadGuard<'a, T>`, a `NonNull<T>`), so `Ref`s of a
/// `&'static str` channel and of a `&'local str` channel meet at the
/// shorter lifetime. A user's code like this must build with ours too.
mod variance {
    macro_rules! both {
        ($m:ident, $w:path) => {
            mod $m {
                use $w as watch;

                fn total<'a>(refs: &[watch::Ref<'a, &'a str>]) -> usize {
                    refs.iter().map(|r| r.len()).sum()
                }

                #[allow(dead_code)]
                fn shorten<'a>(r: watch::Ref<'a, &'static str>) -> watch::Ref<'a, &'a str> {
                    r
                }

                #[test]
                fn refs_of_longer_lived_values_meet_shorter_ones() {
                    let (_tx, rx) = watch::channel::<&'static str>("static");
                    let local = String::from("local");
                    let (_tx2, rx2) = watch::channel::<&str>(&local);
                    assert_eq!(total(&[rx.borrow(), rx2.borrow()]), 11);
                }
            }
        };
    }
    both!(ours, chan_watch);
    both!(theirs, tokio::sync::watch);
}
