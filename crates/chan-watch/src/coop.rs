//! tokio's cooperative budget, when the `tokio` feature is on.
//!
//! tokio's own watch wraps `changed`, `wait_for` and `Sender::closed` in
//! `cooperative`: each poll spends one unit of the task's budget, so a loop
//! that always finds a change still yields to its worker. `tokio::task::coop::poll_proceed` is public; outside a tokio
//! runtime it always proceeds. Without the feature this is a no-op and the
//! crate runs on any executor.

#[cfg(feature = "tokio")]
pub(crate) use tokio::task::coop::poll_proceed;

use core::future::Future;
use core::pin::pin;
use core::task::Poll;

/// tokio's `cooperative(fut)`: one unit of budget per poll of `fut`,
/// given back if `fut` stays pending.
pub(crate) async fn cooperative<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    core::future::poll_fn(|cx| {
        let coop = core::task::ready!(poll_proceed(cx));
        let out = core::task::ready!(fut.as_mut().poll(cx));
        coop.made_progress();
        Poll::Ready(out)
    })
    .await
}

#[cfg(not(feature = "tokio"))]
mod no_budget {
    use core::task::{Context, Poll};

    /// Stands in for tokio's `RestoreOnPending`.
    pub(crate) struct RestoreOnPending;

    impl RestoreOnPending {
        #[inline]
        pub(crate) fn made_progress(&self) {}
    }

    #[inline]
    pub(crate) fn poll_proceed(_cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
        Poll::Ready(RestoreOnPending)
    }
}

#[cfg(not(feature = "tokio"))]
pub(crate) use no_budget::poll_proceed;
