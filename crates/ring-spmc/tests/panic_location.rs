//! A closed-channel panic of the spinning receives points at the caller's
//! line, not inside ring-spmc (`#[track_caller]`). One test per binary: it
//! installs a panic hook.

use std::sync::{Arc, Mutex};

use ring_spmc::{DependencyBarrier, WaitStrategy, channel};

/// Issue 9: `recv()` on a closed channel panicked at `subscriber.rs`.
#[test]
fn closed_channel_panics_point_at_the_caller() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let hook_seen = Arc::clone(&seen);
    std::panic::set_hook(Box::new(move |info| {
        let file = info
            .location()
            .map(|l| l.file().to_owned())
            .unwrap_or_default();
        hook_seen.lock().unwrap().push(file);
    }));
    let (p, subs) = channel::<u64>(4);
    let mut a = subs.subscribe();
    let mut b = subs.subscribe();
    let mut c = subs.subscribe_tracked();
    let barrier = DependencyBarrier::from_subscribers(&[&c]);
    drop(p);
    let r1 = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.recv()));
    let r2 = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        b.recv_with(WaitStrategy::BusySpin)
    }));
    let r3 = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.recv_gated(&barrier)));
    let _ = std::panic::take_hook();
    assert!(r1.is_err() && r2.is_err() && r3.is_err());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    for file in seen.iter() {
        assert!(file.ends_with("panic_location.rs"), "panicked at {file}");
    }
}
