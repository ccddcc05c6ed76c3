//! Gap detection: what a receiver concludes from the frames it gets. Pure
//! logic, no I/O, so it is tested by feeding it frames with holes.
//!
//! A receiver adopts the session of the first frame it sees and expects
//! the next sequence number after it (it joined mid-stream: what was sent
//! before is not a loss, as a new tokio receiver sees only later values).
//! From then on every data frame must carry the next number; the numbers
//! it skipped are lost values. Heartbeat and close frames carry the last
//! number sent, so a lost tail is counted there. Byte streams also carry
//! offsets, so the count of lost bytes is exact.

use crate::wire::{Kind, Meta};

/// What one frame means for this receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Verdict {
    /// Values lost before this frame (reported first).
    pub(crate) lost: u64,
    /// Bytes lost before this frame (byte streams).
    pub(crate) lost_bytes: u64,
    /// A different forwarder session took over the subject (reported
    /// before the loss, which then counts the new session's values this
    /// receiver missed).
    pub(crate) restarted: bool,
    /// The frame is a value to hand out.
    pub(crate) deliver: bool,
    /// The frame closes the stream.
    pub(crate) closed: bool,
}

/// A receiver's position in the forwarded sequence.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sequencer {
    /// The session followed, once a frame was seen.
    session: Option<u64>,
    /// The next data sequence number expected: a u128, so the one after
    /// `u64::MAX` (a forged or wrapped frame) is representable and no
    /// arithmetic on a frame's numbers can overflow.
    next_seq: u128,
    /// The next byte offset expected.
    next_offset: u64,
}

impl Sequencer {
    /// Whether a frame was seen (a position to count gaps from).
    pub(crate) fn started(&self) -> bool {
        self.session.is_some()
    }

    /// The next data sequence number expected (tests).
    #[cfg(test)]
    pub(crate) fn next_seq(&self) -> u128 {
        self.next_seq
    }

    /// Starts following `meta`'s session at this frame (it joined
    /// mid-stream: what was sent before is not a loss): a data frame is
    /// the next expected, a heartbeat or close says what was already sent.
    pub(crate) fn join(&mut self, meta: &Meta) {
        self.session = Some(meta.session);
        self.next_offset = meta.offset.unwrap_or(0);
        self.next_seq = match meta.kind {
            Kind::Data => u128::from(meta.seq),
            Kind::Heartbeat | Kind::Close => u128::from(meta.seq) + 1,
        };
    }

    /// How many values and bytes `ahead` (a later position in the same
    /// session) has taken in that this one has not: what a receiver lost
    /// when the feed's position is final (feed ended) and it lagged on
    /// the local channel with no frame after the lag to count it.
    pub(crate) fn behind(&self, ahead: &Sequencer) -> (u64, u64) {
        if self.session.is_none() || self.session != ahead.session {
            return (0, 0);
        }
        let values = ahead.next_seq.saturating_sub(self.next_seq);
        (
            u64::try_from(values).unwrap_or(u64::MAX),
            ahead.next_offset.saturating_sub(self.next_offset),
        )
    }

