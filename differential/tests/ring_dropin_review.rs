//! Hostile drop-in review of ring-spmc and ring-mpmc against photon-ring
//! 3.0's `channel` API: signatures (as fn-pointer coercions), trait sets of
//! every public type, `Debug` strings, payload types other than `u64`, and
//! edge cases (empty buffers, watermarks, rings nobody gates, huge
//! capacities, …), each run on both crates through a `use … as photon_ring`
//! style macro taking the crate's name, and the results compared.
//!
//! Each test asserts photon-ring's behaviour; all pass. The differences
//! the review found that a compiling test cannot show (photon's
//! `hugepages`-only `mlock`/`prefault`, extra names in glob imports,
//! inherent methods shadowing extension traits) are listed in ring-spmc's
//! crate docs, "Differences from photon-ring 3". The random-sequence suites (`spmc.rs`,
//! `mpmc.rs`) and `ring_dropin.rs` already cover `u64` operation sequences,
//! the main handles' auto traits, the constructors' panic texts and the
//! module paths; this file does not repeat them.

use std::error::Error;
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::panic::{AssertUnwindSafe, RefUnwindSafe, UnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

/// Runs `f` on its own thread, failing the test if it takes more than 30 s
/// (nothing here should block; this only bounds a regression that spins).
fn bounded<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match seqcast_test_support::within(Duration::from_secs(30), move || {
        catch_unwind(AssertUnwindSafe(f))
    }) {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => resume_unwind(panic),
        Err(()) => panic!("timed out after 30 s"),
    }
}

/// The panic payload of `f` as a string; `None` if it returned.
fn panic_text<R>(f: impl FnOnce() -> R) -> Option<String> {
    let err = catch_unwind(AssertUnwindSafe(f)).err()?;
    Some(if let Some(s) = err.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = err.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "<non-string payload>".to_owned()
    })
}

