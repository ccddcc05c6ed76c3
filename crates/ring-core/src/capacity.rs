//! Capacity and sequence arithmetic, in one place.
//!
//! A ring holds exactly the capacity it was asked for, any value ≥ 2, as
//! photon-ring 3.0 does. A sequence's slot is `seq mod capacity`:
//!
//! * a power of two indexes with `seq & mask` (one AND);
//! * any other capacity uses Lemire's fastmod with a reciprocal precomputed
//!   at construction, `M = floor(2^64 / capacity)`: `q = mulhi(seq, M)`,
//!   `r = seq - q * capacity`, and one conditional subtraction. No division
//!   on the hot path. (D. Lemire, O. Kaser, N. Kurz, "Faster Remainder by
//!   Direct Computation", 2019, <https://arxiv.org/abs/1902.01961>; the
//!   same scheme as photon-ring's `RingIndex`.) Why one subtraction
//!   suffices: `M > 2^64 / c - 1`, so `seq / c - seq * M / 2^64 < seq / 2^64
//!   < 1`, hence `q ≥ floor(seq / c) - 1` and `r < 2c`.
//!
//! Sequences are `u64` and never wrap in practice (2⁶³ messages); indices
//! are `usize`. Lag and retention arithmetic (`oldest_retained`, `lag`) is
//! in terms of the exact capacity, for every ring built on this crate.

use core::fmt;

/// A validated ring capacity: any value in
/// [`Capacity::MIN`]`..=`[`Capacity::MAX`], kept exactly.
///
/// ```
/// use ring_core::Capacity;
///
/// let cap = Capacity::new(8);
/// assert_eq!(cap.get(), 8);
/// assert_eq!(cap.index(13), 5);
/// let odd = Capacity::new(6);
/// assert_eq!(odd.get(), 6);
/// assert_eq!(odd.index(13), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capacity {
    /// The number of slots, at least 2.
    capacity: u64,
    /// `capacity - 1` for a power of two, else 0 (which no power-of-two
    /// capacity ≥ 2 has): the AND path is taken exactly when it is non-zero.
    mask: u64,
    /// `floor(2^64 / capacity)` for the fastmod path (module docs); unused
    /// for a power of two.
    reciprocal: u64,
}

/// Why a capacity was refused.
///
/// ```
/// use ring_core::{Capacity, CapacityError};
///
/// assert_eq!(Capacity::try_new(1), Err(CapacityError::TooSmall(1)));
/// assert_eq!(
///     Capacity::try_new(1).unwrap_err().to_string(),
///     "ring capacity must be at least 2, got 1"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapacityError {
    /// Below [`Capacity::MIN`].
    TooSmall(usize),
    /// Above [`Capacity::MAX`].
    TooLarge(usize),
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CapacityError::TooSmall(n) => {
                write!(
                    f,
                    "ring capacity must be at least {}, got {n}",
                    Capacity::MIN
                )
            }
            CapacityError::TooLarge(n) => {
                write!(
                    f,
                    "ring capacity must be at most {}, got {n}",
                    Capacity::MAX
                )
            }
        }
    }
}

impl core::error::Error for CapacityError {}

impl Capacity {
    /// The smallest accepted capacity. One slot cannot hold a value while
    /// the next is written, so a ring needs two.
    ///
    /// ```
    /// assert_eq!(ring_core::Capacity::MIN, 2);
    /// ```
    pub const MIN: usize = 2;

    /// The largest accepted capacity: `2^(usize::BITS - 2)`, so index
    /// arithmetic and `capacity * size_of::<Slot>()` checks never overflow
    /// before the allocator refuses.
    ///
    /// ```
    /// assert!(ring_core::Capacity::MAX.is_power_of_two());
    /// ```
    pub const MAX: usize = 1 << (usize::BITS - 2);

