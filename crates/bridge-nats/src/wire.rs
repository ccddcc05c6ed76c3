//! The frame's metadata: it rides in each message's reply subject,
//! `_SEQCAST.<kind>.<session>.<seq>[.<offset>]` (kind `data`, `heartbeat`
//! or `close`; session in hex; seq and offset in decimal).
//!
//! * `session`: a random 64-bit id drawn when a forwarder starts, so a
//!   restarted forwarder (whose sequence starts again at 1) is told apart.
//! * `seq`: on a data frame, the value's sequence number (1 for the first
//!   value of the session, no holes on the sender's side); on a heartbeat or
//!   close frame, the sequence number of the last data frame sent (0 if
//!   none), so a lost tail is seen at the next heartbeat or at the close.
//! * `offset` (byte streams only): on a data frame, the position of the
//!   chunk's first byte in the forwarded stream; on a heartbeat or close
//!   frame, the number of bytes forwarded so far. It makes the count of
//!   lost bytes exact.
//!
//! # Why the reply subject, not a header
//!
//! A NATS header costs far more than a reply subject: async-nats builds a
//! header map (a hash map of vectors, a string per name and value) on both
//! sides of every message, and the server parses the header block. With
//! the metadata in a `Seqcast` header, the bridge took 16–27 % longer to
//! move 4 KiB chunks 1→1 than with the same text in the reply subject
//! (three alternated rounds), and raw async-nats with only that header
//! added took 1–35 % longer than without it at 4 KiB and twice as long at
//! 64 B (`benches/nats.rs`, rows `async-nats-header` and
//! `async-nats-reply`; numbers in the crate docs).
//!
//! The reply subject is an ordinary subject that no bridge subscribes
//! to: a foreign subscriber that answers one reaches nobody. When nobody
//! at all subscribes to the forwarded subject, the server answers each
//! frame with a "no responders" status message (503) on its reply
//! subject, sent back to the forwarder's own connection only, where it
//! goes nowhere unless that client itself subscribes to `_SEQCAST.>`;
//! other clients never see it (`tests/hostile.rs` shows both).
//!
//! # Batches
//!
//! When several values (or small chunks) are already queued at the
//! forwarder, they go out as one message (never waiting for more: a
//! batch is what one wake-up of the forwarder finds). Its reply subject
//! is `_SEQCAST.batch.<session>.<first_seq>.<count>[.<offset>]`: the
//! values carry the sequence numbers `first_seq ..= first_seq + count -
//! 1` (2 ≤ count ≤ [`MAX_COUNT`]), and `offset` (byte streams) is the
//! first chunk's. The payload is the `count` encoded values (or chunks),
//! each preceded by its length as an unsigned LEB128 varint (postcard's
//! `usize` encoding), with nothing after the last. A receiver takes a
//! batch as `count` data frames in a row, so a lost batch is `count` lost
//! values (and its exact bytes), and a value in it that does not decode
//! is one error item, the others still delivered. A payload whose framing
//! is broken (a length running past the end, fewer or more than `count`
//! values) delivers nothing: the whole batch is reported lost (`count -
//! 1` values lost, then one decode error for its last sequence number;
//! for bytes, its bytes lost).

use std::fmt::Write as _;

/// The first token of every frame's reply subject.
pub(crate) const PREFIX: &str = "_SEQCAST.";

/// The longest reply subject [`Meta::encode`] or [`Meta::encode_batch`]
/// writes: a batch with a 16-digit session, a 20-digit first sequence
/// number, a 5-digit count ([`MAX_COUNT`]) and a 20-digit offset.
pub(crate) const MAX_REPLY_LEN: usize =
    PREFIX.len() + "batch".len() + 1 + 16 + 1 + 20 + 1 + 5 + 1 + 20;

/// nats-server's limit on a protocol line (`max_control_line`, 4096 bytes
/// by default; not announced in its INFO). A `PUB` line longer than that
/// makes the server drop the connection, and the message with it.
pub(crate) const MAX_CONTROL_LINE: usize = 4096;

