//! How a RAG moved between two dates, by the board's order Red < Amber <
//! Green < Blue: the arrow of a board's direction of travel and of the
//! "movement since last board" table.

use ragtrail_events::Rag;
use serde::Serialize;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Improved,
    Worsened,
    Unchanged,
    /// Rated at the later date but not the earlier.
    New,
    /// Rated at the earlier date, closed or unrated at the later.
    Closed,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Movement {
    pub from: Option<Rag>,
    pub to: Option<Rag>,
    pub change: Change,
}

/// RAG movement by the board's order Red < Amber < Green < Blue.
pub fn movement(from: Option<Rag>, to: Option<Rag>) -> Movement {
    let rank = |r: Option<Rag>| r.and_then(Rag::rank);
    let change = match (rank(from), rank(to)) {
        (None, None) => Change::Unchanged,
        (None, Some(_)) => Change::New,
        (Some(_), None) => Change::Closed,
        (Some(a), Some(b)) if b > a => Change::Improved,
        (Some(a), Some(b)) if b < a => Change::Worsened,
        _ => Change::Unchanged,
    };
    Movement { from, to, change }
}
