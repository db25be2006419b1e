//! History: every event about an item, in log order, with actor, both times
//! and reason; corrections linked both ways.

use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::{Envelope, Event};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub position: u64,
    pub id: Uuid,
    pub stream: Uuid,
    pub version: u64,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub type_name: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
    pub effective: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub reason: Option<String>,
    /// For a correction: the event it corrects.
    pub corrects: Option<Uuid>,
    /// For a corrected event: the corrections made to it, in order.
    pub corrected_by: Vec<Uuid>,
}

/// The history of the given events (one or more streams), as known at `known_at`.
pub fn history(events: &[Envelope], known_at: Option<DateTime<Utc>>) -> Vec<HistoryEntry> {
    let mut visible: Vec<&Envelope> = events
        .iter()
        .filter(|e| known_at.is_none_or(|t| e.recorded_at <= t))
        .collect();
    visible.sort_by_key(|e| e.position);
    let mut corrected_by: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for e in &visible {
        if let Event::Corrected { target, .. } = &e.event {
            corrected_by.entry(*target).or_default().push(e.id);
        }
    }
    visible
        .into_iter()
        .map(|e| HistoryEntry {
            position: e.position,
            id: e.id,
            stream: e.stream,
            version: e.version,
            type_name: e.event.type_name(),
            data: e.event.data_json(),
            effective: e.effective,
            recorded_at: e.recorded_at,
            actor: e.actor.clone(),
            reason: e.reason.clone(),
            corrects: match &e.event {
                Event::Corrected { target, .. } => Some(*target),
                _ => None,
            },
            corrected_by: corrected_by.remove(&e.id).unwrap_or_default(),
        })
        .collect()
}