/// Compares two observation logs line by line, reporting every differing
/// line (not only the first).
#[track_caller]
fn assert_same(what: &str, ours: &[String], photon: &[String]) {
    let mut diffs = Vec::new();
    for i in 0..ours.len().max(photon.len()) {
        let o = ours.get(i).map_or("<missing>", String::as_str);
        let t = photon.get(i).map_or("<missing>", String::as_str);
        if o != t {
            diffs.push(format!("  line {i}: ours {o:?}\n          photon {t:?}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{what}: differs from photon-ring:\n{}",
        diffs.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Signatures (compile-time: a mismatch is a compile error, see the report)
// ---------------------------------------------------------------------------

/// Every in-scope item's signature, as fn-pointer coercions and generic user
/// code, compiles identically against photon-ring, ring-spmc and ring-mpmc.
#[test]
fn spmc_signatures_compile_on_all_three() {
    macro_rules! spmc_user_code {
        ($photon_ring:ident) => {{
            use std::sync::Arc;
            use std::sync::atomic::AtomicU64;
            use $photon_ring::{
                DependencyBarrier, Drain, Padded, Pod, PublishError, Publisher, Subscribable,
                Subscriber, TryRecvError, WaitStrategy, channel, channel_bounded,
            };

            let _: fn(usize) -> (Publisher<u64>, Subscribable<u64>) = channel::<u64>;
            let _: fn(usize, usize) -> (Publisher<u64>, Subscribable<u64>) = channel_bounded::<u64>;

            let _: fn(&mut Publisher<u64>, u64) = Publisher::publish;
            let _: fn(&mut Publisher<u64>, u64) -> Result<(), PublishError<u64>> =
                Publisher::try_publish;
            let _: fn(&mut Publisher<u64>, &[u64]) = Publisher::publish_batch;
            let _: fn(&Publisher<u64>) -> u64 = Publisher::published;
            let _: fn(&Publisher<u64>) -> u64 = Publisher::capacity;
            fn publish_with(p: &mut Publisher<u64>) {
                p.publish_with(|| 1_u64);
                let f: fn() -> u64 = || 2;
                p.publish_with(f);
            }
            let _ = publish_with;

            let _: fn(&Subscribable<u64>) -> Subscriber<u64> = Subscribable::subscribe;
            let _: fn(&Subscribable<u64>) -> Subscriber<u64> = Subscribable::subscribe_lossy;
            let _: fn(&Subscribable<u64>) -> Subscriber<u64> = Subscribable::subscribe_from_oldest;
            let _: fn(&Subscribable<u64>) -> Subscriber<u64> = Subscribable::subscribe_tracked;
            let _: fn(&Subscribable<u64>) -> Subscribable<u64> =
                <Subscribable<u64> as Clone>::clone;

            let _: fn(&mut Subscriber<u64>) -> Result<u64, TryRecvError> = Subscriber::try_recv;
            let _: fn(&mut Subscriber<u64>) -> u64 = Subscriber::recv;
            let _: fn(&mut Subscriber<u64>, WaitStrategy) -> u64 = Subscriber::recv_with;
            let _: fn(&mut Subscriber<u64>) -> Option<u64> = Subscriber::latest;
            let _: fn(&Subscriber<u64>) -> u64 = Subscriber::cursor;
            let _: fn(&Subscriber<u64>) -> u64 = Subscriber::pending;
            let _: fn(&Subscriber<u64>) -> u64 = Subscriber::total_received;
            let _: fn(&Subscriber<u64>) -> u64 = Subscriber::total_lagged;
            let _: fn(&Subscriber<u64>) -> f64 = Subscriber::receive_ratio;
            let _: fn(&mut Subscriber<u64>, &mut [u64]) -> usize = Subscriber::recv_batch;
            let _: for<'a> fn(&'a mut Subscriber<u64>) -> Drain<'a, u64> = Subscriber::drain;
            let _: fn(&Subscriber<u64>) -> Option<Arc<Padded<AtomicU64>>> = Subscriber::tracker;
            let _: fn(&mut Subscriber<u64>, &DependencyBarrier) -> Result<u64, TryRecvError> =
                Subscriber::try_recv_gated;
            let _: fn(&mut Subscriber<u64>, &DependencyBarrier) -> u64 = Subscriber::recv_gated;

            let _: fn(Vec<Arc<Padded<AtomicU64>>>) -> DependencyBarrier = DependencyBarrier::new;
            let _: fn(&[&Subscriber<u64>]) -> DependencyBarrier =
                DependencyBarrier::from_subscribers::<u64>;
            let _: fn(&DependencyBarrier) -> u64 = DependencyBarrier::slowest;
            let _: fn(&DependencyBarrier) -> usize = DependencyBarrier::upstream_count;

            // `Padded`: a public tuple field, any `T`.
            let padded: Padded<AtomicU64> = Padded(AtomicU64::new(3));
            let _: &AtomicU64 = &padded.0;
            let _: Padded<&str> = Padded("any T");

            // `WaitStrategy`: photon's variants, fields, `Default`, `Copy`.
            let all = [
                WaitStrategy::BusySpin,
                WaitStrategy::YieldSpin,
                WaitStrategy::BackoffSpin,
                WaitStrategy::Adaptive {
                    spin_iters: 1_u32,
                    yield_iters: 2_u32,
                },
                WaitStrategy::MonitorWaitFallback,
            ];
            let copy = all[0];
            let _ = (copy, all[0] == WaitStrategy::default());
            let _: fn() -> WaitStrategy = <WaitStrategy as Default>::default;

            // The errors: exhaustive matches and an irrefutable `Full`.
            fn skipped(e: TryRecvError) -> u64 {
                match e {
                    TryRecvError::Empty => 0,
                    TryRecvError::Lagged { skipped } => skipped,
                }
            }
            let _ = skipped;
            fn give_back<T>(e: PublishError<T>) -> T {
                let PublishError::Full(v) = e;
                v
            }
            let _ = give_back::<u64>;

            // `Drain` is an `Iterator` of `T`, with photon's lifetime
            // parameter.
            fn iter<'a>(d: Drain<'a, u64>) -> impl Iterator<Item = u64> + 'a {
                d
            }
            let _ = iter;

            // Generic user code bounded by `Pod`, as photon-ring users write.
            struct Wrapper<T: Pod> {
                p: Publisher<T>,
                s: Subscriber<T>,
            }
            fn echo<T: Pod>(w: &mut Wrapper<T>, v: T) -> Option<T> {
                w.p.publish(v);
                w.s.try_recv().ok()
            }
            let (p, subs) = channel::<u32>(4);
            let mut w = Wrapper {
                s: subs.subscribe(),
                p,
            };
            assert_eq!(echo(&mut w, 7), Some(7));
            // Integer literals infer `i32`, as photon's.
            let (mut p, subs) = channel(4);
            let mut s = subs.subscribe();
            p.publish(1);
            let got = s.try_recv().unwrap();
            let _: i32 = got;
        }};
    }
    spmc_user_code!(photon_ring);
    spmc_user_code!(ring_spmc);
    spmc_user_code!(ring_mpmc);
}

/// The multi-producer items' signatures compile identically against
/// photon-ring and ring-mpmc, at the root and under `channel::`.
#[test]
fn mpmc_signatures_compile_on_both() {
    macro_rules! mpmc_user_code {
        ($photon_ring:ident) => {{
            use $photon_ring::channel::{MpPublisher, Subscribable, channel_mpmc};
            let _: fn(usize) -> (MpPublisher<u64>, Subscribable<u64>) = channel_mpmc::<u64>;
            let _: fn(usize) -> (MpPublisher<u64>, Subscribable<u64>) =
                $photon_ring::channel_mpmc::<u64>;
            let _: fn(&MpPublisher<u64>, u64) = MpPublisher::publish;
            let _: fn(&MpPublisher<u64>) -> u64 = MpPublisher::published;
            let _: fn(&MpPublisher<u64>) -> u64 = MpPublisher::capacity;
            let _: fn(&MpPublisher<u64>) -> MpPublisher<u64> = <MpPublisher<u64> as Clone>::clone;
            fn publish_with(p: &MpPublisher<u64>) {
                p.publish_with(|| 1_u64);
            }
            let _ = publish_with;
            fn shared<T: $photon_ring::Pod>(p: std::sync::Arc<MpPublisher<T>>, v: T) {
                std::thread::spawn(move || p.publish(v)).join().unwrap();
            }
            let (p, subs) = channel_mpmc::<u16>(4);
            let mut s = subs.subscribe();
            shared(std::sync::Arc::new(p), 5);
            assert_eq!(s.try_recv(), Ok(5));
        }};
    }
    mpmc_user_code!(photon_ring);
    mpmc_user_code!(ring_mpmc);
}

// ---------------------------------------------------------------------------
// Trait sets
// ---------------------------------------------------------------------------

/// A `Copy + Send` payload that is not `Sync`: legal for photon's `Pod`
/// (`Copy + Send + 'static`, no padding, every bit pattern valid).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct NotSync(u64, std::marker::PhantomData<std::cell::Cell<()>>);
// SAFETY: one u64, no padding, every bit pattern valid.
unsafe impl photon_ring::Pod for NotSync {}
// SAFETY: as above.
unsafe impl ring_spmc::Pod for NotSync {}

/// A `Copy + Send + Sync` payload that is not `UnwindSafe`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct NotUnwindSafe(u64, std::marker::PhantomData<&'static mut u8>);
// SAFETY: one u64, no padding, every bit pattern valid.
unsafe impl photon_ring::Pod for NotUnwindSafe {}
// SAFETY: as above.
unsafe impl ring_spmc::Pod for NotUnwindSafe {}

/// Runs the test's `run!` on photon-ring, ring_spmc and ring_mpmc and
/// compares ours with photon-ring's.
macro_rules! on_all_three {
    ($run:ident) => {{
        let photon = $run!(photon_ring);
        assert_same("ring_spmc", &$run!(ring_spmc), &photon);
        assert_same("ring_mpmc", &$run!(ring_mpmc), &photon);
    }};
}

/// The traits compared for each handle (`trait_table!`).
macro_rules! trait_set {
    ($t:ty) => {
        seqcast_test_support::trait_table!($t:
            Send, Sync, Unpin, UnwindSafe, RefUnwindSafe, PartialEq, Eq, Clone, Copy,
            Hash, Debug, Default, Display, Error, PartialOrd)
    };
}

/// One row of a trait-set table: a name, ours (`$ours::$t`), photon-ring's.
macro_rules! row {
    ($name:literal, $ours:ident, $($t:tt)+) => {
        (
            $name,
            trait_set!($ours::$($t)+),
            trait_set!(photon_ring::$($t)+),
        )
    };
}

type TraitSet = [(&'static str, bool); 15];

/// Auto traits (the first five) must match exactly; any other trait photon
/// implements must be implemented by ours (additions are listed, not
/// failed: an added impl breaks no photon-ring code).
fn compare_trait_sets(rows: &[(&str, TraitSet, TraitSet)]) {
    let mut diffs = Vec::new();
    for (name, ours, photon) in rows {
        for (i, ((tr, o), (_, t))) in ours.iter().zip(photon.iter()).enumerate() {
            if o != t {
                let line = format!("{name}: {tr}: ours {o}, photon {t}");
                if i < 5 || *t {
                    diffs.push(line);
                } else {
                    eprintln!("added (not a failure): {line}");
                }
            }
        }
    }
    assert!(diffs.is_empty(), "trait sets differ:\n{}", diffs.join("\n"));
}

/// Error types, `WaitStrategy`, `Padded`, `DependencyBarrier` and every
/// handle: same auto traits, and every derive photon has (errors:
/// `Debug, Clone, PartialEq, Eq`; `WaitStrategy`: also `Copy`, `Default`).
#[test]
fn trait_sets_cover_photon_rings() {
    use std::sync::atomic::AtomicU64;
    let rows = vec![
        row!("TryRecvError", ring_spmc, TryRecvError),
        row!("PublishError<u64>", ring_spmc, PublishError<u64>),
        row!("WaitStrategy", ring_spmc, WaitStrategy),
        row!("Padded<AtomicU64>", ring_spmc, Padded<AtomicU64>),
        row!("Padded<u64>", ring_spmc, Padded<u64>),
        row!("DependencyBarrier", ring_spmc, DependencyBarrier),
        row!("Publisher<u64>", ring_spmc, Publisher<u64>),
        row!("Subscribable<u64>", ring_spmc, Subscribable<u64>),
        row!("Subscriber<u64>", ring_spmc, Subscriber<u64>),
        row!("Drain<u64>", ring_spmc, Drain<'static, u64>),
        row!("MpPublisher<u64>", ring_mpmc, MpPublisher<u64>),
    ];
    compare_trait_sets(&rows);
}

/// Auto traits of every handle for payloads that are `Pod` but not `Sync`,
/// or not `UnwindSafe`: photon-ring's `unsafe impl Send/Sync` make its
/// handles ignore the payload's auto traits; ours derive them from fields.
#[test]
fn handle_auto_traits_with_unusual_pod_payloads() {
    macro_rules! rows_for {
        ($t:ty) => {
            vec![
                (
                    concat!("Publisher<", stringify!($t), ">"),
                    trait_set!(ring_spmc::Publisher<$t>),
                    trait_set!(photon_ring::Publisher<$t>),
                ),
                (
                    concat!("Subscribable<", stringify!($t), ">"),
                    trait_set!(ring_spmc::Subscribable<$t>),
                    trait_set!(photon_ring::Subscribable<$t>),
                ),
                (
                    concat!("Subscriber<", stringify!($t), ">"),
                    trait_set!(ring_spmc::Subscriber<$t>),
                    trait_set!(photon_ring::Subscriber<$t>),
                ),
                (
                    concat!("Drain<", stringify!($t), ">"),
                    trait_set!(ring_spmc::Drain<'static, $t>),
                    trait_set!(photon_ring::Drain<'static, $t>),
                ),
                (
                    concat!("MpPublisher<", stringify!($t), ">"),
                    trait_set!(ring_mpmc::MpPublisher<$t>),
                    trait_set!(photon_ring::MpPublisher<$t>),
                ),
                (
                    concat!("PublishError<", stringify!($t), ">"),
                    trait_set!(ring_spmc::PublishError<$t>),
                    trait_set!(photon_ring::PublishError<$t>),
                ),
            ]
        };
    }
    let mut rows = rows_for!(NotSync);
    rows.extend(rows_for!(NotUnwindSafe));
    rows.extend(rows_for!([u8; 3]));
    rows.extend(rows_for!(()));
    compare_trait_sets(&rows);
}

/// `Drain`'s iterator traits: photon's is a plain `Iterator` (not fused,
/// not exact-size, default `size_hint`).
#[test]
fn drain_iterator_traits_match() {
    let ours = [
        seqcast_test_support::implements!(ring_spmc::Drain<'static, u64>: std::iter::FusedIterator),
        seqcast_test_support::implements!(ring_spmc::Drain<'static, u64>: ExactSizeIterator),
        seqcast_test_support::implements!(ring_spmc::Drain<'static, u64>: DoubleEndedIterator),
    ];
    let photon = [
        seqcast_test_support::implements!(photon_ring::Drain<'static, u64>: std::iter::FusedIterator),
        seqcast_test_support::implements!(photon_ring::Drain<'static, u64>: ExactSizeIterator),
        seqcast_test_support::implements!(photon_ring::Drain<'static, u64>: DoubleEndedIterator),
    ];
    assert_eq!(ours, photon);
}

// ---------------------------------------------------------------------------
// Debug strings
// ---------------------------------------------------------------------------

/// `Debug` (plain and `{:#?}`) of the error types and of every
/// `WaitStrategy` variant photon has is photon's, character for character.
#[test]
fn debug_strings_match() {
    macro_rules! strings {
        ($photon_ring:ident) => {{
            use $photon_ring::{PublishError, TryRecvError, WaitStrategy};
            let mut v = Vec::new();
            for e in [TryRecvError::Empty, TryRecvError::Lagged { skipped: 3 }] {
                v.push(format!("{e:?}"));
                v.push(format!("{e:#?}"));
            }
            let full: PublishError<u64> = PublishError::Full(9);
            v.push(format!("{full:?}"));
            v.push(format!("{full:#?}"));
            let full: PublishError<[u8; 2]> = PublishError::Full([1, 2]);
            v.push(format!("{full:?}"));
            for w in [
                WaitStrategy::BusySpin,
                WaitStrategy::YieldSpin,
                WaitStrategy::BackoffSpin,
                WaitStrategy::Adaptive {
                    spin_iters: 5,
                    yield_iters: 6,
                },
                WaitStrategy::MonitorWaitFallback,
                WaitStrategy::default(),
            ] {
                v.push(format!("{w:?}"));
                v.push(format!("{w:#?}"));
            }
            v
        }};
    }
    let photon = strings!(photon_ring);
    assert_same("ring_spmc", &strings!(ring_spmc), &photon);
    assert_same("ring_mpmc", &strings!(ring_mpmc), &photon);
}

// ---------------------------------------------------------------------------
// Edge cases, run on both
// ---------------------------------------------------------------------------

/// `latest()` values and cursors: `None` on an empty ring; the value
/// published before subscribing; the newest after a lap; the newest again
/// when nothing is new. (The counters differ as documented; not compared.)
#[test]
fn latest_edges() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel::<u64>(4);
                let mut s = subs.subscribe();
                v.push(format!(
                    "empty latest {:?} cursor {}",
                    s.latest(),
                    s.cursor()
                ));
                v.push(format!("empty pending {}", s.pending()));
                p.publish(10);
                p.publish(11);
                let mut s2 = subs.subscribe();
                v.push(format!(
                    "pre-subscribe latest {:?} cursor {}",
                    s2.latest(),
                    s2.cursor()
                ));
                p.publish_batch(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
                v.push(format!(
                    "lapped latest {:?} cursor {}",
                    s.latest(),
                    s.cursor()
                ));
                v.push(format!("then try_recv {:?}", s.try_recv()));
                v.push(format!(
                    "again latest {:?} cursor {}",
                    s.latest(),
                    s.cursor()
                ));
                v.push(format!(
                    "s2 try_recv {:?} cursor {}",
                    s2.try_recv(),
                    s2.cursor()
                ));
                let mut s3 = subs.subscribe_from_oldest();
                v.push(format!(
                    "oldest latest {:?} cursor {}",
                    s3.latest(),
                    s3.cursor()
                ));
                // Bounded: latest frees the gate.
                let (mut p, subs) = $photon_ring::channel_bounded::<u64>(4, 0);
                let mut g = subs.subscribe();
                for i in 0..4 {
                    p.try_publish(i).unwrap();
                }
                v.push(format!("bounded full {:?}", p.try_publish(99)));
                v.push(format!(
                    "bounded latest {:?} cursor {}",
                    g.latest(),
                    g.cursor()
                ));
                v.push(format!("bounded after latest {:?}", p.try_publish(4)));
                v
            })
        };
    }
    on_all_three!(run);
}

/// `try_publish` on a lossy channel always publishes (photon: "always
/// succeeds"), laps subscribers, and counts.
#[test]
fn try_publish_on_a_lossy_channel() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel::<u64>(3);
                let mut s = subs.subscribe();
                let results: Vec<_> = (0..11).map(|i| p.try_publish(i)).collect();
                v.push(format!("{results:?}"));
                v.push(format!("published {}", p.published()));
                v.push(format!("{:?}", s.try_recv()));
                v.push(format!(
                    "{:?} pending {}",
                    s.drain().collect::<Vec<_>>(),
                    s.pending()
                ));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}

/// Bounded rings nobody gates: no subscriber yet, all gating subscribers
/// dropped, only lossy taps: `try_publish` never refuses; a new `subscribe`
/// gates again after `capacity - watermark`.
#[test]
fn bounded_ring_with_nobody_gating() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel_bounded::<u64>(4, 1);
                let r: Vec<_> = (0..10).map(|i| p.try_publish(i).is_ok()).collect();
                v.push(format!("no subscriber {r:?}"));
                let s = subs.subscribe();
                let mut n = 0;
                while n < 100 && p.try_publish(n).is_ok() {
                    n += 1;
                }
                v.push(format!("one gating: {n} until Full"));
                drop(s);
                let r: Vec<_> = (0..10).map(|i| p.try_publish(i).is_ok()).collect();
                v.push(format!("all dropped {r:?}"));
                let mut tap = subs.subscribe_lossy();
                let r: Vec<_> = (0..10).map(|i| p.try_publish(i).is_ok()).collect();
                v.push(format!("only a tap {r:?}"));
                v.push(format!(
                    "tap {:?} tracker {:?}",
                    tap.try_recv(),
                    tap.tracker().is_some()
                ));
                let mut s = subs.subscribe();
                let mut n = 0;
                while n < 100 && p.try_publish(n).is_ok() {
                    n += 1;
                }
                v.push(format!(
                    "gating again: {n} until Full, published {}",
                    p.published()
                ));
                v.push(format!("read {:?}", s.try_recv()));
                v.push(format!("then {:?}", p.try_publish(7)));
                v.push(format!("then {:?}", p.try_publish(8)));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}

/// Every watermark of small capacities, watermark 0 and `capacity - 1`
/// included: how many `try_publish` succeed before `Full`, before and after
/// one read, and what `Full` hands back.
#[test]
fn every_watermark_of_small_capacities() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                for cap in [2_usize, 3, 4, 5, 7, 8] {
                    for wm in 0..cap {
                        let (mut p, subs) = $photon_ring::channel_bounded::<u64>(cap, wm);
                        let mut s = subs.subscribe();
                        let mut n = 0;
                        while n < 100 && p.try_publish(n).is_ok() {
                            n += 1;
                        }
                        let full = p.try_publish(1000);
                        let before = p.published();
                        let read = s.try_recv();
                        let mut m = 0;
                        while m < 100 && p.try_publish(m).is_ok() {
                            m += 1;
                        }
                        v.push(format!(
                            "cap {cap} wm {wm}: {n} then {full:?} published {before} read {read:?} then {m} pending {}",
                            s.pending()
                        ));
                    }
                }
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}

/// `subscribe_from_oldest`: start, tracker presence and value, and (bounded,
/// nobody else gating) whether the very next publish is refused.
#[test]
fn subscribe_from_oldest_edges() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel::<u64>(4);
                let s = subs.subscribe_from_oldest();
                v.push(format!(
                    "lossy fresh cursor {} tracker {:?}",
                    s.cursor(),
                    s.tracker().is_some()
                ));
                p.publish_batch(&[1, 2, 3, 4, 5, 6]);
                let mut s = subs.subscribe_from_oldest();
                v.push(format!(
                    "lossy lapped cursor {} pending {}",
                    s.cursor(),
                    s.pending()
                ));
                v.push(format!("drain {:?}", s.drain().collect::<Vec<_>>()));

                let (mut p, subs) = $photon_ring::channel_bounded::<u64>(4, 0);
                for i in 0..10 {
                    p.try_publish(i).unwrap();
                }
                let mut s = subs.subscribe_from_oldest();
                let t = s
                    .tracker()
                    .map(|t| t.0.load(std::sync::atomic::Ordering::SeqCst));
                v.push(format!(
                    "bounded cursor {} tracker {t:?} pending {}",
                    s.cursor(),
                    s.pending()
                ));
                v.push(format!("next publish {:?}", p.try_publish(10)));
                v.push(format!("read {:?}", s.try_recv()));
                v.push(format!("next publish {:?}", p.try_publish(11)));
                v.push(format!("drain {:?}", s.drain().collect::<Vec<_>>()));

                // Fewer than `capacity` published: starts at 0.
                let (mut p, subs) = $photon_ring::channel_bounded::<u64>(4, 0);
                p.try_publish(1).unwrap();
                p.try_publish(2).unwrap();
                let mut s = subs.subscribe_from_oldest();
                v.push(format!(
                    "partial cursor {} pending {}",
                    s.cursor(),
                    s.pending()
                ));
                let mut n = 0;
                while n < 100 && p.try_publish(n).is_ok() {
                    n += 1;
                }
                v.push(format!("partial: {n} more until Full"));
                v.push(format!("drain {:?}", s.drain().collect::<Vec<_>>()));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}

/// `recv_batch` with an empty buffer (also on a lagged subscriber: photon
/// reads nothing, so the lag stays unreported), with a short buffer after a
/// lap, and with a buffer longer than the ring.
#[test]
fn recv_batch_edges() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel::<u64>(4);
                let mut s = subs.subscribe();
                v.push(format!("empty ring, empty buf {}", s.recv_batch(&mut [])));
                p.publish_batch(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
                v.push(format!("lapped, empty buf {}", s.recv_batch(&mut [])));
                v.push(format!(
                    "cursor {} lagged {} received {} pending {}",
                    s.cursor(),
                    s.total_lagged(),
                    s.total_received(),
                    s.pending()
                ));
                let mut buf = [0_u64; 3];
                let n = s.recv_batch(&mut buf);
                v.push(format!(
                    "short buf {n} {buf:?} lagged {} cursor {}",
                    s.total_lagged(),
                    s.cursor()
                ));
                let mut buf = [0_u64; 9];
                let n = s.recv_batch(&mut buf);
                v.push(format!("long buf {n} {buf:?}"));
                p.publish_batch(&[20, 21, 22, 23, 24, 25, 26, 27, 28]);
                let mut buf = [0_u64; 9];
                let n = s.recv_batch(&mut buf);
                v.push(format!(
                    "lapped long buf {n} {buf:?} lagged {} ratio {}",
                    s.total_lagged(),
                    s.receive_ratio()
                ));
                v
            })
        };
    }
    on_all_three!(run);
}

/// `Drain`: `size_hint`, lag skipped and counted, and not fused (a value
/// published after it returned `None` is yielded by the same iterator).
#[test]
fn drain_edges() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel::<u64>(4);
                let mut s = subs.subscribe();
                {
                    let mut d = s.drain();
                    v.push(format!("size_hint {:?}", d.size_hint()));
                    v.push(format!("empty {:?}", d.next()));
                    p.publish_batch(&[0, 1, 2, 3, 4, 5, 6]);
                    v.push(format!("after publish {:?}", d.next()));
                    v.push(format!("size_hint {:?}", d.size_hint()));
                    v.push(format!("rest {:?}", d.by_ref().collect::<Vec<_>>()));
                    v.push(format!("done {:?}", d.next()));
                    p.publish(42);
                    v.push(format!("not fused {:?}", d.next()));
                }
                v.push(format!(
                    "lagged {} received {}",
                    s.total_lagged(),
                    s.total_received()
                ));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}

