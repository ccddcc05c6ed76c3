//! Real threads, many values: a bounded ring loses, duplicates and
//! reorders nothing; a lossy ring delivers whole values in order and counts
//! every loss exactly. Release builds run 10 million values; debug builds
//! and Miri run scaled-down counts. Capacities: a power of two (1024) and
//! two that are not (60, 250), so both indexing paths run under contention.

use std::time::{Duration, Instant};

use ring_spmc::{RecvTimeoutError, channel, channel_bounded};

const VALUES: u64 = if cfg!(miri) {
    200
} else if cfg!(debug_assertions) {
    200_000
} else {
    10_000_000
};

const DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn bounded_one_to_two_loses_nothing() {
    let _serial = seqcast_test_support::one_at_a_time();
    let (mut p, subs) = channel_bounded::<u64>(1024, 0);
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let mut s = subs.subscribe();
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut expected = 0_u64;
                loop {
                    match s.recv_timeout(Duration::from_secs(10)) {
                        Ok(v) => {
                            assert_eq!(v, expected, "lost, duplicated or reordered");
                            expected += 1;
                        }
                        Err(RecvTimeoutError::Closed) => break,
                        Err(e) => panic!("at {expected}: {e}"),
                    }
                    assert!(start.elapsed() < DEADLINE, "stalled at {expected}");
                }
                assert_eq!(s.total_lagged(), 0);
                expected
            })
        })
        .collect();
    drop(subs);
    for i in 0..VALUES {
        p.publish(i);
    }
    drop(p);
    for c in consumers {
        assert_eq!(c.join().unwrap(), VALUES);
    }
}

#[test]
fn bounded_batches_lose_nothing() {
    let _serial = seqcast_test_support::one_at_a_time();
    let (mut p, subs) = channel_bounded::<[u32; 3]>(60, 8);
    let mut s = subs.subscribe();
    let consumer = std::thread::spawn(move || {
        let mut expected = 0_u32;
        let mut buf = [[0; 3]; 16];
        let start = Instant::now();
        while !s.is_closed() || s.pending() > 0 {
            let n = s.recv_batch(&mut buf);
            for v in &buf[..n] {
                assert_eq!(*v, [expected, !expected, expected ^ 0x55], "torn or lost");
                expected += 1;
            }
            if n == 0 {
                std::thread::yield_now();
            }
            assert!(start.elapsed() < DEADLINE);
        }
        expected
    });
    let n = (VALUES / 10) as u32;
    let mut batch = Vec::with_capacity(100);
    for i in 0..n {
        batch.push([i, !i, i ^ 0x55]);
        if batch.len() == 100 {
            p.publish_batch(&batch);
            batch.clear();
        }
    }
    p.publish_batch(&batch);
    drop(p);
    assert_eq!(consumer.join().unwrap(), n);
}

/// `recv_each` against a publisher on another thread: one head load and
/// one cursor store per batch, no stamp checks. A value read from a slot the
/// publisher was already overwriting would show as torn or out of order.
#[test]
fn bounded_recv_each_loses_nothing() {
    let _serial = seqcast_test_support::one_at_a_time();
    let (mut p, subs) = channel_bounded::<[u64; 3]>(60, 0);
    let mut s = subs.subscribe();
    let consumer = std::thread::spawn(move || {
        let mut expected = 0_u64;
        let start = Instant::now();
        while !s.is_closed() || s.pending() > 0 {
            let n = s.recv_each(usize::MAX, |v| {
                assert_eq!(v, [expected, !expected, expected ^ 0x55], "torn or lost");
                expected += 1;
            });
            if n == 0 {
                std::thread::yield_now();
            }
            assert!(start.elapsed() < DEADLINE);
        }
        assert_eq!(s.total_lagged(), 0);
        expected
    });
    let n = VALUES / 2;
    for i in 0..n {
        p.publish([i, !i, i ^ 0x55]);
    }
    drop(p);
    assert_eq!(consumer.join().unwrap(), n);
}

