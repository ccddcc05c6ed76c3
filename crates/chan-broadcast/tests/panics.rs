//! Panics that tokio users rely on: the message text and the caller's line
//! (the panic hook's location). One test, so that the process-wide panic
//! hook it installs sees no other test's panics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use chan_broadcast::{channel, channel_lossless};

/// Runs `f`, which must panic; returns the message and the hook's line.
fn panic_of(f: impl FnOnce()) -> (String, String, u32) {
    let seen = Arc::new(Mutex::new(None));
    let hook_seen = Arc::clone(&seen);
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let loc = info.location().expect("a location");
        *hook_seen.lock().unwrap() = Some((loc.file().to_owned(), loc.line()));
    }));
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("it must panic");
    std::panic::set_hook(prev);
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    let (file, line) = seen.lock().unwrap().take().expect("the hook ran");
    (msg, file, line)
}

/// tokio's text (tokio 1.54, `future/block_on.rs`).
const BLOCK_MSG: &str = "Cannot block the current thread from within a runtime. This happens \
because a function attempted to block the current thread while the thread is being used to \
drive asynchronous tasks.";

#[test]
fn panics_carry_tokios_text_at_the_callers_line() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let call = std::cell::Cell::new(0);
    let (_tx, mut rx) = channel::<u8>(1);
    let (msg, file, line) = panic_of(|| {
        rt.block_on(async {
            call.set(line!() + 1);
            let _ = rx.blocking_recv(); // the caller's line
        })
    });
    assert_eq!(msg, BLOCK_MSG);
    assert!(
        file.ends_with("panics.rs"),
        "blocking_recv panicked in {file}"
    );
    assert_eq!(line, call.get());

    let (tx, _rx) = channel_lossless::<u8>(1);
    let (msg, file, line) = panic_of(|| {
        rt.block_on(async {
            call.set(line!() + 1);
            let _ = tx.blocking_send(1); // the caller's line
        })
    });
    assert_eq!(msg, BLOCK_MSG);
    assert!(
        file.ends_with("panics.rs"),
        "blocking_send panicked in {file}"
    );
    assert_eq!(line, call.get());

    // The largest capacity the size check accepts cannot be allocated: the
    // promised panic at the caller's line, not "capacity overflow" in alloc.
    let call = line!() + 1;
    let (msg, file, line) = panic_of(|| drop(channel::<u64>(usize::MAX / 2)));
    assert!(
        msg.starts_with("broadcast channel: cannot allocate"),
        "{msg}"
    );
    assert!(file.ends_with("panics.rs"), "channel panicked in {file}");
    assert_eq!(line, call);
    let (msg, file, _) = panic_of(|| drop(channel_lossless::<u64>(usize::MAX / 4)));
    assert!(
        msg.starts_with("broadcast channel: cannot allocate"),
        "{msg}"
    );
    assert!(
        file.ends_with("panics.rs"),
        "channel_lossless panicked in {file}"
    );

    let (msg, file, _) = panic_of(|| drop(channel::<u8>(0)));
    assert_eq!(msg, "broadcast channel capacity cannot be zero");
    assert!(file.ends_with("panics.rs"), "{file}");
}
