//! The seqlock stamp word: the only code that knows how a sequence number and
//! a "writing" flag are packed into a slot's 64-bit stamp.
//!
//! For message sequence `s` (counted from 0):
//!
//! | stamp | meaning |
//! |---|---|
//! | `0` | the slot was never written |
//! | `2s + 1` (odd) | sequence `s` is being written |
//! | `2s + 2` (even, > 0) | sequence `s` is complete |
//!
//! Stamps of one slot only grow (its writer writes increasing sequences), so
//! a reader that saw `2s + 2` and later sees anything else knows `s` was
//! overwritten. `s` must stay below [`Stamp::MAX_SEQUENCE`] so `2s + 2`
//! does not overflow: at 10⁹ messages a second that is 146 years.

/// A snapshot of a slot's stamp: which sequence it holds and whether that
/// sequence is still being written.
///
/// ```
/// use ring_core::{ReadResult, Slot};
///
/// let slot = Slot::<u32>::new();
/// // SAFETY: this thread is the slot's only writer and sequences grow.
/// unsafe { slot.write(3, 30) };
/// // SAFETY: as above.
/// unsafe { slot.write(7, 70) };
/// match slot.try_read(3) {
///     ReadResult::Overwritten { stamp } => {
///         assert_eq!(stamp.sequence(), Some(7));
///         assert!(!stamp.is_writing());
///     }
///     other => panic!("expected an overwrite, got {other:?}"),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(u64);

impl Stamp {
    /// The stamp of a slot that was never written.
    ///
    /// ```
    /// assert_eq!(ring_core::Stamp::EMPTY.sequence(), None);
    /// ```
    pub const EMPTY: Stamp = Stamp(0);

    /// The largest sequence number a slot accepts (`2⁶³ − 2`), so that its
    /// completed stamp `2s + 2` fits in a `u64`.
    ///
    /// ```
    /// assert_eq!(ring_core::Stamp::MAX_SEQUENCE, (1 << 63) - 2);
    /// ```
    pub const MAX_SEQUENCE: u64 = (u64::MAX - 2) / 2;

    /// The stamp a slot carries while sequence `seq` is being written.
    #[inline(always)]
    pub(crate) const fn writing(seq: u64) -> Stamp {
        debug_assert!(seq <= Self::MAX_SEQUENCE);
        Stamp(seq * 2 + 1)
    }

    /// The stamp a slot carries once sequence `seq` is complete.
    #[inline(always)]
    pub(crate) const fn done(seq: u64) -> Stamp {
        debug_assert!(seq <= Self::MAX_SEQUENCE);
        Stamp(seq * 2 + 2)
    }

    #[inline(always)]
    pub(crate) const fn from_raw(raw: u64) -> Stamp {
        Stamp(raw)
    }

    #[inline(always)]
    pub(crate) const fn into_raw(self) -> u64 {
        self.0
    }

    /// The sequence this stamp belongs to (being written or complete), or
    /// `None` for a never-written slot.
    ///
    /// ```
    /// use ring_core::Slot;
    ///
    /// let slot = Slot::<u8>::new();
    /// assert_eq!(slot.stamp().sequence(), None);
    /// // SAFETY: single writer, first write.
    /// unsafe { slot.write(41, 1) };
    /// assert_eq!(slot.stamp().sequence(), Some(41));
    /// ```
    #[inline]
    pub const fn sequence(self) -> Option<u64> {
        if self.0 == 0 {
            None
        } else {
            Some((self.0 - 1) / 2)
        }
    }

    /// Whether a write is in progress (the stamp is odd).
    ///
    /// ```
    /// use ring_core::Slot;
    ///
    /// let slot = Slot::<u8>::new();
    /// // SAFETY: single writer, first write.
    /// unsafe { slot.write(0, 1) };
    /// assert!(!slot.stamp().is_writing());
    /// ```
    #[inline]
    pub const fn is_writing(self) -> bool {
        self.0 & 1 == 1
    }

    /// Whether sequence `seq` is complete in this stamp.
    ///
    /// ```
    /// use ring_core::Slot;
    ///
    /// let slot = Slot::<u8>::new();
    /// // SAFETY: single writer, first write.
    /// unsafe { slot.write(5, 1) };
    /// assert!(slot.stamp().is_done(5));
    /// assert!(!slot.stamp().is_done(4));
    /// ```
    #[inline]
    pub const fn is_done(self, seq: u64) -> bool {
        seq <= Self::MAX_SEQUENCE && self.0 == seq * 2 + 2
    }
}

#[cfg(test)]
mod tests {
    use super::Stamp;

    #[test]
    fn encoding_round_trips() {
        for seq in [0, 1, 2, 1000, Stamp::MAX_SEQUENCE] {
            let w = Stamp::writing(seq);
            let d = Stamp::done(seq);
            assert!(w.is_writing());
            assert!(!d.is_writing());
            assert_eq!(w.sequence(), Some(seq));
            assert_eq!(d.sequence(), Some(seq));
            assert!(d.is_done(seq));
            assert!(!w.is_done(seq));
            assert!(w < d);
            assert_eq!(Stamp::from_raw(d.into_raw()), d);
        }
        assert_eq!(Stamp::done(Stamp::MAX_SEQUENCE).into_raw(), u64::MAX - 1);
        assert!(Stamp::done(0) < Stamp::writing(1));
    }

    #[test]
    fn empty_is_no_sequence() {
        assert_eq!(Stamp::EMPTY.sequence(), None);
        assert!(!Stamp::EMPTY.is_writing());
        assert!(!Stamp::EMPTY.is_done(0));
        assert!(!Stamp::done(3).is_done(u64::MAX));
    }
}
