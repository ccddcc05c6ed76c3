//! The tail word: the next position to claim, plus two flags.
//!
//! Senders claim a position with one compare-and-swap on this word; the
//! flags ride on the same word so that a claim cannot slip past them:
//!
//! * `GATE`: a subscribe or a receiver drop is changing the receiver count.
//!   Claims wait until it clears (see `Shared::with_gate`).
//! * `CLOSED`: no claim will ever succeed again. Never cleared.
//!
//! Bits are shifted only here (tokio's `watch::state` does the same for its
//! version word).

use ring_core::sync::atomic::{AtomicU64, Ordering};

const GATE: u64 = 0b01;
const CLOSED: u64 = 0b10;
const POS_SHIFT: u32 = 2;

/// A snapshot of the tail word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Tail(u64);

impl Tail {
    /// The next position a sender will claim.
    #[inline]
    pub(crate) fn pos(self) -> u64 {
        self.0 >> POS_SHIFT
    }

    /// A gate holder is changing the receiver count.
    #[inline]
    pub(crate) fn gated(self) -> bool {
        self.0 & GATE != 0
    }

    /// The channel is closed.
    #[inline]
    pub(crate) fn closed(self) -> bool {
        self.0 & CLOSED != 0
    }

    /// The word after claiming `pos()`.
    #[inline]
    fn claimed(self) -> Tail {
        debug_assert!(!self.gated() && !self.closed());
        Tail(self.0 + (1 << POS_SHIFT))
    }
}

/// The shared tail word.
#[derive(Debug)]
pub(crate) struct AtomicTail(AtomicU64);

impl AtomicTail {
    pub(crate) fn new() -> Self {
        AtomicTail(AtomicU64::new(0))
    }

    /// Acquire: pairs with the Release half of `try_claim`, `close` and
    /// `clear_gate`, so what a claimer or gate holder did before is visible.
    #[inline]
    pub(crate) fn load(&self) -> Tail {
        Tail(self.0.load(Ordering::Acquire))
    }

    /// Claims `current.pos()` if the word is still `current`.
    ///
    /// AcqRel: the Acquire half reads from the last gate clear (or an RMW in
    /// its release sequence), so the receiver count read after a successful
    /// claim includes every receiver added before the gate opened; the
    /// Release half keeps that chain going for the next claimer.
    #[inline]
    pub(crate) fn try_claim(&self, current: Tail) -> Result<u64, Tail> {
        match self.0.compare_exchange_weak(
            current.0,
            current.claimed().0,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Ok(current.pos()),
            Err(now) => Err(Tail(now)),
        }
    }

    /// Sets the gate; returns the word before. Only one gate holder at a
    /// time (they serialise on `Shared::gate`), so the gate was clear.
    ///
    /// AcqRel: Acquire to see every claim before it; Release is not needed
    /// for correctness but keeps the word's release sequence unbroken.
    pub(crate) fn set_gate(&self) -> Tail {
        let prev = Tail(self.0.fetch_or(GATE, Ordering::AcqRel));
        debug_assert!(!prev.gated());
        prev
    }

    /// Clears the gate. Release: pairs with the Acquire of `try_claim`, so
    /// a claim made after sees the receiver count the holder wrote.
    pub(crate) fn clear_gate(&self) {
        self.0.fetch_and(!GATE, Ordering::Release);
    }

    /// Sets `CLOSED`; returns the word before. AcqRel, as `try_claim`.
    pub(crate) fn close(&self) -> Tail {
        Tail(self.0.fetch_or(CLOSED, Ordering::AcqRel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `try_claim` is a weak CAS: it may fail spuriously (Miri does so).
    fn claim(t: &AtomicTail) -> u64 {
        loop {
            if let Ok(q) = t.try_claim(t.load()) {
                return q;
            }
        }
    }

    #[test]
    fn flags_and_position_do_not_overlap() {
        let t = AtomicTail::new();
        assert_eq!(claim(&t), 0);
        assert_eq!(claim(&t), 1);
        let before = t.set_gate();
        assert_eq!(before.pos(), 2);
        assert!(t.load().gated());
        assert_eq!(t.load().pos(), 2);
        t.clear_gate();
        assert!(!t.load().gated());
        assert!(!t.close().closed());
        assert!(t.load().closed());
        assert_eq!(t.load().pos(), 2);
        // A stale snapshot no longer claims.
        assert!(t.try_claim(before).is_err());
    }
}
