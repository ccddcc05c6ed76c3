//! photon-ring's `Pod` marker, so code written against photon-ring that
//! names it (`T: Pod` bounds, `unsafe impl Pod for Quote {}`) compiles
//! unchanged.

/// photon-ring 3's marker for payloads that any bit pattern of their size
/// is a valid value of, with no padding bytes.
///
/// **The rings here do not need it.** They accept any `T: Copy + Send`
/// (`bool`, enums, `Option`, structs with padding): a slot is read as
/// `MaybeUninit<T>` words with atomic loads and only turned into a `T`
/// once its stamp shows the copy was not torn (ring-core's `Slot`). The
/// trait exists so that a photon-ring user's bounds and impls compile
/// after changing only the `use` line; it has the same supertraits and the
/// same impls as photon-ring's (the primitive numbers, arrays of `Pod`,
/// `()` and one-element tuples).
///
/// ```
/// use ring_core::Pod;
///
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// struct Quote {
///     price: f64,
///     volume: u32,
///     _pad: u32,
/// }
/// // SAFETY: `repr(C)`, plain numbers, no implicit padding: photon-ring's
/// // contract, kept so the code stays valid for photon-ring too.
/// unsafe impl Pod for Quote {}
///
/// fn publishable<T: Pod>() -> usize {
///     core::mem::size_of::<T>()
/// }
/// assert_eq!(publishable::<Quote>(), 16);
/// assert_eq!(publishable::<[u64; 4]>(), 32);
/// ```
///
/// # Safety
///
/// photon-ring's contract: every bit pattern of `size_of::<T>()` bytes is
/// a valid `T`, and `T` has no padding bytes. Nothing in this workspace
/// relies on it; it is kept so that an impl written here is also sound
/// with photon-ring.
pub unsafe trait Pod: Copy + Send + 'static {}

macro_rules! pod {
    ($($t:ty),* $(,)?) => {
        $(
            // SAFETY: a primitive number: every bit pattern is a value, no
            // padding (photon-ring implements `Pod` for the same types).
            unsafe impl Pod for $t {}
        )*
    };
}

pod!(
    u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, f32, f64, usize, isize
);

// SAFETY: an array of `Pod` elements has no padding between them (its
// stride is the element's size) and every element pattern is valid.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
// SAFETY: zero-sized: the one (empty) bit pattern is its value.
unsafe impl Pod for () {}
// SAFETY: a one-element tuple has its element's layout.
unsafe impl<A: Pod> Pod for (A,) {}

#[cfg(test)]
mod tests {
    use super::Pod;

    fn size<T: Pod>(_: T) -> usize {
        core::mem::size_of::<T>()
    }

    #[test]
    fn photon_rings_impls_are_here() {
        assert_eq!(size(1u8) + size(1i128) + size(1.0f64), 25);
        assert_eq!(size([1u32; 3]) + size(()) + size((1u16,)), 14);
        assert_eq!(size(1usize), size(1isize));
    }
}
