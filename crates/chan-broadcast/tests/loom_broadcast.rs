//! loom models on the real chan-broadcast types: send vs recv wake-up, the
//! last sender dropping while a receiver waits, a receiver dropped (and one
//! subscribed) while a send runs, the lossless sender waiting and being
//! woken, two senders claiming at once, and the close lifecycle.
#![cfg(ring_loom)]

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use chan_broadcast::error::{RecvError, TryRecvError};
use chan_broadcast::{channel, channel_lossless};

#[test]
fn send_vs_recv_wake_up() {
    loom::model(|| {
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
    loom::model(|| {
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
    loom::model(|| {
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
    loom::model(|| {
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
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
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
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
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
    loom::model(|| {
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
