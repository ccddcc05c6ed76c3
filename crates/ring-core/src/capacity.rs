//! Capacity and sequence arithmetic, in one place.
//!
//! A ring's capacity is a power of two so that a sequence's slot index is
//! `seq & mask` (one AND, no division). Sequences are `u64` and never wrap in
//! practice (2⁶³ messages); indices are `usize`.

use core::fmt;

/// A validated ring capacity: a power of two in
/// [`Capacity::MIN`]`..=`[`Capacity::MAX`].
///
/// ```
/// use ring_core::Capacity;
///
/// let cap = Capacity::new(8);
/// assert_eq!(cap.get(), 8);
/// assert_eq!(cap.index(13), 5);
/// assert!(Capacity::try_new(6).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capacity {
    /// `capacity - 1`; a power of two minus one, at least 1.
    mask: usize,
}

/// Why a capacity was refused.
///
/// ```
/// use ring_core::{Capacity, CapacityError};
///
/// assert_eq!(Capacity::try_new(1), Err(CapacityError::TooSmall(1)));
/// assert_eq!(Capacity::try_new(12), Err(CapacityError::NotPowerOfTwo(12)));
/// assert_eq!(
///     Capacity::try_new(12).unwrap_err().to_string(),
///     "ring capacity must be a power of two, got 12 (try 8 or 16)"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapacityError {
    /// Below [`Capacity::MIN`].
    TooSmall(usize),
    /// Not a power of two.
    NotPowerOfTwo(usize),
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
            CapacityError::NotPowerOfTwo(n) => {
                let below = 1_usize << (usize::BITS - 1 - n.leading_zeros());
                write!(
                    f,
                    "ring capacity must be a power of two, got {n} (try {below} or {})",
                    below << 1
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
    /// [`CapacityError`] if `capacity` is below [`MIN`](Capacity::MIN),
    /// above [`MAX`](Capacity::MAX), or not a power of two.
    ///
    /// ```
    /// use ring_core::Capacity;
    ///
    /// assert_eq!(Capacity::try_new(1024).map(Capacity::get), Ok(1024));
    /// assert!(Capacity::try_new(0).is_err());
    /// ```
    pub const fn try_new(capacity: usize) -> Result<Capacity, CapacityError> {
        if capacity < Self::MIN {
            Err(CapacityError::TooSmall(capacity))
        } else if capacity > Self::MAX {
            Err(CapacityError::TooLarge(capacity))
        } else if !capacity.is_power_of_two() {
            Err(CapacityError::NotPowerOfTwo(capacity))
        } else {
            Ok(Capacity { mask: capacity - 1 })
        }
    }

    /// Validates `capacity`, panicking on a bad one.
    ///
    /// # Panics
    ///
    /// At the caller's location, with the [`CapacityError`] message, if
    /// [`try_new`](Capacity::try_new) refuses `capacity`.
    ///
    /// ```should_panic
    /// // panics: "ring capacity must be a power of two, got 1000 (try 512 or 1024)"
    /// ring_core::Capacity::new(1000);
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
    /// ```
    #[inline(always)]
    pub const fn get(self) -> usize {
        self.mask + 1
    }

    /// `capacity - 1`, the index mask.
    ///
    /// ```
    /// assert_eq!(ring_core::Capacity::new(64).mask(), 63);
    /// ```
    #[inline(always)]
    pub const fn mask(self) -> usize {
        self.mask
    }

    /// The slot index of sequence `seq`: `seq mod capacity`.
    ///
    /// ```
    /// let cap = ring_core::Capacity::new(4);
    /// assert_eq!([0, 3, 4, 9].map(|s| cap.index(s)), [0, 3, 0, 1]);
    /// ```
    #[inline(always)]
    pub const fn index(self, seq: u64) -> usize {
        // Truncating to usize keeps the low bits, which is all the mask uses
        // (`mask < 2^(usize::BITS - 2)`).
        (seq as usize) & self.mask
    }

    /// The oldest sequence a ring still holds when `head` is the next
    /// sequence to be written (so `head` values were written, `0..head`).
    ///
    /// ```
    /// let cap = ring_core::Capacity::new(4);
    /// assert_eq!(cap.oldest_retained(3), 0);
    /// assert_eq!(cap.oldest_retained(10), 6);
    /// ```
    #[inline]
    pub const fn oldest_retained(self, head: u64) -> u64 {
        head.saturating_sub(self.get() as u64)
    }

    /// How many values a reader whose next sequence is `cursor` has lost
    /// when `head` is the next sequence to be written: zero while `cursor`
    /// is still retained, else the distance to the oldest retained value.
    ///
    /// ```
    /// let cap = ring_core::Capacity::new(4);
    /// assert_eq!(cap.lag(6, 10), 0);
    /// assert_eq!(cap.lag(2, 10), 4);
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
    fn accepts_powers_of_two_in_range() {
        let mut n = Capacity::MIN;
        while n <= Capacity::MAX {
            let cap = Capacity::try_new(n).unwrap();
            assert_eq!(cap.get(), n);
            assert_eq!(cap.mask(), n - 1);
            if n == Capacity::MAX {
                break;
            }
            n <<= 1;
        }
    }

    #[test]
    fn refuses_with_the_right_reason() {
        assert_eq!(Capacity::try_new(0), Err(CapacityError::TooSmall(0)));
        assert_eq!(Capacity::try_new(1), Err(CapacityError::TooSmall(1)));
        assert_eq!(Capacity::try_new(3), Err(CapacityError::NotPowerOfTwo(3)));
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
        assert_eq!(
            CapacityError::NotPowerOfTwo(3).to_string(),
            "ring capacity must be a power of two, got 3 (try 2 or 4)"
        );
        assert!(
            CapacityError::TooLarge(usize::MAX)
                .to_string()
                .contains("at most")
        );
    }

    #[test]
    #[should_panic(expected = "ring capacity must be a power of two, got 100 (try 64 or 128)")]
    fn new_panics_with_the_message() {
        let _ = Capacity::new(100);
    }

    #[test]
    fn index_and_lag_arithmetic() {
        let cap = Capacity::new(8);
        for seq in 0..64_u64 {
            assert_eq!(cap.index(seq), (seq % 8) as usize);
        }
        assert_eq!(cap.index(u64::MAX), 7);
        assert_eq!(cap.oldest_retained(0), 0);
        assert_eq!(cap.oldest_retained(8), 0);
        assert_eq!(cap.oldest_retained(9), 1);
        assert_eq!(cap.lag(0, 8), 0);
        assert_eq!(cap.lag(0, 9), 1);
        assert_eq!(cap.lag(5, 100), 87);
        assert_eq!(cap.lag(100, 100), 0);
    }
}
