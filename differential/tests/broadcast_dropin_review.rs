//! A hostile drop-in review of chan-broadcast against
//! `tokio::sync::broadcast` (tokio 1.54.1), beyond what
//! `differential/tests/broadcast.rs` already checks. Every scenario runs
//! on both crates through one macro body taking the module's name and
//! the results (rendered with `Debug`) must be equal.
//!
//! Each test asserts tokio's behaviour. Two failed when written (the
//! `error` glob naming our `TrySendError`; the futures' extra unwind-safety
//! and `Debug`) and pass since the fixes; the `?` inference test could not
//! compile on ours until `From<Lagged> for RecvError` was removed. The
//! root-glob ambiguity (a compile error, so not a test here) and `Recv`
//! polled after completion are documented deviations (crate docs, "Where
//! it is not tokio's broadcast").

use std::cell::{Cell, RefCell};
use std::fmt::{Debug, Display};
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::sync::MutexGuard;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use chan_broadcast as ours;
use seqcast_test_support::{implements, within};
use tokio::sync::broadcast as theirs;

/// One poll of `f` with `waker`, as `Debug` text.
fn poll_text<F: Future>(f: std::pin::Pin<&mut F>, waker: &Waker) -> String
where
    F::Output: Debug,
{
    format!("{:?}", f.poll(&mut Context::from_waker(waker)))
}

/// `Send + Sync`, `Clone`.
#[derive(Clone, Debug)]
struct Plain;

/// `Send`, not `Sync`.
type SendOnly = Cell<u8>;