    /// Validates `capacity`.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `capacity` is below [`MIN`](Capacity::MIN) or
    /// above [`MAX`](Capacity::MAX).
    ///
    /// ```
    /// use ring_core::Capacity;
    ///
    /// assert_eq!(Capacity::try_new(1024).map(Capacity::get), Ok(1024));
    /// assert_eq!(Capacity::try_new(1000).map(Capacity::get), Ok(1000));
    /// assert!(Capacity::try_new(0).is_err());
    /// ```
    pub const fn try_new(capacity: usize) -> Result<Capacity, CapacityError> {
        if capacity < Self::MIN {
            return Err(CapacityError::TooSmall(capacity));
        }
        if capacity > Self::MAX {
            return Err(CapacityError::TooLarge(capacity));
        }
        let c = capacity as u64;
        Ok(if capacity.is_power_of_two() {
            Capacity {
                capacity: c,
                mask: c - 1,
                reciprocal: 0,
            }
        } else {
            Capacity {
                capacity: c,
                mask: 0,
                // `c >= 3` here, so the quotient fits in a u64.
                reciprocal: ((1_u128 << 64) / c as u128) as u64,
            }
        })
    }

    /// Validates `capacity`, panicking on a bad one.
    ///
    /// # Panics
    ///
    /// At the caller's location, with the [`CapacityError`] message, if
    /// [`try_new`](Capacity::try_new) refuses `capacity`.
    ///
    /// ```should_panic
    /// // panics: "ring capacity must be at least 2, got 1"
    /// ring_core::Capacity::new(1);
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Capacity {
        match Self::try_new(capacity) {
            Ok(cap) => cap,
            Err(e) => panic!("{e}"),
        }
    }

    /// The number of slots.
    ///
    /// ```
    /// assert_eq!(ring_core::Capacity::new(64).get(), 64);
    /// assert_eq!(ring_core::Capacity::new(5).get(), 5);
    /// ```
    #[inline(always)]
    pub const fn get(self) -> usize {
        self.capacity as usize
    }

    /// Whether the capacity is a power of two (indexing is one AND).
    ///
    /// ```
    /// assert!(ring_core::Capacity::new(64).is_power_of_two());
    /// assert!(!ring_core::Capacity::new(48).is_power_of_two());
    /// ```
    #[inline(always)]
    pub const fn is_power_of_two(self) -> bool {
        self.mask != 0
    }

    /// `capacity - 1`, the index mask, for a power-of-two capacity; `None`
    /// for any other.
    ///
    /// ```
    /// assert_eq!(ring_core::Capacity::new(64).mask(), Some(63));
    /// assert_eq!(ring_core::Capacity::new(6).mask(), None);
    /// ```
    #[inline(always)]
    pub const fn mask(self) -> Option<usize> {
        if self.mask != 0 {
            Some(self.mask as usize)
        } else {
            None
        }
    }

    /// The slot index of sequence `seq`: `seq mod capacity`.
    ///
    /// ```
    /// let cap = ring_core::Capacity::new(4);
    /// assert_eq!([0, 3, 4, 9].map(|s| cap.index(s)), [0, 3, 0, 1]);
    /// let cap = ring_core::Capacity::new(5);
    /// assert_eq!([0, 4, 5, 13, u64::MAX].map(|s| cap.index(s)), [0, 4, 0, 3, 0]);
    /// ```
    #[inline(always)]
    pub const fn index(self, seq: u64) -> usize {
        if self.mask != 0 {
            (seq & self.mask) as usize
        } else {
            self.fastmod(seq)
        }
    }

    /// `seq mod capacity` by Lemire's fastmod (module docs).
    #[inline(always)]
    const fn fastmod(self, seq: u64) -> usize {
        let q = ((seq as u128 * self.reciprocal as u128) >> 64) as u64;
        let mut r = seq.wrapping_sub(q.wrapping_mul(self.capacity));
        if r >= self.capacity {
            r -= self.capacity;
        }
        debug_assert!(r < self.capacity);
        r as usize
    }

    /// The oldest sequence a ring still holds when `head` is the next
    /// sequence to be written (so `head` values were written, `0..head`).
    ///
    /// ```
    /// let cap = ring_core::Capacity::new(4);
    /// assert_eq!(cap.oldest_retained(3), 0);
    /// assert_eq!(cap.oldest_retained(10), 6);
    /// assert_eq!(ring_core::Capacity::new(5).oldest_retained(13), 8);
    /// ```
    #[inline]
    pub const fn oldest_retained(self, head: u64) -> u64 {
        head.saturating_sub(self.capacity)
    }

