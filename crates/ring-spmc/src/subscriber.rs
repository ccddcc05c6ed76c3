//! [`Subscriber`]: one reader's cursor and the whole receive surface.

use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Duration;

use ring_core::sync::Arc;
use ring_core::sync::atomic::{AtomicU64, Ordering};
use ring_core::{RawSlots, ReadResult, Slot, Stamp, WaitKey, WaitStrategy};

use crate::barrier::{DependencyBarrier, Padded};
use crate::error::{Lagged, RecvError, RecvTimeoutError, TryRecvError};
use crate::shared::{NEVER_HELD, Registration, Shared, Tracker};

/// How the blocking receives wait: a short spin (a value published within
/// a microsecond or so is taken without a syscall), then park.
const BLOCKING: WaitStrategy = WaitStrategy::Park { spin_iters: 64 };

/// The read side of a ring: a private cursor, so subscribers never contend
/// with each other, and on a lossy ring never write shared memory at all.
///
/// Created by [`Subscribable`](crate::Subscribable). `Send`, not `Sync`.
///
/// ```
/// use ring_spmc::{channel, TryRecvError};
///
/// let (mut p, subs) = channel::<u64>(8);
/// let mut s = subs.subscribe();
/// p.publish(10);
/// assert_eq!(s.try_recv(), Ok(10));
/// assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
/// assert_eq!(s.total_received(), 1);
/// ```
pub struct Subscriber<T: Copy + Send> {
    pub(crate) shared: Arc<Shared<T>>,
    pub(crate) st: ReadState<T>,
    /// The pending async receive's registration with the doorbell.
    wait_key: Option<WaitKey>,
    _not_sync: PhantomData<Cell<()>>,
}

/// A subscriber's private state, separate from `shared` so a closure can
/// borrow it mutably while the doorbell is borrowed from `shared`.
pub(crate) struct ReadState<T> {
    /// `shared.slots`' base and capacity, copied at subscription: a read
    /// indexes the ring without loading them through the `Arc` first (one
    /// dependent load fewer; photon-ring's subscribers cache the same).
    slots: RawSlots<T>,
    /// The next sequence to read.
    pub(crate) cursor: u64,
    pub(crate) total_received: u64,
    pub(crate) total_lagged: u64,
    /// This subscriber's published cursor (gating, or for barriers). Kept
    /// equal to `cursor` after every receive and every lag: a gating
    /// subscriber frees exactly one publish per value it reads, as
    /// photon-ring's (issue 9, bug 4: publishing it only every
    /// `capacity / 16` reads left a publisher `Full`, or blocked, after a
    /// subscriber stopped part-way, and could deadlock a request/response
    /// pair of rings).
    pub(crate) tracker: Option<Tracker>,
    /// Whether `tracker` is registered with the ring's gate (unregistered
    /// on drop).
    gating: bool,
    /// From this sequence on the slot at `cursor` is held (see
    /// [`Registration::held_from`]): reads check its stamp once. `NEVER_HELD`
    /// unless gating, and from the moment the tracker is handed out
    /// ([`Subscriber::tracker`]): the hold needs this subscriber to be the
    /// only writer of its tracker, and a caller with the `Arc` can store to
    /// it. A `Cell` because `tracker` takes `&self` (photon-ring's
    /// signature); `Subscriber` is not `Sync`.
    held_from: Cell<u64>,
}

impl<T: Copy + Send> ReadState<T> {
    pub(crate) fn new(reg: Registration, shared: &Shared<T>) -> Self {
        let gating = reg.held_from != NEVER_HELD;
        debug_assert!(!gating || reg.tracker.is_some());
        ReadState {
            slots: shared.slots.raw(),
            cursor: reg.start,
            total_received: 0,
            total_lagged: 0,
            tracker: reg.tracker,
            gating,
            held_from: Cell::new(reg.held_from),
        }
    }

    /// Publishes `cursor` to the tracker, if there is one.
    #[inline(always)]
    fn store_tracker(&mut self) {
        if let Some(t) = &self.tracker {
            // Release: publishes this subscriber's reads of every slot below
            // `cursor`; pairs with the Acquire loads of the publisher's scan
            // and of dependency barriers.
            t.0.store(self.cursor, Ordering::Release);
        }
    }

