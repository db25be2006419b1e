//! Where everything is: each event's place in sled, each stream's events, and
//! the receipt of each idempotency key. Kept in memory and rebuilt from sled
//! when the store opens (about 0.1 s per 100,000 events): sled holds only the
//! events, so no second write per group keeps an index tree in step.

use crate::envelope;
use crate::group::Span;
use crate::keys;
use std::collections::HashMap;
use uuid::Uuid;

/// Where one event's stored bytes are: in the sled value under `key`, at
/// `offset` (their length is the u32 the frame stores just before them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    /// The value's key in the events tree (the group's first position).
    pub(crate) key: u64,
    pub(crate) offset: u32,
}

/// A place as the index keeps it: 8 bytes an event, the value by its ordinal.
#[derive(Debug, Clone, Copy)]
struct Kept {
    value: u32,
    offset: u32,
}

#[derive(Default)]
pub(crate) struct Index {
    /// Each event's place: position p at `[p - 1]`.
    events: Vec<Kept>,
    /// The key of each value the events are in, in order.
    values: Vec<u64>,
    /// Each stream's events in version order.
    pub(crate) streams: HashMap<Uuid, Vec<u64>>,
    /// The receipt record of each idempotency key.
    pub(crate) keys: HashMap<Vec<u8>, Vec<u8>>,
    /// The key of the last value in the events tree (0 when empty).
    pub(crate) last_key: u64,
}

impl Index {
    /// Indexes one record of the value under `key`. `stream` is the event's
    /// stream when the caller knows it already; otherwise it is read from the header.
    pub(crate) fn add(&mut self, key: u64, record: (&[u8], &[u8], Span), stream: Option<Uuid>) {
        let (k, v, span) = record;
        self.last_key = self.last_key.max(key);
        match k.first() {
            Some(&keys::EVENT) => {
                if self.values.last() != Some(&key) {
                    self.values.push(key);
                }
                self.events.push(Kept {
                    value: (self.values.len() - 1) as u32,
                    offset: span.offset,
                });
                let position = self.events.len() as u64;
                // An unreadable header is left for `verify` to name; it is not in any stream.
                if let Some(s) = stream.or_else(|| envelope::locate(v).ok().map(|l| l.stream)) {
                    self.streams.entry(s).or_default().push(position);
                }
            }
            Some(&keys::KEY) => {
                self.keys.insert(k[1..].to_vec(), v.to_vec());
            }
            _ => {}
        }
    }

    /// How many events are indexed.
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// Where the event at index `i` (position `i + 1`) is.
    pub(crate) fn place(&self, i: usize) -> Option<Place> {
        let kept = self.events.get(i)?;
        Some(Place {
            key: *self.values.get(kept.value as usize)?,
            offset: kept.offset,
        })
    }

    /// Where the events at indexes `lo..hi` are.
    pub(crate) fn places(&self, lo: usize, hi: usize) -> Vec<Place> {
        (lo..hi.min(self.events.len()))
            .filter_map(|i| self.place(i))
            .collect()
    }

    /// The durable version of a stream: how many events it has.
    pub(crate) fn version(&self, stream: Uuid) -> u64 {
        self.streams.get(&stream).map_or(0, |ps| ps.len() as u64)
    }
}
