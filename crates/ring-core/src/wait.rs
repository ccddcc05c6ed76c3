//! How a reader waits when nothing is ready.
//!
//! [`WaitStrategy`] keeps photon-ring's five variants, names and default, so
//! code that picks one compiles unchanged, and adds two that let an idle
//! reader give its core back: [`ThreadYield`](WaitStrategy::ThreadYield)
//! and [`Park`](WaitStrategy::Park). A strategy on its own only spins or
//! yields (it is `no_std`); parking needs a [`Doorbell`](https://docs.rs/seqcast-core/0.1/ring_core/struct.Doorbell.html)
//! that the writer rings, driven by [`Doorbell::wait_until`](https://docs.rs/seqcast-core/0.1/ring_core/struct.Doorbell.html#method.wait_until).
//!
//! | strategy | wake-up latency | CPU while idle | for |
//! |---|---|---|---|
//! | `BusySpin` | lowest | 100% of a core | dedicated, pinned cores |
//! | `YieldSpin` | low | high (PAUSE) | shared cores, SMT |
//! | `BackoffSpin` | medium | decreasing | background readers |
//! | `Adaptive` | auto | spin, then OS yield, then parked (with a doorbell) | general purpose (default) |
//! | `MonitorWaitFallback` | low | as `YieldSpin` | accepted for photon-ring compatibility |
//! | `ThreadYield` | scheduler tick | low | more threads than cores |
//! | `Park` | a futex wake-up (µs) | none | idle consumers |

use crate::sync::{spin_loop, yield_now};

/// Strategy for a reader's blocking wait.
///
/// ```
/// use ring_core::WaitStrategy;
///
/// let s = WaitStrategy::default();
/// assert_eq!(s, WaitStrategy::Adaptive { spin_iters: 64, yield_iters: 64 });
/// // One step of the wait; callers loop, re-checking their condition.
/// for iter in 0..10 {
///     s.wait(iter);
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Pure busy-spin, no hint instruction: the lowest wake-up latency and
    /// 100% of one core. Use only on a dedicated, pinned core.
    BusySpin,

    /// Spin with `core::hint::spin_loop()` (PAUSE on x86, YIELD on Arm),
    /// which yields the pipeline to an SMT sibling and saves power.
    YieldSpin,

    /// Exponential backoff: 1, 2, 4, … 64 PAUSEs per step.
    BackoffSpin,

    /// Three phases: bare spin for `spin_iters` steps, then give the time
    /// slice back to the OS (`std::thread::yield_now`) for `yield_iters`
    /// steps, then park on the writer's [`Doorbell`](https://docs.rs/seqcast-core/0.1/ring_core/struct.Doorbell.html) when
    /// the wait is driven by one (and keep yielding otherwise; on `no_std`,
    /// PAUSE bursts). photon-ring's third phase is PAUSE bursts and its
    /// second PAUSE-spin; ours stops burning the core.
    Adaptive {
        /// Bare-spin steps before the yield phase.
        spin_iters: u32,
        /// Yield steps before parking.
        yield_iters: u32,
    },

    /// photon-ring's TPAUSE/WFE strategy. Accepted for compatibility; here it
    /// behaves as [`YieldSpin`](WaitStrategy::YieldSpin) (TPAUSE needs a
    /// CPUID probe per process that Miri and loom cannot run).
    MonitorWaitFallback,

    /// Give the time slice to the OS scheduler every step. Use when there
    /// are more waiting threads than cores.
    ThreadYield,

    /// Spin `spin_iters` steps, then sleep on the writer's
    /// [`Doorbell`](https://docs.rs/seqcast-core/0.1/ring_core/struct.Doorbell.html) until it rings: no CPU while idle. Without
    /// a doorbell, behaves as [`ThreadYield`](WaitStrategy::ThreadYield) after
    /// the spin phase.
    Park {
        /// PAUSE-spin steps before parking.
        spin_iters: u32,
    },
}

impl Default for WaitStrategy {
    /// `Adaptive { spin_iters: 64, yield_iters: 64 }`, as photon-ring.
    ///
    /// ```
    /// assert!(matches!(
    ///     ring_core::WaitStrategy::default(),
    ///     ring_core::WaitStrategy::Adaptive { .. }
    /// ));
    /// ```
    fn default() -> Self {
        WaitStrategy::Adaptive {
            spin_iters: 64,
            yield_iters: 64,
        }
    }
}

/// What one step of a strategy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Nothing: re-check at once.
    Spin,
    /// `n` PAUSE hints.
    Pause(u32),
    /// An OS yield.
    Yield,
    /// Park, if a doorbell drives the wait (else yield).
    Park,
}

impl WaitStrategy {
    /// Runs one step of the wait. `iter` counts the steps since the reader
    /// last found something (from 0); it drives the phases.
    ///
    /// This never parks: parking needs a [`Doorbell`](https://docs.rs/seqcast-core/0.1/ring_core/struct.Doorbell.html) (see
    /// [`Doorbell::wait_until`](https://docs.rs/seqcast-core/0.1/ring_core/struct.Doorbell.html#method.wait_until)); where a
    /// strategy would park, it yields instead.
    ///
    /// ```
    /// use ring_core::WaitStrategy;
    ///
    /// let ready = std::sync::atomic::AtomicBool::new(true);
    /// let mut iter = 0;
    /// while !ready.load(std::sync::atomic::Ordering::Acquire) {
    ///     WaitStrategy::BackoffSpin.wait(iter);
    ///     iter += 1;
    /// }
    /// ```
    #[inline]
    pub fn wait(&self, iter: u32) {
        match self.step(iter) {
            Step::Spin => {
                // loom cannot preempt a loop that never touches the model.
                #[cfg(ring_loom)]
                spin_loop();
            }
            Step::Pause(n) => {
                for _ in 0..n {
                    spin_loop();
                }
            }
            Step::Yield | Step::Park => yield_now(),
        }
    }

