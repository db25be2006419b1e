//! Movement between two dates — the "movement since last board" table: RAG
//! movement per dimension, metric deltas judged by good direction, target
//! dates revised, risks opened and closed, narratives changed; exceptions first.

use crate::board::{self, BoardQuery};
use crate::item;
use crate::movement::{movement, Change, Movement};
use crate::trail::Trail;
use crate::view::{ItemView, MetricView};
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::{Dimension, Direction, Event, PlannedPhase, Rag, Section};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricChange {
    Improved,
    Worsened,
    Unchanged,
    NoData,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricDelta {
    pub id: Uuid,
    pub name: String,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub delta: Option<f64>,
    pub target: Option<f64>,
    pub change: MetricChange,
    /// Whether the later value meets the target (None without both).
    pub on_target: Option<bool>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemMovement {
    pub id: Uuid,
    pub programme: Uuid,
    pub reference: String,
    pub title: String,
    pub rag: BTreeMap<Dimension, Movement>,
    /// Stamped when the target date was revised between the two dates.
    pub target_date: Option<DateChange>,
    pub metrics: Vec<MetricDelta>,
    pub risks_opened: Vec<String>,
    pub risks_closed: Vec<String>,
    pub narratives_changed: Vec<Section>,
    /// The description, when it was rewritten between the two dates.
    pub description_changed: Option<TextChange>,
    /// The planned timeline, when it was redrawn between the two dates.
    pub plan_changed: Option<PlanChange>,
    /// Red, or Amber and worsening, in any dimension at the later date: discuss first.
    pub exception: bool,
    /// The dimensions that made it an exception.
    pub exception_in: Vec<Dimension>,
    /// Registered after the earlier date.
    pub new_item: bool,
}

/// A text before and after.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextChange {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A planned timeline before and after, and the months whose phase differs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanChange {
    pub from: Vec<PlannedPhase>,
    pub to: Vec<PlannedPhase>,
    /// Months planned in one and not the other, or with another phase.
    pub months_changed: Vec<NaiveDate>,
}

/// A target date before and after.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DateChange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub known_at: Option<DateTime<Utc>>,
    /// Exceptions first, then worsened, improved, unchanged; by reference within each.
    pub items: Vec<ItemMovement>,
}

fn metric_delta(from: Option<&MetricView>, to: &MetricView) -> MetricDelta {
    let val = |m: Option<&MetricView>| {
        m.and_then(|m| m.latest.as_ref())
            .and_then(|r| r.value)
            .map(|v| v.as_f64())
    };
    let (a, b) = (val(from), val(Some(to)));
    let target = to.target.map(|t| t.as_f64());
    let better = |x: f64, y: f64| match to.good_direction {
        Direction::Up => x > y,
        Direction::Down => x < y,
    };
    let change = match (a, b) {
        (Some(a), Some(b)) if better(b, a) => MetricChange::Improved,
        (Some(a), Some(b)) if better(a, b) => MetricChange::Worsened,
        (Some(_), Some(_)) => MetricChange::Unchanged,
        _ => MetricChange::NoData,
    };
    MetricDelta {
        id: to.id,
        name: to.name.clone(),
        from: a,
        to: b,
        delta: a.zip(b).map(|(a, b)| b - a),
        target,
        change,
        on_target: b.zip(target).map(|(b, t)| b == t || better(b, t)),
    }
}

