//! The errors of this crate's additions to tokio's API: a lossless
//! sender's [`TrySendError`] and the `Stream` item [`Lagged`]. They are
//! not in [`error`](crate::error), which holds tokio's three only.

use core::fmt;

use crate::error::SendError;

/// Why a lossless sender's `try_send` did not send. The value is handed back.
///
/// ```
/// use chan_broadcast::TrySendError;
///
/// let (tx, _rx) = chan_broadcast::channel_lossless::<u8>(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// assert_eq!(TrySendError::Full(2).to_string(), "channel full");
/// assert_eq!(TrySendError::Closed(2).to_string(), "channel closed");
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The slowest receiver has not yet read the value a send would replace.
    Full(T),
    /// There is no receiver, or the channel is closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// use chan_broadcast::TrySendError;
    /// assert_eq!(TrySendError::Full(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => write!(f, "channel full"),
            TrySendError::Closed(_) => write!(f, "channel closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(err: SendError<T>) -> Self {
        TrySendError::Closed(err.0)
    }
}

/// The `Stream` item for a receiver that fell behind: this many values were
/// overwritten before it read them. Lag is an item, never hidden.
///
/// ```
/// use chan_broadcast::Lagged;
/// assert_eq!(Lagged(4).to_string(), "channel lagged by 4");
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Lagged(pub u64);

impl fmt::Display for Lagged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel lagged by {}", self.0)
    }
}

impl std::error::Error for Lagged {}
