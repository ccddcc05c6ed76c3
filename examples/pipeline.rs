//! A diamond of stages on `seqcast::spmc`, ordered with a
//! `DependencyBarrier`, shut down cleanly.
//!
//! ```sh
//! cargo run --release --example pipeline
//! ```
//!
//! ```text
//!                 ┌─> validate ─┐
//!   publisher ──> ring           ├─> journal
//!                 └─> price    ──┘
//! ```
//!
//! `validate` and `price` read every order from a bounded ring in parallel
//! (both gate the publisher: nothing is lost). `journal` reads the same
//! orders but only once *both* upstream stages have read each one: it gates
//! its reads on a `DependencyBarrier` built from their trackers. Shutdown
//! follows the data: dropping the publisher closes the ring; each upstream
//! stage drains it and exits (its tracker is released, which releases the
//! barrier); the journal drains what is left and exits.
//!
//! The barrier is checked, not just used: `price` stops for 20 ms before it
//! reads order `PAUSE_AT` (the publisher, which it gates, has long since
//! published that order), and the journal asserts that when it reads that
//! order, `price` has resumed, which only the barrier makes true.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use seqcast::spmc::{self, DependencyBarrier, RecvError, TryRecvError};

#[derive(Clone, Copy, Debug, PartialEq)]
struct Order {
    id: u64,
    qty: u32,
    limit: u32,
}

const ORDERS: u64 = 500_000;
/// The order `price` pauses before reading.
const PAUSE_AT: u64 = ORDERS / 2;

fn main() {
    let (mut publisher, subscribable) = spmc::channel_bounded::<Order>(1024, 0);
    let validate = subscribable.subscribe_tracked();
    let price = subscribable.subscribe_tracked();
    let barrier = DependencyBarrier::from_subscribers(&[&validate, &price]);
    let journal = subscribable.subscribe();

    // How far each upstream stage has got, for the journal's check.
    let validated = Arc::new(AtomicU64::new(0));
    let priced = Arc::new(AtomicU64::new(0));
    // Set by `price` when it resumes after its pause, before it reads
    // order `PAUSE_AT`.
    let resumed = Arc::new(AtomicBool::new(false));

    let stage = |mut sub: spmc::Subscriber<Order>,
                 done: Arc<AtomicU64>,
                 pause: Option<Arc<AtomicBool>>,
                 work: fn(&Order) -> u64| {
        std::thread::spawn(move || {
            let mut acc = 0_u64;
            loop {
                if let Some(resumed) = &pause
                    && done.load(Ordering::Relaxed) == PAUSE_AT
                    && !resumed.load(Ordering::Relaxed)
                {
                    // A stage that stalls (a GC pause, a slow disk):
                    // the journal must not get past it meanwhile.
                    std::thread::sleep(Duration::from_millis(20));
                    // Release, then the read below: the barrier's
                    // Acquire of this stage's tracker hands it on to
                    // the journal with the order.
                    resumed.store(true, Ordering::Release);
                }
                match sub.recv_blocking() {
                    Ok(order) => {
                        acc = acc.wrapping_add(work(&order));
                        // Release: the journal's Acquire load sees this
                        // count no later than the barrier lets it read
                        // `order` (a check of the example, not of seqcast).
                        done.store(order.id + 1, Ordering::Release);
                    }
                    Err(RecvError::Closed) => return acc,
                    Err(RecvError::Lagged { .. }) => unreachable!("a gating stage never lags"),
                }
            }
            // Dropping `sub` here releases the barrier for the journal.
        })
    };
    let validate = stage(validate, Arc::clone(&validated), None, |o| {
        u64::from(o.qty > 0 && o.limit > 0)
    });
    let price = stage(
        price,
        Arc::clone(&priced),
        Some(Arc::clone(&resumed)),
        |o| u64::from(o.qty) * u64::from(o.limit),
    );

    let journal = {
        let (validated, priced) = (Arc::clone(&validated), Arc::clone(&priced));
        let resumed = Arc::clone(&resumed);
        std::thread::spawn(move || {
            let mut journal = journal;
            let (mut written, mut early) = (0_u64, 0_u64);
            loop {
                match journal.try_recv_gated(&barrier) {
                    Ok(order) => {
                        assert_eq!(order.id, written, "the journal lost or reordered an order");
                        if order.id == PAUSE_AT {
                            // Acquire: pairs with `price`'s Release store.
                            assert!(
                                resumed.load(Ordering::Acquire),
                                "the journal read an order before `price` had"
                            );
                        }
                        // Both upstreams have *read* this order; they may
                        // still be working on it. Count how often the
                        // journal got ahead of an upstream's *work*.
                        if validated.load(Ordering::Acquire) <= order.id
                            || priced.load(Ordering::Acquire) <= order.id
                        {
                            early += 1;
                        }
                        written += 1;
                    }
                    Err(TryRecvError::Empty) => {
                        if journal.is_closed() && journal.pending() == 0 {
                            return (written, early);
                        }
                        std::thread::yield_now(); // 4 threads on 2 cores: never busy-spin
                    }
                    Err(TryRecvError::Lagged { .. }) => unreachable!("the journal gates the ring"),
                }
            }
        })
    };

    for id in 0..ORDERS {
        publisher.publish(Order {
            id,
            qty: 1 + (id % 100) as u32,
            limit: 1_000 + (id % 7) as u32,
        });
    }
    drop(publisher); // shutdown starts at the source

    let valid = validate.join().expect("validate panicked");
    let notional = price.join().expect("price panicked");
    let (written, early) = journal.join().expect("journal panicked");

    assert_eq!(valid, ORDERS);
    assert_eq!(written, ORDERS);
    assert!(resumed.load(Ordering::Relaxed), "price paused and resumed");
    let expected: u64 = (0..ORDERS)
        .map(|id| (1 + id % 100) * (1_000 + id % 7))
        .sum();
    assert_eq!(notional, expected);
    println!("{ORDERS} orders through a diamond: publisher -> (validate, price) -> journal");
    println!("  validate: {valid} orders valid of {ORDERS}");
    println!("  price:    total notional {notional}");
    println!("  journal:  wrote {written} orders, each only after validate and price had read it");
    println!(
        "            ({early} of them before an upstream had finished its work on it: a barrier orders reads, \
         not the work after them)"
    );
    println!(
        "            (checked: price stopped for 20 ms before reading order {PAUSE_AT}, and the journal \
         read that order only after price resumed)"
    );
    println!(
        "  shutdown: publisher dropped -> upstreams drained and exited -> journal drained and exited"
    );
}
