//! ring-spmc against photon-ring 3.0: seeded random sequences of every
//! single-threaded operation of photon's channel API on lossy and bounded
//! rings of any capacity ≥ 2 (powers of two and not), with every result,
//! lag count, counter, cursor, tracker and `Debug` string compared.
//!
//! The differences ring-spmc documents (crate docs, "Differences from
//! photon-ring 3") are applied to photon's numbers before comparing, never
//! skipped: `latest()` counts what it skips as lag and does not count a
//! re-read of the newest value as received; a dropped upstream's tracker
//! reads `u64::MAX` in a `DependencyBarrier`. Operations that would spin
//! forever in photon (a blocking `publish` on a full bounded ring, `recv`
//! with nothing to read) are called only when they return at once.
//!
//! Also checked: the auto traits of every public type match photon's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use seqcast_differential::Rng;

use photon_ring as theirs;
use ring_spmc as ours;

struct Sub {
    ours: ours::Subscriber<u64>,
    theirs: theirs::Subscriber<u64>,
    /// A registered tracker on a bounded ring: gates the publisher.
    gating: bool,
    /// Re-reads of the newest value by `latest()`: photon counts them as
    /// received, ring-spmc does not.
    rereads: u64,
    /// Values `latest()` skipped: ring-spmc counts them as lag.
    latest_skips: u64,
    id: usize,
}

struct Barrier {
    ours: ours::DependencyBarrier,
    theirs: theirs::DependencyBarrier,
    /// (subscriber id, photon's tracker), for the expected value once an
    /// upstream is dropped.
    ups: Vec<(usize, Arc<theirs::Padded<AtomicU64>>)>,
}

fn value(seq: u64) -> u64 {
    seq.wrapping_mul(0x9E37_79B9) ^ 0x5A5A
}

fn strategy(rng: &mut Rng) -> (ours::WaitStrategy, theirs::WaitStrategy) {
    match rng.below(5) {
        0 => (ours::WaitStrategy::BusySpin, theirs::WaitStrategy::BusySpin),
        1 => (
            ours::WaitStrategy::YieldSpin,
            theirs::WaitStrategy::YieldSpin,
        ),
        2 => (
            ours::WaitStrategy::BackoffSpin,
            theirs::WaitStrategy::BackoffSpin,
        ),
        3 => (
            ours::WaitStrategy::Adaptive {
                spin_iters: 4,
                yield_iters: 4,
            },
            theirs::WaitStrategy::Adaptive {
                spin_iters: 4,
                yield_iters: 4,
            },
        ),
        _ => (
            ours::WaitStrategy::MonitorWaitFallback,
            theirs::WaitStrategy::MonitorWaitFallback,
        ),
    }
}

const CAPACITIES: [usize; 14] = [2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 31, 64];