/// Payloads other than `u64`: zero-sized, odd-sized, 16-byte-aligned,
/// large, and over-aligned (128); lag counts and values on lossy, bounded
/// and multi-producer rings.
#[test]
fn unusual_payload_types() {
    /// 128-byte aligned, 128 bytes, no padding.
    #[repr(C, align(128))]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Aligned128([u64; 16]);
    // SAFETY: sixteen u64, no padding, every bit pattern valid.
    unsafe impl photon_ring::Pod for Aligned128 {}
    // SAFETY: as above.
    unsafe impl ring_spmc::Pod for Aligned128 {}

    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                fn one<T: $photon_ring::Pod + Debug>(vals: [T; 7]) -> Vec<String> {
                    let mut v = Vec::new();
                    let (mut p, subs) = $photon_ring::channel::<T>(3);
                    let mut s = subs.subscribe();
                    for x in vals {
                        p.publish(x);
                    }
                    v.push(format!(
                        "lossy {:?} {:?}",
                        s.try_recv(),
                        s.drain().collect::<Vec<_>>()
                    ));
                    v.push(format!("latest {:?}", s.latest()));
                    let (mut p, subs) = $photon_ring::channel_bounded::<T>(3, 0);
                    let mut s = subs.subscribe();
                    let r: Vec<_> = vals.iter().map(|x| p.try_publish(*x).is_ok()).collect();
                    v.push(format!("bounded {r:?} {:?}", s.drain().collect::<Vec<_>>()));
                    let (p, subs) = $photon_ring::channel_mpmc::<T>(3);
                    let mut s = subs.subscribe();
                    for x in vals {
                        p.publish(x);
                    }
                    v.push(format!(
                        "mpmc {:?} {:?}",
                        s.try_recv(),
                        s.drain().collect::<Vec<_>>()
                    ));
                    v
                }
                let mut v = Vec::new();
                v.extend(one([(); 7]));
                v.extend(one([[0_u8; 0]; 7]));
                v.extend(one([
                    [1_u8, 2, 3],
                    [4, 5, 6],
                    [7, 8, 9],
                    [10, 11, 12],
                    [13, 14, 15],
                    [16, 17, 18],
                    [19, 20, 21],
                ]));
                v.extend(one([1_u128 << 100, 2, 3, u128::MAX, 5, 6, 7]));
                v.extend(one([(1_u16,), (2,), (3,), (4,), (5,), (6,), (7,)]));
                v.extend(one([
                    [7_u64; 40],
                    [8; 40],
                    [9; 40],
                    [10; 40],
                    [11; 40],
                    [12; 40],
                    [13; 40],
                ]));
                v.extend(one([
                    -1.5_f32,
                    0.0,
                    -0.0,
                    f32::MAX,
                    f32::MIN_POSITIVE,
                    1e-40,
                    3.0,
                ]));
                v.extend(one(std::array::from_fn::<_, 7, _>(|i| {
                    Aligned128([i as u64; 16])
                })));
                v.extend(one(std::array::from_fn::<_, 7, _>(|i| {
                    NotSync(i as u64, std::marker::PhantomData)
                })));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_mpmc", &run!(ring_mpmc), &photon);
}

