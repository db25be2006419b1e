//! The board as at a date: every item with its RAG per dimension (and who set
//! it, when, why), owner, phase, target date and slippage, latest narratives,
//! metrics, finance, risks and issues; counts by RAG.

use crate::trail::{Trail, Viewpoint};
use crate::view::{count_rags, Board, ItemView, ProgrammeView};
use crate::{item, order, programme};
use chrono::{DateTime, NaiveDate, Utc};
use rustc_hash::FxHashMap;
use uuid::Uuid;

pub use crate::view::BoardQuery;

/// The board as at `q.as_at`, as known at `q.known_at`.
pub fn at(trail: &Trail, q: &BoardQuery) -> Board {
    Board {
        known_at: q.known_at,
        ..build(trail, trail.at(q.as_at, q.known_at), q.programme)
    }
}

/// The board as at `as_at` knowing only the events up to log position `upto`
/// (what a board was shown, for seals).
pub fn upto(trail: &Trail, as_at: NaiveDate, upto: u64, programme: Option<Uuid>) -> Board {
    build(trail, Viewpoint { as_at, upto }, programme)
}

fn build(trail: &Trail, at: Viewpoint, programme: Option<Uuid>) -> Board {
    let q = BoardQuery {
        as_at: at.as_at,
        known_at: None,
        programme,
    };
    let programmes: Vec<ProgrammeView> = trail
        .programmes
        .iter()
        .filter(|p| q.programme.is_none_or(|want| want == **p))
        .filter_map(|p| programme::view(trail, *p, at))
        .collect();
    // The previous board of each programme, found once for all its items.
    let mut previous: FxHashMap<Uuid, Option<NaiveDate>> = FxHashMap::default();
    let mut items: Vec<ItemView> = trail
        .item_ids(q.programme)
        .filter_map(|id| {
            item::view(trail, id, at, |p| {
                *previous
                    .entry(p)
                    .or_insert_with(|| programme::previous_board(trail, p, at))
            })
        })
        .filter(|i| q.programme.is_none_or(|p| p == i.programme))
        .collect();
    order::by_reference(&mut items);
    let counts = count_rags(
        items
            .iter()
            .flat_map(|i| i.rag.iter().map(|(d, s)| (*d, s.value))),
    );
    Board {
        as_at: q.as_at,
        known_at: None,
        programmes,
        items,
        counts,
    }
}

/// The programme's last board meeting before `as_at`, as known at `known_at`:
/// the "since" of a board's movement column and of its exports.
pub fn previous_date(
    trail: &Trail,
    programme: Uuid,
    as_at: NaiveDate,
    known_at: Option<DateTime<Utc>>,
) -> Option<NaiveDate> {
    programme::previous_board(trail, programme, trail.at(as_at, known_at))
}
