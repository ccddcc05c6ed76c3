//! loom models on the real ring-spmc types: publish vs try_recv with
//! overwrites (exact lag), bounded gating with a subscriber dropped
//! mid-run, the async wake-up (no lost wake-up between registration and
//! publish), close while a receiver waits, subscriptions racing batches,
//! `latest`, `subscribe_from_oldest` and `try_publish` (the concurrency
//! matrix in `README.md` names the model for each pair).
#![cfg(ring_loom)]

use loom::thread;
use ring_spmc::{
    RecvError, Subscribable, Subscriber, TryRecvError, WaitStrategy, channel, channel_bounded,
};

/// Every model sets its own preemption bound, so `cargo test` with
/// `--cfg ring_loom` alone finishes (no `LOOM_MAX_PREEMPTIONS` needed).
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

/// A gating subscriber's thread: reads the first value (it must be 0,
/// never lagged), then leaves.
fn read_zero_then_leave(mut s: Subscriber<u64>) {
    loop {
        match s.try_recv() {
            Ok(v) => {
                assert_eq!(v, 0);
                break;
            }
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(e) => panic!("a gating subscriber lagged: {e:?}"),
        }
    }
    drop(s);
}

/// A subscriber made by `subscribe` joins a bounded two-slot ring while
/// `publish_batch` writes four values: its first value is the one at the
/// cursor it started from (never lapped), or the close once all four are
/// past it.
fn subscribe_racing_publish_batch(subscribe: fn(&Subscribable<u64>) -> Subscriber<u64>) {
    model(2, move || {
        let (mut p, subs) = channel_bounded::<u64>(2, 0);
        let subscriber = thread::spawn(move || {
            let mut s = subscribe(&subs);
            let start = s.cursor();
            match s.recv_blocking() {
                Ok(v) => assert_eq!(v, start, "the first value after joining"),
                Err(RecvError::Closed) => assert_eq!(start, 4),
                Err(e) => panic!("a gating subscriber lagged: {e:?}"),
            }
        });
        p.publish_batch(&[0, 1, 2, 3]);
        drop(p);
        subscriber.join().unwrap();
    });
}

#[test]
fn publish_vs_try_recv_with_overwrites() {
    model(3, || {
        let (mut p, subs) = channel::<u64>(2);
        let mut s = subs.subscribe();
        let publisher = thread::spawn(move || {
            for i in 0..3 {
                p.publish(i);
            }
            p
        });
        let mut next = 0;
        for _ in 0..2 {
            match s.try_recv() {
                Ok(v) => {
                    assert_eq!(v, next, "in order, whole");
                    next = v + 1;
                }
                Err(TryRecvError::Lagged { skipped }) => next += skipped,
                Err(TryRecvError::Empty) => {}
            }
        }
        let p = publisher.join().unwrap();
        for v in s.drain() {
            assert!(v >= next);
            next = v + 1;
        }
        assert_eq!(s.total_received() + s.total_lagged(), p.published());
    });
}

#[test]
fn bounded_gating_with_a_subscriber_dropped_mid_run() {
    model(2, || {
        let (mut p, subs) = channel_bounded::<u64>(2, 0);
        let s = subs.subscribe();
        let subscriber = thread::spawn(move || read_zero_then_leave(s));
        // Three values into two slots: the third waits for the read of 0 or
        // for the drop; neither may deadlock the publisher.
        for i in 0..3 {
            p.publish(i);
        }
        subscriber.join().unwrap();
        assert_eq!(p.published(), 3);
    });
}

/// Issue 9, bug 1: `recv_with` used to map `Lagged` to "nothing there", so
/// a parking strategy slept although the lag had moved the cursor onto a
/// retained value; with the publisher's last ring before the registration,
/// it slept forever (a loom deadlock).
#[test]
fn recv_with_after_a_lag() {
    model(2, || {
        let (mut p, subs) = channel::<u64>(2);
        let mut s = subs.subscribe();
        let receiver = thread::spawn(move || s.recv_with(WaitStrategy::Park { spin_iters: 0 }));
        for i in 0..3 {
            p.publish(i);
        }
        let v = receiver.join().unwrap();
        assert!(v < 3);
        drop(p);
    });
}

