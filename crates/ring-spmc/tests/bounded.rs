//! Bounded rings: gating, watermarks, `Full`, lossy taps, fill level, and
//! dropped subscribers releasing the publisher.

use std::time::{Duration, Instant};

use ring_spmc::{PublishError, TryRecvError, channel_bounded};

#[test]
fn publisher_refuses_to_overwrite_an_unread_value() {
    let (mut p, subs) = channel_bounded::<u32>(4, 0);
    let mut s = subs.subscribe();
    for i in 0..4 {
        assert_eq!(p.try_publish(i), Ok(()));
    }
    assert_eq!(p.try_publish(4), Err(PublishError::Full(4)));
    assert_eq!(s.try_recv(), Ok(0));
    // The subscriber's tracker is batched, but exact once it reports Empty;
    // one read frees exactly one slot once the publisher rescans.
    assert_eq!(s.drain().count(), 3);
    for i in 4..8 {
        assert_eq!(p.try_publish(i), Ok(()));
    }
    assert_eq!(p.try_publish(8), Err(PublishError::Full(8)));
    assert_eq!(s.drain().collect::<Vec<_>>(), [4, 5, 6, 7]);
    assert_eq!(s.total_lagged(), 0);
}

#[test]
fn watermark_keeps_headroom() {
    for (cap, wm) in [(4, 0), (4, 1), (4, 3), (8, 5), (16, 15)] {
        let (mut p, subs) = channel_bounded::<u64>(cap, wm);
        let _s = subs.subscribe();
        let mut n = 0;
        while p.try_publish(n).is_ok() {
            n += 1;
        }
        assert_eq!(n, (cap - wm) as u64, "capacity {cap}, watermark {wm}");
        assert_eq!(p.fill_level(), n);
        assert_eq!(p.fill_ratio(), 1.0);
    }
}

#[test]
fn no_gating_subscriber_means_no_gating() {
    let (mut p, subs) = channel_bounded::<u8>(2, 0);
    for i in 0..10 {
        assert_eq!(p.try_publish(i), Ok(()));
    }
    assert_eq!(p.fill_level(), 0);
    // A subscriber created now gates from the head on.
    let mut s = subs.subscribe();
    assert_eq!(p.try_publish(10), Ok(()));
    assert_eq!(p.try_publish(11), Ok(()));
    assert_eq!(p.try_publish(12), Err(PublishError::Full(12)));
    assert_eq!(s.drain().collect::<Vec<_>>(), [10, 11]);
}

#[test]
fn dropping_a_gating_subscriber_releases_the_publisher() {
    let (mut p, subs) = channel_bounded::<u8>(4, 0);
    let fast = subs.subscribe();
    let slow = subs.subscribe();
    for i in 0..4 {
        p.publish(i);
    }
    assert!(p.try_publish(4).is_err());
    drop(slow);
    assert!(
        p.try_publish(4).is_err(),
        "the other subscriber still gates"
    );
    drop(fast);
    for i in 4..100 {
        assert_eq!(p.try_publish(i), Ok(()), "nobody gates any more");
    }
}

