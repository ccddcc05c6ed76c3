//! The async writers: tokio's `AsyncWrite` (feature `tokio`) and futures'
//! (feature `futures-io`); shutdown closes; `StreamReader` turns a stream
//! into an `AsyncRead`. (Needs feature `tokio`, on by default.)
#![cfg(feature = "tokio")]

use std::io::ErrorKind;

use futures::StreamExt;
use stream_bytes::{ByteWriter, Policy};

#[tokio::test(flavor = "current_thread")]
async fn tokio_async_write_and_shutdown() {
    use tokio::io::AsyncWriteExt;
    let mut w = ByteWriter::default();
    let mut s = w.stream();
    w.write_all(b"one").await.unwrap();
    w.write_all(b"").await.unwrap();
    w.flush().await.unwrap();
    w.shutdown().await.unwrap();
    assert_eq!(
        w.write(b"x").await.unwrap_err().kind(),
        ErrorKind::BrokenPipe
    );
    let got: Vec<_> = s.by_ref().map(Result::unwrap).collect().await;
    assert_eq!(got, ["one", ""]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_async_block_writer_waits_for_a_reader_task() {
    use tokio::io::AsyncWriteExt;
    let n: usize = if cfg!(miri) { 100 } else { 2_000 };
    let mut w = ByteWriter::builder()
        .max_buffered_bytes(64)
        .on_full(Policy::Block)
        .build();
    let s = w.stream();
    let reader = tokio::spawn(async move {
        s.map(|c| c.unwrap())
            .fold(Vec::new(), |mut acc, c| async move {
                acc.extend_from_slice(&c);
                acc
            })
            .await
    });
    let mut expected = Vec::new();
    for i in 0..n {
        let chunk = (i as u32).to_le_bytes();
        w.write_all(&chunk).await.unwrap();
        expected.extend_from_slice(&chunk);
        assert!(w.buffered_bytes() <= 64);
    }
    w.shutdown().await.unwrap();
    assert_eq!(reader.await.unwrap(), expected);
}

#[tokio::test(flavor = "current_thread")]
async fn stream_reader_makes_an_async_read() {
    use tokio::io::AsyncReadExt;
    let mut w = ByteWriter::default();
    let mut r = tokio_util::io::StreamReader::new(w.stream());
    std::io::Write::write_all(&mut w, b"abc").unwrap();
    std::io::Write::write_all(&mut w, b"def").unwrap();
    drop(w);
    let mut out = Vec::new();
    r.read_to_end(&mut out).await.unwrap();
    assert_eq!(out, b"abcdef");
}

#[cfg(feature = "futures-io")]
#[test]
fn futures_async_write_and_close() {
    use futures::AsyncWriteExt;
    futures::executor::block_on(async {
        let mut w = ByteWriter::default();
        let mut s = w.stream();
        w.write_all(b"fio").await.unwrap();
        AsyncWriteExt::close(&mut w).await.unwrap();
        assert_eq!(
            w.write(b"x").await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
        let got: Vec<_> = s.by_ref().map(Result::unwrap).collect().await;
        assert_eq!(got, ["fio", ""]);
    });
}
