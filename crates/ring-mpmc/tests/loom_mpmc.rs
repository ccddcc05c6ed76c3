//! loom models on the real ring-mpmc types: two producers and a subscriber
//! (exactly once, per-producer order, the cursor reaches the total), two
//! producers a lap apart on a 2-slot ring (no torn value), bounded gating
//! with two producers and a subscriber dropped mid-run, close on the last
//! producer drop, a waiting publisher released by a subscriber's read,
//! `latest` racing a producer preempted between claim and write,
//! `subscribe` and `subscribe_from_oldest` racing two producers on a
//! bounded ring, and `try_publish` mixed with `publish_with` on a bounded
//! ring.
#![cfg(ring_loom)]

use loom::thread;
use ring_mpmc::{RecvError, TryRecvError, channel_mpmc, channel_mpmc_bounded};

/// Every model sets its own preemption bound, so `cargo test` with
/// `--cfg ring_loom` alone finishes (no `LOOM_MAX_PREEMPTIONS` needed).
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    // Waiting threads (a producer out of room, a subscriber finding nothing)
    // yield in a loop; each turn is a handful of branches.
    builder.max_branches = 20_000;
    builder.check(f);
}

/// Producer `id`'s `i`-th value.
fn tag(id: u64, i: u64) -> u64 {
    id * 100 + i
}

/// Checks a value against the next expected index of its producer.
fn take(next: &mut [u64; 2], v: u64) {
    let (id, i) = ((v / 100) as usize, v % 100);
    assert_eq!(i, next[id], "producer {id}: lost, duplicated or reordered");
    next[id] += 1;
}

#[test]
fn two_producers_and_a_subscriber() {
    model(3, || {
        let (p, subs) = channel_mpmc::<u64>(4);
        let mut s = subs.subscribe();
        let q = p.clone();
        let other = thread::spawn(move || {
            q.publish(tag(1, 0));
            q.publish(tag(1, 1));
        });
        let mut next = [0, 0];
        p.publish(tag(0, 0));
        // Read while the other producer may be mid-write.
        for _ in 0..2 {
            match s.try_recv() {
                Ok(v) => take(&mut next, v),
                Err(TryRecvError::Empty) => {}
                Err(e) => panic!("4 slots hold 3 values: {e}"),
            }
        }
        other.join().unwrap();
        // Every publish returned: the cursor must have reached them all
        // (the commit's store-buffering argument), and every value is there.
        assert_eq!(p.published(), 3);
        for v in s.drain() {
            take(&mut next, v);
        }
        assert_eq!(next, [1, 2]);
        assert_eq!(s.total_lagged(), 0);
    });
}

#[test]
fn producers_a_lap_apart_on_a_two_slot_ring() {
    model(2, || {
        // Two words: a mix of two writes shows as unequal words.
        let (p, subs) = channel_mpmc::<[u64; 2]>(2);
        let mut s = subs.subscribe();
        let q = p.clone();
        let other = thread::spawn(move || {
            q.publish([tag(1, 0); 2]);
            q.publish([tag(1, 1); 2]);
        });
        // Sequences 0..4 on two slots: claims two apart share a slot.
        p.publish([tag(0, 0); 2]);
        p.publish([tag(0, 1); 2]);
        other.join().unwrap();
        assert_eq!(p.published(), 4);
        let mut next = [0, 0];
        let mut seen = 0;
        loop {
            match s.try_recv() {
                Ok(v) => {
                    assert_eq!(v[0], v[1], "torn: two writers on one slot");
                    let (id, i) = ((v[0] / 100) as usize, v[0] % 100);
                    assert!(i >= next[id], "producer {id} out of order");
                    next[id] = i + 1;
                    seen += 1;
                }
                Err(TryRecvError::Lagged { .. }) => {}
                Err(TryRecvError::Empty) => break,
            }
        }
        assert_eq!(seen, 2, "the last lap is retained whole");
        assert_eq!(s.total_received() + s.total_lagged(), 4);
    });
}

#[test]
fn bounded_gating_with_two_producers_and_a_subscriber_dropped_mid_run() {
    model(2, || {
        let (p, subs) = channel_mpmc_bounded::<u64>(2, 0);
        let mut s = subs.subscribe();
        let subscriber = thread::spawn(move || {
            // A gating subscriber never lags; it reads one value and leaves.
            loop {
                match s.try_recv() {
                    Ok(v) => {
                        assert!(v == tag(0, 0) || v == tag(1, 0), "{v}");
                        break;
                    }
                    Err(TryRecvError::Empty) => thread::yield_now(),
                    Err(e) => panic!("a gating subscriber lagged: {e}"),
                }
            }
            drop(s);
        });
        let q = p.clone();
        let other = thread::spawn(move || q.publish(tag(1, 0)));
        // Three values into two slots: one waits for the read or the drop;
        // neither may deadlock a producer.
        p.publish(tag(0, 0));
        p.publish(tag(0, 1));
        other.join().unwrap();
        subscriber.join().unwrap();
        assert_eq!(p.published(), 3);
    });
}

