//! Hostile loom models (issue 12 review): each FAILS on the code as
//! reviewed. Each model sets its own preemption bound
//! (`LOOM_MAX_PREEMPTIONS` overrides it).
#![cfg(ring_loom)]

use std::io::Write;

use futures::StreamExt;
use loom::future::block_on;
use loom::thread;

use stream_bytes::{ByteWriter, CHUNK_OVERHEAD, Disconnected, Policy};

fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

/// Shows: `DisconnectSlowest` at its limit against a reader thread: in
/// the interleavings where the reader hands out its batch, polls once more
/// (`Pending`: that read reports the batch) and is then disconnected, its
/// `lost_bytes` subtracts the already-reported batch again (short, or an
/// underflow). The writer knows which write disconnected the stream
/// (`stream_count()` drops to 0 after it); 1-byte chunks, so the exact
/// loss is that write's index minus the chunks the reader got.
#[test]
fn disconnect_loss_is_exact_against_a_reading_thread() {
    model(2, || {
        let mut w = ByteWriter::builder()
            .max_buffered_bytes(2 * (1 + CHUNK_OVERHEAD))
            .on_full(Policy::DisconnectSlowest)
            .build();
        let mut s = w.stream();
        let reader = thread::spawn(move || {
            let mut got = 0u64;
            while let Some(item) = block_on(s.next()) {
                match item {
                    Ok(c) if c.is_empty() => return (got, None),
                    Ok(c) => {
                        assert_eq!(c[0], b'a' + got as u8, "skipped or reordered");
                        got += 1;
                    }
                    Err(e) => {
                        let d = *e.get_ref().unwrap().downcast_ref::<Disconnected>().unwrap();
                        return (got, Some(d.lost_bytes()));
                    }
                }
            }
            panic!("no close signal, no error")
        });
        let mut disconnected_at = None;
        for (k, c) in (b'a'..=b'e').enumerate() {
            w.write_all(&[c]).unwrap();
            if disconnected_at.is_none() && w.stream_count() == 0 {
                disconnected_at = Some(k as u64);
            }
        }
        w.close();
        let (got, lost) = reader.join().unwrap();
        match (lost, disconnected_at) {
            (None, None) => assert_eq!(got, 5),
            (Some(lost), Some(k)) => assert_eq!(
                lost,
                k - got,
                "disconnected by write {k} after reading {got} chunks"
            ),
            other => panic!("inconsistent: {other:?}"),
        }
    });
}
