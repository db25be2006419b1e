//! The envelope every event is stored in, its byte layout, and the hash chain.
//!
//! Stored value layout (one sled value per event):
//!
//! ```text
//! [format: 1 byte = 1][prev_hash: 32][hash: 32][header_len: u32 BE][header][payload]
//! ```
//!
//! `header` is the bincode encoding of [`Header`] (every envelope field but the
//! payload, which it carries as `payload_hash`); `payload` is the bincode
//! encoding of the [`Event`] at the header's `schema`. The chain:
//! `payload_hash = SHA-256(payload)` and `hash = SHA-256(prev_hash ‖ header)`,
//! both over the bytes exactly as stored, so any altered byte is detected.
//!
//! An event whose personal text was erased (see [`erasure`](crate::erasure))
//! is stored in format 2, with the same prefix and header (so `hash` and
//! `payload_hash` still hold what was first written) and the redacted payload:
//!
//! ```text
//! [format: 1 byte = 2][prev_hash: 32][hash: 32][header_len: u32 BE][header][erased_by: u64 BE][payload]
//! ```
//!
//! `erased_by` is the position of the `TextErased` event that redacted it;
//! that event names the SHA-256 of the redacted payload, which `verify`
//! checks in place of `payload_hash`.

use crate::event::Event;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

/// The payload schema written today. Older schemas are upcast on read by [`upcast`].
pub const SCHEMA: u16 = 1;
/// The stored layout version (first byte of every stored value).
const FORMAT: u8 = 1;
/// The stored layout of an event whose payload an erasure redacted.
const FORMAT_REDACTED: u8 = 2;
const FIXED: usize = 1 + 32 + 32 + 4;
/// Decoding never allocates more than this for one event (protects against corrupt lengths).
const DECODE_LIMIT: usize = 16 * 1024 * 1024;

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

fn decode_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// A SHA-256 digest, shown as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Digest32(pub [u8; 32]);

impl Digest32 {
    /// The `prev_hash` of the first event.
    pub const GENESIS: Digest32 = Digest32([0; 32]);

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Digest32> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out).ok()?;
        Some(Digest32(out))
    }
}

impl fmt::Display for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest32({})", self.to_hex())
    }
}

impl Serialize for Digest32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest32::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom("expected 64 hexadecimal characters"))
    }
}

/// SHA-256 of some bytes.
pub fn sha256(parts: &[&[u8]]) -> Digest32 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Digest32(h.finalize().into())
}

/// Every envelope field except the payload, as stored and hashed.
/// Dates are stored as integers so the bytes never depend on a formatter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    position: u64,
    id: Uuid,
    stream: Uuid,
    version: u64,
    /// Days from 0001-01-01 (CE day 1).
    effective_days: i32,
    /// Microseconds since the Unix epoch.
    recorded_at_us: i64,
    actor: String,
    reason: Option<String>,
    idempotency_key: Option<String>,
    schema: u16,
    payload_hash: [u8; 32],
}

/// A stored event with everything known about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    /// Global, gap-free, from 1.
    pub position: u64,
    /// UUIDv7.
    pub id: Uuid,
    /// What the event is about: a programme, item, metric, risk or issue.
    pub stream: Uuid,
    /// Per stream, gap-free, from 1.
    pub version: u64,
    /// The date the fact applies to (valid time).
    pub effective: NaiveDate,
    /// When the store recorded it (transaction time).
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub schema: u16,
    pub event: Event,
    pub payload_hash: Digest32,
    pub prev_hash: Digest32,
    pub hash: Digest32,
    /// The position of the erasure that redacted this event's payload, if one did:
    /// `payload_hash` is then the hash of the payload as first written.
    pub erased_by: Option<u64>,
}

/// The fields of a new envelope that the store does not assign itself.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub position: u64,
    pub id: Uuid,
    pub stream: Uuid,
    pub version: u64,
    pub effective: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub actor: &'a str,
    pub reason: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub event: &'a Event,
    pub prev_hash: Digest32,
}