#[test]
fn async_receive_is_woken_by_publish() {
    model(3, || {
        let (mut p, subs) = channel::<u64>(2);
        let mut s = subs.subscribe();
        let receiver = thread::spawn(move || loom::future::block_on(s.recv_async()));
        p.publish(5);
        assert_eq!(receiver.join().unwrap(), Ok(5));
    });
}

#[test]
fn close_wakes_a_waiting_receiver() {
    model(3, || {
        let (p, subs) = channel::<u64>(2);
        let mut s = subs.subscribe();
        let receiver = thread::spawn(move || loom::future::block_on(s.recv_async()));
        drop(p);
        assert_eq!(receiver.join().unwrap(), Err(RecvError::Closed));
    });
}

#[test]
fn blocking_receive_is_woken_by_publish() {
    model(3, || {
        let (mut p, subs) = channel::<u64>(2);
        let mut s = subs.subscribe();
        let receiver = thread::spawn(move || s.recv_blocking());
        p.publish(9);
        assert_eq!(receiver.join().unwrap(), Ok(9));
        drop(p);
    });
}

/// Issue 9, bug 2: a gating subscriber that joins while `publish_batch` is
/// part-way through must not be lapped (it used to lag by one).
#[test]
fn subscribe_racing_publish_batch_on_a_bounded_ring() {
    subscribe_racing_publish_batch(Subscribable::subscribe);
}

/// `subscribe_tracked` registers like `subscribe`: the same race.
#[test]
fn subscribe_tracked_racing_publish_batch_on_a_bounded_ring() {
    subscribe_racing_publish_batch(Subscribable::subscribe_tracked);
}

/// A lossy subscription racing publishes: the subscriber starts at some
/// head, then sees whole values in order, and its counts add up.
#[test]
fn lossy_subscribe_racing_publish() {
    model(3, || {
        let (mut p, subs) = channel::<u64>(2);
        let subscriber = thread::spawn(move || {
            let mut s = subs.subscribe();
            let start = s.cursor();
            let mut next = start;
            for _ in 0..2 {
                match s.try_recv() {
                    Ok(v) => {
                        assert_eq!(v, next, "in order, from where it joined");
                        next += 1;
                    }
                    Err(TryRecvError::Lagged { skipped }) => next += skipped,
                    Err(TryRecvError::Empty) => {}
                }
            }
            (start, s.total_received() + s.total_lagged(), next)
        });
        for i in 0..3 {
            p.publish(i);
        }
        let (start, counted, next) = subscriber.join().unwrap();
        assert!(start <= 3);
        assert_eq!(counted, next - start);
    });
}

