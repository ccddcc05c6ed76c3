//! Moving a payload into and out of a slot with atomic operations only.
//!
//! A seqlock reader copies bytes that the writer may be changing at that very
//! moment. Under the Rust memory model that is a data race, and so undefined
//! behaviour, unless *every* access to those bytes is atomic; `read_volatile`
//! does not help. So the payload is a run of machine words, each stored and
//! loaded by one atomic operation. A torn copy (words from two writes) is
//! possible and expected: it lands in a staging buffer of type [`Words<T>`],
//! whose value is a `MaybeUninit<T>`, and the slot discards it when the stamp
//! check fails, before anything reads it as a `T`.
//!
//! Which atomics, per build:
//!
//! * **Native targets** (the release path): [`atomic_maybe_uninit`]'s
//!   `AtomicMaybeUninit<usize>`, inline-asm loads and stores of
//!   `MaybeUninit<usize>`. std's atomics would move padding bytes (which are
//!   uninitialised) through integers, itself UB; these never materialise an
//!   integer, so any `T: Copy` is sound: padding, `bool`, enums, `Option`.
//!   The copy covers all of [`Words<T>`], i.e. `size_of::<T>()` rounded up to
//!   whole words (the staging buffer owns those bytes, so provenance holds).
//!   Relaxed loads/stores of a word compile to plain `mov`/`ldr`/`str`.
//! * **Miri** cannot run inline asm. By default it copies the whole
//!   `Words<T>` (a `MaybeUninit`, so padding is fine) under a per-slot spin
//!   lock that the writer and every reader take: no two accesses race, so
//!   the build is correct for every `T: Copy`, and users can Miri-test their
//!   own code that sends `Option<u32>` or padded structs through our rings.
//!   It proves the stamp protocol's logic (sequence checks, lag, retries)
//!   and every other unsafe path, not the memory-model argument of the
//!   atomic copy, which the lock makes moot.
//! * **Miri with `--cfg ring_miri_words`** (ring-core's own Miri runs, see
//!   `cargo xtask miri`): std's atomics on exactly the `size_of::<T>()`
//!   bytes of the value: whole words, then single bytes for the tail. This
//!   is the lock-free protocol, so Miri's data-race detector and its
//!   weak-memory emulation check the slot's orderings. The bytes go through
//!   integers, so payloads must have no uninitialised bytes (the tests that
//!   use padding are ignored there; Miri reports any other use).
//! * **loom** (`--cfg ring_loom`) models the same word/byte stripes with loom
//!   atomics held in boxes beside the stamp, so loom sees every payload
//!   access and explores its interleavings with the stamp.

use core::mem::{MaybeUninit, size_of};

#[cfg(not(ring_loom))]
use crate::sync::UnsafeCell;
use crate::sync::atomic::Ordering;

/// The bytes of one machine word, the unit of the atomic copy.
const WORD: usize = size_of::<usize>();

/// A `T` at offset 0, aligned and sized to whole machine words.
///
/// `repr(C)` puts `value` at offset 0; the zero-length `[usize; 0]` raises
/// the alignment to at least a word's, and since a type's size is a multiple
/// of its alignment (and `align_of::<usize>() == size_of::<usize>()` on every
/// target we build, checked below), the size is a whole number of words.
#[repr(C)]
pub(crate) struct Words<T> {
    pub(crate) value: MaybeUninit<T>,
    _align: [usize; 0],
}

const _: () = assert!(core::mem::align_of::<usize>() == WORD);

impl<T> Words<T> {
    /// Number of words the native path copies.
    #[cfg(not(any(miri, ring_loom)))]
    const COUNT: usize = size_of::<Words<T>>() / WORD;

    /// Whole words of `T` itself (Miri, loom).
    #[cfg(any(ring_loom, all(miri, ring_miri_words)))]
    const FULL: usize = size_of::<T>() / WORD;

    /// Bytes of `T` past its last whole word (Miri, loom).
    #[cfg(any(ring_loom, all(miri, ring_miri_words)))]
    const TAIL: usize = size_of::<T>() % WORD;

    /// A staging buffer with nothing in it yet.
    #[inline(always)]
    pub(crate) const fn uninit() -> Self {
        Words {
            value: MaybeUninit::uninit(),
            _align: [],
        }
    }
}

