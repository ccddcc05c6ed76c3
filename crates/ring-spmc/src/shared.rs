//! The ring every handle shares: slots, the publish head, the gating
//! subscribers' trackers, the close flag and the doorbell.
//!
//! A second publisher type (ring-mpmc's `MpPublisher`) drives the same ring
//! through the `pub` methods below, re-exported as [`crate::raw::Ring`]; the
//! read side stays this crate's alone.

// Trackers are std `Arc`s, not the shim's: `Subscriber::tracker` and
// `DependencyBarrier::new` expose them with photon-ring's type
// `Arc<Padded<AtomicU64>>`, and their lifetime is not part of any protocol
// the loom models check (the atomic inside is the shim's).
use std::sync::Arc as StdArc;

use ring_core::sync::Mutex;
use ring_core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use ring_core::{CachePadded, Capacity, Doorbell, Slots};

use crate::barrier::Padded;
use crate::error::ChannelError;

/// A subscriber's published cursor: the next sequence it will read. Written
/// with Release by its subscriber, after the slot reads it covers; read with
/// Acquire by the publisher's scan and by dependency barriers, so a slot is
/// overwritten (or a downstream reads it) only after the reads it waited for.
pub(crate) type Tracker = StdArc<Padded<AtomicU64>>;

/// Where a new subscriber starts and what it may rely on.
pub(crate) struct Registration {
    /// The first sequence it reads.
    pub(crate) start: u64,
    /// From this sequence on, the subscriber *holds* the slot at its
    /// cursor: no publisher writes that slot again until the subscriber's
    /// tracker passes it, so one stamp check proves a read whole
    /// ([`Slot::try_read_held`](ring_core::Slot::try_read_held)).
    /// [`NEVER_HELD`] for subscribers that do not gate.
    pub(crate) held_from: u64,
    /// Its tracker, registered with the gate (bounded rings).
    pub(crate) tracker: Option<Tracker>,
}

/// `held_from` of a subscriber that gates nothing (lossy rings, taps):
/// every read validates the stamp twice.
pub(crate) const NEVER_HELD: u64 = u64::MAX;

/// The shared ring. See [`crate::raw`] for what a publisher must uphold.
pub struct Shared<T> {
    pub(crate) slots: Slots<T>,
    /// `capacity` as a u64, for sequence arithmetic.
    pub(crate) capacity: u64,
    /// The same, with ring-core's retention and lag arithmetic.
    pub(crate) cap: Capacity,
    /// How many values were published (the next sequence). Stored with
    /// Release after each slot write; readers load it with Acquire.
    pub(crate) head: CachePadded<AtomicU64>,
    /// Set (Release) when the publisher is dropped, after its last head
    /// store; read with Acquire.
    pub(crate) closed: AtomicBool,
    /// Bounded rings only.
    pub(crate) gate: Option<Gate>,
    /// Bounded rings: the room a [`gate_floor`](Shared::gate_floor) that
    /// found nobody gating computed (the cursor then, plus the window), kept for the
    /// publishers that follow; 0 once a gating subscriber registers. Written
    /// only under the gate's tracker lock, by those scans (raised) and by every
    /// gating registration (reset), so a subscriber registering behind the
    /// head (`subscribe_from_oldest`) gates the very next publish, as
    /// photon-ring's rescan does, without a lock per publish while nobody
    /// gates (a lock per publish was 3x on `benches/spmc.rs`,
    /// `publish/ring-spmc-bounded`, and on `benches/mpmc.rs`,
    /// `mpmc_publish/ring-mpmc-bounded`). One word, shared by every
    /// publisher, so ring-mpmc's producers read one value (a count of
    /// registrations beside a limit would be two words, read apart). Kept
    /// here, not in `Gate`, so the check is one load with no `Option` to
    /// test: inlined into `MpPublisher::publish`, that test made even the
    /// lossy publish, which never runs it, slower (`mpmc_publish/ring-mpmc`
    /// 4.37 -> 4.57 ns, best of 4 alternated runs; 4.40 without it). 0 on
    /// a lossy ring.
    ungated_limit: CachePadded<AtomicU64>,
    /// Rung after every publish and on close; parks blocking and async
    /// receivers.
    pub(crate) bell: Doorbell,
}

pub(crate) struct Gate {
    /// Slots kept free: the publisher refuses when
    /// `seq - slowest >= capacity - watermark`.
    pub(crate) watermark: u64,
    /// `capacity - watermark`: how far past the floor a write may go.
    window: u64,
    /// The gating subscribers' trackers.
    trackers: Mutex<Vec<Tracker>>,
}

