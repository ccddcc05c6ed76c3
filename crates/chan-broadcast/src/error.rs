//! Errors, with tokio's names, derives and `Display` strings: only tokio's
//! three, so a glob import of this module (beside `tokio::sync::mpsc::error`,
//! say) brings no other name. The errors of this crate's additions,
//! [`TrySendError`](crate::TrySendError) and [`Lagged`](crate::Lagged), are
//! at the crate root.

use core::fmt;

/// The value could not be sent: there is no receiver, or the channel is
/// closed. The value is handed back.
///
/// ```
/// let (tx, rx) = chan_broadcast::channel::<u32>(4);
/// drop(rx);
/// let err = tx.send(7).unwrap_err();
/// assert_eq!(err.0, 7);
/// assert_eq!(err.to_string(), "channel closed");
/// assert_eq!(format!("{err:?}"), "SendError(7)"); // tokio's `Debug`
/// ```
///
/// Like tokio's, it derives `Debug` only: no `PartialEq`, `Clone` or
/// `Copy` (match on it, or compare `.0`).
#[derive(Debug)]
pub struct SendError<T>(pub T);

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel closed")
    }
}

impl<T: fmt::Debug> std::error::Error for SendError<T> {}

/// Why `recv` returned no value.
///
/// ```
/// use chan_broadcast::error::RecvError;
///
/// assert_eq!(RecvError::Closed.to_string(), "channel closed");
/// assert_eq!(RecvError::Lagged(3).to_string(), "channel lagged by 3");
/// ```
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum RecvError {
    /// Every sender is gone (or the channel was closed) and every value
    /// this receiver could read has been read.
    Closed,
    /// The receiver fell behind: this many values were overwritten before it
    /// read them. The next receive returns the oldest value still held.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => write!(f, "channel closed"),
            RecvError::Lagged(amt) => write!(f, "channel lagged by {amt}"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why `try_recv` returned no value.
///
/// ```
/// use chan_broadcast::error::TryRecvError;
///
/// let (_tx, mut rx) = chan_broadcast::channel::<u8>(2);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
/// assert_eq!(TryRecvError::Closed.to_string(), "channel closed");
/// assert_eq!(TryRecvError::Lagged(2).to_string(), "channel lagged by 2");
/// ```
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum TryRecvError {
    /// Nothing to read yet; the channel is open.
    Empty,
    /// Every sender is gone (or the channel was closed) and everything has
    /// been read.
    Closed,
    /// This many values were overwritten before this receiver read them.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => write!(f, "channel empty"),
            TryRecvError::Closed => write!(f, "channel closed"),
            TryRecvError::Lagged(amt) => write!(f, "channel lagged by {amt}"),
        }
    }
}

impl std::error::Error for TryRecvError {}
