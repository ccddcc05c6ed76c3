//! `Doorbell` with real threads: a parked reader is woken by `ring`, a timed
//! wait gives up, `has_waiters` reports a sleeper, and a `ring` with nobody
//! parked wakes nobody.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ring_core::{Doorbell, WaitStrategy};

const PARK: WaitStrategy = WaitStrategy::Park { spin_iters: 0 };

fn poll(value: &AtomicU64) -> Option<u64> {
    // Acquire: pairs with the Release stores below.
    match value.load(Ordering::Acquire) {
        0 => None,
        v => Some(v),
    }
}

/// Waits (bounded) until `bell` reports a parked reader.
fn until_parked(bell: &Doorbell) {
    let start = Instant::now();
    while !bell.has_waiters() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "reader never parked"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn parked_reader_wakes_on_ring() {
    let bell = Arc::new(Doorbell::new());
    let value = Arc::new(AtomicU64::new(0));
    let reader = {
        let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
        std::thread::spawn(move || {
            bell.wait_timeout(PARK, Duration::from_secs(10), || poll(&value))
        })
    };
    until_parked(&bell);
    // Release: pairs with the reader's Acquire load.
    value.store(5, Ordering::Release);
    bell.ring();
    assert_eq!(
        reader.join().unwrap(),
        Some(5),
        "woken by ring, not by the time-out"
    );
    assert!(!bell.has_waiters(), "the reader left the waiter count");
}

#[test]
fn timed_wait_gives_up_without_a_value() {
    let bell = Doorbell::new();
    let start = Instant::now();
    let got: Option<u64> = bell.wait_timeout(PARK, Duration::from_millis(30), || None);
    let took = start.elapsed();
    assert_eq!(got, None);
    assert!(
        took >= Duration::from_millis(30),
        "returned early: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "overslept: {took:?}");
    assert!(!bell.has_waiters());
}

#[test]
fn ring_without_a_value_leaves_the_reader_parked() {
    let bell = Arc::new(Doorbell::new());
    let value = Arc::new(AtomicU64::new(0));
    let polls = Arc::new(AtomicU64::new(0));
    let reader = {
        let (bell, value, polls) = (Arc::clone(&bell), Arc::clone(&value), Arc::clone(&polls));
        std::thread::spawn(move || {
            bell.wait_timeout(PARK, Duration::from_secs(10), || {
                // Relaxed: a counter read after join.
                polls.fetch_add(1, Ordering::Relaxed);
                poll(&value)
            })
        })
    };
    until_parked(&bell);
    // Relaxed: a counter; only its growth matters.
    let before = polls.load(Ordering::Relaxed);
    // A ring with nothing published: the reader re-polls, finds nothing and
    // waits again rather than returning.
    bell.ring();
    let start = Instant::now();
    // Relaxed: as above.
    while polls.load(Ordering::Relaxed) == before {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the ring woke nobody"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(5));
    assert!(
        !reader.is_finished(),
        "woken without a value, the reader must wait on"
    );
    // Release: pairs with the reader's Acquire load.
    value.store(9, Ordering::Release);
    bell.ring();
    assert_eq!(reader.join().unwrap(), Some(9));
}

#[test]
fn every_strategy_reaches_a_value_published_later() {
    for strategy in [
        WaitStrategy::BusySpin,
        WaitStrategy::YieldSpin,
        WaitStrategy::BackoffSpin,
        WaitStrategy::default(),
        WaitStrategy::MonitorWaitFallback,
        WaitStrategy::ThreadYield,
        WaitStrategy::Park { spin_iters: 10 },
    ] {
        let bell = Arc::new(Doorbell::new());
        let value = Arc::new(AtomicU64::new(0));
        let writer = {
            let (bell, value) = (Arc::clone(&bell), Arc::clone(&value));
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(2));
                // Release: pairs with the reader's Acquire load.
                value.store(1, Ordering::Release);
                bell.ring();
            })
        };
        let got = bell.wait_timeout(strategy, Duration::from_secs(10), || poll(&value));
        assert_eq!(got, Some(1), "{strategy:?}");
        writer.join().unwrap();
    }
}

