//! A round trip through the server: proof that it has processed every
//! protocol line this client sent before.
//!
//! `async_nats::Client::flush` only writes the client's buffer to the
//! socket; it does not wait for the server. A subscription "flushed" that
//! way may not be in the server's interest graph yet when another
//! connection publishes (the server reads each connection on its own
//! goroutine), and that publication is then never delivered: under load
//! the test `a_request_on_the_subject_is_foreign_and_unanswered` lost its
//! first message that way in about one whole-file run in three. The
//! server processes one connection's lines in order, so a message this
//! client publishes to a subject only it listens on comes back only after
//! the server has processed everything this client sent before it.

use std::fmt;
use std::time::Duration;

use async_nats::Client;
use futures::StreamExt;

/// How long one probe may take before it is published again (a probe
/// written just before a disconnect is lost with the connection).
const RETRY: Duration = Duration::from_millis(500);

/// How long [`confirm`] waits in all when the client sets no request
/// timeout (async-nats's default is 10 s).
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Why a round trip did not complete.
#[derive(Debug)]
pub(crate) enum Failed {
    /// The probe's subscription or publication was refused.
    Client(async_nats::Error),
    /// No probe came back within the client's request timeout.
    TimedOut(Duration),
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failed::Client(e) => write!(f, "{e}"),
            Failed::TimedOut(d) => write!(f, "the server did not answer within {d:?}"),
        }
    }
}

impl std::error::Error for Failed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failed::Client(e) => Some(&**e),
            Failed::TimedOut(_) => None,
        }
    }
}

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
    confirm(client).await.map_err(Into::into)
}

/// [`round_trip`] with its own error type.
pub(crate) async fn confirm(client: &Client) -> Result<(), Failed> {
    let inbox = client.new_inbox();
    let mut probe = client
        .subscribe(inbox.clone())
        .await
        .map_err(|e| Failed::Client(e.into()))?;
    let limit = client.timeout().unwrap_or(DEFAULT_WAIT);
    let start = tokio::time::Instant::now();
    let result = loop {
        if let Err(e) = client.publish(inbox.clone(), bytes::Bytes::new()).await {
            break Err(Failed::Client(e.into()));
        }
        if let Err(e) = client.flush().await {
            break Err(Failed::Client(e.into()));
        }
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            break Err(Failed::TimedOut(limit));
        }
        match tokio::time::timeout(RETRY.min(left), probe.next()).await {
            Ok(Some(_)) => break Ok(()),
            // The client closed.
            Ok(None) => break Err(Failed::Client("the client closed".into())),
            Err(_) => continue,
        }
    };
    // Best effort: the inbox is private to this client.
    let _ = probe.unsubscribe().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_say_what_happened() {
        let t = Failed::TimedOut(Duration::from_secs(10));
        assert_eq!(t.to_string(), "the server did not answer within 10s");
        assert!(std::error::Error::source(&t).is_none());
        let c = Failed::Client("the client closed".into());
        assert_eq!(c.to_string(), "the client closed");
        assert!(std::error::Error::source(&c).is_some());
    }
}
