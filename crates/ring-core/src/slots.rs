//! [`Slots<T>`]: a ring's slot array, allocated once and cache-aligned.

use alloc::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use core::fmt;
use core::ptr::NonNull;

use crate::capacity::Capacity;
use crate::padding::CACHE_LINE;
use crate::slot::Slot;

/// An array of [`Slot`]s (any [`Capacity`]), allocated once at a cache-line
/// boundary, indexed by sequence number.
///
/// Slots of up to two 64-byte lines never straddle a line: slots of 64
/// bytes or less are laid out [`STRIDE`](Slots::STRIDE) bytes apart, their
/// size rounded up to a power of two (a `Slot<u64>` is 16 bytes, four to a
/// line; a 40-byte slot takes 64), slots of 65 to 128 bytes take two whole
/// lines (a 72-byte slot, stamp and 64-byte payload, as photon-ring's
/// every slot). A value split over two lines costs a reader two line
/// transfers, and the writer of the next slot takes the shared line back
/// mid-read (`benches/mpmc.rs`, the 64-byte rows). Larger slots stay
/// packed: rounding a 264-byte slot up to 320 made the one-thread 256-byte
/// rows of `benches/spmc.rs` slower, and a large slot shares only its
/// first and last line. The array's start is aligned to
/// [`CACHE_LINE`] so no other allocation shares its first or last line
/// with the ring.
///
/// ```
/// use ring_core::{Capacity, Slots};
///
/// let ring = Slots::<u64>::new(Capacity::new(4));
/// for seq in 0..6 {
///     // SAFETY: this thread is the only writer; sequences grow per slot.
///     unsafe { ring.get(seq).write(seq, seq * 10) };
/// }
/// assert_eq!(ring.get(5).try_read(5).ready(), Some(50));
/// assert!(ring.get(1).try_read(1).ready().is_none()); // overwritten by 5
/// ```
pub struct Slots<T> {
    /// Start of `capacity` initialised slots, aligned to `CACHE_LINE`.
    ptr: NonNull<Slot<T>>,
    capacity: Capacity,
}

// SAFETY: `Slots<T>` owns its slots like a `Box<[Slot<T>]>`; `Slot<T>` is
// `Send` when `T: Send`.
unsafe impl<T: Send> Send for Slots<T> {}
// SAFETY: shared access only hands out `&Slot<T>`, which is `Sync` when
// `T: Send`.
unsafe impl<T: Send> Sync for Slots<T> {}

/// A copy of a [`Slots`] array's base pointer and capacity
/// ([`Slots::raw`]). It does not keep the array alive: whoever indexes
/// through it must.
///
/// ```
/// use ring_core::{Capacity, Slots};
///
/// let ring = Slots::<u64>::new(Capacity::new(3));
/// let raw = ring.raw();
/// // SAFETY: one writer (this thread), first write; `ring` is alive.
/// unsafe { raw.get(4).write(4, 40) };
/// assert_eq!(ring.get(1).try_read(4).ready(), Some(40));
/// ```
pub struct RawSlots<T> {
    ptr: NonNull<Slot<T>>,
    capacity: Capacity,
}

impl<T> Clone for RawSlots<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for RawSlots<T> {}

// SAFETY: a `RawSlots<T>` only gives out `&Slot<T>` (as `&Slots<T>` does),
// and `Slots<T>` is `Sync` when `T: Send`; it owns nothing.
unsafe impl<T: Send> Send for RawSlots<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for RawSlots<T> {}

impl<T> RawSlots<T> {
    /// Whether this was copied from `slots`.
    ///
    /// ```
    /// use ring_core::{Capacity, Slots};
    ///
    /// let (a, b) = (Slots::<u8>::new(Capacity::new(2)), Slots::<u8>::new(Capacity::new(2)));
    /// assert!(a.raw().is_from(&a));
    /// assert!(!a.raw().is_from(&b));
    /// ```
    #[inline]
    pub fn is_from(self, slots: &Slots<T>) -> bool {
        self.ptr == slots.ptr
    }

