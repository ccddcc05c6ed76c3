//! Constructor validation: typed errors from the `try_` constructors,
//! precise panics at the caller's location from the plain ones.

use ring_core::{Capacity, CapacityError};
use ring_spmc::{ChannelError, channel, channel_bounded, try_channel, try_channel_bounded};

#[test]
fn try_constructors_return_typed_errors() {
    assert_eq!(
        try_channel::<u8>(0).unwrap_err(),
        ChannelError::Capacity(CapacityError::TooSmall(0))
    );
    assert_eq!(
        try_channel::<u8>(1).unwrap_err(),
        ChannelError::Capacity(CapacityError::TooSmall(1))
    );
    assert_eq!(
        try_channel::<u8>(Capacity::MAX + 1).unwrap_err(),
        ChannelError::Capacity(CapacityError::TooLarge(Capacity::MAX + 1))
    );
    assert_eq!(
        try_channel_bounded::<u8>(8, 8).unwrap_err(),
        ChannelError::Watermark {
            watermark: 8,
            capacity: 8
        }
    );
    assert_eq!(
        try_channel_bounded::<u8>(1, 0).unwrap_err(),
        ChannelError::Capacity(CapacityError::TooSmall(1)),
        "the capacity is checked first"
    );
    assert!(try_channel::<u8>(2).is_ok());
    assert!(try_channel_bounded::<u8>(5, 4).is_ok());
}

#[test]
fn error_messages_say_what_to_change() {
    assert_eq!(
        try_channel::<u8>(1).unwrap_err().to_string(),
        "ring capacity must be at least 2, got 1"
    );
    assert_eq!(
        try_channel_bounded::<u8>(4, 9).unwrap_err().to_string(),
        "watermark must be less than capacity (watermark 9, capacity 4)"
    );
}

#[test]
fn plain_constructors_panic_at_the_callers_line() {
    use std::sync::Mutex;
    static WHERE: Mutex<Option<(String, u32)>> = Mutex::new(None);
    // The only test of this binary that panics, so the hook sees only it.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Some(loc) = info.location() {
            *WHERE.lock().unwrap() = Some((loc.file().to_owned(), loc.line()));
        }
    }));
    let line = line!() + 1;
    let err = std::panic::catch_unwind(|| channel::<u8>(0)).unwrap_err();
    let at = WHERE.lock().unwrap().take();
    let err2 = std::panic::catch_unwind(|| channel_bounded::<u8>(4, 4)).unwrap_err();
    std::panic::set_hook(previous);
    let msg = err.downcast_ref::<String>().unwrap();
    assert_eq!(
        msg,
        "ring_spmc::channel: ring capacity must be at least 2, got 0"
    );
    assert_eq!(
        at,
        Some((file!().to_owned(), line)),
        "reported at the caller"
    );
    let msg = err2.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("watermark must be less than capacity (watermark 4, capacity 4)"),
        "{msg}"
    );
}

/// Issue 9: `try_channel` reports a ring too large for the address space,
/// and an allocation the allocator refuses, as errors (they panicked in
/// `shared.rs`, "exceeds isize::MAX bytes", and aborted the process).
#[test]
#[cfg_attr(miri, ignore = "Miri reports huge allocations as resource exhaustion")]
fn oversized_and_unallocatable_rings_are_errors() {
    use ring_core::AllocError;

    let Err(ChannelError::Alloc(AllocError::TooLarge { capacity, .. })) =
        try_channel::<u64>(1 << (usize::BITS - 2))
    else {
        panic!("expected AllocError::TooLarge")
    };
    assert_eq!(capacity, 1 << (usize::BITS - 2));
    // 2^40 slots of 1 MiB: 2^60 bytes, below isize::MAX on 64-bit targets,
    // far beyond any address space the allocator can map.
    #[cfg(target_pointer_width = "64")]
    {
        let err = try_channel_bounded::<[u8; 1 << 20]>(1 << 40, 0).unwrap_err();
        assert!(
            matches!(err, ChannelError::Alloc(AllocError::Failed { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains("allocator refused"));
    }
}