/// Barriers: initial `slowest()`, gating, a hand-made tracker, a tracker of
/// a lagged upstream, and a lagged downstream behind a barrier that lets it
/// through.
#[test]
fn barrier_edges() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                use std::sync::Arc;
                use std::sync::atomic::{AtomicU64, Ordering};
                use $photon_ring::{DependencyBarrier, Padded, TryRecvError};
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel::<u64>(4);
                p.publish(100);
                let mut up = subs.subscribe_tracked();
                let b = DependencyBarrier::from_subscribers(&[&up]);
                let mut down = subs.subscribe();
                v.push(format!(
                    "slowest {} count {}",
                    b.slowest(),
                    b.upstream_count()
                ));
                p.publish(1);
                v.push(format!("gated {:?}", down.try_recv_gated(&b)));
                v.push(format!("up {:?} slowest {}", up.try_recv(), b.slowest()));
                v.push(format!("gated {:?}", down.try_recv_gated(&b)));
                let manual =
                    DependencyBarrier::new(vec![Arc::new(Padded(AtomicU64::new(u64::MAX)))]);
                p.publish_batch(&[2, 3, 4, 5, 6, 7, 8, 9]);
                v.push(format!(
                    "down behind open barrier {:?}",
                    down.try_recv_gated(&manual)
                ));
                v.push(format!(
                    "then {:?} cursor {}",
                    down.try_recv_gated(&manual),
                    down.cursor()
                ));
                v.push(format!("up lagged {:?}", up.try_recv()));
                let t = up.tracker().unwrap();
                v.push(format!(
                    "up tracker {} slowest {}",
                    t.0.load(Ordering::SeqCst),
                    b.slowest()
                ));
                let two =
                    DependencyBarrier::new(vec![t.clone(), Arc::new(Padded(AtomicU64::new(3)))]);
                v.push(format!(
                    "two slowest {} count {}",
                    two.slowest(),
                    two.upstream_count()
                ));
                v.push(format!("behind manual 3 {:?}", down.try_recv_gated(&two)));
                v.push(format!("recv_gated {}", down.recv_gated(&manual)));
                // A bounded subscriber's tracker.
                let (mut p, subs) = $photon_ring::channel_bounded::<u64>(4, 0);
                p.publish(1);
                let mut g = subs.subscribe();
                let t = g.tracker().unwrap();
                v.push(format!("bounded tracker {}", t.0.load(Ordering::SeqCst)));
                p.publish(2);
                let _ = g.try_recv();
                v.push(format!("bounded tracker {}", t.0.load(Ordering::SeqCst)));
                let tap = subs.subscribe_lossy();
                v.push(format!("tap tracker {:?}", tap.tracker().is_some()));
                let e: Result<u64, TryRecvError> = Err(TryRecvError::Empty);
                v.push(format!("{e:?}"));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}