fn item_movement(before: Option<&ItemView>, after: &ItemView) -> ItemMovement {
    let mut rag = BTreeMap::new();
    for d in Dimension::ALL {
        let from = before.and_then(|b| b.rag.get(&d)).map(|s| s.value);
        let to = after.rag.get(&d).map(|s| s.value);
        if from.is_some() || to.is_some() {
            rag.insert(d, movement(from, to));
        }
    }
    let td = |i: Option<&ItemView>| i.and_then(|i| i.target_date.as_ref()).map(|s| s.value);
    let (t0, t1) = (td(before), td(Some(after)));
    let metrics = after
        .metrics
        .iter()
        .map(|m| {
            metric_delta(
                before.and_then(|b| b.metrics.iter().find(|x| x.id == m.id)),
                m,
            )
        })
        .collect();
    let open_refs = |i: Option<&ItemView>| -> Vec<String> {
        i.map(|i| {
            i.risks
                .iter()
                .filter(|r| r.open)
                .map(|r| r.reference.clone())
                .collect()
        })
        .unwrap_or_default()
    };
    let (open0, open1) = (open_refs(before), open_refs(Some(after)));
    let narratives_changed = after
        .narratives
        .iter()
        .filter(|(s, n)| {
            before
                .and_then(|b| b.narratives.get(s))
                .map(|o| o.set.position)
                != Some(n.set.position)
        })
        .map(|(s, _)| *s)
        .collect();
    // Every dimension is judged: an action Amber on delivery and Red on
    // savings is an exception, for its savings.
    let exception_in: Vec<Dimension> = rag
        .iter()
        .filter(|(_, m)| {
            m.to == Some(Rag::Red) || (m.to == Some(Rag::Amber) && m.change == Change::Worsened)
        })
        .map(|(d, _)| *d)
        .collect();
    let exception = !exception_in.is_empty();
    ItemMovement {
        id: after.id,
        programme: after.programme,
        reference: after.reference.clone(),
        title: after.title.clone(),
        rag,
        target_date: (t0 != t1 && before.is_some()).then_some(DateChange { from: t0, to: t1 }),
        metrics,
        risks_opened: open1
            .iter()
            .filter(|r| !open0.contains(r))
            .cloned()
            .collect(),
        risks_closed: open0
            .iter()
            .filter(|r| !open1.contains(r))
            .cloned()
            .collect(),
        narratives_changed,
        description_changed: (before.is_some()
            && before.and_then(|b| b.description.clone()) != after.description)
            .then(|| TextChange {
                from: before.and_then(|b| b.description.clone()),
                to: after.description.clone(),
            }),
        plan_changed: None,
        exception,
        exception_in,
        new_item: before.is_none(),
    }
}

/// How an item's planned timeline was redrawn between two queries, if it was.
fn plan_change(trail: &Trail, id: Uuid, q1: &BoardQuery, q2: &BoardQuery) -> Option<PlanChange> {
    let plan = |q: &BoardQuery| -> Vec<PlannedPhase> {
        let at = trail.at(q.as_at, q.known_at);
        trail
            .stream(id)
            .and_then(|s| trail.latest(s, crate::trail::Slot::Plan, at))
            .and_then(|(f, _)| match f.event() {
                Some(Event::TimelinePlanned { months }) => Some(months.clone()),
                _ => None,
            })
            .unwrap_or_default()
    };
    let (from, to) = (plan(q1), plan(q2));
    if from == to || from.is_empty() {
        return None;
    }
    let phase_in = |p: &[PlannedPhase], m: NaiveDate| -> Vec<ragtrail_events::Phase> {
        p.iter().filter(|x| x.month == m).map(|x| x.phase).collect()
    };
    let mut months: Vec<NaiveDate> = from.iter().chain(&to).map(|p| p.month).collect();
    months.sort_unstable();
    months.dedup();
    let months_changed = months
        .into_iter()
        .filter(|m| phase_in(&from, *m) != phase_in(&to, *m))
        .collect();
    Some(PlanChange {
        from,
        to,
        months_changed,
    })
}

/// Movement from `from` to `to` (as known at `known_at`), optionally for one programme.
pub fn between(
    trail: &Trail,
    from: NaiveDate,
    to: NaiveDate,
    known_at: Option<DateTime<Utc>>,
    programme: Option<Uuid>,
) -> Comparison {
    let q1 = BoardQuery {
        as_at: from,
        known_at,
        programme,
    };
    let q2 = BoardQuery {
        as_at: to,
        known_at,
        programme,
    };
    let later = board::at(trail, &q2);
    let mut items: Vec<ItemMovement> = later
        .items
        .iter()
        .map(|after| {
            let before = item::at(trail, after.id, &q1);
            let mut m = item_movement(before.as_ref(), after);
            if before.is_some() {
                m.plan_changed = plan_change(trail, after.id, &q1, &q2);
            }
            m
        })
        .collect();
    let group = |m: &ItemMovement| {
        let c = m.rag.get(&Dimension::Overall).map(|m| m.change);
        if m.exception {
            0
        } else if c == Some(Change::Worsened) {
            1
        } else if c == Some(Change::Improved) {
            2
        } else {
            3
        }
    };
    // Stable sort keeps the board's reference order within each group.
    items.sort_by_key(group);
    Comparison {
        from,
        to,
        known_at,
        items,
    }
}