    /// The slot of `seq` in `shared`, the ring this state was made from.
    #[inline(always)]
    fn slot<'s>(&self, shared: &'s Shared<T>, seq: u64) -> &'s Slot<T> {
        debug_assert!(self.slots.is_from(&shared.slots));
        // SAFETY: `self.slots` was copied from `shared.slots` in `new`, and
        // every caller passes the ring its state was made from (the
        // `Subscriber`'s own `Arc`, checked above in debug builds), which is
        // alive for `'s`.
        unsafe { self.slots.get(seq) }
    }

    #[inline(always)]
    pub(crate) fn try_recv(&mut self, shared: &Shared<T>) -> Result<T, TryRecvError> {
        let slot = self.slot(shared, self.cursor);
        let read = if self.cursor >= self.held_from.get() {
            // SAFETY: the slot is held. This subscriber gates the ring and
            // its tracker holds `cursor` (stored after every move, below and
            // in `lagged`/`skip_to`), so a publisher may write sequence
            // `cursor + capacity` into this slot only after an Acquire load
            // (direct or through a chain: `Publisher::rescan`, ring-mpmc's
            // limit) of a tracker value above `cursor`, which this thread
            // stores with Release only after this read returns; and a limit
            // computed before this subscriber registered stops below
            // `held_from + capacity` (`Shared::register`). So no later write
            // of the slot begins before the read returns.
            unsafe { slot.try_read_held(self.cursor) }
        } else {
            slot.try_read(self.cursor)
        };
        match read {
            ReadResult::Ready(value) => {
                self.cursor += 1;
                self.total_received += 1;
                self.store_tracker();
                Ok(value)
            }
            ReadResult::NotWritten | ReadResult::Writing => Err(TryRecvError::Empty),
            ReadResult::Overwritten { stamp } => Err(self.lagged(shared, stamp)),
        }
    }

    /// Hands up to `max` ready values to `f`, in order; see
    /// [`Subscriber::recv_each`].
    #[inline]
    fn recv_each(&mut self, shared: &Shared<T>, max: usize, mut f: impl FnMut(T)) -> usize {
        if self.cursor >= self.held_from.get() {
            // One head load for the whole batch, disruptor's poller: every
            // sequence below it is written (the publisher raised it with
            // Release after the writes; Acquire here).
            let ready = shared.head().saturating_sub(self.cursor);
            let ready = ready.min(max as u64);
            if ready > 0 {
                let end = self.cursor + ready;
                while self.cursor < end {
                    let seq = self.cursor;
                    // SAFETY: `seq` is below the head loaded above with
                    // Acquire, so its write happens before this read; and the
                    // slot is held: this subscriber gates the ring, its
                    // tracker is at most `seq` until the store after the
                    // loop (see `try_recv`), and `seq >= held_from`, so no
                    // publisher writes the slot again before that store.
                    let value = unsafe { self.slot(shared, seq).read_published(seq) };
                    // Counted before `f` runs: a panicking `f` has still
                    // received the value (the tracker then stays behind the
                    // cursor, which only holds the publisher back, until
                    // the next receive or the drop).
                    self.cursor = seq + 1;
                    self.total_received += 1;
                    f(value);
                }
                self.store_tracker();
                return ready as usize;
            }
            // Nothing below the head; a publisher that raises the head
            // after its write (ring-mpmc's, when a peer commits for it) may
            // still have written the next slot: read it by its stamp.
        }
        let mut n = 0;
        while n < max {
            match self.try_recv(shared) {
                Ok(v) => {
                    n += 1;
                    f(v);
                }
                Err(TryRecvError::Lagged { .. }) => {}
                Err(TryRecvError::Empty) => break,
            }
        }
        n
    }

    /// Moves the cursor forward to `target`, counting what it passes over
    /// as lag (`latest`).
    fn skip_to(&mut self, target: u64) {
        debug_assert!(target > self.cursor);
        self.total_lagged += target - self.cursor;
        self.cursor = target;
        self.store_tracker();
    }

    /// The slot of `cursor` holds a later sequence: skip to the oldest
    /// value still retained and count exactly what was lost.
    #[cold]
    fn lagged(&mut self, shared: &Shared<T>, stamp: Stamp) -> TryRecvError {
        // The newest sequence written or being written: the overwriting one,
        // or the head if the publisher is already further on.
        let by_stamp = stamp.sequence().unwrap_or(0);
        let newest = by_stamp.max(shared.head().saturating_sub(1));
        let oldest = shared.oldest_after(newest);
        // The slot of `cursor` holds a sequence >= cursor + capacity, so
        // `oldest > cursor`: every value in between was overwritten.
        debug_assert!(oldest > self.cursor);
        let skipped = oldest.saturating_sub(self.cursor);
        self.cursor = oldest.max(self.cursor);
        self.total_lagged += skipped;
        self.store_tracker();
        TryRecvError::Lagged { skipped }
    }

    /// `try_recv`, with `Empty` turned into `Closed` once the publisher is
    /// gone and nothing is left. `None`: keep waiting.
    #[inline]
    fn poll_recv(&mut self, shared: &Shared<T>) -> Option<Result<T, RecvError>> {
        // Read `closed` before the slot: if it was set, the publisher's last
        // value is visible to the read below (see `Publisher::drop`).
        let closed = shared.is_closed();
        match self.try_recv(shared) {
            Ok(v) => Some(Ok(v)),
            Err(TryRecvError::Lagged { skipped }) => Some(Err(RecvError::Lagged { skipped })),
            Err(TryRecvError::Empty) => closed.then_some(Err(RecvError::Closed)),
        }
    }
}