#[test]
fn lossy_one_to_two_counts_every_loss() {
    let _serial = seqcast_test_support::one_at_a_time();
    let (mut p, subs) = channel::<[u64; 4]>(250);
    let consumers: Vec<_> = (0..2)
        .map(|k| {
            let mut s = subs.subscribe();
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut last: Option<u64> = None;
                loop {
                    match s.recv_timeout(Duration::from_secs(10)) {
                        Ok(v) => {
                            assert!(v.iter().all(|&w| w == v[0]), "torn value {v:?}");
                            assert!(last.is_none_or(|l| v[0] > l), "reordered or duplicated");
                            last = Some(v[0]);
                        }
                        Err(RecvTimeoutError::Lagged { skipped }) => assert!(skipped > 0),
                        Err(RecvTimeoutError::Closed) => break,
                        Err(RecvTimeoutError::Timeout) => panic!("timed out"),
                    }
                    if k == 1 && s.total_received() % 4096 == 0 {
                        // One slow subscriber, to make lag happen.
                        std::thread::yield_now();
                    }
                    assert!(start.elapsed() < DEADLINE);
                }
                (s.total_received(), s.total_lagged())
            })
        })
        .collect();
    drop(subs);
    for i in 0..VALUES {
        p.publish([i; 4]);
    }
    drop(p);
    for c in consumers {
        let (received, lagged) = c.join().unwrap();
        assert_eq!(
            received + lagged,
            VALUES,
            "every value received or counted lost"
        );
        assert!(received > 0);
    }
}

/// A hostile subscriber moves its own tracker past everything after each
/// read (through the `Arc` that `tracker()` hands out), so the publisher
/// overwrites slots while it copies them. It loses values (as `Lagged`),
/// but must never accept a torn one: four words tagged with the sequence.
/// With its one-check held reads kept after `tracker()`, it accepted torn
/// copies (undefined behaviour for payloads with invalid bit patterns).
#[test]
fn a_tracker_moved_by_hand_never_lets_a_torn_value_through() {
    use std::sync::atomic::Ordering;

    let _serial = seqcast_test_support::one_at_a_time();
    let (mut p, subs) = channel_bounded::<[u64; 4]>(2, 0);
    let mut s = subs.subscribe();
    let forged = s.tracker().unwrap();
    let reader = std::thread::spawn(move || {
        let start = Instant::now();
        let (mut received, mut lagged, mut last) = (0_u64, 0_u64, None);
        loop {
            assert!(start.elapsed() < DEADLINE, "stalled after {received}");
            let closed = s.is_closed();
            match s.try_recv() {
                Ok(v) => {
                    assert_eq!(v, [v[0], !v[0], v[0], !v[0]], "torn value accepted");
                    assert!(last < Some(v[0]), "{} after {last:?}", v[0]);
                    last = Some(v[0]);
                    received += 1;
                }
                Err(ring_spmc::TryRecvError::Lagged { skipped }) => lagged += skipped,
                Err(ring_spmc::TryRecvError::Empty) if closed => break,
                Err(ring_spmc::TryRecvError::Empty) => std::thread::yield_now(),
            }
            // Release: what a subscriber's own store is; here it lies.
            forged.0.store(u64::MAX, Ordering::Release);
        }
        (received, lagged)
    });
    for seq in 0..VALUES {
        p.publish([seq, !seq, seq, !seq]);
    }
    drop(p);
    let (received, lagged) = reader.join().unwrap();
    assert_eq!(received + lagged, VALUES);
}

/// How one subscription in [`churn`] went.
enum Kind {
    /// `subscribe`, `subscribe_tracked`, a group: never lagged, every value
    /// from its start.
    FromHead,
    /// `subscribe_from_oldest`: may lose (and count) only values below
    /// `protected`, an upper bound of the head at its registration.
    FromOldest { protected: u64 },
}

