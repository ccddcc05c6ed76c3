//! How values become payloads: serde through a [`Codec`].

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An encoding or decoding failure, as the codec reported it.
pub type CodecError = Box<dyn std::error::Error + Send + Sync>;

/// Turns values into payloads and back, through serde. Both ends of a
/// subject must use the same codec.
///
/// [`Postcard`] is the default. A codec of your own, here postcard behind
/// a format-version byte:
///
/// ```
/// use bridge_nats::{Codec, CodecError};
///
/// #[derive(Debug, Clone, Copy, Default)]
/// struct Versioned;
///
/// impl Codec for Versioned {
///     fn encode<T: serde::Serialize>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
///         let mut out = vec![1u8];
///         out.extend(postcard::to_allocvec(value)?);
///         Ok(out)
///     }
///     fn decode<T: serde::de::DeserializeOwned>(&self, payload: &[u8]) -> Result<T, CodecError> {
///         match payload.split_first() {
///             Some((1, rest)) => Ok(postcard::from_bytes(rest)?),
///             _ => Err("not format version 1".into()),
///         }
///     }
/// }
///
/// let bytes = Versioned.encode(&"hi").unwrap();
/// assert_eq!(Versioned.decode::<String>(&bytes).unwrap(), "hi");
/// assert!(Versioned.decode::<String>(&[2, 0]).is_err());
/// ```
pub trait Codec: Send + Sync + 'static {
    /// The payload for `value`.
    ///
    /// # Errors
    ///
    /// When serde or the format cannot encode the value.
    fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, CodecError>;

    /// The value in `payload`.
    ///
    /// # Errors
    ///
    /// When the bytes are not a valid encoding of a `T`.
    fn decode<T: DeserializeOwned>(&self, payload: &[u8]) -> Result<T, CodecError>;
}

/// The default codec: [postcard](https://docs.rs/postcard), a compact
/// binary serde format (variable-length integers, no field names, no
/// schema on the wire). Chosen because it is small on the wire (a `u64`
/// below 128 is one byte, so a 64-byte value stays close to 64 bytes
/// where JSON would double it), fast, `no_std`-clean with a stable
/// documented wire format (1.0), and licensed as this workspace is
/// (MIT OR Apache-2.0). Not self-describing: both ends must agree on `T`;
/// bytes that do not decode as `T` are reported, never panicked on.
///
/// ```
/// use bridge_nats::{Codec, Postcard};
///
/// let payload = Postcard.encode(&(7u64, "seven")).unwrap();
/// assert_eq!(payload, [7, 5, b's', b'e', b'v', b'e', b'n']);
/// assert_eq!(Postcard.decode::<(u64, String)>(&payload).unwrap(), (7, "seven".to_owned()));
/// assert!(Postcard.decode::<(u64, String)>(&[7, 200]).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Postcard;

impl Codec for Postcard {
    fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        postcard::to_allocvec(value).map_err(Into::into)
    }

    fn decode<T: DeserializeOwned>(&self, payload: &[u8]) -> Result<T, CodecError> {
        postcard::from_bytes(payload).map_err(Into::into)
    }
}