impl<T: Copy + Send> Subscriber<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>, st: ReadState<T>) -> Self {
        Subscriber {
            shared,
            st,
            wait_key: None,
            _not_sync: PhantomData,
        }
    }

    /// Receives the next value if one is ready; never blocks.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing new was published;
    /// [`TryRecvError::Lagged`] if the publisher overwrote values this
    /// subscriber had not read (lossy rings and lossy taps): the count is
    /// exact, and the next call returns the oldest retained value.
    ///
    /// ```
    /// use ring_spmc::{channel, TryRecvError};
    ///
    /// let (mut p, subs) = channel::<u32>(2);
    /// let mut s = subs.subscribe();
    /// p.publish_batch(&[1, 2, 3, 4, 5]);
    /// assert_eq!(s.try_recv(), Err(TryRecvError::Lagged { skipped: 3 }));
    /// assert_eq!(s.try_recv(), Ok(4));
    /// assert_eq!(s.total_received() + s.total_lagged(), 4);
    /// ```
    #[inline(always)]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.st.try_recv(&self.shared)
    }

    /// Spins until the next value arrives (lag is skipped over, as
    /// photon-ring's): a bare spin, then PAUSE-spin. For a wait that does
    /// not burn a core use [`recv_blocking`](Subscriber::recv_blocking) or
    /// [`recv_with`](Subscriber::recv_with).
    ///
    /// # Panics
    ///
    /// If the publisher is dropped and every retained value has been read:
    /// nothing can arrive, and photon-ring's spin-forever would hang the
    /// thread. The panic points at the caller's line.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(4);
    /// let mut s = subs.subscribe();
    /// p.publish(3);
    /// assert_eq!(s.recv(), 3);
    /// ```
    #[inline]
    #[track_caller]
    pub fn recv(&mut self) -> T {
        loop {
            match self.st.poll_recv(&self.shared) {
                Some(Ok(v)) => return v,
                Some(Err(RecvError::Lagged { .. })) => {}
                Some(Err(RecvError::Closed)) => closed_panic(),
                None => self.spin_on_head(),
            }
        }
    }

    /// Spins (a while) until the head passes the cursor. Waiting on the
    /// head's cache line, which the publisher writes once per publish,
    /// rather than on the slot's, which it writes three times, keeps the
    /// slot line from bouncing between the cores mid-write (disruptor's
    /// consumers poll its cursor for the same reason). Returns after a
    /// bounded number of spins so the caller re-checks for closure.
    #[inline]
    fn spin_on_head(&self) {
        for iter in 0..1024_u32 {
            if self.shared.head() > self.st.cursor {
                return;
            }
            if iter >= 64 || cfg!(ring_loom) {
                ring_core::sync::spin_loop();
            }
        }
    }

    /// Waits for the next value with `strategy` (lag is skipped over). With
    /// [`WaitStrategy::Park`](https://docs.rs/seqcast-core/0.1/ring_core/enum.WaitStrategy.html#variant.Park) or `Adaptive`'s last phase, the thread sleeps
    /// until the publisher publishes.
    ///
    /// # Panics
    ///
    /// As [`recv`](Subscriber::recv), on a closed, drained channel.
    ///
    /// ```
    /// use ring_spmc::{channel, WaitStrategy};
    ///
    /// let (mut p, subs) = channel::<u64>(64);
    /// let mut s = subs.subscribe();
    /// p.publish(7);
    /// assert_eq!(s.recv_with(WaitStrategy::BusySpin), 7);
    /// ```
    #[track_caller]
    pub fn recv_with(&mut self, strategy: WaitStrategy) -> T {
        let shared = &self.shared;
        let st = &mut self.st;
        // A lag moves the cursor onto a retained value: poll again at once
        // rather than report "nothing there", which would let the doorbell
        // park with a value ready (and sleep forever once the publisher goes
        // idle: issue 9, bug 1; `tests/loom_spmc.rs`, `recv_with_after_a_lag`).
        let got = shared.bell.wait_until(strategy, || {
            loop {
                match st.poll_recv(shared) {
                    Some(Err(RecvError::Lagged { .. })) => {}
                    other => return other,
                }
            }
        });
        match got {
            Ok(v) => v,
            Err(_) => closed_panic(),
        }
    }

    /// Blocks until the next value, parking the thread (no CPU) while the
    /// ring is empty; the publisher wakes it.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] when values were lost (the next call returns the
    /// oldest retained one); [`RecvError::Closed`] once the publisher is
    /// dropped and everything retained has been read.
    ///
    /// ```
    /// use ring_spmc::{channel, RecvError};
    ///
    /// let (mut p, subs) = channel::<u64>(8);
    /// let mut s = subs.subscribe();
    /// let t = std::thread::spawn(move || {
    ///     p.publish(5);
    /// }); // `p` is dropped when the thread ends: the channel closes
    /// assert_eq!(s.recv_blocking(), Ok(5));
    /// t.join().unwrap();
    /// assert_eq!(s.recv_blocking(), Err(RecvError::Closed));
    /// ```
    pub fn recv_blocking(&mut self) -> Result<T, RecvError> {
        let shared = &self.shared;
        let st = &mut self.st;
        shared.bell.wait_until(BLOCKING, || st.poll_recv(shared))
    }

    /// Like [`recv_blocking`](Subscriber::recv_blocking), giving up after
    /// `timeout`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] if nothing arrived in time; otherwise as
    /// `recv_blocking`.
    ///
    /// ```
    /// use ring_spmc::{channel, RecvTimeoutError};
    /// use std::time::Duration;
    ///
    /// let (mut p, subs) = channel::<u8>(8);
    /// let mut s = subs.subscribe();
    /// assert_eq!(s.recv_timeout(Duration::from_millis(5)), Err(RecvTimeoutError::Timeout));
    /// p.publish(1);
    /// assert_eq!(s.recv_timeout(Duration::from_millis(5)), Ok(1));
    /// ```
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let shared = &self.shared;
        let st = &mut self.st;
        match shared
            .bell
            .wait_timeout(BLOCKING, timeout, || st.poll_recv(shared))
        {
            Some(Ok(v)) => Ok(v),
            Some(Err(RecvError::Lagged { skipped })) => Err(RecvTimeoutError::Lagged { skipped }),
            Some(Err(RecvError::Closed)) => Err(RecvTimeoutError::Closed),
            None => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Receives the next value asynchronously: the returned future
    /// registers the task's waker when the ring is empty and is woken by the
    /// next publish (or by the close). Cancel-safe: dropping it loses no
    /// value and leaves no registration behind.
    ///
    /// # Errors
    ///
    /// As [`recv_blocking`](Subscriber::recv_blocking).
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let (mut p, subs) = ring_spmc::channel::<u8>(8);
    /// let mut s = subs.subscribe();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut fut = s.recv_async();
    /// assert_eq!(std::pin::Pin::new(&mut fut).poll(&mut cx), Poll::Pending);
    /// p.publish(9);
    /// assert_eq!(std::pin::Pin::new(&mut fut).poll(&mut cx), Poll::Ready(Ok(9)));
    /// # use std::future::Future;
    /// ```
    pub fn recv_async(&mut self) -> Recv<'_, T> {
        Recv { sub: self }
    }

    fn poll_recv_async(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let shared = &self.shared;
        let st = &mut self.st;
        shared
            .bell
            .poll_wait(cx, &mut self.wait_key, || st.poll_recv(shared))
    }

    /// Skips to the newest published value and returns it. The values
    /// skipped over count as lag ([`total_lagged`](Subscriber::total_lagged)),
    /// so `total_received() + total_lagged()` still equals what was
    /// published since this subscriber joined (photon-ring's `latest` drops
    /// them uncounted).
    ///
    /// As photon-ring's, it returns `None` only if nothing was ever
    /// published: with nothing new, it returns the newest value again (the
    /// one before [`cursor`](Subscriber::cursor), possibly published before
    /// this subscriber joined), leaving the cursor and the counts as they
    /// are (photon-ring counts such a re-read as received again).
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(8);
    /// let mut s = subs.subscribe();
    /// assert_eq!(s.latest(), None);
    /// p.publish_batch(&[1, 2, 3]);
    /// assert_eq!(s.latest(), Some(3));
    /// assert_eq!(s.cursor(), 3);
    /// assert_eq!((s.total_received(), s.total_lagged()), (1, 2));
    /// assert_eq!(s.latest(), Some(3)); // nothing new: the newest again
    /// assert_eq!((s.total_received(), s.total_lagged()), (1, 2));
    /// ```
    pub fn latest(&mut self) -> Option<T> {
        let mut iter = 0_u32;
        loop {
            let head = self.shared.head();
            if head > self.st.cursor + 1 {
                self.st.skip_to(head - 1);
            }
            match self.try_recv() {
                Ok(v) => return Some(v),
                Err(TryRecvError::Empty) => {
                    // Nothing new: the newest value is the one before the
                    // cursor (at or after the head's newest, since reads
                    // may run ahead of a batch's head store).
                    let newest = self.st.cursor.checked_sub(1)?;
                    match self.shared.slots.get(newest).try_read(newest) {
                        ReadResult::Ready(v) => return Some(v),
                        // Lapped by a later, complete sequence `n` while the
                        // value at the cursor is still unwritten: only with
                        // several publishers (ring-mpmc), one preempted
                        // between its claim and its write while the others
                        // lap the ring. `n` is newer than anything the head
                        // covers: take it (the skipped values count as lag)
                        // rather than wait for the late publisher, which
                        // this loop used to spin on for as long as it was
                        // descheduled (issue 10's review,
                        // `latest_racing_a_producer_preempted_between_claim_and_write`
                        // in ring-mpmc's `tests/loom_mpmc.rs`).
                        ReadResult::Overwritten { stamp } if !stamp.is_writing() => {
                            if let Some(n) = stamp.sequence() {
                                self.st.skip_to(n);
                            }
                        }
                        // Being overwritten: a single writer writes in
                        // order, so the value at the cursor is written and
                        // the retry finds it; with several publishers the
                        // retry may wait for the overwrite to finish, so
                        // back off (spin briefly, then yield the thread)
                        // rather than spin.
                        _ => {
                            WaitStrategy::Adaptive {
                                spin_iters: 64,
                                yield_iters: u32::MAX,
                            }
                            .wait(iter);
                            iter = iter.saturating_add(1);
                        }
                    }
                }
                // Lapped between the head load and the read: the lag is
                // counted, retry from the newer head.
                Err(TryRecvError::Lagged { .. }) => {}
            }
        }
    }

    /// The sequence this subscriber reads next. Sequences are shared by all
    /// subscribers of a ring, so positions can be compared.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(8);
    /// p.publish(1);
    /// let s = subs.subscribe();
    /// assert_eq!(s.cursor(), 1); // future values only
    /// ```
    #[inline]
    pub fn cursor(&self) -> u64 {
        self.st.cursor
    }

    /// How many values are ready to read (at most the capacity).
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(4);
    /// let s = subs.subscribe();
    /// p.publish_batch(&[1, 2, 3, 4, 5, 6]);
    /// assert_eq!(s.pending(), 4);
    /// ```
    #[inline]
    pub fn pending(&self) -> u64 {
        self.shared
            .head()
            .saturating_sub(self.st.cursor)
            .min(self.shared.capacity)
    }

    /// How many values this subscriber has received.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(4);
    /// let mut s = subs.subscribe();
    /// p.publish(1);
    /// s.try_recv().unwrap();
    /// assert_eq!(s.total_received(), 1);
    /// ```
    #[inline]
    pub fn total_received(&self) -> u64 {
        self.st.total_received
    }

    /// How many values this subscriber lost to overwrites.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(2);
    /// let mut s = subs.subscribe();
    /// p.publish_batch(&[1, 2, 3]);
    /// let _ = s.try_recv();
    /// assert_eq!(s.total_lagged(), 1);
    /// ```
    #[inline]
    pub fn total_lagged(&self) -> u64 {
        self.st.total_lagged
    }

    /// `received / (received + lagged)`, or 0.0 before anything happened.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(2);
    /// let mut s = subs.subscribe();
    /// assert_eq!(s.receive_ratio(), 0.0);
    /// p.publish_batch(&[1, 2, 3, 4]);
    /// let _ = s.drain().count();
    /// assert_eq!(s.receive_ratio(), 0.5);
    /// ```
    #[inline]
    pub fn receive_ratio(&self) -> f64 {
        let total = self.st.total_received + self.st.total_lagged;
        if total == 0 {
            0.0
        } else {
            self.st.total_received as f64 / total as f64
        }
    }

    /// Receives up to `buf.len()` ready values into `buf`, returning how
    /// many; lag is skipped over (and counted).
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(8);
    /// let mut s = subs.subscribe();
    /// p.publish_batch(&[4, 5]);
    /// let mut buf = [0; 4];
    /// assert_eq!(s.recv_batch(&mut buf), 2);
    /// assert_eq!(buf, [4, 5, 0, 0]);
    /// ```
    pub fn recv_batch(&mut self, buf: &mut [T]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            match self.try_recv() {
                Ok(v) => {
                    buf[n] = v;
                    n += 1;
                }
                Err(TryRecvError::Lagged { .. }) => {}
                Err(TryRecvError::Empty) => break,
            }
        }
        n
    }

    /// Hands every value ready now, up to `max`, to `f` in order, and
    /// returns how many: disruptor's `EventPoller::poll` for this ring.
    ///
    /// A gating subscriber (see [`Subscribable`](crate::Subscribable))
    /// loads the publish head once for the whole batch, reads the values
    /// below it with no stamp check (the head proves them written and the
    /// gate keeps them from being overwritten) and publishes its cursor
    /// once, when the batch is done, so the publisher gets the room back
    /// when `recv_each` returns. Other subscribers read value by value as
    /// [`drain`](Subscriber::drain) does: lag is skipped over (and counted).
    ///
    /// Faster than a [`try_recv`](Subscriber::try_recv) loop when values
    /// come in bursts; a subscriber that must free each slot the moment it
    /// has read it uses `try_recv`.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel_bounded::<u64>(8, 0);
    /// let mut s = subs.subscribe();
    /// p.publish_batch(&[1, 2, 3, 4]);
    /// let mut sum = 0;
    /// assert_eq!(s.recv_each(3, |v| sum += v), 3);
    /// assert_eq!(sum, 6);
    /// assert_eq!(s.recv_each(usize::MAX, |v| sum += v), 1);
    /// assert_eq!(s.recv_each(usize::MAX, |_| unreachable!()), 0);
    /// assert_eq!(s.total_received(), 4);
    /// ```
    #[inline]
    pub fn recv_each(&mut self, max: usize, f: impl FnMut(T)) -> usize {
        self.st.recv_each(&self.shared, max, f)
    }

    /// An iterator over every value ready now; lag is skipped over.
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(8);
    /// let mut s = subs.subscribe();
    /// p.publish_batch(&[1, 2, 3]);
    /// assert_eq!(s.drain().sum::<u8>(), 6);
    /// assert_eq!(s.drain().next(), None);
    /// ```
    pub fn drain(&mut self) -> Drain<'_, T> {
        Drain { sub: self }
    }

    /// This subscriber's cursor tracker, for a [`DependencyBarrier`]; `None`
    /// for a plain subscriber of a lossy ring (use
    /// [`subscribe_tracked`](crate::Subscribable::subscribe_tracked)).
    ///
    /// The tracker holds the subscriber's cursor after every receive, so a
    /// downstream never waits on a value this subscriber already returned;
    /// once the subscriber is dropped it holds `u64::MAX`, so it holds no
    /// downstream back.
    ///
    /// Only this subscriber should store to it. On a bounded ring the
    /// publisher trusts it: moving it forward by hand frees slots this
    /// subscriber has not read, and it loses them (reported as
    /// [`Lagged`](TryRecvError::Lagged), never as a wrong value). Once the
    /// tracker is handed out, every read of this subscriber checks the slot's
    /// stamp twice, as a lossy one does (a gating subscriber otherwise
    /// checks once); [`DependencyBarrier::from_subscribers`] does not cost
    /// that.
    ///
    /// ```
    /// let (_p, subs) = ring_spmc::channel::<u8>(8);
    /// assert!(subs.subscribe().tracker().is_none());
    /// assert!(subs.subscribe_tracked().tracker().is_some());
    /// ```
    pub fn tracker(&self) -> Option<std::sync::Arc<Padded<AtomicU64>>> {
        // Whoever holds the `Arc` can move the tracker past values this
        // subscriber has not read, and the publisher would overwrite them
        // mid-read: from now on every read checks the stamp twice, so such
        // a loss shows as `Lagged`, never as a torn or wrong value
        // (`tests/bounded.rs`,
        // `a_tracker_moved_by_hand_loses_values_as_lag_never_as_wrong_values`).
        // `DependencyBarrier::from_subscribers` only loads the tracker and
        // keeps the hold.
        self.st.held_from.set(NEVER_HELD);
        self.st.tracker.clone()
    }

    /// [`try_recv`](Subscriber::try_recv), but only once every upstream of
    /// `barrier` has read the value.
    ///
    /// # Errors
    ///
    /// `Empty` while an upstream has not read it (or nothing is there);
    /// `Lagged` as `try_recv`.
    ///
    /// ```
    /// use ring_spmc::{channel, DependencyBarrier, TryRecvError};
    ///
    /// let (mut p, subs) = channel::<u8>(8);
    /// let mut up = subs.subscribe_tracked();
    /// let barrier = DependencyBarrier::from_subscribers(&[&up]);
    /// let mut down = subs.subscribe();
    /// p.publish(1);
    /// assert_eq!(down.try_recv_gated(&barrier), Err(TryRecvError::Empty));
    /// up.try_recv().unwrap();
    /// assert_eq!(down.try_recv_gated(&barrier), Ok(1));
    /// ```
    #[inline]
    pub fn try_recv_gated(&mut self, barrier: &DependencyBarrier) -> Result<T, TryRecvError> {
        if barrier.slowest() <= self.st.cursor {
            return Err(TryRecvError::Empty);
        }
        self.try_recv()
    }

    /// Spins until the next value is read by every upstream of `barrier`,
    /// then returns it (lag is skipped over).
    ///
    /// # Panics
    ///
    /// As [`recv`](Subscriber::recv), on a closed, drained channel.
    ///
    /// ```
    /// use ring_spmc::{channel, DependencyBarrier};
    ///
    /// let (mut p, subs) = channel::<u8>(8);
    /// let mut up = subs.subscribe_tracked();
    /// let barrier = DependencyBarrier::from_subscribers(&[&up]);
    /// let mut down = subs.subscribe();
    /// p.publish(4);
    /// up.recv();
    /// assert_eq!(down.recv_gated(&barrier), 4);
    /// ```
    #[track_caller]
    pub fn recv_gated(&mut self, barrier: &DependencyBarrier) -> T {
        let mut iter: u32 = 0;
        loop {
            let closed = self.shared.is_closed();
            match self.try_recv_gated(barrier) {
                Ok(v) => return v,
                Err(TryRecvError::Lagged { .. }) => iter = 0,
                Err(TryRecvError::Empty) => {
                    if closed && self.pending() == 0 {
                        closed_panic();
                    }
                    WaitStrategy::YieldSpin.wait(iter);
                    iter = iter.saturating_add(1);
                }
            }
        }
    }

    /// Whether the publisher has been dropped. Values published before it
    /// was dropped may still be ready: drain them with `try_recv`, which
    /// reports `Empty` afterwards; the blocking and async receives report
    /// [`RecvError::Closed`].
    ///
    /// ```
    /// let (mut p, subs) = ring_spmc::channel::<u8>(8);
    /// let mut s = subs.subscribe();
    /// p.publish(1);
    /// drop(p);
    /// assert!(s.is_closed());
    /// assert_eq!(s.try_recv(), Ok(1)); // drained after the close
    /// ```
    #[inline]
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

