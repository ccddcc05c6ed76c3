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
    /// Copies `src` into the slot with atomic stores: 16 bytes at a time
    /// where the CPU makes that single-copy atomic (see [`wide`]), else one
    /// word at a time.
    #[inline(always)]
    pub(crate) fn store(&self, src: &Words<T>) {
        let src = (src as *const Words<T>).cast::<MaybeUninit<usize>>();
        self.cell.with_mut(|dst| {
            let dst = dst.cast::<MaybeUninit<usize>>();
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "sse2",
                not(target_env = "sgx")
            ))]
            if Words::<T>::COUNT >= wide::MIN_WORDS && wide::available() {
                // SAFETY: `src` and `dst` each hold `COUNT` words (the
                // caller's buffer, this slot's), word-aligned; every
                // access to the slot's words by any thread goes through
                // `wide::store`/`wide::load` with the same address, so the
                // same split (`wide` docs); the CPU enumerates AVX.
                unsafe { wide::store(src, dst, copy_count::<T>()) };
                return;
            }
            // SAFETY: as above, with word-sized atomics throughout.
            unsafe { store_words(src, dst, copy_count::<T>()) };
        });
    }

    /// Copies the slot into `dst` with atomic loads (16 bytes or one word
    /// at a time, as `store`). The result may be torn; the caller
    /// validates it with the stamp before reading it.
    #[inline(always)]
    pub(crate) fn load(&self, dst: &mut Words<T>) {
        let dst = (dst as *mut Words<T>).cast::<MaybeUninit<usize>>();
        self.cell.with_mut(|src| {
            let src = src.cast::<MaybeUninit<usize>>();
            #[cfg(all(
                target_arch = "x86_64",
                target_feature = "sse2",
                not(target_env = "sgx")
            ))]
            if Words::<T>::COUNT >= wide::MIN_WORDS && wide::available() {
                // SAFETY: as in `store`, the other way round.
                unsafe { wide::load(src, dst, copy_count::<T>()) };
                return;
            }
            // SAFETY: as in `store`, the other way round.
            unsafe { load_words(src, dst, copy_count::<T>()) };
        });
    }
}

/// Stores `n` words from the private buffer `src` into the shared `dst`,
/// each with one word-sized atomic store.
///
/// # Safety
///
/// `src` and `dst` are word-aligned and valid for `n` words; every access to
/// `dst`'s words is atomic, of this size.
#[cfg(not(any(miri, ring_loom)))]
#[inline(always)]
unsafe fn store_words(src: *const MaybeUninit<usize>, dst: *mut MaybeUninit<usize>, n: usize) {
    use atomic_maybe_uninit::AtomicMaybeUninit;
    for i in 0..n {
        // SAFETY: `i < n`, so the word lies inside the caller's buffer,
        // which is word-aligned; reading a `MaybeUninit<usize>` accepts
        // uninitialised (padding) bytes.
        let word = unsafe { src.wrapping_add(i).read() };
        // SAFETY: the word lies inside the slot (in bounds, word-aligned,
        // alive for the call), and every access to it is an atomic
        // operation of this same size (the function's contract).
        let atomic = unsafe { AtomicMaybeUninit::from_ptr(dst.wrapping_add(i)) };
        // Relaxed: ordered by the slot's release fence before and its
        // release stamp store after (see `Slot::commit`).
        atomic.store(word, Ordering::Relaxed);
    }
}

/// Loads `n` words from the shared `src` into the private buffer `dst`,
/// each with one word-sized atomic load.
///
/// # Safety
///
/// As [`store_words`], the other way round.
#[cfg(not(any(miri, ring_loom)))]
#[inline(always)]
unsafe fn load_words(src: *mut MaybeUninit<usize>, dst: *mut MaybeUninit<usize>, n: usize) {
    use atomic_maybe_uninit::AtomicMaybeUninit;
    for i in 0..n {
        // SAFETY: `i < n`: in bounds and word-aligned inside the slot; every
        // access to it is atomic of this size.
        let atomic = unsafe { AtomicMaybeUninit::from_ptr(src.wrapping_add(i)) };
        // Relaxed: ordered by the slot's acquire load before and its
        // acquire fence after (see `Slot::try_read`).
        let word = atomic.load(Ordering::Relaxed);
        // SAFETY: `i < n`: in bounds of the caller's exclusive, word-aligned
        // buffer.
        unsafe { dst.wrapping_add(i).write(word) };
    }
}

