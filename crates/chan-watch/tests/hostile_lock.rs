//! The hostile review of the slot lock word (`src/slot.rs`): each test
//! drives the real types on real threads, bounded in time (a worker
//! thread and `recv_timeout`; a hang is a failure, the worker is left
//! blocked, not spinning), at most two threads busy at once. Where tokio
//! behaves differently from what chan-watch promises, it is run side by
//! side.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::Context;
use std::thread;
use std::time::{Duration, Instant};

use seqcast_test_support::{counting_waker, one_at_a_time, within};

/// A pause long enough for another thread to reach its wait (shorter
/// under Miri, whose clock follows the interpreter).
const SETTLE: Duration = Duration::from_millis(if cfg!(miri) { 20 } else { 150 });

/// Waits (bounded) until a `send_modify` is queued on the current value:
/// a handle's `Debug` then prints `<locked>` (std's `try_read` fails
/// behind a waiting writer, and so does ours).
fn until_a_writer_waits(rx: &chan_watch::Receiver<u32>) {
    let t0 = Instant::now();
    while !format!("{rx:?}").contains("<locked>") {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the send_modify never queued"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// A value whose `Debug` panics and whose drops are counted.
struct PanicsInDebug(u32, Arc<AtomicUsize>);

impl fmt::Debug for PanicsInDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of the value")
    }
}

