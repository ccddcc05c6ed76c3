//! [`Subscribable`]: the cloneable handle that creates subscribers.

use core::fmt;
use std::sync::Arc as StdArc;

use ring_core::sync::Arc;
use ring_core::sync::atomic::AtomicU64;

use crate::barrier::Padded;
use crate::group::SubscriberGroup;
use crate::shared::{NEVER_HELD, Registration, Shared};
use crate::subscriber::{ReadState, Subscriber};

/// Creates subscribers of one ring. `Clone + Send + Sync`: hand a clone to
/// every thread that needs to subscribe.
///
/// | method | starts at | gates a bounded ring's publisher | tracker |
/// |---|---|---|---|
/// | [`subscribe`](Subscribable::subscribe) | the next value | yes | bounded rings |
/// | [`subscribe_lossy`](Subscribable::subscribe_lossy) | the next value | never (a tap) | no |
/// | [`subscribe_from_oldest`](Subscribable::subscribe_from_oldest) | the oldest retained value | yes | bounded rings |
/// | [`subscribe_tracked`](Subscribable::subscribe_tracked) | the next value | yes | always |
/// | [`subscribe_group`](Subscribable::subscribe_group) | the next value | yes | bounded rings |
///
/// ```
/// let (mut p, subs) = ring_spmc::channel::<u8>(8);
/// let subs2 = subs.clone();
/// let t = std::thread::spawn(move || subs2.subscribe().cursor());
/// assert_eq!(t.join().unwrap(), 0);
/// p.publish(1);
/// ```
pub struct Subscribable<T: Copy + Send> {
    pub(crate) shared: Arc<Shared<T>>,
}

impl<T: Copy + Send> Clone for Subscribable<T> {
    fn clone(&self) -> Self {
        Subscribable {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: Copy + Send> Subscribable<T> {
    fn make(&self, reg: Registration) -> Subscriber<T> {
        let st = ReadState::new(reg, &self.shared);
        Subscriber::new(Arc::clone(&self.shared), st)
    }

    /// A subscriber that sees only values published from now on. On a
    /// bounded ring it gates the publisher (which never overwrites a value
    /// it has not read) until it is dropped.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(8);
    /// p.publish(1);
    /// let mut s = subs.subscribe();
    /// p.publish(2);
    /// assert_eq!(s.try_recv(), Ok(2));
    /// ```
    pub fn subscribe(&self) -> Subscriber<T> {
        self.make(self.shared.register_at_head())
    }

    /// A subscriber that never gates the publisher, even on a bounded ring:
    /// a telemetry tap beside consumers that must see everything. If it
    /// falls behind it gets `Lagged` with an exact count, as on a lossy ring.
    ///
    /// ```
    /// use ring_spmc::{channel_bounded, TryRecvError};
    ///
    /// let (mut p, subs) = channel_bounded::<u64>(4, 0);
    /// let mut critical = subs.subscribe();
    /// let mut tap = subs.subscribe_lossy();
    /// for i in 0..4 {
    ///     p.publish(i);
    /// }
    /// assert_eq!(critical.try_recv(), Ok(0)); // frees one slot
    /// p.publish(4); // overwrites 0: the tap had not read it
    /// assert_eq!(tap.try_recv(), Err(TryRecvError::Lagged { skipped: 1 }));
    /// ```
    pub fn subscribe_lossy(&self) -> Subscriber<T> {
        self.make(Registration {
            start: self.shared.head(),
            held_from: NEVER_HELD,
            tracker: None,
        })
    }

    /// A subscriber that starts at the oldest value the ring still holds
    /// (0 if fewer than `capacity` were published).
    ///
    /// On a bounded ring it gates the publisher from registration on, so
    /// the retained history counts as unread: the publisher may wait until
    /// it drains. The values it starts with were already free for
    /// overwriting, so until the publisher next scans its trackers it may
    /// lap them (possibly more than once, each counted as `Lagged`); a
    /// value published after the registration is never lost, as with
    /// [`subscribe`](Subscribable::subscribe), which gives the no-loss
    /// guarantee from the first value.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(4);
    /// p.publish_batch(&[1, 2, 3, 4, 5, 6]);
    /// let mut s = subs.subscribe_from_oldest();
    /// assert_eq!(s.drain().collect::<Vec<_>>(), [3, 4, 5, 6]);
    /// ```
    pub fn subscribe_from_oldest(&self) -> Subscriber<T> {
        self.make(self.shared.register_at_oldest())
    }

    /// A subscriber that always has a tracker, for use as the upstream of a
    /// [`DependencyBarrier`](crate::DependencyBarrier). On a lossy ring the
    /// tracker gates nothing; on a bounded ring this is
    /// [`subscribe`](Subscribable::subscribe).
    ///
    /// ```
    /// let (_p, subs) = ring_spmc::channel::<u8>(8);
    /// assert!(subs.subscribe_tracked().tracker().is_some());
    /// ```
    pub fn subscribe_tracked(&self) -> Subscriber<T> {
        let mut reg = self.shared.register_at_head();
        if reg.tracker.is_none() {
            // Lossy ring: a tracker for barriers only, gating nothing (so
            // `held_from` stays `NEVER_HELD`).
            reg.tracker = Some(StdArc::new(Padded(AtomicU64::new(reg.start))));
        }
        self.make(reg)
    }

    /// `N` logical subscribers that share one cursor: one seqlock read per
    /// value for all of them (photon-ring 2's `SubscriberGroup`, removed in 3.0).
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u64>(64);
    /// let mut group = subs.subscribe_group::<4>();
    /// p.publish(42);
    /// assert_eq!(group.try_recv(), Ok(42));
    /// assert_eq!(group.aligned_count(), 4);
    /// ```
    pub fn subscribe_group<const N: usize>(&self) -> SubscriberGroup<T, N> {
        SubscriberGroup::new(self.subscribe())
    }
}

impl<T: Copy + Send> fmt::Debug for Subscribable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscribable")
            .field("capacity", &self.shared.capacity)
            .field("bounded", &self.shared.gate.is_some())
            .finish()
    }
}