/// x86-64: the payload moved 16 bytes per atomic access.
///
/// Intel's SDM (vol. 3A, 10.1.1 "Guaranteed Atomic Operations": "Processors
/// that enumerate support for Intel AVX ... guarantee that the 16-byte
/// memory operations performed by the following instructions will always
/// be carried out atomically: MOVAPD, MOVAPS, and MOVDQA ...") and AMD's APM
/// (vol. 2, 7.3.2 "Access Atomicity": with AVX, cacheable naturally aligned
/// single loads and stores of up to a double quadword are atomic) make an
/// aligned `movdqa` single-copy atomic on every CPU that enumerates AVX
/// (CPUID.01H:ECX bit 28), whatever the OS enabled. So on those CPUs a
/// 16-byte-aligned chunk of the slot is moved by one `movdqa` in inline asm:
/// an atomic access, as `atomic-maybe-uninit`'s own 128-bit load (which is
/// the same instruction, but needs `cmpxchg16b` enabled at compile time,
/// which `x86_64-unknown-linux-gnu` does not). Without AVX the word path
/// runs. The private staging side is moved with `movdqu` (no atomicity
/// needed: only this thread touches it).
///
/// The split of a slot's words into chunks depends only on the slot's
/// address (a first single word when it is 8 bytes off a 16-byte boundary,
/// a last single word when one is left over) and on `available()`, which
/// is the same for every thread of a process: writer and readers access
/// each byte with accesses of the same size, so no mixed-size race.
///
/// Only where the target enables SSE2 (every hosted x86-64 target does):
/// kernel and firmware targets such as `x86_64-unknown-none` disable the
/// vector registers (soft float), and there the `xmm` operand neither
/// builds nor would be safe to use (`cargo xtask cross` checks that
/// target). Not in SGX enclaves, where `cpuid` faults. Those builds keep
/// the word copy. (portable-atomic gates its `vmovdqa` the same way.)
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "sse2",
    not(target_env = "sgx"),
    not(any(miri, ring_loom))
))]
mod wide {
    use core::mem::MaybeUninit;

    use super::{load_words, store_words};
    use crate::sync::atomic::{AtomicU8, Ordering};

    /// Payloads of more words than this take the wide path. Up to 8
    /// words the word copy is unrolled and the compiler keeps the value in
    /// registers; there the wide path measured slower (`benches/spmc.rs`,
    /// `roundtrip/ring-spmc/64B`: 16-18 ns word path, 46-64 ns wide).
    pub(super) const MIN_WORDS: usize = 9;

    /// 0: not checked yet; 1: no AVX; 2: AVX.
    static AVX: AtomicU8 = AtomicU8::new(0);

    /// Whether this CPU enumerates AVX (cached after the first call).
    ///
    /// Threads that call it first at the same time each run `cpuid` and
    /// store the same answer, so every call in the process returns the
    /// same value and every access to a slot uses the same split. Without
    /// AVX it is `false` for good and the word copy runs everywhere
    /// (exercised on every target but x86-64, and by Miri). Intel, AMD and
    /// Zhaoxin document the guarantee; LLVM's and Boost's 16-byte atomic
    /// loads rely on it on every CPU that enumerates AVX, as does this.
    #[inline(always)]
    pub(super) fn available() -> bool {
        // Relaxed: a cache of a fact about the CPU; every thread that
        // computes it computes the same value, and no other data is
        // published through it.
        match AVX.load(Ordering::Relaxed) {
            0 => detect(),
            v => v == 2,
        }
    }