impl Drop for PanicsInDebug {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

/// A handle's `Debug` read-locks the value to print it; if the value's
/// `Debug` panics, the unwind must release that lock, as std's read guard
/// (so tokio's) does. Before the fix chan-watch released it only after
/// printing: the lock leaked, every later `send_modify`, `send_replace`
/// and `send_if_modified` waited for ever, and the value a later `send`
/// replaced was never dropped. Side by side with tokio 1.54.
#[test]
fn a_panicking_value_debug_releases_the_handles_read_lock() {
    macro_rules! run {
        ($channel:path) => {{
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = $channel(PanicsInDebug(0, Arc::clone(&drops)));
            let printed = catch_unwind(AssertUnwindSafe(|| format!("{rx:?}")));
            assert!(printed.is_err(), "the value's Debug panics");
            let d = Arc::clone(&drops);
            within(Duration::from_secs(2), move || {
                tx.send_modify(|v| v.0 += 1);
                tx.send(PanicsInDebug(5, Arc::clone(&d))).unwrap();
                let old = tx.send_replace(PanicsInDebug(6, Arc::clone(&d)));
                let v = old.0;
                drop(old);
                // Values dropped so far: the one `send` replaced, the one
                // `send_replace` returned.
                (v, d.load(Ordering::SeqCst), tx, rx)
            })
        }};
    }
    std::panic::set_hook(Box::new(|_| {}));
    let theirs = run!(tokio::sync::watch::channel).map(|(v, n, _, _)| (v, n));
    let ours = run!(chan_watch::channel).map(|(v, n, _, _)| (v, n));
    let _ = std::panic::take_hook();
    assert_eq!(theirs, Ok((5, 2)), "tokio");
    assert_eq!(
        ours, theirs,
        "after a panicking Debug, chan-watch hung (Err) or dropped values differently"
    );
}

/// A borrow asleep behind a `send_modify` that waits for a `Ref` (new
/// borrows wait for a queued writer, std's rule) is let go as soon as a
/// `send` replaces the value: it borrows the new value while the `Ref`
/// and the modification still wait (`slot.rs` `retire` wakes the word's
/// sleepers). Fails if `retire` skips that wake-up: the borrow then
/// sleeps until the `Ref` is dropped.
#[test]
fn a_borrow_waiting_behind_a_queued_send_modify_moves_on_when_a_send_replaces_the_value() {
    let (tx, rx) = chan_watch::channel(0_u32);
    let (rx2, tx2) = (rx.clone(), tx.clone());
    let held = rx.borrow();
    let modifier = thread::spawn(move || tx2.send_modify(|v| *v += 10));
    until_a_writer_waits(&rx); // the modifier waits for `held`
    let (got_tx, got) = mpsc::channel();
    let reader = thread::spawn(move || got_tx.send(*rx2.borrow()).unwrap());
    thread::sleep(SETTLE); // the borrow waits behind the modifier
    tx.send(1).unwrap();
    let seen = got.recv_timeout(Duration::from_secs(5));
    let shown = *held;
    drop(held);
    modifier.join().unwrap();
    reader.join().unwrap();
    assert_eq!(shown, 0, "the Ref kept its value");
    assert!(
        matches!(seen, Ok(0 | 1)),
        "the borrow waited for the Ref of a replaced value: {seen:?}"
    );
    // The modification, let in after the `Ref`'s drop, found its slot
    // replaced and moved to the value sent.
    assert_eq!(*rx.borrow(), 11);
}

/// A panic in the `send_modify` closure while a borrow on another thread
/// waits for the write lock: the borrow is woken and sees the partial
/// change; the version is not bumped, no receiver is woken, nothing is
/// poisoned (the next `send_modify` works and notifies).
#[test]
fn a_panic_in_send_modify_lets_a_waiting_borrow_in_and_bumps_nothing() {
    let (tx, mut rx) = chan_watch::channel(0_u32);
    let rx2 = rx.clone();
    let (waker, wakes) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let (inside_tx, inside) = mpsc::channel();
    let modifier = thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(|| {
            tx.send_modify(|v| {
                *v = 7;
                inside_tx.send(()).unwrap();
                thread::sleep(SETTLE); // the borrow below waits for us
                panic!("in send_modify");
            })
        }));
        (r.is_err(), tx)
    });
    {
        let mut changed = pin!(rx.changed());
        assert!(changed.as_mut().poll(&mut cx).is_pending());
        inside.recv().unwrap();
        let seen = within(Duration::from_secs(5), move || *rx2.borrow());
        let (panicked, tx) = modifier.join().unwrap();
        assert!(panicked);
        assert_eq!(seen, Ok(7), "the waiting borrow was not let in (Err) or");
        assert_eq!(wakes.count(), 0, "a panicking send_modify woke a receiver");
        assert!(changed.as_mut().poll(&mut cx).is_pending());
        tx.send_modify(|v| *v += 1);
        assert_eq!(wakes.count(), 1, "not poisoned: the next one notifies");
        assert!(changed.as_mut().poll(&mut cx).is_ready());
    }
    assert_eq!(*rx.borrow_and_update(), 8);
    assert!(rx.has_changed().is_err(), "closed: the sender is gone");
}

/// Counts its drops.
struct Counted(u32, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

/// A `Ref` held across `.await` by a task (current-thread runtime) while
/// another thread writes: `send` goes through at once (the `Ref` keeps
/// its value, dropped with the `Ref`); `send_replace`, `send_modify` and
/// `send_if_modified` wait until the `Ref` of the current value is
/// dropped, then run. Every value is dropped exactly once.
#[test]
fn a_ref_held_across_an_await_lets_send_through_and_holds_in_place_writes() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = chan_watch::channel(Counted(0, Arc::clone(&drops)));
    let (cmd_tx, cmd) = mpsc::channel::<u32>();
    let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let d = Arc::clone(&drops);
    let writer = thread::spawn(move || {
        while let Ok(op) = cmd.recv() {
            let out = match op {
                0 => u32::from(tx.send(Counted(1, Arc::clone(&d))).is_ok()),
                1 => tx.send_replace(Counted(2, Arc::clone(&d))).0,
                2 => {
                    tx.send_modify(|c| c.0 += 10);
                    0
                }
                _ => u32::from(tx.send_if_modified(|c| {
                    c.0 += 100;
                    true
                })),
            };
            done_tx.send(out).unwrap();
        }
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let res = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), async {
            let r = rx.borrow();
            cmd_tx.send(0).unwrap();
            assert_eq!(done.recv().await, Some(1), "send waited for the Ref");
            tokio::task::yield_now().await;
            assert_eq!(r.0, 0);
            assert_eq!(drops.load(Ordering::SeqCst), 0, "dropped under a Ref");
            drop(r);
            assert_eq!(drops.load(Ordering::SeqCst), 1, "goes with its last Ref");
            for (op, out) in [(1, 1), (2, 0), (3, 1)] {
                let r = rx.borrow();
                let shown = r.0;
                cmd_tx.send(op).unwrap();
                tokio::time::sleep(SETTLE).await;
                assert!(done.try_recv().is_err(), "op {op} did not wait for the Ref");
                assert_eq!(r.0, shown);
                drop(r);
                assert_eq!(done.recv().await, Some(out), "op {op}");
            }
            assert_eq!(rx.borrow().0, 112);
        })
        .await
    });
    drop(cmd_tx);
    writer.join().unwrap();
    res.expect("bounded");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "0 with its Ref, 1 replaced"
    );
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