/// Why stored bytes could not be read as an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("stored value is {0} bytes, shorter than the fixed {FIXED}-byte prefix")]
    Short(usize),
    #[error("unknown stored format {0} (this build reads formats {FORMAT} and {FORMAT_REDACTED})")]
    Format(u8),
    #[error("header length {0} runs past the end of the stored value")]
    HeaderLength(usize),
    #[error("header does not decode: {0}")]
    Header(String),
    #[error("payload does not decode: {0}")]
    Payload(String),
    #[error("date out of range: {0}")]
    Date(String),
}

/// Encodes a new event, returning the stored bytes and the envelope they hold.
pub fn encode(d: &Draft<'_>) -> Result<(Vec<u8>, Envelope), bincode::error::EncodeError> {
    encode_with_payload(d, &payload_bytes(d.event)?)
}

/// The draft an envelope was made from: encoding it again must give the
/// envelope's own hashes (how a restore and a replica check what they are handed).
pub fn draft_of(e: &Envelope) -> Draft<'_> {
    Draft {
        position: e.position,
        id: e.id,
        stream: e.stream,
        version: e.version,
        effective: e.effective,
        recorded_at: e.recorded_at,
        actor: &e.actor,
        reason: e.reason.as_deref(),
        idempotency_key: e.idempotency_key.as_deref(),
        event: &e.event,
        prev_hash: e.prev_hash,
    }
}

/// Like [`encode`], with the payload's bytes already made by [`payload_bytes`]
/// (the store encodes payloads on the caller's task, off the writer thread).
pub fn encode_with_payload(
    d: &Draft<'_>,
    payload: &[u8],
) -> Result<(Vec<u8>, Envelope), bincode::error::EncodeError> {
    let payload_hash = sha256(&[payload]);
    let header = Header {
        position: d.position,
        id: d.id,
        stream: d.stream,
        version: d.version,
        effective_days: d.effective.num_days_from_ce(),
        recorded_at_us: d.recorded_at.timestamp_micros(),
        actor: d.actor.to_string(),
        reason: d.reason.map(str::to_string),
        idempotency_key: d.idempotency_key.map(str::to_string),
        schema: SCHEMA,
        payload_hash: payload_hash.0,
    };
    let header_bytes = bincode::serde::encode_to_vec(&header, config())?;
    let hash = sha256(&[&d.prev_hash.0, &header_bytes]);
    let mut out = Vec::with_capacity(FIXED + header_bytes.len() + payload.len());
    out.push(FORMAT);
    out.extend_from_slice(&d.prev_hash.0);
    out.extend_from_slice(&hash.0);
    out.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(payload);
    // Round-trip through the stored header so the envelope holds exactly what
    // a reader will see (recorded_at truncated to microseconds).
    let recorded_at =
        DateTime::from_timestamp_micros(header.recorded_at_us).unwrap_or(d.recorded_at);
    let env = Envelope {
        position: d.position,
        id: d.id,
        stream: d.stream,
        version: d.version,
        effective: d.effective,
        recorded_at,
        actor: header.actor,
        reason: header.reason,
        idempotency_key: header.idempotency_key,
        schema: SCHEMA,
        event: d.event.clone(),
        payload_hash,
        prev_hash: d.prev_hash,
        hash,
        erased_by: None,
    };
    Ok((out, env))
}

/// The stored bytes of an event as an erasure leaves it: `stored`'s prefix
/// and header unchanged, format 2, and `event` (the redacted payload) in
/// place of the payload. Returns the bytes and the SHA-256 of the new payload.
pub fn redacted(
    stored: &[u8],
    event: &Event,
    erased_by: u64,
) -> Result<(Vec<u8>, Digest32), String> {
    let (header, _) = split(stored).map_err(|e| e.to_string())?;
    let payload = payload_bytes(event).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(FIXED + header.len() + 8 + payload.len());
    out.push(FORMAT_REDACTED);
    out.extend_from_slice(&stored[1..FIXED]);
    out.extend_from_slice(header);
    out.extend_from_slice(&erased_by.to_be_bytes());
    out.extend_from_slice(&payload);
    Ok((out, sha256(&[&payload])))
}

