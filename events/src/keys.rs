//! The keys of the store's single sled tree. Everything lives in one tree so
//! that a group commit (events and their index entries) is one atomic
//! `apply_batch`.
//!
//! - `e` + position (u64 BE) → stored event bytes
//! - `s` + stream (16 bytes) + version (u64 BE) → position (u64 BE)
//! - `k` + idempotency key → first position (u64 BE) + count (u64 BE) + request fingerprint (32)

use uuid::Uuid;

pub const EVENT: u8 = b'e';
pub const STREAM: u8 = b's';
pub const KEY: u8 = b'k';

pub fn event(position: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = EVENT;
    k[1..].copy_from_slice(&position.to_be_bytes());
    k
}

pub fn position_of(key: &[u8]) -> Option<u64> {
    if key.len() != 9 || key[0] != EVENT {
        return None;
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&key[1..]);
    Some(u64::from_be_bytes(b))
}

pub fn stream(stream: Uuid, version: u64) -> [u8; 25] {
    let mut k = [0u8; 25];
    k[0] = STREAM;
    k[1..17].copy_from_slice(stream.as_bytes());
    k[17..].copy_from_slice(&version.to_be_bytes());
    k
}

pub fn stream_prefix(stream: Uuid) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = STREAM;
    k[1..17].copy_from_slice(stream.as_bytes());
    k
}

/// Splits a stream index key into stream and version.
pub fn parse_stream(key: &[u8]) -> Option<(Uuid, u64)> {
    if key.len() != 25 || key[0] != STREAM {
        return None;
    }
    let id = Uuid::from_slice(&key[1..17]).ok()?;
    let mut b = [0u8; 8];
    b.copy_from_slice(&key[17..]);
    Some((id, u64::from_be_bytes(b)))
}

pub fn idempotency(key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(KEY);
    k.extend_from_slice(key.as_bytes());
    k
}

pub fn u64_of(bytes: &[u8]) -> Option<u64> {
    let b: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}