/// `Sync`, not `Send` (as a `MutexGuard`), `Clone`.
#[derive(Debug)]
struct SyncOnly(PhantomData<MutexGuard<'static, ()>>);
impl Clone for SyncOnly {
    fn clone(&self) -> Self {
        SyncOnly(PhantomData)
    }
}

/// Neither `Send` nor `Sync`.
type Neither = Rc<u8>;

/// Neither `UnwindSafe` nor `RefUnwindSafe` (as `&mut`), but `Send + Sync`.
#[derive(Debug)]
struct NotUnwindSafe(PhantomData<&'static mut u8>);
impl Clone for NotUnwindSafe {
    fn clone(&self) -> Self {
        NotUnwindSafe(PhantomData)
    }
}

/// `UnwindSafe`, not `RefUnwindSafe`.
type NotRefUnwindSafe = RefCell<u8>;

/// The traits a user can observe on a handle type, as `(name, bool)`.
macro_rules! handle_traits {
    ($t:ty) => {
        seqcast_test_support::trait_table!($t:
            Send, Sync, Unpin, UnwindSafe, RefUnwindSafe, Clone, Copy, Default, Debug,
            Display, PartialEq, Eq, PartialOrd, Hash, Iterator, Future)
        .to_vec()
    };
}

/// Auto traits (and every other common trait) of `Sender`, `Receiver` and
/// `WeakSender` for payloads that are `Send + Sync`, `Send` only, `Sync`
/// only, neither, not `UnwindSafe`, not `RefUnwindSafe`, and not `Clone`:
/// `Send`/`Sync` bounds on a spawn, `catch_unwind` around a handle and
/// trait-based dispatch must not change after the switch. (`Stream` on
/// ours is documented; not probed.)
#[test]
fn handle_traits_match_tokio_for_every_payload_kind() {
    struct NoClone;
    macro_rules! all_handles {
        ($m:ident, $p:ty) => {{
            let mut v = Vec::new();
            v.push(("Sender", handle_traits!($m::Sender<$p>)));
            v.push(("Receiver", handle_traits!($m::Receiver<$p>)));
            v.push(("WeakSender", handle_traits!($m::WeakSender<$p>)));
            format!("{v:?}")
        }};
    }
    macro_rules! compare {
        ($p:ty) => {
            assert_eq!(
                all_handles!(ours, $p),
                all_handles!(theirs, $p),
                "payload {}",
                stringify!($p)
            );
        };
    }
    compare!(Plain);
    compare!(SendOnly);
    compare!(SyncOnly);
    compare!(Neither);
    compare!(NotUnwindSafe);
    compare!(NotRefUnwindSafe);
    compare!(NoClone);
    compare!(&'static str);
}

/// The `recv()` and `closed()` futures' `Send`/`Sync`/`UnwindSafe` for
/// the same payload kinds (`broadcast.rs` checks `Send + Sync` for
/// `Cell<u8>` only). `Unpin` of `Recv` is a documented addition and is
/// left out. FAILED until a marker made ours' `Recv` not `RefUnwindSafe`
/// and ours' `closed()` future neither `UnwindSafe` nor `RefUnwindSafe`
/// (tokio's are neither), and `Recv`'s extra `Debug` was removed: code
/// relying on them compiled only with ours (a one-way difference, like
/// the extra derives `broadcast.rs` guards against on the error types).
#[test]
fn futures_auto_traits_match_tokio_for_every_payload_kind() {
    macro_rules! fut_traits {
        ($m:ident, $p:ty) => {{
            let (tx, mut rx) = $m::channel::<$p>(2);
            let r = rx.recv();
            let c = tx.closed();
            let v = [
                implements!(value r => Send),
                implements!(value r => Sync),
                implements!(value r => std::panic::UnwindSafe),
                implements!(value r => std::panic::RefUnwindSafe),
                implements!(value c => Send),
                implements!(value c => Sync),
                implements!(value c => Unpin),
                implements!(value c => std::panic::UnwindSafe),
                implements!(value c => std::panic::RefUnwindSafe),
                implements!(value r => std::fmt::Debug),
            ];
            drop((r, c));
            v
        }};
    }
    const NAMES: [&str; 10] = [
        "recv: Send",
        "recv: Sync",
        "recv: UnwindSafe",
        "recv: RefUnwindSafe",
        "closed: Send",
        "closed: Sync",
        "closed: Unpin",
        "closed: UnwindSafe",
        "closed: RefUnwindSafe",
        "recv: Debug",
    ];
    let mut diffs = Vec::new();
    macro_rules! compare {
        ($p:ty) => {
            let (o, t) = (fut_traits!(ours, $p), fut_traits!(theirs, $p));
            for i in 0..NAMES.len() {
                if o[i] != t[i] {
                    diffs.push(format!(
                        "{} for T = {}: ours {}, tokio {}",
                        NAMES[i],
                        stringify!($p),
                        o[i],
                        t[i]
                    ));
                }
            }
        };
    }
    compare!(Plain);
    compare!(SendOnly);
    compare!(SyncOnly);
    compare!(Neither);
    compare!(NotUnwindSafe);
    compare!(NotRefUnwindSafe);
    assert!(diffs.is_empty(), "{diffs:#?}");
}

/// The error types' traits for payloads that are not `Send`/`Sync`/
/// unwind-safe (`broadcast.rs` checks `u8` and `String` only).
#[test]
fn send_error_traits_match_tokio_for_every_payload_kind() {
    macro_rules! compare {
        ($p:ty) => {
            assert_eq!(
                format!("{:?}", handle_traits!(ours::error::SendError<$p>)),
                format!("{:?}", handle_traits!(theirs::error::SendError<$p>)),
                "payload {}",
                stringify!($p)
            );
        };
    }
    compare!(SendOnly);
    compare!(SyncOnly);
    compare!(Neither);
    compare!(NotUnwindSafe);
    compare!(NotRefUnwindSafe);
}

/// `Option<handle>` keeps the handle's size (the null niche), as tokio's.
#[test]
fn option_of_a_handle_is_as_large_as_tokios() {
    use std::mem::size_of;
    assert_eq!(
        size_of::<Option<ours::Sender<u64>>>(),
        size_of::<Option<theirs::Sender<u64>>>()
    );
    assert_eq!(
        size_of::<Option<ours::WeakSender<u64>>>(),
        size_of::<Option<theirs::WeakSender<u64>>>()
    );
}

/// Every `Debug`/`Display` form (`{:?}`, `{:#?}`, width, fill, precision
/// and alignment flags) of the handles and errors, exactly.
#[test]
fn debug_and_display_strings_in_every_form_match_tokio() {
    macro_rules! strings {
        ($m:ident) => {{
            use $m::error::{RecvError, SendError, TryRecvError};
            let (tx, rx) = $m::channel::<String>(2);
            let weak = tx.downgrade();
            let mut v: Vec<String> = Vec::new();
            v.push(format!("{tx:?}|{tx:#?}|{tx:>30?}|{tx:-<30?}|{tx:.3?}"));
            v.push(format!("{rx:?}|{rx:#?}|{rx:>30?}|{rx:-<30?}|{rx:.3?}"));
            v.push(format!("{weak:?}|{weak:#?}|{weak:>30?}|{weak:.3?}"));
            let up = weak.upgrade();
            v.push(format!("{up:?}|{up:#?}"));
            let pair = (&tx, &rx);
            v.push(format!("{pair:?}|{pair:#?}"));
            let e = SendError(String::from("x"));
            v.push(format!("{e:?}|{e:#?}|{e}|{e:>20}|{e:.3}|{e:>20?}"));
            for e in [RecvError::Closed, RecvError::Lagged(7)] {
                v.push(format!("{e:?}|{e:#?}|{e}|{e:>20}|{e:.3}|{e:>20?}"));
            }
            for e in [
                TryRecvError::Empty,
                TryRecvError::Closed,
                TryRecvError::Lagged(u64::MAX),
            ] {
                v.push(format!("{e:?}|{e:#?}|{e}|{e:>20}|{e:.3}|{e:>20?}"));
            }
            let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(RecvError::Lagged(1));
            v.push(format!("{boxed:?}|{boxed}|{:?}", boxed.source().is_none()));
            v
        }};
    }
    let (o, t) = (strings!(ours), strings!(theirs));
    for (o, t) in o.iter().zip(&t) {
        assert_eq!(o, t);
    }
    assert_eq!(o.len(), t.len());
}

/// A payload that borrows from the stack (`T` not `'static`): every
/// tokio method compiles and behaves the same.
#[test]
fn non_static_payloads_work_as_with_tokio() {
    macro_rules! scenario {
        ($m:ident) => {{
            let text = String::from("borrowed");
            let word: &str = &text;
            let (tx, mut rx) = $m::channel::<&str>(2);
            let mut log = Vec::new();
            let weak = tx.downgrade();
            log.push(format!("{:?}", tx.send(word)));
            let mut rx2 = rx.resubscribe();
            log.push(format!("{:?}", tx.send(&word[..3])));
            log.push(format!("{:?}", rx.try_recv()));
            log.push(format!("{:?}", rx2.try_recv()));
            log.push(format!("{:?}", weak.upgrade().map(|t| t.len())));
            drop(tx);
            log.push(format!("{:?}", rx.blocking_recv()));
            log.push(format!("{:?}", rx.blocking_recv()));
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// `blocking_recv` on a plain thread: woken by a send, then by the last
/// sender's drop (`Closed`, for ever), with a lag in between.
#[test]
fn blocking_recv_is_woken_by_send_lag_and_close() {
    macro_rules! scenario {
        ($m:ident) => {{
            within(Duration::from_secs(20), || {
                let (tx, mut rx) = $m::channel::<u32>(2);
                let (step_tx, step_rx) = std::sync::mpsc::channel::<()>();
                let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
                let h = std::thread::spawn(move || {
                    let mut log = Vec::new();
                    log.push(format!("{:?}", rx.blocking_recv()));
                    step_tx.send(()).unwrap();
                    // The burst below is sent before this thread reads on.
                    go_rx.recv().unwrap();
                    for _ in 0..5 {
                        log.push(format!("{:?}", rx.blocking_recv()));
                    }
                    log
                });
                std::thread::sleep(Duration::from_millis(30));
                tx.send(1).unwrap();
                step_rx.recv().unwrap();
                for i in 2..7 {
                    tx.send(i).unwrap();
                }
                go_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(30));
                drop(tx);
                h.join().unwrap()
            })
            .expect("blocking_recv hung")
        }};
    }
    let (o, t) = (scenario!(ours), scenario!(theirs));
    assert_eq!(o, t);
}

/// `blocking_recv` inside a runtime *context* that is not driving tasks
/// (`Runtime::enter`): tokio allows it.
#[test]
fn blocking_recv_under_runtime_enter_works_as_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = rt.enter();
    macro_rules! scenario {
        ($m:ident) => {{
            let (tx, mut rx) = $m::channel::<u32>(2);
            tx.send(5).unwrap();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx.blocking_recv()));
            format!("{:?}", r.map_err(|_| "panicked"))
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// Tasks waiting in `recv()` (current-thread runtime): woken by a burst
/// that laps them, by the close, with `Lagged` then the held values then
/// `Closed`; and a second task woken by values sent one at a time.
#[test]
fn pending_recv_tasks_see_lag_values_and_close_as_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    macro_rules! scenario {
        ($m:ident) => {{
            rt.block_on(async {
                let work = async {
                    let (tx, mut rx) = $m::channel::<u32>(2);
                    let mut rx2 = tx.subscribe();
                    let a = tokio::spawn(async move {
                        let mut log = Vec::new();
                        for _ in 0..5 {
                            log.push(format!("{:?}", rx.recv().await));
                        }
                        log
                    });
                    let b = tokio::spawn(async move {
                        let mut log = Vec::new();
                        loop {
                            let r = rx2.recv().await;
                            log.push(format!("{r:?}"));
                            if r == Err($m::error::RecvError::Closed) {
                                break log;
                            }
                            tokio::task::yield_now().await;
                        }
                    });
                    tokio::task::yield_now().await;
                    let mut sends = Vec::new();
                    for i in 0..5 {
                        sends.push(format!("{:?}", tx.send(i)));
                    }
                    tokio::task::yield_now().await;
                    sends.push(format!("{:?}", tx.send(10)));
                    tokio::task::yield_now().await;
                    sends.push(format!("{}", tx.len()));
                    drop(tx);
                    (sends, a.await.unwrap(), b.await.unwrap())
                };
                tokio::time::timeout(Duration::from_secs(10), work)
                    .await
                    .expect("hung")
            })
        }};
    }
    assert_eq!(
        format!("{:?}", scenario!(ours)),
        format!("{:?}", scenario!(theirs))
    );
}

/// `Sender::closed()`: pending, the last receiver drops (it is woken), a
/// new receiver subscribes before it is polled again: pending again; a
/// channel from `Sender::new` (no receiver) is closed at once; a weak
/// sender's upgrade sees the same.
#[test]
fn closed_future_edge_cases_match_tokio() {
    macro_rules! scenario {
        ($m:ident) => {{
            let mut log = Vec::new();
            let (waker, wakes) = seqcast_test_support::counting_waker();
            let mut cx = Context::from_waker(&waker);
            let (tx, rx) = $m::channel::<u8>(1);
            {
                let mut closed = pin!(tx.closed());
                log.push(format!("{:?}", closed.as_mut().poll(&mut cx)));
                drop(rx);
                log.push(format!("woken: {}", wakes.count() > 0));
                let rx = tx.subscribe();
                log.push(format!("{:?}", closed.as_mut().poll(&mut cx)));
                drop(rx);
                log.push(format!("{:?}", closed.as_mut().poll(&mut cx)));
            }
            let lone = $m::Sender::<u8>::new(3);
            log.push(format!(
                "{:?}",
                pin!(lone.closed()).poll(&mut Context::from_waker(Waker::noop()))
            ));
            let weak = lone.downgrade();
            let up = weak.upgrade();
            log.push(format!(
                "{up:?} {} {}",
                lone.strong_count(),
                lone.weak_count()
            ));
            if let Some(up) = &up {
                log.push(format!(
                    "{:?}",
                    pin!(up.closed()).poll(&mut Context::from_waker(Waker::noop()))
                ));
            }
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// `send` return counts, `len` on both ends and `is_empty`, across a lag,
/// a receiver drop while values are held for it, and the close.
#[test]
fn counts_across_lag_drop_and_close_match_tokio() {
    macro_rules! scenario {
        ($m:ident) => {{
            let mut log = Vec::new();
            let (tx, mut a) = $m::channel::<u32>(3); // 4 slots
            let b = tx.subscribe();
            let mut c = b.resubscribe();
            macro_rules! counts {
                () => {
                    log.push(format!(
                        "tx len {} empty {} rc {} | a len {} empty {} | c len {} empty {}",
                        tx.len(),
                        tx.is_empty(),
                        tx.receiver_count(),
                        a.len(),
                        a.is_empty(),
                        c.len(),
                        c.is_empty()
                    ))
                };
            }
            for i in 0..6 {
                log.push(format!("{:?}", tx.send(i)));
            }
            counts!();
            log.push(format!("{:?}", a.try_recv()));
            counts!();
            drop(b);
            counts!();
            for _ in 0..4 {
                log.push(format!("{:?}", a.try_recv()));
            }
            counts!();
            let weak = tx.downgrade();
            let mut d = c.resubscribe();
            drop(tx);
            log.push(format!("{:?}", weak.upgrade()));
            log.push(format!(
                "a {:?} c {:?} d {:?}",
                a.try_recv(),
                c.try_recv(),
                d.try_recv()
            ));
            for _ in 0..5 {
                log.push(format!("{:?}", c.try_recv()));
            }
            log.push(format!(
                "{} {} {} {} {} {} {}",
                a.len(),
                c.len(),
                d.len(),
                d.is_closed(),
                d.sender_strong_count(),
                d.sender_weak_count(),
                weak.strong_count()
            ));
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// `resubscribe` of a lagged receiver starts at the tail (the lag is not
/// inherited), and the lagged one still reports its lag.
#[test]
fn resubscribe_of_a_lagged_receiver_matches_tokio() {
    macro_rules! scenario {
        ($m:ident) => {{
            let (tx, mut rx) = $m::channel::<u32>(1);
            for i in 0..5 {
                tx.send(i).unwrap();
            }
            let mut r2 = rx.resubscribe();
            let mut log = vec![format!("{} {}", rx.len(), r2.len())];
            log.push(format!("{:?} {:?}", rx.try_recv(), r2.try_recv()));
            log.push(format!("{:?}", tx.send(9)));
            log.push(format!("{:?} {:?}", rx.try_recv(), r2.try_recv()));
            log.push(format!("{:?} {:?}", rx.try_recv(), r2.try_recv()));
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// The panic of a rejected capacity points at the caller's line on both
/// (`#[track_caller]` on `channel` and `Sender::new`).
#[test]
fn capacity_panics_point_at_the_caller() {
    use std::sync::{Arc, Mutex};
    static HOOK: Mutex<()> = Mutex::new(());
    let _one = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let prev = std::panic::take_hook();
    {
        let seen = Arc::clone(&seen);
        // Other tests panic on their threads meanwhile: record ours only.
        let me = std::thread::current().id();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == me {
                let loc = info.location().map(|l| l.file().to_owned());
                seen.lock().unwrap().push(format!("{loc:?}"));
            }
        }));
    }
    let _ = std::panic::catch_unwind(|| drop(ours::channel::<u8>(0)));
    let _ = std::panic::catch_unwind(|| drop(theirs::channel::<u8>(0)));
    let _ = std::panic::catch_unwind(|| drop(ours::Sender::<u8>::new(0)));
    let _ = std::panic::catch_unwind(|| drop(theirs::Sender::<u8>::new(0)));
    std::panic::set_hook(prev);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[2], seen[3]);
    assert!(seen[0].contains("broadcast_dropin_review"), "{seen:?}");
}

/// Polling the `recv()` future again after it completed: tokio's
/// `async fn` future panics ("`async fn` resumed after completion"); ours
/// receives the next value. Documented on `Recv` (not in the crate docs'
/// "Where it is not tokio's broadcast" list). Asserts both behaviours.
#[test]
fn recv_polled_after_completion_documented_difference() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let mut cx = Context::from_waker(Waker::noop());
    let (ttx, mut trx) = theirs::channel::<u8>(4);
    ttx.send(1).unwrap();
    ttx.send(2).unwrap();
    let mut f = Box::pin(trx.recv());
    assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    assert!(catch_unwind(AssertUnwindSafe(|| f.as_mut().poll(&mut cx))).is_err());
    let (otx, mut orx) = ours::channel::<u8>(4);
    otx.send(1).unwrap();
    otx.send(2).unwrap();
    let mut f = Box::pin(orx.recv());
    assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Ok(2)));
}

/// The names a `use broadcast::error::*;` glob brings in. With tokio,
/// `broadcast::error::*` next to `mpsc::error::*` leaves `TrySendError`
/// unambiguous: mpsc's. Ours' `error` module also exports its own
/// `TrySendError` (and `Lagged`), so the same two globs make the name
/// ambiguous: rustc 1.95 warns (`ambiguous_glob_imports`, "previously
/// accepted by the compiler but is being phased out; it will become a hard
/// error in a future release", issue #114095), and for now resolves it
/// to chan-broadcast's. FAILED until `TrySendError` and `Lagged` moved to
/// the crate root: the user's mpsc code named
/// `chan_broadcast::error::TrySendError`, so e.g. matching
/// `mpsc_tx.try_send(v)` against `Err(TrySendError::Full(_))` no longer
/// type-checked, besides the new future-incompat warning (this module
/// allows the lint so the file builds warning-free; cargo still prints
/// its future-incompatibility note for the crate).
#[test]
fn glob_import_of_error_next_to_mpsc_errors_names_mpscs_try_send_error() {
    mod with_tokio {
        #[allow(unused_imports)]
        use tokio::sync::broadcast::error::*;
        #[allow(unused_imports)]
        use tokio::sync::mpsc::error::*;
        pub(super) type MpscFull = TrySendError<u8>;
    }
    #[allow(ambiguous_glob_imports)]
    mod with_ours {
        #[allow(unused_imports)]
        use chan_broadcast::error::*;
        #[allow(unused_imports)]
        use tokio::sync::mpsc::error::*;
        pub(super) type MpscFull = TrySendError<u8>;
    }
    assert_eq!(
        std::any::type_name::<with_ours::MpscFull>(),
        std::any::type_name::<with_tokio::MpscFull>()
    );
}

/// Wake-ups of a pending `recv()` (counted per waker): polled with waker
/// A, then again with waker B (the future moved to another task), then
/// sends. tokio wakes only the latest waker, once per registration; more
/// sends while it is not re-polled wake nothing more. Then a close.
#[test]
fn recv_wakes_exactly_as_tokio() {
    use seqcast_test_support::counting_waker;
    macro_rules! scenario {
        ($m:ident) => {{
            let mut log = Vec::new();
            let (wa, ca) = counting_waker();
            let (wb, cb) = counting_waker();
            let (tx, mut rx) = $m::channel::<u8>(4);
            {
                let mut f = pin!(rx.recv());
                log.push(poll_text(f.as_mut(), &wa));
                log.push(poll_text(f.as_mut(), &wb));
                tx.send(1).unwrap();
                log.push(format!("after 1 send: A {} B {}", ca.count(), cb.count()));
                tx.send(2).unwrap();
                tx.send(3).unwrap();
                log.push(format!("after 3 sends: A {} B {}", ca.count(), cb.count()));
                log.push(poll_text(f.as_mut(), &wb));
            }
            for _ in 0..2 {
                log.push(format!("{:?}", rx.try_recv()));
            }
            {
                let mut f = pin!(rx.recv());
                log.push(poll_text(f.as_mut(), &wa));
                drop(tx);
                log.push(format!("after close: A {} B {}", ca.count(), cb.count()));
                log.push(poll_text(f.as_mut(), &wa));
            }
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// Wake-ups of a pending `Sender::closed()`: polled with A then B, the
/// last receiver drops.
#[test]
fn closed_wakes_exactly_as_tokio() {
    use seqcast_test_support::counting_waker;
    macro_rules! scenario {
        ($m:ident) => {{
            let mut log = Vec::new();
            let (wa, ca) = counting_waker();
            let (wb, cb) = counting_waker();
            let (tx, rx) = $m::channel::<u8>(4);
            let rx2 = tx.subscribe();
            let mut f = pin!(tx.closed());
            log.push(poll_text(f.as_mut(), &wa));
            log.push(poll_text(f.as_mut(), &wb));
            drop(rx);
            log.push(format!("one left: A {} B {}", ca.count(), cb.count()));
            drop(rx2);
            log.push(format!("none left: A {} B {}", ca.count(), cb.count()));
            log.push(poll_text(f.as_mut(), &wb));
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// `spawn_blocking` threads may call `blocking_recv` (tokio's docs say so).
#[test]
fn blocking_recv_on_spawn_blocking_works_as_tokio() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    macro_rules! scenario {
        ($m:ident) => {{
            rt.block_on(async {
                let (tx, mut rx) = $m::channel::<u32>(2);
                let h =
                    tokio::task::spawn_blocking(move || (rx.blocking_recv(), rx.blocking_recv()));
                tokio::time::sleep(Duration::from_millis(20)).await;
                tx.send(3).unwrap();
                drop(tx);
                let r = tokio::time::timeout(Duration::from_secs(10), h)
                    .await
                    .expect("hung")
                    .unwrap();
                format!("{r:?}")
            })
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// A user's prelude for the glob test below.
#[allow(dead_code)]
mod user_prelude {
    pub(crate) struct Closed;
    pub(crate) struct Recv;
    pub(crate) struct Lagged;
}

/// A user's own names next to a `broadcast::*` glob (another glob, as in
/// `use crate::prelude::*;`): with tokio the root of `broadcast` exports
/// `channel`, `Sender`, `Receiver`, `WeakSender` and `error` only, so a
/// prelude's `Closed`, `Recv` or `Lagged` is unambiguous and this
/// compiles. Ours also exports `Closed`, `Closing`, `Drained`, `Lagged`,
/// `Recv`, `LosslessSend`, `LosslessSender`, `WeakLosslessSender` and
/// `channel_lossless`, and the same module with `use chan_broadcast::*;`
/// does not compile (rustc 1.95, even with
/// `#[allow(ambiguous_glob_imports)]`):
///
/// ```text
/// error[E0659]: `Closed` is ambiguous
///     = note: ambiguous because of multiple glob imports of a name in the same module
/// note: `Closed` could refer to the struct imported here: use crate::user_prelude::*;
/// note: `Closed` could also refer to the struct imported here: use chan_broadcast::*;
/// (the same for `Recv` and `Lagged`)
/// ```
#[test]
fn root_glob_next_to_a_users_prelude_compiles_with_tokio_not_ours() {
    mod with_tokio {
        #[allow(unused_imports)]
        use crate::user_prelude::*;
        #[allow(unused_imports)]
        use tokio::sync::broadcast::*;
        pub(super) fn names() -> [&'static str; 3] {
            [
                std::any::type_name::<Closed>(),
                std::any::type_name::<Recv>(),
                std::any::type_name::<Lagged>(),
            ]
        }
    }
    assert_eq!(
        with_tokio::names(),
        [
            "broadcast_dropin_review::user_prelude::Closed",
            "broadcast_dropin_review::user_prelude::Recv",
            "broadcast_dropin_review::user_prelude::Lagged",
        ]
    );
}

/// `?` into a `RecvError` from a `Result` whose error type is left to
/// inference: with tokio the only `From` impl into `RecvError` is the
/// reflexive one, so `E = RecvError` is inferred and this compiles. Ours
/// had `impl From<Lagged> for RecvError` until this review, and the same
/// function with `ours::error::RecvError` did not compile (rustc 1.95:
/// `error[E0283]: type annotations needed for Result<u8, _>`, "multiple
/// impls satisfying RecvError: From<_>"). The impl is gone; both compile.
#[test]
fn question_mark_into_recv_error_infers_the_error_type_as_with_tokio() {
    fn with_tokio() -> Result<u8, theirs::error::RecvError> {
        let r = Ok(1);
        let v = r?;
        Ok(v)
    }
    fn with_ours() -> Result<u8, ours::error::RecvError> {
        let r = Ok(1);
        let v = r?;
        Ok(v)
    }
    assert_eq!(with_tokio(), Ok(1));
    assert_eq!(with_ours(), Ok(1));
}

thread_local! {
    /// Drops of [`Tracked`] values on this thread, by id.
    static DROPS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// A payload that records its drops (clones record too, under the same id).
#[derive(Clone, Debug)]
struct Tracked(u32);

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.with(|d| d.borrow_mut().push(self.0));
    }
}

fn take_drops() -> Vec<u32> {
    DROPS.with(|d| std::mem::take(&mut *d.borrow_mut()))
}

/// When the stored values are dropped (tokio's module docs, "Closing": a
/// dropped receiver marks what it had not read as read, and a value it was
/// the last to hold is dropped then): on overwrite, on the drop of the
/// last receiver holding them, not on the last sender's drop, and the
/// rest with the channel. (The last reader of a value is avoided: there
/// ours moves the value out, the documented difference.)
#[test]
fn stored_values_are_dropped_when_tokio_drops_them() {
    macro_rules! scenario {
        ($m:ident) => {{
            let mut log = Vec::new();
            take_drops();
            let (tx, mut a) = $m::channel::<Tracked>(2);
            let b = tx.subscribe();
            for i in 1..=3 {
                let _ = tx.send(Tracked(i));
                log.push(format!("send {i}: {:?}", take_drops()));
            }
            // `a` reads (clones) what is held; `b` still holds them.
            log.push(format!("{:?}", a.try_recv().map(|v| v.0)));
            log.push(format!("{:?}", a.try_recv().map(|v| v.0)));
            log.push(format!("{:?}", a.try_recv().map(|v| v.0)));
            log.push(format!("a read: {:?}", take_drops()));
            drop(b);
            log.push(format!("b dropped: {:?} len {}", take_drops(), tx.len()));
            let c = tx.subscribe();
            let _ = tx.send(Tracked(4));
            let _ = tx.send(Tracked(5));
            log.push(format!("two more: {:?}", take_drops()));
            drop(tx);
            log.push(format!("last sender dropped: {:?}", take_drops()));
            drop(a);
            log.push(format!("a dropped: {:?}", take_drops()));
            drop(c);
            log.push(format!("c dropped: {:?}", take_drops()));
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// A payload whose clone panics while `PANIC_ON_CLONE` is set.
#[derive(Debug)]
struct CloneMayPanic(u32);

static PANIC_ON_CLONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Clone for CloneMayPanic {
    fn clone(&self) -> Self {
        if PANIC_ON_CLONE.swap(false, std::sync::atomic::Ordering::SeqCst) {
            panic!("clone of {} refused", self.0)
        }
        CloneMayPanic(self.0)
    }
}

/// A `recv()` future whose poll panicked in `T::clone` (caught with
/// `catch_unwind`), polled again: tokio's `async fn` future panics
/// ("`async fn` resumed after panicking"); ours receives the next value,
/// as after completion (the `Recv` docs mention completion, not a panic).
/// Asserts both behaviours.
#[test]
fn recv_polled_after_a_panicking_clone_documents_the_difference() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::atomic::Ordering::SeqCst;
    let mut cx = Context::from_waker(Waker::noop());
    macro_rules! scenario {
        ($m:ident) => {{
            let (tx, mut rx) = $m::channel::<CloneMayPanic>(4);
            let _other = tx.subscribe(); // so `rx` clones (not the last reader)
            tx.send(CloneMayPanic(1)).unwrap();
            tx.send(CloneMayPanic(2)).unwrap();
            let mut f = Box::pin(rx.recv());
            PANIC_ON_CLONE.store(true, SeqCst);
            let first = catch_unwind(AssertUnwindSafe(|| f.as_mut().poll(&mut cx))).is_err();
            let again = catch_unwind(AssertUnwindSafe(|| f.as_mut().poll(&mut cx)))
                .map(|p| format!("{p:?}"))
                .map_err(|_| "panicked");
            (first, again)
        }};
    }
    let _turn = seqcast_test_support::one_at_a_time();
    assert_eq!(scenario!(theirs), (true, Err("panicked")));
    assert_eq!(
        scenario!(ours),
        (true, Ok(String::from("Ready(Ok(CloneMayPanic(2)))")))
    );
}

/// Two workers, one sending task and three receiving tasks on a small
/// ring: every receiver sees values in send order, and what it received
/// plus what it was told it lost (`Lagged(n)`) is exactly what was sent,
/// then `Closed`. The invariant tokio keeps, checked on both.
#[test]
fn concurrent_receivers_account_for_every_value_as_tokio() {
    const N: u64 = 3000;
    let _turn = seqcast_test_support::one_at_a_time();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    macro_rules! scenario {
        ($m:ident) => {{
            rt.block_on(async {
                let work = async {
                    let (tx, rx) = $m::channel::<u64>(4);
                    let mut rxs = vec![rx, tx.subscribe(), tx.subscribe()];
                    let mut tasks = Vec::new();
                    for (k, mut rx) in rxs.drain(..).enumerate() {
                        tasks.push(tokio::spawn(async move {
                            let (mut got, mut lost, mut last) = (0_u64, 0_u64, None);
                            loop {
                                match rx.recv().await {
                                    Ok(v) => {
                                        assert!(last.is_none_or(|l| v > l), "order");
                                        last = Some(v);
                                        got += 1;
                                    }
                                    Err($m::error::RecvError::Lagged(n)) => lost += n,
                                    Err($m::error::RecvError::Closed) => break,
                                }
                                if k == 0 && got % 64 == 0 {
                                    tokio::task::yield_now().await;
                                }
                            }
                            got + lost
                        }));
                    }
                    for i in 0..N {
                        tx.send(i).unwrap();
                        if i % 16 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                    drop(tx);
                    let mut totals = Vec::new();
                    for t in tasks {
                        totals.push(t.await.unwrap());
                    }
                    totals
                };
                tokio::time::timeout(Duration::from_secs(30), work)
                    .await
                    .expect("hung")
            })
        }};
    }
    assert_eq!(scenario!(theirs), vec![N; 3]);
    assert_eq!(scenario!(ours), vec![N; 3]);
}

/// A waker whose `wake` panics (once armed).
struct PanickingWaker(std::sync::atomic::AtomicBool);

impl std::task::Wake for PanickingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if self.0.load(std::sync::atomic::Ordering::SeqCst) {
            panic!("waker refuses")
        }
    }
}

/// A pending `recv()` registered with a waker that panics: the send that
/// wakes it panics (after storing the value), on both; the registration
/// is consumed, so the next send does not panic; both receivers then read
/// both values; and a panicking waker on `Sender::closed()` behaves the
/// same way when the last receiver drops.
#[test]
fn a_panicking_waker_is_consumed_as_with_tokio() {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Arc;
    macro_rules! scenario {
        ($m:ident) => {{
            let mut log = Vec::new();
            let pw = Arc::new(PanickingWaker(std::sync::atomic::AtomicBool::new(true)));
            let waker = Waker::from(Arc::clone(&pw));
            let (tx, mut rx) = $m::channel::<u8>(4);
            let mut rx2 = tx.subscribe();
            {
                let mut f = pin!(rx.recv());
                log.push(poll_text(f.as_mut(), &waker));
                let s1 = catch_unwind(AssertUnwindSafe(|| tx.send(1)));
                log.push(format!("send 1: {:?}", s1.map_err(|_| "panicked")));
                let s2 = catch_unwind(AssertUnwindSafe(|| tx.send(2)));
                log.push(format!("send 2: {:?}", s2.map_err(|_| "panicked")));
                log.push(format!(
                    "{:?}",
                    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
                ));
            }
            log.push(format!("{:?} {:?}", rx.try_recv(), rx.try_recv()));
            log.push(format!("{:?} {:?}", rx2.try_recv(), rx2.try_recv()));
            drop(rx2);
            {
                let mut c = pin!(tx.closed());
                log.push(poll_text(c.as_mut(), &waker));
                let d = catch_unwind(AssertUnwindSafe(|| drop(rx)));
                log.push(format!("last rx drop: {:?}", d.map_err(|_| "panicked")));
                log.push(format!("rc {}", tx.receiver_count()));
                log.push(format!(
                    "{:?}",
                    c.as_mut().poll(&mut Context::from_waker(Waker::noop()))
                ));
            }
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}

/// A leaked (`mem::forget`) receiver stays counted for ever: values stay
/// held for it until overwritten, `closed()` never resolves, sends keep
/// counting it; a leaked sender keeps the channel open.
#[test]
fn leaked_handles_behave_as_with_tokio() {
    macro_rules! scenario {
        ($m:ident) => {{
            let mut log = Vec::new();
            let (tx, rx) = $m::channel::<u8>(2);
            let mut rx2 = tx.subscribe();
            std::mem::forget(rx);
            for i in 0..3 {
                log.push(format!("{:?}", tx.send(i)));
            }
            log.push(format!(
                "{:?} {:?} {:?}",
                rx2.try_recv(),
                rx2.try_recv(),
                rx2.try_recv()
            ));
            log.push(format!("len {} rc {}", tx.len(), tx.receiver_count()));
            drop(rx2);
            log.push(format!(
                "len {} rc {} closed {:?}",
                tx.len(),
                tx.receiver_count(),
                pin!(tx.closed()).poll(&mut Context::from_waker(Waker::noop()))
            ));
            let mut rx3 = tx.subscribe();
            std::mem::forget(tx.clone());
            drop(tx);
            log.push(format!(
                "{} {:?} {}",
                rx3.is_closed(),
                rx3.try_recv(),
                rx3.sender_strong_count()
            ));
            log
        }};
    }
    assert_eq!(scenario!(ours), scenario!(theirs));
}