/// Writer starvation: without a rule, two threads that borrow in relay
/// (each takes a new `Ref` before the other drops its own) keep the
/// reader count above zero for ever and a `send_modify` never gets in.
/// The rule is std's (so tokio's): a borrow that arrives while a
/// `send_modify` waits for the `Ref`s waits behind it. Here a borrow on
/// another thread arrives while the modification waits; it must not get
/// in before it (it returns the modified value, after the `Ref` is
/// dropped). Fails if borrows ignore `WANT_WRITE`.
#[test]
fn a_borrow_arriving_while_send_modify_waits_queues_behind_it() {
    let (tx, rx) = chan_watch::channel(0_u32);
    let rx2 = rx.clone();
    let held = rx.borrow();
    let modifier = thread::spawn(move || tx.send_modify(|v| *v += 1));
    until_a_writer_waits(&rx); // the modifier waits for `held`
    let (got_tx, got) = mpsc::channel();
    let reader = thread::spawn(move || got_tx.send(*rx2.borrow()).unwrap());
    thread::sleep(SETTLE);
    let early = got.try_recv();
    drop(held);
    let later = got.recv_timeout(Duration::from_secs(5));
    modifier.join().unwrap();
    reader.join().unwrap();
    assert!(
        early.is_err(),
        "a borrow got in ahead of the waiting send_modify: {early:?}"
    );
    assert_eq!(later, Ok(1), "it returns the modified value");
}

/// A value with a change stamp and a pair that a torn read would show
/// unequal; each value's drops are counted by its id.
struct Tracked {
    id: usize,
    stamp: u64,
    pair: (u64, u64),
    drops: Arc<Vec<AtomicU8>>,
}

