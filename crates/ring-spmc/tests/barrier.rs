//! Dependency barriers: pipelines and diamonds see values only after every
//! upstream has read them.

use ring_spmc::{DependencyBarrier, TryRecvError, channel, channel_bounded};

#[test]
fn pipeline_stage_waits_for_its_upstream() {
    let (mut p, subs) = channel::<u32>(16);
    let mut parse = subs.subscribe_tracked();
    let parsed = DependencyBarrier::from_subscribers(&[&parse]);
    let mut enrich = subs.subscribe_tracked();
    let enriched = DependencyBarrier::from_subscribers(&[&enrich]);
    let mut publish = subs.subscribe();

    p.publish_batch(&[1, 2, 3]);
    assert_eq!(enrich.try_recv_gated(&parsed), Err(TryRecvError::Empty));
    assert_eq!(parse.try_recv(), Ok(1));
    assert_eq!(enrich.try_recv_gated(&parsed), Ok(1));
    assert_eq!(enrich.try_recv_gated(&parsed), Err(TryRecvError::Empty));
    assert_eq!(publish.try_recv_gated(&enriched), Ok(1));
    assert_eq!(publish.try_recv_gated(&enriched), Err(TryRecvError::Empty));
    assert_eq!(parse.drain().count(), 2);
    assert_eq!(enrich.recv_gated(&parsed), 2);
    assert_eq!(publish.recv_gated(&enriched), 2);
}

#[test]
fn diamond_waits_for_the_slowest_branch() {
    let (mut p, subs) = channel_bounded::<u64>(8, 0);
    let mut left = subs.subscribe();
    let mut right = subs.subscribe();
    let join = DependencyBarrier::new(vec![left.tracker().unwrap(), right.tracker().unwrap()]);
    assert_eq!(join.upstream_count(), 2);
    let mut sink = subs.subscribe();
    p.publish_batch(&[10, 20]);
    assert_eq!(left.drain().count(), 2);
    assert_eq!(join.slowest(), 0);
    assert_eq!(sink.try_recv_gated(&join), Err(TryRecvError::Empty));
    assert_eq!(right.try_recv(), Ok(10));
    // Handed to a barrier, the tracker is exact after every receive.
    assert_eq!(join.slowest(), 1);
    assert_eq!(sink.try_recv_gated(&join), Ok(10));
    assert_eq!(sink.try_recv_gated(&join), Err(TryRecvError::Empty));
}

#[test]
#[should_panic(expected = "at least one upstream")]
fn empty_barrier_is_refused() {
    let _ = DependencyBarrier::new(Vec::new());
}

#[test]
#[should_panic(expected = "use subscribe_tracked()")]
fn untracked_upstream_is_refused_with_the_fix() {
    let (_p, subs) = channel::<u8>(8);
    let plain = subs.subscribe();
    let _ = DependencyBarrier::from_subscribers(&[&plain]);
}

/// Issue 9, bug 6: a dropped upstream releases its dependants (it used to
/// stall the downstream forever, and `recv_gated` spun after the close).
#[test]
fn a_dropped_upstream_releases_the_downstream() {
    let (mut p, subs) = channel::<u64>(8);
    let mut a = subs.subscribe_tracked();
    let b = subs.subscribe_tracked();
    let barrier = DependencyBarrier::from_subscribers(&[&a, &b]);
    let mut down = subs.subscribe();
    p.publish_batch(&[1, 2]);
    a.try_recv().unwrap();
    assert_eq!(down.try_recv_gated(&barrier), Err(TryRecvError::Empty));
    drop(b);
    assert_eq!(down.try_recv_gated(&barrier), Ok(1), "only a gates now");
    assert_eq!(down.try_recv_gated(&barrier), Err(TryRecvError::Empty));
    drop(a);
    assert_eq!(barrier.slowest(), u64::MAX);
    assert_eq!(down.try_recv_gated(&barrier), Ok(2));
}

/// `recv_gated` with a dropped upstream after the close: returns what is
/// left, then reports the close (it used to spin forever).
#[test]
fn recv_gated_after_close_with_a_dropped_upstream_returns() {
    let (mut p, subs) = channel_bounded::<u64>(8, 0);
    let up = subs.subscribe();
    let barrier = DependencyBarrier::from_subscribers(&[&up]);
    let mut down = subs.subscribe();
    p.publish(5);
    drop(up);
    drop(p);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let v = down.recv_gated(&barrier);
        let closed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| down.recv_gated(&barrier)));
        tx.send((v, closed.is_err())).unwrap();
    });
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(10)),
        Ok((5, true)),
        "the value, then the closed-channel panic"
    );
}
