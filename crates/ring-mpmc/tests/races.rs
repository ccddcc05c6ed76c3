//! Real-thread races the loom models leave to threads: one `MpPublisher`
//! shared in an `Arc` by two threads, clones made and dropped while others
//! publish (the close comes only after the last one), `recv_async` against
//! the close, `latest` and `published` against two producers, and payloads that are not
//! plain integers (a zero-sized type, padding, `bool`, enums, `Option`).
//! Producers yield every few values and receivers park, so no more threads
//! spin than the two cores; every test is bounded in time.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use ring_mpmc::{
    MpPublisher, RecvError, RecvTimeoutError, TryRecvError, channel_mpmc, channel_mpmc_bounded,
};

const PER: u32 = if cfg!(miri) { 50 } else { 50_000 };
const DEADLINE: Duration = Duration::from_secs(60);

/// Padding (a `u8` and a `bool` beside a `u32`), a `bool`, an enum and an
/// `Option`: none of them `Pod`, all fine here.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Fill { last: bool },
    Cancel(Option<u16>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Event {
    producer: u8,
    index: u32,
    kind: Kind,
}

/// Two producer threads on clones of `p`, each publishing `make(id, i)` for
/// `i` in `0..per` (id 0 and 1), yielding now and then so that they
/// interleave on 2 cores.
fn two_producers<T: Copy + Send + 'static>(
    p: &MpPublisher<T>,
    per: u64,
    make: fn(u64, u64) -> T,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..2_u64)
        .map(|id| {
            let p = p.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    p.publish(make(id, i));
                    if i % 16 == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect()
}

fn event(producer: u8, index: u32) -> Event {
    let kind = if index.is_multiple_of(3) {
        Kind::Cancel(index.is_multiple_of(2).then_some(index as u16))
    } else {
        Kind::Fill {
            last: index % 2 == 1,
        }
    };
    Event {
        producer,
        index,
        kind,
    }
}

/// One handle shared by two threads through an `Arc` (publishing through
/// `&self`) on a bounded ring of a non-power-of-two capacity: nothing lost,
/// duplicated, torn or reordered; the close comes when the `Arc` goes.
#[test]
fn one_publisher_shared_in_an_arc_by_two_threads() {
    let _serial = seqcast_test_support::one_at_a_time();
    let (p, subs) = channel_mpmc_bounded::<Event>(7, 1);
    let mut s = subs.subscribe();
    let shared: Arc<MpPublisher<Event>> = Arc::new(p);
    let producers: Vec<_> = (0..2_u8)
        .map(|id| {
            let p = Arc::clone(&shared);
            std::thread::spawn(move || {
                for i in 0..PER {
                    p.publish(event(id, i));
                    if i % 64 == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    drop(shared);
    let start = Instant::now();
    let mut next = [0_u32; 2];
    loop {
        match s.recv_timeout(Duration::from_secs(10)) {
            Ok(e) => {
                let id = e.producer as usize;
                assert_eq!(e, event(e.producer, next[id]), "lost, torn or reordered");
                next[id] += 1;
            }
            Err(RecvTimeoutError::Closed) => break,
            Err(e) => panic!("{e} at {next:?}"),
        }
        assert!(start.elapsed() < DEADLINE, "stalled at {next:?}");
    }
    for t in producers {
        t.join().unwrap();
    }
    assert_eq!(next, [PER; 2]);
}

/// Clones made and dropped on two threads while both publish: the channel
/// closes only after the last handle is gone, and every value published
/// before that is counted (received or lagged) by a subscriber that
/// reads until the close.
#[test]
fn clone_and_drop_race_publish_and_close_comes_last() {
    let _serial = seqcast_test_support::one_at_a_time();
    let (p, subs) = channel_mpmc::<u64>(4);
    let mut s = subs.subscribe();
    let producers: Vec<_> = (0..2_u64)
        .map(|id| {
            let mut h = p.clone();
            std::thread::spawn(move || {
                for i in 0..u64::from(PER) {
                    if i % 16 == 0 {
                        // Swap this thread's handle for a fresh clone.
                        let fresh = h.clone();
                        drop(std::mem::replace(&mut h, fresh));
                        std::thread::yield_now();
                    }
                    h.publish((id << 40) | i);
                }
            })
        })
        .collect();
    drop(p);
    let start = Instant::now();
    let mut last = [None::<u64>; 2];
    loop {
        match s.recv_timeout(Duration::from_secs(10)) {
            Ok(v) => {
                let (id, i) = ((v >> 40) as usize, v & ((1 << 40) - 1));
                assert!(last[id].is_none_or(|l| i > l), "duplicated or reordered");
                last[id] = Some(i);
            }
            Err(RecvTimeoutError::Lagged { .. }) => {}
            Err(RecvTimeoutError::Closed) => break,
            Err(RecvTimeoutError::Timeout) => panic!("stalled at {last:?}"),
        }
        assert!(start.elapsed() < DEADLINE, "stalled at {last:?}");
    }
    for t in producers {
        t.join().unwrap();
    }
    assert_eq!(
        s.total_received() + s.total_lagged(),
        2 * u64::from(PER),
        "closed before every value was published"
    );
    assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
}

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `f` to completion on this thread, parking between polls (with a
/// timeout, so a lost wake-up shows as slowness bounded by the deadline,
/// and the test's own deadline catches a hang).
fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    let start = Instant::now();
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_secs(1));
        assert!(start.elapsed() < DEADLINE, "recv_async stalled");
    }
}

/// `recv_async` against two producers and their close: every value is
/// counted before `Closed`, each producer's in order.
#[test]
fn recv_async_sees_every_value_then_the_close() {
    let _serial = seqcast_test_support::one_at_a_time();
    let (p, subs) = channel_mpmc::<u64>(64);
    let mut s = subs.subscribe();
    let producers = two_producers(&p, u64::from(PER), |id, i| (id << 40) | i);
    drop(p);
    let mut last = [None::<u64>; 2];
    loop {
        match block_on(s.recv_async()) {
            Ok(v) => {
                let (id, i) = ((v >> 40) as usize, v & ((1 << 40) - 1));
                assert!(last[id].is_none_or(|l| i > l), "duplicated or reordered");
                last[id] = Some(i);
            }
            Err(RecvError::Lagged { .. }) => {}
            Err(RecvError::Closed) => break,
        }
    }
    for t in producers {
        t.join().unwrap();
    }
    assert_eq!(s.total_received() + s.total_lagged(), 2 * u64::from(PER));
}

/// `latest` while two producers publish: it always returns, each producer's
/// values come back in order, and the counts add up once they are done.
#[test]
fn latest_racing_two_producers() {
    let _serial = seqcast_test_support::one_at_a_time();
    let (p, subs) = channel_mpmc::<u64>(2);
    let mut s = subs.subscribe();
    let producers = two_producers(&p, u64::from(PER), |id, i| (id << 40) | i);
    drop(p);
    let start = Instant::now();
    let mut last = [None::<u64>; 2];
    while !s.is_closed() {
        if let Some(v) = s.latest() {
            let (id, i) = ((v >> 40) as usize, v & ((1 << 40) - 1));
            assert!(last[id].is_none_or(|l| i >= l), "went back in time");
            last[id] = Some(i);
        }
        std::thread::yield_now();
        assert!(start.elapsed() < DEADLINE, "stalled at {last:?}");
    }
    for t in producers {
        t.join().unwrap();
    }
    let _ = s.drain().count();
    assert_eq!(s.total_received() + s.total_lagged(), 2 * u64::from(PER));
}

/// A zero-sized payload: lossy and bounded, several producers; counts only.
#[test]
fn zero_sized_payloads() {
    let _serial = seqcast_test_support::one_at_a_time();
    for bounded in [false, true] {
        let (p, subs) = if bounded {
            channel_mpmc_bounded::<()>(3, 0)
        } else {
            channel_mpmc::<()>(3)
        };
        assert_eq!(p.capacity(), 3);
        let mut s = subs.subscribe();
        let reader = std::thread::spawn(move || {
            while let Ok(()) | Err(RecvError::Lagged { .. }) = s.recv_blocking() {}
            (s.total_received(), s.total_lagged())
        });
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let p = p.clone();
                std::thread::spawn(move || {
                    for i in 0..PER {
                        p.publish(());
                        if i % 64 == 0 {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        drop(p);
        for t in producers {
            t.join().unwrap();
        }
        let (received, lagged) = reader.join().unwrap();
        assert_eq!(received + lagged, 2 * u64::from(PER), "bounded {bounded}");
        if bounded {
            assert_eq!(lagged, 0);
        }
    }
}

/// `published()` while two producers publish: it never counts a value that
/// is not yet readable (photon-ring's counts sequences claimed, which may
/// still be unwritten), it never goes back, and once both producers have
/// returned it is their total.
#[test]
fn published_counts_only_readable_values_under_contention() {
    let _serial = seqcast_test_support::one_at_a_time();
    let per: u64 = if cfg!(miri) { 20 } else { 20_000 };
    let (p, subs) = channel_mpmc::<u64>(2 * per as usize);
    // Subscribed before any publish, so sequence 0 is its first value.
    let mut s = subs.subscribe();
    let producers = two_producers(&p, per, |id, i| (id << 40) | i);
    let start = Instant::now();
    let mut seen = 0;
    let mut before = 0;
    while seen < 2 * per {
        let n = p.published();
        assert!(n >= before, "published went back: {n} < {before}");
        before = n;
        // Every sequence below `n` is written: readable without waiting.
        while seen < n {
            match s.try_recv() {
                Ok(_) => seen += 1,
                Err(e) => panic!("published() said {n}, but {seen} is not readable: {e}"),
            }
        }
        std::thread::yield_now();
        assert!(start.elapsed() < DEADLINE, "stalled at {seen}");
    }
    for t in producers {
        t.join().unwrap();
    }
    assert_eq!(p.published(), 2 * per);
    assert_eq!(s.try_recv(), Err(TryRecvError::Empty));
}

/// An over-aligned payload with padding and a `bool`, from two producers on
/// a 3-slot ring: every value read is whole (all its fields agree).
#[test]
fn over_aligned_payloads_are_never_torn() {
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(align(128))]
    struct Wide {
        tag: u64,
        small: u8,
        flag: bool,
        again: u32,
    }
    let _serial = seqcast_test_support::one_at_a_time();
    fn wide(v: u64) -> Wide {
        Wide {
            tag: v,
            small: v as u8,
            flag: !v.is_multiple_of(2),
            again: v as u32,
        }
    }
    let (p, subs) = channel_mpmc::<Wide>(3);
    let mut s = subs.subscribe();
    let producers = two_producers(&p, u64::from(PER), |id, i| wide((id << 40) | i));
    drop(p);
    let start = Instant::now();
    loop {
        match s.recv_timeout(Duration::from_secs(10)) {
            Ok(w) => assert_eq!(w, wide(w.tag), "torn"),
            Err(RecvTimeoutError::Lagged { .. }) => {}
            Err(RecvTimeoutError::Closed) => break,
            Err(RecvTimeoutError::Timeout) => panic!("stalled"),
        }
        assert!(start.elapsed() < DEADLINE, "stalled");
    }
    for t in producers {
        t.join().unwrap();
    }
    assert_eq!(s.total_received() + s.total_lagged(), 2 * u64::from(PER));
}

/// Capacities out of range are errors (or a panic from the panicking
/// constructors), never an abort, including for a zero-sized payload.
#[test]
fn huge_capacities_are_errors_not_aborts() {
    use ring_mpmc::{ChannelError, try_channel_mpmc, try_channel_mpmc_bounded};
    assert!(matches!(
        try_channel_mpmc::<()>(usize::MAX),
        Err(ChannelError::Capacity(_))
    ));
    assert!(matches!(
        try_channel_mpmc::<()>(ring_core::Capacity::MAX),
        Err(ChannelError::Alloc(_))
    ));
    assert!(matches!(
        try_channel_mpmc_bounded::<u8>(ring_core::Capacity::MAX, 0),
        Err(ChannelError::Alloc(_))
    ));
    assert!(matches!(
        try_channel_mpmc_bounded::<u8>(2, usize::MAX),
        Err(ChannelError::Watermark { .. })
    ));
    assert!(std::panic::catch_unwind(|| channel_mpmc_bounded::<u8>(2, 2)).is_err());
}
