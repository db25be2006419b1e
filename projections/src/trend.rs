//! Trends: a metric's readings over time, an item's RAG at every board date,
//! and a programme's RAG counts per board date.

use crate::board::{readings, BoardQuery, ReadingView};
use crate::rating::Rule;
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
        let m = self.metric_at(
            id,
            &BoardQuery {
                as_at: NaiveDate::MAX,
                known_at,
                programme: None,
            },
        )?;
        let rule = Rule {
            target: m.target,
            tolerance_pct: m.tolerance_pct,
            good_direction: m.good_direction,
        };
        let s = self.stream(id)?;
        Some(MetricTrend {
            id,
            name: m.name,
            target: m.target,
            readings: readings(s.slot(Slot::Reading), NaiveDate::MAX, known_at, rule),
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
        let now = self.item_at(
            id,
            &BoardQuery {
                as_at: NaiveDate::MAX,
                known_at,
                programme: None,
            },
        )?;
        Some(
            self.board_dates(now.programme, known_at)
                .into_iter()
                .map(|(date, board)| {
                    let q = BoardQuery {
                        as_at: date,
                        known_at,
                        programme: None,
                    };
                    let rag = self
                        .item_at(id, &q)
                        .map(|i| i.rag.into_iter().map(|(d, s)| (d, s.value)).collect())
                        .unwrap_or_default();
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
            .map(|(date, board)| CountsAtBoard {
                date,
                board,
                counts: self
                    .board(&BoardQuery {
                        as_at: date,
                        known_at,
                        programme: Some(programme),
                    })
                    .counts,
            })
            .collect()
    }
}
