//! Trends: a metric's readings over time, an item's RAG at every board date,
//! and a programme's RAG counts per board date.

use crate::trail::Trail;
use crate::view::{count_rags, ReadingView};
use crate::{item, metric, programme};
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::{Dimension, Event, Rag, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricTrend {
    pub id: Uuid,
    pub name: String,
    pub target: Option<Value>,
    pub readings: Vec<ReadingView>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RagAtBoard {
    pub date: NaiveDate,
    pub board: String,
    pub rag: BTreeMap<Dimension, Rag>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountsAtBoard {
    pub date: NaiveDate,
    pub board: String,
    pub counts: BTreeMap<Dimension, BTreeMap<Rag, usize>>,
}

/// Every reading of a metric, by period, as known at `known_at`.
pub fn metric(trail: &Trail, id: Uuid, known_at: Option<DateTime<Utc>>) -> Option<MetricTrend> {
    let (m, readings) =
        metric::with_readings(trail, id, trail.at(NaiveDate::MAX, known_at), usize::MAX)?;
    Some(MetricTrend {
        id,
        name: m.name,
        target: m.target,
        readings,
    })
}

/// An item's RAG per dimension at each board date of its programme.
pub fn item(trail: &Trail, id: Uuid, known_at: Option<DateTime<Utc>>) -> Option<Vec<RagAtBoard>> {
    let Event::ItemRegistered { programme, .. } =
        trail.registration(id, trail.at(NaiveDate::MAX, known_at))?
    else {
        return None;
    };
    Some(
        programme::board_dates(trail, *programme, known_at)
            .into_iter()
            .map(|programme::BoardDate { date, board }| {
                let rag = item::rag_at(trail, id, trail.at(date, known_at))
                    .into_iter()
                    .map(|(d, s)| (d, s.value))
                    .collect();
                RagAtBoard { date, board, rag }
            })
            .collect(),
    )
}

/// A programme's RAG counts at each of its board dates.
pub fn counts(
    trail: &Trail,
    programme: Uuid,
    known_at: Option<DateTime<Utc>>,
) -> Vec<CountsAtBoard> {
    programme::board_dates(trail, programme, known_at)
        .into_iter()
        .map(|programme::BoardDate { date, board }| {
            let at = trail.at(date, known_at);
            let counts = count_rags(
                trail
                    .item_ids(Some(programme))
                    .filter(|id| trail.registration(*id, at).is_some())
                    .flat_map(|id| item::rag_at(trail, id, at))
                    .map(|(d, s)| (d, s.value)),
            );
            CountsAtBoard {
                date,
                board,
                counts,
            }
        })
        .collect()
}