    #[cold]
    fn detect() -> bool {
        // `__cpuid` is an `unsafe fn` before Rust 1.89 (our MSRV is 1.88)
        // and safe after it, hence the allowance.
        #[allow(unused_unsafe)]
        // SAFETY: the `cpuid` instruction exists on every x86-64 CPU, and
        // leaf 1 is defined on all of them (the only requirement).
        let ecx = unsafe { core::arch::x86_64::__cpuid(1) }.ecx;
        let avx = ecx & (1 << 28) != 0;
        // Relaxed: as in `available`.
        AVX.store(if avx { 2 } else { 1 }, Ordering::Relaxed);
        avx
    }

    /// Whether the shared side is 8 bytes off a 16-byte boundary (then its
    /// first word is moved alone), and how many 16-byte chunks follow.
    #[inline(always)]
    fn split(shared: *const MaybeUninit<usize>, n: usize) -> (usize, usize) {
        let peel = (shared as usize / 8) & 1;
        (peel, (n - peel) / 2)
    }

    /// [`store_words`], 16 bytes per atomic store where aligned.
    ///
    /// # Safety
    ///
    /// [`store_words`]'s contract with "atomic of this size" meaning the
    /// split above; the CPU enumerates AVX.
    #[inline(always)]
    pub(super) unsafe fn store(
        src: *const MaybeUninit<usize>,
        dst: *mut MaybeUninit<usize>,
        n: usize,
    ) {
        let (peel, chunks) = split(dst, n);
        // SAFETY: `peel <= n` words at the start (contract).
        unsafe { store_words(src, dst, peel) };
        for c in 0..chunks {
            let i = peel + 2 * c;
            let (s, d) = (src.wrapping_add(i), dst.wrapping_add(i));
            // SAFETY: words `i, i + 1 < n` lie inside both buffers; `d` is
            // 16-byte aligned (`split`), so the `movdqa` store is a
            // single-copy atomic access (module docs), the only kind any
            // thread makes to these 16 bytes; `s` is private and needs no
            // alignment (`movdqu`). Neither touches the stack or flags.
            unsafe {
                core::arch::asm!(
                    "movdqu {x}, xmmword ptr [{s}]",
                    "movdqa xmmword ptr [{d}], {x}",
                    s = in(reg) s,
                    d = in(reg) d,
                    x = out(xmm_reg) _,
                    options(nostack, preserves_flags),
                );
            }
        }
        let done = peel + 2 * chunks;
        // SAFETY: the remaining `n - done` (0 or 1) words, in bounds.
        unsafe { store_words(src.wrapping_add(done), dst.wrapping_add(done), n - done) };
    }

    /// [`load_words`], 16 bytes per atomic load where aligned.
    ///
    /// # Safety
    ///
    /// As [`store`].
    #[inline(always)]
    pub(super) unsafe fn load(
        src: *mut MaybeUninit<usize>,
        dst: *mut MaybeUninit<usize>,
        n: usize,
    ) {
        let (peel, chunks) = split(src, n);
        // SAFETY: `peel <= n` words at the start (contract).
        unsafe { load_words(src, dst, peel) };
        for c in 0..chunks {
            let i = peel + 2 * c;
            let (s, d) = (src.wrapping_add(i), dst.wrapping_add(i));
            // SAFETY: as in `store`: `s` is the 16-byte-aligned shared
            // side, loaded by one single-copy atomic `movdqa`; `d` is the
            // caller's private buffer.
            unsafe {
                core::arch::asm!(
                    "movdqa {x}, xmmword ptr [{s}]",
                    "movdqu xmmword ptr [{d}], {x}",
                    s = in(reg) s,
                    d = in(reg) d,
                    x = out(xmm_reg) _,
                    options(nostack, preserves_flags),
                );
            }
        }
        let done = peel + 2 * chunks;
        // SAFETY: the remaining `n - done` (0 or 1) words, in bounds.
        unsafe { load_words(src.wrapping_add(done), dst.wrapping_add(done), n - done) };
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