impl Tracked {
    fn new(id: usize, stamp: u64, drops: &Arc<Vec<AtomicU8>>) -> Self {
        Tracked {
            id,
            stamp,
            pair: (stamp, stamp),
            drops: Arc::clone(drops),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// Every write operation against a borrower that holds its `Ref`s for a
/// while (so `send` keeps moving between slots and in-place writes wait):
/// no torn value, stamps never go back, no missed change (the last value
/// is seen), and every value is dropped exactly once: the replaced ones
/// as soon as no `Ref` shows them (checked at quiescence), the last one
/// with the channel. Two busy threads; bounded in size and time.
#[test]
fn every_write_against_held_refs_drops_each_value_exactly_once() {
    let _turn = one_at_a_time();
    let ops: usize = if cfg!(miri) { 60 } else { 60_000 };
    // Ids: 0 the first value, 1..=ops one per operation, then the sends
    // made with a sender-side `Ref` alive.
    let drops: Arc<Vec<AtomicU8>> = Arc::new((0..=2 * ops).map(|_| AtomicU8::new(0)).collect());
    let (tx, rx) = chan_watch::channel(Tracked::new(0, 0, &drops));
    let stop = Arc::new(AtomicBool::new(false));
    let last_stamp = Arc::new(AtomicU64::new(0));
    let reader = {
        let (mut rx, stop, last_stamp) = (rx.clone(), Arc::clone(&stop), Arc::clone(&last_stamp));
        thread::spawn(move || {
            let (mut last, mut borrows) = (0, 0_u64);
            loop {
                let done = stop.load(Ordering::SeqCst);
                let r = if borrows % 2 == 0 {
                    rx.borrow_and_update()
                } else {
                    rx.borrow()
                };
                assert_eq!(r.pair.0, r.pair.1, "torn value");
                assert_eq!(r.pair.0, r.stamp);
                assert!(r.stamp >= last, "went back from {last} to {}", r.stamp);
                last = r.stamp;
                // Hold it a little: sends move to another slot meanwhile.
                for _ in 0..(borrows % 64) {
                    std::hint::spin_loop();
                }
                drop(r);
                borrows += 1;
                if done {
                    break;
                }
            }
            last_stamp.store(last, Ordering::SeqCst);
            borrows
        })
    };
    let writer = within(Duration::from_secs(60), {
        let drops = Arc::clone(&drops);
        move || {
            let (mut stamp, mut extra) = (0, ops);
            for id in 1..=ops {
                stamp += 1;
                match id % 5 {
                    0 | 1 => tx
                        .send(Tracked::new(id, stamp, &drops))
                        .map_err(drop)
                        .unwrap(),
                    2 => drop(tx.send_replace(Tracked::new(id, stamp, &drops))),
                    3 => {
                        // In place: the value keeps its id. The one made
                        // for it is dropped unused (counted as well).
                        drop(Tracked::new(id, stamp, &drops));
                        tx.send_modify(|v| {
                            v.stamp = stamp;
                            v.pair = (stamp, stamp);
                        });
                    }
                    _ => {
                        drop(Tracked::new(id, stamp, &drops));
                        let notify = id % 2 == 0;
                        let changed = tx.send_if_modified(|v| {
                            if notify {
                                v.stamp = stamp;
                                v.pair = (stamp, stamp);
                            }
                            notify
                        });
                        assert_eq!(changed, notify);
                        if !notify {
                            stamp -= 1;
                        }
                    }
                }
                // A sender-side `Ref` across a `send` (never waited for).
                if id % 97 == 0 {
                    let held = tx.borrow();
                    let s = held.stamp;
                    stamp += 1;
                    extra += 1;
                    tx.send(Tracked::new(extra, stamp, &drops))
                        .map_err(drop)
                        .unwrap();
                    assert_eq!(held.stamp, s);
                }
            }
            (stamp, tx)
        }
    });
    stop.store(true, Ordering::SeqCst);
    let borrows = reader.join().unwrap();
    let (stamp, tx) = writer.expect("bounded");
    // The reader's final borrow came after the last write: it saw it.
    assert_eq!(
        last_stamp.load(Ordering::SeqCst),
        stamp,
        "missed the last change"
    );
    assert!(borrows > 0);
    // Quiescent: no `Ref` anywhere, so only the current value is alive.
    let current = rx.borrow().id;
    for (id, d) in drops.iter().enumerate() {
        let d = d.load(Ordering::SeqCst);
        if id == current {
            assert_eq!(d, 0, "the current value {id} was dropped");
        } else if id <= ops || d != 0 {
            assert_eq!(d, 1, "value {id} dropped {d} times");
        }
    }
    drop((tx, rx));
    assert_eq!(drops[current].load(Ordering::SeqCst), 1);
}

/// On a 32-bit target the slot's reader count holds 2^28 readers, a few
/// seconds of `mem::forget(rx.borrow())`. Leaking that many must end in
/// a panic (std's `RwLock`, so tokio's `borrow`, panics: "too many active
/// read locks"), never in a silent wrap to zero that lets a writer in
/// under a live `Ref`; and the channel goes on working (`send` moves to
/// another slot). Before the fix the loop ran past 2^28 leaks. Run with
/// `cargo xtask cross` (i686); on 64-bit targets the same check is the
/// unit test `slot::tests::leaked_readers_never_wrap_…`.
#[test]
#[cfg(all(target_pointer_width = "32", not(miri)))]
fn leaked_refs_make_borrow_panic_before_the_reader_count_wraps() {
    let (tx, rx) = chan_watch::channel(0_u32);
    let range = 1_usize << 28;
    let mut leaked = 0_usize;
    std::panic::set_hook(Box::new(|_| {}));
    let res = catch_unwind(AssertUnwindSafe(|| {
        while leaked <= range {
            std::mem::forget(rx.borrow());
            leaked += 1;
        }
    }));
    let _ = std::panic::take_hook();
    assert!(
        res.is_err(),
        "{leaked} Refs leaked without a panic: the count wrapped"
    );
    assert!(leaked < range, "{leaked}");
    tx.send(1).unwrap();
    assert_eq!(*rx.borrow(), 1);
}

/// What the docs promise about a `Ref` on the thread that then calls
/// `send_modify`: it waits for ever, as tokio's does (its write lock
/// waits for the read lock). Checked bounded (the worker stays blocked,
/// not spinning), with `send` on the same thread going through first.
#[test]
#[cfg_attr(
    miri,
    ignore = "leaves a thread blocked for ever, which Miri reports as a leak"
)]
fn borrow_then_send_modify_on_one_thread_waits_as_documented() {
    let (tx, rx) = chan_watch::channel(0_u32);
    let res = within(
        Duration::from_millis(if cfg!(miri) { 50 } else { 300 }),
        move || {
            let r = rx.borrow();
            tx.send(1).unwrap(); // documented: does not wait
            let r2 = rx.borrow();
            assert_eq!((*r, *r2), (0, 1));
            tx.send_modify(|v| *v += 1); // documented: waits for `r2` for ever
            drop((r, r2));
        },
    );
    assert_eq!(
        res,
        Err(()),
        "send_modify did not wait for a Ref of its own thread"
    );
}

/// Inside a `send_modify` closure, a `borrow` (of a receiver or of the
/// sender) or a `send` on the same thread waits for ever (the closure
/// holds the value's write lock), side by side with tokio's, which does
/// the same; a handle's `Debug` there prints `<locked>` (hostile.rs).
/// As `send_modify`'s docs say. Bounded: the workers stay blocked.
#[test]
#[cfg_attr(
    miri,
    ignore = "leaves threads blocked for ever, which Miri reports as a leak"
)]
fn borrow_or_send_inside_send_modify_waits_as_tokio() {
    let limit = Duration::from_millis(300);
    let ours = [
        within(limit, || {
            let (tx, rx) = chan_watch::channel(0_u32);
            tx.send_modify(|_| drop(rx.borrow()));
        }),
        within(limit, || {
            let (tx, _rx) = chan_watch::channel(0_u32);
            tx.send_modify(|_| drop(tx.borrow()));
        }),
        within(limit, || {
            let (tx, _rx) = chan_watch::channel(0_u32);
            tx.send_modify(|_| tx.send(1).unwrap());
        }),
    ];
    let theirs = [
        within(limit, || {
            let (tx, rx) = tokio::sync::watch::channel(0_u32);
            tx.send_modify(|_| drop(rx.borrow()));
        }),
        within(limit, || {
            let (tx, _rx) = tokio::sync::watch::channel(0_u32);
            tx.send_modify(|_| drop(tx.borrow()));
        }),
        within(limit, || {
            let (tx, _rx) = tokio::sync::watch::channel(0_u32);
            tx.send_modify(|_| tx.send(1).unwrap());
        }),
    ];
    assert_eq!(theirs, [Err(()); 3], "tokio no longer waits");
    assert_eq!(
        ours,
        [Err(()); 3],
        "rx.borrow, tx.borrow, send inside send_modify"
    );
}