/// `recv`, `recv_with` (every photon strategy) and `recv_gated` with a
/// value ready return it at once, after a lap too.
#[test]
fn blocking_receives_with_a_value_ready() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                use $photon_ring::WaitStrategy;
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel::<u64>(4);
                let mut s = subs.subscribe();
                p.publish_batch(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
                v.push(format!("recv after lap {}", s.recv()));
                for w in [
                    WaitStrategy::BusySpin,
                    WaitStrategy::YieldSpin,
                    WaitStrategy::BackoffSpin,
                    WaitStrategy::Adaptive {
                        spin_iters: 0,
                        yield_iters: 0,
                    },
                    WaitStrategy::MonitorWaitFallback,
                ] {
                    p.publish(p.published() * 10);
                    v.push(format!("{w:?} {}", s.recv_with(w)));
                }
                p.publish_batch(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
                v.push(format!(
                    "recv_with after lap {}",
                    s.recv_with(WaitStrategy::default())
                ));
                v.push(format!(
                    "lagged {} received {}",
                    s.total_lagged(),
                    s.total_received()
                ));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}

/// Multi-producer edges, single-threaded: every subscribe kind, `published`,
/// `capacity`, `publish_with`, lag, `latest`, `pending`, clones.
#[test]
fn mpmc_edges() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                let (p, subs) = $photon_ring::channel_mpmc::<u64>(3);
                let mut s = subs.subscribe();
                let mut oldest = subs.subscribe_from_oldest();
                let mut lossy = subs.subscribe_lossy();
                let tracked = subs.subscribe_tracked();
                v.push(format!(
                    "cap {} published {} trackers {:?}",
                    p.capacity(),
                    p.published(),
                    [
                        s.tracker().is_some(),
                        oldest.tracker().is_some(),
                        lossy.tracker().is_some(),
                        tracked.tracker().is_some()
                    ]
                ));
                v.push(format!("latest {:?}", s.latest()));
                p.publish_with(|| 5);
                let q = p.clone();
                q.publish(6);
                v.push(format!(
                    "published {} {} pending {}",
                    p.published(),
                    q.published(),
                    s.pending()
                ));
                v.push(format!("{:?} {:?}", s.try_recv(), s.try_recv()));
                for i in 0..7 {
                    q.publish(i);
                }
                v.push(format!(
                    "oldest {:?} lossy {:?}",
                    oldest.try_recv(),
                    lossy.try_recv()
                ));
                v.push(format!("latest {:?} cursor {}", s.latest(), s.cursor()));
                let mut late = subs.subscribe_from_oldest();
                v.push(format!(
                    "late oldest {} {:?}",
                    late.cursor(),
                    late.drain().collect::<Vec<_>>()
                ));
                let mut buf = [0_u64; 2];
                v.push(format!("batch {} {buf:?}", lossy.recv_batch(&mut buf)));
                drop(p);
                q.publish(77);
                v.push(format!("after a clone dropped {:?}", s.try_recv()));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_mpmc", &run!(ring_mpmc), &photon);
}

