//! loom models of pairs of public operations a hostile user runs at once,
//! on the real types: a weak sender's upgrade against the last sender's
//! drop, a lossless waiting head cancelled while a receiver frees its slot,
//! a lossless send against a receiver drop, a lossless send queued behind
//! a waiting head against the last receiver drop, `recv_many` against lag,
//! `resubscribe` against a send, `drained()` against a send from a
//! clone and a receiver drop, and `drained()` against a clone's
//! `subscribe_from_oldest` (both modes). Each sets its own preemption bound
//! (`LOOM_MAX_PREEMPTIONS` overrides it).
#![cfg(ring_loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

use chan_broadcast::error::{RecvError, TryRecvError};
use chan_broadcast::{channel, channel_lossless};

fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

/// An upgrade that succeeds while the last sender drops keeps the channel
/// open: a send through it reaches the receiver, and the channel closes
/// only when the upgraded sender drops too.
#[test]
fn weak_upgrade_vs_last_sender_drop() {
    model(3, || {
        let (tx, mut rx) = channel::<u32>(2);
        let weak = tx.downgrade();
        let dropper = thread::spawn(move || drop(tx));
        let sent = match weak.upgrade() {
            Some(t) => {
                assert_eq!(
                    t.send(7).map_err(|e| e.0),
                    Ok(1),
                    "an upgraded sender's channel is open"
                );
                true
            }
            None => false,
        };
        dropper.join().unwrap();
        if sent {
            assert_eq!(rx.try_recv(), Ok(7));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert!(weak.upgrade().is_none());
    });
}

/// Lossless, capacity 1, full: the head of the send queue is dropped while
/// a receiver frees the slot on another thread; the second waiting send
/// must then complete (a lost wake-up is a loom deadlock), and nothing is
/// lost.
#[test]
fn lossless_head_cancelled_while_a_receiver_frees() {
    model(3, || {
        let (tx, mut rx) = channel_lossless::<u32>(1);
        tx.try_send(0).unwrap();
        let mut head = tx.send(1);
        let mut second = tx.send(2);
        assert!(poll_once(&mut head).is_pending());
        assert!(poll_once(&mut second).is_pending());
        let reader = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        drop(head);
        assert_eq!(block_on(second).map_err(|e| e.0), Ok(1));
        let mut rx = reader.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
    });
}

/// Lossless, capacity 1, two receivers, full: a waiting send races the
/// drop of the receiver that still holds the slot. The send completes and
/// the remaining receiver gets both values.
#[test]
fn lossless_send_vs_receiver_drop() {
    model(3, || {
        let (tx, mut keep) = channel_lossless::<u32>(1);
        let leaving = tx.subscribe();
        tx.try_send(0).unwrap();
        assert_eq!(keep.try_recv(), Ok(0));
        let tx = Arc::new(tx);
        let t2 = Arc::clone(&tx);
        let sender = thread::spawn(move || block_on(t2.send(1)));
        drop(leaving);
        let n = sender.join().unwrap();
        assert_eq!(n.map_err(|e| e.0), Ok(1));
        assert_eq!(keep.try_recv(), Ok(1));
        assert_eq!(tx.len(), 0);
    });
}

/// `recv_many` on a lossy capacity-2 channel while another thread sends 4
/// values and drops the sender: values arrive in order, and `received +
/// lagged == 4` when the stream ends.
#[test]
fn recv_many_vs_lag() {
    model(2, || {
        let (tx, mut rx) = channel::<u32>(2);
        let sender = thread::spawn(move || {
            for v in 0..4 {
                tx.send(v).unwrap();
            }
        });
        let mut buf = Vec::new();
        let mut lagged = 0;
        loop {
            match block_on(rx.recv_many(&mut buf, 3)) {
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => lagged += n,
                Err(RecvError::Closed) => break,
            }
        }
        sender.join().unwrap();
        assert!(buf.windows(2).all(|w| w[0] < w[1]), "{buf:?}");
        assert_eq!(buf.len() as u64 + lagged, 4, "{buf:?} lagged {lagged}");
        assert_eq!(buf.last(), Some(&3));
    });
}

/// `resubscribe` while a send runs: the new receiver sees a suffix of the
/// sends (all, the last, or none), and once both receivers have read
/// everything the channel holds nothing.
#[test]
fn resubscribe_vs_send() {
    model(3, || {
        let (tx, mut rx) = channel::<u32>(4);
        let tx = Arc::new(tx);
        let t2 = Arc::clone(&tx);
        let sender = thread::spawn(move || {
            t2.send(1).unwrap();
            t2.send(2).unwrap();
        });
        let mut late = rx.resubscribe();
        sender.join().unwrap();
        let mut got = Vec::new();
        while let Ok(v) = late.try_recv() {
            got.push(v);
        }
        assert!(
            got == [1, 2] || got == [2] || got.is_empty(),
            "late receiver got {got:?}"
        );
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.len(), 0);
    });
}