/// The shared payload storage of one slot.
///
/// Every access after construction is one of the atomic word (or byte)
/// operations below, so concurrent [`store`](Payload::store) and
/// [`load`](Payload::load) never race. Ordering between them and the stamp is
/// the slot's business: all of them are `Relaxed` and the slot brackets them
/// with its fences.
pub(crate) struct Payload<T> {
    #[cfg(not(ring_loom))]
    cell: UnsafeCell<Words<T>>,
    /// Miri's default build: held by whoever copies `cell` (module docs).
    #[cfg(all(miri, not(ring_loom), not(ring_miri_words)))]
    lock: crate::sync::atomic::AtomicBool,
    #[cfg(ring_loom)]
    words: alloc::boxed::Box<[crate::sync::atomic::AtomicUsize]>,
    #[cfg(ring_loom)]
    tail: alloc::boxed::Box<[crate::sync::atomic::AtomicU8]>,
    #[cfg(ring_loom)]
    _marker: core::marker::PhantomData<T>,
}

impl<T> Payload<T> {
    pub(crate) fn new() -> Self {
        Payload {
            #[cfg(not(ring_loom))]
            cell: UnsafeCell::new(Words::uninit()),
            #[cfg(all(miri, not(ring_loom), not(ring_miri_words)))]
            lock: crate::sync::atomic::AtomicBool::new(false),
            #[cfg(ring_loom)]
            words: (0..Words::<T>::FULL)
                .map(|_| crate::sync::atomic::AtomicUsize::new(0))
                .collect(),
            #[cfg(ring_loom)]
            tail: (0..Words::<T>::TAIL)
                .map(|_| crate::sync::atomic::AtomicU8::new(0))
                .collect(),
            #[cfg(ring_loom)]
            _marker: core::marker::PhantomData,
        }
    }
}

/// The number of words `store` and `load` copy, hidden from the optimiser
/// for payloads over 8 words. Fully unrolled, the store of a 256-byte value
/// loads every word before the first store (each inline-asm store wants its
/// own register) and spills half of them (`benches/slot.rs`,
/// `slot_publish/256B`: 20.5 ns unrolled, on a par with photon-ring
/// rolled); the load is 44 ns rolled against 48.5 ns unrolled
/// (`benches/spmc.rs`, `roundtrip/ring-spmc/256B`, back to back).
#[cfg(not(any(miri, ring_loom)))]
#[inline(always)]
fn copy_count<T>() -> usize {
    if Words::<T>::COUNT > 8 {
        core::hint::black_box(Words::<T>::COUNT)
    } else {
        Words::<T>::COUNT
    }
}

#[cfg(not(any(miri, ring_loom)))]
impl<T> Payload<T> {
    /// Copies `src` into the slot, one atomic word at a time.
    #[inline(always)]
    pub(crate) fn store(&self, src: &Words<T>) {
        use atomic_maybe_uninit::AtomicMaybeUninit;
        let src = (src as *const Words<T>).cast::<MaybeUninit<usize>>();
        self.cell.with_mut(|dst| {
            let dst = dst.cast::<MaybeUninit<usize>>();
            for i in 0..copy_count::<T>() {
                // SAFETY: `i < COUNT`, so the word lies inside the caller's
                // `Words<T>`, which is word-aligned; reading a
                // `MaybeUninit<usize>` accepts uninitialised (padding) bytes.
                let word = unsafe { src.wrapping_add(i).read() };
                // SAFETY: the word lies inside this slot's `Words<T>` (in
                // bounds, word-aligned, alive as long as `self`), and every
                // access to it is an atomic operation of this same size.
                let atomic = unsafe { AtomicMaybeUninit::from_ptr(dst.wrapping_add(i)) };
                // Relaxed: ordered by the slot's release fence before and its
                // release stamp store after (see `Slot::commit`).
                atomic.store(word, Ordering::Relaxed);
            }
        });
    }

    /// Copies the slot into `dst`, one atomic word at a time. The result may
    /// be torn; the caller validates it with the stamp before reading it.
    #[inline(always)]
    pub(crate) fn load(&self, dst: &mut Words<T>) {
        use atomic_maybe_uninit::AtomicMaybeUninit;
        let dst = (dst as *mut Words<T>).cast::<MaybeUninit<usize>>();
        self.cell.with_mut(|src| {
            let src = src.cast::<MaybeUninit<usize>>();
            for i in 0..copy_count::<T>() {
                // SAFETY: `i < COUNT`: in bounds and word-aligned inside this
                // slot's `Words<T>`; every access to it is atomic of this size.
                let atomic = unsafe { AtomicMaybeUninit::from_ptr(src.wrapping_add(i)) };
                // Relaxed: ordered by the slot's acquire load before and its
                // acquire fence after (see `Slot::try_read`).
                let word = atomic.load(Ordering::Relaxed);
                // SAFETY: `i < COUNT`: in bounds of the caller's exclusive,
                // word-aligned `Words<T>`.
                unsafe { dst.wrapping_add(i).write(word) };
            }
        });
    }
}

