//! ring-core's `Slot` against photon-ring 3.0's: the same publish +
//! try_recv operations, built on each crate's slot, in one run.
//!
//! photon-ring's `Slot` is private, so it is measured through its `channel`
//! (`Publisher::publish`, `Subscriber::try_recv`); ours through `MiniRing`
//! below, which does exactly what photon's lossy fast path does around the
//! slot (prefetch the next slot, write, store the cursor; read, advance).
//! photon-ring runs with its default features (`atomic-slots`: std atomics,
//! sound only for padding-free `Pod`); ours copies `MaybeUninit` words and
//! is sound for any `T: Copy`.
//!
//! `cargo bench --bench slot` prints the ratio table at the end.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use ring_core::sync::atomic::{AtomicU64, Ordering};
use ring_core::{Capacity, ReadResult, Slots, prefetch_write};

const CAPACITY: usize = 1024;

/// The smallest lossy single-producer ring on ring-core's slot: what
/// photon-ring's `publish`/`try_recv` do around their slot, nothing more.
struct MiniRing<T> {
    slots: Slots<T>,
    cursor: AtomicU64,
}

struct MiniPublisher<'a, T> {
    ring: &'a MiniRing<T>,
    seq: u64,
}

struct MiniSubscriber<'a, T> {
    ring: &'a MiniRing<T>,
    cursor: u64,
    received: u64,
}

impl<T: Copy + Send> MiniRing<T> {
    fn new() -> Self {
        MiniRing {
            slots: Slots::new(Capacity::new(CAPACITY)),
            cursor: AtomicU64::new(0),
        }
    }
}

impl<T: Copy + Send> MiniPublisher<'_, T> {
    #[inline]
    fn publish(&mut self, value: T) {
        prefetch_write(self.ring.slots.get(self.seq + 1));
        // SAFETY: one publisher per ring; sequences grow.
        unsafe { self.ring.slots.get(self.seq).write(self.seq, value) };
        // Release: as photon's cursor store; pairs with lag computations.
        self.ring.cursor.store(self.seq, Ordering::Release);
        self.seq += 1;
    }
}

impl<T: Copy + Send> MiniSubscriber<'_, T> {
    #[inline]
    fn try_recv(&mut self) -> Option<T> {
        match self.ring.slots.get(self.cursor).try_read(self.cursor) {
            ReadResult::Ready(v) => {
                self.cursor += 1;
                self.received += 1;
                Some(v)
            }
            _ => None,
        }
    }
}

fn payload_benches<const WORDS: usize>(c: &mut Criterion, label: &str) {
    let bytes = WORDS * 8;
    let value = [7_u64; WORDS];

    let mut g = c.benchmark_group("slot_publish");
    g.throughput(Throughput::Elements(1));
    g.bench_with_input(BenchmarkId::new("ring-core", label), &bytes, |b, _| {
        let ring = MiniRing::<[u64; WORDS]>::new();
        let mut p = MiniPublisher {
            ring: &ring,
            seq: 0,
        };
        b.iter(|| p.publish(black_box(value)));
    });
    g.bench_with_input(BenchmarkId::new("photon-ring", label), &bytes, |b, _| {
        let (mut p, _s) = photon_ring::channel::<[u64; WORDS]>(CAPACITY);
        b.iter(|| p.publish(black_box(value)));
    });
    g.finish();

    let mut g = c.benchmark_group("slot_roundtrip");
    g.throughput(Throughput::Elements(1));
    g.bench_with_input(BenchmarkId::new("ring-core", label), &bytes, |b, _| {
        let ring = MiniRing::<[u64; WORDS]>::new();
        let mut p = MiniPublisher {
            ring: &ring,
            seq: 0,
        };
        let mut s = MiniSubscriber {
            ring: &ring,
            cursor: 0,
            received: 0,
        };
        b.iter(|| {
            p.publish(black_box(value));
            black_box(s.try_recv())
        });
        assert_eq!(s.received, p.seq);
    });
    g.bench_with_input(BenchmarkId::new("photon-ring", label), &bytes, |b, _| {
        let (mut p, subs) = photon_ring::channel::<[u64; WORDS]>(CAPACITY);
        let mut s = subs.subscribe();
        b.iter(|| {
            p.publish(black_box(value));
            black_box(s.try_recv().ok())
        });
    });
    g.finish();
}

/// What `Doorbell::ring` costs a writer when nobody is parked: a publish
/// with and without it.
fn doorbell_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("doorbell_idle");
    g.throughput(Throughput::Elements(1));
    g.bench_function("publish", |b| {
        let ring = MiniRing::<u64>::new();
        let mut p = MiniPublisher {
            ring: &ring,
            seq: 0,
        };
        b.iter(|| p.publish(black_box(1)));
    });
    g.bench_function("publish+ring", |b| {
        let ring = MiniRing::<u64>::new();
        let bell = ring_core::Doorbell::new();
        let mut p = MiniPublisher {
            ring: &ring,
            seq: 0,
        };
        b.iter(|| {
            p.publish(black_box(1));
            bell.ring();
        });
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    payload_benches::<1>(c, "8B");
    payload_benches::<4>(c, "32B");
    payload_benches::<8>(c, "64B");
    payload_benches::<32>(c, "256B");
    doorbell_benches(c);
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
    let sizes = ["8B", "32B", "64B", "256B"];
    for group in ["slot_publish", "slot_roundtrip"] {
        seqcast_benches::print_ratios(group, "ring-core", &["photon-ring"], &sizes);
    }
}