    /// The slot that holds sequence `seq`, as [`Slots::get`].
    ///
    /// # Safety
    ///
    /// The [`Slots`] this was copied from must be alive (not dropped) for
    /// all of `'a`.
    ///
    /// ```
    /// let ring = ring_core::Slots::<u8>::new(ring_core::Capacity::new(2));
    /// // SAFETY: `ring` outlives the reference.
    /// let slot = unsafe { ring.raw().get(3) };
    /// assert!(core::ptr::eq(slot, ring.get(1)));
    /// ```
    #[inline(always)]
    pub unsafe fn get<'a>(self, seq: u64) -> &'a Slot<T> {
        let index = self.capacity.index(seq);
        debug_assert!(index < self.capacity.get());
        // SAFETY: `index < capacity` (`Capacity::index` is `seq mod
        // capacity`, checked above in debug builds), so `at` is one of the
        // `capacity` slots initialised in `Slots::new`; they live until the
        // array's drop, which the caller puts after `'a`.
        unsafe { &*self.at(index) }
    }

    /// The slot at `index < capacity`, as a raw pointer: `STRIDE` bytes
    /// apart from the start.
    #[inline(always)]
    fn at(self, index: usize) -> *mut Slot<T> {
        self.ptr
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(index * Slots::<T>::STRIDE)
            .cast::<Slot<T>>()
    }
}

impl<T> fmt::Debug for RawSlots<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSlots")
            .field("capacity", &self.capacity.get())
            .finish_non_exhaustive()
    }
}

/// Why a slot array could not be allocated.
///
/// ```
/// use ring_core::{AllocError, Capacity, Slots};
///
/// let err = Slots::<[u64; 1024]>::try_new(Capacity::new(Capacity::MAX)).unwrap_err();
/// assert!(matches!(err, AllocError::TooLarge { .. }));
/// assert!(err.to_string().contains("exceeds isize::MAX bytes"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AllocError {
    /// `capacity` slots of `slot_size` bytes exceed `isize::MAX` bytes.
    TooLarge {
        /// The slots asked for.
        capacity: usize,
        /// The size of one slot, stamp included.
        slot_size: usize,
    },
    /// The allocator refused `bytes` bytes.
    Failed {
        /// The size of the refused allocation.
        bytes: usize,
    },
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AllocError::TooLarge {
                capacity,
                slot_size,
            } => write!(
                f,
                "a ring of {capacity} slots of {slot_size} bytes exceeds isize::MAX bytes"
            ),
            AllocError::Failed { bytes } => {
                write!(
                    f,
                    "the allocator refused {bytes} bytes for the ring's slots"
                )
            }
        }
    }
}

impl core::error::Error for AllocError {}

/// The line size no slot may straddle: 64 bytes, the coherence unit of
/// every x86-64 and of the aarch64 cores we target (the 128 of
/// [`CACHE_LINE`] is about adjacent-line prefetch, which pulls pairs).
const LINE: usize = 64;

impl<T> Slots<T> {
    /// Bytes from one slot to the next (see the type's docs): at least
    /// `size_of::<Slot<T>>()`; a power of two up to 64 bytes, two whole
    /// 64-byte lines up to 128, the slot's size above.
    ///
    /// ```
    /// use ring_core::{Slot, Slots};
    ///
    /// # #[cfg(not(miri))] {
    /// assert_eq!(Slots::<u64>::STRIDE, 16); // packed: four to a line
    /// assert_eq!(Slots::<[u64; 4]>::STRIDE, 64); // 40 bytes, own line
    /// assert_eq!(Slots::<[u64; 8]>::STRIDE, 128); // 72 bytes, two lines
    /// assert_eq!(Slots::<[u64; 32]>::STRIDE, 264); // large: packed
    /// # }
    /// assert!(Slots::<[u8; 3]>::STRIDE >= size_of::<Slot<[u8; 3]>>());
    /// ```
    pub const STRIDE: usize = {
        let size = size_of::<Slot<T>>();
        if size > 2 * LINE {
            size
        } else if size > LINE {
            2 * LINE
        } else {
            size.next_power_of_two()
        }
    };

    /// The array's base pointer and capacity, copied out: a reader that
    /// keeps the array alive by other means (an `Arc` of its owner) indexes
    /// it with [`RawSlots::get`] without loading them through the owner
    /// first, one dependent load fewer per read (photon-ring's subscribers
    /// cache the same pair).
    ///
    /// ```
    /// let ring = ring_core::Slots::<u8>::new(ring_core::Capacity::new(4));
    /// let raw = ring.raw();
    /// // SAFETY: `ring` outlives the reference.
    /// assert!(core::ptr::eq(unsafe { raw.get(5) }, ring.get(1)));
    /// ```
    #[inline(always)]
    pub fn raw(&self) -> RawSlots<T> {
        RawSlots {
            ptr: self.ptr,
            capacity: self.capacity,
        }
    }

    /// The slot at `index < capacity`, as a raw pointer.
    #[inline(always)]
    fn at(&self, index: usize) -> *mut Slot<T> {
        self.raw().at(index)
    }

