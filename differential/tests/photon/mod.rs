//! The read side ring-spmc and ring-mpmc share (ring-mpmc re-exports
//! ring-spmc's), driven side by side with photon-ring 3.0's: the
//! subscribers, barriers and every read operation of photon's API, for the
//! differential suites `spmc.rs` and `mpmc.rs`.
//!
//! Differences ring-spmc documents are applied to photon's numbers, never
//! skipped: `latest()` counts what it skips as lag and does not count a
//! re-read of the newest value as received; a dropped upstream's tracker
//! reads `u64::MAX` in a `DependencyBarrier`. Blocking reads are made only
//! when they return at once.

// Each suite uses a part of this module (spmc.rs its gating model).
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use seqcast_differential::Rng;

pub(crate) use photon_ring as theirs;
pub(crate) use ring_spmc as ours;

/// Capacities of every kind photon accepts: the smallest, powers of two
/// and not.
pub(crate) const CAPACITIES: [usize; 14] = [2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 31, 64];

/// The value published as sequence `seq`: distinct, and not the sequence.
pub(crate) fn value(seq: u64) -> u64 {
    seq.wrapping_mul(0x9E37_79B9) ^ 0x5A5A
}

/// One subscriber of each side.
pub(crate) struct Sub {
    pub(crate) ours: ours::Subscriber<u64>,
    pub(crate) theirs: theirs::Subscriber<u64>,
    /// A registered tracker on a bounded ring: gates the publisher.
    pub(crate) gating: bool,
    /// Re-reads of the newest value by `latest()`: photon counts them as
    /// received, ours does not.
    rereads: u64,
    /// Values `latest()` skipped: ours counts them as lag.
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

/// An operation's name and each side's result, as strings to compare.
pub(crate) type Outcome = (&'static str, String, String);

/// Both sides' subscribers and barriers.
#[derive(Default)]
pub(crate) struct Reads {
    pub(crate) subs: Vec<Sub>,
    barriers: Vec<Barrier>,
    next_id: usize,
}

impl Reads {
    /// Subscribes on both sides with one of the four kinds; `bounded`
    /// says whether a non-lossy subscriber gates. `None` at 6 subscribers.
    pub(crate) fn subscribe(
        &mut self,
        rng: &mut Rng,
        osubs: &ours::Subscribable<u64>,
        tsubs: &theirs::Subscribable<u64>,
        bounded: bool,
    ) -> Option<Outcome> {
        if self.subs.len() >= 6 {
            return None;
        }
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
        self.subs.push(Sub {
            ours: o,
            theirs: t,
            gating: bounded && kind != 1,
            rereads: 0,
            latest_skips: 0,
            id: self.next_id,
        });
        self.next_id += 1;
        Some((name, a, b))
    }

    /// Read operation `op` (0 to 12) on a random subscriber or
    /// barrier; `None` when it has nothing to act on. `published` is what
    /// the publishers have published, `capacity` the ring's.
    pub(crate) fn read(
        &mut self,
        rng: &mut Rng,
        op: usize,
        published: u64,
        capacity: usize,
    ) -> Option<Outcome> {
        let (subs, barriers) = (&mut self.subs, &mut self.barriers);
        if subs.is_empty() {
            return None;
        }
        let n = subs.len();
        Some(match op {
            0 => {
                let s = subs.remove(rng.below(n));
                // A barrier over the dropped subscriber: ours reads
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
            1..=3 => {
                let s = &mut subs[rng.below(n)];
                let (r, t) = (s.ours.try_recv(), s.theirs.try_recv());
                ("try_recv", format!("{r:?}"), format!("{t:?}"))
            }
            4 => {
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
                    let (so, st) = strategy(rng);
                    (
                        "recv_with",
                        s.ours.recv_with(so).to_string(),
                        s.theirs.recv_with(st).to_string(),
                    )
                }
            }
            5 => {
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
            6 => {
                let s = &mut subs[rng.below(n)];
                let n = rng.below(2 * capacity + 1);
                let mut bo = vec![0; n];
                let mut bt = vec![0; n];
                let (ro, rt) = (s.ours.recv_batch(&mut bo), s.theirs.recv_batch(&mut bt));
                ("recv_batch", format!("{ro} {bo:?}"), format!("{rt} {bt:?}"))
            }
            7 => {
                let s = &mut subs[rng.below(n)];
                let o: Vec<u64> = s.ours.drain().collect();
                let t: Vec<u64> = s.theirs.drain().collect();
                ("drain", format!("{o:?}"), format!("{t:?}"))
            }
            8 | 9 => {
                let s = &subs[rng.below(n)];
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
            10 => {
                if barriers.len() >= 3 {
                    return None;
                }
                let tracked: Vec<usize> = (0..n)
                    .filter(|&i| subs[i].ours.tracker().is_some())
                    .collect();
                if tracked.is_empty() {
                    return None;
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
            _ => {
                if barriers.is_empty() {
                    return None;
                }
                let br = &barriers[rng.below(barriers.len())];
                let s = &mut subs[rng.below(n)];
                let open = br.ours.slowest() > s.ours.cursor();
                let lag_free = published - s.ours.cursor() <= capacity as u64;
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
        })
    }
}

/// The seeds a suite runs: `0..1500`, or the one named by the environment
/// variable `var` (to replay a failure).
pub(crate) fn seeds(var: &str) -> std::ops::Range<u64> {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(0..1500, |s: u64| s..s + 1)
}

/// Counts one compared step in `ran` (what ran, and the edge cases every
/// suite wants seen: a lag, a `latest` that returned a value), and prints
/// it when the environment variable `trace` is set.
pub(crate) fn tally(
    ran: &mut std::collections::BTreeMap<&'static str, usize>,
    trace: &str,
    step: usize,
    (what, a, b): (&'static str, &str, &str),
) {
    if std::env::var_os(trace).is_some() {
        eprintln!("{step}: {what}: {a} | {b}");
    }
    *ran.entry(what).or_default() += 1;
    if a.contains("Lagged") {
        *ran.entry("lagged").or_default() += 1;
    }
    if what == "latest" && a != "None" {
        *ran.entry("latest: some").or_default() += 1;
    }
}

/// `$t`'s auto traits, then `Clone` and `Debug`.
macro_rules! traits {
    ($t:ty) => {
        [
            seqcast_test_support::implements!($t: Send),
            seqcast_test_support::implements!($t: Sync),
            seqcast_test_support::implements!($t: Unpin),
            seqcast_test_support::implements!($t: std::panic::UnwindSafe),
            seqcast_test_support::implements!($t: std::panic::RefUnwindSafe),
            seqcast_test_support::implements!($t: Clone),
            seqcast_test_support::implements!($t: std::fmt::Debug),
        ]
    };
}

/// One type's traits on each side, from `traits!`.
pub(crate) type TraitRow = (&'static str, [bool; 7], [bool; 7]);

/// The read-side types both suites' users name: ours and photon's.
pub(crate) fn read_side_traits() -> Vec<TraitRow> {
    vec![
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
    ]
}

/// Asserts the auto traits (0..=4) of each row match exactly, and that
/// `Clone` and `Debug` are only ever added (photon's handles have no
/// `Debug`; our `DependencyBarrier` is `Clone`), never removed.
pub(crate) fn assert_traits_match(rows: &[TraitRow]) {
    let mut diffs = Vec::new();
    for (name, o, t) in rows {
        if o[..5] != t[..5] || (t[5] && !o[5]) || (t[6] && !o[6]) {
            diffs.push(format!("{name}: ours {o:?}, photon {t:?}"));
        }
    }
    assert!(diffs.is_empty(), "{diffs:#?}");
}
