//! A metric as at a date: its definition and its readings by period, each
//! rated by the report's RAG or, when it gives none, by the metric's rule.

use crate::rating::{self, Rule};
use crate::timeline::Hit;
use crate::trail::{Slot, SlotValue, Stream, Trail, Viewpoint};
use crate::view::BoardQuery;
use crate::view::{MetricView, ReadingView};
use chrono::NaiveDate;
use ragtrail_events::{Event, Rag, Value};
use uuid::Uuid;

/// A metric with its latest two readings as at the query.
pub fn at(trail: &Trail, id: Uuid, q: &BoardQuery) -> Option<MetricView> {
    view(trail, id, trail.at(q.as_at, q.known_at))
}

pub(crate) fn view(trail: &Trail, id: Uuid, at: Viewpoint) -> Option<MetricView> {
    let (mut view, readings) = with_readings(trail, id, at, 2)?;
    let mut it = readings.into_iter().rev();
    view.latest = it.next();
    view.previous = it.next();
    Some(view)
}

/// A metric's definition (without readings) and its last `last` rated readings at `at`.
pub(crate) fn with_readings(
    trail: &Trail,
    id: Uuid,
    at: Viewpoint,
    last: usize,
) -> Option<(MetricView, Vec<ReadingView>)> {
    let s = trail.stream(id)?;
    let (f, _) = trail.latest(s, Slot::Metric, at)?;
    let Some(Event::MetricDefined {
        item,
        reference,
        name,
        unit,
        good_direction,
        target,
        tolerance_pct,
    }) = f.event()
    else {
        return None;
    };
    let rule = Rule {
        target: *target,
        tolerance_pct: *tolerance_pct,
        good_direction: *good_direction,
    };
    let view = MetricView {
        id,
        item: *item,
        reference: reference.clone(),
        name: name.clone(),
        unit: *unit,
        good_direction: *good_direction,
        target: *target,
        target_text: trail.text(s, Slot::TargetText, at),
        notes: trail.notes(s, at),
        tolerance_pct: *tolerance_pct,
        latest: None,
        previous: None,
    };
    Some((view, readings(trail, s, at, rule, last)))
}

/// The last `last` readings of a metric up to `at`, ordered by period, each
/// rated. A later report about the same period supersedes an earlier one.
fn readings(trail: &Trail, s: &Stream, at: Viewpoint, rule: Rule, last: usize) -> Vec<ReadingView> {
    let mut all: Vec<Hit<'_, SlotValue>> = trail
        .all(s, Slot::Reading, at)
        .filter(|h| reading(h).is_some())
        .collect();
    let period_end = |h: &Hit<'_, SlotValue>| reading(h).map(|r| r.period_end);
    all.sort_by_key(|h| (period_end(h), h.effective, h.position));
    let mut by_period: Vec<Hit<'_, SlotValue>> = Vec::with_capacity(all.len());
    for h in all {
        if by_period
            .last()
            .is_some_and(|l| period_end(l) == period_end(&h))
        {
            by_period.pop();
        }
        by_period.push(h);
    }
    let start = by_period.len().saturating_sub(last);
    (start..by_period.len())
        .filter_map(|i| {
            let Reading {
                period,
                period_end,
                value,
                rag,
                target,
                note,
            } = reading(&by_period[i])?;
            let previous = i
                .checked_sub(1)
                .and_then(|p| reading(&by_period[p]))
                .and_then(|r| r.value);
            let rule = Rule {
                target: target.or(rule.target),
                ..rule
            };
            let (rag, rating) = rating::rate(rag, value, previous, rule);
            Some(ReadingView {
                period: period.clone(),
                period_end,
                value,
                target: rule.target,
                rag,
                rating,
                note: note.clone(),
                set: trail.stamp(&by_period[i]),
            })
        })
        .collect()
}

/// The fields of a recorded reading, borrowed from its event.
struct Reading<'a> {
    period: &'a String,
    period_end: NaiveDate,
    value: Option<Value>,
    rag: Option<Rag>,
    target: Option<Value>,
    note: &'a Option<String>,
}

fn reading<'a>(h: &Hit<'a, SlotValue>) -> Option<Reading<'a>> {
    match h.value.event() {
        Some(Event::MetricReadingRecorded {
            period,
            period_end,
            value,
            rag,
            target,
            note,
        }) => Some(Reading {
            period,
            period_end: *period_end,
            value: *value,
            rag: *rag,
            target: *target,
            note,
        }),
        _ => None,
    }
}
