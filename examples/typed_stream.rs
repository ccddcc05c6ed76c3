//! The typed pair: a `TypedWriter<Reading>` broadcasting a small struct to
//! two consumers on tokio tasks.
//!
//! ```sh
//! cargo run --release --example typed_stream
//! ```

use futures::StreamExt;
use seqcast::stream::TypedWriter;

#[derive(Clone, Debug)]
struct Reading {
    sensor: &'static str,
    celsius: f32,
}

fn main() -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()?
        .block_on(run())
}

async fn run() -> std::io::Result<()> {
    let mut writer = TypedWriter::default();
    let mut logger = writer.stream();
    let mut averager = writer.stream();

    let log = tokio::spawn(async move {
        while let Some(r) = logger.next().await {
            let r: Reading = r?;
            println!("logger: {} at {:.1} °C", r.sensor, r.celsius);
        }
        Ok::<_, std::io::Error>(())
    });
    let avg = tokio::spawn(async move {
        let (mut sum, mut n) = (0.0, 0);
        while let Some(r) = averager.next().await {
            sum += r?.celsius;
            n += 1;
        }
        // 18.0, 19.5, 21.0 and 22.5: every reading, in order.
        assert_eq!((n, sum / n as f32), (4, 20.25));
        println!("averager: {n} readings, mean {:.2} °C", sum / n as f32);
        Ok::<_, std::io::Error>(())
    });

    for (i, sensor) in ["hall", "roof", "cellar", "hall"].into_iter().enumerate() {
        writer.send(Reading {
            sensor,
            celsius: 18.0 + i as f32 * 1.5,
        })?;
    }
    writer.close(); // the typed streams end (no close item: there is no empty Reading)

    log.await.expect("the task ran")?;
    avg.await.expect("the task ran")?;
    Ok(())
}