#[cold]
#[track_caller]
fn closed_panic() -> ! {
    panic!(
        "ring-spmc: waiting on a closed channel with nothing left to read (the Publisher was \
         dropped); use recv_blocking, recv_timeout or recv_async to handle closure"
    )
}

impl<T: Copy + Send> Drop for Subscriber<T> {
    /// Withdraws any async registration, stops gating the publisher, and
    /// releases dependants: the tracker is set to `u64::MAX` ("read
    /// everything"), so a [`DependencyBarrier`] over it waits only for its
    /// other upstreams (issue 9, bug 6: a dropped upstream used to stall
    /// its downstream forever).
    fn drop(&mut self) {
        self.shared.bell.cancel(&mut self.wait_key);
        if let Some(t) = &self.st.tracker {
            if self.st.gating {
                // First out of the gate, so the publisher's scan never sees
                // the released value below.
                self.shared.unregister(t);
            }
            // Release: as `store_tracker`; pairs with the barriers' Acquire
            // loads. Nothing reads it as a cursor any more.
            t.0.store(RELEASED, Ordering::Release);
        }
    }
}

/// A dropped subscriber's tracker value: past every sequence, so it holds
/// no dependant back.
pub(crate) const RELEASED: u64 = u64::MAX;

impl<T: Copy + Send> fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("cursor", &self.st.cursor)
            .field("total_received", &self.st.total_received)
            .field("total_lagged", &self.st.total_lagged)
            .field("gating", &self.st.gating)
            .finish_non_exhaustive()
    }
}

