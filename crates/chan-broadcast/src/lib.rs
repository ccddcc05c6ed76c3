//! An async broadcast channel for any `T: Clone`: every receiver gets its
//! own clone of every value sent after it subscribed. A drop-in for
//! `tokio::sync::broadcast` (tokio 1.54): switch with
//!
//! ```
//! use chan_broadcast as broadcast;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//!
//! let a = tokio::spawn(async move {
//!     assert_eq!(rx1.recv().await.unwrap(), 10);
//!     assert_eq!(rx1.recv().await.unwrap(), 20);
//! });
//! let b = tokio::spawn(async move {
//!     assert_eq!(rx2.recv().await.unwrap(), 10);
//!     assert_eq!(rx2.recv().await.unwrap(), 20);
//! });
//! tx.send(10).unwrap();
//! tx.send(20).unwrap();
//! a.await.unwrap();
//! b.await.unwrap();
//! # });
//! ```
//!
//! Same names, signatures, errors (with tokio's `Debug` and `Display`
//! output), `#[must_use]` attributes, auto traits (`Send + Sync` for
//! `T: Send`; `UnwindSafe + RefUnwindSafe`) and edge cases: `send` with no
//! receiver returns the value and stores nothing; a new receiver sees only
//! later values; a receiver that falls more than the capacity (rounded up
//! to a power of two, as tokio does) behind gets `Lagged(n)` once, then the
//! oldest value still held; after the last sender drops, receivers drain
//! what is held, then get `Closed` for ever; a panic in `T::clone` skips
//! that value for that receiver only; `recv` is cancel-safe and spends
//! tokio's cooperative budget (feature `tokio`, on by default; without it
//! the crate runs on any executor); `blocking_recv` on a thread that drives
//! async tasks panics with tokio's own message ("Cannot block the current
//! thread from within a runtime. …"), at the caller's line. Two receivers
//! never clone one value at the same time (tokio's RUSTSEC-2025-0023).
//!
//! **The one observable difference:** a value is dropped as soon as every
//! receiver that will read it has, and the last of them gets the value
//! itself, moved out, instead of a clone (one clone saved per value).
//! tokio clones for every receiver, so with tokio a `T::clone` that panics
//! panics on the last reader too; here the last reader never calls it.
//!
//! `T::clone` runs under the value's slot lock (so clones of one value
//! never overlap). It must not use the channel it is being cloned out of:
//! receive from it, drop one of its receivers, send on it, subscribe
//! (`subscribe`, `resubscribe`, `subscribe_from_oldest`), call `len` or
//! `is_empty` on a sender or a `Closing`, `Closing::is_drained`, or poll a
//! `Drained`; each of these takes a slot lock or waits for a send that
//! waits for this one, and can deadlock.
//!
//! tokio users wrap a receiver in tokio-stream's `BroadcastStream` to get a
//! `Stream`; here the receiver is one (items `Result<T, Lagged>`), so
//! `BroadcastStream::new(rx)` becomes `rx`:
//!
//! ```
//! use futures::StreamExt;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let (tx, rx) = chan_broadcast::channel(16);
//! // tokio: let mut stream = BroadcastStream::new(rx);
//! let mut stream = rx;
//! tx.send(1).unwrap();
//! drop(tx);
//! assert_eq!(stream.next().await, Some(Ok(1)));
//! assert_eq!(stream.next().await, None); // ends at the close
//! # });
//! ```
//!
//! # Where it is not tokio's broadcast
//!
//! Besides the one observable difference above, a drop-in review found
//! these, each deliberate:
//!
//! * **Inherent methods tokio does not have:** [`Sender::close`],
//!   [`Sender::subscribe_from_oldest`], [`Receiver::recv_many`], and the
//!   [`Stream`](futures_core::Stream) impl on [`Receiver`]. An inherent
//!   method takes precedence over an extension-trait method of the same
//!   name: a user's own `trait Close { fn close(self) }` (or `recv_many`)
//!   implemented for tokio's handles now resolves to ours. With another
//!   signature that is a compile error at the call; with the same one it
//!   is our behaviour. Rename or call through the trait
//!   (`Close::close(tx)`) to keep yours.
//! * **Names tokio's module does not have** are at the crate root
//!   ([`Closed`], [`Closing`], [`Drained`], [`Lagged`], [`Recv`],
//!   [`TrySendError`], the lossless types): a glob import `use
//!   chan_broadcast::*;` beside a user's own glob that defines one of
//!   these names is an ambiguity error where tokio's root glob was not.
//!   Import such names by path. [`error`] holds tokio's three errors only,
//!   so `use chan_broadcast::error::*;` beside tokio's
//!   `mpsc::error::*` brings the same names as tokio's (differential test
//!   `glob_import_of_error_next_to_mpsc_errors_names_mpscs_try_send_error`).
//! * **A [`Recv`] polled again after it completed** (or after a
//!   `T::clone` panicked inside it) returns the next value; tokio's
//!   `recv()` future, an `async fn`'s, panics ("`async fn` resumed after
//!   completion" / "after panicking").
//! * **Sizes:** a [`Receiver`] is 72 bytes (tokio's: 16): it caches its
//!   position, the ring's shape and its doorbell shard so a receive reads
//!   no shared state it need not. The [`Recv`] future is 8 bytes (tokio's:
//!   64). `Sender` and `WeakSender` are 8 bytes, as tokio's.
//! * **`blocking_recv` inside a runtime** panics with tokio's message,
//!   but its location is the caller's line (`#[track_caller]`); tokio's
//!   points into tokio's source.
//!
//! # Beyond tokio
//!
//! * [`channel_lossless`]: a [`LosslessSender`] whose `send(v).await`
//!   waits until the slowest receiver has read the value it would replace
//!   (waiting senders are served first come, first served), with
//!   `try_send`, `blocking_send` and a [`WeakLosslessSender`]. No value is
//!   ever overwritten, so no receiver lags (a receiver whose `T::clone`
//!   panics still skips that one value, as in the lossy mode) (the stress tests and loom
//!   models check this, `subscribe_from_oldest` and receiver drops
//!   included).
//! * A graceful close: [`Sender::close`] consumes the sender and returns a
//!   [`Closing`] handle, which has no `send` method, so the compiler
//!   rejects a send through the handle that closed. Other clones of the
//!   sender still compile their sends; at run time those return
//!   `SendError`. [`drained`](Closing::drained)`().await` resolves once
//!   every receiver has read (or dropped) every value still held for it,
//!   including sends from other clones still in flight at the close,
//!   yielding a [`Closed`] handle. (On a lossy channel a value overwritten
//!   before a receiver read it is reported as lag, not waited for.)
//! * [`Receiver`] is a `futures_core::Stream<Item = Result<T, Lagged>>`:
//!   lag is an item, never hidden; the stream ends at the close.
//! * `recv()` returns a named, `Unpin` future, [`Recv`] (tokio issue 6902).
//! * [`Sender::subscribe_from_oldest`] (tokio issue 7313) and
//!   [`Receiver::recv_many`].
//!
//! # What is shared, what is serialised
//!
//! tokio's broadcast takes one tail mutex for every send and for every
//! receiver that finds the channel empty, and wakes its waiters under it;
//! async-broadcast holds one mutex for everything. Here:
//!
//! * a send claims its position with one compare-and-swap on the tail
//!   word (senders contend on that cache line, not on a lock), writes its
//!   slot under that slot's own one-word lock, waits for the sends claimed
//!   before it to commit (commits are in claim order), and rings the
//!   receivers' doorbell: one load when nobody waits (a lossless send
//!   takes the slot's lock first, to see that every receiver has read the
//!   previous lap, and claims and writes in that one hold);
//! * a receive that finds a value locks only that value's slot; on a
//!   lossless channel, the receive that frees a value while senders wait
//!   also takes the send queue's mutex to wake the head sender;
//! * **serialised per thread:** a receiver that finds the channel empty
//!   registers its waker under the mutex of its thread's doorbell shard
//!   (ring-core's `ShardedDoorbell`: 4 shards, threads take them
//!   round-robin), and a send that finds
//!   waiters takes each shard's mutex once to wake them (the wakers run
//!   outside it); a send with no waiter loads the 4 shards' waiter counts;
//! * **serialised on one mutex:** lossless senders that find the ring full
//!   queue under the send queue's mutex (wakers are cloned and dropped
//!   outside it), and the receives that wake them take it too;
//! * **serialised on the gate:** `subscribe`, `subscribe_from_oldest`,
//!   `resubscribe` and receiver drops take one mutex and stop new claims
//!   for the few loads it takes to change the receiver count.
//!
//! The protocol (claim, write, commit; how receivers count what they
//! read) and the argument for it are written up in the source, in the
//! repository's `crates/chan-broadcast/src/shared.rs`.
//!
//! Measured with `benches/broadcast.rs` on a 2-core VM, against tokio
//! 1.54, async-broadcast 0.7 and asyncband 0.7.4 in the same run (time
//! ratios, ours ÷ theirs, below 1 is faster; `cargo bench -p
//! seqcast-benches --bench broadcast -- --warm-up-time 0.3
//! --measurement-time 1`, quiet machine, 2026-12-01):
//!
//! | row | tokio | async-broadcast | asyncband |
//! |---|--:|--:|--:|
//! | `try_recv`, 1 / 4 / 16 receivers | 0.64 / 0.60 / 0.58 | 0.57 / 0.54 / 0.51 | |
//! | 1→4 throughput (four runs) | 0.55–0.82 | 0.36–0.46 | |
//! | lossless, 4 / 16 receiver tasks, 2 workers (three runs) | | 0.17–0.39 / 0.18–0.36 | 0.12–0.43 / 0.15–0.19 |
//! | the same beside a CPU-bound thread (`lossless_loaded`, two runs) | | 0.33–0.34 / 0.30–0.36 | 0.26–0.27 / 0.23–0.24 |
//! | lossless, every task on one thread | | 0.43 / 0.51 | 0.36 / 0.35 |
//! | tokio's `contention` shape, 100 / 500 / 1000 tasks (three runs) | 0.89–0.92 / 0.65–0.75 / 0.67–0.74 | | |
//!
//! In `lossless_loaded` the bench spins a thread beside the runtime, so
//! the two workers and it share the two cores (a separate `sh -c 'while
//! :; do :; done'` gave 0.29–0.38 / 0.31–0.33 of async-broadcast's time
//! in `lossless`). In the `contention` rows both channels spend
//! most of the time in tokio's scheduler and the kernel: in `perf record`
//! of the 100-task rows, tokio's channel code (`recv_ref`, `notify_rx`,
//! `Recv::poll`) is 13 % of its samples and ours 7 % of ours, while the
//! scheduler and the kernel (context switches, futex wake-ups) are 70–77 %
//! of both. A channel that cost nothing would still take about 0.87 of
//! tokio's time there. The 10-task row is bimodal for both channels
//! (1.3–1.7 ms or 3.5–5.6 ms a run) and its ratio moves with it. Rows move
//! by ±30 % between runs here. Ours spends tokio's cooperative budget per
//! value, as tokio's channels do; the two other peers do not.
//!
//! ```
//! use chan_broadcast::error::TryRecvError;
//!
//! let (tx, mut rx) = chan_broadcast::channel(2);
//! for i in 0..5 {
//!     tx.send(i).unwrap();
//! }
//! assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
//! assert_eq!(rx.try_recv(), Ok(3));
//! assert_eq!(rx.try_recv(), Ok(4));
//! assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
//! ```
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod added;
mod block;
mod close;
mod coop;
pub mod error;
mod lossless;
mod queue;
mod receiver;
mod sender;
mod shared;
mod slot;
mod state;
mod wait;