/// A gated downstream racing its upstream: it never reads a value before
/// the upstream has, and a dropped upstream releases it (issue 9, bug 6).
#[test]
fn gated_read_racing_upstream_and_its_drop() {
    model(2, || {
        let (mut p, subs) = channel::<u64>(4);
        let mut up = subs.subscribe_tracked();
        let barrier = ring_spmc::DependencyBarrier::from_subscribers(&[&up]);
        let mut down = subs.subscribe();
        p.publish_batch(&[0, 1]);
        let upstream = thread::spawn(move || {
            assert_eq!(up.try_recv(), Ok(0));
            drop(up);
        });
        let mut got = Vec::new();
        while got.len() < 2 {
            match down.try_recv_gated(&barrier) {
                Ok(v) => got.push(v),
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(got, [0, 1]);
        upstream.join().unwrap();
    });
}

/// The `Stream` keeps its doorbell key between items: two items, each
/// published while the stream may be registered, are both delivered and
/// nothing stays registered (issue 9, bug 3).
#[test]
fn stream_keeps_its_key_across_items() {
    model(2, || {
        let (mut p, subs) = channel::<u64>(4);
        let mut s = subs.subscribe();
        let receiver = thread::spawn(move || {
            use futures_core::Stream;
            let mut got = Vec::new();
            while got.len() < 2 {
                let item = loom::future::block_on(std::future::poll_fn(|cx| {
                    std::pin::Pin::new(&mut s).poll_next(cx)
                }));
                got.push(item.expect("open").expect("no lag"));
            }
            got
        });
        p.publish(1);
        p.publish(2);
        assert_eq!(receiver.join().unwrap(), [1, 2]);
    });
}

/// A gating subscriber may read a batch's values before `publish_batch`
/// commits them. The publisher's rescan must not count that read-ahead:
/// a subscriber that joins after the rescan starts at the *committed*
/// head, and a limit taken from the reader's cursor let the batch lap it
/// (review of issue 9: `channel_bounded(2, 0)`, a reader at 2 before the
/// commit, a joiner at 0 lagged by 1).
#[test]
fn subscribe_racing_publish_batch_with_a_gating_reader_ahead() {
    model(2, || {
        let (mut p, subs) = channel_bounded::<u64>(2, 0);
        let mut ahead = subs.subscribe();
        let reader = thread::spawn(move || {
            for want in 0..2 {
                loop {
                    match ahead.try_recv() {
                        Ok(v) => {
                            assert_eq!(v, want);
                            break;
                        }
                        Err(TryRecvError::Empty) => thread::yield_now(),
                        Err(e) => panic!("a gating subscriber lagged: {e:?}"),
                    }
                }
            }
            ahead // still gating, at 2
        });
        let joiner = thread::spawn(move || {
            let mut s = subs.subscribe();
            let start = s.cursor();
            match s.recv_blocking() {
                Ok(v) => assert_eq!(v, start, "the first value after joining"),
                Err(RecvError::Closed) => assert_eq!(start, 3),
                Err(e) => panic!("a gating subscriber lagged: {e:?}"),
            }
        });
        p.publish_batch(&[0, 1, 2]);
        drop(p);
        joiner.join().unwrap();
        drop(reader.join().unwrap());
    });
}

/// `latest()` racing publishes, on a lossy and on a bounded ring (where the
/// subscriber gates): it returns whole values, never older than the last
/// one (the same one again, uncounted, when nothing is new), and what it
/// skips is counted, so `received + lagged` is exactly how far the cursor
/// moved.
#[test]
fn latest_racing_publish() {
    for bounded in [false, true] {
        model(2, move || {
            let (mut p, subs) = if bounded {
                channel_bounded::<u64>(2, 0)
            } else {
                channel::<u64>(2)
            };
            let mut s = subs.subscribe();
            let reader = thread::spawn(move || {
                let mut last = None;
                for _ in 0..2 {
                    let counted = s.total_received() + s.total_lagged();
                    if let Some(v) = s.latest() {
                        // The newest again if nothing is new (photon's),
                        // counted as nothing.
                        assert!(last.is_none_or(|l| v >= l), "{v} after {last:?}");
                        if last == Some(v) {
                            assert_eq!(s.total_received() + s.total_lagged(), counted);
                        }
                        assert_eq!(s.cursor(), v + 1);
                        last = Some(v);
                    }
                }
                // Read on to the end (a gating subscriber must, for the
                // publisher to finish).
                while s.cursor() < 3 {
                    match s.try_recv() {
                        Ok(v) => {
                            assert!(last.is_none_or(|l| v > l), "{v} after {last:?}");
                            last = Some(v);
                        }
                        Err(TryRecvError::Lagged { .. }) => assert!(!bounded),
                        Err(TryRecvError::Empty) => thread::yield_now(),
                    }
                }
                assert_eq!(last, Some(2));
                assert_eq!(s.total_received() + s.total_lagged(), 3);
            });
            for i in 0..3 {
                p.publish(i);
            }
            reader.join().unwrap();
        });
    }
}

/// `subscribe_from_oldest` on a bounded ring racing publishes and a
/// gating reader: the retained history it starts from may be lapped
/// (counted as lag), but no value published after it registered is lost.
/// It starts `capacity` values behind the head it registered at, so every
/// value from `start + capacity` on must arrive (it used to read the head
/// before taking the tracker lock, and lose values published in between);
/// values arrive in order and `received + lagged` covers everything from
/// `start`.
#[test]
fn subscribe_from_oldest_racing_publish_on_a_bounded_ring() {
    // Values 0..END: three publishes race the subscription, enough to lap
    // a registration that read the head before taking the tracker lock
    // (the bug this guards: put back, this model fails at once, the
    // subscriber receiving `[4, 3, 4]`). With four (END 6) the model took
    // about 10 minutes of the loom step on the 2-core VM; with three, 80 s.
    const END: u64 = 5;
    model(2, || {
        let (mut p, subs) = channel_bounded::<u64>(2, 0);
        let mut gate = subs.subscribe();
        p.publish_batch(&[0, 1]);
        assert_eq!(gate.drain().count(), 2);
        let joiner = thread::spawn(move || {
            let mut s = subs.subscribe_from_oldest();
            let start = s.cursor();
            let mut got = Vec::new();
            while s.cursor() < END {
                match s.try_recv() {
                    Ok(v) => got.push(v),
                    Err(TryRecvError::Lagged { .. }) => {}
                    Err(TryRecvError::Empty) => thread::yield_now(),
                }
            }
            (start, got, s.total_received() + s.total_lagged())
        });
        // The publisher and the gating reader in one thread, in step.
        for i in 2..END {
            p.publish(i);
            assert_eq!(gate.try_recv(), Ok(i));
        }
        let (start, got, counted) = joiner.join().unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        assert!(got.iter().all(|&v| v >= start));
        for v in start + 2..END {
            assert!(got.contains(&v), "{v} lost (start {start}, got {got:?})");
        }
        assert_eq!(counted, END - start);
    });
}

/// `try_publish` racing a gating subscriber's reads and its drop: `Full`
/// only while the subscriber holds the ring full, never after it read or
/// left; the subscriber never lags; every value is published once.
#[test]
fn try_publish_racing_gating_reads_and_drop() {
    model(2, || {
        let (mut p, subs) = channel_bounded::<u64>(2, 0);
        let s = subs.subscribe();
        let subscriber = thread::spawn(move || read_zero_then_leave(s));
        let mut fulls = 0;
        for i in 0..4 {
            loop {
                match p.try_publish(i) {
                    Ok(()) => break,
                    Err(ring_spmc::PublishError::Full(v)) => {
                        assert_eq!(v, i, "the value is handed back");
                        assert!(i >= 2, "room for two values from the start");
                        fulls += 1;
                        thread::yield_now();
                    }
                }
            }
        }
        subscriber.join().unwrap();
        assert_eq!(p.try_publish(4), Ok(()), "nobody gates after the drop");
        assert_eq!(p.published(), 5);
        assert!(fulls <= 2 * 64, "bounded retries");
    });
}

/// A gating subscriber's held reads (`try_recv` with one stamp check,
/// `recv_each` with none) racing a blocking publisher on a two-slot ring:
/// every value arrives whole (both words of one write) and in order, none
/// lagged. A read racing an overwrite of its slot would show two words of
/// different writes.
#[test]
fn held_reads_and_recv_each_racing_publish() {
    model(2, || {
        let (mut p, subs) = channel_bounded::<[u64; 2]>(2, 0);
        let mut s = subs.subscribe();
        let publisher = thread::spawn(move || {
            for i in 0..3 {
                p.publish([i, i]);
            }
        });
        let mut next = 0;
        let mut turn = 0;
        while next < 3 {
            turn += 1;
            if turn % 2 == 0 {
                s.recv_each(usize::MAX, |v| {
                    assert_eq!(v, [next, next], "whole, in order");
                    next += 1;
                });
            } else {
                match s.try_recv() {
                    Ok(v) => {
                        assert_eq!(v, [next, next], "whole, in order");
                        next += 1;
                    }
                    Err(TryRecvError::Empty) => {}
                    Err(e) => panic!("a gating subscriber lagged: {e:?}"),
                }
            }
            thread::yield_now();
        }
        publisher.join().unwrap();
        assert_eq!(s.total_lagged(), 0);
    });
}

/// Reads a two-word value `[i, !i]` per sequence until the close: the first
/// is the one at `s`'s cursor, then every one in order, whole, never
/// lagged. Returns how many it read.
fn read_whole_until_closed(mut s: Subscriber<[u64; 2]>) -> u64 {
    let mut next = s.cursor();
    loop {
        match s.recv_blocking() {
            Ok(v) => {
                assert_eq!(v, [next, !next], "whole, in order, from the start");
                next += 1;
            }
            Err(RecvError::Closed) => return s.total_received(),
            Err(e) => panic!("a gating subscriber lagged: {e:?}"),
        }
    }
}

/// The review of the ring's `ungated_limit`: a gating subscriber drops
/// while the publisher waits on it, which lets a scan find nobody gating
/// and raise the ungated room to a window past the head; then a new
/// `subscribe` (on the same thread) races the publishes that use that room.
/// The new subscriber's registration resets the room, and a publish that
/// loaded the room before the reset stays within it, so it laps nothing
/// the new subscriber reads: every value from its start arrives whole
/// (two words, so a held read racing an overwrite would show) and in
/// order, never `Lagged`.
#[test]
fn subscribe_racing_publish_after_a_gating_drop_raised_the_ungated_room() {
    model(2, || {
        let (mut p, subs) = channel_bounded::<[u64; 2]>(2, 0);
        let gate = subs.subscribe();
        let subscriber = thread::spawn(move || {
            drop(gate);
            read_whole_until_closed(subs.subscribe())
        });
        for i in 0..5 {
            p.publish([i, !i]);
        }
        drop(p);
        let read = subscriber.join().unwrap();
        assert!(read <= 5);
    });
}

/// A lossy tap and a gating `subscribe_tracked` registered on one thread
/// while the publisher runs on the ungated room (nobody gating at first):
/// the tap does not reset the room (it gates nothing) and counts every
/// loss exactly; the gating subscriber, registered after it, never lags.
#[test]
fn lossy_tap_and_gating_subscriber_racing_publish_on_a_bounded_ring() {
    model(2, || {
        let (mut p, subs) = channel_bounded::<[u64; 2]>(2, 0);
        let subscriber = thread::spawn(move || {
            let mut tap = subs.subscribe_lossy();
            let tap_start = tap.cursor();
            let gating = subs.subscribe_tracked();
            let read = read_whole_until_closed(gating);
            let mut next = tap_start;
            loop {
                match tap.try_recv() {
                    Ok(v) => {
                        assert_eq!(v, [next, !next], "the tap: whole, in order");
                        next += 1;
                    }
                    Err(TryRecvError::Lagged { skipped }) => next += skipped,
                    Err(TryRecvError::Empty) => break,
                }
            }
            assert_eq!(next, 5, "the tap reaches the end");
            assert_eq!(tap.total_received() + tap.total_lagged(), 5 - tap_start);
            read
        });
        for i in 0..5 {
            p.publish([i, !i]);
        }
        drop(p);
        assert!(subscriber.join().unwrap() <= 5);
    });
}

/// Watermark `capacity - 1` on a ring of three slots (not a power of two):
/// the window is one value, so with nobody gating every publish past the
/// first scans and raises the ungated room by one; a `subscribe` racing
/// them never lags and reads every value from its start in order.
#[test]
fn subscribe_racing_publish_with_a_one_value_window_on_three_slots() {
    model(2, || {
        let (mut p, subs) = channel_bounded::<[u64; 2]>(3, 2);
        let subscriber = thread::spawn(move || read_whole_until_closed(subs.subscribe()));
        for i in 0..4 {
            p.publish([i, !i]);
        }
        drop(p);
        assert!(subscriber.join().unwrap() <= 4);
    });
}
