//! A round trip through the server: proof that it has processed every
//! protocol line this client sent before.
//!
//! `async_nats::Client::flush` only writes the client's buffer to the
//! socket; it does not wait for the server. A subscription "flushed" that
//! way may not be in the server's interest graph yet when another
//! connection publishes (the server reads each connection on its own
//! goroutine), and that publication is then never delivered: under load
//! the test `a_request_on_the_subject_is_foreign_and_unanswered` lost its
//! first message that way in 4 of 8 whole-file runs. The
//! server processes one connection's lines in order, so a message this
//! client publishes to a subject only it listens on comes back only after
//! the server has processed everything this client sent before it.

use std::io;
use std::time::Duration;

use async_nats::Client;
use futures::StreamExt;

/// How long one probe may take before it is published again (a probe
/// written just before a disconnect is lost with the connection).
const RETRY: Duration = Duration::from_millis(500);

/// How long [`round_trip`] waits in all when the client sets no request
/// timeout (async-nats's default is 10 s).
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Returns once the server has processed every line `client` sent before
/// the call (subscriptions, publications): a probe published to a fresh
/// inbox that only this client listens on has come back. Waits at most
/// the client's request timeout (10 s when it has none), publishing the
/// probe again every 500 ms in case a reconnect lost it.
///
/// `async_nats::Client::flush` only writes the client's buffer to the
/// socket. A raw subscription made beside the bridge's is live for
/// publications from other connections only once the server has read it:
/// call this after `subscribe` and before the other side publishes.
/// ([`subscribe`](crate::subscribe) and the forwarder's close do it
/// themselves.)
///
/// # Errors
///
/// The client refused the probe's subscription or publication, or no
/// probe came back within the client's request timeout.
///
/// ```no_run
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), async_nats::Error> {
/// use futures::StreamExt;
///
/// let client = async_nats::connect("127.0.0.1:4222").await?;
/// let mut raw = client.subscribe("prices").await?;
/// bridge_nats::round_trip(&client).await?; // now live for every publisher
/// # let _ = raw.next().await;
/// # Ok(())
/// # }
/// ```
pub async fn round_trip(client: &Client) -> Result<(), async_nats::Error> {
    let inbox = client.new_inbox();
    let mut probe = client.subscribe(inbox.clone()).await?;
    let limit = client.timeout().unwrap_or(DEFAULT_WAIT);
    let start = tokio::time::Instant::now();
    let result = loop {
        if let Err(e) = client.publish(inbox.clone(), bytes::Bytes::new()).await {
            break Err(e.into());
        }
        if let Err(e) = client.flush().await {
            break Err(e.into());
        }
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            break Err(timed_out(limit));
        }
        match tokio::time::timeout(RETRY.min(left), probe.next()).await {
            Ok(Some(_)) => break Ok(()),
            Ok(None) => break Err("the client closed".into()),
            Err(_) => continue,
        }
    };
    // Best effort: the inbox is private to this client.
    let _ = probe.unsubscribe().await;
    result
}

/// No probe came back within `limit`.
fn timed_out(limit: Duration) -> async_nats::Error {
    Box::new(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("the server did not answer within {limit:?}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_says_what_happened() {
        let t = timed_out(Duration::from_secs(10));
        assert_eq!(t.to_string(), "the server did not answer within 10s");
        let io = t.downcast_ref::<io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), io::ErrorKind::TimedOut);
    }
}