/// `close` on one sender, a send from a clone and the drop of a second
/// receiver, all at once; the first receiver drains on the main thread.
/// `drained()` must resolve (no lost wake-up) and only after the value
/// the clone sent (if it got in) was read.
#[test]
fn drained_vs_send_from_clone_and_receiver_drop() {
    model(2, || {
        let (tx, mut rx) = channel::<u32>(2);
        let other = tx.clone();
        let leaving = tx.subscribe();
        let sender = thread::spawn(move || other.send(5).is_ok());
        let dropper = thread::spawn(move || drop(leaving));
        let closing = tx.close();
        let drained = thread::spawn(move || {
            let _closed = block_on(closing.drained());
        });
        let mut got = Vec::new();
        loop {
            match block_on(rx.recv()) {
                Ok(v) => got.push(v),
                Err(RecvError::Closed) => break,
                Err(e) => panic!("{e}"),
            }
        }
        let sent = sender.join().unwrap();
        dropper.join().unwrap();
        drained.join().unwrap();
        assert_eq!(got.len(), usize::from(sent), "{got:?}");
    });
}

/// A lossless send queued behind a waiting head while the last receiver
/// drops: it fails (never hangs, never sends), whether it sees the drop
/// before queueing (at once) or after (when the head, woken by the drop,
/// fails and passes its turn on).
#[test]
fn lossless_queued_send_vs_last_receiver_drop() {
    model(3, || {
        let (tx, rx) = channel_lossless::<u32>(1);
        tx.try_send(0).unwrap();
        let tx = Arc::new(tx);
        let mut head = tx.send(1);
        assert!(poll_once(&mut head).is_pending());
        let t2 = Arc::clone(&tx);
        let queued = thread::spawn(move || block_on(t2.send(2)));
        drop(rx);
        assert_eq!(block_on(&mut head).map_err(|e| e.0), Err(1));
        drop(head);
        assert_eq!(queued.join().unwrap().map_err(|e| e.0), Err(2));
        assert_eq!(tx.receiver_count(), 0);
    });
}

/// `drained()` against a `subscribe_from_oldest` from another sender clone,
/// on a closed channel holding one value that the first receiver reads
/// first: a joiner that counted itself in holds the drain back until it
/// has read, so no read that starts after `drained()` resolved finds a
/// value, and nothing hangs. Both modes.
macro_rules! drained_vs_subscribe_from_oldest {
    ($name:ident, $make:expr, $send:ident) => {
        #[test]
        fn $name() {
            model(2, || {
                use loom::sync::atomic::{AtomicBool, Ordering};
                let (tx, mut rx) = $make;
                let other = tx.clone();
                let _ = tx.$send(1);
                let closing = tx.close();
                let done = Arc::new(AtomicBool::new(false));
                let d2 = Arc::clone(&done);
                let joiner = thread::spawn(move || {
                    let mut late = other.subscribe_from_oldest();
                    drop(other);
                    let mut got = Vec::new();
                    loop {
                        // Loaded before the read starts: a read that starts
                        // after `drained()` resolved must find no value.
                        let after = d2.load(Ordering::SeqCst);
                        let Ok(v) = late.try_recv() else { break };
                        assert!(!after, "a value read after drained() resolved");
                        got.push(v);
                    }
                    got
                });
                // The channel is closed with its value committed: the first
                // receiver reads 1, then `Closed`.
                assert_eq!(rx.try_recv(), Ok(1));
                assert!(rx.try_recv().is_err());
                let _closed = block_on(closing.drained());
                done.store(true, Ordering::SeqCst);
                let late = joiner.join().unwrap();
                assert!(late.is_empty() || late == [1], "{late:?}");
            });
        }
    };
}

drained_vs_subscribe_from_oldest!(
    drained_vs_subscribe_from_oldest_lossy,
    channel::<u32>(2),
    send
);
drained_vs_subscribe_from_oldest!(
    drained_vs_subscribe_from_oldest_lossless,
    channel_lossless::<u32>(2),
    try_send
);
