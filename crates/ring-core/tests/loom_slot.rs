//! loom model of the seqlock slot on the real `Slot` type: one writer and
//! concurrent readers; a reader never accepts a torn value and always sees
//! an overwrite as one.
#![cfg(ring_loom)]

use loom::sync::Arc;
use loom::thread;
use ring_core::{ReadResult, Slot};

/// Every model sets its own preemption bound, so `cargo test` with
/// `--cfg ring_loom` alone finishes (no `LOOM_MAX_PREEMPTIONS` needed).
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

/// Two words so a torn copy is possible: word 0 from one write, word 1 from
/// another.
type Pair = [u64; 2];

fn value(seq: u64) -> Pair {
    [seq + 1, (seq + 1) * 100]
}

fn check_read(slot: &Slot<Pair>, seq: u64) -> ReadResult<Pair> {
    let r = slot.try_read(seq);
    match r {
        ReadResult::Ready(v) => assert_eq!(v, value(seq), "torn or foreign value for {seq}"),
        ReadResult::Overwritten { stamp } => {
            assert!(
                stamp.sequence() > Some(seq),
                "overwrite by an older sequence"
            )
        }
        ReadResult::NotWritten | ReadResult::Writing => {}
    }
    r
}

#[test]
fn reader_never_accepts_a_torn_value() {
    model(3, || {
        let slot = Arc::new(Slot::<Pair>::new());
        let writer = {
            let slot = Arc::clone(&slot);
            thread::spawn(move || {
                for seq in 0..2 {
                    // SAFETY: this thread is the only writer; sequences grow.
                    unsafe { slot.write(seq, value(seq)) };
                }
            })
        };
        // Reader: follow sequence 0, then 1, as a ring reader would.
        let mut states = Vec::new();
        for seq in 0..2 {
            states.push(check_read(&slot, seq));
        }
        // Once 1 was seen complete, 0 can no longer be returned.
        if matches!(states[1], ReadResult::Ready(_)) {
            assert!(!matches!(slot.try_read(0), ReadResult::Ready(_)));
        }
        writer.join().unwrap();
        // After the writer finished: 0 is overwritten, 1 is there.
        match slot.try_read(0) {
            ReadResult::Overwritten { stamp } => assert_eq!(stamp.sequence(), Some(1)),
            other => panic!("expected an overwrite, got {other:?}"),
        }
        assert_eq!(slot.try_read(1), ReadResult::Ready(value(1)));
    });
}

#[test]
fn two_readers_and_a_writer() {
    model(3, || {
        let slot = Arc::new(Slot::<Pair>::new());
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let slot = Arc::clone(&slot);
                thread::spawn(move || {
                    let _ = check_read(&slot, 0);
                })
            })
            .collect();
        for seq in 0..2 {
            // SAFETY: the main thread is the only writer; sequences grow.
            unsafe { slot.write(seq, value(seq)) };
        }
        for r in readers {
            r.join().unwrap();
        }
    });
}

/// The `Writing` state is reachable and reported as such, never as a value.
#[test]
fn a_write_in_progress_is_seen_as_writing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SAW_WRITING: AtomicBool = AtomicBool::new(false);
    model(3, || {
        let slot = Arc::new(Slot::<Pair>::new());
        let writer = {
            let slot = Arc::clone(&slot);
            // SAFETY: the only writer; first sequence.
            thread::spawn(move || unsafe { slot.write(0, value(0)) })
        };
        if check_read(&slot, 0) == ReadResult::Writing {
            // Relaxed: a flag read after the model finishes.
            SAW_WRITING.store(true, Ordering::Relaxed);
        }
        writer.join().unwrap();
    });
    // Relaxed: read after every model run has finished.
    assert!(
        SAW_WRITING.load(Ordering::Relaxed),
        "loom never explored a read mid-write"
    );
}