#[test]
fn close_when_the_last_producer_drops() {
    model(2, || {
        let (p, subs) = channel_mpmc::<u64>(4);
        let mut s = subs.subscribe();
        let q = p.clone();
        let a = thread::spawn(move || {
            p.publish(tag(0, 0));
        });
        let b = thread::spawn(move || {
            q.publish(tag(1, 0));
        });
        // Parks until a value or the close; must see both values first.
        let mut next = [0, 0];
        loop {
            match s.recv_blocking() {
                Ok(v) => take(&mut next, v),
                Err(RecvError::Closed) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(next, [1, 1], "closed before every value was read");
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn a_waiting_publisher_is_released_by_a_read() {
    model(2, || {
        let (p, subs) = channel_mpmc_bounded::<u64>(2, 0);
        let mut s = subs.subscribe();
        // One producer fills the ring; a second one's publish must wait
        // until the subscriber (a thread of its own) reads the first value.
        p.publish(tag(0, 0));
        p.publish(tag(0, 1));
        let q = p.clone();
        let waiting = thread::spawn(move || q.publish(tag(1, 0)));
        let subscriber = thread::spawn(move || {
            let mut next = [0, 0];
            for _ in 0..3 {
                loop {
                    match s.try_recv() {
                        Ok(v) => {
                            take(&mut next, v);
                            break;
                        }
                        Err(TryRecvError::Empty) => thread::yield_now(),
                        Err(e) => panic!("a gating subscriber lagged: {e}"),
                    }
                }
            }
            assert_eq!(s.total_lagged(), 0);
            next
        });
        waiting.join().unwrap();
        assert_eq!(subscriber.join().unwrap(), [2, 1]);
        assert_eq!(p.published(), 3);
    });
}

/// `latest` while another producer is preempted between its claim and its
/// write: on a 2-slot ring the newest value below the cursor can be lapped
/// by a later producer while the value at the subscriber's cursor is still
/// unwritten. `latest` must still return (a newer value), not spin until the
/// late producer runs, and every value stays counted once.
#[test]
fn latest_racing_a_producer_preempted_between_claim_and_write() {
    model(3, || {
        let (p, subs) = channel_mpmc::<u64>(2);
        let mut s = subs.subscribe();
        p.publish(tag(0, 0));
        assert_eq!(s.try_recv(), Ok(tag(0, 0)));
        let q = p.clone();
        let other = thread::spawn(move || q.publish(tag(1, 0)));
        // Sequences 1 and 2 go to the two threads in either order.
        p.publish(tag(0, 1));
        let got = s.latest();
        assert!(
            got == Some(tag(0, 1)) || got == Some(tag(1, 0)),
            "latest returned {got:?}"
        );
        other.join().unwrap();
        let _ = s.drain().count();
        assert_eq!(s.total_received() + s.total_lagged(), 3);
    });
}

/// `subscribe` racing two producers on a bounded ring: the new gating
/// subscriber starts at the cursor and, from there, sees every value, in
/// order, and never lags, whatever the producers had claimed or cached.
#[test]
fn subscribe_racing_two_producers_on_a_bounded_ring() {
    model(3, || {
        let (p, subs) = channel_mpmc_bounded::<u64>(2, 0);
        let q = p.clone();
        let other = thread::spawn(move || {
            q.publish(tag(1, 0));
            q.publish(tag(1, 1));
        });
        p.publish(tag(0, 0));
        let mut s = subs.subscribe();
        let start = s.cursor();
        assert!(start <= 3);
        let mut last_of = [None::<u64>; 2];
        let mut got = 0;
        while got < 3 - start {
            match s.try_recv() {
                Ok(v) => {
                    let (id, i) = ((v / 100) as usize, v % 100);
                    assert!(last_of[id].is_none_or(|l| i > l), "reordered");
                    last_of[id] = Some(i);
                    got += 1;
                }
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(e) => panic!("a gating subscriber lagged: {e}"),
            }
        }
        other.join().unwrap();
        assert_eq!(p.published(), 3);
        assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(s.total_lagged(), 0);
    });
}

/// `subscribe_from_oldest` racing two producers on a bounded ring that
/// nobody else gates: the subscriber starts behind the cursor, so the
/// producers may lap the history it starts with (each loss counted as
/// `Lagged`), but never a value published after the registration (at or
/// above the cursor read after it returns), whether a producer's room was
/// cached before the registration (the ring's `ungated_limit`, which the
/// registration resets) or computed after it. Every value is received or
/// counted once, in each producer's order.
#[test]
fn subscribe_from_oldest_racing_two_producers_on_a_bounded_ring() {
    model(2, || {
        let (p, subs) = channel_mpmc_bounded::<u64>(2, 0);
        let q = p.clone();
        let other = thread::spawn(move || {
            q.publish(tag(1, 0));
            q.publish(tag(1, 1));
        });
        p.publish(tag(0, 0));
        let mut s = subs.subscribe_from_oldest();
        // Every value from here on was published after the registration.
        let protected = p.published();
        let start = s.cursor();
        assert!(start <= protected && protected <= 3);
        // The sequence `s` reads next: one up per value, `skipped` up per
        // lag (which jumps to the oldest value retained).
        let mut pos = start;
        let mut last_of = [None::<u64>; 2];
        while pos < 3 {
            match s.try_recv() {
                Ok(v) => {
                    let (id, i) = ((v / 100) as usize, v % 100);
                    assert!(last_of[id].is_none_or(|l| i > l), "duplicated or reordered");
                    last_of[id] = Some(i);
                    pos += 1;
                }
                Err(TryRecvError::Lagged { skipped }) => {
                    assert!(
                        pos + skipped <= protected,
                        "lapped a value published after the registration: \
                         {skipped} skipped from {pos}, registered at {protected}"
                    );
                    pos += skipped;
                }
                Err(TryRecvError::Empty) => thread::yield_now(),
            }
        }
        other.join().unwrap();
        assert_eq!(p.published(), 3);
        assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(s.total_received() + s.total_lagged(), 3 - start);
    });
}

/// `try_publish` and `publish_with` mixed on a bounded ring: one producer
/// retries `try_publish` on `Full` (which hands the value back), the other
/// reads and, after its first read, publishes with `publish_with`;
/// nothing is lost, duplicated or reordered, and a gating subscriber never
/// lags.
#[test]
fn try_publish_and_publish_with_mixed_on_a_bounded_ring() {
    model(3, || {
        let (p, subs) = channel_mpmc_bounded::<u64>(2, 0);
        let mut s = subs.subscribe();
        let q = p.clone();
        let trying = thread::spawn(move || {
            for i in 0..2 {
                let mut v = tag(1, i);
                while let Err(ring_mpmc::PublishError::Full(back)) = q.try_publish(v) {
                    assert_eq!(back, tag(1, i), "Full hands back the value");
                    v = back;
                    thread::yield_now();
                }
            }
        });
        let mut next = [0, 0];
        for round in 0..3 {
            if round == 1 {
                // One value read: room for this one, racing the other
                // producer's second `try_publish`.
                p.publish_with(|| tag(0, 0));
            }
            loop {
                match s.try_recv() {
                    Ok(v) => {
                        take(&mut next, v);
                        break;
                    }
                    Err(TryRecvError::Empty) => thread::yield_now(),
                    Err(e) => panic!("a gating subscriber lagged: {e}"),
                }
            }
        }
        trying.join().unwrap();
        assert_eq!(next, [1, 2]);
        assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(p.published(), 3);
    });
}

/// The review of the ring's `ungated_limit` with two producers: a gating
/// subscriber is dropped by one producer while the other may be waiting on
/// it (a scan then finds nobody gating and raises the ungated room), then a
/// new `subscribe` races the dropping producer's `try_publish`es, which may use a room
/// loaded before the registration reset it. The new subscriber never lags
/// and reads every value from its start whole (two words) and in each
/// producer's order; `Full` hands the value back.
#[test]
fn subscribe_racing_try_publish_after_a_gating_drop_raised_the_ungated_room() {
    model(2, || {
        let (p, subs) = channel_mpmc_bounded::<[u64; 2]>(2, 0);
        let gate = subs.subscribe();
        let q = p.clone();
        let other = thread::spawn(move || {
            drop(gate);
            for i in 0..2 {
                let mut v = [tag(1, i), !tag(1, i)];
                while let Err(ring_mpmc::PublishError::Full(back)) = q.try_publish(v) {
                    v = back;
                    thread::yield_now();
                }
            }
        });
        // The second may wait for the gate's drop.
        p.publish([tag(0, 0), !tag(0, 0)]);
        p.publish([tag(0, 1), !tag(0, 1)]);
        let mut s = subs.subscribe();
        let start = s.cursor();
        assert!(start <= 4);
        let mut last_of = [None::<u64>; 2];
        let mut got = 0;
        while got < 4 - start {
            match s.try_recv() {
                Ok([v, w]) => {
                    assert_eq!(w, !v, "torn value");
                    let (id, i) = ((v / 100) as usize, v % 100);
                    assert!(last_of[id].is_none_or(|l| i > l), "reordered");
                    last_of[id] = Some(i);
                    got += 1;
                }
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(e) => panic!("a gating subscriber lagged: {e}"),
            }
        }
        other.join().unwrap();
        assert_eq!(p.published(), 4);
        assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(s.total_lagged(), 0);
    });
}
