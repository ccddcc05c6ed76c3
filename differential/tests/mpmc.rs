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

use seqcast_differential::Rng;

#[macro_use]
mod photon;
use photon::{CAPACITIES, Reads, theirs, value};
use ring_mpmc as ours;

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

fn run(seed: u64, steps: usize, ran: &mut BTreeMap<&'static str, usize>) {
    let mut rng = Rng::new(seed);
    let capacity = CAPACITIES[rng.below(CAPACITIES.len())];
    let (op, osubs) = ours::channel_mpmc::<u64>(capacity);
    let (tp, tsubs) = theirs::channel_mpmc::<u64>(capacity);
    assert_eq!(op.capacity(), tp.capacity());
    let mut pubs: Vec<Handle> = vec![Handle::Clone(op, tp)];
    // What was published in all (the model both must agree with).
    let mut published = 0_u64;
    let mut reads = Reads::default();
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
                let closed = reads.subs.first().map(|s| s.ours.is_closed());
                let want = reads.subs.first().map(|_| pubs.is_empty());
                ("drop publisher", format!("{closed:?}"), format!("{want:?}"))
            }
            5 => match reads.subscribe(&mut rng, &osubs, &tsubs, false) {
                Some((name, a, b)) => {
                    // Ours knows whether every publisher is gone (closed);
                    // photon has no close: the model is "no handle left".
                    let s = reads.subs.last().expect("just subscribed");
                    let a = format!("{a} {}", s.ours.is_closed());
                    let b = format!("{b} {}", pubs.is_empty());
                    (name, a, b)
                }
                None => continue,
            },
            code @ 6..=18 => match reads.read(&mut rng, code - 6, published, capacity) {
                Some(outcome) => outcome,
                None => continue,
            },
            21 if !pubs.is_empty() => {
                let h = &pubs[rng.below(pubs.len())];
                (
                    "publisher",
                    format!("{} {}", h.ours().published(), h.ours().capacity()),
                    format!("{} {}", h.theirs().published(), h.theirs().capacity()),
                )
            }
            19 if !reads.subs.is_empty() => {
                // Photon's errors have no `Display`: `Debug` is what a user
                // sees; both derive it.
                let n = reads.subs.len();
                let s = &mut reads.subs[rng.below(n)];
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
        photon::tally(ran, "MPMC_TRACE", step, (what, &a, &b));
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
    for seed in photon::seeds("MPMC_SEED") {
        run(seed, 300, &mut ran);
    }
    // Not vacuous: every operation and the edge cases ran many times.
    println!("{ran:#?}");
    assert_eq!(ran.len(), 25, "{ran:?}");
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

/// The auto traits (and `Clone`) of `MpPublisher` and of the read-side
/// types a photon-ring `channel_mpmc` user names through `ring_mpmc`. `Clone`
/// and `Debug` may be added, never removed; the auto traits must match.
#[test]
fn auto_traits_match_photon_ring() {
    let mut rows = photon::read_side_traits();
    rows.push((
        "MpPublisher",
        traits!(ours::MpPublisher<u64>),
        traits!(theirs::MpPublisher<u64>),
    ));
    photon::assert_traits_match(&rows);
}
