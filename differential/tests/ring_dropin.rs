//! Drop-in review of ring-spmc and ring-mpmc against photon-ring 3.0: the
//! paths photon-ring code names (`channel::`, `barrier::`, `wait::`,
//! `Pod`), and its panic texts, which a photon-ring user's
//! `#[should_panic(expected = "...")]` tests match as substrings.
//!
//! The same code runs against each crate through a `use … as photon_ring`
//! line, as a user switching would write it.

use std::panic::{UnwindSafe, catch_unwind};

fn panic_text<R>(f: impl FnOnce() -> R + UnwindSafe) -> String {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let err = catch_unwind(f).map(|_| ()).expect_err("expected a panic");
    std::panic::set_hook(previous);
    if let Some(s) = err.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = err.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        panic!("a panic payload that is not a string")
    }
}

/// Every panic photon-ring documents for the channel API, run on both
/// crates: photon-ring's text must be a substring of ours.
#[test]
fn photon_rings_panic_texts_are_in_ours() {
    macro_rules! texts {
        ($photon_ring:ident) => {{
            use $photon_ring::{DependencyBarrier, channel, channel_bounded};
            vec![
                ("channel(1)", panic_text(|| channel::<u64>(1))),
                ("channel(0)", panic_text(|| channel::<u64>(0))),
                (
                    "channel_bounded(1, 0)",
                    panic_text(|| channel_bounded::<u64>(1, 0)),
                ),
                (
                    "channel_bounded(4, 4)",
                    panic_text(|| channel_bounded::<u64>(4, 4)),
                ),
                (
                    "channel_bounded(6, 9)",
                    panic_text(|| channel_bounded::<u64>(6, 9)),
                ),
                (
                    "DependencyBarrier::new([])",
                    panic_text(|| DependencyBarrier::new(Vec::new())),
                ),
                (
                    "from_subscribers([])",
                    panic_text(|| DependencyBarrier::from_subscribers::<u64>(&[])),
                ),
                (
                    "from_subscribers(untracked)",
                    panic_text(|| {
                        let (_p, subs) = channel::<u64>(4);
                        let s = subs.subscribe();
                        DependencyBarrier::from_subscribers(&[&s])
                    }),
                ),
            ]
        }};
    }
    let theirs = texts!(photon_ring);
    for ours in [texts!(ring_spmc), texts!(ring_mpmc)] {
        for ((what, o), (_, t)) in ours.iter().zip(&theirs) {
            assert!(
                o.contains(t.as_str()),
                "{what}: ours {o:?} does not contain photon-ring's {t:?}"
            );
        }
    }
}

/// The module paths and the `Pod` marker photon-ring code names compile
/// and mean the same items on both crates; ring-mpmc also answers for
/// the single-producer names (photon-ring has both in one crate).
#[test]
fn photon_rings_paths_and_pod_compile_on_both() {
    macro_rules! user_code {
        ($photon_ring:ident) => {{
            use $photon_ring::Pod;
            use $photon_ring::barrier::DependencyBarrier;
            use $photon_ring::channel::{
                Drain, PublishError, Publisher, Subscribable, Subscriber, TryRecvError, channel,
                channel_bounded,
            };
            use $photon_ring::wait::WaitStrategy;

            #[repr(C)]
            #[derive(Clone, Copy, Debug, PartialEq)]
            struct Quote {
                price: f64,
                volume: u32,
                _pad: u32,
            }
            // SAFETY: repr(C), plain numbers, explicit padding (photon-ring's contract).
            unsafe impl Pod for Quote {}

            fn roundtrip<T: Pod + PartialEq + std::fmt::Debug>(v: T) -> T {
                let (mut p, subs): (Publisher<T>, Subscribable<T>) = channel(4);
                let mut s: Subscriber<T> = subs.subscribe();
                p.publish(v);
                let _: Drain<'_, T> = s.drain();
                let (mut p, subs) = channel_bounded::<T>(2, 0);
                let mut s = subs.subscribe();
                p.publish(v);
                p.publish(v);
                assert!(matches!(p.try_publish(v), Err(PublishError::Full(_))));
                let got = s.try_recv().unwrap();
                s.try_recv().unwrap();
                assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
                got
            }
            let q = Quote {
                price: 1.5,
                volume: 7,
                _pad: 0,
            };
            assert_eq!(roundtrip(q), q);
            assert_eq!(roundtrip([1u64, 2, 3]), [1, 2, 3]);
            assert_eq!(roundtrip((9u16,)), (9,));
            let (_p, subs) = channel_bounded::<u64>(4, 0);
            let up = subs.subscribe();
            let _ = DependencyBarrier::from_subscribers(&[&up]);
            let _ = WaitStrategy::default();
        }};
    }
    user_code!(photon_ring);
    user_code!(ring_spmc);
    user_code!(ring_mpmc);
    // photon-ring's multi-producer names through its `channel` module.
    {
        use ring_mpmc::channel::{MpPublisher, channel_mpmc};
        let (p, subs): (MpPublisher<u64>, _) = channel_mpmc(4);
        let mut s = subs.subscribe();
        p.publish(3);
        assert_eq!(s.try_recv(), Ok(3));
    }
}