/// Encodes an envelope as it was exported (a restore, a replica): an
/// untouched one as [`encode`] does, a redacted one in format 2 with its
/// `payload_hash` as given. Either way the result's `hash` is computed, so
/// the caller can check it against the one it was handed.
pub fn encode_as_exported(e: &Envelope) -> Result<(Vec<u8>, Envelope), String> {
    let (original, again) = encode(&draft_of(e)).map_err(|err| err.to_string())?;
    let Some(by) = e.erased_by else {
        return Ok((original, again));
    };
    // The header as first written: the exported payload_hash, not the redacted payload's.
    let header = Header {
        position: e.position,
        id: e.id,
        stream: e.stream,
        version: e.version,
        effective_days: e.effective.num_days_from_ce(),
        recorded_at_us: e.recorded_at.timestamp_micros(),
        actor: e.actor.clone(),
        reason: e.reason.clone(),
        idempotency_key: e.idempotency_key.clone(),
        schema: SCHEMA,
        payload_hash: e.payload_hash.0,
    };
    let header_bytes =
        bincode::serde::encode_to_vec(&header, config()).map_err(|x| x.to_string())?;
    let hash = sha256(&[&e.prev_hash.0, &header_bytes]);
    let mut first = Vec::with_capacity(FIXED + header_bytes.len());
    first.push(FORMAT);
    first.extend_from_slice(&e.prev_hash.0);
    first.extend_from_slice(&hash.0);
    first.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    first.extend_from_slice(&header_bytes);
    let (bytes, _) = redacted(&first, &e.event, by)?;
    let env = Envelope {
        payload_hash: e.payload_hash,
        hash,
        erased_by: Some(by),
        ..again
    };
    Ok((bytes, env))
}

/// Decodes stored bytes, upcasting old payload schemas. Does not check hashes;
/// use [`check`] for that.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    decode_parts(bytes).map(|(env, _, _)| env)
}

/// What [`check`] found wrong with one stored event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("payload hash does not match the payload: the payload was altered")]
    PayloadHash,
    #[error("hash does not match the header: the event was altered")]
    Hash,
    #[error("prev_hash {found} does not match the previous event's hash {expected}: an event was removed, inserted or reordered")]
    Chain { expected: Digest32, found: Digest32 },
}

/// Decodes stored bytes and checks them against the previous event's hash.
pub fn check(bytes: &[u8], expected_prev: Digest32) -> Result<Envelope, Broken> {
    check_parts(bytes, expected_prev).map(|(env, _)| env)
}

/// Like [`check`], for the walk along the log: a redacted payload cannot be
/// checked against `payload_hash`, so its own SHA-256 is returned, to be
/// checked against what its erasure recorded.
pub fn check_parts(
    bytes: &[u8],
    expected_prev: Digest32,
) -> Result<(Envelope, Option<Digest32>), Broken> {
    let (env, header_bytes, payload) = decode_parts(bytes)?;
    let redacted = env.erased_by.map(|_| sha256(&[payload]));
    if redacted.is_none() && sha256(&[payload]) != env.payload_hash {
        return Err(Broken::PayloadHash);
    }
    if sha256(&[&env.prev_hash.0, header_bytes]) != env.hash {
        return Err(Broken::Hash);
    }
    if env.prev_hash != expected_prev {
        return Err(Broken::Chain {
            expected: expected_prev,
            found: env.prev_hash,
        });
    }
    Ok((env, redacted))
}

/// What the store needs to index a stored event, read from its header alone
/// (the payload is not decoded, the hashes are not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    pub(crate) id: Uuid,
    pub(crate) stream: Uuid,
    pub(crate) version: u64,
    pub(crate) recorded_at: DateTime<Utc>,
    pub(crate) hash: Digest32,
}

