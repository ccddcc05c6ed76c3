//! tokio's cooperative budget, when the `tokio` feature is on.
//!
//! tokio's own `broadcast::Receiver::recv` spends one unit of the task's
//! budget per value, so a loop that always finds a value still yields to
//! its worker. `tokio::task::coop::poll_proceed` is public; outside a tokio
//! runtime it always proceeds. Without the feature this is a no-op and the
//! crate runs on any executor.

#[cfg(feature = "tokio")]
pub(crate) use tokio::task::coop::poll_proceed;

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