/// Reads up to `n` values of `[i, !i]` from `s`, checking what `kind`
/// promises; stops early when the channel is closed and drained.
fn read_some(s: &mut ring_spmc::Subscriber<[u64; 2]>, kind: Kind, n: u64, start: Instant) {
    use ring_spmc::TryRecvError;

    let mut pos = s.cursor();
    let mut read = 0;
    while read < n {
        assert!(start.elapsed() < DEADLINE, "stalled at {pos}");
        let closed = s.is_closed();
        match s.try_recv() {
            Ok(v) => {
                assert_eq!(v, [pos, !pos], "torn, lost or misplaced value");
                pos += 1;
                read += 1;
            }
            Err(TryRecvError::Lagged { skipped }) => match kind {
                Kind::FromHead => panic!("a gating subscriber lagged by {skipped} at {pos}"),
                Kind::FromOldest { protected } => {
                    assert!(
                        pos + skipped <= protected,
                        "lapped a value published after the registration: {skipped} from {pos}, registered by {protected}"
                    );
                    pos += skipped;
                }
            },
            Err(TryRecvError::Empty) if closed => return,
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
}

/// One thread publishes (`publish`, `publish_batch` of three,
/// `try_publish` retried on `Full`) `total` values `[i, !i]` into a bounded
/// ring; this thread makes gating subscriptions of every kind one after
/// another, reads a few values from each and drops it, so the ring swings
/// between gated and ungated (the ring's `ungated_limit` raised by scans,
/// reset by registrations) while the publisher runs; a lossy tap follows
/// throughout. Returns the number of subscriptions made.
fn churn(capacity: usize, watermark: usize, total: u64) -> u64 {
    use ring_spmc::{PublishError, TryRecvError};

    let start = Instant::now();
    let (mut p, subs) = channel_bounded::<[u64; 2]>(capacity, watermark);
    let mut tap = subs.subscribe_lossy();
    let publisher = std::thread::spawn(move || {
        let value = |i: u64| [i, !i];
        let mut i = 0;
        while i < total {
            match i % 3 {
                0 => {
                    p.publish(value(i));
                    i += 1;
                }
                1 => {
                    let end = (i + 3).min(total);
                    let batch: Vec<_> = (i..end).map(value).collect();
                    p.publish_batch(&batch);
                    i = end;
                }
                _ => {
                    let mut v = value(i);
                    while let Err(PublishError::Full(back)) = p.try_publish(v) {
                        assert!(start.elapsed() < DEADLINE, "publisher stalled at {i}");
                        v = back;
                        std::thread::yield_now();
                    }
                    i += 1;
                }
            }
        }
    });
    let (mut rounds, mut tap_next) = (0_u64, 0_u64);
    loop {
        assert!(start.elapsed() < DEADLINE, "churn stalled");
        let n = rounds % 7 + 1;
        match rounds % 4 {
            0 => read_some(&mut subs.subscribe(), Kind::FromHead, n, start),
            1 => read_some(&mut subs.subscribe_tracked(), Kind::FromHead, n, start),
            2 => read_some(&mut subs.subscribe_group::<2>(), Kind::FromHead, n, start),
            _ => {
                let mut s = subs.subscribe_from_oldest();
                let protected = s.cursor() + s.pending();
                read_some(&mut s, Kind::FromOldest { protected }, n, start);
            }
        }
        rounds += 1;
        // The tap: whole values in order, every loss counted.
        let closed = tap.is_closed();
        loop {
            match tap.try_recv() {
                Ok(v) => {
                    assert_eq!(v, [tap_next, !tap_next], "the tap: torn or misplaced");
                    tap_next += 1;
                }
                Err(TryRecvError::Lagged { skipped }) => tap_next += skipped,
                Err(TryRecvError::Empty) => break,
            }
        }
        if closed {
            break;
        }
    }
    publisher.join().unwrap();
    assert_eq!(tap_next, total, "the tap reaches the end");
    assert_eq!(tap.total_received() + tap.total_lagged(), total);
    rounds
}

/// Subscriptions of every kind made and dropped while the publisher runs,
/// on capacities that are not powers of two, with watermarks 0 and
/// `capacity - 1` (a one-value window): no gating subscriber ever lags or
/// sees a torn value; `subscribe_from_oldest` loses only history.
#[test]
fn subscription_churn_racing_publish_never_lags_a_gating_subscriber() {
    let _serial = seqcast_test_support::one_at_a_time();
    let total = VALUES / 50;
    for (capacity, watermark) in [(5, 0), (6, 5), (7, 3), (1024, 0)] {
        assert!(churn(capacity, watermark, total) > 0);
    }
}