#[test]
fn slowest_of_several_gating_subscribers_decides() {
    let (mut p, subs) = channel_bounded::<u8>(4, 0);
    let mut a = subs.subscribe();
    let mut b = subs.subscribe();
    p.publish_batch(&[0, 1, 2, 3]);
    assert_eq!(a.drain().count(), 4);
    assert_eq!(p.fill_level(), 4, "b has read nothing");
    assert_eq!(b.try_recv(), Ok(0));
    assert_eq!(b.try_recv(), Ok(1));
    assert_eq!(b.try_recv(), Ok(2));
    assert_eq!(b.try_recv(), Ok(3));
    assert_eq!(b.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(p.fill_level(), 0);
}

#[test]
fn lossy_tap_lags_while_gating_subscribers_lose_nothing() {
    let (mut p, subs) = channel_bounded::<u64>(4, 0);
    let mut critical = subs.subscribe();
    let mut tap = subs.subscribe_lossy();
    let mut got = Vec::new();
    for i in 0..20 {
        while p.try_publish(i).is_err() {
            got.extend(critical.drain());
        }
    }
    got.extend(critical.drain());
    assert_eq!(got, (0..20).collect::<Vec<_>>());
    assert!(matches!(tap.try_recv(), Err(TryRecvError::Lagged { .. })));
    assert_eq!(tap.drain().count() as u64 + tap.total_lagged(), 20);
}

#[test]
fn blocking_publish_waits_for_the_subscriber() {
    let (mut p, subs) = channel_bounded::<u64>(4, 0);
    let mut s = subs.subscribe();
    let start = Instant::now();
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        while got.len() < 100 {
            match s.recv_timeout(Duration::from_secs(10)) {
                Ok(v) => got.push(v),
                Err(e) => panic!("consumer: {e}"),
            }
            if got.len() % 10 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        got
    });
    for i in 0..100 {
        p.publish(i);
    }
    assert_eq!(consumer.join().unwrap(), (0..100).collect::<Vec<_>>());
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn subscribe_from_oldest_gates_from_where_it_starts() {
    let (mut p, subs) = channel_bounded::<u8>(4, 0);
    p.publish_batch(&[1, 2, 3]);
    let mut s = subs.subscribe_from_oldest();
    assert_eq!(p.fill_level(), 3);
    assert_eq!(p.try_publish(4), Ok(()));
    assert_eq!(p.try_publish(5), Err(PublishError::Full(5)));
    assert_eq!(s.drain().collect::<Vec<_>>(), [1, 2, 3, 4]);
}

/// With no gating subscriber the publisher cached a limit a window past the
/// head, so a subscriber from `subscribe_from_oldest` (registered behind the
/// head) was lapped by the next publish in the same thread; photon-ring
/// 3.0 scans on every publish while nobody gates and refuses with `Full`
/// (found by `differential/tests/spmc.rs`, seed 2).
#[test]
fn subscribe_from_oldest_is_seen_at_once_when_nobody_else_gates() {
    let (mut p, subs) = channel_bounded::<u64>(4, 2);
    for i in 0..33 {
        p.try_publish(i).unwrap(); // nobody gates
    }
    let mut s = subs.subscribe_from_oldest();
    assert_eq!(s.cursor(), 29);
    assert_eq!(p.try_publish(33), Err(PublishError::Full(33)));
    assert_eq!(s.try_recv(), Ok(29));
    assert_eq!(s.try_recv(), Ok(30));
    assert_eq!(p.try_publish(33), Err(PublishError::Full(33)));
    assert_eq!(s.try_recv(), Ok(31));
    assert_eq!(p.try_publish(33), Ok(()));
    assert_eq!(s.drain().collect::<Vec<_>>(), [32, 33]);
    assert_eq!(s.total_lagged(), 0);
}

/// Issue 9, bug 2: with no gating subscriber, the publisher's rescan inside
/// `publish_batch` computed its limit from the uncommitted sequence, while a
/// subscriber joining mid-batch starts at the committed head: the publisher
/// then overwrote values that gating subscriber had not read (`Lagged`).
/// Same for `subscribe_tracked`, which registers the same way.
#[test]
fn a_subscriber_joining_during_publish_batch_never_lags() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let n: u64 = if cfg!(miri) { 64 } else { 1 << 16 };
    let values: Vec<u64> = (0..n).collect();
    for round in 0..if cfg!(miri) { 2 } else { 6 } {
        let (mut p, subs) = channel_bounded::<u64>(2, 0);
        let started = Arc::new(AtomicBool::new(false));
        let go = Arc::clone(&started);
        let reader = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            // Acquire: pairs with the Release store below (only a start
            // signal; the ring's own protocol orders the values).
            while !go.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            let mut s = if round % 2 == 0 {
                subs.subscribe()
            } else {
                subs.subscribe_tracked()
            };
            let mut next = s.cursor();
            loop {
                assert!(Instant::now() < deadline, "timed out at {next}");
                match s.recv_timeout(Duration::from_secs(20)) {
                    Ok(v) => {
                        assert_eq!(v, next, "a gating subscriber sees every value");
                        next += 1;
                    }
                    Err(ring_spmc::RecvTimeoutError::Closed) => break next,
                    Err(e) => panic!("a gating subscriber got {e:?} at {next}"),
                }
            }
        });
        // Release: pairs with the reader's Acquire load.
        started.store(true, Ordering::Release);
        p.publish_batch(&values);
        drop(p);
        assert_eq!(reader.join().unwrap(), n);
    }
}

/// Issue 9, bug 4: a gating subscriber frees one publish per value it reads,
/// exactly, even when it stops part-way without ever finding the ring
/// empty (it used to publish its cursor only every `capacity / 16` reads,
/// leaving the publisher `Full`).
#[test]
fn every_read_frees_exactly_one_publish() {
    let (mut p, subs) = channel_bounded::<u64>(64, 0);
    let mut s = subs.subscribe();
    for i in 0..64 {
        p.try_publish(i).unwrap();
    }
    assert_eq!(p.try_publish(64), Err(PublishError::Full(64)));
    for i in 0..3 {
        assert_eq!(s.try_recv(), Ok(i));
        assert_eq!(p.fill_level(), 63);
        assert_eq!(p.try_publish(64 + i), Ok(()), "read {i} freed a slot");
        assert_eq!(p.try_publish(99), Err(PublishError::Full(99)));
    }
}

/// Issue 9, photon-ring 3.0 semantics on a capacity that is not a power of
/// two: `channel_bounded(6, 2)` refuses exactly when
/// `published - slowest >= 6 - 2`, and the gated subscriber sees every value.
#[test]
fn watermark_on_a_non_power_of_two_ring_is_exact() {
    let (mut p, subs) = channel_bounded::<u64>(6, 2);
    assert_eq!(p.capacity(), 6);
    let mut s = subs.subscribe();
    for i in 0..4 {
        p.try_publish(i).unwrap();
    }
    assert_eq!(p.try_publish(4), Err(PublishError::Full(4)));
    assert_eq!(p.fill_level(), 4);
    let mut next = 0;
    for i in 4..100 {
        assert_eq!(s.try_recv(), Ok(next));
        next += 1;
        p.try_publish(i).unwrap();
        assert_eq!(p.try_publish(999), Err(PublishError::Full(999)));
    }
    assert_eq!(
        s.drain().collect::<Vec<_>>(),
        (next..100).collect::<Vec<_>>()
    );
    assert_eq!(s.total_lagged(), 0);
}

