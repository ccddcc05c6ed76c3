//! `blocking_*`: drive a future on the calling thread, parking between polls.
//!
//! With the `tokio` feature, a thread inside a tokio runtime context goes
//! through `Handle::block_on`, which panics on a thread that drives async
//! tasks (as tokio's own `blocking_recv` does) and works from
//! `spawn_blocking` threads.

use core::future::Future;

/// Runs `fut` to completion on this thread.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    #[cfg(feature = "tokio")]
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        return handle.block_on(fut);
    }
    park_on(fut)
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