impl<T: Copy + Send> Shared<T> {
    pub(crate) fn new(capacity: usize, watermark: Option<usize>) -> Result<Self, ChannelError> {
        // Exactly the capacity asked for, any value >= 2 (photon-ring 3.0);
        // ring-core indexes a power of two with a mask, others by fastmod.
        let cap = Capacity::try_new(capacity).map_err(ChannelError::Capacity)?;
        if let Some(w) = watermark
            && w >= capacity
        {
            return Err(ChannelError::Watermark {
                watermark: w,
                capacity,
            });
        }
        Ok(Shared {
            slots: Slots::try_new(cap).map_err(ChannelError::Alloc)?,
            capacity: cap.get() as u64,
            cap,
            head: CachePadded::new(AtomicU64::new(0)),
            closed: AtomicBool::new(false),
            gate: watermark.map(|w| Gate {
                watermark: w as u64,
                window: (capacity - w) as u64,
                trackers: Mutex::new(Vec::new()),
            }),
            ungated_limit: CachePadded::new(AtomicU64::new(0)),
            bell: Doorbell::new(),
        })
    }

    /// The number of values published so far.
    #[inline]
    pub(crate) fn head(&self) -> u64 {
        // Acquire: pairs with the publisher's Release head store, so every
        // slot below the head is written.
        self.head.load(Ordering::Acquire)
    }

