//! An async latest-value channel: many receivers watch one value
//! (configuration, membership, a health state, the latest price) and wake
//! when it changes. A drop-in for `tokio::sync::watch` (tokio 1.54):
//! switch with `use chan_watch as watch;`.
//!
//! ```
//! use chan_watch as watch;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let (tx, mut rx) = watch::channel("hello");
//!
//! let t = tokio::spawn(async move {
//!     while rx.changed().await.is_ok() {
//!         println!("received = {:?}", *rx.borrow_and_update());
//!     }
//! });
//! tx.send("world").unwrap();
//! drop(tx);
//! t.await.unwrap();
//! # });
//! ```
//!
//! Same names, signatures, errors (with tokio's `Debug` and `Display`
//! output), handle `Debug` output, auto traits (`Send + Sync` for
//! `T: Send + Sync`; [`Ref`] is `!Send`; unwind safe as tokio's) and edge
//! cases: the initial value counts as seen; `send` with no receiver
//! returns the value and stores nothing, while `send_replace`,
//! `send_modify` and `send_if_modified` always store; `send_if_modified`
//! notifies only when its closure returns `true`; a panic in the
//! `send_modify` closure leaves the partial change visible, bumps no
//! version, wakes nobody and poisons nothing; `has_changed` is `Err` once
//! every sender is gone, even with an unseen value; `changed` returns `Ok`
//! for an unseen value even when closed; `wait_for` tests the current
//! value first; `subscribe` marks the current value seen; only the last
//! sender's drop wakes receivers; `Sender::closed` re-checks on every
//! poll. `changed`, `wait_for` and `Sender::closed` spend tokio's
//! cooperative budget (feature `tokio`, on by default; without it the
//! crate runs on any executor).
//!
//! # Beyond tokio
//!
//! * [`WeakSender`] ([`Sender::downgrade`], [`WeakSender::upgrade`],
//!   strong and weak counts), as proposed upstream (tokio PR 8338).
//! * [`Receiver::into_stream`] and [`WatchStream`]
//!   (`new`: the current value then every change; `from_changes`: changes
//!   only), a `futures_core::Stream` without tokio-stream.
//! * A [`Ref`] that does not block `send`: `send` on the same thread while
//!   one is alive does not deadlock (below).
//! * [`Receiver::get`] and [`Receiver::get_and_update`]: a clone of the
//!   value that keeps nothing of the channel alive.
//!
//! # A borrow that does not block `send`, and what still waits
//!
//! tokio's `Ref` holds the value's read lock, so a task that keeps a
//! `Ref` alive while it sends on the same thread deadlocks (tokio issues
//! 4246, 4360, 4741). Here the value lives in one of a few slots, and a
//! [`Ref`] read-locks only the slot it was made from:
//!
//! * [`Sender::send`] never waits for a `Ref`: if a `Ref` holds the
//!   current slot, `send` writes the new value into another free slot (a
//!   new one if all are held) and makes it current; the `Ref` goes on
//!   showing the value it was made from, which is dropped with the last
//!   `Ref` that shows it. With no `Ref` alive it writes in place;
//! * a borrow costs what tokio's does: a read lock and an unlock, plus one
//!   load of the current slot's address;
//! * [`Sender::send_modify`], [`Sender::send_if_modified`] and
//!   [`Sender::send_replace`] need the value itself (`&mut T` in place, or
//!   the old `T` back) for any `T`, without `T: Clone`, as tokio's
//!   signatures promise; so they take the current slot's write lock and
//!   wait for its `Ref`s, as tokio's do, and **with a `Ref` of the current
//!   value alive on the same thread they still wait for ever**. That is
//!   the trade-off the drop-in signatures force; for `T: Clone`,
//!   [`Receiver::get`] and [`Receiver::get_and_update`] return a copy that
//!   keeps nothing locked;
//! * as with tokio, a thread that holds a `Ref` and borrows again while
//!   a `send_modify` waits on another thread blocks (std's lock lets the
//!   waiting writer in first);
//! * the channel keeps one slot per value that `Ref`s held at the same
//!   time (slots are reused, never freed before the channel): memory
//!   grows with the number of `Ref`s kept alive across sends, not with
//!   the number of sends.
//!
//! ```
//! let (tx, rx) = chan_watch::channel(vec![1, 2]);
//! let r = rx.borrow();
//! tx.send(vec![3]).unwrap(); // tokio: deadlock; here `r` still shows [1, 2]
//! assert_eq!(*r, [1, 2]);
//! drop(r);
//! let seen = rx.get(); // a copy: keeps nothing locked
//! tx.send_modify(|v| v.push(seen.len())); // fine: no `Ref` alive
//! assert_eq!(*rx.borrow(), [3, 1]);
//! ```
//!
//! # Where it is not tokio's watch
//!
//! Everything tokio 1.54's watch offers is here with its signatures and
//! behaviour (tested side by side with tokio in the workspace's
//! `differential` crate), except what the borrow above changes, and one
//! consequence of the extra methods:
//!
//! * the value a `send` replaces while a `Ref` (or a handle's `Debug`,
//!   which borrows) shows it is dropped by the last such `Ref`'s drop,
//!   on that thread, not inside `send`: `T::drop` can run in
//!   `drop(Ref)`, after `send` returned. A reader that holds a lock its
//!   `T::drop` also takes, while it drops its `Ref`, deadlocks there
//!   (with tokio it is the `send` that waits for the reader instead);
//! * the slots such `Ref`s needed stay allocated until the channel is
//!   dropped (above);
//! * the methods tokio's handles do not have ([`Receiver::get`],
//!   [`Receiver::get_and_update`], [`Receiver::into_stream`],
//!   [`Sender::downgrade`], [`Sender::strong_count`],
//!   [`Sender::weak_count`]) are inherent, so they take precedence over
//!   a user's extension-trait methods of the same names (call those as
//!   `Trait::method(&rx)`);
//! * `borrow` panics on too many live or leaked `Ref`s at tokio's count
//!   and with its message on 64-bit targets, earlier on 32-bit ones
//!   ([`Receiver::borrow`]).
//!
//! # What it costs
//!
//! tokio's `send` takes the write lock and then notifies eight `Notify`s,
//! locking each one's mutex even when nobody waits. Here a send takes the
//! senders' mutex, writes in place (or into another slot), bumps
//! the version word (one `SeqCst` read-modify-write, under the lock) and
//! loads the waiter counts of a ring-core
//! [`ShardedDoorbell`](https://docs.rs/seqcast-core/0.1/ring_core/struct.ShardedDoorbell.html)
//! (4 lines that only waiting receivers write): no other lock, no other
//! atomic write, when nobody waits. A receiver that waits registers its
//! waker under the mutex of its thread's shard (threads take the 4 shards
//! round-robin, so the worker threads of a runtime do not share one
//! mutex); a send that finds waiters takes each waited-on shard's mutex
//! once and wakes them all outside it.
//!
//! Measured with `cargo xtask bench` (`benches/watch.rs`) on a quiet
//! 2-core VM, ratio = our time / tokio 1.54's in the same run, two runs
//! (rows move by ±30 % and more between runs): `send` with no waiting
//! receiver 0.18–0.19 (11.0 ns against 59–60 ns); with 10 waiting
//! receivers 0.42–0.44; `borrow` with one writer (sending flat out) and two
//! reader threads 0.67–1.01; tokio's `contention_resubscribe` shape: see
//! below (its first row, 10 tasks, is bimodal for both channels: 1.4 or
//! 5.4 ms a round, so compare it only within one run). (An `Arc`-snapshot `Ref`, tried
//! before the slots, measured 1.8 to 1.9 on `borrow`: four
//! read-modify-writes per borrow on two shared lines instead of two on
//! one.) Each slot's lock is a word of
//! our own with a "retired" bit (`slot.rs`), not std's `RwLock` plus a
//! `SeqCst` fence and a load of `current` on every `Ref`'s drop (3 locked
//! operations per borrow against tokio's 2; a profile put 22 % of the
//! `borrow` row in that drop): alternating the two bench binaries, six
//! rounds each, `borrow` went from 13 to 24 ns (ratio to tokio 0.93 to
//! 1.90, median 1.37) to 9 to 13 ns (0.50 to 1.24, median 0.96).
//!
//! The contention shape is bound by tokio's scheduler and the kernel, not
//! by the channel. At 10 tasks `perf record` puts about 60 % of the
//! samples in the kernel's context switches, for ours and for tokio's,
//! and neither channel's code among the top symbols; at 100 tasks the
//! kernel's context switches are still the largest share (about 36 %),
//! the channel's code about 14 %. At 1000 tasks each round is the
//! sending thread handing 1000 wake-ups to tokio's injection queue, the
//! two workers running the tasks, and two thread hand-offs (the last task
//! wakes the sender, the sender's first wake-up unparks a worker); the
//! workers sit idle for part of each round.
//!
//! Sharding the receivers' doorbell by thread (ring-core's
//! `ShardedDoorbell`, with its retired-epoch word on a line of its own)
//! took the 1000-task row from 0.95–0.96 to 0.82–0.84 of tokio's time and
//! the 500-task row from 0.99–1.09 to 0.90–0.91 (three alternated rounds
//! of the bench binaries before and after, 1 s per row; 100 tasks
//! 1.04–1.09 → 1.00–1.02, 10 tasks 0.99–1.04 after). In a `perf record`
//! of the 1000-task row after it, the channel's own code (`changed`'s
//! poll and registration, the wake, the cancel, and the bench's `borrow`)
//! is about 23 % of the samples against about 35 % for tokio's channel in
//! its run (`BigNotify`, `Notified`, `notify_waiters`, the `Coop` wrapper,
//! the state load and `borrow`); the tasks' own work is 31 % and 24 %, and
//! the rest (about 46 % and 41 %) is tokio's scheduler and the kernel,
//! which no channel can remove. The two reader-count updates of every
//! `borrow` (on a line both workers write, as with tokio's `RwLock`) are
//! about half of what is left of ours. The issue's target, 0.75 of tokio's
//! time at 100 tasks and above, is not reached.
//!
//! The protocol and the argument for it are written up in the source, in
//! the repository's `crates/chan-watch/src/`: `state.rs` (the version
//! word), `shared.rs`, `slot.rs` (the slot lock word and the retire
//! protocol), `receiver.rs` and `sender.rs`.
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod coop;
pub mod error;
mod receiver;
mod sender;
mod shared;
mod slot;
mod state;
mod stream;
mod wait;

pub use receiver::{Receiver, Ref};
pub use sender::{Sender, WeakSender};
pub use stream::WatchStream;

use ring_core::sync::Arc;

use shared::Shared;
use state::Version;

/// Creates a watch channel holding `init`, which counts as seen by the
/// returned receiver.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = chan_watch::channel(0);
/// assert!(!rx.has_changed().unwrap()); // the initial value is seen
/// tx.send(1).unwrap();
/// rx.changed().await.unwrap();
/// assert_eq!(*rx.borrow(), 1);
/// # });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared::new(init));
    let tx = Sender {
        shared: Arc::clone(&shared),
    };
    let rx = Receiver {
        shared,
        version: Version::INITIAL,
    };
    (tx, rx)
}

// The README's examples (the crates.io page) are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
