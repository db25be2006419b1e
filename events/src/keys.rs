//! The keys of the records in the event log (see [`log`](crate::log)):
//!
//! - `e` + position (u64 BE) → stored event bytes
//! - `k` + idempotency key → first position (u64 BE) + count (u64 BE) + request fingerprint (32)
//!
//! (An earlier ragtrail kept these records in sled, with `s` + stream +
//! version → position as a stream index; see [`migrate`](crate::migrate).)

/// The sled tree that holds the events.
pub const EVENTS_TREE: &str = "events";

/// The key of a value in the events tree (the first position it holds).
pub(crate) fn key_of(k: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(k.try_into().ok()?))
}

pub const EVENT: u8 = b'e';
/// The stream index of the sled layout (now rebuilt in memory).
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

pub fn idempotency(key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(KEY);
    k.extend_from_slice(key.as_bytes());
    k
}

fn u64_of(bytes: &[u8]) -> Option<u64> {
    let b: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// The value of an idempotency record: the append's first position, how
/// many events it made, and its request's fingerprint.
pub fn idempotency_value(first: u64, count: u64, fingerprint: &[u8; 32]) -> Vec<u8> {
    let mut v = Vec::with_capacity(48);
    v.extend_from_slice(&first.to_be_bytes());
    v.extend_from_slice(&count.to_be_bytes());
    v.extend_from_slice(fingerprint);
    v
}

/// (first, count, fingerprint) of an idempotency record; None if damaged.
pub fn idempotency_parts(v: &[u8]) -> Option<(u64, u64, &[u8])> {
    Some((u64_of(v)?, u64_of(v.get(8..)?)?, v.get(16..48)?))
}
