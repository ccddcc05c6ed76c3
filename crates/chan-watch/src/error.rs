//! Watch error types, with tokio's derives, `Debug` output and `Display`
//! text.

use std::error::Error;
use std::fmt;

/// Error produced when sending a value fails: there is no receiver.
///
/// The value is handed back, and was not stored.
///
/// ```
/// let (tx, rx) = chan_watch::channel(0);
/// drop(rx);
/// let err = tx.send(7).unwrap_err();
/// assert_eq!(err.0, 7);
/// assert_eq!(err.to_string(), "channel closed");
/// assert_eq!(format!("{err:?}"), "SendError { .. }");
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(fmt, "channel closed")
    }
}

impl<T> Error for SendError<T> {}

/// Error produced when receiving a change notification fails: every
/// sender is gone and the current value was seen.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = chan_watch::channel(0);
/// drop(tx);
/// let err = rx.changed().await.unwrap_err();
/// assert_eq!(err.to_string(), "channel closed");
/// assert_eq!(format!("{err:?}"), "RecvError(())");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct RecvError(pub(crate) ());

impl fmt::Display for RecvError {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(fmt, "channel closed")
    }
}

impl Error for RecvError {}