/// Reads [`Located`] from stored bytes.
pub(crate) fn locate(bytes: &[u8]) -> Result<Located, DecodeError> {
    let (header, _) = split(bytes)?;
    let header: Header = decode_exact(header).map_err(DecodeError::Header)?;
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&bytes[33..65]);
    Ok(Located {
        id: header.id,
        stream: header.stream,
        version: header.version,
        recorded_at: DateTime::from_timestamp_micros(header.recorded_at_us)
            .ok_or_else(|| DecodeError::Date(format!("recorded_at {}µs", header.recorded_at_us)))?,
        hash: Digest32(hash),
    })
}

/// Splits stored bytes into header bytes and payload bytes, after the fixed
/// part (and, in format 2, the erasure's position).
fn split(bytes: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    split_erased(bytes).map(|(h, _, p)| (h, p))
}

/// Stored bytes cut in three: header bytes, the erasure's position (format 2), payload bytes.
type Parts<'a> = (&'a [u8], Option<u64>, &'a [u8]);

/// Header bytes, the erasure's position (format 2), and payload bytes.
fn split_erased(bytes: &[u8]) -> Result<Parts<'_>, DecodeError> {
    if bytes.len() < FIXED {
        return Err(DecodeError::Short(bytes.len()));
    }
    if bytes[0] != FORMAT && bytes[0] != FORMAT_REDACTED {
        return Err(DecodeError::Format(bytes[0]));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&bytes[65..69]);
    let header_len = u32::from_be_bytes(len) as usize;
    let rest = &bytes[FIXED..];
    if header_len > rest.len() {
        return Err(DecodeError::HeaderLength(header_len));
    }
    let (h, p) = rest.split_at(header_len);
    if bytes[0] == FORMAT {
        return Ok((h, None, p));
    }
    let Some((by, p)) = p.split_first_chunk::<8>() else {
        return Err(DecodeError::HeaderLength(header_len));
    };
    Ok((h, Some(u64::from_be_bytes(*by)), p))
}

fn decode_parts(bytes: &[u8]) -> Result<(Envelope, &[u8], &[u8]), DecodeError> {
    let (header_bytes, erased_by, payload) = split_erased(bytes)?;
    let mut prev = [0u8; 32];
    prev.copy_from_slice(&bytes[1..33]);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&bytes[33..65]);
    let header: Header = decode_exact(header_bytes).map_err(DecodeError::Header)?;
    let event = upcast(header.schema, payload).map_err(DecodeError::Payload)?;
    let effective = NaiveDate::from_num_days_from_ce_opt(header.effective_days)
        .ok_or_else(|| DecodeError::Date(format!("effective day {}", header.effective_days)))?;
    let recorded_at = DateTime::from_timestamp_micros(header.recorded_at_us)
        .ok_or_else(|| DecodeError::Date(format!("recorded_at {}µs", header.recorded_at_us)))?;
    let env = Envelope {
        position: header.position,
        id: header.id,
        stream: header.stream,
        version: header.version,
        effective,
        recorded_at,
        actor: header.actor,
        reason: header.reason,
        idempotency_key: header.idempotency_key,
        schema: header.schema,
        event,
        payload_hash: Digest32(header.payload_hash),
        prev_hash: Digest32(prev),
        hash: Digest32(hash),
        erased_by,
    };
    Ok((env, header_bytes, payload))
}

fn decode_exact<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (v, used) = bincode::serde::decode_from_slice::<T, _>(bytes, decode_config())
        .map_err(|e| e.to_string())?;
    if used != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - used));
    }
    Ok(v)
}

/// The upcast hook: reads a payload written at `schema` as today's [`Event`].
/// When the payload format changes, bump [`SCHEMA`], keep the old type under a
/// new name, and add an arm here that converts it.
pub fn upcast(schema: u16, payload: &[u8]) -> Result<Event, String> {
    match schema {
        1 => decode_exact::<Event>(payload),
        other => Err(format!(
            "payload schema {other} is newer than this build understands (up to {SCHEMA}); upgrade ragtrail"
        )),
    }
}

/// The canonical bytes of a payload (what `payload_hash` covers).
pub fn payload_bytes(e: &Event) -> Result<Vec<u8>, bincode::error::EncodeError> {
    bincode::serde::encode_to_vec(e, config())
}