fn run(seed: u64, steps: usize, ran: &mut BTreeMap<&'static str, usize>) {
    let mut rng = Rng::new(seed);
    let capacity = CAPACITIES[rng.below(CAPACITIES.len())];
    let bounded = rng.below(2) == 0;
    let watermark = rng.below(capacity);
    let ((mut op, osubs), (mut tp, tsubs)) = if bounded {
        (
            ours::channel_bounded::<u64>(capacity, watermark),
            theirs::channel_bounded::<u64>(capacity, watermark),
        )
    } else {
        (
            ours::channel::<u64>(capacity),
            theirs::channel::<u64>(capacity),
        )
    };
    assert_eq!(op.capacity(), tp.capacity());
    let window = capacity as u64 - if bounded { watermark as u64 } else { 0 };
    let mut subs: Vec<Sub> = Vec::new();
    let mut barriers: Vec<Barrier> = Vec::new();
    let mut next_id = 0;
    // How many more values the publisher may write without waiting (the
    // model photon and ring-spmc must agree with).
    let room = |subs: &Vec<Sub>, published: u64| -> u64 {
        if !bounded {
            return u64::MAX;
        }
        match subs
            .iter()
            .filter(|s| s.gating)
            .map(|s| s.ours.cursor())
            .min()
        {
            None => u64::MAX,
            Some(slowest) => (slowest + window).saturating_sub(published),
        }
    };
    for step in 0..steps {
        let published = op.published();
        let (what, a, b): (&'static str, String, String) = match rng.below(20) {
            0 | 1 => {
                let r = op.try_publish(value(published));
                let t = tp.try_publish(value(published));
                ("try_publish", format!("{r:?}"), format!("{t:?}"))
            }
            2 if room(&subs, published) > 0 => {
                if rng.below(2) == 0 {
                    op.publish(value(published));
                    tp.publish(value(published));
                } else {
                    op.publish_with(|| value(published));
                    tp.publish_with(|| value(published));
                }
                (
                    "publish",
                    op.published().to_string(),
                    tp.published().to_string(),
                )
            }
            3 => {
                let max = room(&subs, published).min(3 * capacity as u64) as usize;
                let n = rng.below(max + 1);
                let vals: Vec<u64> = (published..published + n as u64).map(value).collect();
                op.publish_batch(&vals);
                tp.publish_batch(&vals);
                (
                    "publish_batch",
                    op.published().to_string(),
                    tp.published().to_string(),
                )
            }
            4 if subs.len() < 6 => {
                let kind = rng.below(4);
                let (o, t, name) = match kind {
                    0 => (osubs.subscribe(), tsubs.subscribe(), "subscribe"),
                    1 => (
                        osubs.subscribe_lossy(),
                        tsubs.subscribe_lossy(),
                        "subscribe_lossy",
                    ),
                    2 => (
                        osubs.subscribe_from_oldest(),
                        tsubs.subscribe_from_oldest(),
                        "subscribe_from_oldest",
                    ),
                    _ => (
                        osubs.subscribe_tracked(),
                        tsubs.subscribe_tracked(),
                        "subscribe_tracked",
                    ),
                };
                let gating = bounded && kind != 1;
                let a = format!(
                    "{} {:?}",
                    o.cursor(),
                    o.tracker().map(|t| t.0.load(Ordering::Relaxed))
                );
                let b = format!(
                    "{} {:?}",
                    t.cursor(),
                    t.tracker().map(|t| t.0.load(Ordering::Relaxed))
                );
                subs.push(Sub {
                    ours: o,
                    theirs: t,
                    gating,
                    rereads: 0,
                    latest_skips: 0,
                    id: next_id,
                });
                next_id += 1;
                (name, a, b)
            }
            5 if !subs.is_empty() => {
                let s = subs.remove(rng.below(subs.len()));
                // A barrier over the dropped subscriber: ring-spmc's reads
                // `u64::MAX` for it (documented), photon's keeps its cursor.
                let mut a = String::new();
                let mut b = String::new();
                drop(s.ours);
                drop(s.theirs);
                barriers.retain(|br| {
                    if !br.ups.iter().any(|(id, _)| *id == s.id) {
                        return true;
                    }
                    let expected = br
                        .ups
                        .iter()
                        .map(|(id, t)| {
                            if *id == s.id || !subs.iter().any(|x| x.id == *id) {
                                u64::MAX
                            } else {
                                t.0.load(Ordering::Relaxed)
                            }
                        })
                        .min()
                        .unwrap();
                    a += &format!("{} ", br.ours.slowest());
                    b += &format!("{expected} ");
                    false
                });
                ("drop subscriber", a, b)
            }
            6..=8 if !subs.is_empty() => {
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let (r, t) = (s.ours.try_recv(), s.theirs.try_recv());
                ("try_recv", format!("{r:?}"), format!("{t:?}"))
            }
            9 if !subs.is_empty() => {
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let pending = (s.ours.pending(), s.theirs.pending());
                if pending.0 == 0 || pending.1 == 0 {
                    (
                        "pending",
                        format!("{}", pending.0),
                        format!("{}", pending.1),
                    )
                } else if rng.below(2) == 0 {
                    (
                        "recv",
                        s.ours.recv().to_string(),
                        s.theirs.recv().to_string(),
                    )
                } else {
                    let (so, st) = strategy(&mut rng);
                    (
                        "recv_with",
                        s.ours.recv_with(so).to_string(),
                        s.theirs.recv_with(st).to_string(),
                    )
                }
            }
            10 if !subs.is_empty() => {
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let before = s.ours.cursor();
                let r = s.ours.latest();
                let t = s.theirs.latest();
                let after = s.ours.cursor();
                if r.is_some() {
                    if after == before {
                        s.rereads += 1;
                    } else {
                        s.latest_skips += after - 1 - before;
                    }
                }
                ("latest", format!("{r:?}"), format!("{t:?}"))
            }
            11 if !subs.is_empty() => {
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let n = rng.below(2 * capacity + 1);
                let mut bo = vec![0; n];
                let mut bt = vec![0; n];
                let (ro, rt) = (s.ours.recv_batch(&mut bo), s.theirs.recv_batch(&mut bt));
                ("recv_batch", format!("{ro} {bo:?}"), format!("{rt} {bt:?}"))
            }
            12 if !subs.is_empty() => {
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let o: Vec<u64> = s.ours.drain().collect();
                let t: Vec<u64> = s.theirs.drain().collect();
                ("drain", format!("{o:?}"), format!("{t:?}"))
            }
            13 | 14 if !subs.is_empty() => {
                let s = &subs[rng.below(subs.len())];
                let lagged = s.theirs.total_lagged() + s.latest_skips;
                let received = s.theirs.total_received() - s.rereads;
                let ratio = if received + lagged == 0 {
                    0.0
                } else {
                    received as f64 / (received + lagged) as f64
                };
                (
                    "counters",
                    format!(
                        "{} {} {} {} {} {:?}",
                        s.ours.cursor(),
                        s.ours.pending(),
                        s.ours.total_received(),
                        s.ours.total_lagged(),
                        s.ours.receive_ratio(),
                        s.ours.tracker().map(|t| t.0.load(Ordering::Relaxed)),
                    ),
                    format!(
                        "{} {} {} {} {} {:?}",
                        s.theirs.cursor(),
                        s.theirs.pending(),
                        received,
                        lagged,
                        ratio,
                        s.theirs.tracker().map(|t| t.0.load(Ordering::Relaxed)),
                    ),
                )
            }
            15 if barriers.len() < 3 => {
                let tracked: Vec<usize> = (0..subs.len())
                    .filter(|&i| subs[i].ours.tracker().is_some())
                    .collect();
                if tracked.is_empty() {
                    continue;
                }
                let mut picks: Vec<usize> = (0..1 + rng.below(tracked.len()))
                    .map(|_| tracked[rng.below(tracked.len())])
                    .collect();
                picks.dedup();
                let o: Vec<&ours::Subscriber<u64>> = picks.iter().map(|&i| &subs[i].ours).collect();
                let t: Vec<&theirs::Subscriber<u64>> =
                    picks.iter().map(|&i| &subs[i].theirs).collect();
                let br = Barrier {
                    ours: ours::DependencyBarrier::from_subscribers(&o),
                    theirs: theirs::DependencyBarrier::from_subscribers(&t),
                    ups: picks
                        .iter()
                        .map(|&i| (subs[i].id, subs[i].theirs.tracker().unwrap()))
                        .collect(),
                };
                let a = format!("{} {}", br.ours.upstream_count(), br.ours.slowest());
                let b = format!("{} {}", br.theirs.upstream_count(), br.theirs.slowest());
                barriers.push(br);
                ("barrier", a, b)
            }
            16 | 17 if !barriers.is_empty() && !subs.is_empty() => {
                let br = &barriers[rng.below(barriers.len())];
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let open = br.ours.slowest() > s.ours.cursor();
                let lag_free = op.published() - s.ours.cursor() <= capacity as u64;
                if rng.below(2) == 0 || !(open && lag_free && s.ours.pending() > 0) {
                    let r = s.ours.try_recv_gated(&br.ours);
                    let t = s.theirs.try_recv_gated(&br.theirs);
                    ("try_recv_gated", format!("{r:?}"), format!("{t:?}"))
                } else {
                    (
                        "recv_gated",
                        s.ours.recv_gated(&br.ours).to_string(),
                        s.theirs.recv_gated(&br.theirs).to_string(),
                    )
                }
            }
            18 => (
                "publisher",
                format!("{} {}", op.published(), op.capacity()),
                format!("{} {}", tp.published(), tp.capacity()),
            ),
            19 if !subs.is_empty() => {
                // Photon's errors have no `Display`: `Debug` is what a
                // user sees; both derive it.
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let a = format!(
                    "{:?} {:?}",
                    s.ours.try_recv().err(),
                    ours::PublishError::Full(7_u8)
                );
                let b = format!(
                    "{:?} {:?}",
                    s.theirs.try_recv().err(),
                    theirs::PublishError::Full(7_u8)
                );
                ("error debug", a, b)
            }
            _ => continue,
        };
        if std::env::var_os("SPMC_TRACE").is_some() {
            eprintln!("{step}: {what}: {a} | {b}");
        }
        *ran.entry(what).or_default() += 1;
        if a.contains("Lagged") {
            *ran.entry("lagged").or_default() += 1;
        }
        if what == "try_publish" && a.contains("Full") {
            *ran.entry("try_publish: full").or_default() += 1;
        }
        if what == "latest" && a != "None" {
            *ran.entry("latest: some").or_default() += 1;
        }
        assert_eq!(
            a, b,
            "seed {seed}, step {step}: `{what}` differs (left: ring-spmc, right: photon-ring; \
             capacity {capacity}, bounded {bounded}, watermark {watermark})"
        );
    }
}