/// `channel_mpmc`'s panics for a capacity below 2: photon's text
/// ("capacity must be at least 2") must be in ours, as for `channel`
/// (`ring_dropin.rs` checks the single-producer constructors only).
#[test]
fn channel_mpmc_panic_texts_contain_photon_rings() {
    for cap in [0_usize, 1] {
        let photon = panic_text(|| photon_ring::channel_mpmc::<u64>(cap)).expect("photon panics");
        let ours = panic_text(|| ring_mpmc::channel_mpmc::<u64>(cap)).expect("ours panics");
        assert!(
            ours.contains(&photon),
            "capacity {cap}: ours {ours:?}, photon {photon:?}"
        );
    }
}

/// Capacities no machine can allocate panic on both (photon: `capacity
/// overflow` from its slot `Vec`), rather than abort or succeed.
#[test]
fn absurd_capacities_panic_on_both() {
    for cap in [usize::MAX, (1 << 62) + 1, 1 << 62] {
        let t = panic_text(|| photon_ring::channel::<u8>(cap));
        let o = panic_text(|| ring_spmc::channel::<u8>(cap));
        assert!(
            t.is_some() && o.is_some(),
            "channel({cap}): ours {o:?}, photon {t:?}"
        );
        let t = panic_text(|| photon_ring::channel_bounded::<u8>(cap, 0));
        let o = panic_text(|| ring_spmc::channel_bounded::<u8>(cap, 0));
        assert!(
            t.is_some() && o.is_some(),
            "channel_bounded({cap}): ours {o:?}, photon {t:?}"
        );
        let t = panic_text(|| photon_ring::channel_mpmc::<u8>(cap));
        let o = panic_text(|| ring_mpmc::channel_mpmc::<u8>(cap));
        assert!(
            t.is_some() && o.is_some(),
            "channel_mpmc({cap}): ours {o:?}, photon {t:?}"
        );
    }
}