    /// Whether the publisher is gone.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: pairs with the Release store in `Publisher::drop`, which
        // follows its last head store.
        self.closed.load(Ordering::Acquire)
    }

    /// The oldest sequence still retained when `newest` is the newest
    /// sequence written or being written.
    #[inline]
    pub(crate) fn oldest_after(&self, newest: u64) -> u64 {
        self.cap.oldest_retained(newest + 1)
    }

    /// Registers a gating tracker starting at the head, under the tracker
    /// lock so a publisher rescan cannot miss it (see `Publisher::has_room`).
    /// Returns the registration (no tracker on a lossy ring).
    pub(crate) fn register_at_head(&self) -> Registration {
        self.register(|head| head)
    }

    /// Registers a gating tracker at the oldest retained value, `capacity`
    /// behind the head read under the tracker lock: the publisher's limit
    /// then never exceeds that head plus the capacity until its next rescan
    /// (which sees the tracker), so no value published after the
    /// registration is lapped. Reading the head before taking the lock let
    /// the publisher run on, and lap values published after that read.
    pub(crate) fn register_at_oldest(&self) -> Registration {
        self.register(|head| self.cap.oldest_retained(head))
    }

    /// Registers a tracker at `start(head)`, the head read under the
    /// tracker lock (on a lossy ring, without a lock or a tracker).
    fn register(&self, start: impl FnOnce(u64) -> u64) -> Registration {
        let Some(gate) = &self.gate else {
            return Registration {
                start: start(self.head()),
                held_from: NEVER_HELD,
                tracker: None,
            };
        };
        let mut trackers = gate.trackers.lock();
        let head = self.head();
        let start = start(head);
        let tracker = StdArc::new(Padded(AtomicU64::new(start)));
        trackers.push(StdArc::clone(&tracker));
        // Release: pairs with the Acquire load in `ungated_limit`; a
        // publisher that loads this 0 rescans, and the rescan takes this
        // lock, which orders the tracker's registration before it. A
        // publish that loaded the old room first writes only within it
        // (the cursor as of a scan that preceded this registration, plus
        // the window), so it overwrites only values published before this
        // subscriber registered: the history `subscribe_from_oldest`
        // documents it may lose, and counts.
        self.ungated_limit.store(0, Ordering::Release);
        Registration {
            start,
            // Every limit a publisher computed before this registration
            // (from a scan or a floor that took this lock earlier) is at
            // most `head + window`, and every later one at most this
            // tracker's value plus the window: from `head` on, no slot is
            // overwritten before this subscriber's cursor passes it.
            held_from: head,
            tracker: Some(tracker),
        }
    }

    /// Removes a gating tracker (subscriber dropped): the publisher's next
    /// rescan no longer waits for it.
    pub(crate) fn unregister(&self, tracker: &Tracker) {
        if let Some(gate) = &self.gate {
            gate.trackers.lock().retain(|t| !StdArc::ptr_eq(t, tracker));
        }
    }

    /// The slowest gating subscriber's cursor, or `None` if none gates.
    pub(crate) fn slowest(&self) -> Option<u64> {
        let gate = self.gate.as_ref()?;
        slowest_of(&gate.trackers.lock())
    }

    /// The room the last [`gate_floor`](Self::gate_floor) that found
    /// nobody gating left: while no gating subscriber has registered since,
    /// a sequence below it may be written without a scan. 0 otherwise, and
    /// on a lossy ring.
    #[inline(always)]
    pub fn ungated_limit(&self) -> u64 {
        // Acquire: pairs with the Release stores under the tracker lock (a
        // scan's room, a registration's reset), so a publisher that
        // happens after a registration sees its reset or a later room.
        self.ungated_limit.load(Ordering::Acquire)
    }

    /// The slot array. Writers must keep [`Slot::write`](ring_core::Slot::write)'s
    /// contract: one writer per slot at a time, increasing sequences.
    #[inline(always)]
    pub fn slots(&self) -> &Slots<T> {
        &self.slots
    }

    /// The ring's exact capacity, with its index and lag arithmetic.
    #[inline(always)]
    pub fn capacity(&self) -> Capacity {
        self.cap
    }

    /// The publish cursor (the "head"): the number of values published,
    /// such that every sequence below it is written. A publisher raises it
    /// with Release, after the slot writes it covers (directly or through an
    /// Acquire load of their stamps); subscribers load it with Acquire for
    /// lag arithmetic, `pending`, `latest` and where new subscribers start.
    /// It must never move past a sequence whose slot is not yet written.
    #[inline(always)]
    pub fn cursor(&self) -> &AtomicU64 {
        &self.head
    }

    /// [`cursor`](Shared::cursor), loaded with Acquire.
    #[inline]
    pub fn published(&self) -> u64 {
        self.head()
    }

    /// A bounded ring's watermark (slots kept free); `None` on a lossy ring.
    #[inline]
    pub fn watermark(&self) -> Option<u64> {
        self.gate.as_ref().map(|g| g.watermark)
    }

    /// On a bounded ring, the lowest sequence a publisher must not lap: a
    /// write of sequence `seq` is allowed only if
    /// `seq < floor + capacity - watermark`. The floor is the slowest gating
    /// subscriber's cursor, or the cursor of the ring if that is lower: a
    /// subscriber that registers later with `subscribe` starts at the
    /// cursor, and the trackers and cursor are read under the tracker lock
    /// that registration takes, so it starts at or above the floor
    /// returned. (Subscribers validate stamps, so with several publishers a
    /// tracker can run ahead of the cursor; the `min` keeps a later
    /// subscriber safe.) A subscriber from `subscribe_from_oldest` starts
    /// *behind* the cursor: a limit from a floor with
    /// [`gated`](GateFloor::gated) false must serve the current publish
    /// only, never be cached, so that such a subscriber gates the very next
    /// publish when nobody else gates (as [`Publisher`](crate::Publisher)
    /// and photon-ring do): such a limit is kept instead in
    /// [`ungated_limit`](Self::ungated_limit), which this call raises to
    /// it and every gating registration resets. `None` on a lossy ring.
    pub fn gate_floor(&self) -> Option<GateFloor> {
        let gate = self.gate.as_ref()?;
        let trackers = gate.trackers.lock();
        // Acquire (`head` and `slowest_of`): pair with the Release cursor
        // stores of publishers and the Release tracker stores of
        // subscribers, so the slot writes and reads below the floor happen
        // before a write that relies on it.
        let head = self.head();
        let slowest = slowest_of(&trackers);
        if slowest.is_none() {
            // Relaxed load: every store to it is made under this lock.
            let old = self.ungated_limit.load(Ordering::Relaxed);
            // Release: pairs with the Acquire load in `ungated_limit`.
            self.ungated_limit
                .store(old.max(head + gate.window), Ordering::Release);
        }
        Some(GateFloor {
            floor: slowest.map_or(head, |s| s.min(head)),
            gated: slowest.is_some(),
        })
    }

    /// Closes the channel: subscribers drain what is retained, then see the
    /// close. Call once, after the last write and cursor store of every
    /// publisher (they must happen before this call).
    pub fn close(&self) {
        // Release: pairs with the Acquire load in `is_closed`, which a
        // subscriber makes before its last read, so it sees every value.
        self.closed.store(true, Ordering::Release);
        self.bell.ring();
    }

    /// The doorbell parked subscribers sleep on: ring it after every
    /// publish ([`Doorbell::ring`]).
    #[inline(always)]
    pub fn bell(&self) -> &Doorbell {
        &self.bell
    }
}

/// What [`Shared::gate_floor`] found on a bounded ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateFloor {
    /// The lowest sequence a publisher must not lap.
    pub floor: u64,
    /// Whether any gating subscriber is registered. If none is, `floor` is
    /// the cursor and a limit computed from it must not be cached.
    pub gated: bool,
}

impl<T> core::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.capacity)
            // Relaxed: a diagnostic snapshot.
            .field("published", &self.head.load(Ordering::Relaxed))
            .field("bounded", &self.gate.is_some())
            .finish_non_exhaustive()
    }
}

/// The slowest of the gating trackers (read under their lock), or `None`
/// if none gates.
fn slowest_of(trackers: &[Tracker]) -> Option<u64> {
    trackers
        .iter()
        // Acquire: pairs with the subscriber's Release tracker store, so its
        // reads of the slots below happened before a write that relies on it.
        .map(|t| t.0.load(Ordering::Acquire))
        .min()
}
