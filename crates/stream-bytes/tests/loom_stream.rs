//! loom models on the real stream-bytes types: the close path (a close
//! racing a waiting stream, a stream drop, a write), and the `Block`
//! policy's wake-up (a thread writer on the condition variable, a task
//! writer on its waker; by a read, by a batch reported at the stream's
//! next lock, and by a stream drop). Each model sets
//! its own preemption bound (`LOOM_MAX_PREEMPTIONS` overrides it).
#![cfg(ring_loom)]

use std::future::poll_fn;
use std::io::Write;
use std::pin::Pin;

use bytes::Bytes;
use futures::StreamExt;
use loom::future::block_on;
use loom::thread;

use stream_bytes::{ByteWriter, CHUNK_OVERHEAD, Policy};

/// A writer whose limit holds one 1-byte chunk (its length plus the
/// per-chunk charge), doing `policy` when full.
fn one_chunk(policy: Policy) -> ByteWriter {
    ByteWriter::builder()
        .max_buffered_bytes(1 + CHUNK_OVERHEAD)
        .on_full(policy)
        .build()
}

fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

fn collect(mut s: stream_bytes::ByteStream) -> Vec<Bytes> {
    let mut out = Vec::new();
    while let Some(c) = block_on(s.next()) {
        out.push(c.unwrap());
    }
    out
}

#[test]
fn close_vs_a_waiting_stream() {
    model(3, || {
        let mut w = ByteWriter::default();
        let s = w.stream();
        let reader = thread::spawn(move || collect(s));
        w.write_all(b"a").unwrap();
        w.close();
        // A lost wake-up would deadlock the reader: loom reports it.
        assert_eq!(reader.join().unwrap(), ["a", ""]);
    });
}

#[test]
fn writer_drop_vs_a_waiting_stream() {
    model(3, || {
        let mut w = ByteWriter::default();
        let s = w.stream();
        let writer = thread::spawn(move || {
            w.write_all(b"x").unwrap();
            drop(w);
        });
        assert_eq!(collect(s), ["x", ""]);
        writer.join().unwrap();
    });
}

#[test]
fn stream_drop_vs_write_and_close() {
    model(3, || {
        let mut w = ByteWriter::default();
        let keep = w.stream();
        let gone = w.stream();
        let dropper = thread::spawn(move || drop(gone));
        w.write_all(b"1").unwrap();
        w.write_all(b"2").unwrap();
        dropper.join().unwrap();
        // Whatever the order, the dropped stream holds nothing.
        assert_eq!(w.buffered_bytes(), 2);
        w.close();
        assert_eq!(collect(keep), ["1", "2", ""]);
        assert_eq!(w.buffered_bytes(), 0);
    });
}

#[test]
fn block_thread_writer_is_woken_by_the_read_that_makes_room() {
    model(3, || {
        let mut w = one_chunk(Policy::Block);
        let s = w.stream();
        w.write_all(b"a").unwrap();
        let writer = thread::spawn(move || {
            w.write_all(b"b").unwrap(); // waits on the condvar until "a" is read
            w.close();
        });
        assert_eq!(collect(s), ["a", "b", ""]);
        writer.join().unwrap();
    });
}

#[test]
fn block_thread_writer_is_woken_by_a_stream_drop() {
    model(3, || {
        let mut w = one_chunk(Policy::Block);
        let s = w.stream();
        w.write_all(b"a").unwrap();
        let dropper = thread::spawn(move || drop(s));
        w.write_all(b"b").unwrap();
        assert_eq!(w.buffered_bytes(), 0);
        dropper.join().unwrap();
    });
}

#[test]
fn block_task_writer_is_woken_by_the_read_that_makes_room() {
    use tokio::io::AsyncWrite;
    model(3, || {
        let mut w = one_chunk(Policy::Block);
        let s = w.stream();
        let writer = thread::spawn(move || {
            for chunk in [b"a", b"b"] {
                let n = block_on(poll_fn(|cx| Pin::new(&mut w).poll_write(cx, chunk))).unwrap();
                assert_eq!(n, 1);
            }
            w.close();
        });
        assert_eq!(collect(s), ["a", "b", ""]);
        writer.join().unwrap();
    });
}

