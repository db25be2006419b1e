//! Trends: a metric's readings over time, an item's RAG at every board date,
//! and a programme's RAG counts per board date.

use crate::board::{count, ReadingView};
use crate::trail::{At, Slot, Trail};
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

impl Trail {
    /// Every reading of a metric, by period, as known at `known_at`.
    pub fn metric_trend(&self, id: Uuid, known_at: Option<DateTime<Utc>>) -> Option<MetricTrend> {
        let (m, readings) =
            self.metric_readings(id, self.at(NaiveDate::MAX, known_at), usize::MAX)?;
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
            .board_meetings(programme, self.at(NaiveDate::MAX, known_at).upto)
            .map(|(date, board)| (date, board.to_string()))
            .collect();
        out.sort();
        out
    }

    /// A programme's board meetings (date, board name) known up to log
    /// position `upto`, in no particular order.
    pub(crate) fn board_meetings(
        &self,
        programme: Uuid,
        upto: u64,
    ) -> impl Iterator<Item = (NaiveDate, &str)> + '_ {
        let at = At {
            as_at: NaiveDate::MAX,
            upto,
        };
        self.stream(programme)
            .into_iter()
            .flat_map(move |s| self.all(s, Slot::Board, at))
            .filter_map(|h| match h.value.event() {
                Some(Event::BoardMeetingHeld { board, date }) => Some((*date, board.as_str())),
                _ => None,
            })
    }

    /// An item's RAG per dimension at each board date of its programme.
    pub fn item_trend(&self, id: Uuid, known_at: Option<DateTime<Utc>>) -> Option<Vec<RagAtBoard>> {
        let Event::ItemRegistered { programme, .. } =
            self.registration(id, self.at(NaiveDate::MAX, known_at))?
        else {
            return None;
        };
        Some(
            self.board_dates(*programme, known_at)
                .into_iter()
                .map(|(date, board)| {
                    let rag = self
                        .rag_at(id, self.at(date, known_at))
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
                let at = self.at(date, known_at);
                let counts = count(
                    self.item_ids(Some(programme))
                        .filter(|id| self.registration(*id, at).is_some())
                        .flat_map(|id| self.rag_at(id, at))
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
