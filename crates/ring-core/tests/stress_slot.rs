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
    let started = Arc::new(AtomicBool::new(false));
    let reader = {
        let (slot, done, started) = (Arc::clone(&slot), Arc::clone(&done), Arc::clone(&started));
        std::thread::spawn(move || {
            // Relaxed: a start signal; nothing is published through it.
            started.store(true, Ordering::Relaxed);
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
    // Write only once the reader runs: on a loaded machine all 10 million
    // writes could otherwise finish before it is scheduled, and the test
    // failed with "the reader never read anything" (1 run in 4).
    // Relaxed: see above.
    while !started.load(Ordering::Relaxed) {
        std::thread::yield_now();
    }
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

/// A payload whose every byte depends on its sequence: two values of
/// different sequences differ in some byte of every 8-byte group, so a copy
/// mixed from two writes (at any 8- or 16-byte boundary) never equals the
/// value of one sequence.
trait Tagged: Copy + PartialEq + core::fmt::Debug + Send + Sync + 'static {
    fn tagged(seq: u64) -> Self;
}

fn tag_byte(seq: u64, k: usize) -> u8 {
    (seq >> ((k % 8) * 8)) as u8 ^ (k as u8)
}

impl<const N: usize> Tagged for [u8; N] {
    fn tagged(seq: u64) -> Self {
        core::array::from_fn(|k| tag_byte(seq, k))
    }
}

impl<const N: usize> Tagged for [u16; N] {
    fn tagged(seq: u64) -> Self {
        core::array::from_fn(|k| (seq >> ((k % 4) * 16)) as u16 ^ k as u16)
    }
}

impl<const N: usize> Tagged for [u32; N] {
    fn tagged(seq: u64) -> Self {
        core::array::from_fn(|k| (seq >> ((k % 2) * 32)) as u32 ^ k as u32)
    }
}

impl<const N: usize> Tagged for [u64; N] {
    fn tagged(seq: u64) -> Self {
        core::array::from_fn(|k| seq ^ ((k as u64) << 48))
    }
}

/// 16-byte aligned, 10 words (no padding: Miri's word copy reads every
/// byte as an integer).
#[derive(Clone, Copy, PartialEq, Debug)]
#[repr(align(16))]
struct Align16([u64; 10]);

impl Tagged for Align16 {
    fn tagged(seq: u64) -> Self {
        Align16(Tagged::tagged(seq))
    }
}

/// 64-byte aligned, 16 words, no padding.
#[derive(Clone, Copy, PartialEq, Debug)]
#[repr(align(64))]
struct Align64([u64; 16]);

impl Tagged for Align64 {
    fn tagged(seq: u64) -> Self {
        Align64(Tagged::tagged(seq))
    }
}

/// 32-byte aligned bytes: 64 of them, the 8-word edge that stays on the
/// word path; no padding.
#[derive(Clone, Copy, PartialEq, Debug)]
#[repr(C, align(32))]
struct Align32([u8; 64]);

impl Tagged for Align32 {
    fn tagged(seq: u64) -> Self {
        Align32(Tagged::tagged(seq))
    }
}

/// A ring of slots for [`hammer`]: ring-core's [`Slots`], or a plain
/// array of slots placed at a chosen offset from a 16-byte boundary.
trait SlotRing<T: Tagged>: Send + Sync + 'static {
    fn len(&self) -> u64;
    fn slot(&self, seq: u64) -> &Slot<T>;
}

impl<T: Tagged> SlotRing<T> for Slots<T> {
    fn len(&self) -> u64 {
        self.capacity().get() as u64
    }
    fn slot(&self, seq: u64) -> &Slot<T> {
        self.get(seq)
    }
}

/// A slot at a 16-byte boundary: a payload of align <= 8 sits 8 bytes off
/// one (a first word alone, then 16-byte chunks).
#[repr(C, align(16))]
struct At0<T>(Slot<T>);

/// A slot 8 bytes off a 16-byte boundary: a payload of align <= 8 sits on
/// one (16-byte chunks, then a last word alone if the count is odd).
#[repr(C, align(16))]
struct At8<T> {
    _pad: u64,
    slot: Slot<T>,
}

impl<T: Tagged> SlotRing<T> for Vec<At0<T>> {
    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
    fn slot(&self, seq: u64) -> &Slot<T> {
        &self[(seq % Vec::len(self) as u64) as usize].0
    }
}

impl<T: Tagged> SlotRing<T> for Vec<At8<T>> {
    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
    fn slot(&self, seq: u64) -> &Slot<T> {
        &self[(seq % Vec::len(self) as u64) as usize].slot
    }
}

fn at0<T: Tagged>(cap: usize) -> Vec<At0<T>> {
    (0..cap).map(|_| At0(Slot::new())).collect()
}

fn at8<T: Tagged>(cap: usize) -> Vec<At8<T>> {
    (0..cap)
        .map(|_| At8 {
            _pad: 0,
            slot: Slot::new(),
        })
        .collect()
}

/// The payloads' offsets from a 16-byte boundary (`Slot` is `repr(C)`: a
/// `u64` stamp, then the payload at its alignment, at least 8).
fn payload_phases<T: Tagged>(ring: &impl SlotRing<T>) -> Vec<usize> {
    let offset = core::mem::align_of::<T>().max(8);
    (0..ring.len())
        .map(|i| (ring.slot(i) as *const Slot<T> as usize + offset) % 16)
        .collect()
}

/// A writer laps `ring` while a reader follows it; every value the reader
/// accepts must be exactly its sequence's. Returns how many it accepted.
fn hammer<T: Tagged>(ring: impl SlotRing<T>, total: u64) -> u64 {
    let ring = Arc::new(ring);
    let cap = ring.len();
    let reader = {
        let ring = Arc::clone(&ring);
        std::thread::spawn(move || {
            let start = Instant::now();
            let (mut cursor, mut received) = (0_u64, 0_u64);
            while cursor < total {
                assert!(start.elapsed() < DEADLINE, "reader stalled at {cursor}");
                match ring.slot(cursor).try_read(cursor) {
                    ReadResult::Ready(v) => {
                        assert_eq!(v, T::tagged(cursor), "torn or misplaced value at {cursor}");
                        cursor += 1;
                        received += 1;
                    }
                    ReadResult::Overwritten { stamp } => {
                        cursor = stamp.sequence().unwrap() + 1 - cap;
                    }
                    ReadResult::NotWritten | ReadResult::Writing => std::thread::yield_now(),
                }
            }
            received
        })
    };
    for seq in 0..total {
        // SAFETY: only writer; each slot's sequences grow by `cap`.
        unsafe { ring.slot(seq).write(seq, T::tagged(seq)) };
        if seq % 1024 == 0 || cfg!(miri) {
            std::thread::yield_now();
        }
    }
    let received = reader.join().unwrap();
    for seq in total - cap..total {
        assert_eq!(
            ring.slot(seq).try_read(seq),
            ReadResult::Ready(T::tagged(seq))
        );
    }
    received
}

/// Whether the slot layout is the native one (Miri's default build adds a
/// copy lock to each slot, which moves the payload).
const NATIVE_LAYOUT: bool = !cfg!(all(miri, not(ring_miri_words)));

/// 72 bytes (9 words, the smallest payload on the x86-64 16-byte path) and
/// 256 bytes, each in both 16-byte phases (a first word alone, or a last
/// word alone), with element alignments 1, 2, 4 and 8: never torn.
#[test]
fn payloads_of_72_and_256_bytes_are_never_torn_in_either_phase() {
    let _serial = seqcast_test_support::one_at_a_time();
    let total = (WRITES / 64).max(16);
    if NATIVE_LAYOUT {
        assert_eq!(payload_phases(&at0::<[u8; 72]>(2)), [8, 8]);
        assert_eq!(payload_phases(&at8::<[u8; 72]>(2)), [0, 0]);
        // A 264-byte slot stride alternates the phase in ring-core's array.
        let slots = Slots::<[u64; 32]>::new(Capacity::new(4));
        assert_eq!(payload_phases(&slots), [8, 0, 8, 0]);
    }
    assert!(hammer(at0::<[u8; 72]>(4), total) > 0);
    assert!(hammer(at8::<[u8; 72]>(4), total) > 0);
    if cfg!(miri) {
        // Miri cannot run the 16-byte path (inline asm): it checks the word
        // copy on both phases above; the other shapes are native coverage,
        // and `cargo xtask miri` reruns this binary over 32 seeds.
        return;
    }
    assert!(hammer(at0::<[u16; 36]>(4), total) > 0);
    assert!(hammer(at8::<[u32; 18]>(4), total) > 0);
    assert!(hammer(at8::<[u64; 9]>(4), total) > 0);
    assert!(hammer(at0::<[u8; 256]>(4), total) > 0);
    assert!(hammer(at8::<[u8; 256]>(4), total) > 0);
    assert!(hammer(Slots::<[u64; 32]>::new(Capacity::new(4)), total) > 0);
}

/// Sizes that are a multiple of neither 16 nor 8 (the copy rounds up to
/// whole words: 65 and 71 bytes are 9 words, 129 is 17), over-aligned
/// payloads (align 16, 32, 64: always on a 16-byte boundary), the 8-word
/// edge that stays on the word path (`Align32`), and capacities that are not powers of
/// two: never torn.
#[test]
fn odd_sizes_alignments_and_capacities_are_never_torn() {
    let _serial = seqcast_test_support::one_at_a_time();
    let total = (WRITES / 64).max(16);
    assert!(hammer(at0::<[u8; 65]>(3), total) > 0);
    assert!(hammer(Slots::<Align64>::new(Capacity::new(5)), total) > 0);
    if cfg!(miri) {
        // As above: two shapes under Miri, the rest natively.
        return;
    }
    assert!(hammer(at8::<[u8; 71]>(3), total) > 0);
    assert!(hammer(Slots::<[u8; 129]>::new(Capacity::new(3)), total) > 0);
    assert!(hammer(Slots::<[u16; 37]>::new(Capacity::new(6)), total) > 0);
    assert!(hammer(at8::<Align16>(3), total) > 0);
    assert!(hammer(Slots::<Align32>::new(Capacity::new(3)), total) > 0);
    if NATIVE_LAYOUT {
        let over_aligned = payload_phases(&at8::<Align16>(3))
            .into_iter()
            .chain(payload_phases(&Slots::<Align64>::new(Capacity::new(5))));
        for phase in over_aligned {
            assert_eq!(
                phase, 0,
                "an over-aligned payload sits on a 16-byte boundary"
            );
        }
    }
}
