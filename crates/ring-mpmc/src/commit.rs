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
//!    While nobody gates, the limit is the cursor plus the window and is
//!    kept in the ring (`Ring::ungated_limit`, written under the tracker
//!    lock and reset by every gating registration), not in `limit`: a
//!    subscriber registered behind the cursor then gates the next claim.
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
//! 5. **Commit** (advance the cursor in order): load the cursor
//!    (Relaxed, a hint). If it is below `seq`, read it again with a
//!    read-modify-write that changes nothing (`fetch_add(0)`, Release).
//!    If the value read equals `seq`, every earlier sequence is written:
//!    raise the cursor to `seq + 1` with a compare-exchange (AcqRel), then
//!    look at the next slot's stamp (Acquire) and keep raising the cursor
//!    over every successor already complete. If it is below `seq`, return:
//!    the producer that raises it to `seq` will see our stamp and carry on
//!    for us (below). If it is above, someone already did.
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
//! room (2) and for a slot's previous lap (3), both with backoff: spin,
//! then yield the thread (ring-core's `WaitStrategy::Adaptive`), never an
//! unbounded busy spin.
//!
//! The cursor never skips an unwritten sequence: it moves only by
//! compare-exchange from `m` to `m + 1`, by a thread that has seen slot `m`
//! complete (its own write, or an Acquire load of the stamp), and the
//! `fetch_add(0)` of step 5 leaves it unchanged. That Acquire load and the
//! Release compare-exchange make the write of `m` happen before any
//! subscriber's Acquire load of a cursor above `m` (every later cursor
//! write is a read-modify-write, so it continues the release sequence).
//!
//! The cursor never stalls below a written sequence. Every write to the
//! cursor of a multi-producer ring is a read-modify-write (it starts at 0
//! and is never stored), and a read-modify-write reads the value just
//! before its own write in the cursor's modification order (C++20
//! \[atomics.order\] p10: the newest one). Take producer `P` of `m`, which
//! stored its complete stamp (Release), and a thread `H` whose
//! compare-exchange `C` raised the cursor to `m` and which then loads stamp
//! `m`. If `P`'s hint shows the cursor at `m` or above, `P` raises it (a
//! failed compare-exchange means someone else did) or finds it raised.
//! Otherwise `P` makes its read-modify-write `X`, and `X` and `C` are
//! ordered in the cursor's modification order:
//!
//! * `X` first: `C` reads `X`'s value or that of a later read-modify-write,
//!   so it reads from `X`'s release sequence (\[intro.races\] p5); `X` is
//!   Release and `C` Acquire, so `P`'s stamp store happens before `H`'s
//!   stamp load, which finds `m` complete (or later: it checks "complete or
//!   later"), and `H` carries on;
//! * `C` first: `X` reads `m` or more, and `P` raises the cursor (or finds
//!   it raised).
//!
//! If both see each other, both try `m → m + 1`; exactly one wins and
//! carries on, the other returns. So once every claimed sequence below `n`
//! is written, the cursor reaches `n`. `X` must be a write: a failed
//! compare-exchange is only a load in the memory model, and a load may
//! read an older cursor than `C`'s without `C` acquiring anything from it.
//! This is the store-buffering handshake photon-ring 3.0 leaves out (its
//! cursor compare-exchange is "best effort", and a producer that finds its
//! predecessor unfinished spins on it instead), done on one location, so
//! it needs no `SeqCst` fence: the common case, a producer that finds the
//! cursor at its own sequence (always, with one producer), pays the claim's
//! `fetch_add` and one compare-exchange. (On x86, LLVM compiles the
//! idempotent `fetch_add(0)` to a locked no-op on the stack and a load,
//! which is the same hardware fence; the argument above is about the source
//! program, which is what the compiler preserves.)
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

use ring_core::sync::atomic::{AtomicU64, Ordering};
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
    let cursor = ring.cursor();
    // Relaxed: a hint that decides only which access comes next. Reading
    // `seq` sends us to the compare-exchange, which re-checks it; reading
    // more than `seq` means someone raised the cursor over `seq` already
    // (it only grows); a stale lower value sends us to the read-modify-write
    // below, which reads the newest value.
    let mut head = cursor.load(Ordering::Relaxed);
    if head < seq {
        // The write that the raiser of `seq` cannot miss (module docs, "the
        // cursor never stalls"): a read-modify-write reads the newest
        // cursor, and one that lands before the raiser's compare-exchange
        // releases our stamp store to it. Release: pairs with the Acquire of
        // that compare-exchange in `advance`, through the release sequence
        // (every later cursor write is a read-modify-write).
        head = cursor.fetch_add(0, Ordering::Release);
    }
    if head == seq {
        advance(ring, cursor, seq);
    }
}

/// Raises the cursor from `m` while the slot at the cursor is complete.
#[inline]
fn advance<T: Copy + Send>(ring: &Ring<T>, cursor: &AtomicU64, mut m: u64) {
    loop {
        // Release: publishes the write of `m` (ours, or seen through an
        // Acquire stamp load) to subscribers' Acquire cursor loads; later
        // cursor writes are read-modify-writes, so they continue the release
        // sequence. Acquire: pairs with the Release `fetch_add` of a producer
        // of `m + 1` that found the cursor below it, so its stamp store is
        // visible to the stamp load below (module docs). Relaxed on failure:
        // someone else moved the cursor past `m` and carries on.
        if cursor
            .compare_exchange(m, m + 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        m += 1;
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