#[test]
fn random_sequences_match_photon_ring() {
    let mut ran = BTreeMap::new();
    let seeds = std::env::var("SPMC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(0..1500, |s: u64| s..s + 1);
    for seed in seeds {
        run(seed, 300, &mut ran);
    }
    // Not vacuous: every operation and the edge cases ran many times.
    println!("{ran:#?}");
    assert_eq!(ran.len(), 24, "{ran:?}");
    assert!(ran.values().all(|&n| n > 500), "{ran:?}");
}

/// photon-ring 3.0's numbers for any capacity (issue 9), side by side.
#[test]
fn any_capacity_numbers_match_photon_ring() {
    let (mut op, os) = ours::channel::<u64>(5);
    let (mut tp, ts) = theirs::channel::<u64>(5);
    let (mut o, mut t) = (os.subscribe(), ts.subscribe());
    for i in 0..13 {
        op.publish(i);
        tp.publish(i);
    }
    assert_eq!(op.capacity(), 5);
    assert_eq!(o.try_recv(), Err(ours::TryRecvError::Lagged { skipped: 8 }));
    assert_eq!(
        t.try_recv(),
        Err(theirs::TryRecvError::Lagged { skipped: 8 })
    );
    let a: Vec<u64> = o.drain().collect();
    let b: Vec<u64> = t.drain().collect();
    assert_eq!(a, b);
    assert_eq!(a, [8, 9, 10, 11, 12]);

    let (mut op, os) = ours::channel_bounded::<u64>(6, 2);
    let (mut tp, ts) = theirs::channel_bounded::<u64>(6, 2);
    let (_o, _t) = (os.subscribe(), ts.subscribe());
    let a: Vec<bool> = (0..6).map(|i| op.try_publish(i).is_ok()).collect();
    let b: Vec<bool> = (0..6).map(|i| tp.try_publish(i).is_ok()).collect();
    assert_eq!(a, b);
    assert_eq!(a, [true, true, true, true, false, false]);
}

/// Detects at compile time whether `$t` implements `$tr` (an inherent
/// associated const shadows the blanket trait's when the bound holds).
macro_rules! implements {
    ($t:ty: $tr:path) => {{
        #[allow(dead_code)]
        trait No {
            const IMPL: bool = false;
        }
        impl<T: ?Sized> No for T {}
        struct Probe<T: ?Sized>(core::marker::PhantomData<T>);
        #[allow(dead_code)]
        impl<T: ?Sized + $tr> Probe<T> {
            const IMPL: bool = true;
        }
        <Probe<$t>>::IMPL
    }};
}

macro_rules! traits {
    ($t:ty) => {
        [
            implements!($t: Send),
            implements!($t: Sync),
            implements!($t: Unpin),
            implements!($t: std::panic::UnwindSafe),
            implements!($t: std::panic::RefUnwindSafe),
            implements!($t: Clone),
            implements!($t: std::fmt::Debug),
        ]
    };
}

/// The auto traits (and `Clone`) of every type photon-ring exports that
/// ring-spmc replaces. `Clone` and `Debug` may be added (photon's handles
/// have no `Debug`; our `DependencyBarrier` is `Clone`), never removed.
#[test]
fn auto_traits_match_photon_ring() {
    let pairs: [(&str, [bool; 7], [bool; 7]); 8] = [
        (
            "Publisher",
            traits!(ours::Publisher<u64>),
            traits!(theirs::Publisher<u64>),
        ),
        (
            "Subscribable",
            traits!(ours::Subscribable<u64>),
            traits!(theirs::Subscribable<u64>),
        ),
        (
            "Subscriber",
            traits!(ours::Subscriber<u64>),
            traits!(theirs::Subscriber<u64>),
        ),
        (
            "Drain",
            traits!(ours::Drain<'static, u64>),
            traits!(theirs::Drain<'static, u64>),
        ),
        (
            "DependencyBarrier",
            traits!(ours::DependencyBarrier),
            traits!(theirs::DependencyBarrier),
        ),
        (
            "Padded",
            traits!(ours::Padded<AtomicU64>),
            traits!(theirs::Padded<AtomicU64>),
        ),
        (
            "TryRecvError",
            traits!(ours::TryRecvError),
            traits!(theirs::TryRecvError),
        ),
        (
            "PublishError",
            traits!(ours::PublishError<u64>),
            traits!(theirs::PublishError<u64>),
        ),
    ];
    let mut diffs = Vec::new();
    for (name, o, t) in pairs {
        // The auto traits (0..=4) must match exactly; `Clone` and `Debug`
        // may be added, never removed.
        if o[..5] != t[..5] || (t[5] && !o[5]) || (t[6] && !o[6]) {
            diffs.push(format!("{name}: ours {o:?}, photon {t:?}"));
        }
    }
    assert!(diffs.is_empty(), "{diffs:#?}");
}
