//! Move values from producers to many consumers, between threads and between
//! async tasks: every consumer sees every value (broadcast), or the latest
//! one (watch), or every byte (byte streams).
//!
//! `seqcast` is the front door to a family of small crates. Each layer is a
//! module here, behind a feature of the same name (all on by default), and
//! each keeps the API of the crate its users already know, so switching is
//! the `use` line:
//!
//! | module | crate | replaces | feature |
//! |---|---|---|---|
//! | [`spmc`] | `ring-spmc` | `photon_ring::{channel, channel_bounded, ..}` | `spmc` |
//! | [`mpmc`] | `ring-mpmc` | `photon_ring::channel_mpmc`, disruptor's multi-producer ring | `mpmc` |
//! | [`broadcast`] | `chan-broadcast` | `tokio::sync::broadcast` | `broadcast` |
//! | [`watch`] | `chan-watch` | `tokio::sync::watch` | `watch` |
//! | [`stream`] | `stream-bytes` | `tokio::sync::broadcast<Bytes>` + a stream adapter, or a channel per reader | `stream` |
//!
//! ```toml
//! [dependencies]
//! seqcast = "0.1"                                                     # every layer
//! seqcast = { version = "0.1", default-features = false, features = ["spmc"] }  # one
//! ```
//!
//! # Which one do I need?
//!
//! | you have | consumers must | pick |
//! |---|---|---|
//! | one thread producing `Copy` values (ticks, samples, events as plain structs) | keep up or be told exactly how many they missed; the producer never waits | [`spmc::channel`](fn@spmc::channel) (lossy) |
//! | the same | see every value; the producer waits for the slowest (backpressure) | [`spmc::channel_bounded`] (lossless), with lossy taps ([`subscribe_lossy`](spmc::Subscribable::subscribe_lossy)) that never slow it |
//! | several threads producing `Copy` values | as above, lossy | [`mpmc::channel_mpmc`] |
//! | the same | see every value; every producer waits for the slowest | [`mpmc::channel_mpmc_bounded`] |
//! | async tasks sending any `T: Clone` (`String`, `Arc<..>`, enums with heap data) | be told when they lag, as with tokio | [`broadcast::channel`] |
//! | the same | see every value; senders wait (FIFO) for the slowest receiver | [`broadcast::channel_lossless`] |
//! | one value that changes (configuration, membership, health, the latest price) | see the latest value and wake when it changes; intermediate values may be skipped | [`watch::channel`] |
//! | a byte source (process output, an upload, a log, a media feed) | get every chunk, zero-copy, with memory bounded in bytes and stuck readers detected | [`stream::ByteWriter`] (or [`stream::TypedWriter`] for any `T: Clone + Send`) |
//!
//! Threads or tasks: the rings ([`spmc`], [`mpmc`]) are for threads (spin, yield or
//! park: [`spmc::WaitStrategy`]) and can also be awaited
//! ([`Subscriber::recv`](spmc::Subscriber::recv) is a future, a subscriber is
//! a `Stream`). The channels ([`broadcast`], [`watch`], [`stream`]) are for
//! async tasks on any executor, with `blocking_*` methods for threads.
//!
//! # What each one guarantees
//!
//! | | loss | order | close | wake-ups |
//! |---|---|---|---|---|
//! | [`spmc`] lossy | a subscriber more than `capacity` values behind gets `Lagged { skipped }` with the exact count, then the oldest value held: `received + lagged == published` | each subscriber sees values in publish order | dropping the [`Publisher`](spmc::Publisher) closes it; subscribers drain what is held, then get `Closed` | a publish pays one load for wake-ups when nobody sleeps (ring-core's doorbell; plus a fence where Linux's `membarrier` is unavailable); parked and async readers are woken by the next publish or the close |
//! | [`spmc`] bounded | none for gating subscribers: the publisher never overwrites what one has not read (`publish` waits, `try_publish` returns `Full`); a dropped subscriber stops gating | as above | as above | a publisher waiting for room never parks: it spins briefly, then yields the thread, until its slowest gating subscriber reads or drops |
//! | [`mpmc`] | as [`spmc`], lossy or bounded; each producer's values in its publish order, interleaved with the others' | the channel closes when the last [`MpPublisher`](mpmc::MpPublisher) clone drops | as [`spmc`] (producers waiting for room spin, then yield; they never park); a producer preempted between claiming a sequence and writing it holds back the subscribers that reach its value, and the other producers only once they are a ring's length (bounded: its room) ahead of it |
//! | [`broadcast`] | lossy: `RecvError::Lagged(n)` with the exact count, as tokio; lossless: none (senders wait) | send order, for every receiver | the last sender's drop, or [`close`](broadcast::Sender::close), which lets receivers drain and tells the closer when they have ([`Drained`](broadcast::Drained)) | receivers and waiting senders register a waker and re-check (no lost wake-up); a send pays for wake-ups only when someone waits |
//! | [`watch`] | intermediate values may be skipped (by design); the latest is never missed | versions only move forward | the last sender's drop: `changed` returns `Err` once the latest value is seen | only changes wake; `send_if_modified` wakes only when it modifies |
//! | [`stream`] | none unless you choose it: the `DisconnectSlowest` policy ends the slowest stream with an error that says how many bytes it lost | chunks in write order, boundaries kept | [`ByteWriter::close`](stream::ByteWriter::close) or dropping the writer: each stream gets the empty close chunk, then ends | streams wake on each write and on close; a blocked writer wakes on the read that makes room |
//!
//! **How it is checked.** Every crate's tests list each pair of public
//! operations that can run at the same time (publish/subscribe,
//! send/receiver drop, close/send from a clone, a future polled after it
//! completed, …) and the test that covers it: a [loom] model that explores
//! every interleaving of the real types (the seqlock slot's write/read,
//! publish/subscribe and bounded gating, broadcast send/receive/close and
//! `subscribe_from_oldest`, watch send/changed and its slot hand-off, byte
//! stream close/drop/backpressure), or a real-thread stress test that checks
//! millions of sequence-numbered values for loss, duplication, tearing and
//! reordering. Every `unsafe` path runs under Miri (with real threads on
//! small sizes, on x86-64 and on big-endian s390x), and the tests also run
//! on aarch64 under qemu and on 32-bit x86. What these cannot show: loom
//! bounds its preemptions, stress tests see only the interleavings the
//! machine produced, and qemu does not reproduce ARM's weak memory (loom and
//! Miri cover the memory model).
//!
//! [loom]: https://docs.rs/loom
//!
//! # One example per layer
//!
//! A single-producer ring between threads, lossless for a risk consumer and
//! lossy for a telemetry tap (module [`spmc`]):
//!
//! ```
//! use seqcast::spmc::{channel_bounded, RecvError};
//!
//! let (mut publisher, subscribable) = channel_bounded::<u64>(1024, 0);
//! let mut risk = subscribable.subscribe(); // gates the publisher
//! let mut tap = subscribable.subscribe_lossy(); // never slows it
//! let risk = std::thread::spawn(move || {
//!     let mut sum = 0;
//!     while let Ok(v) = risk.recv_blocking() {
//!         sum += v;
//!     }
//!     sum // Err(Closed): the publisher is gone and everything was read
//! });
//! for v in 0..10_000 {
//!     publisher.publish(v);
//! }
//! drop(publisher);
//! assert_eq!(risk.join().unwrap(), (0..10_000).sum::<u64>());
//! // The tap kept up or was told exactly how much it missed.
//! while let Ok(_) | Err(RecvError::Lagged { .. }) = tap.recv_blocking() {}
//! assert_eq!(tap.total_received() + tap.total_lagged(), 10_000);
//! ```
//!
//! Several producer threads into one lossless ring (module [`mpmc`]):
//!
//! ```
//! use seqcast::mpmc::channel_mpmc_bounded;
//!
//! let (publisher, subscribable) = channel_mpmc_bounded::<(u8, u32)>(64, 0);
//! let mut all = subscribable.subscribe();
//! let producers: Vec<_> = (0..2u8)
//!     .map(|id| {
//!         let p = publisher.clone();
//!         std::thread::spawn(move || (0..1000).for_each(|i| p.publish((id, i))))
//!     })
//!     .collect();
//! drop(publisher); // closes once the clones are gone too
//! let mut next = [0u32; 2];
//! while let Ok((id, i)) = all.recv_blocking() {
//!     assert_eq!(i, next[id as usize]); // each producer's values in order
//!     next[id as usize] += 1;
//! }
//! assert_eq!(next, [1000, 1000]);
//! # for p in producers { p.join().unwrap(); }
//! ```
//!
//! An async broadcast, as `tokio::sync::broadcast` (module [`broadcast`]):
//!
//! ```
//! use seqcast::broadcast;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let (tx, mut rx) = broadcast::channel::<String>(16);
//! let mut late = tx.subscribe();
//! tx.send("hello".to_owned()).unwrap();
//! assert_eq!(rx.recv().await.unwrap(), "hello");
//! assert_eq!(late.recv().await.unwrap(), "hello");
//! drop(tx);
//! assert_eq!(rx.recv().await, Err(broadcast::error::RecvError::Closed));
//! # });
//! ```
//!
//! The latest value, as `tokio::sync::watch` (module [`watch`]):
//!
//! ```
//! use seqcast::watch;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let (tx, mut rx) = watch::channel("v1");
//! let task = tokio::spawn(async move {
//!     rx.wait_for(|config| *config == "v3").await.map(|c| *c).ok()
//! });
//! tx.send("v2").unwrap();
//! tx.send("v3").unwrap();
//! assert_eq!(task.await.unwrap(), Some("v3"));
//! # });
//! ```
//!
//! One writer, many byte streams (module [`stream`]):
//!
//! ```
//! use std::io::Write;
//! use futures::StreamExt;
//! use seqcast::stream::ByteWriter;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut writer = ByteWriter::default();
//! let mut a = writer.stream();
//! let mut b = writer.stream();
//! writer.write_all(b"hello").unwrap();
//! writer.close();
//! for s in [&mut a, &mut b] {
//!     assert_eq!(s.next().await.unwrap().unwrap(), "hello"); // the same allocation
//!     assert!(s.next().await.unwrap().unwrap().is_empty()); // the close signal
//!     assert!(s.next().await.is_none());
//! }
//! # });
//! ```
//!
//! # `no_std`
//!
//! This crate is `#![no_std]` and has no code of its own; what needs `std`
//! comes from the layers you enable, and today every layer does:
//!
//! * `spmc` and `mpmc`: their publish and `try_recv` paths use nothing of
//!   `std`, but the ring holds a `Doorbell` (ring-core's parking wait and
//!   async wake-up, built on std's `Mutex`, `Condvar` and thread parking)
//!   that every publish rings, `recv_timeout` needs `std::time::Instant`,
//!   and trackers are std `Arc`s (photon-ring's types). A `no_std` build
//!   would put the doorbell, the blocking and async receives and the
//!   timeouts behind a `std` feature; that is not done yet.
//! * `broadcast`, `watch` and `stream`: their locks, condition variables
//!   and blocking calls are std's.
//!
//! Only the bottom layer, ring-core (`seqcast-core` on crates.io: the
//! seqlock slot, capacity arithmetic, padding, spin and yield waits),
//! builds as `no_std` + `alloc` (`default-features = false`), and `cargo
//! xtask lint` checks that build.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "spmc")]
#[cfg_attr(docsrs, doc(cfg(feature = "spmc")))]
#[doc(inline)]
pub use ring_spmc as spmc;

#[cfg(feature = "mpmc")]
#[cfg_attr(docsrs, doc(cfg(feature = "mpmc")))]
#[doc(inline)]
pub use ring_mpmc as mpmc;

#[cfg(feature = "broadcast")]
#[cfg_attr(docsrs, doc(cfg(feature = "broadcast")))]
#[doc(inline)]
pub use chan_broadcast as broadcast;

#[cfg(feature = "watch")]
#[cfg_attr(docsrs, doc(cfg(feature = "watch")))]
#[doc(inline)]
pub use chan_watch as watch;

#[cfg(feature = "stream")]
#[cfg_attr(docsrs, doc(cfg(feature = "stream")))]
#[doc(inline)]
pub use stream_bytes as stream;

// The README's examples (the crates.io page) are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