/// The longest subject the bridge can forward to: the longest `PUB
/// <subject> <reply> <payload length>` line it sends fits
/// [`MAX_CONTROL_LINE`] with its line end.
pub(crate) const MAX_SUBJECT_LEN: usize =
    MAX_CONTROL_LINE - ("PUB ".len() + 1 + MAX_REPLY_LEN + 1 + 20 + "\r\n".len());

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A value (or a chunk).
    Data,
    /// Nothing: the forwarder is alive; `seq` is the last data sent.
    Heartbeat,
    /// The forwarded channel or stream closed; `seq` is the last data sent.
    Close,
}

/// The most values one batch frame may carry (the forwarder sends at
/// most [`BATCH`] a message; a reply subject claiming more is not a
/// bridge frame).
pub(crate) const MAX_COUNT: u64 = 65_536;

/// The most values the forwarder puts into one batch.
pub(crate) const BATCH: usize = 256;

/// A frame's metadata (its reply subject), parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) kind: Kind,
    pub(crate) session: u64,
    pub(crate) seq: u64,
    /// `None` on broadcast frames.
    pub(crate) offset: Option<u64>,
}

impl Meta {
    /// The reply subject.
    pub(crate) fn encode(&self) -> String {
        let kind = match self.kind {
            Kind::Data => "data",
            Kind::Heartbeat => "heartbeat",
            Kind::Close => "close",
        };
        self.write(kind, None)
    }

    /// A batch frame's reply subject: `count` data frames, the first one
    /// being `self` (see the module doc).
    pub(crate) fn encode_batch(&self, count: u64) -> String {
        self.write("batch", Some(count))
    }

    /// `PREFIX kind.session.seq[.count][.offset]`, at most
    /// [`MAX_REPLY_LEN`] bytes.
    fn write(&self, kind: &str, count: Option<u64>) -> String {
        let mut s = String::with_capacity(MAX_REPLY_LEN);
        // Writing to a String cannot fail.
        let _ = write!(s, "{PREFIX}{kind}.{:x}.{}", self.session, self.seq);
        if let Some(c) = count {
            let _ = write!(s, ".{c}");
        }
        if let Some(o) = self.offset {
            let _ = write!(s, ".{o}");
        }
        s
    }

    /// Parses a reply subject that is not a batch's; the error says what
    /// is wrong.
    #[cfg(test)]
    pub(crate) fn parse(value: &str) -> Result<Meta, String> {
        match Meta::parse_any(value)? {
            (meta, None) => Ok(meta),
            (_, Some(_)) => Err(format!("a batch frame: {value:?}")),
        }
    }

    /// Parses any frame's reply subject: a batch's comes back as its first
    /// data frame and its count.
    pub(crate) fn parse_any(value: &str) -> Result<(Meta, Option<u64>), String> {
        let mut parts = value
            .strip_prefix(PREFIX)
            .ok_or_else(|| format!("not a bridge frame's reply subject: {value:?}"))?
            .split('.');
        let mut batch = false;
        let kind = match parts.next() {
            Some("batch") => {
                batch = true;
                Kind::Data
            }
            Some("data") => Kind::Data,
            Some("heartbeat") => Kind::Heartbeat,
            Some("close") => Kind::Close,
            other => return Err(format!("unknown frame kind {other:?}")),
        };
        let session = parts
            .next()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| format!("bad session in {value:?}"))?;
        let seq: u64 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad sequence number in {value:?}"))?;
        let count = if batch {
            let count: u64 = parts
                .next()
                .and_then(|s| s.parse().ok())
                .filter(|c| (2..=MAX_COUNT).contains(c))
                .ok_or_else(|| format!("bad batch count in {value:?}"))?;
            if seq.checked_add(count - 1).is_none() {
                return Err(format!("batch past the last sequence number in {value:?}"));
            }
            Some(count)
        } else {
            None
        };
        let offset = match parts.next() {
            None => None,
            Some(o) => Some(o.parse().map_err(|_| format!("bad offset in {value:?}"))?),
        };
        if parts.next().is_some() {
            return Err(format!("trailing fields in {value:?}"));
        }
        if kind == Kind::Data && seq == 0 {
            return Err("data frame with sequence number 0".into());
        }
        Ok((
            Meta {
                kind,
                session,
                seq,
                offset,
            },
            count,
        ))
    }

    /// The metadata of a received message, parsed from its reply subject
    /// (with the count of a batch).
    pub(crate) fn of(message: &async_nats::Message) -> Result<(Meta, Option<u64>), String> {
        let reply = message.reply.as_ref().ok_or_else(|| {
            "message without a reply subject (not sent by bridge-nats?)".to_string()
        })?;
        Meta::parse_any(reply.as_str())
    }
}

