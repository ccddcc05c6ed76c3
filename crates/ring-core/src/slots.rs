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
/// Slots are packed (a `Slot<u64>` is 16 bytes, four to a 64-byte line);
/// the array's start is aligned to [`CACHE_LINE`] so no other allocation
/// shares its first or last line with the ring.
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
        for i in 0..capacity.get() {
            // SAFETY: `i < capacity`: in bounds of the fresh allocation,
            // which is aligned for `Slot<T>`; each slot is written once.
            unsafe { ptr.as_ptr().wrapping_add(i).write(Slot::new()) };
        }
        Ok(Slots { ptr, capacity })
    }

    fn layout(capacity: Capacity) -> Result<Layout, AllocError> {
        Layout::array::<Slot<T>>(capacity.get())
            .and_then(|l| l.align_to(CACHE_LINE))
            .map_err(|_| AllocError::TooLarge {
                capacity: capacity.get(),
                slot_size: core::mem::size_of::<Slot<T>>(),
            })
    }

    /// The slot that holds sequence `seq` (index `seq mod capacity`).
    ///
    /// ```
    /// let ring = ring_core::Slots::<u8>::new(ring_core::Capacity::new(2));
    /// assert!(core::ptr::eq(ring.get(0), ring.get(2)));
    /// ```
    #[inline(always)]
    pub fn get(&self, seq: u64) -> &Slot<T> {
        let index = self.capacity.index(seq);
        debug_assert!(index < self.capacity.get());
        // SAFETY: `index < capacity` (`Capacity::index` is `seq mod
        // capacity`, checked above in debug builds), and all `capacity` slots were
        // initialised in `new` and live until `drop`.
        unsafe { &*self.ptr.as_ptr().wrapping_add(index) }
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
        let len = self.capacity.get();
        let slice = core::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), len);
        // SAFETY: the `len` slots were initialised in `new` and are dropped
        // once, here (loom's slots own boxes; std's own nothing).
        unsafe { core::ptr::drop_in_place(slice) };
        let layout = Layout::array::<Slot<T>>(len)
            .and_then(|l| l.align_to(CACHE_LINE))
            .expect("layout was valid at allocation");
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
    fn start_is_cache_aligned_and_slots_are_packed() {
        let ring = Slots::<u64>::new(Capacity::new(8));
        let base = ring.get(0) as *const Slot<u64> as usize;
        assert_eq!(base % CACHE_LINE, 0);
        let second = ring.get(1) as *const Slot<u64> as usize;
        assert_eq!(second - base, core::mem::size_of::<Slot<u64>>());
        // Miri's default build adds a copy lock to each slot (payload.rs).
        #[cfg(not(all(miri, not(ring_miri_words))))]
        assert_eq!(core::mem::size_of::<Slot<u64>>(), 16);
    }

    #[test]
    #[should_panic(expected = "exceeds isize::MAX bytes")]
    fn oversized_ring_panics_with_the_reason() {
        let _ = Slots::<[u64; 1024]>::new(Capacity::new(Capacity::MAX));
    }
}
