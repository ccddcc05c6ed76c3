//! No producer can wedge the ring: a panicking `publish_with` closure leaves
//! nothing claimed, producers a whole lap apart never write one slot at the
//! same time (photon-ring's two known multi-producer bugs), and the cursor
//! catches up after producers finish out of order.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use ring_mpmc::{RecvTimeoutError, TryRecvError, channel_mpmc, channel_mpmc_bounded};

#[test]
fn a_panicking_publish_with_closure_wedges_nothing() {
    for bounded in [false, true] {
        let (p, subs) = if bounded {
            channel_mpmc_bounded::<u64>(4, 0)
        } else {
            channel_mpmc::<u64>(4)
        };
        let mut s = subs.subscribe();
        p.publish(1);
        let q = p.clone();
        let r = catch_unwind(AssertUnwindSafe(|| {
            q.publish_with(|| panic!("building the value failed"));
        }));
        assert!(r.is_err());
        // Nothing was claimed: the next value takes the next sequence, and
        // readers and the cursor move on past it.
        q.publish(2);
        p.publish_with(|| 3);
        assert_eq!(p.published(), 3, "bounded: {bounded}");
        assert_eq!(s.drain().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(s.total_lagged(), 0);
        // A producer on another thread is not stalled either.
        let t = std::thread::spawn(move || {
            q.publish(4);
            q.published()
        });
        assert_eq!(t.join().unwrap(), 4);
        assert_eq!(s.try_recv(), Ok(4));
    }
}

/// A 64-byte value whose words all carry the same tag: a mix of two writes
/// (two producers writing one slot at once) shows as unequal words.
type Tagged = [u64; 8];

fn whole(v: &Tagged) -> bool {
    v.iter().all(|w| *w == v[0])
}

/// Four producers on a 2-slot ring: with this many publishes in flight,
/// claims a lap apart are common, and each must wait for the other's write
/// to the shared slot. Producers yield (more threads than cores).
#[test]
fn producers_a_lap_apart_never_write_one_slot_together() {
    let _serial = seqcast_test_support::one_at_a_time();
    let per_producer: u64 = if cfg!(miri) { 20 } else { 50_000 };
    let producers = if cfg!(miri) { 2 } else { 4 };
    let (p, subs) = channel_mpmc::<Tagged>(2);
    let mut s = subs.subscribe();
    let handles: Vec<_> = (0..producers)
        .map(|id| {
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..per_producer {
                    p.publish([(id << 32) | i; 8]);
                    if i % 64 == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    drop(p);
    let start = Instant::now();
    let mut last = vec![None::<u64>; producers as usize];
    loop {
        match s.recv_timeout(Duration::from_secs(10)) {
            Ok(v) => {
                assert!(whole(&v), "torn value {v:x?}");
                let (id, i) = ((v[0] >> 32) as usize, v[0] & 0xffff_ffff);
                assert!(last[id].is_none_or(|l| i > l), "producer {id} out of order");
                last[id] = Some(i);
            }
            Err(RecvTimeoutError::Lagged { .. }) => {}
            Err(RecvTimeoutError::Closed) => break,
            Err(RecvTimeoutError::Timeout) => panic!("stalled"),
        }
        assert!(start.elapsed() < Duration::from_secs(120), "stalled");
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        s.total_received() + s.total_lagged(),
        per_producer * producers
    );
}

/// Producers finishing out of order still leave the cursor at the total:
/// with many short-lived producers, some finish their write while an
/// earlier claim is unwritten, and the late one must carry the cursor.
#[test]
fn the_cursor_reaches_every_publish_once_all_return() {
    let _serial = seqcast_test_support::one_at_a_time();
    let rounds = if cfg!(miri) { 3 } else { 2_000 };
    for _ in 0..rounds {
        let (p, subs) = channel_mpmc::<u64>(8);
        let mut s = subs.subscribe();
        let hs: Vec<_> = (0..3)
            .map(|i| {
                let p = p.clone();
                std::thread::spawn(move || p.publish(i))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(p.published(), 3);
        // Every value is readable, and `latest`/`pending` see them all.
        assert_eq!(s.pending(), 3);
        let mut got: Vec<u64> = s.drain().collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
    }
}