/// Appends `n` as an unsigned LEB128 varint (postcard's `usize`).
pub(crate) fn put_len(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

/// The bytes `put_len` writes for `n`.
pub(crate) fn len_of_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

/// Splits a batch payload into its `count` values (slices of `payload`,
/// no copy); an error if the framing is broken.
pub(crate) fn split(payload: &bytes::Bytes, count: u64) -> Result<Vec<bytes::Bytes>, String> {
    let mut out = Vec::with_capacity(count.min(BATCH as u64) as usize);
    let mut at = 0usize;
    while at < payload.len() {
        if out.len() as u64 == count {
            return Err(format!(
                "batch framing: bytes after the {count} values the reply subject announces"
            ));
        }
        let mut len = 0usize;
        let mut shift = 0u32;
        loop {
            let Some(&b) = payload.get(at) else {
                return Err(format!(
                    "batch framing: length of value {} cut off",
                    out.len()
                ));
            };
            at += 1;
            if shift >= usize::BITS
                || (shift > 0 && ((b & 0x7f) as usize) >> (usize::BITS - shift) != 0)
            {
                return Err(format!(
                    "batch framing: length of value {} too large",
                    out.len()
                ));
            }
            len |= ((b & 0x7f) as usize) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let end = at
            .checked_add(len)
            .filter(|&e| e <= payload.len())
            .ok_or_else(|| format!("batch framing: value {} runs past the payload", out.len()))?;
        out.push(payload.slice(at..end));
        at = end;
    }
    if out.len() as u64 != count {
        return Err(format!(
            "batch framing: {} values where the reply subject announces {count}",
            out.len()
        ));
    }
    Ok(out)
}

/// A forwarding session id: differs between forwarders and between runs.
pub(crate) fn new_session() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    // Relaxed: a counter that only needs to differ between calls.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // std's RandomState is seeded from the OS per process; mix in the time,
    // the pid and a counter so two forwarders of one process differ too.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for m in [
            Meta {
                kind: Kind::Data,
                session: 0xdead_beef,
                seq: 1,
                offset: None,
            },
            Meta {
                kind: Kind::Heartbeat,
                session: u64::MAX,
                seq: 0,
                offset: Some(4096),
            },
            Meta {
                kind: Kind::Close,
                session: 0,
                seq: u64::MAX,
                offset: Some(0),
            },
        ] {
            assert_eq!(Meta::parse(&m.encode()), Ok(m));
        }
        assert_eq!(
            Meta {
                kind: Kind::Data,
                session: 255,
                seq: 7,
                offset: Some(10)
            }
            .encode(),
            "_SEQCAST.data.ff.7.10"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            "",
            "_SEQCAST.data",
            "_SEQCAST.data.zz.1",
            "_SEQCAST.data.1.x",
            "_SEQCAST.data.1.0",
            "_SEQCAST.ping.1.1",
            "_SEQCAST.data.1.1.2.3",
            "_SEQCAST.data.1.1.-4",
            // Without the prefix, or the space-separated text of a header.
            "data.ff.7",
            "data ff 7",
            "_SEQCAST.data ff 7",
            "_seqcast.data.ff.7",
        ] {
            assert!(Meta::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn batch_reply_subjects_round_trip_and_are_checked() {
        let first = Meta {
            kind: Kind::Data,
            session: 255,
            seq: 7,
            offset: None,
        };
        assert_eq!(first.encode_batch(3), "_SEQCAST.batch.ff.7.3");
        assert_eq!(
            Meta::parse_any("_SEQCAST.batch.ff.7.3"),
            Ok((first, Some(3)))
        );
        let chunks = Meta {
            offset: Some(100),
            ..first
        };
        assert_eq!(chunks.encode_batch(2), "_SEQCAST.batch.ff.7.2.100");
        assert_eq!(
            Meta::parse_any("_SEQCAST.batch.ff.7.2.100"),
            Ok((chunks, Some(2)))
        );
        assert_eq!(Meta::parse_any("_SEQCAST.data.ff.7"), Ok((first, None)));
        assert!(Meta::parse("_SEQCAST.batch.ff.7.3").is_err());
        for bad in [
            "_SEQCAST.batch.ff.7",
            "_SEQCAST.batch.ff.7.0",
            "_SEQCAST.batch.ff.7.1",
            "_SEQCAST.batch.ff.7.65537",
            "_SEQCAST.batch.ff.0.3",
            "_SEQCAST.batch.ff.18446744073709551615.2",
            "_SEQCAST.batch.ff.7.3.1.2",
        ] {
            assert!(Meta::parse_any(bad).is_err(), "{bad:?} parsed");
        }
    }

    fn framed(values: &[&[u8]]) -> bytes::Bytes {
        let mut buf = Vec::new();
        for v in values {
            put_len(&mut buf, v.len());
            buf.extend_from_slice(v);
        }
        buf.into()
    }

    #[test]
    fn lengths_are_leb128_varints() {
        for n in [
            0usize,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            1 << 40,
            usize::MAX,
        ] {
            let mut buf = Vec::new();
            put_len(&mut buf, n);
            assert_eq!(buf.len(), len_of_len(n), "{n}");
            // postcard writes a usize the same way.
            assert_eq!(buf, postcard::to_allocvec(&n).unwrap(), "{n}");
        }
    }

    #[test]
    fn a_batch_splits_into_its_values() {
        let long = [7u8; 200];
        let p = framed(&[b"ab", b"", &long]);
        let got = split(&p, 3).unwrap();
        assert_eq!(got, [&b"ab"[..], b"", &long[..]]);
    }

    #[test]
    fn broken_framing_is_an_error() {
        let p = framed(&[b"ab", b"cd"]);
        // Fewer or more values than announced.
        assert!(split(&p, 3).is_err());
        assert!(split(&p, 1).is_err());
        // Cut inside a value, inside a length.
        assert!(split(&p.slice(..4), 2).is_err());
        assert!(split(&bytes::Bytes::from_static(&[0x80]), 1).is_err());
        // A length past the payload, a length beyond usize.
        assert!(split(&bytes::Bytes::from_static(&[5, 1, 2]), 1).is_err());
        assert!(split(&bytes::Bytes::from_static(&[0xff; 11]), 1).is_err());
    }

    #[test]
    fn the_longest_reply_subject_is_max_reply_len() {
        let longest = Meta {
            kind: Kind::Heartbeat,
            session: u64::MAX,
            seq: u64::MAX,
            offset: Some(u64::MAX),
        };
        assert!(longest.encode().len() <= MAX_REPLY_LEN);
        assert_eq!(longest.encode_batch(MAX_COUNT).len(), MAX_REPLY_LEN);
        assert_eq!(MAX_SUBJECT_LEN, 3989);
    }

    #[test]
    fn sessions_differ() {
        assert_ne!(new_session(), new_session());
    }
}
