//! Hostile tests: each one FAILS on the current crate and says what it
//! shows. Every test is bounded in time (worker thread + `recv_timeout`);
//! at most two threads spin at once.

use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use seqcast_test_support::within;

/// SHOWS: `Sender::send` DOES wait for a `Ref`, contrary to its docs
/// ("Never waits for a [`Ref`] (not even one alive on this thread)", and
/// the crate docs' "`send` never waits for a `Ref`"). While a
/// `send_modify` on another thread waits for the `Ref` (the documented
/// part), it holds the senders' mutex `slots` (shared.rs `modify`: the
/// `slots` lock is taken before the slot's blocking `write()`), and
/// `send` (shared.rs `store`) starts by locking that same mutex, so it
/// waits for the `Ref` too.
#[test]
fn send_waits_for_a_ref_once_a_send_modify_is_queued() {
    let (tx, rx) = chan_watch::channel(0_u32);
    let r = rx.borrow();
    let tx2 = tx.clone();
    let modifier = thread::spawn(move || tx2.send_modify(|v| *v += 1));
    thread::sleep(Duration::from_millis(200)); // the modifier now waits for `r`
    let tx3 = tx.clone();
    let sent = within(Duration::from_secs(2), move || tx3.send(5).is_ok());
    drop(r); // lets both through
    modifier.join().unwrap();
    assert_eq!(
        sent,
        Ok(true),
        "send() waited more than 2 s for a Ref (it queued behind send_modify's slots lock)"
    );
}

/// SHOWS: the same thing as a real deadlock on the `Ref`'s own thread,
/// exactly the case the docs promise away ("not even one alive on this
/// thread"; crate docs' example `let r = rx.borrow(); tx.send(..)`): if
/// any other thread calls `send_modify` (or `send_replace`,
/// `send_if_modified`) meanwhile, `borrow(); send()` on one thread hangs
/// for ever. (Root cause as above; the two threads stay blocked, not
/// spinning.)
#[test]
fn borrow_then_send_on_one_thread_deadlocks_if_a_send_modify_is_queued() {
    let (tx, rx) = chan_watch::channel(0_u32);
    let tx2 = tx.clone();
    let (holding, held) = mpsc::channel::<()>();
    // The modifier starts as soon as the `Ref` below is held.
    thread::spawn(move || {
        if held.recv().is_ok() {
            tx2.send_modify(|v| *v += 1);
        }
    });
    let res = within(Duration::from_secs(3), move || {
        let r = rx.borrow();
        holding.send(()).unwrap();
        thread::sleep(Duration::from_millis(300)); // the modifier queues
        let ok = tx.send(7).is_ok(); // documented: never waits for `r`
        drop(r);
        ok
    });
    assert_eq!(
        res,
        Ok(true),
        "borrow(); send() on one thread deadlocked (a send_modify was queued on another thread)"
    );
}

/// SHOWS: a handle's `Debug` differs from tokio's where it matters: inside
/// a `send_modify` closure (e.g. logging the sender), tokio prints
/// `RwLock { data: <locked>, .. }` (std's `RwLock` `Debug` uses
/// `try_read`), chan-watch deadlocks: `Shared`'s `Debug` calls
/// `Shared::read` (shared.rs `impl Debug for Shared`, `let (guard, _) =
/// self.read()`), a blocking read lock on the slot this thread holds
/// for writing. Compared side by side with tokio 1.54.
#[test]
fn sender_debug_inside_send_modify_deadlocks_where_tokio_prints_locked() {
    let tokio_out = within(Duration::from_secs(2), || {
        let (tx, _rx) = tokio::sync::watch::channel(1_u32);
        let mut out = String::new();
        tx.send_modify(|_| out = format!("{tx:?}"));
        out
    })
    .expect("tokio prints");
    assert!(tokio_out.contains("<locked>"), "{tokio_out}");
    let ours = within(Duration::from_secs(2), || {
        let (tx, _rx) = chan_watch::channel(1_u32);
        let mut out = String::new();
        tx.send_modify(|_| out = format!("{tx:?}"));
        out
    });
    assert_eq!(
        ours,
        Ok(tokio_out),
        "Debug of a Sender inside send_modify: chan-watch hung (Err) or differs"
    );
}

