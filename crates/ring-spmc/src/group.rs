//! [`SubscriberGroup`]: `N` logical subscribers behind one cursor.

use core::fmt;
use core::ops::{Deref, DerefMut};

use crate::subscriber::Subscriber;

/// `N` logical subscribers reading the same values with one seqlock read
/// and one cursor: photon-ring 2's `SubscriberGroup` (3.0 removed it). It derefs to a
/// [`Subscriber`], so the whole receive surface (`try_recv`, `recv`,
/// `recv_with`, `recv_blocking`, `drain`, counters, …) is available.
///
/// ```
/// let (mut p, subs) = ring_spmc::channel::<u32>(16);
/// let mut g = subs.subscribe_group::<3>();
/// p.publish_batch(&[1, 2]);
/// assert_eq!(g.drain().collect::<Vec<_>>(), [1, 2]);
/// assert_eq!(g.total_received(), 2);
/// ```
pub struct SubscriberGroup<T: Copy + Send, const N: usize> {
    inner: Subscriber<T>,
}

impl<T: Copy + Send, const N: usize> SubscriberGroup<T, N> {
    pub(crate) fn new(inner: Subscriber<T>) -> Self {
        SubscriberGroup { inner }
    }

    /// How many of the `N` logical subscribers are at the group's cursor:
    /// always `N`, since they share it.
    ///
    /// ```
    /// let (_p, subs) = ring_spmc::channel::<u8>(8);
    /// assert_eq!(subs.subscribe_group::<5>().aligned_count(), 5);
    /// ```
    #[inline]
    pub fn aligned_count(&self) -> usize {
        N
    }

    /// The group's size, `N`.
    ///
    /// ```
    /// let (_p, subs) = ring_spmc::channel::<u8>(8);
    /// assert_eq!(subs.subscribe_group::<2>().size(), 2);
    /// ```
    #[inline]
    pub fn size(&self) -> usize {
        N
    }

    /// The group's single subscriber.
    ///
    /// ```
    /// let (_p, subs) = ring_spmc::channel::<u8>(8);
    /// let s = subs.subscribe_group::<2>().into_inner();
    /// assert_eq!(s.cursor(), 0);
    /// ```
    pub fn into_inner(self) -> Subscriber<T> {
        self.inner
    }
}

impl<T: Copy + Send, const N: usize> Deref for SubscriberGroup<T, N> {
    type Target = Subscriber<T>;

    fn deref(&self) -> &Subscriber<T> {
        &self.inner
    }
}

impl<T: Copy + Send, const N: usize> DerefMut for SubscriberGroup<T, N> {
    fn deref_mut(&mut self) -> &mut Subscriber<T> {
        &mut self.inner
    }
}

impl<T: Copy + Send, const N: usize> fmt::Debug for SubscriberGroup<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriberGroup")
            .field("size", &N)
            .field("inner", &self.inner)
            .finish()
    }
}
