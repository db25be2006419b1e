//! A fact's timeline: every value it was given, ordered by effective date, so
//! "as at D, as known at T" is a binary search plus a short walk back.
//!
//! Each entry keeps its versions: the value first recorded, then any
//! corrections (a replacement value, or `None` when withdrawn), each with the
//! instant it was recorded, so the answer as known at any instant is exact.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::sync::Arc;
use uuid::Uuid;

/// Who set a value, when, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamp {
    /// Position of the event that set it (the correction's, when corrected).
    pub position: u64,
    pub event: Uuid,
    /// Interned: one allocation per actor, not per event.
    pub actor: Arc<str>,
    pub effective: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// When the value was corrected: the id of the event it corrected.
    pub corrects: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
struct Version<V> {
    value: Option<V>,
    stamp: Stamp,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry<V> {
    effective: NaiveDate,
    position: u64,
    first: Version<V>,
    /// Corrections, oldest first (empty, so unallocated, for nearly every entry).
    corrections: Vec<Version<V>>,
}

impl<V> Entry<V> {
    /// The version visible to someone who knows what was recorded up to `known_at`:
    /// `None` if the entry was not yet recorded, `Some(None)` if withdrawn by then.
    fn visible(&self, known_at: Option<DateTime<Utc>>) -> Option<Option<(&V, &Stamp)>> {
        let mut versions = std::iter::once(&self.first).chain(&self.corrections).rev();
        let version = match known_at {
            None => versions.next(),
            Some(t) => versions.find(|v| v.stamp.recorded_at <= t),
        }?;
        Some(version.value.as_ref().map(|v| (v, &version.stamp)))
    }
}

/// Every value of one fact of one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline<V> {
    entries: Vec<Entry<V>>,
}

impl<V> Default for Timeline<V> {
    fn default() -> Self {
        Timeline {
            entries: Vec::new(),
        }
    }
}

impl<V> Timeline<V> {
    /// Adds a value set by an event. Back-dated events are inserted in place.
    pub fn set(&mut self, value: V, stamp: Stamp) {
        self.insert((stamp.effective, stamp.position), Some(value), stamp);
    }

    fn insert(&mut self, key: (NaiveDate, u64), value: Option<V>, stamp: Stamp) {
        let at = self
            .entries
            .partition_point(|e| (e.effective, e.position) <= key);
        self.entries.insert(
            at,
            Entry {
                effective: key.0,
                position: key.1,
                first: Version { value, stamp },
                corrections: Vec::new(),
            },
        );
    }

    /// Corrects the value set by the event at (`effective`, `position`): replaced, or
    /// withdrawn with `None`. A replacement that sets a fact the original did not
    /// is added at the original's place, visible from the correction's recording on.
    pub fn correct(&mut self, effective: NaiveDate, position: u64, value: Option<V>, stamp: Stamp) {
        let key = (effective, position);
        match self
            .entries
            .binary_search_by(|e| (e.effective, e.position).cmp(&key))
        {
            Ok(i) => self.entries[i].corrections.push(Version { value, stamp }),
            Err(_) => {
                if value.is_some() {
                    self.insert(key, value, stamp)
                }
            }
        }
    }

    /// The value in force as at `as_at`, as known at `known_at` (None: now).
    pub fn at(&self, as_at: NaiveDate, known_at: Option<DateTime<Utc>>) -> Option<(&V, &Stamp)> {
        let end = self.entries.partition_point(|e| e.effective <= as_at);
        self.entries[..end]
            .iter()
            .rev()
            .find_map(|e| e.visible(known_at).flatten())
    }

    /// Every value in force up to `as_at` (oldest first), as known at `known_at`.
    pub fn all_at(
        &self,
        as_at: NaiveDate,
        known_at: Option<DateTime<Utc>>,
    ) -> impl Iterator<Item = (&V, &Stamp)> + '_ {
        let end = self.entries.partition_point(|e| e.effective <= as_at);
        self.entries[..end]
            .iter()
            .filter_map(move |e| e.visible(known_at).flatten())
    }

    /// The first value ever in force up to `as_at`.
    pub fn first_at(
        &self,
        as_at: NaiveDate,
        known_at: Option<DateTime<Utc>>,
    ) -> Option<(&V, &Stamp)> {
        self.all_at(as_at, known_at).next()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether an event at (`effective`, `position`) set a value here.
    pub fn has(&self, effective: NaiveDate, position: u64) -> bool {
        self.entries
            .binary_search_by(|e| (e.effective, e.position).cmp(&(effective, position)))
            .is_ok()
    }
}
