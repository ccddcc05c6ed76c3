//! Real threads: 2 senders and 3 receivers, every value checked. Lossy:
//! per sender in order, `received + lagged == sent`. Lossless: every value,
//! per sender in order. Receivers and lossless senders park (5 threads on
//! 2 cores); sizes shrink under Miri, and in debug builds (the cross
//! step's, where qemu-user took 84 s for the release size on aarch64).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use chan_broadcast::error::RecvError;
use chan_broadcast::{Receiver, channel, channel_lossless};

const PER_SENDER: u64 = if cfg!(miri) {
    20
} else if cfg!(debug_assertions) {
    20_000
} else {
    100_000
};
const SENDERS: u64 = 2;
const RECEIVERS: usize = 3;

/// A value that notices a torn or mixed-up clone: `check` must match.
#[derive(Clone, Debug)]
struct Msg {
    sender: u64,
    seq: u64,
    check: Arc<u64>,
}

impl Msg {
    fn new(sender: u64, seq: u64) -> Self {
        Msg {
            sender,
            seq,
            check: Arc::new((sender * 1_000_000_007) ^ seq),
        }
    }
}

/// Receives until closed; returns (values received per sender, lag total).
fn drain(mut rx: Receiver<Msg>, lossless: bool) -> ([u64; SENDERS as usize], u64) {
    let mut next = [0_u64; SENDERS as usize];
    let mut got = [0_u64; SENDERS as usize];
    let mut lagged = 0;
    loop {
        match rx.blocking_recv() {
            Ok(m) => {
                assert_eq!(*m.check, (m.sender * 1_000_000_007) ^ m.seq, "torn value");
                let s = m.sender as usize;
                assert!(m.seq >= next[s], "sender {s}: {} after {}", m.seq, next[s]);
                if lossless {
                    assert_eq!(m.seq, next[s], "sender {s} lost a value");
                }
                next[s] = m.seq + 1;
                got[s] += 1;
            }
            Err(RecvError::Lagged(n)) => {
                assert!(!lossless, "a lossless channel lagged");
                lagged += n;
            }
            Err(RecvError::Closed) => return (got, lagged),
        }
    }
}

/// One sender thread's body: sends its values through `send`.
fn sender(
    id: u64,
    sent: &Arc<AtomicU64>,
    send: impl Fn(Msg) + Send + 'static,
) -> Box<dyn FnOnce() + Send> {
    let sent = Arc::clone(sent);
    Box::new(move || {
        for seq in 0..PER_SENDER {
            send(Msg::new(id, seq));
            sent.fetch_add(1, Ordering::Relaxed);
            if seq % 256 == 0 {
                thread::yield_now();
            }
        }
    })
}

fn run(lossless: bool) {
    // Five threads each: the two tests take turns.
    let _serial = seqcast_test_support::one_at_a_time();
    let sent = Arc::new(AtomicU64::new(0));
    let (senders, rx): (Vec<_>, _) = if lossless {
        let (tx, rx) = channel_lossless::<Msg>(64);
        let s = (0..SENDERS)
            .map(|id| {
                let tx = tx.clone();
                sender(id, &sent, move |m| {
                    tx.blocking_send(m).unwrap();
                })
            })
            .collect();
        (s, rx)
    } else {
        let (tx, rx) = channel::<Msg>(64);
        let s = (0..SENDERS)
            .map(|id| {
                let tx = tx.clone();
                sender(id, &sent, move |m| {
                    tx.send(m).unwrap();
                })
            })
            .collect();
        (s, rx)
    };
    let mut receivers = vec![rx];
    for _ in 1..RECEIVERS {
        receivers.push(receivers[0].resubscribe());
    }
    let readers: Vec<_> = receivers
        .into_iter()
        .map(|rx| thread::spawn(move || drain(rx, lossless)))
        .collect();
    let writers: Vec<_> = senders.into_iter().map(thread::spawn).collect();
    for w in writers {
        w.join().unwrap();
    }
    // The senders' handles dropped with their closures: the channel closed.
    for r in readers {
        let (got, lagged) = r.join().unwrap();
        let total: u64 = got.iter().sum();
        assert_eq!(
            total + lagged,
            SENDERS * PER_SENDER,
            "got {got:?}, lagged {lagged}"
        );
        if lossless {
            assert_eq!(got, [PER_SENDER; SENDERS as usize]);
        }
    }
    assert_eq!(sent.load(Ordering::Relaxed), SENDERS * PER_SENDER);
}

#[test]
fn lossy_two_senders_three_receivers_count_every_value() {
    run(false);
}

#[test]
fn lossless_two_senders_three_receivers_lose_nothing() {
    run(true);
}
