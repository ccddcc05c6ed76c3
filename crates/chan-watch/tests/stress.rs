//! Release stress on real threads, bounded in size (small under Miri):
//! one sender incrementing a counter with `send_modify` while three
//! receiver tasks each see a non-decreasing sequence ending at the final
//! value; `wait_for` under concurrent no-op modifications. At most two
//! busy threads: the sender's, and the runtime thread driving the tasks.

use std::thread;

use chan_watch::channel;
use seqcast_test_support::one_at_a_time;

const N: u64 = if cfg!(miri) { 200 } else { 100_000 };

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn three_receivers_see_a_non_decreasing_sequence_ending_at_the_final_value() {
    let _turn = one_at_a_time();
    let (tx, rx) = channel(0_u64);
    let receivers: Vec<_> = (0..3).map(|_| rx.clone()).collect();
    drop(rx);
    let sender = thread::spawn(move || {
        for _ in 0..N {
            tx.send_modify(|v| *v += 1);
        }
        // Dropping closes the channel: the receivers end after the last value.
    });
    let rt = runtime();
    let seen: Vec<(u64, u64)> = rt.block_on(async {
        let tasks: Vec<_> = receivers
            .into_iter()
            .map(|mut rx| {
                tokio::spawn(async move {
                    let (mut last, mut changes) = (0, 0);
                    while rx.changed().await.is_ok() {
                        let v = *rx.borrow_and_update();
                        // Non-decreasing, and strictly: every version
                        // after the one read holds a larger count.
                        assert!(v > last, "went from {last} to {v}");
                        last = v;
                        changes += 1;
                    }
                    (last, changes)
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    sender.join().unwrap();
    for (last, changes) in seen {
        assert_eq!(last, N, "ends at the final value");
        assert!((1..=N).contains(&changes));
    }
}

#[test]
fn wait_for_under_concurrent_no_op_modifications() {
    let _turn = one_at_a_time();
    let rounds: u64 = if cfg!(miri) { 5 } else { 200 };
    let noops: u64 = if cfg!(miri) { 5 } else { 200 };
    let (tx, mut rx) = channel(0_u64);
    let sender = thread::spawn(move || {
        for target in 1..=rounds {
            for i in 0..noops {
                if i % 2 == 0 {
                    // Bumps the version, value unchanged: wakes waiters.
                    tx.send_modify(|_| {});
                } else {
                    // Neither bumps nor wakes.
                    assert!(!tx.send_if_modified(|_| false));
                }
            }
            tx.send_replace(target);
        }
    });
    let rt = runtime();
    rt.block_on(async {
        for target in 1..=rounds {
            let r = rx.wait_for(|v| *v >= target).await.unwrap();
            assert!(*r >= target && *r <= rounds);
        }
        let r = rx.wait_for(|v| *v == rounds).await.unwrap();
        assert_eq!(*r, rounds);
    });
    sender.join().unwrap();
    // The sender is gone; the last value was seen.
    assert!(rt.block_on(rx.changed()).is_err());
}

#[test]
fn borrow_get_and_send_modify_on_two_threads_never_tear() {
    let _turn = one_at_a_time();
    let n: u64 = if cfg!(miri) { 100 } else { 50_000 };
    let (tx, rx) = channel((0_u64, 0_u64));
    let writer = thread::spawn(move || {
        for _ in 0..n {
            tx.send_modify(|v| {
                v.0 += 1;
                v.1 = v.0 * 3;
            });
        }
    });
    let mut last = 0;
    loop {
        let (a, b) = rx.get();
        assert_eq!(b, a * 3, "torn");
        assert!(a >= last);
        last = a;
        let r = rx.borrow();
        assert_eq!(r.1, r.0 * 3);
        drop(r);
        if a == n {
            break;
        }
        if rx.is_closed() {
            assert_eq!(rx.get().0, n);
            break;
        }
    }
    writer.join().unwrap();
}

#[test]
fn borrows_racing_sends_that_change_slots_see_only_live_increasing_values() {
    let _turn = one_at_a_time();
    let n: u64 = if cfg!(miri) { 100 } else { 200_000 };
    let (tx, rx) = channel(0_u64);
    let rx2 = rx.clone();
    // `send` (not `send_modify`): while a `Ref` holds the current slot,
    // each send moves to another slot and the `Ref`s' drops empty the old
    // ones, the path a stale borrow would trip on.
    let writer = thread::spawn(move || {
        for i in 1..=n {
            tx.send(i).unwrap();
        }
    });
    let mut last = 0;
    let mut held = Vec::new();
    loop {
        let a = rx.borrow();
        let b = rx2.borrow();
        assert!(*a >= last && *b >= *a, "{last} {} {}", *a, *b);
        last = *b;
        // Keep a few `Ref`s alive across sends, of both receivers.
        held.push(a);
        if held.len() > 3 {
            held.remove(0);
        }
        drop(b);
        if last == n {
            break;
        }
    }
    drop(held);
    writer.join().unwrap();
    assert_eq!(*rx.borrow(), n);
}
