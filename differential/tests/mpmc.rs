//! ring-mpmc against photon-ring 3.0's `channel_mpmc`: seeded random
//! sequences of every single-threaded operation a photon-ring user has on a
//! multi-producer ring (publish and `publish_with` from several clones and
//! from a clone shared in an `Arc`, clone and drop of publishers, every
//! kind of subscribe, `try_recv`, `recv`, `recv_with`, `latest`,
//! `recv_batch`, `drain`, gated receives, drop of subscribers, every
//! counter, `published`, `capacity`, `Debug` of results), on capacities from
//! 2 to 64 (powers of two and not), with every result and lag count
//! compared.
//!
//! Documented differences are applied, never skipped:
//!
//! * `latest()` (ring-spmc's read side): counts what it skips as lag and a
//!   re-read of the newest value as nothing; photon's drops the skipped
//!   values uncounted and counts the re-read as received.
//! * A dropped upstream's tracker reads `u64::MAX` in a `DependencyBarrier`.
//! * `try_publish` exists only on ours: on a lossy ring it always publishes,
//!   so it is compared with photon's `publish`.
//! * Close (ours only): once the last clone is dropped, `is_closed` is
//!   true; photon has no close, and both keep serving what was published.
//!
//! Single-threaded, photon's `published()` (sequences claimed) and ours
//! (sequences committed) are the same number; the multi-producer
//! difference is covered by ring-mpmc's own tests.
//!
//! Also checked: the auto traits of `MpPublisher` match photon's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use seqcast_differential::Rng;

use photon_ring as theirs;
use ring_mpmc as ours;

struct Sub {
    ours: ours::Subscriber<u64>,
    theirs: theirs::Subscriber<u64>,
    /// Re-reads of the newest value by `latest()`: photon counts them as
    /// received, ring-mpmc does not.
    rereads: u64,
    /// Values `latest()` skipped: ring-mpmc counts them as lag.
    latest_skips: u64,
    id: usize,
}

/// One publisher handle of each side: a clone, or a clone shared in an
/// `Arc` (publishing through `&self`).
enum Handle {
    Clone(ours::MpPublisher<u64>, theirs::MpPublisher<u64>),
    Shared(Arc<ours::MpPublisher<u64>>, Arc<theirs::MpPublisher<u64>>),
}

impl Handle {
    fn ours(&self) -> &ours::MpPublisher<u64> {
        match self {
            Handle::Clone(o, _) => o,
            Handle::Shared(o, _) => o,
        }
    }

    fn theirs(&self) -> &theirs::MpPublisher<u64> {
        match self {
            Handle::Clone(_, t) => t,
            Handle::Shared(_, t) => t,
        }
    }
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
    match rng.below(4) {
        0 => (ours::WaitStrategy::BusySpin, theirs::WaitStrategy::BusySpin),
        1 => (
            ours::WaitStrategy::YieldSpin,
            theirs::WaitStrategy::YieldSpin,
        ),
        2 => (
            ours::WaitStrategy::BackoffSpin,
            theirs::WaitStrategy::BackoffSpin,
        ),
        _ => (
            ours::WaitStrategy::Adaptive {
                spin_iters: 4,
                yield_iters: 4,
            },
            theirs::WaitStrategy::Adaptive {
                spin_iters: 4,
                yield_iters: 4,
            },
        ),
    }
}

const CAPACITIES: [usize; 14] = [2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 31, 64];

