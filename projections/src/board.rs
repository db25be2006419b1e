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

/// One page of a board: its rows are the programmes in id order, each
/// followed by its items in reference order, and `next` is the id of the
/// last row when more follow. `counts` are the whole board's, not the page's.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub board: Board,
    pub next: Option<Uuid>,
}

/// Why a page cannot be cut.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("{0} is not a programme or item on this board; pass the `next` of the page before")]
    NoSuchRow(Uuid),
}

/// At most `limit` rows (programmes and items) of the board as at `q`,
/// starting after the row `after` (the `next` of the page before).
pub fn page(
    trail: &Trail,
    q: &BoardQuery,
    after: Option<Uuid>,
    limit: usize,
) -> Result<Page, PageError> {
    let at = trail.at(q.as_at, q.known_at);
    let limit = limit.max(1);
    let mut ids: std::collections::BTreeSet<Uuid> = trail.programmes.iter().copied().collect();
    ids.extend(trail.items.keys().copied());
    ids.retain(|p| q.programme.is_none_or(|want| want == *p));
    // Where the page starts: within a programme, after its own row or after one of its items.
    let (from, mut skip_to) = match after {
        None => (None, None),
        Some(id) if ids.contains(&id) => (Some(id), Some(id)),
        Some(id) => match trail.registration(id, at) {
            Some(ragtrail_events::Event::ItemRegistered { programme, .. })
                if ids.contains(programme) =>
            {
                (Some(*programme), Some(id))
            }
            _ => return Err(PageError::NoSuchRow(id)),
        },
    };
    let start = match from {
        Some(p) => std::ops::Bound::Included(p),
        None => std::ops::Bound::Unbounded,
    };
    let mut previous: FxHashMap<Uuid, Option<NaiveDate>> = FxHashMap::default();
    let mut programmes = Vec::new();
    let mut items = Vec::new();
    // One row more than the page holds tells whether another page follows.
    let mut rows = 0;
    let mut last_was_item = false;
    'programmes: for p in ids.range((start, std::ops::Bound::Unbounded)) {
        if skip_to.is_none() {
            if let Some(view) = programme::view(trail, *p, at) {
                if rows > limit {
                    break;
                }
                programmes.push(view);
                rows += 1;
                last_was_item = false;
            }
        }
        let mut mine: Vec<ItemView> = trail
            .item_ids(Some(*p))
            .filter_map(|id| {
                item::view(trail, id, at, |prog| {
                    *previous
                        .entry(prog)
                        .or_insert_with(|| programme::previous_board(trail, prog, at))
                })
            })
            .filter(|i| i.programme == *p)
            .collect();
        order::by_reference(&mut mine);
        let mut mine = mine.into_iter();
        match skip_to.take() {
            // After the programme's own row: all its items follow.
            Some(skip) if skip == *p => {}
            Some(skip) if !mine.by_ref().any(|i| i.id == skip) => {
                return Err(PageError::NoSuchRow(skip));
            }
            _ => {}
        }
        for i in mine {
            if rows > limit {
                break 'programmes;
            }
            items.push(i);
            rows += 1;
            last_was_item = true;
        }
    }
    let more = rows > limit;
    if more {
        if last_was_item {
            items.pop();
        } else {
            programmes.pop();
        }
    }
    // The last row of the page: the later of the last programme and the last item.
    let last_row = match (programmes.last(), items.last()) {
        (Some(p), Some(i)) if i.programme >= p.id => Some(i.id),
        (Some(p), _) => Some(p.id),
        (None, Some(i)) => Some(i.id),
        (None, None) => None,
    };
    let counts = count_rags(
        trail
            .item_ids(q.programme)
            .filter(|id| trail.registration(*id, at).is_some())
            .flat_map(|id| item::rag_at(trail, id, at))
            .map(|(d, s)| (d, s.value)),
    );
    Ok(Page {
        board: Board {
            as_at: q.as_at,
            known_at: q.known_at,
            programmes,
            items,
            counts,
        },
        next: if more { last_row } else { None },
    })
}
