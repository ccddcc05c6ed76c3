//! Hostile checks of `RawSlots` (from `Slots::raw`): it grants no auto
//! trait that `Slots<T>` lacks, and indexes `seq mod capacity` at `STRIDE`
//! for ZSTs, over-aligned payloads and sequences near `u64::MAX`.

use core::cell::Cell;
use core::marker::PhantomData;
use std::rc::Rc;

use ring_core::{Capacity, RawSlots, Slot, Slots};

struct Probe<T: ?Sized>(PhantomData<T>);
trait NotSend {
    const SEND: bool = false;
}
trait NotSync {
    const SYNC: bool = false;
}
impl<T: ?Sized> NotSend for Probe<T> {}
impl<T: ?Sized> NotSync for Probe<T> {}
impl<T: ?Sized + Send> Probe<T> {
    const SEND: bool = true;
}
#[allow(dead_code)]
struct SyncProbe<T: ?Sized>(PhantomData<T>);
impl<T: ?Sized> NotSync for SyncProbe<T> {}
impl<T: ?Sized + Sync> SyncProbe<T> {
    const SYNC: bool = true;
}

macro_rules! same_traits {
    ($($t:ty),*) => {$(
        assert_eq!(
            (Probe::<RawSlots<$t>>::SEND, SyncProbe::<RawSlots<$t>>::SYNC),
            (Probe::<Slots<$t>>::SEND, SyncProbe::<Slots<$t>>::SYNC),
            "RawSlots<{}> vs Slots", stringify!($t)
        );
    )*};
}

#[test]
fn raw_slots_grants_no_auto_trait_slots_lacks() {
    // `Cell<u8>`: Send, !Sync. `*const u8` and `Rc<u8>`: neither.
    same_traits!(u8, (), Cell<u8>, *const u8, Rc<u8>, PhantomData<*const u8>);
    const { assert!(!Probe::<RawSlots<Rc<u8>>>::SEND) };
    const { assert!(!SyncProbe::<RawSlots<*const u8>>::SYNC) };
}

#[derive(Clone, Copy, PartialEq, Debug)]
#[repr(align(128))]
struct Over(u8);

#[derive(Clone, Copy, PartialEq, Debug)]
#[repr(align(4096))]
struct Page(u8);

fn check<T: Copy + PartialEq + core::fmt::Debug>(cap: usize, value: T) {
    let ring = Slots::<T>::new(Capacity::new(cap));
    let raw = ring.raw();
    // SAFETY: `ring` outlives every reference below.
    let base = unsafe { raw.get(0) } as *const Slot<T> as usize;
    assert_eq!(base % core::mem::align_of::<Slot<T>>(), 0);
    assert!(Slots::<T>::STRIDE >= core::mem::size_of::<Slot<T>>());
    assert_eq!(Slots::<T>::STRIDE % core::mem::align_of::<Slot<T>>(), 0);
    let seqs = (0..2 * cap as u64).chain((u64::MAX - 2 * cap as u64)..=u64::MAX);
    for seq in seqs {
        // SAFETY: as above.
        let found = unsafe { raw.get(seq) };
        let slot = found as *const Slot<T> as usize;
        let index = (seq % cap as u64) as usize;
        assert_eq!(
            slot,
            base + index * Slots::<T>::STRIDE,
            "seq {seq} of {cap}"
        );
        assert!(core::ptr::eq(ring.get(seq), found));
    }
    // Write at the stamp's last sequence through the copy, read back through
    // the array (sequences above it are indexed, above, but not writable).
    let seq = ring_core::Stamp::MAX_SEQUENCE;
    // SAFETY: `ring` is alive.
    let slot = unsafe { raw.get(seq) };
    // SAFETY: one writer (this thread), the slot's first write.
    unsafe { slot.write(seq, value) };
    assert_eq!(ring.get(seq).try_read(seq).ready(), Some(value));
}

#[test]
fn raw_slots_index_every_payload_and_capacity() {
    // Miri interprets every step: small capacities there (the large ones
    // add no new arithmetic path, only more of the same indices).
    let caps: &[usize] = if cfg!(miri) {
        &[2, 3, 7, 16]
    } else {
        &[2, 3, 7, 16, 1000, 1024]
    };
    for &cap in caps {
        check::<()>(cap, ());
        check::<u8>(cap, 9);
        check::<[u8; 64]>(cap, [3; 64]);
        check::<[u64; 32]>(cap, [4; 32]);
        // Padded payloads (`Over`, `Page`: a byte, then padding) are not
        // run under `--cfg ring_miri_words`, whose integer copy needs every
        // byte initialised (payload.rs); every other build runs them.
        if !cfg!(all(miri, ring_miri_words)) {
            check::<Over>(cap, Over(5));
        }
    }
    if !cfg!(all(miri, ring_miri_words)) {
        check::<Page>(3, Page(6));
    }
    if !cfg!(miri) {
        check::<u8>(1 << 16, 1);
    }
}
