//! `blocking_*`: drive a future on the calling thread, parking between polls.
//!
//! With the `tokio` feature, a call on a thread that drives async tasks
//! panics with tokio's own message (as tokio's `blocking_recv` does); from
//! `spawn_blocking` threads and outside any runtime it parks the thread.

use core::future::Future;

/// Runs `fut` to completion on this thread.
///
/// # Panics
///
/// With the `tokio` feature, on a thread that drives async tasks, with
/// tokio's own message, at the caller's line.
#[track_caller]
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    #[cfg(all(feature = "tokio", not(ring_loom)))]
    may_block();
    park_on(fut)
}

/// Panics where tokio's `blocking_*` calls panic: on a thread inside a
/// runtime that is driving tasks (a worker, or inside `block_on`), but not
/// on a `spawn_blocking` thread or inside `block_in_place`. tokio's check
/// (`try_enter_blocking_region`) is private; its public `blocking_lock`
/// runs exactly that check, with tokio's message, and is `#[track_caller]`.
/// Taking an uncontended lock that no other code path uses costs one
/// compare-and-swap, beside a call that is about to park anyway.
#[cfg(all(feature = "tokio", not(ring_loom)))]
#[track_caller]
fn may_block() {
    static PROBE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    drop(PROBE.blocking_lock());
}

#[cfg(not(ring_loom))]
fn park_on<F: Future>(fut: F) -> F::Output {
    use core::pin::pin;
    use core::task::{Context, Poll};
    use std::sync::Arc;
    use std::task::{Wake, Waker};
    use std::thread::{self, Thread};

    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        // A wake before this park leaves the token set: no lost wake-up.
        thread::park();
    }
}

#[cfg(ring_loom)]
fn park_on<F: Future>(fut: F) -> F::Output {
    loom::future::block_on(fut)
}
