//! One writer, many async byte streams: tee a byte source (a process's
//! output, an upload, a generated archive, a log, a media feed) to many
//! consumers (HTTP clients, files, hashers) without copying it per
//! consumer, with memory bounded in bytes, and without ever losing bytes
//! silently.
//!
//! ```
//! use std::io::Write;
//! use futures::StreamExt;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut writer = stream_bytes::ByteWriter::default();
//! let streams: Vec<_> = (0..3).map(|_| writer.stream()).collect();
//! let tasks: Vec<_> = streams
//!     .into_iter()
//!     .map(|mut s| {
//!         tokio::spawn(async move {
//!             let mut total = 0;
//!             while let Some(chunk) = s.next().await {
//!                 total += chunk.unwrap().len(); // the last chunk is the empty close signal
//!             }
//!             total
//!         })
//!     })
//!     .collect();
//! writer.write_all(b"Hello, World!").unwrap();
//! writer.write_all(b"Broadcast message to all streams!").unwrap();
//! assert_eq!(writer.bytes_written(), 46);
//! writer.close();
//! for t in tasks {
//!     assert_eq!(t.await.unwrap(), 46);
//! }
//! # });
//! ```
//!
//! * [`ByteWriter`] implements `std::io::Write` (and, with features
//!   `tokio` / `futures-io`, both `AsyncWrite`s; shutting down closes it).
//!   Each write becomes one [`Bytes`](https://docs.rs/bytes/1/bytes/struct.Bytes.html), shared by every
//!   stream: two allocations per write through `std::io::Write` (the
//!   copy, and `bytes`' shared header when the first stream clones it),
//!   then a reference-count increment per stream read. With
//!   [`ByteWriter::write_bytes`] there is no copy: a `Bytes` that is
//!   already shared (or static) costs no allocation, one made from a
//!   `Vec` gets its shared header at the first clone.
//! * [`ByteStream`] is a `Stream<Item = io::Result<Bytes>> + Unpin + Send`:
//!   chunks in order with their boundaries as written; an empty write
//!   sends nothing; the close is one empty `Bytes`, then the end.
//! * [`TypedWriter`] / [`TypedStream`] do the same for any `T: Clone + Send`.
//! * Memory: [`ByteWriter::builder`]`().max_buffered_bytes(n).on_full(policy)`
//!   bounds the memory held for the streams, exactly (a chunk is counted
//!   until the last stream that needs it hands it out or is dropped, and
//!   freed then). Each chunk is charged its length plus
//!   [`CHUNK_OVERHEAD`] (its bookkeeping), so the bound holds for small
//!   chunks as for large ones; [`ByteWriter::buffered_bytes`] and every
//!   other count stay in payload bytes. [`Policy`]:
//!   `Unbounded` (default), `Block` (writes wait for the slowest stream)
//!   or `DisconnectSlowest` (the slowest stream gets an `io::Error`
//!   holding a [`Disconnected`] with the bytes it lost, then ends).
//! * Stalls: [`ByteStream::stall_timeout`] yields `TimedOut` errors while
//!   the writer is silent and keeps going; [`ByteWriter::stalled`] lists
//!   the streams that have had data to read for a while and have not read
//!   it (stuck, as opposed to slow: a slow stream keeps advancing).
//!
//! A stream is an `AsyncRead` through tokio-util's `StreamReader`:
//!
//! ```
//! use tokio::io::AsyncReadExt;
//! use tokio_util::io::StreamReader;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut writer = stream_bytes::ByteWriter::default();
//! let mut reader = StreamReader::new(writer.stream());
//! std::io::Write::write_all(&mut writer, b"read me").unwrap();
//! drop(writer); // the close signal is an empty chunk: StreamReader skips it
//! let mut text = String::new();
//! reader.read_to_string(&mut text).await.unwrap();
//! assert_eq!(text, "read me");
//! # });
//! ```
//!
//! # Why not on top of chan-broadcast
//!
//! The layer map puts stream-bytes above chan-broadcast; it is built on
//! ring-core's `sync` shim instead (its `Mutex`, `Condvar` and `Arc`, so
//! loom checks it). chan-broadcast's rings have a fixed number of slots
//! chosen up front and count lag in values, after the fact, at the reader;
//! this crate needs a buffer bounded in *bytes* (or not bounded at all,
//! the default), a writer that waits on the slowest reader's bytes, and a
//! disconnect that releases exactly one stream's share and tells it how
//! many bytes it lost. Expressing that over a slot ring would mean a
//! second byte ledger beside it plus a lossless ring whose capacity must
//! guess the chunk count. Here the log holds `Bytes` handles (each chunk
//! stored once), and the ledger is one offset per stream (written up in
//! the source, the repository's `crates/stream-bytes/src/shared.rs`).
//!
//! # Costs
//!
//! A write takes one mutex, pushes one log entry and wakes the streams
//! that were waiting (each waiting stream must be woken by someone; the
//! wakers run after the lock is released). A write with no waiting stream
//! does not touch per-stream state; under `Block` and `DisconnectSlowest`
//! it scans the streams' offsets only when the limit may be reached. A
//! stream takes the writer's mutex once per run of up to 32 chunks (it
//! clones them, a reference-count increment each, into its own batch) and
//! waits (registers its waker) only once it has handed out its whole
//! batch and found the log empty. Handing a chunk out advances the
//! stream's byte offset at that moment (a load and a store; under
//! `DisconnectSlowest` under the stream's own lock, so that a disconnect
//! can free the batch; under `Block` plus one fence, to meet a waiting
//! writer): a chunk a stream has handed out is never still charged to it,
//! and every chunk alive for a stream (in the log or its batch) is
//! charged.
//! [`ByteWriter::stalled`] scans the streams when called. Stall stamps
//! use the coarse monotonic clock on Linux (one kernel tick, 1 to 10 ms).
//!
//! The limit charges each buffered chunk its length plus
//! [`CHUNK_OVERHEAD`] (160 bytes; [`Builder::chunk_overhead`] changes it):
//! a write is over the limit when the charges of the chunks some stream
//! has not handed out, plus its own, exceed `max_buffered_bytes`, and a
//! chunk whose charge alone exceeds it is accepted when nothing is
//! buffered. The charge covers what each chunk costs besides its bytes:
//! its log entry (56 bytes on 64-bit targets, in a `VecDeque` whose
//! capacity doubles: up to 112), `bytes`' shared header (24) and the
//! allocator's headers. Measured by `tests/memory.rs` (a counting global
//! allocator, one stalled and one healthy stream, limit 1 MiB), the peak
//! heap is 0.75 to 1.21 MiB for 1-byte, 64-byte and 4 KiB chunks under
//! `Block` and `DisconnectSlowest` (it was 3.0 MiB for 64-byte chunks
//! when only their bytes were charged); the peak above the limit is a
//! disconnect's transient list of the handles it frees (32 bytes each,
//! in a `Vec` that doubles; they are dropped after the writer's lock). A
//! stream that is dropped frees its chunks before a `Block` writer
//! waiting for them is woken (the writer is not admitted against memory
//! still held; `tests/hostile_batches.rs`); under `DisconnectSlowest` a
//! write concurrent with a stream drop may be admitted while the leaving
//! stream's chunks are being freed. Besides the chunks, each stream's batch holds up
//! to 32 handles (their chunks charged; the batch's own buffer, about
//! 1.3 KiB, is per stream), and the log keeps the
//! capacity of its longest run until the writer is dropped (a bounded
//! writer's log never holds more entries than the limit admits: at most
//! 2 x 56 bytes per admitted chunk, within its charge; an `Unbounded`
//! writer's, as many as were ever unread at once).
//!
//! Measured with the repository's `benches/bytes.rs` (one writer thread
//! `write_all`ing 2048 chunks, each stream a task on a 2-worker tokio
//! runtime, unbounded), against tokio broadcast + a `BroadcastStream`-style
//! adapter in the same process, on a 2-core VM with nothing else running
//! (three alternated runs, 2026-11-30). End to end per write, 64 B
//! chunks: 372 to 389 ns with 16 streams against tokio's 615 to 623
//! (0.60x to 0.63x its time), 1.12 to 1.17 µs with 64 against 2.01 to
//! 2.08 (0.55x to 0.57x), 153 to 169 ns with 1 against 132 to 143 (1.1x
//! to 1.25x). 4 KiB chunks: 828 to 944 ns with 16 streams against 1421
//! to 1484 (0.57x to 0.66x), 2.43 to 2.78 µs with 64 against 3.59 to
//! 3.77. The host has slow phases in which a row takes two to three
//! times as long, for every implementation: compare only rows of one run.
//!
//! The writer's own time per write is not below tokio's there: its loop
//! takes 160 to 230 ns per 64 B write with 16 streams against tokio's 60
//! to 70, because our streams keep up and wait, so each write wakes them
//! (and they take the log's mutex beside the writer), while tokio's fall
//! behind and its writer wakes nobody. `benches/bytes_paced.rs` makes
//! every stream wait for every write, for both: then each write costs
//! 1.3 to 6 µs for ours and 1.1 to 20 µs for tokio's (the wake of a
//! parked runtime worker, in the kernel; ratios 0.31 to 2.02 across four
//! runs and 1 to 64 streams, no order between them). A write that wakes no stream costs an allocation, a copy, the
//! mutex and a log entry, as tokio's `send` does.
//!
//! At 4 KiB the writer's allocation grows the heap for the chunks lagging
//! streams still hold, and glibc gives it back between runs, so the next
//! writes fault the pages in again (`perf record -e page-faults`: 94% in
//! the writer's `_int_malloc`); with
//! `GLIBC_TUNABLES=glibc.malloc.trim_threshold=1073741824` tokio's
//! 16-stream time fell from 5.2 to 0.95 µs in an earlier run. Recycling
//! the writer's 1 to 64 KiB buffers (up to 256 KiB of them) was tried and
//! not kept: alternated builds showed no change and as many page faults.
//!
//! With 1 stream the writer's own samples (`perf record -e cpu-clock`,
//! 64 B) are mostly the allocation (`malloc` and `_int_malloc`, 12% of
//! the writing thread's samples: past glibc's per-thread cache, the
//! chunks being freed on the reader's thread), the log's
//! mutex (contended by the reader's refills, 3%) and the write itself
//! (10%); waking the stream is 1%. Copying small writes into shared
//! blocks instead (one allocation per block) was tried and not kept:
//! 2.0 allocations per write fell to 0.0002 and callgrind counted 13%
//! fewer instructions per write and its two reads, but the writer got
//! slower with 1 stream (64 KiB blocks: 128 ns against 106, median of 5
//! alternated runs; 4 KiB blocks: 163 and 144 ns against 90 and 100),
//! and 4 KiB writes did not change within the noise. Page faults did not
//! explain it (the 4 KiB blocks faulted less than one allocation per
//! write); a likely cause, not measured: a block has one reference
//! count, which the writer raises for every chunk while the readers
//! lower it for every chunk they drop, so that cache line moves between
//! the threads on every write.
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod async_io;
mod clock;
mod shared;
#[cfg(feature = "tokio")]
mod stall;
mod stream;
mod typed;
mod writer;

pub use shared::{CHUNK_OVERHEAD, Policy, Stall};
#[cfg(feature = "tokio")]
pub use stall::StallTimeout;
pub use stream::{ByteStream, Disconnected};
pub use typed::{TypedStream, TypedWriter};
pub use writer::{Builder, ByteWriter};

#[cfg(test)]
mod auto_traits {
    use static_assertions::assert_impl_all;

    use super::*;

    assert_impl_all!(ByteWriter: Send, Sync);
    assert_impl_all!(ByteStream: Send, Sync, Unpin);
    assert_impl_all!(TypedWriter<u8>: Send);
    assert_impl_all!(TypedStream<u8>: Send, Unpin);
    assert_impl_all!(Disconnected: Send, Sync, std::error::Error);
}

// The README's examples (the crates.io page) are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
