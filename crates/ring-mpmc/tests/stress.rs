//! Real threads, millions of values: two producers publish tagged values
//! (producer id and index); on a bounded ring every subscriber receives each
//! value exactly once with each producer's values in order; on a lossy ring
//! `received + lagged == published` per subscriber, with no duplicate and
//! each producer's values in order. Release builds run 2 × 5 million values;
//! debug builds and Miri run scaled-down counts. Subscribers park when the
//! ring is empty, and bounded producers yield when it is full, so no more
//! threads spin than the machines' two cores.

use std::time::{Duration, Instant};

use ring_mpmc::{RecvTimeoutError, Subscriber, channel_mpmc, channel_mpmc_bounded};

const PER_PRODUCER: u64 = if cfg!(miri) {
    100
} else if cfg!(debug_assertions) {
    100_000
} else {
    5_000_000
};

const DEADLINE: Duration = Duration::from_secs(120);

fn tag(id: u64, i: u64) -> u64 {
    (id << 40) | i
}

/// What one subscriber saw.
struct Seen {
    received: u64,
    lagged: u64,
}

/// Receives until the close, checking each producer's values: strictly
/// increasing (no duplicate, in order) and, if `lossless`, consecutive.
fn consume(mut s: Subscriber<u64>, lossless: bool, per: u64) -> Seen {
    let start = Instant::now();
    let mut next = [0_u64; 2];
    loop {
        match s.recv_timeout(Duration::from_secs(10)) {
            Ok(v) => {
                let (id, i) = ((v >> 40) as usize, v & ((1 << 40) - 1));
                if lossless {
                    assert_eq!(i, next[id], "producer {id}: lost, duplicated or reordered");
                } else {
                    assert!(i >= next[id], "producer {id}: duplicated or reordered");
                }
                next[id] = i + 1;
            }
            Err(RecvTimeoutError::Lagged { .. }) => {
                assert!(!lossless, "a gating subscriber lagged")
            }
            Err(RecvTimeoutError::Closed) => break,
            Err(RecvTimeoutError::Timeout) => panic!("stalled at {next:?}"),
        }
        assert!(start.elapsed() < DEADLINE, "stalled at {next:?}");
    }
    if lossless {
        assert_eq!(next, [per; 2]);
    }
    Seen {
        received: s.total_received(),
        lagged: s.total_lagged(),
    }
}

fn run(capacity: usize, bounded: bool, subscribers: usize) {
    let _serial = seqcast_test_support::one_at_a_time();
    let (p, subs) = if bounded {
        channel_mpmc_bounded::<u64>(capacity, 0)
    } else {
        channel_mpmc::<u64>(capacity)
    };
    let consumers: Vec<_> = (0..subscribers)
        .map(|_| {
            let s = subs.subscribe();
            std::thread::spawn(move || consume(s, bounded, PER_PRODUCER))
        })
        .collect();
    drop(subs);
    let producers: Vec<_> = (0..2)
        .map(|id| {
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    if i % 2 == 0 {
                        p.publish(tag(id, i));
                    } else {
                        p.publish_with(|| tag(id, i));
                    }
                }
            })
        })
        .collect();
    drop(p);
    for t in producers {
        t.join().unwrap();
    }
    for c in consumers {
        let seen = c.join().unwrap();
        assert_eq!(seen.received + seen.lagged, 2 * PER_PRODUCER);
        if bounded {
            assert_eq!(seen.lagged, 0);
        }
    }
}

#[test]
fn bounded_two_producers_one_subscriber_lose_nothing() {
    run(1024, true, 1);
}

#[test]
fn bounded_two_producers_two_subscribers_lose_nothing() {
    // Not a power of two: the fastmod index under contention.
    run(250, true, 2);
}

#[test]
fn lossy_two_producers_one_subscriber_count_every_loss() {
    run(60, false, 1);
}

#[test]
fn lossy_two_producers_two_subscribers_count_every_loss() {
    run(1024, false, 2);
}

/// `try_publish` from two producers into a small bounded ring: every value
/// it accepts arrives once and in order; refused values come back whole.
#[test]
fn bounded_try_publish_hands_back_what_it_refuses() {
    let _serial = seqcast_test_support::one_at_a_time();
    let per = PER_PRODUCER / 10;
    let (p, subs) = channel_mpmc_bounded::<u64>(16, 2);
    let s = subs.subscribe();
    let consumer = std::thread::spawn(move || consume(s, true, per));
    let producers: Vec<_> = (0..2)
        .map(|id| {
            let p = p.clone();
            std::thread::spawn(move || {
                let mut i = 0;
                while i < per {
                    match p.try_publish(tag(id, i)) {
                        Ok(()) => i += 1,
                        Err(ring_mpmc::PublishError::Full(v)) => {
                            assert_eq!(v, tag(id, i));
                            std::thread::yield_now();
                        }
                    }
                }
            })
        })
        .collect();
    drop(p);
    for t in producers {
        t.join().unwrap();
    }
    let seen = consumer.join().unwrap();
    assert_eq!((seen.received, seen.lagged), (2 * per, 0));
}