fn run(seed: u64, steps: usize, ran: &mut BTreeMap<&'static str, usize>) {
    let mut rng = Rng::new(seed);
    let capacity = CAPACITIES[rng.below(CAPACITIES.len())];
    let (op, osubs) = ours::channel_mpmc::<u64>(capacity);
    let (tp, tsubs) = theirs::channel_mpmc::<u64>(capacity);
    assert_eq!(op.capacity(), tp.capacity());
    let mut pubs: Vec<Handle> = vec![Handle::Clone(op, tp)];
    // What was published in all (the model both must agree with).
    let mut published = 0_u64;
    let mut subs: Vec<Sub> = Vec::new();
    let mut barriers: Vec<Barrier> = Vec::new();
    let mut next_id = 0;
    for step in 0..steps {
        let (what, a, b): (&'static str, String, String) = match rng.below(22) {
            0..=2 if !pubs.is_empty() => {
                let h = &pubs[rng.below(pubs.len())];
                let v = value(published);
                match rng.below(3) {
                    0 => {
                        h.ours().publish(v);
                        h.theirs().publish(v);
                    }
                    1 => {
                        h.ours().publish_with(|| v);
                        h.theirs().publish_with(|| v);
                    }
                    _ => {
                        let r = h.ours().try_publish(v);
                        assert_eq!(r, Ok(()), "seed {seed}: a lossy try_publish refused");
                        h.theirs().publish(v);
                    }
                }
                published += 1;
                let o = &pubs[rng.below(pubs.len())];
                (
                    "publish",
                    format!("{} {}", h.ours().published(), o.ours().published()),
                    format!("{} {}", h.theirs().published(), o.theirs().published()),
                )
            }
            3 if !pubs.is_empty() && pubs.len() < 5 => {
                let h = &pubs[rng.below(pubs.len())];
                let (o, t) = (h.ours().clone(), h.theirs().clone());
                pubs.push(if rng.below(2) == 0 {
                    Handle::Clone(o, t)
                } else {
                    Handle::Shared(Arc::new(o), Arc::new(t))
                });
                (
                    "clone publisher",
                    pubs.len().to_string(),
                    pubs.len().to_string(),
                )
            }
            4 if !pubs.is_empty() && rng.below(4) == 0 => {
                drop(pubs.remove(rng.below(pubs.len())));
                // Photon has no close: the model is "no handle left".
                let closed = subs.first().map(|s| s.ours.is_closed());
                let want = subs.first().map(|_| pubs.is_empty());
                ("drop publisher", format!("{closed:?}"), format!("{want:?}"))
            }
            5 if subs.len() < 6 => {
                let (o, t, name) = match rng.below(4) {
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
                let a = format!(
                    "{} {:?} {}",
                    o.cursor(),
                    o.tracker().map(|t| t.0.load(Ordering::Relaxed)),
                    o.is_closed()
                );
                let b = format!(
                    "{} {:?} {}",
                    t.cursor(),
                    t.tracker().map(|t| t.0.load(Ordering::Relaxed)),
                    pubs.is_empty()
                );
                subs.push(Sub {
                    ours: o,
                    theirs: t,
                    rereads: 0,
                    latest_skips: 0,
                    id: next_id,
                });
                next_id += 1;
                (name, a, b)
            }
            6 if !subs.is_empty() => {
                let s = subs.remove(rng.below(subs.len()));
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
            7..=9 if !subs.is_empty() => {
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let (r, t) = (s.ours.try_recv(), s.theirs.try_recv());
                ("try_recv", format!("{r:?}"), format!("{t:?}"))
            }
            10 if !subs.is_empty() => {
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
            11 if !subs.is_empty() => {
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
            12 if !subs.is_empty() => {
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let n = rng.below(2 * capacity + 1);
                let mut bo = vec![0; n];
                let mut bt = vec![0; n];
                let (ro, rt) = (s.ours.recv_batch(&mut bo), s.theirs.recv_batch(&mut bt));
                ("recv_batch", format!("{ro} {bo:?}"), format!("{rt} {bt:?}"))
            }
            13 if !subs.is_empty() => {
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let o: Vec<u64> = s.ours.drain().collect();
                let t: Vec<u64> = s.theirs.drain().collect();
                ("drain", format!("{o:?}"), format!("{t:?}"))
            }
            14 | 15 if !subs.is_empty() => {
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
            16 if barriers.len() < 3 => {
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
            17 if !barriers.is_empty() && !subs.is_empty() => {
                let br = &barriers[rng.below(barriers.len())];
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let r = s.ours.try_recv_gated(&br.ours);
                let t = s.theirs.try_recv_gated(&br.theirs);
                ("try_recv_gated", format!("{r:?}"), format!("{t:?}"))
            }
            18 if !pubs.is_empty() => {
                let h = &pubs[rng.below(pubs.len())];
                (
                    "publisher",
                    format!("{} {}", h.ours().published(), h.ours().capacity()),
                    format!("{} {}", h.theirs().published(), h.theirs().capacity()),
                )
            }
            19 if !subs.is_empty() => {
                // Photon's errors have no `Display`: `Debug` is what a user
                // sees; both derive it.
                let n = subs.len();
                let s = &mut subs[rng.below(n)];
                let a = format!("{:?}", s.ours.try_recv().err());
                let b = format!("{:?}", s.theirs.try_recv().err());
                ("error debug", a, b)
            }
            20 if !pubs.is_empty() => {
                // A burst from alternating clones, often past a lap.
                let n = rng.below(3 * capacity + 1);
                for i in 0..n {
                    let h = &pubs[i % pubs.len()];
                    let v = value(published);
                    h.ours().publish(v);
                    h.theirs().publish(v);
                    published += 1;
                }
                let h = &pubs[0];
                (
                    "publish burst",
                    h.ours().published().to_string(),
                    h.theirs().published().to_string(),
                )
            }
            _ => continue,
        };
        if std::env::var_os("MPMC_TRACE").is_some() {
            eprintln!("{step}: {what}: {a} | {b}");
        }
        *ran.entry(what).or_default() += 1;
        if a.contains("Lagged") {
            *ran.entry("lagged").or_default() += 1;
        }
        if what == "latest" && a != "None" {
            *ran.entry("latest: some").or_default() += 1;
        }
        if what == "drop publisher" && a.contains("true") {
            *ran.entry("closed").or_default() += 1;
        }
        assert_eq!(
            a, b,
            "seed {seed}, step {step}: `{what}` differs (left: ring-mpmc, right: photon-ring; \
             capacity {capacity})"
        );
    }
}

#[test]
fn random_sequences_match_photon_ring() {
    let mut ran = BTreeMap::new();
    let seeds = std::env::var("MPMC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(0..1500, |s: u64| s..s + 1);
    for seed in seeds {
        run(seed, 300, &mut ran);
    }
    // Not vacuous: every operation and the edge cases ran many times.
    println!("{ran:#?}");
    assert_eq!(ran.len(), 24, "{ran:?}");
    assert!(ran.values().all(|&n| n > 100), "{ran:?}");
}

/// Capacity and lag numbers for capacities photon accepts, side by side:
/// the smallest, non-powers of two, and a large one.
#[test]
fn any_capacity_numbers_match_photon_ring() {
    for capacity in [2_usize, 3, 5, 6, 7, 1000, 1 << 16] {
        let (op, os) = ours::channel_mpmc::<u64>(capacity);
        let (tp, ts) = theirs::channel_mpmc::<u64>(capacity);
        let (oq, tq) = (op.clone(), tp.clone());
        let (mut o, mut t) = (os.subscribe(), ts.subscribe());
        let total = 2 * capacity as u64 + 3;
        for i in 0..total {
            if i % 3 == 0 {
                oq.publish(i);
                tq.publish(i);
            } else {
                op.publish_with(|| i);
                tp.publish_with(|| i);
            }
        }
        assert_eq!(op.capacity(), tp.capacity());
        assert_eq!(op.published(), tp.published());
        assert_eq!(format!("{:?}", o.try_recv()), format!("{:?}", t.try_recv()));
        let a: Vec<u64> = o.drain().collect();
        let b: Vec<u64> = t.drain().collect();
        assert_eq!(a, b, "capacity {capacity}");
        assert_eq!(a.len(), capacity);
        assert_eq!(
            (o.total_received(), o.total_lagged()),
            (t.total_received(), t.total_lagged())
        );
    }
}

/// Both refuse a capacity below 2 with a panic.
#[test]
fn capacities_below_two_panic_in_both() {
    for capacity in [0, 1] {
        assert!(std::panic::catch_unwind(|| ours::channel_mpmc::<u64>(capacity)).is_err());
        assert!(std::panic::catch_unwind(|| theirs::channel_mpmc::<u64>(capacity)).is_err());
    }
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

/// The auto traits (and `Clone`) of `MpPublisher` and of the read-side
/// types a photon-ring `channel_mpmc` user names through `ring_mpmc`. `Clone`
/// and `Debug` may be added, never removed; the auto traits must match.
#[test]
fn auto_traits_match_photon_ring() {
    let pairs: [(&str, [bool; 7], [bool; 7]); 6] = [
        (
            "MpPublisher",
            traits!(ours::MpPublisher<u64>),
            traits!(theirs::MpPublisher<u64>),
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
        if o[..5] != t[..5] || (t[5] && !o[5]) || (t[6] && !o[6]) {
            diffs.push(format!("{name}: ours {o:?}, photon {t:?}"));
        }
    }
    assert!(diffs.is_empty(), "{diffs:#?}");
}
