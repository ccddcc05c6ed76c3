//! Real threads hammering one slot (and a small ring): a reader must never
//! accept a torn value, and must see every overwrite as one. Release builds
//! run 10 million writes; debug builds and Miri run scaled-down counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ring_core::{Capacity, ReadResult, Slot, Slots};

const WRITES: u64 = if cfg!(miri) {
    300
} else if cfg!(debug_assertions) {
    300_000
} else {
    10_000_000
};

/// Every test here stops by this deadline even if something wedges.
const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn one_slot_never_yields_a_torn_value() {
    let _serial = seqcast_test_support::one_at_a_time();
    let slot = Arc::new(Slot::<[u64; 4]>::new());
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (slot, done) = (Arc::clone(&slot), Arc::clone(&done));
        std::thread::spawn(move || {
            let start = Instant::now();
            let (mut accepted, mut overwritten, mut last) = (0_u64, 0_u64, 0_u64);
            // Relaxed: a stop flag; the join below orders everything else.
            while !done.load(Ordering::Relaxed) && start.elapsed() < DEADLINE {
                // The writer's newest sequence, from the stamp; then read it.
                let Some(seq) = slot.stamp().sequence() else {
                    std::thread::yield_now();
                    continue;
                };
                match slot.try_read(seq) {
                    ReadResult::Ready(v) => {
                        assert!(v.iter().all(|&w| w == v[0]), "torn value {v:?} accepted");
                        assert_eq!(v[0], seq, "value does not belong to its sequence");
                        assert!(seq >= last, "sequence went backwards: {seq} after {last}");
                        last = seq;
                        accepted += 1;
                    }
                    ReadResult::Overwritten { stamp } => {
                        assert!(stamp.sequence() > Some(seq));
                        overwritten += 1;
                    }
                    ReadResult::Writing => {}
                    ReadResult::NotWritten => panic!("stamp said {seq} was there"),
                }
                if cfg!(miri) {
                    std::thread::yield_now();
                }
            }
            (accepted, overwritten)
        })
    };
    for seq in 0..WRITES {
        // SAFETY: this is the only writer; sequences grow.
        unsafe { slot.write(seq, [seq; 4]) };
        if cfg!(miri) {
            std::thread::yield_now();
        }
    }
    // Relaxed: stop flag; `join` synchronises.
    done.store(true, Ordering::Relaxed);
    let (accepted, _overwritten) = reader.join().unwrap();
    assert!(accepted > 0, "the reader never read anything");
    assert_eq!(
        slot.try_read(WRITES - 1),
        ReadResult::Ready([WRITES - 1; 4])
    );
}

/// A reader following a ring sequence by sequence: values arrive whole, in
/// order, and every gap is an overwrite the slot reported.
#[test]
fn ring_reader_sees_whole_values_in_order_and_exact_gaps() {
    let _serial = seqcast_test_support::one_at_a_time();
    let ring = Arc::new(Slots::<[u32; 3]>::new(Capacity::new(64)));
    let total = WRITES / 4;
    let reader = {
        let ring = Arc::clone(&ring);
        std::thread::spawn(move || {
            let start = Instant::now();
            let (mut cursor, mut received, mut skipped) = (0_u64, 0_u64, 0_u64);
            while cursor < total {
                assert!(start.elapsed() < DEADLINE, "reader stalled at {cursor}");
                match ring.get(cursor).try_read(cursor) {
                    ReadResult::Ready(v) => {
                        let s = cursor as u32;
                        assert_eq!(v, [s, s ^ 0xA5A5_A5A5, !s], "torn or misplaced value");
                        cursor += 1;
                        received += 1;
                    }
                    ReadResult::Overwritten { stamp } => {
                        // Jump to the oldest sequence the writer can still hold.
                        let newest = stamp.sequence().unwrap();
                        let next = newest + 1 - 64;
                        assert!(next > cursor);
                        skipped += next - cursor;
                        cursor = next;
                    }
                    ReadResult::NotWritten | ReadResult::Writing => std::thread::yield_now(),
                }
            }
            (received, skipped)
        })
    };
    for seq in 0..total {
        let s = seq as u32;
        // SAFETY: only writer; each slot's sequences grow by 64.
        unsafe { ring.get(seq).write(seq, [s, s ^ 0xA5A5_A5A5, !s]) };
        if seq % 1024 == 0 || cfg!(miri) {
            std::thread::yield_now();
        }
    }
    let (received, skipped) = reader.join().unwrap();
    assert_eq!(
        received + skipped,
        total,
        "every value is received or counted as lost"
    );
    assert!(received > 0);
}

