//! One `ByteWriter`, three `ByteStream`s on tokio tasks, three writes, then
//! the close. Each task prints its chunks' sizes, the close signal and a
//! summary, in whatever order the tasks happen to run.
//!
//! ```sh
//! cargo run --release --example basic_broadcast
//! ```

use std::io::Write;

use futures::StreamExt;
use seqcast::stream::ByteWriter;

fn main() -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()?
        .block_on(run())
}

async fn run() -> std::io::Result<()> {
    let mut writer = ByteWriter::default();

    let tasks: Vec<_> = (1..=3)
        .map(|n| {
            let mut stream = writer.stream();
            tokio::spawn(async move {
                let (mut chunks, mut total) = (0, 0);
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    if chunk.is_empty() {
                        println!("stream {n}: close signal");
                        continue;
                    }
                    chunks += 1;
                    total += chunk.len();
                    println!("stream {n}: chunk of {} bytes", chunk.len());
                }
                // Every stream gets every write, as one chunk each.
                assert_eq!((chunks, total), (3, 75));
                println!("stream {n}: finished: {chunks} chunks, {total} bytes in all");
                Ok::<_, std::io::Error>(())
            })
        })
        .collect();

    writer.write_all(b"Hello, World!")?;
    writer.write_all(b"Broadcast message to all streams!")?;
    writer.write_all(b"Final message before closing.")?;
    assert_eq!(writer.bytes_written(), 75);
    println!(
        "writer: 3 writes, {} bytes written (13 + 33 + 29), then closed",
        writer.bytes_written()
    );
    writer.close();

    for t in tasks {
        t.await.expect("the task ran")?;
    }
    Ok(())
}
