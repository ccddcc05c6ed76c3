//! The multi-producer commit protocol: claim, write, commit.
//!
//! Every producer handle shares one ring-spmc ring (slots, the publish
//! cursor `head`, trackers, close flag, doorbell) and one claim counter
//! `next`. A publish of `value` (already built: a user closure never runs
//! between claim and commit) is:
//!
//! 1. **Claim** `seq = next.fetch_add(1)` (Relaxed), or on a bounded
//!    ring's `try_publish` a compare-exchange of `next` that only succeeds
//!    below the room limit. Either way each sequence goes to exactly one
//!    publish, and one thread's claims grow (coherence of `next`), which is
//!    what keeps each producer's values in order: subscribers read in
//!    sequence order.
//! 2. **Wait for room** (bounded rings): `seq < limit`, where `limit` is
//!    `floor + capacity - watermark` for a floor from ring-spmc's
//!    `gate_floor` (slowest gating tracker, or the cursor if lower). The
//!    limit is cached in a shared word raised with `fetch_max` (AcqRel) and
//!    read with Acquire: the chain subscriber read → Release tracker store →
//!    Acquire scan → Release `fetch_max` → Acquire limit load makes every
//!    gating subscriber's read of the slot happen before our overwrite.
//! 3. **Wait for the previous lap** of the slot: `seq ≥ capacity` waits
//!    until the slot's stamp shows `seq - capacity` complete (or later).
//!    The stamp load is Acquire and pairs with the Release store that
//!    completed that write; the writer of `seq - capacity` waited the same
//!    way for `seq - 2·capacity`, and so on. So the writes to one slot form
//!    a happens-before chain in increasing sequence order: one writer per
//!    slot at a time and growing stamps, which is
//!    [`Slot::write`](ring_core::Slot::write)'s contract. Two producers a
//!    lap apart therefore never write a slot together (photon-ring < 3.0
//!    did, and a reader could accept a mix of two values).
//! 4. **Write** the slot: ring-core's seqlock (stamp odd, Release fence,
//!    payload words, stamp even with Release). Readers validate the stamp
//!    before and after the copy, so they never return a half-written value;
//!    they read `seq` only from a slot whose stamp says `seq` is complete.
//! 5. **Commit** (advance the cursor in order): `fence(SeqCst)`, then load
//!    the cursor. If it equals `seq`, every earlier sequence is written:
//!    raise it to `seq + 1` with a compare-exchange (Release), then, after
//!    another `fence(SeqCst)`, look at the next slot's stamp (Acquire) and
//!    keep raising the cursor over every successor already complete. If
//!    the cursor is below `seq`, return: the producer that raises it to
//!    `seq` will see our stamp and carry on for us (below). If it is above,
//!    someone already did.
//! 6. **Ring** the doorbell: parked subscribers re-check their slots.
//!
//! # Why nobody waits for a peer's commit, and nothing is skipped
//!
//! No producer waits for another to *commit*: a producer preempted between
//! claim and write holds back only the cursor (and a subscriber that has
//! read up to its slot, which must wait for that value in any ordered
//! ring), not the other producers' `publish` calls. They return as soon as
//! their own slot is written; the preempted one, when it resumes, raises
//! the cursor over all of them. The only waits in `publish` are for ring
//! room (3) and for a slot's previous lap (2), both with backoff: spin,
//! then yield the thread (ring-core's `WaitStrategy::Adaptive`), never an
//! unbounded busy spin.
//!
//! The cursor never skips an unwritten sequence: it moves only by
//! compare-exchange from `m` to `m + 1`, by a thread that has seen slot `m`
//! complete (its own write, or an Acquire load of the stamp). That Acquire
//! load and the Release compare-exchange make the write of `m` happen
//! before any subscriber's Acquire load of a cursor above `m` (later
//! compare-exchanges are read-modify-writes, so they continue the release
//! sequence).
//!
//! The cursor never stalls below a written sequence. Take producer `P` of
//! `m`, which stored its complete stamp, then `fence(SeqCst)`, then loaded
//! the cursor; and a thread `H` that raised the cursor to `m`, then
//! `fence(SeqCst)`, then loaded stamp `m`. The two fences are ordered in
//! the single total order of `SeqCst` operations. If `P`'s comes first,
//! `H`'s stamp load sees `P`'s stamp (or a later one: it checks "complete
//! or later"), and `H` carries on. If `H`'s comes first, `P`'s cursor load
//! sees `m` or more, and `P` raises it (or finds it raised). This is
//! Dekker's store-buffering pattern (C++20 \[atomics.fences\], the fence
//! rules for `seq_cst`); without both fences each side could miss the
//! other's store, and the cursor would stop for good (the hazard of
//! photon-ring 3.0's "best effort" cursor CAS on weakly ordered CPUs). If
//! both see each other, both try `m → m + 1`; exactly one wins and carries
//! on, the other returns. So once every claimed sequence below `n` is
//! written, the cursor reaches `n`.
//!
//! # What subscribers rely on
//!
//! ring-spmc's subscribers validate stamps and read in sequence order, so
//! every claimed value is delivered once, in claim order, whatever the
//! order in which producers finish. They use the cursor only for lag
//! arithmetic, `pending`, `latest`, and where a new subscriber starts, all
//! of which need "every sequence below the cursor is written", which the
//! commit keeps. A lapped subscriber's lag count uses the newest sequence
//! it can prove (the overwriting stamp, or the cursor), so
//! `received + lagged` equals what was published since it subscribed.
//!
//! Checked by `tests/loom_mpmc.rs` (loom, on these types) and
//! `tests/stress.rs` (real threads, millions of values).