/// Payloads over 8 words, which x86-64 CPUs with AVX move 16 bytes per
/// atomic access (`payload.rs`, `wide`): a `[u64; 18]` slot is 152 bytes,
/// so consecutive slots' payloads sit 8 and 0 bytes off a 16-byte boundary
/// (a first word alone, 16-byte chunks, a last word alone; or chunks only).
/// A reader racing the writer over both kinds of slot never accepts a value
/// mixed from two writes.
#[test]
fn wide_payloads_in_both_alignments_are_never_torn() {
    let _serial = seqcast_test_support::one_at_a_time();
    const CAP: usize = 4;
    let ring = Arc::new(Slots::<[u64; 18]>::new(Capacity::new(CAP)));
    let offsets: Vec<usize> = (0..CAP as u64)
        .map(|i| (ring.get(i) as *const Slot<[u64; 18]> as usize + 8) % 16)
        .collect();
    // Miri's default build adds a copy lock to each slot (`payload.rs`),
    // which changes the stride.
    #[cfg(not(all(miri, not(ring_miri_words))))]
    assert!(offsets.contains(&0) && offsets.contains(&8), "{offsets:?}");
    let _ = offsets;
    let value = |seq: u64| core::array::from_fn::<u64, 18, _>(|k| seq ^ ((k as u64) << 48));
    let total = WRITES / 8;
    let reader = {
        let ring = Arc::clone(&ring);
        std::thread::spawn(move || {
            let start = Instant::now();
            let (mut cursor, mut received) = (0_u64, 0_u64);
            while cursor < total {
                assert!(start.elapsed() < DEADLINE, "reader stalled at {cursor}");
                match ring.get(cursor).try_read(cursor) {
                    ReadResult::Ready(v) => {
                        assert_eq!(v, value(cursor), "torn or misplaced value");
                        cursor += 1;
                        received += 1;
                    }
                    ReadResult::Overwritten { stamp } => {
                        cursor = stamp.sequence().unwrap() + 1 - CAP as u64;
                    }
                    ReadResult::NotWritten | ReadResult::Writing => std::thread::yield_now(),
                }
            }
            received
        })
    };
    for seq in 0..total {
        // SAFETY: only writer; each slot's sequences grow by `CAP`.
        unsafe { ring.get(seq).write(seq, value(seq)) };
        if seq % 1024 == 0 || cfg!(miri) {
            std::thread::yield_now();
        }
    }
    assert!(reader.join().unwrap() > 0);
    for seq in total - CAP as u64..total {
        assert_eq!(ring.get(seq).try_read(seq), ReadResult::Ready(value(seq)));
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Msg {
    Quote { bid: i64, ask: i64, live: bool },
    Halt(u8),
}

/// The `T: Copy` claim under contention: an enum with padding and a `bool`.
#[test]
#[cfg_attr(
    all(miri, ring_miri_words),
    ignore = "payloads with padding need the native or locked copy"
)]
fn padded_enum_payload_under_contention() {
    let _serial = seqcast_test_support::one_at_a_time();
    let slot = Arc::new(Slot::<Msg>::new());
    let n = WRITES / 10;
    let reader = {
        let slot = Arc::clone(&slot);
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut seen = 0_u64;
            loop {
                assert!(start.elapsed() < DEADLINE);
                let Some(seq) = slot.stamp().sequence() else {
                    continue;
                };
                if let ReadResult::Ready(m) = slot.try_read(seq) {
                    assert_eq!(m, expected(seq), "torn enum accepted at {seq}");
                    seen += 1;
                    if seq == n - 1 {
                        return seen;
                    }
                }
            }
        })
    };
    fn expected(seq: u64) -> Msg {
        if seq.is_multiple_of(3) {
            Msg::Halt(seq as u8)
        } else {
            Msg::Quote {
                bid: seq as i64,
                ask: -(seq as i64),
                live: seq.is_multiple_of(2),
            }
        }
    }
    for seq in 0..n {
        // SAFETY: only writer; sequences grow.
        unsafe { slot.write(seq, expected(seq)) };
    }
    assert!(reader.join().unwrap() > 0);
}