/// After the publisher is dropped: photon's subscribers keep reading what
/// is retained, `try_recv` then reports `Empty`, `latest` still returns the
/// newest, and new subscribers can be created.
#[test]
fn reading_after_the_publisher_is_dropped() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                let (mut p, subs) = $photon_ring::channel::<u64>(4);
                let mut s = subs.subscribe();
                p.publish_batch(&[1, 2, 3, 4, 5]);
                drop(p);
                v.push(format!("{:?}", s.drain().collect::<Vec<_>>()));
                v.push(format!("{:?} pending {}", s.try_recv(), s.pending()));
                v.push(format!("latest {:?}", s.latest()));
                let mut late = subs.subscribe_from_oldest();
                v.push(format!(
                    "late {} {:?}",
                    late.cursor(),
                    late.drain().collect::<Vec<_>>()
                ));
                let mut buf = [0; 2];
                v.push(format!("batch {}", s.recv_batch(&mut buf)));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}

/// Across threads (at most two busy at once): a bounded ring delivers every
/// value in order to a gating subscriber that `recv`s on another thread
/// while the publisher `publish`es and `publish_batch`es many laps' worth;
/// counters end the same on both crates.
#[test]
fn bounded_ring_across_threads_loses_nothing() {
    let _turn = seqcast_test_support::one_at_a_time();
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                const N: u64 = 20_000;
                let (mut p, subs) = $photon_ring::channel_bounded::<u64>(8, 2);
                let mut s = subs.subscribe();
                let consumer = std::thread::spawn(move || {
                    let mut next = 0;
                    while next < 2 * N {
                        let v = s.recv();
                        assert_eq!(v, next, "out of order or lost");
                        next += 1;
                    }
                    (
                        s.total_received(),
                        s.total_lagged(),
                        s.pending(),
                        s.cursor(),
                    )
                });
                for i in 0..N {
                    p.publish(i);
                }
                let batch: Vec<u64> = (N..2 * N).collect();
                for chunk in batch.chunks(13) {
                    p.publish_batch(chunk);
                }
                let counts = consumer.join().unwrap();
                format!("{counts:?} published {}", p.published())
            })
        };
    }
    let photon = run!(photon_ring);
    assert_eq!(run!(ring_spmc), photon);
}

