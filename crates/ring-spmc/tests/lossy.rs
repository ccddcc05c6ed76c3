//! Lossy rings: future-only subscriptions, exact lag arithmetic, latest,
//! pending, drain, batches, from-oldest, capacity rounding, payload types.

use ring_spmc::{TryRecvError, channel};

#[test]
fn subscribers_see_only_later_values_each_in_full() {
    let (mut p, subs) = channel::<u64>(8);
    p.publish(1);
    let mut a = subs.subscribe();
    p.publish(2);
    let mut b = subs.subscribe();
    p.publish(3);
    assert_eq!(a.drain().collect::<Vec<_>>(), [2, 3]);
    assert_eq!(b.drain().collect::<Vec<_>>(), [3]);
    assert_eq!(a.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn lag_is_exact_and_received_plus_lagged_equals_published() {
    for capacity in [2_usize, 4, 8, 64] {
        let (mut p, subs) = channel::<u64>(capacity);
        let mut s = subs.subscribe();
        let mut expected_next = 0;
        // Publish in bursts of varying size, reading a little in between.
        let rounds: u64 = if cfg!(miri) { 20 } else { 200 };
        for round in 0..rounds {
            let burst = (round * 7) % (3 * capacity as u64) + 1;
            for _ in 0..burst {
                p.publish(p.published());
            }
            for _ in 0..(round % 5) {
                match s.try_recv() {
                    Ok(v) => {
                        assert_eq!(v, expected_next, "in order, no duplicates");
                        expected_next = v + 1;
                    }
                    Err(TryRecvError::Lagged { skipped }) => {
                        assert!(skipped > 0);
                        expected_next += skipped;
                        // Lag lands on the oldest retained value.
                        assert_eq!(s.cursor(), p.published() - capacity as u64);
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
        }
        while let Some(v) = s.drain().next() {
            assert!(v >= expected_next);
            expected_next = v + 1;
        }
        assert_eq!(
            s.total_received() + s.total_lagged(),
            p.published(),
            "capacity {capacity}"
        );
    }
}

#[test]
fn lagged_is_reported_once_then_the_oldest_value() {
    let (mut p, subs) = channel::<u32>(4);
    let mut s = subs.subscribe();
    p.publish_batch(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(s.try_recv(), Err(TryRecvError::Lagged { skipped: 6 }));
    assert_eq!(s.try_recv(), Ok(6));
    assert_eq!(s.drain().collect::<Vec<_>>(), [7, 8, 9]);
    assert_eq!(s.total_lagged(), 6);
    assert_eq!(s.total_received(), 4);
    assert_eq!(s.receive_ratio(), 0.4);
}

#[test]
fn latest_skips_to_the_newest_value() {
    let (mut p, subs) = channel::<u32>(4);
    let mut s = subs.subscribe();
    assert_eq!(s.latest(), None);
    p.publish_batch(&[1, 2, 3, 4, 5, 6]);
    assert_eq!(s.latest(), Some(6));
    assert_eq!(s.total_lagged(), 5, "the skipped values count as lag");
    assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
    p.publish(7);
    assert_eq!(s.try_recv(), Ok(7));
}

#[test]
fn pending_counts_ready_values_capped_at_capacity() {
    let (mut p, subs) = channel::<u8>(4);
    let mut s = subs.subscribe();
    assert_eq!(s.pending(), 0);
    p.publish_batch(&[1, 2, 3]);
    assert_eq!(s.pending(), 3);
    s.try_recv().unwrap();
    assert_eq!(s.pending(), 2);
    p.publish_batch(&[4, 5, 6, 7, 8]);
    assert_eq!(s.pending(), 4);
}

#[test]
fn recv_batch_fills_what_is_ready_and_skips_lag() {
    let (mut p, subs) = channel::<u16>(4);
    let mut s = subs.subscribe();
    p.publish_batch(&[1, 2, 3, 4, 5, 6]);
    let mut buf = [0; 8];
    assert_eq!(s.recv_batch(&mut buf), 4);
    assert_eq!(buf[..4], [3, 4, 5, 6]);
    assert_eq!(s.total_lagged(), 2);
    let mut small = [0; 1];
    p.publish_batch(&[7, 8]);
    assert_eq!(s.recv_batch(&mut small), 1);
    assert_eq!(small, [7]);
    assert_eq!(s.recv_batch(&mut []), 0);
}

#[test]
fn subscribe_from_oldest_replays_what_is_retained() {
    let (mut p, subs) = channel::<u64>(4);
    let mut empty = subs.subscribe_from_oldest();
    assert_eq!(empty.cursor(), 0);
    p.publish_batch(&[0, 1]);
    let mut early = subs.subscribe_from_oldest();
    assert_eq!(early.drain().collect::<Vec<_>>(), [0, 1]);
    p.publish_batch(&[2, 3, 4, 5, 6]);
    let mut late = subs.subscribe_from_oldest();
    assert_eq!(late.drain().collect::<Vec<_>>(), [3, 4, 5, 6]);
    assert_eq!(empty.try_recv(), Err(TryRecvError::Lagged { skipped: 3 }));
}

/// Issue 9: any capacity >= 2 is kept exactly, as photon-ring 3.0 (it was
/// rounded up to a power of two).
#[test]
fn capacity_is_exactly_the_one_asked_for() {
    for asked in [2, 3, 5, 6, 7, 1000, 1024, 1025] {
        let (p, _s) = channel::<u8>(asked);
        assert_eq!(p.capacity(), asked as u64);
    }
}

/// Issue 9, photon-ring 3.0's numbers: 13 values into `channel(5)`, and a
/// fresh subscriber gets `Lagged { skipped: 8 }`, then the last 5.
#[test]
fn lag_on_a_non_power_of_two_ring_is_exact() {
    let (mut p, subs) = channel::<u64>(5);
    let mut s = subs.subscribe();
    for i in 0..13 {
        p.publish(i);
    }
    assert_eq!(s.pending(), 5);
    assert_eq!(s.try_recv(), Err(TryRecvError::Lagged { skipped: 8 }));
    assert_eq!(s.drain().collect::<Vec<_>>(), [8, 9, 10, 11, 12]);
    assert_eq!(s.total_received() + s.total_lagged(), 13);
    let mut oldest = subs.subscribe_from_oldest();
    assert_eq!(oldest.drain().collect::<Vec<_>>(), [8, 9, 10, 11, 12]);
    // Across many laps, every capacity: the count stays exact.
    for cap in [3_usize, 5, 6, 7, 12] {
        let (mut p, subs) = channel::<u64>(cap);
        let mut s = subs.subscribe();
        let mut next = 0;
        for round in 0..50_u64 {
            for _ in 0..(round % (2 * cap as u64 + 1)) {
                p.publish(p.published());
            }
            loop {
                match s.try_recv() {
                    Ok(v) => {
                        assert_eq!(v, next, "capacity {cap}");
                        next += 1;
                    }
                    Err(TryRecvError::Lagged { skipped }) => {
                        next += skipped;
                        assert_eq!(next, p.published().saturating_sub(cap as u64));
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            assert_eq!(next, p.published());
            assert_eq!(s.total_received() + s.total_lagged(), p.published());
        }
    }
}

#[test]
fn subscriber_group_shares_one_cursor() {
    let (mut p, subs) = channel::<u32>(8);
    let mut g = subs.subscribe_group::<4>();
    p.publish_batch(&[1, 2, 3]);
    assert_eq!(g.try_recv(), Ok(1));
    assert_eq!(g.recv(), 2);
    assert_eq!(g.aligned_count(), 4);
    assert_eq!(g.size(), 4);
    assert_eq!(g.cursor(), 2);
    assert_eq!(g.into_inner().try_recv(), Ok(3));
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Event {
    Quote { bid: f32, ask: f32 },
    Trade(u64, bool),
    Halt,
}

#[test]
#[cfg_attr(
    all(miri, ring_miri_words),
    ignore = "payloads with padding need the native or locked copy"
)]
fn any_copy_payload_bool_enum_option_padding() {
    let (mut p, subs) = channel::<(Event, Option<u8>, bool)>(4);
    let mut s = subs.subscribe();
    let values = [
        (Event::Quote { bid: 1.0, ask: 1.5 }, Some(3), true),
        (Event::Trade(9, false), None, false),
        (Event::Halt, Some(0), true),
    ];
    for v in values {
        p.publish(v);
    }
    assert_eq!(s.drain().collect::<Vec<_>>(), values);
}

#[test]
fn handles_have_the_promised_auto_traits() {
    use ring_spmc::{Publisher, Subscribable, Subscriber};
    static_assertions::assert_impl_all!(Publisher<u64>: Send);
    static_assertions::assert_not_impl_any!(Publisher<u64>: Sync);
    static_assertions::assert_impl_all!(Subscribable<u64>: Clone, Send, Sync);
    static_assertions::assert_impl_all!(Subscriber<u64>: Send);
    static_assertions::assert_not_impl_any!(Subscriber<u64>: Sync);
}

/// Issue 9, bug 5: `latest()` counts what it skips as lag, so
/// `received + lagged == published` holds across it (it used to drop the
/// skipped values uncounted).
#[test]
fn latest_counts_what_it_skips() {
    let (mut p, subs) = ring_spmc::channel::<u64>(4);
    let mut s = subs.subscribe();
    p.publish_batch(&[0, 1, 2]);
    assert_eq!(s.latest(), Some(2));
    assert_eq!((s.total_received(), s.total_lagged()), (1, 2));
    // Nothing new: the newest again, as photon-ring's, counted as nothing.
    assert_eq!(s.latest(), Some(2));
    assert_eq!((s.total_received(), s.total_lagged()), (1, 2));
    // Ten more into four slots: `latest` passes over lapped values too.
    p.publish_batch(&(3..13).collect::<Vec<_>>());
    assert_eq!(s.latest(), Some(12));
    assert_eq!(s.latest(), Some(12));
    assert_eq!(s.total_received(), 2);
    assert_eq!(s.total_received() + s.total_lagged(), p.published());
}

/// Issue 9: `Option<u32>` (padding when `None`) through a ring, so the
/// default Miri build, which users run on their own code, is exercised with
/// a padded payload (it was UB there).
#[test]
fn option_payloads_cross_threads() {
    let (mut p, subs) = channel::<Option<u32>>(4);
    let mut s = subs.subscribe();
    let n: u32 = if cfg!(miri) { 20 } else { 10_000 };
    let reader = std::thread::spawn(move || {
        loop {
            match s.recv_blocking() {
                Ok(Some(x)) => assert!(x < n && x % 2 == 1, "whole values only"),
                Ok(None) | Err(ring_spmc::RecvError::Lagged { .. }) => {}
                Err(ring_spmc::RecvError::Closed) => break,
            }
        }
        s.total_received() + s.total_lagged()
    });
    for i in 0..n {
        p.publish(if i % 2 == 0 { None } else { Some(i) });
    }
    drop(p);
    assert_eq!(reader.join().unwrap(), u64::from(n));
}

/// photon-ring's `latest` returns `None` only before the first publish:
/// with nothing new it returns the newest value again, also to a
/// subscriber that joined after it was published (ours returned `None`,
/// breaking the drop-in promise for code that samples the current value).
#[test]
fn latest_returns_the_newest_value_again_when_nothing_is_new() {
    let (mut p, subs) = channel::<u32>(3);
    assert_eq!(subs.subscribe().latest(), None, "nothing ever published");
    p.publish_batch(&[5, 6, 7, 8]);
    let mut late = subs.subscribe();
    assert_eq!(late.latest(), Some(8), "published before it joined");
    assert_eq!(late.cursor(), 4);
    assert_eq!((late.total_received(), late.total_lagged()), (0, 0));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    p.publish(9);
    assert_eq!(late.latest(), Some(9));
    assert_eq!(late.latest(), Some(9));
    assert_eq!((late.total_received(), late.total_lagged()), (1, 0));
}

/// Zero-sized payloads and `usize::MAX`-ish values: the stamp alone
/// carries a ZST, and lag counts are the same as for any payload.
#[test]
fn zero_sized_payloads_count_like_any_other() {
    let (mut p, subs) = channel::<()>(3);
    let mut s = subs.subscribe();
    for _ in 0..7 {
        p.publish(());
    }
    assert_eq!(s.try_recv(), Err(TryRecvError::Lagged { skipped: 4 }));
    assert_eq!(s.drain().count(), 3);
    assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(s.total_received() + s.total_lagged(), 7);
    let (mut p, subs) = channel::<(u8, u64, bool)>(5);
    let mut s = subs.subscribe();
    p.publish((u8::MAX, u64::MAX, true));
    assert_eq!(s.try_recv(), Ok((u8::MAX, u64::MAX, true)));
}

/// A subscriber indexes the ring through its own copy of the array's base
/// (`RawSlots`): kept, moved to another thread and boxed after the
/// publisher and the subscribable are gone, it still reads the very values
/// (and its `Arc` keeps the array alive: Miri reports a use after free
/// otherwise).
#[test]
fn subscriber_reads_after_everything_else_is_dropped_and_moved() {
    let (mut p, subs) = channel::<[u64; 9]>(3);
    let s = subs.subscribe_from_oldest();
    let other = channel::<[u64; 9]>(3).1.subscribe();
    for i in 0..3u64 {
        p.publish([i; 9]);
    }
    drop((p, subs));
    let mut s = Box::new(s);
    let got = std::thread::spawn(move || {
        drop(other);
        let mut got = vec![];
        while let Ok(v) = s.try_recv() {
            got.push(v);
        }
        got
    })
    .join()
    .unwrap();
    assert_eq!(got, [[0; 9], [1; 9], [2; 9]]);
}
