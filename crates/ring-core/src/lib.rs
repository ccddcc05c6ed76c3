//! The foundation under seqcast's rings and channels: a seqlock-stamped slot
//! that is sound for every `T: Copy + Send`, cache padding, prefetch, wait
//! strategies with a cheap-to-ring parking wait, capacity arithmetic, and the
//! loom/std `sync` shim every seqcast crate imports its primitives from
//! (`ring_core::sync`, hidden from these docs: it is the crates' plumbing,
//! std's or loom's types under one path).
//!
//! Most users want a channel (`ring-spmc`, `chan-broadcast`, …); reach for
//! `ring-core` to build a new one.
//!
//! # One writer, one reader, through a slot array
//!
//! ```
//! use ring_core::{Capacity, Doorbell, ReadResult, Slots, WaitStrategy};
//! use std::sync::Arc;
//!
//! let ring = Arc::new(Slots::<(u32, bool)>::new(Capacity::new(8)));
//! let bell = Arc::new(Doorbell::new());
//! let (r, b) = (Arc::clone(&ring), Arc::clone(&bell));
//!
//! let writer = std::thread::spawn(move || {
//!     for seq in 0..4_u64 {
//!         // SAFETY: this thread is the only writer; sequences grow.
//!         unsafe { r.get(seq).write(seq, (seq as u32, seq % 2 == 0)) };
//!         b.ring();
//!     }
//! });
//!
//! for seq in 0..4_u64 {
//!     let v = bell.wait_until(WaitStrategy::default(), || match ring.get(seq).try_read(seq) {
//!         ReadResult::Ready(v) => Some(v),
//!         ReadResult::NotWritten | ReadResult::Writing => None,
//!         ReadResult::Overwritten { .. } => unreachable!("8 slots hold 4 values"),
//!     });
//!     assert_eq!(v, (seq as u32, seq % 2 == 0));
//! }
//! writer.join().unwrap();
//! ```
//!
//! # Why the slot is sound for any `T: Copy`
//!
//! A seqlock reader copies bytes a writer may be changing; that is a data
//! race (UB) unless every access is atomic. [`Slot`] moves its payload only
//! with atomic word operations and validates the copy with its stamp before
//! reading it as a `T`; a torn copy only ever lives in a `MaybeUninit<T>` and
//! is discarded. Per build:
//!
//! * **Native builds** (the supported targets below):
//!   [`atomic-maybe-uninit`](https://docs.rs/atomic-maybe-uninit)'s inline-asm
//!   atomics on `MaybeUninit<usize>` words, which never turn padding bytes
//!   into integers. So padding, `bool`, enums and `Option` are all fine, and
//!   there is no size limit: the copy is `ceil(size_of::<T>() / word)` relaxed
//!   word moves (plain `mov`s on x86-64). Nothing to reject at compile time.
//!   On x86-64 CPUs that enumerate AVX, payloads over 8 words move 16 bytes
//!   per access instead (an aligned `movdqa`, which Intel and AMD guarantee
//!   single-copy atomic there), in inline asm as well.
//! * **Miri** cannot run inline asm. By default it copies the payload under
//!   a per-slot lock, which is correct for every `T: Copy` (padding and
//!   `Option<u32>` included): run Miri on your own code that uses seqcast's
//!   rings with any payload. That build proves everything but the lock-free
//!   copy's memory-model argument.
//! * **Miri with `--cfg ring_miri_words`** (ring-core's own Miri runs): the
//!   lock-free copy with std's atomics on the value's words and tail bytes,
//!   so Miri checks the slot's orderings (data races, weak memory across
//!   seeds); those read bytes as integers, so payloads there must have no
//!   padding (Miri reports any that do).
//! * **loom** (`--cfg ring_loom`) uses loom atomics for the same stripes, so
//!   the model sees every payload access.
//!
//! The stamp protocol and the argument for it are in [`Slot`]'s docs. A loom
//! model explores every interleaving of a writer and two readers over the
//! real slot (no torn value is ever accepted, a write in progress is seen as
//! one), and a release-mode stress test hammers it with real threads and
//! checks every value (`tests/loom_slot.rs` and `tests/stress_slot.rs` in
//! the repository).
//!
//! # Supported targets
//!
//! The slot needs 64-bit atomics (for the stamp) and `atomic-maybe-uninit`'s
//! word-sized loads and stores (for the payload) on stable Rust:
//! `target_arch` `x86`, `x86_64`, `arm` (v6+ or Linux/Android, with 64-bit
//! atomics, so not M-profile), `aarch64`, `arm64ec`, `riscv32`, `riscv64`,
//! `loongarch64`, `s390x`, `powerpc` and `powerpc64`, each only where the
//! target has 64-bit atomics. Tested: x86-64 natively; aarch64 (under
//! qemu-user) and i686 through `cargo xtask cross`; big-endian s390x under
//! Miri. Anywhere else (wasm32,
//! thumbv6m/v7m, the architectures `atomic-maybe-uninit` supports only on
//! nightly, …) the crate fails to build with a message naming the missing
//! piece, rather than with an error from inside a dependency.
//!
//! # Features
//!
//! * `std` (default): [`Doorbell`] (parking waits), OS yields, the std
//!   `Mutex`/`Condvar` in `sync`. Without it the crate is `no_std` + `alloc`.
#![no_std]
#![doc(test(attr(deny(warnings))))]

#[cfg(not(target_has_atomic = "64"))]
compile_error!(
    "ring-core needs 64-bit atomics (the slot stamp is an AtomicU64); this target has none"
);

#[cfg(not(any(
    miri,
    ring_loom,
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "arm",
    target_arch = "aarch64",
    target_arch = "arm64ec",
    target_arch = "riscv32",
    target_arch = "riscv64",
    target_arch = "loongarch64",
    target_arch = "s390x",
    target_arch = "powerpc",
    target_arch = "powerpc64",
)))]
compile_error!(
    "ring-core copies slot payloads with atomic-maybe-uninit's inline-asm atomics, which do not \
     cover this target_arch on stable Rust; supported: x86, x86_64, arm, aarch64, arm64ec, \
     riscv32, riscv64, loongarch64, s390x, powerpc, powerpc64 (see the crate docs)"
);

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[doc(hidden)]
pub mod sync;

#[cfg(any(feature = "std", ring_loom))]
mod asymmetric;
mod capacity;
#[cfg(any(feature = "std", ring_loom))]
mod doorbell;
mod padding;
mod payload;
mod pod;
mod prefetch;
#[cfg(any(feature = "std", ring_loom))]
mod sharded;
mod slot;
mod slots;
mod stamp;
mod wait;

pub use capacity::{Capacity, CapacityError};
#[cfg(any(feature = "std", ring_loom))]
pub use doorbell::{Doorbell, WaitKey};
pub use padding::{CACHE_LINE, CachePadded};
pub use pod::Pod;
pub use prefetch::{prefetch_read, prefetch_write};
#[cfg(any(feature = "std", ring_loom))]
pub use sharded::{ShardedDoorbell, ShardedKey};
pub use slot::{ReadResult, Slot};
pub use slots::{AllocError, RawSlots, Slots};
pub use stamp::Stamp;
pub use wait::WaitStrategy;

// The README's examples (the crates.io page) are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
