//! Errors, with tokio's names, derives and `Display` strings, plus the ones
//! for this crate's additions ([`TrySendError`], [`Lagged`]).

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

/// Why a lossless sender's `try_send` did not send. The value is handed back.
///
/// ```
/// use chan_broadcast::error::TrySendError;
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
    /// use chan_broadcast::error::TrySendError;
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

impl From<Lagged> for RecvError {
    fn from(l: Lagged) -> Self {
        RecvError::Lagged(l.0)
    }
}