/// Two producer threads on a multi-producer ring big enough to hold
/// everything, then one subscriber: each producer's values in order, none
/// lost, `published()` the total, on both crates.
#[test]
fn mpmc_two_producers_then_drain() {
    let _turn = seqcast_test_support::one_at_a_time();
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                const N: u64 = 10_000;
                let (p, subs) = $photon_ring::channel_mpmc::<[u64; 2]>(4 * N as usize);
                let mut s = subs.subscribe();
                let q = p.clone();
                let t = std::thread::spawn(move || {
                    for i in 0..N {
                        q.publish([1, i]);
                    }
                });
                for i in 0..N {
                    p.publish_with(|| [0, i]);
                }
                t.join().unwrap();
                let mut next = [0_u64; 2];
                for [id, i] in s.drain() {
                    assert_eq!(i, next[id as usize]);
                    next[id as usize] += 1;
                }
                format!(
                    "{next:?} published {} lagged {}",
                    p.published(),
                    s.total_lagged()
                )
            })
        };
    }
    let photon = run!(photon_ring);
    assert_eq!(run!(ring_mpmc), photon);
}

/// A panicking `publish_with` closure (single producer) publishes nothing
/// and leaves the ring usable: the next publish takes the same sequence.
/// Also a barrier over another ring's (other payload type's) subscriber,
/// which photon's untyped `DependencyBarrier` allows.
#[test]
fn publish_with_panic_and_cross_ring_barrier() {
    macro_rules! run {
        ($photon_ring:ident) => {
            bounded(|| {
                let mut v = Vec::new();
                for bounded_ring in [false, true] {
                    let (mut p, subs) = if bounded_ring {
                        $photon_ring::channel_bounded::<u64>(4, 0)
                    } else {
                        $photon_ring::channel::<u64>(4)
                    };
                    let mut s = subs.subscribe();
                    let r = catch_unwind(AssertUnwindSafe(|| p.publish_with(|| panic!("boom"))));
                    v.push(format!(
                        "panicked {} published {} {:?}",
                        r.is_err(),
                        p.published(),
                        s.try_recv()
                    ));
                    p.publish(5);
                    v.push(format!(
                        "{:?} {:?} pending {}",
                        s.try_recv(),
                        s.try_recv(),
                        s.pending()
                    ));
                }
                let (mut p8, subs8) = $photon_ring::channel::<u8>(4);
                let mut up = subs8.subscribe_tracked();
                let barrier = $photon_ring::DependencyBarrier::from_subscribers(&[&up]);
                let (mut p64, subs64) = $photon_ring::channel::<u64>(4);
                let mut down = subs64.subscribe();
                p64.publish(64);
                v.push(format!("cross {:?}", down.try_recv_gated(&barrier)));
                p8.publish(8);
                let _ = up.try_recv();
                v.push(format!("cross {:?}", down.try_recv_gated(&barrier)));
                v
            })
        };
    }
    let photon = run!(photon_ring);
    assert_same("ring_spmc", &run!(ring_spmc), &photon);
}
