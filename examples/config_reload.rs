//! Configuration reload with `seqcast::watch`: tasks react to changes of a
//! shared configuration, as they would with `tokio::sync::watch`.
//!
//! ```sh
//! cargo run --release --example config_reload
//! ```
//!
//! A reloader task "reads a file" every few milliseconds and publishes the
//! configuration with `send_if_modified`, so a reload that changes nothing
//! wakes nobody. Three workers react: an HTTP front end waits for each
//! change, a rate limiter applies only the latest value when it gets round
//! to it (it may skip versions: watch keeps the latest, not a history), and
//! a feature-flag task uses `wait_for` to block until a flag is turned on.
//! When the reloader exits, its sender drops and every worker sees the
//! close after the last version.

use std::time::Duration;

use seqcast::watch;

#[derive(Clone, Debug, PartialEq)]
struct Config {
    version: u32,
    rate_limit: u32,
    new_checkout: bool,
}

/// What the "file" holds at each reload: some reloads change nothing.
fn file_at(reload: u32) -> (u32, bool) {
    let rate = 100 * (1 + reload / 2); // changes every other reload
    (rate, reload >= 6) // the flag flips on at reload 6
}

const RELOADS: u32 = 10;

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime")
        .block_on(run());
}

async fn run() {
    let (rate, flag) = file_at(0);
    let (tx, rx) = watch::channel(Config {
        version: 1,
        rate_limit: rate,
        new_checkout: flag,
    });

    // Waits for every change and logs it.
    let mut front = rx.clone();
    let front = tokio::spawn(async move {
        let mut seen = Vec::new();
        while front.changed().await.is_ok() {
            let c = front.borrow_and_update().clone();
            seen.push(c.version);
        }
        seen
    });

    // Slow: applies whatever is current when it looks.
    let mut limiter = rx.clone();
    let limiter = tokio::spawn(async move {
        let mut applied = Vec::new();
        while limiter.changed().await.is_ok() {
            applied.push(limiter.borrow_and_update().rate_limit);
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        applied
    });

    // Blocks until the flag is on; gets the configuration that turned it on.
    let mut flags = rx;
    let flags = tokio::spawn(async move {
        let c = flags
            .wait_for(|c| c.new_checkout)
            .await
            .expect("the flag is turned on before the reloader exits");
        c.version
    });

    let reloader = tokio::spawn(async move {
        let (mut changed, mut unchanged) = (0, 0);
        for reload in 1..=RELOADS {
            tokio::time::sleep(Duration::from_millis(3)).await;
            let (rate, flag) = file_at(reload);
            let modified = tx.send_if_modified(|c| {
                if (c.rate_limit, c.new_checkout) == (rate, flag) {
                    return false; // same file: nobody is woken
                }
                c.version += 1;
                c.rate_limit = rate;
                c.new_checkout = flag;
                true
            });
            if modified {
                changed += 1;
            } else {
                unchanged += 1;
            }
        }
        let last = tx.borrow().clone();
        (changed, unchanged, last)
        // `tx` drops here: workers see the close once they have the last version
    });

    let (changed, unchanged, last) = reloader.await.expect("reloader");
    let front = front.await.expect("front end");
    let limiter = limiter.await.expect("rate limiter");
    let flag_version = flags.await.expect("feature flags");

    assert_eq!(last.version, 1 + changed);
    assert_eq!(
        front.last(),
        Some(&last.version),
        "the front end ends on the latest version"
    );
    assert!(front.is_sorted() && front.len() as u32 <= changed);
    assert_eq!(
        limiter.last(),
        Some(&last.rate_limit),
        "the limiter ends on the latest limit"
    );
    // The flag flips on at reload 6, the third reload that changed
    // anything (2, 4 and 6 do): version 4.
    assert_eq!(
        flag_version, 4,
        "wait_for returns the version that turned it on"
    );
    println!(
        "{RELOADS} reloads: {changed} changed the configuration (v2..v{}), {unchanged} changed nothing and woke nobody",
        last.version
    );
    println!("  front end saw versions {front:?}");
    println!(
        "  rate limiter applied limits {limiter:?} (it applies the latest when it gets round to it, skipping versions replaced while it was busy)"
    );
    println!("  feature flag: new_checkout turned on by version {flag_version}");
    println!(
        "  reloader exited: every worker saw the close after version {}",
        last.version
    );
}