#[test]
fn disconnect_vs_a_waiting_stream() {
    model(3, || {
        let mut w = one_chunk(Policy::DisconnectSlowest);
        let slow = w.stream();
        let mut fast = w.stream();
        w.write_all(b"a").unwrap();
        let reader = thread::spawn(move || {
            // Reads "a" (if not disconnected first), then the error or more.
            let mut got = Vec::new();
            while let Some(item) = block_on(fast.next()) {
                got.push(item.map_err(|e| e.kind()));
            }
            got
        });
        w.write_all(b"b").unwrap();
        w.close();
        let slow_items: Vec<_> = {
            let mut s = slow;
            let mut v = Vec::new();
            while let Some(item) = block_on(s.next()) {
                v.push(item.is_ok());
            }
            v
        };
        let fast_items = reader.join().unwrap();
        // `slow` (never reading, the lower id on a tie) is always
        // disconnected; `fast` is too when it had not read "a" in time
        // (then it says so), otherwise it reads everything.
        assert_eq!(
            slow_items,
            [false],
            "slow always loses its byte, and says so"
        );
        assert!(
            fast_items
                == [
                    Ok(Bytes::from_static(b"a")),
                    Ok(Bytes::from_static(b"b")),
                    Ok(Bytes::new())
                ]
                || fast_items.last().is_some_and(Result::is_err),
            "{fast_items:?}"
        );
    });
}

#[test]
fn block_thread_writer_is_woken_by_a_batch_reported_late() {
    // The stream takes "a" and "b" into its batch under one lock of the
    // writer's mutex and hands them out one per poll, advancing its
    // offset under its port's lock only: the hand-out of "b", the one
    // that makes room for "cc", must wake the writer (the SeqCst-fence
    // handshake; either fence removed, loom reports the deadlock). The
    // limit holds two 1-byte chunks with their per-chunk charge: the
    // writer's scan needs both the byte offset and the chunk count the
    // hand-out stores before its fence.
    model(3, || {
        let mut w = ByteWriter::builder()
            .max_buffered_bytes(2 * (1 + CHUNK_OVERHEAD))
            .on_full(Policy::Block)
            .build();
        let s = w.stream();
        w.write_all(b"a").unwrap();
        w.write_all(b"b").unwrap();
        let writer = thread::spawn(move || {
            w.write_all(b"cc").unwrap(); // needs both reported
            w.close();
        });
        assert_eq!(collect(s), ["a", "b", "cc", ""]);
        writer.join().unwrap();
    });
}

#[test]
fn block_task_writer_is_woken_by_a_stream_drop() {
    use tokio::io::AsyncWrite;
    model(3, || {
        let mut w = one_chunk(Policy::Block);
        let s = w.stream();
        w.write_all(b"a").unwrap();
        let dropper = thread::spawn(move || drop(s));
        // Pending until the drop, then woken: a lost wake-up is a deadlock.
        let n = block_on(poll_fn(|cx| Pin::new(&mut w).poll_write(cx, b"b"))).unwrap();
        assert_eq!(n, 1);
        assert_eq!(w.buffered_bytes(), 0, "no stream: stored nowhere");
        dropper.join().unwrap();
    });
}

#[test]
fn disconnect_vs_a_stream_drop() {
    // `DisconnectSlowest` picks the stream being dropped: either the drop
    // or the disconnect removes it, never both, and the healthy stream
    // gets everything.
    model(3, || {
        let mut w = one_chunk(Policy::DisconnectSlowest);
        let mut keep = w.stream();
        let gone = w.stream();
        w.write_all(b"a").unwrap();
        assert_eq!(block_on(keep.next()).unwrap().unwrap(), "a");
        let dropper = thread::spawn(move || drop(gone));
        w.write_all(b"b").unwrap(); // over while `gone` lives: it goes
        dropper.join().unwrap();
        assert_eq!(w.stream_count(), 1);
        assert_eq!(w.buffered_bytes(), 1);
        w.close();
        assert_eq!(collect(keep), ["b", ""]);
        assert_eq!(w.buffered_bytes(), 0);
    });
}

#[test]
fn block_thread_writer_vs_a_read_and_a_stream_drop() {
    // The writer waits for two streams at once: one reads "x" on this
    // thread while the other is dropped on another; whichever comes last
    // must wake it (the drop's wake comes after its chunks are freed).
    model(2, || {
        let mut w = one_chunk(Policy::Block);
        let keep = w.stream();
        let gone = w.stream();
        w.write_all(b"x").unwrap();
        let dropper = thread::spawn(move || drop(gone));
        let writer = thread::spawn(move || {
            w.write_all(b"y").unwrap();
            w.close();
        });
        assert_eq!(collect(keep), ["x", "y", ""]);
        dropper.join().unwrap();
        writer.join().unwrap();
    });
}

