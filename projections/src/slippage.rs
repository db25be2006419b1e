//! "What slipped, and by how much?": every item whose target date moved
//! between two boards (or, with no earlier board, since it was first set),
//! with the days it moved, the biggest slip first.

use crate::order::natural_key;
use crate::trail::{Slot, SlotValue, Trail};
use crate::view::Stamp;
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::{Event, ItemKind};
use serde::Serialize;
use uuid::Uuid;

/// One item's target date, moved.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slip {
    pub id: Uuid,
    pub programme: Uuid,
    pub kind: ItemKind,
    pub reference: String,
    pub title: String,
    /// The target date at `from` (or the first one set, with no `from`).
    pub before: NaiveDate,
    /// The target date at `to`.
    pub after: NaiveDate,
    /// `after - before` in days: positive slipped, negative brought forward.
    pub days: i64,
    /// Who set the target date it has now, when and why.
    pub set: Stamp,
}

/// The slips between two dates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slippage {
    /// None: since each target date was first set.
    pub from: Option<NaiveDate>,
    pub to: NaiveDate,
    pub known_at: Option<DateTime<Utc>>,
    /// Biggest slip first; dates brought forward last.
    pub items: Vec<Slip>,
}

/// Every item of `programme` (or of all programmes) whose target date at
/// `to` differs from the one at `from` (or the first one it was given).
pub fn between(
    trail: &Trail,
    from: Option<NaiveDate>,
    to: NaiveDate,
    known_at: Option<DateTime<Utc>>,
    programme: Option<Uuid>,
) -> Slippage {
    let at = trail.at(to, known_at);
    let programmes: Vec<Uuid> = match programme {
        Some(p) => vec![p],
        None => trail.programmes.iter().copied().collect(),
    };
    let mut items = Vec::new();
    for p in programmes {
        for id in trail.items.get(&p).into_iter().flatten() {
            let (
                Some(s),
                Some(Event::ItemRegistered {
                    kind, reference, ..
                }),
            ) = (trail.stream(*id), trail.registration(*id, at))
            else {
                continue;
            };
            let Some(now) = trail.set_of(s, Slot::TargetDate, at, SlotValue::date) else {
                continue;
            };
            let before = match from {
                Some(f) => trail
                    .set_of(s, Slot::TargetDate, trail.at(f, known_at), SlotValue::date)
                    .map(|b| b.value),
                None => s
                    .slot(Slot::TargetDate)
                    .and_then(|t| t.first_at(at.as_at, at.upto))
                    .and_then(|h| h.value.date()),
            };
            let Some(before) = before.filter(|b| *b != now.value) else {
                continue;
            };
            items.push(Slip {
                id: *id,
                programme: p,
                kind: *kind,
                reference: trail
                    .reference(*id, at)
                    .unwrap_or_else(|| reference.clone()),
                title: trail.text(s, Slot::Title, at).unwrap_or_default(),
                before,
                after: now.value,
                days: (now.value - before).num_days(),
                set: now.set,
            });
        }
    }
    items.sort_by(|a, b| {
        b.days
            .cmp(&a.days)
            .then_with(|| natural_key(&a.reference).cmp(&natural_key(&b.reference)))
    });
    Slippage {
        from,
        to,
        known_at,
        items,
    }
}