/// SHOWS: same root cause from another thread: while a `send_modify`
/// waits for a `Ref` (writer queued), `format!("{rx:?}")` on a third
/// thread prints `<locked>` with tokio and hangs with chan-watch
/// (`Shared::read` blocks behind the queued writer).
#[test]
fn receiver_debug_hangs_behind_a_queued_send_modify_where_tokio_prints() {
    macro_rules! run {
        ($channel:path) => {{
            let (tx, rx) = $channel(1_u32);
            let rx = Arc::new(rx);
            let (stop_tx, stop_rx) = mpsc::channel::<()>();
            let (held_tx, held_rx) = mpsc::channel::<()>();
            let h_rx = Arc::clone(&rx);
            // Holder: keeps a `Ref` until told to stop (at most 10 s).
            let holder = thread::spawn(move || {
                let g = h_rx.borrow();
                held_tx.send(()).unwrap();
                let _ = stop_rx.recv_timeout(Duration::from_secs(10));
                drop(g);
            });
            held_rx.recv().unwrap();
            let modifier = thread::spawn(move || tx.send_modify(|v| *v += 1));
            thread::sleep(Duration::from_millis(200)); // the writer queues
            let d_rx = Arc::clone(&rx);
            let out = within(Duration::from_secs(2), move || format!("{d_rx:?}"));
            stop_tx.send(()).unwrap();
            holder.join().unwrap();
            modifier.join().unwrap();
            out
        }};
    }
    let tokio_out = run!(tokio::sync::watch::channel).expect("tokio prints");
    assert!(tokio_out.contains("<locked>"), "{tokio_out}");
    let ours = run!(chan_watch::channel);
    assert_eq!(
        ours,
        Ok(tokio_out),
        "Debug of a Receiver while a send_modify waits: chan-watch hung (Err) or differs"
    );
}

