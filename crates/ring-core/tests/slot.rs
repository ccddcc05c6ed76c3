//! Single-threaded behaviour of `Slot` and `Slots`: states, sequencing, and
//! the `T: Copy` claim for payloads with padding, `bool`, enums and `Option`.

use ring_core::{Capacity, ReadResult, Slot, Slots, Stamp};

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Padded {
    a: u8,
    // 7 bytes of padding here on 64-bit targets
    b: u64,
    c: u16,
    // and 6 here
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Bid,
    Ask,
    Trade { px: i64, qty: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(align(64))]
struct Overaligned([u8; 3]);

fn round_trip<T: Copy + PartialEq + std::fmt::Debug + Send>(values: &[T]) {
    let slot = Slot::<T>::new();
    for (seq, v) in values.iter().enumerate() {
        let seq = seq as u64 * 3;
        // SAFETY: single writer, sequences grow.
        unsafe { slot.write(seq, *v) };
        assert_eq!(slot.try_read(seq), ReadResult::Ready(*v));
        if seq > 0 {
            assert_eq!(
                slot.try_read(seq - 3),
                ReadResult::Overwritten {
                    stamp: slot.stamp()
                }
            );
        }
        assert_eq!(slot.try_read(seq + 1), ReadResult::NotWritten);
    }
}

#[test]
fn never_written_slot_reports_not_written() {
    let slot = Slot::<u64>::new();
    assert_eq!(slot.stamp(), Stamp::EMPTY);
    for seq in [0, 1, 1000, Stamp::MAX_SEQUENCE, u64::MAX] {
        assert_eq!(slot.try_read(seq), ReadResult::NotWritten);
    }
}

#[test]
fn overwrite_reports_the_newer_stamp() {
    let slot = Slot::<u64>::new();
    // SAFETY: single writer, sequences grow.
    unsafe { slot.write(1, 10) };
    // SAFETY: as above.
    unsafe { slot.write(5, 50) };
    match slot.try_read(1) {
        ReadResult::Overwritten { stamp } => {
            assert_eq!(stamp.sequence(), Some(5));
            assert!(!stamp.is_writing());
        }
        other => panic!("expected Overwritten, got {other:?}"),
    }
    assert_eq!(slot.try_read(5), ReadResult::Ready(50));
    assert_eq!(slot.try_read(4), slot.try_read(1));
    assert_eq!(slot.try_read(6), ReadResult::NotWritten);
}

#[test]
fn max_sequence_round_trips() {
    let slot = Slot::<u32>::new();
    // SAFETY: single writer, the largest legal sequence.
    unsafe { slot.write(Stamp::MAX_SEQUENCE, 7) };
    assert_eq!(slot.try_read(Stamp::MAX_SEQUENCE), ReadResult::Ready(7));
    assert_eq!(
        slot.try_read(Stamp::MAX_SEQUENCE + 1),
        ReadResult::NotWritten
    );
}

#[test]
fn write_with_builds_in_place() {
    let slot = Slot::<[u32; 5]>::new();
    let init = |v: &mut std::mem::MaybeUninit<[u32; 5]>| {
        let arr = v.write([0; 5]);
        for (i, x) in arr.iter_mut().enumerate() {
            *x = i as u32 * 11;
        }
    };
    // SAFETY: single writer; `init` initialises the whole array.
    unsafe { slot.write_with(2, init) };
    assert_eq!(slot.try_read(2), ReadResult::Ready([0, 11, 22, 33, 44]));
}

#[test]
fn scalar_and_array_payloads() {
    round_trip(&[0_u8, 1, 255]);
    round_trip(&[1_u16, u16::MAX]);
    round_trip(&[u64::MAX, 0, 0xdead_beef]);
    round_trip(&[[1_u64; 4], [2; 4], [u64::MAX; 4]]);
    round_trip(&[[9_u8; 3], [1, 2, 3]]);
    round_trip(&[[7_u8; 1000], [8_u8; 1000]]);
    round_trip(&[(), ()]);
}

// Padding, `bool`, enums and `Option` carry uninitialised or niche bytes;
// the native path moves them with `MaybeUninit` atomics. Under Miri the slot
// uses std atomics (integers), so these are native-only (see the crate docs).
#[test]
#[cfg_attr(
    all(miri, ring_miri_words),
    ignore = "payloads with padding need the native or locked copy"
)]
fn payloads_with_padding_bools_enums_and_options() {
    round_trip(&[true, false, true]);
    round_trip(&[Side::Bid, Side::Trade { px: -5, qty: 3 }, Side::Ask]);
    round_trip(&[None, Some(3_u32), Some(u32::MAX), None]);
    round_trip(&[Some(Side::Ask), None]);
    round_trip(&[
        Padded { a: 1, b: 2, c: 3 },
        Padded {
            a: 255,
            b: u64::MAX,
            c: 0,
        },
    ]);
    round_trip(&[Overaligned([1, 2, 3]), Overaligned([4, 5, 6])]);
    round_trip(&[Some(1.5_f64), None]);
}

#[test]
fn slots_map_sequences_to_slots_mod_capacity() {
    let ring = Slots::<u64>::new(Capacity::new(4));
    assert_eq!(ring.capacity().get(), 4);
    for seq in 0..10_u64 {
        // SAFETY: single writer; each slot sees seq, seq+4, … growing.
        unsafe { ring.get(seq).write(seq, seq * 100) };
    }
    for seq in 6..10 {
        assert_eq!(ring.get(seq).try_read(seq), ReadResult::Ready(seq * 100));
    }
    for seq in 0..6 {
        let r = ring.get(seq).try_read(seq);
        match r {
            ReadResult::Overwritten { stamp } => {
                assert_eq!(stamp.sequence(), Some(seq + 4 * ((9 - seq) / 4)));
            }
            other => panic!("seq {seq}: expected Overwritten, got {other:?}"),
        }
    }
    assert!(std::ptr::eq(ring.get(1), ring.get(5)));
    assert!(!std::ptr::eq(ring.get(1), ring.get(2)));
}

#[test]
fn slot_types_are_send_and_sync_for_send_payloads() {
    static_assertions::assert_impl_all!(Slot<u64>: Send, Sync);
    static_assertions::assert_impl_all!(Slots<(u8, bool)>: Send, Sync);
    static_assertions::assert_not_impl_any!(Slot<*const u8>: Send, Sync);
    static_assertions::assert_not_impl_any!(Slots<*const u8>: Send, Sync);
}
