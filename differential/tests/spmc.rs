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

use seqcast_differential::Rng;

#[macro_use]
mod photon;
use photon::{CAPACITIES, Reads, ours, theirs, value};

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
    let mut reads = Reads::default();
    // How many more values the publisher may write without waiting (the
    // model photon and ring-spmc must agree with).
    let room = |subs: &Vec<photon::Sub>, published: u64| -> u64 {
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
            2 if room(&reads.subs, published) > 0 => {
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
                let max = room(&reads.subs, published).min(3 * capacity as u64) as usize;
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
            4 => match reads.subscribe(&mut rng, &osubs, &tsubs, bounded) {
                Some(outcome) => outcome,
                None => continue,
            },
            code @ 5..=17 => match reads.read(&mut rng, code - 5, published, capacity) {
                Some(outcome) => outcome,
                None => continue,
            },
            18 => (
                "publisher",
                format!("{} {}", op.published(), op.capacity()),
                format!("{} {}", tp.published(), tp.capacity()),
            ),
            19 if !reads.subs.is_empty() => {
                // Photon's errors have no `Display`: `Debug` is what a
                // user sees; both derive it.
                let n = reads.subs.len();
                let s = &mut reads.subs[rng.below(n)];
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
        photon::tally(ran, "SPMC_TRACE", step, (what, &a, &b));
        if what == "try_publish" && a.contains("Full") {
            *ran.entry("try_publish: full").or_default() += 1;
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
    for seed in photon::seeds("SPMC_SEED") {
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

/// The auto traits (and `Clone`) of every type photon-ring exports that
/// ring-spmc replaces. `Clone` and `Debug` may be added (photon's handles
/// have no `Debug`; our `DependencyBarrier` is `Clone`), never removed.
#[test]
fn auto_traits_match_photon_ring() {
    let mut rows = photon::read_side_traits();
    rows.push((
        "Publisher",
        traits!(ours::Publisher<u64>),
        traits!(theirs::Publisher<u64>),
    ));
    photon::assert_traits_match(&rows);
}