use ring_core::sync::Arc;

/// A zero-sized field (or a local held across an `.await`) that makes a
/// future neither `UnwindSafe` nor `RefUnwindSafe`, as tokio's async fns
/// are, and leaves `Send`, `Sync` and `Unpin` to the other fields.
type NotUnwindSafe = core::marker::PhantomData<dyn Fn() + Send + Sync + Unpin>;

pub use added::{Lagged, TrySendError};
pub use close::{Closed, Closing, Drained};
pub use lossless::{LosslessSend, LosslessSender, WeakLosslessSender};
pub use receiver::{Receiver, Recv};
pub use sender::{Sender, WeakSender};

use shared::Shared;

/// A broadcast channel holding the last `capacity` values (rounded up to a
/// power of two): one [`Sender`] and one [`Receiver`]; more receivers come
/// from [`Sender::subscribe`].
///
/// # Panics
///
/// If `capacity` is 0 or above `usize::MAX / 2` (tokio's texts), or if
/// its slots cannot be allocated (there tokio aborts, or panics inside
/// `alloc` with "capacity overflow"), at the caller's line.
///
/// ```
/// let (tx, mut rx) = chan_broadcast::channel(16);
/// tx.send("hello").unwrap();
/// assert_eq!(rx.try_recv(), Ok("hello"));
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

