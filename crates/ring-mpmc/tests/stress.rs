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

/// Reads up to `n` values `[tag, !tag]` from a gating subscriber, which
/// must never lag: whole values, and each producer's indices consecutive
/// from the first one it sees. Stops early on `Empty` once `done`.
fn read_gating(
    s: &mut Subscriber<[u64; 2]>,
    n: u64,
    done: &std::sync::atomic::AtomicBool,
    start: Instant,
) {
    use ring_mpmc::TryRecvError;
    use std::sync::atomic::Ordering;

    let mut next = [None::<u64>; 2];
    let mut read = 0;
    while read < n {
        assert!(start.elapsed() < DEADLINE, "stalled after {read}");
        // Acquire: pairs with the producer's Release store after its last
        // publish, so `Empty` after it means nothing more is coming from it.
        let finished = done.load(Ordering::Acquire);
        match s.try_recv() {
            Ok([t, check]) => {
                assert_eq!(check, !t, "torn value");
                let (id, i) = ((t >> 40) as usize, t & ((1 << 40) - 1));
                if let Some(expected) = next[id] {
                    assert_eq!(i, expected, "producer {id}: lost or reordered");
                }
                next[id] = Some(i + 1);
                read += 1;
            }
            Err(TryRecvError::Lagged { skipped }) => {
                panic!("a gating subscriber lagged by {skipped}")
            }
            Err(TryRecvError::Empty) if finished => return,
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
}

/// Two producers on a bounded ring (capacities that are not powers of two,
/// watermarks 0 and `capacity - 1`): one publishes (`publish` and
/// `try_publish`) from its own thread; this thread publishes between
/// subscriptions of every gating kind that it makes, reads a few values
/// from and drops, so the ring swings between gated and ungated (the
/// ring's `ungated_limit` raised by scans and reset by registrations)
/// while the other producer runs. No gating subscriber ever lags or sees a
/// torn value; a lossy tap counts every value as received or lagged.
#[test]
fn subscription_churn_racing_two_producers_never_lags_a_gating_subscriber() {
    use ring_mpmc::{PublishError, TryRecvError};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let _serial = seqcast_test_support::one_at_a_time();
    let per = PER_PRODUCER / 25;
    for (capacity, watermark) in [(5, 0), (6, 5), (7, 3)] {
        let start = Instant::now();
        let (p, subs) = channel_mpmc_bounded::<[u64; 2]>(capacity, watermark);
        let mut tap = subs.subscribe_lossy();
        let done = Arc::new(AtomicBool::new(false));
        let other = {
            let (q, done) = (p.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                for i in 0..per {
                    let v = [tag(0, i), !tag(0, i)];
                    if i % 2 == 0 {
                        q.publish(v);
                    } else {
                        let mut v = v;
                        while let Err(PublishError::Full(back)) = q.try_publish(v) {
                            assert!(start.elapsed() < DEADLINE, "producer stalled at {i}");
                            v = back;
                            std::thread::yield_now();
                        }
                    }
                }
                // Release: pairs with the Acquire load in `read_gating`.
                done.store(true, Ordering::Release);
            })
        };
        let (mut mine, mut rounds) = (0_u64, 0_u64);
        let mut tap_next = [0_u64; 2];
        while !done.load(Ordering::Acquire) || rounds < 8 {
            assert!(start.elapsed() < DEADLINE, "churn stalled");
            // Nobody of this thread gates here, so this never waits on it.
            p.publish([tag(1, mine), !tag(1, mine)]);
            mine += 1;
            let n = rounds % 7 + 1;
            match rounds % 4 {
                0 => read_gating(&mut subs.subscribe(), n, &done, start),
                1 => read_gating(&mut subs.subscribe_tracked(), n, &done, start),
                2 => read_gating(&mut subs.subscribe_group::<2>(), n, &done, start),
                _ => {
                    // From the oldest: may lose history; must stay whole.
                    let mut s = subs.subscribe_from_oldest();
                    for _ in 0..n {
                        match s.try_recv() {
                            Ok([t, check]) => assert_eq!(check, !t, "torn value"),
                            Err(TryRecvError::Lagged { .. } | TryRecvError::Empty) => {}
                        }
                    }
                }
            }
            rounds += 1;
            loop {
                match tap.try_recv() {
                    Ok([t, check]) => {
                        assert_eq!(check, !t, "the tap: torn value");
                        let (id, i) = ((t >> 40) as usize, t & ((1 << 40) - 1));
                        assert!(i >= tap_next[id], "the tap: producer {id} reordered");
                        tap_next[id] = i + 1;
                    }
                    Err(TryRecvError::Lagged { .. }) => {}
                    Err(TryRecvError::Empty) => break,
                }
            }
        }
        other.join().unwrap();
        drop(p);
        while let Ok(_) | Err(TryRecvError::Lagged { .. }) = tap.try_recv() {}
        assert_eq!(tap.total_received() + tap.total_lagged(), per + mine);
        assert!(rounds >= 8);
    }
}