/// SHOWS: auto traits differ from tokio 1.54's for some `T` (the issue
/// asks for "Same auto traits"). Side by side for several `T`; prints
/// every mismatch. chan-watch's `Ref` holds `&Slot<T>` and `&Shared<T>`
/// (receiver.rs `struct Ref`), so `Ref: Sync` needs `T: Send + Sync`
/// where tokio's (a `RwLockReadGuard<T>`) needs only `T: Sync`.
#[test]
fn auto_traits_match_tokio_side_by_side() {
    use std::cell::Cell;
    use std::panic::{RefUnwindSafe, UnwindSafe};
    use std::rc::Rc;
    type Guard = std::sync::MutexGuard<'static, ()>; // Sync, !Send
    let mut mismatches = Vec::new();
    macro_rules! cmp {
        ($ours:ty, $theirs:ty: $($tr:ident),+) => {$(
            let (o, t) = (seqcast_test_support::implements!($ours: $tr), seqcast_test_support::implements!($theirs: $tr));
            if o != t {
                mismatches.push(format!(
                    "{}: {} ours={} tokio={}",
                    stringify!($ours), stringify!($tr), o, t
                ));
            }
        )+};
    }
    macro_rules! all {
        ($t:ty) => {
            cmp!(chan_watch::Sender<$t>, tokio::sync::watch::Sender<$t>: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
            cmp!(chan_watch::Receiver<$t>, tokio::sync::watch::Receiver<$t>: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
            cmp!(chan_watch::Ref<'static, $t>, tokio::sync::watch::Ref<'static, $t>: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
            cmp!(chan_watch::error::SendError<$t>, tokio::sync::watch::error::SendError<$t>: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
        };
    }
    all!(u32);
    all!(Cell<u32>);
    all!(Rc<u32>);
    all!(Guard);
    all!(&'static mut u32);
    all!(Box<dyn Fn() + Send + Sync>);
    cmp!(chan_watch::error::RecvError, tokio::sync::watch::error::RecvError: Send, Sync, Unpin, UnwindSafe, RefUnwindSafe);
    assert!(
        mismatches.is_empty(),
        "auto traits differ from tokio:\n{}",
        mismatches.join("\n")
    );
}

/// Creation/drop-counting value.
struct Live(Arc<AtomicIsize>);

impl Live {
    fn new(n: &Arc<AtomicIsize>) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Live(Arc::clone(n))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// SHOWS (real threads; probabilistic, bounded to 5 s): a value replaced
/// by `send` can outlive every `Ref` that showed it, indefinitely (until
/// its slot is reused or the channel dropped). The main thread holds a
/// `Ref`, sends (so the send moves to another slot) and drops the `Ref`;
/// another thread only does short borrows. When that borrow read-locks
/// the old slot just as the `Ref`'s `release` tries `try_write`, the
/// release gives up (shared.rs `release`), and the borrow, seeing
/// `current` moved, drops its guard WITHOUT calling `release` (shared.rs
/// `read`, the retry path): the old value stays. After every round the
/// reader finishes two more borrows, so no `Ref` of the old value can
/// be alive, and exactly one value (the current one) must be live.
/// The loom model `a_refs_release_racing_a_borrow_retry_leaks_the_value`
/// shows the same deterministically.
#[test]
fn a_replaced_value_outlives_every_ref_under_a_racing_borrow() {
    let res = within(Duration::from_secs(20), || {
        let live = Arc::new(AtomicIsize::new(0));
        let (tx, rx) = chan_watch::channel(Live::new(&live));
        let rx2 = rx.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let borrows = Arc::new(AtomicUsize::new(0));
        let (s2, b2) = (Arc::clone(&stop), Arc::clone(&borrows));
        let reader = thread::spawn(move || {
            while !s2.load(Ordering::Relaxed) {
                drop(rx2.borrow());
                b2.fetch_add(1, Ordering::SeqCst);
            }
        });
        let start = Instant::now();
        let mut leaked = None;
        let mut rounds = 0_u64;
        while start.elapsed() < Duration::from_secs(5) {
            rounds += 1;
            let r = rx.borrow();
            tx.send(Live::new(&live)).unwrap();
            drop(r);
            // Wait until the reader has finished two more borrows (its
            // Ref of the old slot, if any, is gone), bounded.
            let b0 = borrows.load(Ordering::SeqCst);
            let t0 = Instant::now();
            while borrows.load(Ordering::SeqCst) < b0 + 2 && t0.elapsed() < Duration::from_secs(1) {
                std::hint::spin_loop();
            }
            let mut n = live.load(Ordering::SeqCst);
            if n != 1 {
                // Give it time: 100 ms and two more borrows, then look again.
                thread::sleep(Duration::from_millis(100));
                let b1 = borrows.load(Ordering::SeqCst);
                let t1 = Instant::now();
                while borrows.load(Ordering::SeqCst) < b1 + 2
                    && t1.elapsed() < Duration::from_secs(1)
                {
                    std::hint::spin_loop();
                }
                n = live.load(Ordering::SeqCst);
            }
            if n != 1 {
                leaked = Some((rounds, n));
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        reader.join().unwrap();
        // Quiescent now: 100 more sends with no Ref anywhere (in place)
        // still do not drop the leaked value.
        for _ in 0..100 {
            tx.send(Live::new(&live)).unwrap();
        }
        let quiescent = live.load(Ordering::SeqCst);
        drop((tx, rx));
        (
            leaked.map(|(k, n)| (k, n, quiescent)),
            rounds,
            live.load(Ordering::SeqCst),
        )
    })
    .expect("bounded");
    let (leaked, rounds, after) = res;
    assert_eq!(after, 0, "values leaked past the channel's drop");
    assert_eq!(
        leaked, None,
        "Some((round, live, live after 100 quiescent sends)): live values != 1 although no Ref of the replaced value is alive ({rounds} rounds)"
    );
}

/// Records the name of the thread that drops it.
struct DropsOn(u32, Arc<std::sync::Mutex<Vec<(u32, String)>>>);

impl Drop for DropsOn {
    fn drop(&mut self) {
        let here = thread::current().name().unwrap_or("?").to_owned();
        self.1.lock().unwrap().push((self.0, here));
    }
}

/// The crate docs ("Where it is not tokio's watch"): a value that a
/// `send` replaces while a `Ref` shows it is dropped by that `Ref`'s
/// drop, on the `Ref`'s thread, after `send` returned (tokio drops it
/// inside `send`, which waits for the reader).
#[test]
fn a_replaced_value_is_dropped_by_the_last_refs_drop_on_its_thread() {
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (tx, rx) = chan_watch::channel(DropsOn(0, Arc::clone(&log)));
    let held = rx.borrow();
    let sender_log = Arc::clone(&log);
    let (sent, done) = mpsc::channel();
    let sender = thread::Builder::new()
        .name("sender".into())
        .spawn(move || {
            tx.send(DropsOn(1, sender_log)).map_err(drop).unwrap();
            let _ = sent.send(());
            tx // kept alive: the channel (and value 1) outlive the thread
        })
        .unwrap();
    // Bounded: a `send` that waited for `held` (tokio's) would hang here.
    done.recv_timeout(Duration::from_secs(10))
        .expect("send waited for a Ref held on another thread");
    sender.join().map(drop).unwrap();
    assert!(
        log.lock().unwrap().is_empty(),
        "value 0 dropped while a Ref shows it"
    );
    assert_eq!(held.0, 0);
    let reader = thread::current().name().unwrap_or("?").to_owned();
    drop(held);
    assert_eq!(*log.lock().unwrap(), [(0, reader)]);
}