#[test]
fn async_wait_registers_wakes_and_cancels() {
    use std::sync::atomic::AtomicUsize;
    use std::task::{Context, Poll, Wake, Waker};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            // Relaxed: a counter read on this thread.
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&count));
    let mut cx = Context::from_waker(&waker);
    let bell = Doorbell::new();
    let value = AtomicU64::new(0);
    let mut key = None;

    // Nothing there: Pending, registered, not woken.
    assert_eq!(
        bell.poll_wait(&mut cx, &mut key, || poll(&value)),
        Poll::Pending
    );
    assert!(bell.has_waiters());
    // Relaxed: same thread.
    assert_eq!(count.0.load(Ordering::Relaxed), 0);
    // Polling again while registered does not register twice.
    assert_eq!(
        bell.poll_wait(&mut cx, &mut key, || poll(&value)),
        Poll::Pending
    );
    bell.ring();
    assert_eq!(count.0.load(Ordering::Relaxed), 1, "woken exactly once");
    assert!(!bell.has_waiters(), "a ring retires the registration");
    bell.ring();
    assert_eq!(
        count.0.load(Ordering::Relaxed),
        1,
        "no wake without a registration"
    );
    // Re-register after the ring (the old key is stale), then cancel.
    assert_eq!(
        bell.poll_wait(&mut cx, &mut key, || poll(&value)),
        Poll::Pending
    );
    assert!(bell.has_waiters());
    bell.cancel(&mut key);
    assert!(!bell.has_waiters());
    bell.ring();
    assert_eq!(
        count.0.load(Ordering::Relaxed),
        1,
        "a cancelled task is not woken"
    );
    // Ready at once when the value is there, leaving nothing registered.
    // Release: same thread.
    value.store(4, Ordering::Release);
    assert_eq!(
        bell.poll_wait(&mut cx, &mut key, || poll(&value)),
        Poll::Ready(4)
    );
    assert!(key.is_none() && !bell.has_waiters());
}

/// Two threads hand a counter back and forth, each parking until the other
/// rings: a single lost wake-up shows as a time-out. Exercises the real
/// fence protocol (membarrier on Linux), which loom cannot model.
#[test]
fn no_lost_wake_up_in_a_parked_ping_pong() {
    let rounds: u64 = if cfg!(miri) {
        20
    } else if cfg!(debug_assertions) {
        2_000
    } else {
        20_000
    };
    let ping = Arc::new((Doorbell::new(), AtomicU64::new(0)));
    let pong = Arc::new((Doorbell::new(), AtomicU64::new(0)));
    let echo = {
        let (ping, pong) = (Arc::clone(&ping), Arc::clone(&pong));
        std::thread::spawn(move || {
            for i in 1..=rounds {
                let got = ping.0.wait_timeout(PARK, Duration::from_secs(10), || {
                    // Acquire: pairs with the Release store of the other side.
                    (ping.1.load(Ordering::Acquire) >= i).then_some(())
                });
                assert!(got.is_some(), "echo: lost wake-up at round {i}");
                // Release: pairs with the Acquire load of the other side.
                pong.1.store(i, Ordering::Release);
                pong.0.ring();
            }
        })
    };
    for i in 1..=rounds {
        // Release: pairs with the Acquire load of the other side.
        ping.1.store(i, Ordering::Release);
        ping.0.ring();
        let got = pong.0.wait_timeout(PARK, Duration::from_secs(10), || {
            // Acquire: pairs with the Release store of the other side.
            (pong.1.load(Ordering::Acquire) >= i).then_some(())
        });
        assert!(got.is_some(), "main: lost wake-up at round {i}");
    }
    echo.join().unwrap();
}

/// Issue 9, bug 3: a live registration re-polled with a different waker,
/// whose re-check finds the value, must be withdrawn (it used to stay: the
/// key stayed `Some`, `has_waiters` stayed true and the next `ring` woke a
/// finished task).
#[test]
fn repoll_with_a_new_waker_that_finds_the_value_withdraws_the_registration() {
    use std::task::{Context, Poll};

    let bell = Doorbell::new();
    let (first, first_count) = seqcast_test_support::counting_waker();
    let (second, second_count) = seqcast_test_support::counting_waker();
    let mut key = None;
    assert_eq!(
        bell.poll_wait(&mut Context::from_waker(&first), &mut key, || None::<u8>),
        Poll::Pending
    );
    assert!(bell.has_waiters());
    // Nothing on the first look, the value on the re-check under the lock.
    let mut looks = 0;
    let got = bell.poll_wait(&mut Context::from_waker(&second), &mut key, || {
        looks += 1;
        (looks == 2).then_some(7_u8)
    });
    assert_eq!(got, Poll::Ready(7));
    assert!(key.is_none(), "a finished wait keeps no key");
    assert!(!bell.has_waiters(), "a finished wait leaves no waiter");
    bell.ring();
    assert_eq!(first_count.count(), 0, "the replaced waker is not woken");
    assert_eq!(second_count.count(), 0, "a finished task is not woken");
}
