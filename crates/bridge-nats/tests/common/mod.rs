//! Shared by the server tests: a server per test, clients that reconnect
//! quickly, and a bound on every wait.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

pub use seqcast_test_support::nats::{Config, NatsServer};

/// The longest any single wait in these tests may take.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Starts a server, or returns from the test with the printed reason.
#[macro_export]
macro_rules! server_or_skip {
    ($config:expr) => {
        match common::NatsServer::start_with($config) {
            Some(s) => s,
            None => return,
        }
    };
    () => {
        server_or_skip!(common::Config::default())
    };
}

/// A client that retries every `delay` after a disconnect.
pub async fn connect_with_delay(server: &NatsServer, delay: Duration) -> async_nats::Client {
    within(
        async_nats::ConnectOptions::new()
            .reconnect_delay_callback(move |_| delay)
            .connection_timeout(Duration::from_secs(5))
            .connect(server.url()),
    )
    .await
    .expect("connecting to the test's nats-server")
}

/// A client that retries every 50 ms after a disconnect.
pub async fn connect(server: &NatsServer) -> async_nats::Client {
    connect_with_delay(server, Duration::from_millis(50)).await
}

/// `f`, or a panic after [`LIMIT`].
pub async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("a wait in the test took more than its limit")
}

/// A value with a string in it, so serde and the codec do real work.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tick {
    pub n: u64,
    pub name: String,
}

impl Tick {
    pub fn new(n: u64) -> Self {
        Tick {
            n,
            name: format!("tick-{n}"),
        }
    }
}

/// [`bridge_nats::round_trip`], bounded by [`LIMIT`].
pub async fn round_trip(client: &async_nats::Client) {
    within(bridge_nats::round_trip(client))
        .await
        .expect("a round trip through the server");
}
