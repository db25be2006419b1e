//! Trends: a metric's readings over time, an item's RAG at every board date,
//! and a programme's RAG counts per board date.

use crate::board::{count, BoardQuery, ReadingView};
use crate::trail::{Slot, Trail};
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::{Dimension, Event, Rag, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricTrend {
    pub id: Uuid,
    pub name: String,
    pub target: Option<Value>,
    pub readings: Vec<ReadingView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RagAtBoard {
    pub date: NaiveDate,
    pub board: String,
    pub rag: BTreeMap<Dimension, Rag>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountsAtBoard {
    pub date: NaiveDate,
    pub board: String,
    pub counts: BTreeMap<Dimension, BTreeMap<Rag, usize>>,
}

impl Trail {
    /// Every reading of a metric, by period, as known at `known_at`.
    pub fn metric_trend(&self, id: Uuid, known_at: Option<DateTime<Utc>>) -> Option<MetricTrend> {
        let (m, readings) = self.metric_readings(id, &ever(known_at))?;
        Some(MetricTrend {
            id,
            name: m.name,
            target: m.target,
            readings,
        })
    }

    /// The board meetings of a programme, by date.
    pub fn board_dates(
        &self,
        programme: Uuid,
        known_at: Option<DateTime<Utc>>,
    ) -> Vec<(NaiveDate, String)> {
        let mut out: Vec<(NaiveDate, String)> = self
            .stream(programme)
            .and_then(|s| s.slot(Slot::Board))
            .into_iter()
            .flat_map(|t| t.all_at(NaiveDate::MAX, known_at))
            .filter_map(|(e, _)| match e.as_ref() {
                Event::BoardMeetingHeld { board, date } => Some((*date, board.clone())),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }

    /// An item's RAG per dimension at each board date of its programme.
    pub fn item_trend(&self, id: Uuid, known_at: Option<DateTime<Utc>>) -> Option<Vec<RagAtBoard>> {
        let Event::ItemRegistered { programme, .. } = self.registration(id, &ever(known_at))?
        else {
            return None;
        };
        Some(
            self.board_dates(*programme, known_at)
                .into_iter()
                .map(|(date, board)| {
                    let rag = self
                        .rag_at(id, &at(date, known_at))
                        .into_iter()
                        .map(|(d, s)| (d, s.value))
                        .collect();
                    RagAtBoard { date, board, rag }
                })
                .collect(),
        )
    }

    /// A programme's RAG counts at each of its board dates.
    pub fn rag_counts(
        &self,
        programme: Uuid,
        known_at: Option<DateTime<Utc>>,
    ) -> Vec<CountsAtBoard> {
        self.board_dates(programme, known_at)
            .into_iter()
            .map(|(date, board)| {
                let q = at(date, known_at);
                let counts = count(
                    self.item_ids(Some(programme))
                        .filter(|id| self.registration(*id, &q).is_some())
                        .flat_map(|id| self.rag_at(id, &q))
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
}

fn at(as_at: NaiveDate, known_at: Option<DateTime<Utc>>) -> BoardQuery {
    BoardQuery {
        as_at,
        known_at,
        programme: None,
    }
}

/// Everything ever in force, as known at `known_at`.
fn ever(known_at: Option<DateTime<Utc>>) -> BoardQuery {
    at(NaiveDate::MAX, known_at)
}
