//! loom models on the real chan-broadcast types: send vs recv wake-up, the
//! last sender dropping while a receiver waits, a receiver dropped (and one
//! subscribed) while a send runs, the lossless sender waiting and being
//! woken, two senders claiming at once, the close lifecycle,
//! `subscribe_from_oldest` racing a send, a receive and a receiver drop
//! (both modes), and `close` racing a send from another clone. Each model
//! sets its own preemption bound (`LOOM_MAX_PREEMPTIONS` overrides it).
#![cfg(ring_loom)]

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use chan_broadcast::error::{RecvError, TryRecvError};
use chan_broadcast::{channel, channel_lossless};

#[test]
fn send_vs_recv_wake_up() {
    model(3, || {
        let (tx, mut rx) = channel::<u32>(2);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        // Parks in the recv future until the send wakes it: a lost wake-up
        // is a deadlock loom reports.
        assert_eq!(block_on(rx.recv()), Ok(1));
        drop(sender.join().unwrap());
    });
}

#[test]
fn last_sender_drop_while_a_receiver_waits() {
    model(3, || {
        let (tx, mut rx) = channel::<u32>(2);
        let tx2 = tx.clone();
        let a = thread::spawn(move || drop(tx));
        let b = thread::spawn(move || {
            tx2.send(5).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Ok(5));
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Clone for Counted {
    fn clone(&self) -> Self {
        Counted(Arc::clone(&self.0))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn receiver_drop_and_subscribe_while_a_send_runs() {
    model(3, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut keep) = channel::<Counted>(2);
        let leaving = tx.subscribe();
        let tx = Arc::new(tx);
        let tx2 = Arc::clone(&tx);
        let d = Arc::clone(&drops);
        let sender = thread::spawn(move || {
            tx2.send(Counted(d)).unwrap();
        });
        let gate = thread::spawn(move || drop(leaving));
        let mut joined = tx.subscribe();
        sender.join().unwrap();
        gate.join().unwrap();
        let mine = keep.try_recv().expect("kept receiver gets the value");
        drop(mine);
        // The late receiver saw it or not, but its count was exact either
        // way: once everyone who will read it has, it is gone.
        match joined.try_recv() {
            Ok(v) => drop(v),
            Err(TryRecvError::Empty) => {}
            Err(e) => panic!("{e}"),
        }
        assert_eq!(tx.len(), 0, "a value held for nobody");
        // One clone or the moved original per reader, and the original.
        let n = drops.load(Ordering::SeqCst);
        assert!(n == 1 || n == 2, "drops {n}");
    });
}

#[test]
fn two_senders_claim_at_once() {
    model(3, || {
        let (tx, mut rx) = channel::<u32>(2);
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send(1).unwrap());
        let b = thread::spawn(move || tx2.send(2).unwrap());
        a.join().unwrap();
        b.join().unwrap();
        let x = rx.try_recv().unwrap();
        let y = rx.try_recv().unwrap();
        assert_eq!(x + y, 3);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

#[test]
fn lossless_sender_waits_and_is_woken() {
    model(2, || {
        let (tx, mut rx) = channel_lossless::<u32>(1);
        let sender = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            // Waits until the receiver has read 1.
            block_on(tx.send(2)).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert_eq!(block_on(rx.recv()), Ok(2));
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        sender.join().unwrap();
    });
}

#[test]
fn close_lifecycle() {
    model(2, || {
        let (tx, mut rx) = channel::<u32>(2);
        tx.send(1).unwrap();
        let reader = thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(v) = block_on(rx.recv()) {
                got.push(v);
            }
            got
        });
        let closed = block_on(tx.close().drained());
        assert_eq!(reader.join().unwrap(), [1]);
        assert_eq!(closed.receiver_count(), 0);
    });
}

#[test]
fn subscribe_from_oldest_while_a_send_runs() {
    model(3, || {
        let (tx, mut first) = channel::<u32>(2);
        tx.send(1).unwrap();
        let tx = Arc::new(tx);
        let tx2 = Arc::clone(&tx);
        let sender = thread::spawn(move || {
            tx2.send(2).unwrap();
        });
        let mut late = tx.subscribe_from_oldest();
        sender.join().unwrap();
        // The late receiver joined value 1 (still held) and so sees 1, then
        // 2: it is counted in every value it will read, no more, no less.
        assert_eq!(late.try_recv(), Ok(1));
        assert_eq!(late.try_recv(), Ok(2));
        assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(tx.len(), 2, "both still held for `first`");
        assert_eq!(first.try_recv(), Ok(1));
        assert_eq!(first.try_recv(), Ok(2));
        assert_eq!(tx.len(), 0);
    });
}

/// A model with its own preemption bound, so `cargo test` under
/// `--cfg ring_loom` finishes without `LOOM_MAX_PREEMPTIONS`.
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound);
    }
    builder.check(f);
}

/// The late receiver's values: a contiguous run ending at `last`, or none.
fn drain_suffix(rx: &mut chan_broadcast::Receiver<u32>, last: u32) {
    let mut prev: Option<u32> = None;
    loop {
        match rx.try_recv() {
            Ok(v) => {
                if let Some(p) = prev {
                    assert_eq!(v, p + 1, "a gap in the late receiver's run");
                }
                prev = Some(v);
            }
            Err(TryRecvError::Empty) => break,
            Err(e) => panic!("{e}"),
        }
    }
    if let Some(p) = prev {
        assert_eq!(p, last, "the run must end at the newest value");
    }
}

/// Either kind of sender, for models that run in both modes.
enum Tx {
    Lossy(chan_broadcast::Sender<u32>),
    Lossless(chan_broadcast::LosslessSender<u32>),
}

impl Tx {
    fn new(lossless: bool) -> (Tx, chan_broadcast::Receiver<u32>) {
        if lossless {
            let (tx, rx) = channel_lossless(2);
            (Tx::Lossless(tx), rx)
        } else {
            let (tx, rx) = channel(2);
            (Tx::Lossy(tx), rx)
        }
    }

    fn send(&self, v: u32) -> bool {
        match self {
            Tx::Lossy(tx) => tx.send(v).is_ok(),
            Tx::Lossless(tx) => tx.try_send(v).is_ok(),
        }
    }

    fn subscribe_from_oldest(&self) -> chan_broadcast::Receiver<u32> {
        match self {
            Tx::Lossy(tx) => tx.subscribe_from_oldest(),
            Tx::Lossless(tx) => tx.subscribe_from_oldest(),
        }
    }
}

/// `subscribe_from_oldest` racing a receive that frees the values it scans
/// (the upward scan joined 0, missed 1 freed behind the reader, then read
/// 1 on a count that was not its own).
#[test]
fn subscribe_from_oldest_vs_a_receive() {
    for lossless in [false, true] {
        model(3, move || {
            let (tx, mut a) = Tx::new(lossless);
            assert!(tx.send(0) && tx.send(1));
            let reader = thread::spawn(move || {
                assert_eq!(a.try_recv(), Ok(0));
                assert_eq!(a.try_recv(), Ok(1));
                a
            });
            let mut late = tx.subscribe_from_oldest();
            let mut a = reader.join().unwrap();
            drain_suffix(&mut late, 1);
            // Both slots free again, for both receivers.
            assert!(tx.send(2) && tx.send(3), "a slot still held for nobody");
            assert_eq!(a.try_recv(), Ok(2));
            assert_eq!(late.try_recv(), Ok(2));
        });
    }
}

/// `subscribe_from_oldest` racing the drop of the only other receiver,
/// whose release walk frees the values the scan visits.
#[test]
fn subscribe_from_oldest_vs_a_receiver_drop() {
    for lossless in [false, true] {
        model(3, move || {
            let (tx, a) = Tx::new(lossless);
            assert!(tx.send(0) && tx.send(1));
            let dropper = thread::spawn(move || drop(a));
            let mut late = tx.subscribe_from_oldest();
            dropper.join().unwrap();
            drain_suffix(&mut late, 1);
            assert!(tx.send(2) && tx.send(3), "a slot still held for nobody");
            assert_eq!(late.try_recv(), Ok(2));
            assert_eq!(late.try_recv(), Ok(3));
        });
    }
}

/// `close` racing a send from another clone: the send claimed before the
/// close and commits after it. With no receiver, no read follows that
/// commit, so only the commit can wake `drained()`: a lost wake-up is a
/// deadlock loom reports.
#[test]
fn close_vs_a_send_from_a_clone() {
    model(3, || {
        let (tx, rx) = channel::<u32>(2);
        drop(rx);
        let other = tx.clone();
        let sender = thread::spawn(move || {
            let _ = other.send(1);
        });
        let closed = block_on(tx.close().drained());
        assert_eq!(closed.receiver_count(), 0);
        sender.join().unwrap();
    });
}

/// The same race with a receiver that reads while the channel drains.
#[test]
fn close_vs_a_send_from_a_clone_with_a_reader() {
    model(2, || {
        let (tx, mut rx) = channel::<u32>(2);
        let other = tx.clone();
        let sender = thread::spawn(move || {
            let _ = other.send(1);
            // Reads what was sent, then sees the close.
            loop {
                match rx.try_recv() {
                    Ok(v) => assert_eq!(v, 1),
                    Err(TryRecvError::Closed) => break,
                    Err(TryRecvError::Empty) => loom::thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            }
        });
        drop(block_on(tx.close().drained()));
        sender.join().unwrap();
    });
}

/// `Sender::closed()` waiting while the last receiver drops on another
/// thread: a lost wake-up is a deadlock loom reports.
#[test]
fn closed_vs_the_last_receiver_drop() {
    model(3, || {
        let (tx, rx) = channel::<u32>(2);
        let dropper = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert_eq!(tx.receiver_count(), 0);
        dropper.join().unwrap();
    });
}

/// A receiver waiting while a send claimed before the close commits after
/// it: the receiver must wait for that commit (which wakes it), read the
/// value, then see the close, in every interleaving. (The busy loop the
/// receiver used to run in that window is not something loom reports: a
/// spinning thread still lets the others run. The unit test
/// `a_closed_channel_with_a_claim_in_flight_is_not_news_until_it_commits`
/// fixes that interleaving by hand and failed before the fix.)
#[test]
fn recv_vs_a_send_in_flight_at_the_close() {
    model(3, || {
        let (tx, mut rx) = channel::<u32>(2);
        let tx2 = tx.clone();
        let sender = thread::spawn(move || {
            tx2.send(1).unwrap();
        });
        drop(tx);
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        sender.join().unwrap();
    });
}