/// Wakes a loom thread by unparking it. `Waker::from` an `Arc` of it
/// makes clones that `will_wake` each other (loom's own `block_on`
/// builds its waker's vtable at two call sites, so a clone of it is not
/// `will_wake` the original: with it a stream re-registers its waker on
/// every wait, and the path where the registered waker is kept is never
/// taken).
struct Unpark(thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `f` on this loom thread until it is ready, parking between polls
/// (an unpark before the park is kept, as a token).
fn block_on_parking<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

/// Collects with one waker for the whole run (one `block_on`), as one
/// task does.
fn collect_one_task(mut s: stream_bytes::ByteStream) -> Vec<Result<Bytes, u64>> {
    block_on_parking(async move {
        let mut out = Vec::new();
        while let Some(c) = s.next().await {
            out.push(c.map_err(|e| {
                let d = e
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<stream_bytes::Disconnected>());
                d.expect("a disconnect").lost_bytes()
            }));
        }
        out
    })
}

#[test]
fn a_stream_polled_by_one_task_is_woken_by_writes_and_the_close() {
    model(3, || {
        let mut w = ByteWriter::default();
        let s = w.stream();
        let reader = thread::spawn(move || collect_one_task(s));
        w.write_all(b"a").unwrap();
        w.write_all(b"b").unwrap();
        w.close();
        // A lost wake-up would deadlock the reader: loom reports it.
        let got = reader.join().unwrap();
        assert_eq!(got, [Ok("a".into()), Ok("b".into()), Ok(Bytes::new())]);
    });
}

#[test]
fn a_stream_polled_by_one_task_is_woken_by_its_disconnect() {
    model(3, || {
        let mut w = one_chunk(Policy::DisconnectSlowest);
        let s = w.stream();
        let reader = thread::spawn(move || collect_one_task(s));
        w.write_all(b"a").unwrap();
        w.write_all(b"b").unwrap(); // disconnects the reader if "a" is unread
        w.close();
        let got = reader.join().unwrap();
        let want_all = [Ok("a".into()), Ok("b".into()), Ok(Bytes::new())];
        assert!(
            got == want_all || got == [Ok("a".into()), Err(1)] || got == [Err(1)],
            "{got:?}"
        );
    });
}

/// `block_on_parking` with two wakers taken in turn (a stream moved
/// between two tasks on one thread): each is stable, so the lock-free wait
/// is taken when the same one comes back, and a registration made with
/// the other one is replaced.
fn block_on_alternating<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let wakers =
        [(); 2].map(|()| std::task::Waker::from(std::sync::Arc::new(Unpark(thread::current()))));
    let mut i = 0;
    loop {
        let mut cx = std::task::Context::from_waker(&wakers[i % 2]);
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        // Every other time, poll again at once with the other waker (no
        // park): a `Pending` whose registration is then replaced.
        i += 1;
        if i % 2 == 0 {
            thread::park();
        }
    }
}

/// Review of the lock-free wait (backed out since): a reader polled by one
/// task against a `Block` writer thread whose limit holds one chunk (the
/// writer waits in `write_all` for the hand-outs; the stream waits for
/// the writes). Passes: neither waits for ever, nothing skipped.
#[test]
fn a_stream_polled_by_one_task_releases_and_is_woken_by_a_block_writer() {
    model(2, || {
        let mut w = one_chunk(Policy::Block);
        let s = w.stream();
        let reader = thread::spawn(move || collect_one_task(s));
        w.write_all(b"a").unwrap();
        w.write_all(b"b").unwrap();
        w.write_all(b"c").unwrap();
        w.close();
        let got = reader.join().unwrap();
        let want = [
            Ok("a".into()),
            Ok("b".into()),
            Ok("c".into()),
            Ok(Bytes::new()),
        ];
        assert_eq!(got, want);
    });
}

/// Review of the lock-free wait (backed out since): the stream polled with two wakers in
/// turn (moved between tasks) while the writer writes and closes. A poll
/// with the other waker must not take the wait registered for the first.
/// Passes: every chunk and the close arrive, no deadlock.
#[test]
fn a_stream_polled_with_two_wakers_in_turn_is_woken_by_writes_and_the_close() {
    model(3, || {
        let mut w = ByteWriter::default();
        let mut s = w.stream();
        let reader = thread::spawn(move || {
            block_on_alternating(async move {
                let mut out = Vec::new();
                while let Some(c) = s.next().await {
                    out.push(c.unwrap());
                }
                out
            })
        });
        w.write_all(b"a").unwrap();
        w.write_all(b"b").unwrap();
        w.close();
        let got = reader.join().unwrap();
        assert_eq!(got, ["a", "b", ""]);
    });
}
