//! The publisher surface on one thread: exact capacity and lag counts, clones
//! sharing one sequence, `try_publish` and `Full`, lossy taps on a bounded
//! ring, constructor errors, and the auto traits photon-ring users rely on.

use ring_core::CapacityError;
use ring_mpmc::{
    ChannelError, MpPublisher, PublishError, Subscribable, TryRecvError, channel_mpmc,
    channel_mpmc_bounded, try_channel_mpmc, try_channel_mpmc_bounded,
};

static_assertions::assert_impl_all!(MpPublisher<u64>: Clone, Send, Sync);
static_assertions::assert_impl_all!(Subscribable<(u8, bool)>: Clone, Send, Sync);

#[test]
fn capacity_is_exact_and_lag_is_counted_for_it() {
    for cap in [2_usize, 5, 6, 8, 60, 1000] {
        let (p, subs) = channel_mpmc::<u64>(cap);
        assert_eq!(p.capacity(), cap as u64);
        let mut s = subs.subscribe();
        let q = p.clone();
        let total = 3 * cap as u64 + 1;
        for i in 0..total {
            if i % 2 == 0 {
                p.publish(i)
            } else {
                q.publish_with(|| i)
            }
        }
        // photon-ring's arithmetic: the oldest retained is total - cap.
        assert_eq!(
            s.try_recv(),
            Err(TryRecvError::Lagged {
                skipped: total - cap as u64
            }),
            "capacity {cap}"
        );
        let rest: Vec<u64> = s.drain().collect();
        assert_eq!(rest, (total - cap as u64..total).collect::<Vec<_>>());
        assert_eq!(s.total_received() + s.total_lagged(), total);
    }
}

#[test]
fn clones_share_one_sequence_and_published_count() {
    let (p, subs) = channel_mpmc::<(u8, u32)>(16);
    let mut s = subs.subscribe();
    let q = p.clone();
    let r = std::sync::Arc::new(q.clone());
    p.publish((0, 0));
    q.publish((1, 0));
    r.publish((2, 0));
    p.publish((0, 1));
    for h in [&p, &q, &*r] {
        assert_eq!(h.published(), 4);
    }
    assert_eq!(
        s.drain().collect::<Vec<_>>(),
        [(0, 0), (1, 0), (2, 0), (0, 1)]
    );
}

#[test]
fn lossy_try_publish_never_refuses() {
    let (p, subs) = channel_mpmc::<u8>(2);
    let _s = subs.subscribe();
    for i in 0..10 {
        assert_eq!(p.try_publish(i), Ok(()));
    }
    assert_eq!(p.published(), 10);
}

#[test]
fn bounded_refuses_at_capacity_minus_watermark_and_frees_one_per_read() {
    for (cap, wm) in [(4, 0), (6, 2), (5, 1)] {
        let (p, subs) = channel_mpmc_bounded::<u32>(cap, wm);
        let q = p.clone();
        let mut s = subs.subscribe();
        let room = (cap - wm) as u32;
        for i in 0..room {
            let h = if i % 2 == 0 { &p } else { &q };
            h.try_publish(i).unwrap();
        }
        assert_eq!(p.try_publish(99), Err(PublishError::Full(99)));
        assert_eq!(q.try_publish(98), Err(PublishError::Full(98)));
        assert_eq!(s.try_recv(), Ok(0));
        assert_eq!(q.try_publish(room), Ok(()));
        assert_eq!(p.try_publish(97), Err(PublishError::Full(97)));
        assert_eq!(
            s.drain().collect::<Vec<_>>(),
            (1..=room).collect::<Vec<_>>()
        );
        assert_eq!(s.total_lagged(), 0);
    }
}

#[test]
fn bounded_without_gating_subscribers_never_blocks_and_taps_lag() {
    let (p, subs) = channel_mpmc_bounded::<u64>(4, 0);
    let mut tap = subs.subscribe_lossy();
    for i in 0..10 {
        p.try_publish(i).unwrap();
    }
    assert_eq!(tap.try_recv(), Err(TryRecvError::Lagged { skipped: 6 }));
    assert_eq!(tap.drain().collect::<Vec<_>>(), [6, 7, 8, 9]);
}

#[test]
fn a_dropped_gating_subscriber_releases_the_producers() {
    let (p, subs) = channel_mpmc_bounded::<u64>(2, 0);
    let s = subs.subscribe();
    p.publish(0);
    p.publish(1);
    assert_eq!(p.try_publish(2), Err(PublishError::Full(2)));
    drop(s);
    for i in 2..10 {
        p.clone().try_publish(i).unwrap();
    }
}

#[test]
fn a_subscriber_joining_late_is_gated_from_its_start() {
    let (p, subs) = channel_mpmc_bounded::<u64>(4, 0);
    for i in 0..6 {
        p.publish(i);
    }
    let mut s = subs.subscribe();
    assert_eq!(s.cursor(), 6);
    for i in 6..10 {
        p.try_publish(i).unwrap();
    }
    assert_eq!(p.try_publish(10), Err(PublishError::Full(10)));
    assert_eq!(s.drain().collect::<Vec<_>>(), [6, 7, 8, 9]);
}

#[test]
fn constructors_validate_like_ring_spmc() {
    assert_eq!(
        try_channel_mpmc::<u8>(1).unwrap_err(),
        ChannelError::Capacity(CapacityError::TooSmall(1))
    );
    assert_eq!(
        try_channel_mpmc_bounded::<u8>(3, 3).unwrap_err(),
        ChannelError::Watermark {
            watermark: 3,
            capacity: 3
        }
    );
    assert!(matches!(
        try_channel_mpmc::<[u64; 1024]>(ring_core::Capacity::MAX),
        Err(ChannelError::Alloc(_))
    ));
    let caught = std::panic::catch_unwind(|| channel_mpmc::<u8>(0)).unwrap_err();
    let msg = caught.downcast_ref::<String>().unwrap();
    assert!(msg.contains("ring_mpmc::channel_mpmc"), "{msg}");
    assert!(msg.contains("at least 2"), "{msg}");
}

#[test]
fn debug_shows_the_state() {
    let (p, _subs) = channel_mpmc_bounded::<u8>(4, 1);
    p.publish(1);
    assert_eq!(
        format!("{p:?}"),
        "MpPublisher { published: 1, capacity: 4, bounded: true }"
    );
}
