//! The hostile review of the slot lock word (`src/slot.rs`): each test
//! drives the real types on real threads, bounded in time (a worker
//! thread and `recv_timeout`; a hang is a failure, the worker is left
//! blocked, not spinning), at most two threads busy at once. Where tokio
//! behaves differently from what chan-watch promises, it is run side by
//! side.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

/// Runs `f` on a worker thread; `Err(())` if it does not finish within
/// `limit`.
fn within<R: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ()> {
    let (done, wait) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(f());
    });
    wait.recv_timeout(limit).map_err(|_| ())
}

/// A value whose `Debug` panics and whose drops are counted.
struct PanicsInDebug(u32, Arc<AtomicUsize>);

impl fmt::Debug for PanicsInDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of the value")
    }
}

impl Drop for PanicsInDebug {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

/// A handle's `Debug` read-locks the value to print it; if the value's
/// `Debug` panics, the unwind must release that lock, as std's read guard
/// (so tokio's) does. Before the fix chan-watch released it only after
/// printing: the lock leaked, every later `send_modify`, `send_replace`
/// and `send_if_modified` waited for ever, and the value a later `send`
/// replaced was never dropped. Side by side with tokio 1.54.
#[test]
fn a_panicking_value_debug_releases_the_handles_read_lock() {
    macro_rules! run {
        ($channel:path) => {{
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = $channel(PanicsInDebug(0, Arc::clone(&drops)));
            let printed = catch_unwind(AssertUnwindSafe(|| format!("{rx:?}")));
            assert!(printed.is_err(), "the value's Debug panics");
            let d = Arc::clone(&drops);
            within(Duration::from_secs(2), move || {
                tx.send_modify(|v| v.0 += 1);
                tx.send(PanicsInDebug(5, Arc::clone(&d))).unwrap();
                let old = tx.send_replace(PanicsInDebug(6, Arc::clone(&d)));
                let v = old.0;
                drop(old);
                // Values dropped so far: the one `send` replaced, the one
                // `send_replace` returned.
                (v, d.load(Ordering::SeqCst), tx, rx)
            })
        }};
    }
    std::panic::set_hook(Box::new(|_| {}));
    let theirs = run!(tokio::sync::watch::channel).map(|(v, n, _, _)| (v, n));
    let ours = run!(chan_watch::channel).map(|(v, n, _, _)| (v, n));
    let _ = std::panic::take_hook();
    assert_eq!(theirs, Ok((5, 2)), "tokio");
    assert_eq!(
        ours, theirs,
        "after a panicking Debug, chan-watch hung (Err) or dropped values differently"
    );
}
