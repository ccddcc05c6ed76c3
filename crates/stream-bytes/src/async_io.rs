//! `AsyncWrite` for [`ByteWriter`]: tokio's (feature `tokio`) and
//! futures' (feature `futures-io`). A write that finds no room under
//! [`Policy::Block`](crate::Policy::Block) returns `Pending` and is woken
//! by the stream read (or drop, or disconnect) that makes room; shutdown
//! (`poll_shutdown` / `poll_close`) closes the writer.

#[cfg(any(feature = "tokio", feature = "futures-io"))]
use core::pin::Pin;
#[cfg(any(feature = "tokio", feature = "futures-io"))]
use core::task::{Context, Poll};
#[cfg(any(feature = "tokio", feature = "futures-io"))]
use std::io;

#[cfg(any(feature = "tokio", feature = "futures-io"))]
use crate::ByteWriter;

/// ```
/// use tokio::io::AsyncWriteExt;
/// use futures::StreamExt;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut w = stream_bytes::ByteWriter::default();
/// let mut s = w.stream();
/// w.write_all(b"async").await.unwrap();
/// w.shutdown().await.unwrap(); // closes
/// assert_eq!(s.next().await.unwrap().unwrap(), "async");
/// assert_eq!(s.next().await.unwrap().unwrap(), "");
/// assert!(s.next().await.is_none());
/// # });
/// ```
#[cfg(feature = "tokio")]
impl tokio::io::AsyncWrite for ByteWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_buf(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close();
        Poll::Ready(Ok(()))
    }
}

/// ```
/// use futures::{AsyncWriteExt, StreamExt};
/// futures::executor::block_on(async {
///     let mut w = stream_bytes::ByteWriter::default();
///     let mut s = w.stream();
///     w.write_all(b"futures").await.unwrap();
///     AsyncWriteExt::close(&mut w).await.unwrap(); // closes the writer
///     assert_eq!(s.next().await.unwrap().unwrap(), "futures");
///     assert_eq!(s.next().await.unwrap().unwrap(), "");
/// });
/// ```
#[cfg(feature = "futures-io")]
impl futures_io::AsyncWrite for ByteWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_buf(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close();
        Poll::Ready(Ok(()))
    }
}