/// A lossless broadcast channel of `capacity` slots (rounded up to a power
/// of two): sends wait for the slowest receiver instead of overwriting.
///
/// # Panics
///
/// If `capacity` is 0 or above `usize::MAX / 2` (tokio's texts), or if
/// its slots cannot be allocated (there tokio aborts, or panics inside
/// `alloc` with "capacity overflow"), at the caller's line.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = chan_broadcast::channel_lossless(1);
/// tx.send(1).await.unwrap();
/// let next = tokio::spawn(async move { tx.send(2).await }); // waits for rx
/// assert_eq!(rx.recv().await, Ok(1));
/// assert_eq!(rx.recv().await, Ok(2));
/// next.await.unwrap().unwrap();
/// # });
/// ```
#[track_caller]
pub fn channel_lossless<T: Clone>(capacity: usize) -> (LosslessSender<T>, Receiver<T>) {
    let slots = sender::slots_for(capacity);
    let tx = LosslessSender::from_shared(Arc::new(Shared::new(slots, true)));
    let rx = tx.subscribe();
    (tx, rx)
}

#[cfg(test)]
mod auto_traits {
    use static_assertions::{assert_impl_all, assert_not_impl_any};
    use std::cell::Cell;

    use super::*;

    // Same auto traits as tokio: `Send + Sync` for `T: Send`, even `!Sync`.
    assert_impl_all!(Sender<Cell<u8>>: Send, Sync);
    assert_impl_all!(Receiver<Cell<u8>>: Send, Sync);
    assert_impl_all!(WeakSender<Cell<u8>>: Send, Sync);
    assert_impl_all!(LosslessSender<Cell<u8>>: Send, Sync);
    assert_not_impl_any!(Sender<std::rc::Rc<u8>>: Send, Sync);
    assert_not_impl_any!(Receiver<std::rc::Rc<u8>>: Send, Sync);
    assert_impl_all!(Recv<'static, u8>: Unpin, Send);
    assert_impl_all!(Drained<u8>: Unpin, Send);

    // As tokio 1.54: `catch_unwind(|| tx.send(v))` compiles after the switch.
    use std::panic::{RefUnwindSafe, UnwindSafe};
    assert_impl_all!(Sender<Cell<u8>>: UnwindSafe, RefUnwindSafe);
    assert_impl_all!(WeakSender<Cell<u8>>: UnwindSafe, RefUnwindSafe);
    assert_impl_all!(Receiver<Cell<u8>>: UnwindSafe, RefUnwindSafe);
    assert_impl_all!(LosslessSender<Cell<u8>>: UnwindSafe, RefUnwindSafe);
    assert_impl_all!(Closing<Cell<u8>>: UnwindSafe, RefUnwindSafe);
    assert_impl_all!(WeakLosslessSender<Cell<u8>>: Send, Sync, UnwindSafe, RefUnwindSafe);
}

// The README's examples (the crates.io page) are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
