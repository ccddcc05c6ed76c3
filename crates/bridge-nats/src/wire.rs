//! The frame header: one NATS header per message, `Seqcast`, whose value is
//! `<kind> <session> <seq>[ <offset>]` in ASCII (kind `data`, `heartbeat`
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
//! One header rather than three keeps the per-message cost (a header map is
//! a hash map of vectors in async-nats) to one insert.

use std::fmt::Write as _;

/// The header's name.
pub(crate) const HEADER: &str = "Seqcast";

/// The header's name as async-nats keys it: built once, from a static
/// string (a `HeaderName` made from a `&str` at each use copies it).
fn header_name() -> async_nats::HeaderName {
    async_nats::HeaderName::from_static(HEADER)
}

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

/// A frame's header, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) kind: Kind,
    pub(crate) session: u64,
    pub(crate) seq: u64,
    /// `None` on broadcast frames.
    pub(crate) offset: Option<u64>,
}

impl Meta {
    /// The header value.
    pub(crate) fn encode(&self) -> String {
        let kind = match self.kind {
            Kind::Data => "data",
            Kind::Heartbeat => "heartbeat",
            Kind::Close => "close",
        };
        let mut s = String::with_capacity(48);
        // Writing to a String cannot fail.
        let _ = write!(s, "{kind} {:x} {}", self.session, self.seq);
        if let Some(o) = self.offset {
            let _ = write!(s, " {o}");
        }
        s
    }

    /// Parses a header value; the error says what is wrong.
    pub(crate) fn parse(value: &str) -> Result<Meta, String> {
        let mut parts = value.split(' ');
        let kind = match parts.next() {
            Some("data") => Kind::Data,
            Some("heartbeat") => Kind::Heartbeat,
            Some("close") => Kind::Close,
            other => return Err(format!("unknown frame kind {other:?}")),
        };
        let session = parts
            .next()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| format!("bad session in {value:?}"))?;
        let seq = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad sequence number in {value:?}"))?;
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
        Ok(Meta {
            kind,
            session,
            seq,
            offset,
        })
    }

    /// The header of a received message, parsed.
    pub(crate) fn of(message: &async_nats::Message) -> Result<Meta, String> {
        let value = message
            .headers
            .as_ref()
            .and_then(|h| h.get(header_name()))
            .ok_or_else(|| {
                format!("message without a `{HEADER}` header (not sent by bridge-nats?)")
            })?;
        Meta::parse(value.as_str())
    }

    /// A header map holding this frame's header.
    pub(crate) fn headers(&self) -> async_nats::HeaderMap {
        let mut h = async_nats::HeaderMap::new();
        h.insert(header_name(), self.encode());
        h
    }
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
            "data ff 7 10"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            "",
            "data",
            "data zz 1",
            "data 1 x",
            "data 1 0",
            "ping 1 1",
            "data 1 1 2 3",
            "data 1 1 -4",
        ] {
            assert!(Meta::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn sessions_differ() {
        assert_ne!(new_session(), new_session());
    }
}
