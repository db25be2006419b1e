//! A closed store's events as (key, value) records in order, for forensic
//! tools and tamper tests. [`Records::write`] puts every event in a sled value
//! of its own with a correct checksum: what anyone with write access to the
//! directory could do, and what only the hash chain, the head record and a
//! digest kept elsewhere can catch.

use crate::dir::{self, key_of};
use crate::group;
use crate::keys;
use crate::shared::Options;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records(pub Vec<(Vec<u8>, Vec<u8>)>);

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl Records {
    /// Reads every readable record of `dir`'s events (the store must be closed).
    pub fn read(dir: impl AsRef<Path>) -> std::io::Result<Records> {
        let (_db, events, _) = dir::open_sled(dir.as_ref(), &Options::default()).map_err(io)?;
        let mut out = Vec::new();
        for kv in events.iter() {
            let (_, v) = kv.map_err(io)?;
            if let Ok(read) = group::read(&v) {
                out.extend(
                    read.records
                        .iter()
                        .map(|(k, v, _)| (k.to_vec(), v.to_vec())),
                );
            }
        }
        Ok(Records(out))
    }

    /// The value of the first record with `key`.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// Replaces the value of the record with `key` in place, or adds the record at the end.
    pub fn insert(&mut self, key: Vec<u8>, value: Vec<u8>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(r) => r.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Removes every record with `key`.
    pub fn remove(&mut self, key: &[u8]) {
        self.0.retain(|(k, _)| k != key);
    }

    /// Replaces `dir`'s events with these records (the head record is left as it was).
    pub fn write(&self, dir: impl AsRef<Path>) -> std::io::Result<()> {
        let (db, events, _) = dir::open_sled(dir.as_ref(), &Options::default()).map_err(io)?;
        let mut batch = sled::Batch::default();
        for kv in events.iter() {
            batch.remove(kv.map_err(io)?.0);
        }
        let mut last_key = 0u64;
        let mut i = 0;
        while i < self.0.len() {
            // An event and the receipts after it, in one value.
            let mut j = i + 1;
            while j < self.0.len() && self.0[j].0.first() != Some(&keys::EVENT) {
                j += 1;
            }
            let part = &self.0[i..j];
            let key = group::first_position(part)
                .unwrap_or(last_key + 1)
                .max(last_key + 1);
            last_key = key;
            batch.insert(&key.to_be_bytes(), group::encode(part).0);
            i = j;
        }
        events.apply_batch(batch).map_err(io)?;
        db.flush().map_err(io)?;
        Ok(())
    }
}

/// The key of the event at `position`, as records carry it.
pub fn event_key(position: u64) -> Vec<u8> {
    keys::event(position).to_vec()
}

/// The values of `dir`'s events tree as stored, by key (the store must be closed).
pub fn values(dir: impl AsRef<Path>) -> std::io::Result<Vec<(u64, Vec<u8>)>> {
    let (_db, events, _) = dir::open_sled(dir.as_ref(), &Options::default()).map_err(io)?;
    events
        .iter()
        .map(|kv| {
            let (k, v) = kv.map_err(io)?;
            Ok((key_of(&k).unwrap_or_default(), v.to_vec()))
        })
        .collect()
}

/// Sets (or, with `None`, removes) the value under `key` in `dir`'s events
/// tree, bytes as given: damage as a disk or a person could do it.
pub fn put_value(dir: impl AsRef<Path>, key: u64, value: Option<&[u8]>) -> std::io::Result<()> {
    let (db, events, _) = dir::open_sled(dir.as_ref(), &Options::default()).map_err(io)?;
    match value {
        Some(v) => events.insert(key.to_be_bytes(), v).map(|_| ()),
        None => events.remove(key.to_be_bytes()).map(|_| ()),
    }
    .map_err(io)?;
    db.flush().map_err(io)?;
    Ok(())
}

/// The keys of the values in `dir`'s events tree, in order (for tests of how groups are cut).
pub fn value_keys(dir: impl AsRef<Path>) -> std::io::Result<Vec<u64>> {
    Ok(values(dir)?.into_iter().map(|(k, _)| k).collect())
}