use ring_core::sync::atomic::{AtomicU64, Ordering, fence};
use ring_core::{Slot, Stamp, WaitStrategy};
use ring_spmc::raw::Ring;

/// How `publish` waits for a slot's previous lap or for ring room: a short
/// bare spin, then yield the thread (the peer it waits for may be
/// preempted; on two cores it needs ours).
pub(crate) const BACKOFF: WaitStrategy = WaitStrategy::Adaptive {
    spin_iters: 64,
    yield_iters: u32::MAX,
};

/// Whether `stamp` shows sequence `seq` complete, or a later sequence in
/// the slot (which was written only after `seq` completed).
#[inline(always)]
pub(crate) fn reached(stamp: Stamp, seq: u64) -> bool {
    match stamp.sequence() {
        Some(s) => s > seq || (s == seq && !stamp.is_writing()),
        None => false,
    }
}

/// Waits until `slot` no longer holds an unfinished write of the previous
/// lap (`seq - capacity`), so this publish is its only writer.
#[inline(always)]
pub(crate) fn wait_for_lap<T: Copy>(slot: &Slot<T>, seq: u64, capacity: u64) {
    let Some(prev) = seq.checked_sub(capacity) else {
        return;
    };
    // Acquire (`Slot::stamp`): pairs with the Release store that completed
    // `prev`, so that write happens before ours (module docs, step 3).
    if reached(slot.stamp(), prev) {
        return;
    }
    wait_for_lap_slow(slot, prev);
}

#[cold]
#[inline(never)]
fn wait_for_lap_slow<T: Copy>(slot: &Slot<T>, prev: u64) {
    let mut iter = 0_u32;
    // Acquire, as in `wait_for_lap`.
    while !reached(slot.stamp(), prev) {
        BACKOFF.wait(iter);
        iter = iter.saturating_add(1);
    }
}

/// Writes `value` as `seq` (claimed by the caller, room checked) and
/// commits it: steps 3 to 6 of the module docs.
#[inline(always)]
pub(crate) fn write_and_commit<T: Copy + Send>(ring: &Ring<T>, seq: u64, value: T) {
    let slot = ring.slots().get(seq);
    wait_for_lap(slot, seq, ring.capacity().get() as u64);
    // SAFETY: `seq` was claimed by this publish alone (one `fetch_add` or a
    // successful compare-exchange of `next`); every earlier write to this
    // slot (sequences `seq - k * capacity`) happens before this one through
    // the chain of lap waits, and every later one waits for ours; so this
    // is the slot's only writer now, and its sequence is above every one
    // written there before (module docs, step 3). `seq` is far below
    // `Stamp::MAX_SEQUENCE` (2^63 publishes).
    unsafe { slot.write(seq, value) };
    commit(ring, seq);
    ring.bell().ring();
}

/// Step 5: raise the cursor over `seq` if every earlier sequence is
/// written, and over every complete successor; otherwise leave it to the
/// producer that raises it to `seq`.
#[inline(always)]
fn commit<T: Copy + Send>(ring: &Ring<T>, seq: u64) {
    // SeqCst: our stamp store (in `write`) before the cursor load below;
    // pairs with the fence in `advance` (store-buffering, module docs).
    fence(Ordering::SeqCst);
    // Relaxed: ordered after our stamp store by the fence above; the
    // compare-exchange in `advance` re-checks the value.
    let head = ring.cursor().load(Ordering::Relaxed);
    if head == seq {
        advance(ring, ring.cursor(), seq);
    }
}

/// Raises the cursor from `m` while the slot at the cursor is complete.
#[inline]
fn advance<T: Copy + Send>(ring: &Ring<T>, cursor: &AtomicU64, mut m: u64) {
    loop {
        // Release: publishes the write of `m` (ours, or seen through an
        // Acquire stamp load) to subscribers' Acquire cursor loads; later
        // compare-exchanges continue the release sequence. Relaxed on
        // failure: someone else moved the cursor past `m` and carries on.
        if cursor
            .compare_exchange(m, m + 1, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        m += 1;
        // SeqCst: our cursor store before the stamp load below; pairs with
        // the fence in `commit` (store-buffering, module docs).
        fence(Ordering::SeqCst);
        // Acquire (`Slot::stamp`): pairs with the Release store completing
        // `m`, so that write happens before our Release cursor store.
        if !reached(ring.slots().get(m).stamp(), m) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reached;
    use ring_core::Slot;

    #[test]
    fn reached_means_complete_or_later() {
        let slot = Slot::<u8>::new();
        assert!(!reached(slot.stamp(), 0));
        // SAFETY: this thread is the only writer; sequences grow.
        unsafe { slot.write(3, 1) };
        assert!(reached(slot.stamp(), 3));
        assert!(reached(slot.stamp(), 2));
        assert!(!reached(slot.stamp(), 4));
    }
}
