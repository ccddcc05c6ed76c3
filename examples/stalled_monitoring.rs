//! One stream stops reading. Its stall is reported by the stream wrapper
//! (`stall_timeout`, on a stream that waits for a writer gone quiet) and by
//! the writer (`stalled`); a writer bounded at 64 KiB with
//! `DisconnectSlowest` then drops the stuck stream while the healthy one
//! reads to the end.
//!
//! ```sh
//! cargo run --release --example stalled_monitoring
//! ```

use std::io::ErrorKind;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use seqcast::stream::{ByteWriter, Disconnected, Policy};

fn main() -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()?
        .block_on(run())
}

async fn run() -> std::io::Result<()> {
    let mut writer = ByteWriter::builder()
        .max_buffered_bytes(64 * 1024)
        .on_full(Policy::DisconnectSlowest)
        .build();

    // The healthy stream, watched by a stall timeout: it reports the quiet
    // period before the writer starts, then reads everything.
    let mut healthy = writer.stream().stall_timeout(Duration::from_millis(50));
    let healthy_task = tokio::spawn(async move {
        let (mut total, mut stalls) = (0, 0);
        while let Some(item) = healthy.next().await {
            match item {
                Ok(chunk) => total += chunk.len(),
                Err(e) if e.kind() == ErrorKind::TimedOut => {
                    stalls += 1;
                    println!("healthy: stall_timeout says: {e} (the writer has gone quiet)");
                }
                Err(e) => return Err(e),
            }
        }
        println!("healthy: finished, {total} bytes, {stalls} quiet periods reported");
        Ok::<_, std::io::Error>((total, stalls))
    });

    // The stuck stream: reads one chunk, then stops reading (but stays
    // alive), until the writer disconnects it.
    let mut stuck = writer.stream();
    let stuck_id = stuck.id();
    let (resume_tx, resume_rx) = tokio::sync::oneshot::channel::<()>();
    let stuck_task = tokio::spawn(async move {
        let first = stuck.next().await.expect("a chunk")?;
        println!(
            "stuck (id {stuck_id}): read {} bytes, now stops reading",
            first.len()
        );
        resume_rx.await.ok();
        match stuck.next().await {
            Some(Err(e)) => {
                let d = e
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<Disconnected>())
                    .copied();
                println!("stuck: {e}");
                Ok::<_, std::io::Error>(d.map_or(0, |d| d.lost_bytes()))
            }
            other => panic!("expected the disconnect, got {other:?}"),
        }
    });

    tokio::time::sleep(Duration::from_millis(120)).await; // healthy reports a stall or two
    let chunk = Bytes::from(vec![b'x'; 4096]);
    writer.write_bytes(chunk.clone())?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    for _ in 0..7 {
        writer.write_bytes(chunk.clone())?;
    }
    tokio::time::sleep(Duration::from_millis(60)).await;
    let stalled = writer.stalled(Duration::from_millis(50));
    // Only the stuck stream: it read the first chunk and none of the 7 after.
    assert_eq!(stalled.len(), 1);
    for s in &stalled {
        assert_eq!((s.stream_id(), s.unread_bytes()), (stuck_id, 7 * 4096));
        println!(
            "writer: stream {} has not read for {:.0?} ({} bytes unread)",
            s.stream_id(),
            s.idle(),
            s.unread_bytes()
        );
    }
    // Keep writing: past 64 KiB unread, the stuck stream is dropped (the
    // healthy one is never behind by more than a chunk or two).
    for _ in 0..64 {
        writer.write_bytes(chunk.clone())?;
        // A paced source (a feed, an upload): the healthy stream keeps up.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(
        writer.stream_count(),
        1,
        "the stuck stream was disconnected"
    );
    println!(
        "writer: stream(s) left: {} (the healthy one); {} bytes written",
        writer.stream_count(),
        writer.bytes_written()
    );
    resume_tx.send(()).ok();
    writer.close();

    let lost = stuck_task.await.expect("the task ran")?;
    let (total, stalls) = healthy_task.await.expect("the task ran")?;
    assert!(
        lost > 0,
        "the disconnect says how many bytes the stuck stream lost"
    );
    assert_eq!(
        total as u64,
        writer.bytes_written(),
        "the healthy stream lost nothing"
    );
    assert!(
        stalls >= 1,
        "the 120 ms before the first write is longer than the 50 ms timeout"
    );
    println!(
        "stuck lost {lost} bytes (told so by its error); healthy read {total} of {} bytes written",
        writer.bytes_written()
    );
    Ok(())
}
