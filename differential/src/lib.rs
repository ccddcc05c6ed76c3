//! Differential tests of seqcast against the crates it replaces: the same
//! random operation sequences run against ours and the anchor, and every
//! result, count and `Debug`/`Display` string is compared. The tests are
//! in `tests/`; this library holds the small seeded generator they share.

/// A seeded xorshift64* generator: the same seed replays the same
/// operation sequence, so a failure names the seed that reproduces it.
///
/// ```
/// let mut a = seqcast_differential::Rng::new(7);
/// let mut b = seqcast_differential::Rng::new(7);
/// assert_eq!(a.below(100), b.below(100));
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value; 0 is mapped to a non-zero state).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