#[cfg(all(miri, not(ring_loom), not(ring_miri_words)))]
impl<T> Payload<T> {
    /// Runs `f` on the slot's buffer with the slot's copy lock held.
    fn locked(&self, f: impl FnOnce(*mut Words<T>)) {
        // Acquire: pairs with the Release unlock below, so this copy comes
        // after the previous holder's.
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            crate::sync::spin_loop();
        }
        self.cell.with_mut(f);
        // Release: pairs with the next holder's Acquire.
        self.lock.store(false, Ordering::Release);
    }

    /// Copies `src` into the slot, padding included.
    pub(crate) fn store(&self, src: &Words<T>) {
        self.locked(|dst| {
            // SAFETY: `dst` is this slot's buffer, which only lock holders
            // touch; `src` is the caller's; `Words<T>` holds a
            // `MaybeUninit<T>`, so uninitialised bytes copy as they are.
            unsafe { core::ptr::copy_nonoverlapping(src, dst, 1) }
        });
    }

    /// Copies the slot into `dst`: never torn (the lock), but possibly a
    /// later write than the stamp said, which the stamp re-check catches.
    pub(crate) fn load(&self, dst: &mut Words<T>) {
        self.locked(|src| {
            // SAFETY: as in `store`, the other way round.
            unsafe { core::ptr::copy_nonoverlapping(src, dst, 1) }
        });
    }
}

#[cfg(all(miri, not(ring_loom), ring_miri_words))]
impl<T> Payload<T> {
    /// Atomic word `i` of the value.
    #[inline(always)]
    fn word(&self, i: usize) -> &crate::sync::atomic::AtomicUsize {
        debug_assert!(i < Words::<T>::FULL);
        let base = self.cell.with_mut(|p| p.cast::<usize>());
        // SAFETY: word `i` of `T` lies in this slot's word-aligned
        // `Words<T>`, alive as long as `self`; every access to it is an
        // atomic of this size.
        unsafe { crate::sync::atomic::AtomicUsize::from_ptr(base.wrapping_add(i)) }
    }

    /// Atomic tail byte `j` of the value.
    #[inline(always)]
    fn byte(&self, j: usize) -> &crate::sync::atomic::AtomicU8 {
        debug_assert!(j < Words::<T>::TAIL);
        let base = self.cell.with_mut(|p| p.cast::<u8>());
        // SAFETY: byte `FULL * WORD + j` is one of `T`'s tail bytes in this
        // slot; every access to it is a byte-sized atomic.
        unsafe {
            crate::sync::atomic::AtomicU8::from_ptr(base.wrapping_add(Words::<T>::FULL * WORD + j))
        }
    }
}

#[cfg(ring_loom)]
impl<T> Payload<T> {
    #[inline(always)]
    fn word(&self, i: usize) -> &crate::sync::atomic::AtomicUsize {
        &self.words[i]
    }

    #[inline(always)]
    fn byte(&self, j: usize) -> &crate::sync::atomic::AtomicU8 {
        &self.tail[j]
    }
}

#[cfg(any(ring_loom, all(miri, ring_miri_words)))]
impl<T> Payload<T> {
    /// Copies the initialised bytes of `src` into the slot with std (or loom)
    /// atomics: whole words, then the tail byte by byte.
    pub(crate) fn store(&self, src: &Words<T>) {
        let src = (src as *const Words<T>).cast::<u8>();
        for i in 0..Words::<T>::FULL {
            // SAFETY: word `i` of the caller's word-aligned `Words<T>`; the
            // Miri/loom path requires `T` without padding, so it is
            // initialised (Miri checks this).
            let w = unsafe { src.cast::<usize>().wrapping_add(i).read() };
            // Relaxed: ordered by the slot's fences, as on the native path.
            self.word(i).store(w, Ordering::Relaxed);
        }
        for j in 0..Words::<T>::TAIL {
            // SAFETY: a tail byte of `T` inside the caller's buffer.
            let b = unsafe { src.wrapping_add(Words::<T>::FULL * WORD + j).read() };
            // Relaxed: as above.
            self.byte(j).store(b, Ordering::Relaxed);
        }
    }

    /// Copies the slot's bytes into `dst`; the result may be torn.
    pub(crate) fn load(&self, dst: &mut Words<T>) {
        let dst = (dst as *mut Words<T>).cast::<u8>();
        for i in 0..Words::<T>::FULL {
            // Relaxed: ordered by the slot's acquire load and fence.
            let w = self.word(i).load(Ordering::Relaxed);
            // SAFETY: word `i` of the caller's exclusive, word-aligned buffer.
            unsafe { dst.cast::<usize>().wrapping_add(i).write(w) };
        }
        for j in 0..Words::<T>::TAIL {
            // Relaxed: as above.
            let b = self.byte(j).load(Ordering::Relaxed);
            // SAFETY: a tail byte inside the caller's exclusive buffer.
            unsafe { dst.wrapping_add(Words::<T>::FULL * WORD + j).write(b) };
        }
    }
}