    /// Takes in one frame; `len` is its payload's length (bytes streams).
    pub(crate) fn on_frame(&mut self, meta: &Meta, len: u64) -> Verdict {
        let mut v = Verdict::default();
        let offset = meta.offset.unwrap_or(0);
        match self.session {
            Some(s) if s == meta.session => {}
            Some(_) => {
                // A new forwarder: its values start at 1, at offset 0.
                v.restarted = true;
                self.session = Some(meta.session);
                self.next_seq = 1;
                self.next_offset = 0;
            }
            None => self.join(meta),
        }
        let seq = u128::from(meta.seq);
        match meta.kind {
            Kind::Data => {
                if seq < self.next_seq {
                    // Already seen (or older than the join): NATS core does
                    // not redeliver, but never hand a value out twice.
                    return v;
                }
                // Both at most u64::MAX: the difference fits.
                v.lost = (seq - self.next_seq) as u64;
                v.lost_bytes = offset.saturating_sub(self.next_offset);
                v.deliver = true;
                self.next_seq = seq + 1;
                self.next_offset = offset.saturating_add(len).max(self.next_offset);
            }
            Kind::Heartbeat | Kind::Close => {
                if seq >= self.next_seq {
                    // next_seq >= 1 once started: the difference fits.
                    v.lost = u64::try_from(seq + 1 - self.next_seq).unwrap_or(u64::MAX);
                    self.next_seq = seq + 1;
                }
                v.lost_bytes = offset.saturating_sub(self.next_offset);
                self.next_offset = self.next_offset.max(offset);
                v.closed = meta.kind == Kind::Close;
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(session: u64, seq: u64) -> Meta {
        Meta {
            kind: Kind::Data,
            session,
            seq,
            offset: None,
        }
    }

    fn chunk(seq: u64, offset: u64) -> Meta {
        Meta {
            kind: Kind::Data,
            session: 1,
            seq,
            offset: Some(offset),
        }
    }

    fn ctl(kind: Kind, seq: u64, offset: Option<u64>) -> Meta {
        Meta {
            kind,
            session: 1,
            seq,
            offset,
        }
    }

    /// Feeds data frames with these sequence numbers; returns the loss
    /// reported before each.
    fn losses(seqs: &[u64]) -> Vec<u64> {
        let mut s = Sequencer::default();
        seqs.iter()
            .map(|&q| {
                let v = s.on_frame(&data(1, q), 0);
                assert!(v.deliver && !v.closed && !v.restarted);
                v.lost
            })
            .collect()
    }

    #[test]
    fn in_order_loses_nothing() {
        assert_eq!(losses(&[1, 2, 3, 4]), [0, 0, 0, 0]);
    }

    #[test]
    fn joining_mid_stream_is_not_a_loss() {
        assert_eq!(losses(&[40, 41, 42]), [0, 0, 0]);
    }

    #[test]
    fn each_hole_is_counted_where_it_is() {
        assert_eq!(losses(&[1, 2, 5, 6, 7, 100]), [0, 0, 2, 0, 0, 92]);
    }

    #[test]
    fn old_or_duplicate_frames_are_not_delivered() {
        let mut s = Sequencer::default();
        assert!(s.on_frame(&data(1, 5), 0).deliver);
        let v = s.on_frame(&data(1, 5), 0);
        assert!(!v.deliver && v.lost == 0);
        assert!(!s.on_frame(&data(1, 3), 0).deliver);
        assert_eq!(s.on_frame(&data(1, 6), 0).lost, 0);
    }

    #[test]
    fn a_lost_tail_shows_at_the_heartbeat_and_the_close() {
        let mut s = Sequencer::default();
        s.on_frame(&data(1, 1), 0);
        // 2 and 3 lost; the heartbeat says 3 was sent.
        let v = s.on_frame(&ctl(Kind::Heartbeat, 3, None), 0);
        assert_eq!((v.lost, v.deliver, v.closed), (2, false, false));
        // Nothing new: a second heartbeat reports nothing.
        assert_eq!(s.on_frame(&ctl(Kind::Heartbeat, 3, None), 0).lost, 0);
        s.on_frame(&data(1, 4), 0);
        let v = s.on_frame(&ctl(Kind::Close, 6, None), 0);
        assert_eq!((v.lost, v.closed), (2, true));
    }

    #[test]
    fn a_heartbeat_first_sets_the_start() {
        let mut s = Sequencer::default();
        assert_eq!(s.on_frame(&ctl(Kind::Heartbeat, 9, None), 0).lost, 0);
        assert_eq!(s.on_frame(&data(1, 12), 0).lost, 2); // 10 and 11
    }

    #[test]
    fn a_new_session_restarts_the_count() {
        let mut s = Sequencer::default();
        s.on_frame(&data(1, 1), 0);
        s.on_frame(&data(1, 2), 0);
        let v = s.on_frame(&data(2, 1), 0);
        assert!(v.restarted && v.deliver);
        assert_eq!(v.lost, 0);
        // The new session's first two values were missed.
        let mut s = Sequencer::default();
        s.on_frame(&data(1, 1), 0);
        let v = s.on_frame(&data(2, 3), 0);
        assert!(v.restarted);
        assert_eq!(v.lost, 2);
    }

    #[test]
    fn sequence_number_u64_max_does_not_overflow() {
        // A data frame at u64::MAX, then a close saying so: no panic, no
        // false loss after it.
        let mut s = Sequencer::default();
        s.on_frame(&data(1, 1), 0);
        let v = s.on_frame(&data(1, u64::MAX), 0);
        assert_eq!((v.lost, v.deliver), (u64::MAX - 2, true));
        let v = s.on_frame(&ctl(Kind::Close, u64::MAX, None), 0);
        assert_eq!((v.lost, v.closed), (0, true));
        // A heartbeat at u64::MAX first, then anything of the session.
        let mut s = Sequencer::default();
        assert_eq!(s.on_frame(&ctl(Kind::Heartbeat, u64::MAX, None), 0).lost, 0);
        assert!(!s.on_frame(&data(1, u64::MAX), 0).deliver);
        assert_eq!(s.on_frame(&ctl(Kind::Heartbeat, u64::MAX, None), 0).lost, 0);
    }

    #[test]
    fn lost_bytes_are_exact() {
        let mut s = Sequencer::default();
        // Chunks of 10, 20, 30, 40 bytes at offsets 0, 10, 30, 60.
        assert_eq!(s.on_frame(&chunk(1, 0), 10).lost_bytes, 0);
        // Chunk 2 (20 bytes) and 3 (30 bytes) lost.
        let v = s.on_frame(&chunk(4, 60), 40);
        assert_eq!((v.lost, v.lost_bytes), (2, 50));
        // A tail of 7 bytes in one chunk lost before the close.
        let v = s.on_frame(&ctl(Kind::Close, 5, Some(107)), 0);
        assert_eq!((v.lost, v.lost_bytes, v.closed), (1, 7, true));
    }

    #[test]
    fn bytes_joining_mid_stream_start_at_the_offset() {
        let mut s = Sequencer::default();
        assert_eq!(s.on_frame(&chunk(3, 500), 5).lost_bytes, 0);
        let v = s.on_frame(&chunk(4, 505), 5);
        assert_eq!((v.lost, v.lost_bytes), (0, 0));
        let v = s.on_frame(&ctl(Kind::Heartbeat, 4, Some(510)), 0);
        assert_eq!((v.lost, v.lost_bytes), (0, 0));
    }

    #[test]
    fn a_sender_side_gap_is_reported_like_a_network_one() {
        // The forwarder's own local receiver lagged by 3: it skipped 3
        // sequence numbers, and 3 * 8 bytes of offset.
        let mut s = Sequencer::default();
        s.on_frame(&chunk(1, 0), 8);
        let v = s.on_frame(&chunk(5, 32), 8);
        assert_eq!((v.lost, v.lost_bytes), (3, 24));
    }
}