/// The future of [`Subscriber::recv_async`]: named and `Unpin`, so it can be
/// stored and polled by hand.
///
/// ```
/// fn assert_unpin<F: Unpin>(_: &F) {}
/// let (_p, subs) = ring_spmc::channel::<u8>(8);
/// let mut s = subs.subscribe();
/// assert_unpin(&s.recv_async());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T: Copy + Send> {
    sub: &'a mut Subscriber<T>,
}

impl<T: Copy + Send> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.sub.poll_recv_async(cx)
    }
}

impl<T: Copy + Send> Drop for Recv<'_, T> {
    /// Withdraws the waker registration: a dropped receive leaves nothing
    /// behind (and, having taken no value, loses none).
    fn drop(&mut self) {
        self.sub.shared.bell.cancel(&mut self.sub.wait_key);
    }
}

impl<T: Copy + Send> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv").field("sub", &self.sub).finish()
    }
}

impl<T: Copy + Send> futures_core::Stream for Subscriber<T> {
    /// Lag is an item (`Err(Lagged)`), never hidden; the stream ends when
    /// the publisher is dropped and everything retained has been read.
    type Item = Result<T, Lagged>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_recv_async(cx).map(|r| match r {
            Ok(v) => Some(Ok(v)),
            Err(RecvError::Lagged { skipped }) => Some(Err(Lagged { skipped })),
            Err(RecvError::Closed) => None,
        })
    }
}

/// The iterator of [`Subscriber::drain`]: every value ready now.
///
/// ```
/// let (mut p, subs) = ring_spmc::channel::<u8>(8);
/// let mut s = subs.subscribe();
/// p.publish(1);
/// let mut d = s.drain();
/// assert_eq!(d.next(), Some(1));
/// assert_eq!(d.next(), None);
/// ```
pub struct Drain<'a, T: Copy + Send> {
    sub: &'a mut Subscriber<T>,
}

impl<T: Copy + Send> Iterator for Drain<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            match self.sub.try_recv() {
                Ok(v) => return Some(v),
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Lagged { .. }) => {}
            }
        }
    }
}

impl<T: Copy + Send> fmt::Debug for Drain<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain").field("sub", &self.sub).finish()
    }
}