    /// Whether step `iter` is one where this strategy parks on a doorbell.
    ///
    /// ```
    /// use ring_core::WaitStrategy;
    ///
    /// let s = WaitStrategy::Adaptive { spin_iters: 2, yield_iters: 3 };
    /// assert!(!s.parks_at(4));
    /// assert!(s.parks_at(5));
    /// assert!(WaitStrategy::Park { spin_iters: 0 }.parks_at(0));
    /// assert!(!WaitStrategy::BusySpin.parks_at(1_000_000));
    /// ```
    #[inline]
    pub fn parks_at(&self, iter: u32) -> bool {
        self.step(iter) == Step::Park
    }

    #[inline]
    fn step(&self, iter: u32) -> Step {
        match *self {
            WaitStrategy::BusySpin => Step::Spin,
            WaitStrategy::YieldSpin | WaitStrategy::MonitorWaitFallback => Step::Pause(1),
            WaitStrategy::BackoffSpin => Step::Pause(1 << iter.min(6)),
            WaitStrategy::Adaptive {
                spin_iters,
                yield_iters,
            } => {
                if iter < spin_iters {
                    Step::Spin
                } else if iter < spin_iters.saturating_add(yield_iters) {
                    if cfg!(any(feature = "std", ring_loom)) {
                        Step::Yield
                    } else {
                        Step::Pause(1)
                    }
                } else if cfg!(any(feature = "std", ring_loom)) {
                    Step::Park
                } else {
                    Step::Pause(8)
                }
            }
            WaitStrategy::ThreadYield => Step::Yield,
            WaitStrategy::Park { spin_iters } => {
                if iter < spin_iters {
                    Step::Pause(1)
                } else {
                    Step::Park
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Step, WaitStrategy};

    #[test]
    fn phases_follow_the_iteration_count() {
        let s = WaitStrategy::Adaptive {
            spin_iters: 2,
            yield_iters: 2,
        };
        let steps: alloc::vec::Vec<Step> = (0..6).map(|i| s.step(i)).collect();
        assert_eq!(
            steps,
            [
                Step::Spin,
                Step::Spin,
                Step::Yield,
                Step::Yield,
                Step::Park,
                Step::Park
            ]
        );
        assert_eq!(WaitStrategy::BackoffSpin.step(0), Step::Pause(1));
        assert_eq!(WaitStrategy::BackoffSpin.step(3), Step::Pause(8));
        assert_eq!(WaitStrategy::BackoffSpin.step(40), Step::Pause(64));
        assert_eq!(WaitStrategy::YieldSpin.step(99), Step::Pause(1));
        assert_eq!(WaitStrategy::MonitorWaitFallback.step(0), Step::Pause(1));
        assert_eq!(WaitStrategy::ThreadYield.step(0), Step::Yield);
        assert_eq!(WaitStrategy::Park { spin_iters: 1 }.step(0), Step::Pause(1));
        assert_eq!(WaitStrategy::Park { spin_iters: 1 }.step(1), Step::Park);
        assert_eq!(WaitStrategy::BusySpin.step(u32::MAX), Step::Spin);
    }

    #[test]
    fn saturating_phase_bounds() {
        let s = WaitStrategy::Adaptive {
            spin_iters: u32::MAX,
            yield_iters: u32::MAX,
        };
        assert_eq!(s.step(u32::MAX - 1), Step::Spin);
        assert!(!s.parks_at(u32::MAX - 1));
    }

    /// Every strategy's step returns, promptly: 200 steps of each, timed
    /// (with std), and the steps that would park only ever yield here.
    #[test]
    fn every_strategy_returns() {
        for s in [
            WaitStrategy::BusySpin,
            WaitStrategy::YieldSpin,
            WaitStrategy::BackoffSpin,
            WaitStrategy::default(),
            WaitStrategy::MonitorWaitFallback,
            WaitStrategy::ThreadYield,
            WaitStrategy::Park { spin_iters: 1 },
        ] {
            #[cfg(feature = "std")]
            let start = std::time::Instant::now();
            let mut steps = 0_u32;
            let mut parks = 0_u32;
            for i in 0..200 {
                s.wait(i);
                steps += 1;
                parks += u32::from(s.parks_at(i));
            }
            assert_eq!(steps, 200, "{s:?}");
            let expected_parks = match s {
                WaitStrategy::Park { spin_iters } => 200 - spin_iters,
                WaitStrategy::Adaptive {
                    spin_iters,
                    yield_iters,
                } if cfg!(feature = "std") => 200_u32.saturating_sub(spin_iters + yield_iters),
                _ => 0,
            };
            assert_eq!(parks, expected_parks, "{s:?}");
            #[cfg(feature = "std")]
            assert!(
                start.elapsed() < std::time::Duration::from_secs(5),
                "{s:?} took {:?} for 200 steps",
                start.elapsed()
            );
        }
    }
}
