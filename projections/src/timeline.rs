//! A fact's timeline: every value it was given, ordered by effective date, so
//! "as at D" is a binary search plus a short walk back.
//!
//! "As known at T" is a position cut-off: the store records transaction time
//! in position order, so what was known at T is exactly the events up to the
//! last position recorded by T (the [`Trail`](crate::Trail) works that position
//! out once per query). Each entry keeps the value first set and any
//! corrections (a replacement, or `None` when withdrawn), each with the
//! position of the event that set it.

use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq)]
struct Version<V> {
    value: Option<V>,
    /// Position of the event that set this version.
    by: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry<V> {
    effective: NaiveDate,
    /// Position of the event this entry belongs to.
    position: u64,
    first: Version<V>,
    /// Corrections, oldest first; absent (and unallocated) for nearly every entry.
    /// Boxed so the field is one pointer (8 bytes) on every entry, not a Vec's 24.
    #[allow(clippy::box_collection)]
    corrections: Option<Box<Vec<Version<V>>>>,
}

/// A value found in a timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit<'a, V> {
    pub value: &'a V,
    pub effective: NaiveDate,
    /// Position of the event the value belongs to.
    pub position: u64,
    /// Position of the event that set it: `position`, or a correction's.
    pub by: u64,
}

impl<V> Entry<V> {
    /// The version visible to someone who knows the events up to position `upto`:
    /// `None` if not yet recorded, `Some(None)` if withdrawn by then.
    fn visible(&self, upto: u64) -> Option<Option<Hit<'_, V>>> {
        let newest_known = self
            .corrections
            .iter()
            .flat_map(|c| c.iter())
            .rev()
            .chain(std::iter::once(&self.first))
            .find(|v| v.by <= upto)?;
        Some(newest_known.value.as_ref().map(|value| Hit {
            value,
            effective: self.effective,
            position: self.position,
            by: newest_known.by,
        }))
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
    /// Adds the value set by the event at `position`. Back-dated events are inserted in place.
    pub fn set(&mut self, effective: NaiveDate, position: u64, value: V) {
        self.insert(effective, position, Some(value), position);
    }

    fn insert(&mut self, effective: NaiveDate, position: u64, value: Option<V>, by: u64) {
        let key = (effective, position);
        // Most events are the newest fact of their timeline: add them at the end.
        let at = match self.entries.last() {
            Some(e) if (e.effective, e.position) > key => self
                .entries
                .partition_point(|e| (e.effective, e.position) <= key),
            _ => self.entries.len(),
        };
        self.entries.insert(
            at,
            Entry {
                effective,
                position,
                first: Version { value, by },
                corrections: None,
            },
        );
    }

    fn find(&self, effective: NaiveDate, position: u64) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| (e.effective, e.position).cmp(&(effective, position)))
    }

    /// Corrects the value of the event at (`effective`, `position`) by the event at `by`:
    /// replaced, or withdrawn with `None`. A replacement that sets a fact the original
    /// did not is added at the original's place, visible from the correction on.
    pub fn correct(&mut self, effective: NaiveDate, position: u64, value: Option<V>, by: u64) {
        match self.find(effective, position) {
            Ok(i) => self.entries[i]
                .corrections
                .get_or_insert_with(Default::default)
                .push(Version { value, by }),
            Err(_) => {
                if value.is_some() {
                    self.insert(effective, position, value, by)
                }
            }
        }
    }

    /// Whether the event at (`effective`, `position`) set a value here.
    pub fn has(&self, effective: NaiveDate, position: u64) -> bool {
        self.find(effective, position).is_ok()
    }

    /// The value in force as at `as_at`, knowing the events up to position `upto`.
    pub fn at(&self, as_at: NaiveDate, upto: u64) -> Option<Hit<'_, V>> {
        let end = self.entries.partition_point(|e| e.effective <= as_at);
        self.entries[..end]
            .iter()
            .rev()
            .find_map(|e| e.visible(upto).flatten())
    }

    /// Every value in force up to `as_at` (oldest first), knowing events up to `upto`.
    pub fn all_at(&self, as_at: NaiveDate, upto: u64) -> impl Iterator<Item = Hit<'_, V>> + '_ {
        let end = self.entries.partition_point(|e| e.effective <= as_at);
        self.entries[..end]
            .iter()
            .filter_map(move |e| e.visible(upto).flatten())
    }

    /// Every value set for the date of the one in force at `as_at` (oldest
    /// first, the one in force last): several entries of one board. A binary
    /// search and a walk over that one date, however long the timeline.
    pub fn day_at(&self, as_at: NaiveDate, upto: u64) -> Vec<Hit<'_, V>> {
        let Some(latest) = self.at(as_at, upto) else {
            return Vec::new();
        };
        let end = self.entries.partition_point(|e| e.effective <= as_at);
        let start = self
            .entries
            .partition_point(|e| e.effective < latest.effective);
        self.entries[start..end]
            .iter()
            .filter_map(|e| e.visible(upto).flatten())
            .collect()
    }

    /// The first value in force up to `as_at`.
    pub fn first_at(&self, as_at: NaiveDate, upto: u64) -> Option<Hit<'_, V>> {
        self.all_at(as_at, upto).next()
    }
}
