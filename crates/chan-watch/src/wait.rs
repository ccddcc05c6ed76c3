//! A registration with a (sharded) doorbell that withdraws itself when dropped.

use core::task::{Context, Poll};

use ring_core::{ShardedDoorbell, ShardedKey};

/// A future's place in a [`ShardedDoorbell`]'s waiter list, kept between polls.
/// Dropping it (the future was dropped mid-wait) removes the waker, so a
/// cancelled `changed()` leaves nothing behind.
pub(crate) struct Waiter<'a> {
    bell: &'a ShardedDoorbell,
    key: ShardedKey,
}

impl<'a> Waiter<'a> {
    pub(crate) fn new(bell: &'a ShardedDoorbell) -> Self {
        Waiter {
            bell,
            key: ShardedKey::default(),
        }
    }

    /// `check`, and if it finds nothing, register then re-check (no lost
    /// wake-up: `Doorbell::poll_wait`).
    pub(crate) fn poll<R>(
        &mut self,
        cx: &mut Context<'_>,
        check: impl FnMut() -> Option<R>,
    ) -> Poll<R> {
        self.bell.poll_wait(cx, &mut self.key, check)
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.bell.cancel(&mut self.key);
    }
}