/// `recv_each` (the batch read): values in order, at most `max` per call,
/// and the publisher gets the room back when it returns (one cursor store
/// per batch, never left behind); a lossy tap reading with it skips and
/// counts its lag.
#[test]
fn recv_each_delivers_in_order_and_frees_the_batch() {
    let (mut p, subs) = channel_bounded::<u64>(4, 0);
    let mut s = subs.subscribe();
    let mut tap = subs.subscribe_lossy();
    for i in 0..4 {
        p.try_publish(i).unwrap();
    }
    assert_eq!(p.try_publish(4), Err(PublishError::Full(4)));
    let mut got = Vec::new();
    assert_eq!(s.recv_each(3, |v| got.push(v)), 3);
    assert_eq!(got, [0, 1, 2]);
    assert_eq!(p.fill_level(), 1);
    for i in 4..7 {
        assert_eq!(p.try_publish(i), Ok(()), "the batch freed three slots");
    }
    assert_eq!(p.try_publish(99), Err(PublishError::Full(99)));
    assert_eq!(s.recv_each(usize::MAX, |v| got.push(v)), 4);
    assert_eq!(got, [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(s.recv_each(usize::MAX, |_| panic!("nothing is ready")), 0);
    assert_eq!(s.total_received(), 7);
    assert_eq!(s.recv_each(0, |_| panic!("max 0")), 0);

    // The tap was lapped by 3 (values 0..3 were overwritten by 4..7).
    let mut tapped = Vec::new();
    assert_eq!(tap.recv_each(usize::MAX, |v| tapped.push(v)), 4);
    assert_eq!(tapped, [3, 4, 5, 6]);
    assert_eq!((tap.total_received(), tap.total_lagged()), (4, 3));
}

/// A subscriber that starts behind the head (`subscribe_from_oldest`)
/// reads its history through `recv_each` too, and whatever was published
/// after it registered arrives.
#[test]
fn recv_each_from_the_oldest_value() {
    let (mut p, subs) = channel_bounded::<u64>(4, 0);
    p.publish_batch(&[0, 1, 2, 3, 4, 5]);
    let mut s = subs.subscribe_from_oldest();
    // The history gates the publisher: no room until it is read.
    assert_eq!(p.try_publish(6), Err(PublishError::Full(6)));
    let mut got = Vec::new();
    assert_eq!(s.recv_each(2, |v| got.push(v)), 2);
    assert_eq!(p.try_publish(6), Ok(()));
    while s.recv_each(2, |v| got.push(v)) > 0 {}
    assert_eq!(got, [2, 3, 4, 5, 6]);
}

/// A hostile user moves a gating subscriber's tracker forward by hand
/// (`tracker()` hands out photon-ring's `Arc<Padded<AtomicU64>>`, whose
/// field is public). The publisher then overwrites values the subscriber
/// has not read: its own doing, so it may lose them, but the loss must be
/// reported as `Lagged`, never hidden: a gating subscriber's one-check
/// (`try_read_held`) and no-check (`read_published`) reads assume nobody
/// else moves its tracker, and with another thread publishing a forged
/// tracker let them accept a torn copy (undefined behaviour for `bool` or
/// enum payloads, in safe code). Single-threaded, the no-check batch read
/// returned the later lap's values as if they were the lost ones (release),
/// or failed its debug assertion.
#[test]
fn a_tracker_moved_by_hand_loses_values_as_lag_never_as_wrong_values() {
    use std::sync::atomic::Ordering;

    let (mut p, subs) = channel_bounded::<u64>(2, 0);
    let mut s = subs.subscribe();
    p.publish(0);
    p.publish(1);
    let forged = s.tracker().expect("a gating subscriber has a tracker");
    forged.0.store(u64::MAX, Ordering::Release);
    // The scan sees the forged cursor: 0 and 1 are overwritten.
    assert_eq!(p.try_publish(2), Ok(()));
    assert_eq!(p.try_publish(3), Ok(()));
    let mut got = Vec::new();
    s.recv_each(8, |v| got.push(v));
    assert_eq!(got, [2, 3]);
    assert_eq!((s.total_received(), s.total_lagged()), (2, 2));

    // The same through `try_recv`, on a fresh subscriber.
    drop(s);
    let mut s = subs.subscribe();
    s.tracker().unwrap().0.store(u64::MAX, Ordering::Release);
    for v in 10..13 {
        assert_eq!(p.try_publish(v), Ok(()));
    }
    assert_eq!(s.try_recv(), Err(TryRecvError::Lagged { skipped: 1 }));
    assert_eq!(s.try_recv(), Ok(11));
    assert_eq!(s.try_recv(), Ok(12));
}
