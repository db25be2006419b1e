//! An item's history as the service serves it: the item's own stream, and on
//! request its children's (recursively), read from the log and merged in order.

use chrono::{DateTime, Utc};
use ragtrail_events::{Store, StoreError};
use ragtrail_projections::history::{history, HistoryEntry};
use ragtrail_projections::Trail;
use uuid::Uuid;

/// Every event about `item` (and, with `children`, about every item under it), in
/// log order, as known at `known_at`.
pub fn read(
    store: &Store,
    trail: &Trail,
    item: Uuid,
    children: bool,
    known_at: Option<DateTime<Utc>>,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut streams = vec![item];
    if children {
        let mut i = 0;
        while i < streams.len() {
            for c in trail.children_of(streams[i]) {
                if !streams.contains(&c) {
                    streams.push(c);
                }
            }
            i += 1;
        }
    }
    let mut events = Vec::new();
    for s in streams {
        events.extend(store.read_stream(s, 0, usize::MAX)?);
    }
    Ok(history(&events, known_at))
}