    fn layout(capacity: Capacity) -> Result<Layout, AllocError> {
        let too_large = AllocError::TooLarge {
            capacity: capacity.get(),
            slot_size: size_of::<Slot<T>>(),
        };
        let bytes = Self::STRIDE.checked_mul(capacity.get()).ok_or(too_large)?;
        // `STRIDE` is a multiple of the slot's alignment: its size is one,
        // and rounding a size up to a power of two, or one of 65 to 128 up
        // to 128, keeps it one (alignments are powers of two no larger than
        // the size, so one that divides a size in 65..=128 divides 128).
        Layout::from_size_align(bytes, CACHE_LINE.max(align_of::<Slot<T>>())).map_err(|_| too_large)
    }
}

impl<T: Copy> Slots<T> {
    /// Allocates `capacity` empty slots.
    ///
    /// # Panics
    ///
    /// If `capacity` slots of this `T` exceed `isize::MAX` bytes; aborts
    /// (as `Vec` does) if the allocator fails. [`try_new`](Slots::try_new)
    /// reports both instead.
    ///
    /// ```
    /// let ring = ring_core::Slots::<[u8; 24]>::new(ring_core::Capacity::new(16));
    /// assert_eq!(ring.capacity().get(), 16);
    /// ```
    #[track_caller]
    pub fn new(capacity: Capacity) -> Self {
        match Self::try_new(capacity) {
            Ok(slots) => slots,
            Err(AllocError::Failed { .. }) => {
                handle_alloc_error(Self::layout(capacity).expect("the layout was valid"))
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// Allocates `capacity` empty slots, reporting a size overflow or an
    /// allocation failure as an error (as `Vec::try_reserve` does).
    ///
    /// # Errors
    ///
    /// [`AllocError::TooLarge`] if the array would exceed `isize::MAX`
    /// bytes, [`AllocError::Failed`] if the allocator refuses it.
    ///
    /// ```
    /// use ring_core::{Capacity, Slots};
    ///
    /// assert!(Slots::<u64>::try_new(Capacity::new(8)).is_ok());
    /// ```
    pub fn try_new(capacity: Capacity) -> Result<Self, AllocError> {
        let layout = Self::layout(capacity)?;
        // SAFETY: the layout is non-zero-sized (a slot holds a u64 stamp and
        // capacity >= 2).
        let raw = unsafe { alloc(layout) }.cast::<Slot<T>>();
        let Some(ptr) = NonNull::new(raw) else {
            return Err(AllocError::Failed {
                bytes: layout.size(),
            });
        };
        // Not dropped until every slot is written: a panic in `Slot::new`
        // (loom's allocates) must not run `Drop` over unwritten slots; it
        // leaks the allocation instead, as before the stride.
        let slots = core::mem::ManuallyDrop::new(Slots { ptr, capacity });
        for i in 0..capacity.get() {
            // SAFETY: `i < capacity`: in bounds of the fresh allocation, at
            // a multiple of `STRIDE`, which keeps the slot's alignment
            // (`layout`); each slot is written once.
            unsafe { slots.at(i).write(Slot::new()) };
        }
        Ok(core::mem::ManuallyDrop::into_inner(slots))
    }

    /// The slot that holds sequence `seq` (index `seq mod capacity`).
    ///
    /// ```
    /// let ring = ring_core::Slots::<u8>::new(ring_core::Capacity::new(2));
    /// assert!(core::ptr::eq(ring.get(0), ring.get(2)));
    /// ```
    #[inline(always)]
    pub fn get(&self, seq: u64) -> &Slot<T> {
        // SAFETY: `self` is borrowed for the returned lifetime, so the
        // array is alive (and not dropped) as long as the reference.
        unsafe { self.raw().get(seq) }
    }

    /// The ring's capacity.
    ///
    /// ```
    /// let ring = ring_core::Slots::<u8>::new(ring_core::Capacity::new(32));
    /// assert_eq!(ring.capacity().mask(), Some(31));
    /// ```
    #[inline(always)]
    pub fn capacity(&self) -> Capacity {
        self.capacity
    }
}

impl<T> Drop for Slots<T> {
    fn drop(&mut self) {
        for i in 0..self.capacity.get() {
            // SAFETY: the slots were initialised in `new` and each is
            // dropped once, here (loom's slots own boxes; std's own nothing).
            unsafe { core::ptr::drop_in_place(self.at(i)) };
        }
        let layout = Self::layout(self.capacity).expect("layout was valid at allocation");
        // SAFETY: allocated in `new` with this same layout.
        unsafe { dealloc(self.ptr.as_ptr().cast(), layout) };
    }
}

impl<T> fmt::Debug for Slots<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots")
            .field("capacity", &self.capacity.get())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_is_cache_aligned_and_small_slots_are_packed() {
        let ring = Slots::<u64>::new(Capacity::new(8));
        let base = ring.get(0) as *const Slot<u64> as usize;
        assert_eq!(base % CACHE_LINE, 0);
        let second = ring.get(1) as *const Slot<u64> as usize;
        assert_eq!(second - base, Slots::<u64>::STRIDE);
        // Miri's default build adds a copy lock to each slot (payload.rs).
        #[cfg(not(all(miri, not(ring_miri_words))))]
        assert_eq!(Slots::<u64>::STRIDE, 16);
    }

    /// No slot of up to two lines straddles a 64-byte line (a packed
    /// 72-byte slot straddled every other line); larger ones are packed.
    #[test]
    fn no_slot_straddles_a_line() {
        fn check<T: Copy>() {
            let ring = Slots::<T>::new(Capacity::new(5));
            let size = size_of::<Slot<T>>();
            for seq in 0..5 {
                let start = ring.get(seq) as *const Slot<T> as usize;
                assert_eq!(start % align_of::<Slot<T>>(), 0);
                if size > 2 * LINE {
                    // Packed (Miri's default build makes some of these
                    // slots larger: its copy lock).
                    assert_eq!(Slots::<T>::STRIDE, size);
                    continue;
                }
                let (first, last) = (start / LINE, (start + size - 1) / LINE);
                assert!(
                    first == last || start.is_multiple_of(LINE),
                    "a {size}-byte slot at {} straddles a line",
                    start % LINE
                );
            }
        }
        check::<u8>();
        check::<u64>();
        check::<[u64; 2]>();
        check::<[u64; 3]>();
        check::<[u64; 4]>();
        check::<[u64; 7]>();
        check::<[u64; 8]>();
        check::<[u64; 15]>();
        check::<(u8, u16)>();
        assert_eq!(Slots::<[u64; 32]>::STRIDE, size_of::<Slot<[u64; 32]>>());
        assert!(Slots::<[u64; 8]>::STRIDE <= 2 * size_of::<Slot<[u64; 8]>>());
    }

    /// `RawSlots::get` (which `Slots::get` calls) finds slot `seq mod
    /// capacity`, `STRIDE` bytes per slot from the array's first, for
    /// power-of-two and other capacities and every stride kind; a value
    /// written through the copy is read back through the array.
    #[test]
    fn raw_slots_index_as_the_array_does() {
        fn check<T: Copy + PartialEq + core::fmt::Debug>(cap: usize, value: T) {
            let ring = Slots::<T>::new(Capacity::new(cap));
            let raw = ring.raw();
            assert!(raw.is_from(&ring));
            let base = ring.ptr.as_ptr() as usize;
            for seq in (0..3 * cap as u64).chain([u64::MAX - 1, u64::MAX]) {
                // SAFETY: `ring` outlives the reference.
                let slot = unsafe { raw.get(seq) } as *const Slot<T> as usize;
                let index = (seq % cap as u64) as usize;
                assert_eq!(
                    slot,
                    base + index * Slots::<T>::STRIDE,
                    "seq {seq} of {cap}"
                );
            }
            let seq = 2 * cap as u64 + 1;
            // SAFETY: `ring` outlives the reference.
            let slot = unsafe { raw.get(seq) };
            // SAFETY: one writer (this thread), the slot's first write.
            unsafe { slot.write(seq, value) };
            assert_eq!(
                ring.get(seq - cap as u64).try_read(seq).ready(),
                Some(value)
            );
        }
        for cap in [2, 3, 4, 5, 8, 12] {
            check::<u8>(cap, 7);
            check::<[u64; 4]>(cap, [1, 2, 3, 4]);
            check::<[u64; 8]>(cap, [9; 8]);
            check::<[u64; 32]>(cap, [5; 32]);
        }
        let other = Slots::<u8>::new(Capacity::new(2));
        assert!(!Slots::<u8>::new(Capacity::new(2)).raw().is_from(&other));
    }

    #[test]
    #[should_panic(expected = "exceeds isize::MAX bytes")]
    fn oversized_ring_panics_with_the_reason() {
        let _ = Slots::<[u64; 1024]>::new(Capacity::new(Capacity::MAX));
    }
}
