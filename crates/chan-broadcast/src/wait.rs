//! A future that waits on a doorbell until a condition holds.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use ring_core::{Doorbell, WaitKey};

/// Resolves when `ready()` holds, re-checked after each ring of `bell`.
/// Dropping it withdraws its registration.
pub(crate) struct WaitFor<'a, F: Fn() -> bool> {
    bell: &'a Doorbell,
    key: Option<WaitKey>,
    ready: F,
}

impl<'a, F: Fn() -> bool> WaitFor<'a, F> {
    pub(crate) fn new(bell: &'a Doorbell, ready: F) -> Self {
        WaitFor {
            bell,
            key: None,
            ready,
        }
    }
}

impl<F: Fn() -> bool + Unpin> Future for WaitFor<'_, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let ready = &this.ready;
        this.bell
            .poll_wait(cx, &mut this.key, || ready().then_some(()))
    }
}

impl<F: Fn() -> bool> Drop for WaitFor<'_, F> {
    fn drop(&mut self) {
        self.bell.cancel(&mut self.key);
    }
}

impl<F: Fn() -> bool> fmt::Debug for WaitFor<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor").finish_non_exhaustive()
    }
}
