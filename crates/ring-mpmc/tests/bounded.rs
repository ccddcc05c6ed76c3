//! The bounded ring as ring-spmc's bounded ring behaves, with several
//! producers: a subscriber that registers behind the cursor
//! (`subscribe_from_oldest`) gates the very next publish when nobody else
//! gates, whichever clone publishes.

use ring_mpmc::{PublishError, channel_mpmc_bounded};

/// ring-spmc's `subscribe_from_oldest_is_seen_at_once_when_nobody_else_gates`
/// (photon-ring 3.0's behaviour) with two clones: with no gating subscriber
/// the producers cached a limit a window past the cursor, so a subscriber
/// from `subscribe_from_oldest` was lapped by the next publish (`Lagged` on a
/// bounded ring) instead of that publish being refused.
#[test]
fn subscribe_from_oldest_is_seen_at_once_when_nobody_else_gates() {
    let (p, subs) = channel_mpmc_bounded::<u64>(4, 2);
    let q = p.clone();
    for i in 0..33 {
        let h = if i % 2 == 0 { &p } else { &q };
        h.try_publish(i).unwrap(); // nobody gates
    }
    let mut s = subs.subscribe_from_oldest();
    assert_eq!(s.cursor(), 29);
    assert_eq!(p.try_publish(33), Err(PublishError::Full(33)));
    assert_eq!(q.try_publish(33), Err(PublishError::Full(33)));
    assert_eq!(s.try_recv(), Ok(29));
    assert_eq!(s.try_recv(), Ok(30));
    assert_eq!(q.try_publish(33), Err(PublishError::Full(33)));
    assert_eq!(s.try_recv(), Ok(31));
    assert_eq!(q.try_publish(33), Ok(()));
    assert_eq!(s.drain().collect::<Vec<_>>(), [32, 33]);
    assert_eq!(s.total_lagged(), 0);
}

/// The same with `publish`, which waits instead of refusing: the gating
/// subscriber (on another thread) reads the retained history, then the
/// new value, and loses nothing.
#[test]
fn a_publish_after_subscribe_from_oldest_waits_for_it() {
    let (p, subs) = channel_mpmc_bounded::<u64>(4, 0);
    for i in 0..10 {
        p.clone().publish(i); // nobody gates
    }
    let mut s = subs.subscribe_from_oldest();
    assert_eq!(s.cursor(), 6);
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        while got.len() < 5 {
            match s.recv_timeout(std::time::Duration::from_secs(10)) {
                Ok(v) => got.push(v),
                Err(e) => panic!("{e} after {got:?}"),
            }
        }
        (got, s.total_lagged())
    });
    p.publish(10);
    let (got, lagged) = reader.join().unwrap();
    assert_eq!(got, [6, 7, 8, 9, 10]);
    assert_eq!(lagged, 0);
}