    /// How many values a reader whose next sequence is `cursor` has lost
    /// when `head` is the next sequence to be written: zero while `cursor`
    /// is still retained, else the distance to the oldest retained value.
    ///
    /// ```
    /// let cap = ring_core::Capacity::new(4);
    /// assert_eq!(cap.lag(6, 10), 0);
    /// assert_eq!(cap.lag(2, 10), 4);
    /// // photon-ring's example: 13 values into 5 slots, a reader at 0.
    /// assert_eq!(ring_core::Capacity::new(5).lag(0, 13), 8);
    /// ```
    #[inline]
    pub const fn lag(self, cursor: u64, head: u64) -> u64 {
        self.oldest_retained(head).saturating_sub(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::{Capacity, CapacityError};
    use alloc::string::ToString;

    #[test]
    fn accepts_every_capacity_in_range_exactly() {
        for n in (Capacity::MIN..600).chain([Capacity::MAX - 1, Capacity::MAX]) {
            let cap = Capacity::try_new(n).unwrap();
            assert_eq!(cap.get(), n);
            assert_eq!(cap.is_power_of_two(), n.is_power_of_two());
            assert_eq!(cap.mask(), n.is_power_of_two().then(|| n - 1));
        }
    }

    #[test]
    fn refuses_with_the_right_reason() {
        assert_eq!(Capacity::try_new(0), Err(CapacityError::TooSmall(0)));
        assert_eq!(Capacity::try_new(1), Err(CapacityError::TooSmall(1)));
        assert_eq!(
            Capacity::try_new(Capacity::MAX + 1),
            Err(CapacityError::TooLarge(Capacity::MAX + 1))
        );
        assert_eq!(
            Capacity::try_new(Capacity::MAX << 1),
            Err(CapacityError::TooLarge(Capacity::MAX << 1))
        );
    }

    #[test]
    fn messages_name_the_value() {
        assert_eq!(
            CapacityError::TooSmall(1).to_string(),
            "ring capacity must be at least 2, got 1"
        );
        assert!(
            CapacityError::TooLarge(usize::MAX)
                .to_string()
                .contains("at most")
        );
    }

    #[test]
    #[should_panic(expected = "ring capacity must be at least 2, got 0")]
    fn new_panics_with_the_message() {
        let _ = Capacity::new(0);
    }

    /// fastmod agrees with `%` for every capacity below 600 on dense and
    /// edge sequences, and for large odd capacities near the top of `u64`.
    #[test]
    fn index_is_seq_mod_capacity() {
        let edges = [
            u64::MAX,
            u64::MAX - 1,
            u64::MAX / 2,
            u64::MAX / 3,
            1 << 63,
            (1 << 63) - 1,
            1 << 32,
            (1 << 32) - 1,
        ];
        let iters = if cfg!(miri) { 20 } else { 2_000 };
        for c in (Capacity::MIN..if cfg!(miri) { 40 } else { 600 })
            .chain([1_000_003, 3 << 20, (1 << 31) - 1, Capacity::MAX - 1])
            // `(1 << 31) - 1` is above `MAX` on 32-bit targets.
            .filter(|&c| c <= Capacity::MAX)
        {
            let cap = Capacity::new(c);
            for seq in (0..iters).chain(edges) {
                assert_eq!(cap.index(seq), (seq % c as u64) as usize, "{seq} mod {c}");
            }
        }
    }

    #[test]
    fn lag_and_retention_arithmetic() {
        let cap = Capacity::new(8);
        assert_eq!(cap.index(u64::MAX), 7);
        assert_eq!(cap.oldest_retained(0), 0);
        assert_eq!(cap.oldest_retained(8), 0);
        assert_eq!(cap.oldest_retained(9), 1);
        assert_eq!(cap.lag(0, 8), 0);
        assert_eq!(cap.lag(0, 9), 1);
        assert_eq!(cap.lag(5, 100), 87);
        assert_eq!(cap.lag(100, 100), 0);
        // photon-ring 3.0's numbers: 13 values into channel(5).
        let five = Capacity::new(5);
        assert_eq!(five.oldest_retained(13), 8);
        assert_eq!(five.lag(0, 13), 8);
        assert_eq!(five.lag(8, 13), 0);
    }
}
