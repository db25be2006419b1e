//! One item as at a date: its registration, RAG per dimension, phase and
//! plan, target date and slippage, narratives, milestones, finance, metrics,
//! risks and issues, and its direction of travel.

use crate::movement::movement;
use crate::trail::{Slot, SlotValue, Trail, Viewpoint};
use crate::view::BoardQuery;
use crate::view::{
    Finance, ItemLink, ItemView, MilestoneView, Stamped, Travel, TravelStep, WithinSlippage,
};
use crate::{concern, metric, programme};
use chrono::{Datelike, NaiveDate};
use ragtrail_events::{Dimension, Event, Rag};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One item as at the query; None if it was not registered by then.
pub fn at(trail: &Trail, id: Uuid, q: &BoardQuery) -> Option<ItemView> {
    let at = trail.at(q.as_at, q.known_at);
    view(trail, id, at, |p| programme::previous_board(trail, p, at))
}

/// `previous_board` gives a programme's last board before `at` (see [`previous_board`]).
pub(crate) fn view(
    trail: &Trail,
    id: Uuid,
    at: Viewpoint,
    previous_board: impl FnOnce(Uuid) -> Option<NaiveDate>,
) -> Option<ItemView> {
    let s = trail.stream(id)?;
    let Event::ItemRegistered {
        programme,
        parent,
        kind,
        reference,
        timeframe,
        ..
    } = trail.registration(id, at)?
    else {
        return None;
    };
    let planned_phase = trail
        .latest(s, Slot::Plan, at)
        .and_then(|(f, _)| match f.event() {
            Some(Event::TimelinePlanned { months }) => months
                .iter()
                .find(|m| m.month.year() == at.as_at.year() && m.month.month() == at.as_at.month())
                .map(|m| m.phase),
            _ => None,
        });
    let target_date = trail.set_of(s, Slot::TargetDate, at, SlotValue::date);
    let first_target_date = s
        .slot(Slot::TargetDate)
        .and_then(|t| t.first_at(at.as_at, at.upto))
        .and_then(|h| h.value.date());
    let slippage_days = slippage(trail, id, at);
    let closed = trail.set_of(s, Slot::Closed, at, SlotValue::closure);
    let overdue_days = match (&target_date, &closed) {
        (Some(t), None) if t.value < at.as_at => Some((at.as_at - t.value).num_days()),
        _ => None,
    };
    let narratives = s
        .slots
        .keys()
        .filter_map(|slot| match slot {
            Slot::Narrative(section) => {
                let set = trail.set_of(s, *slot, at, |f| f.text().map(str::to_string))?;
                Some((*section, set))
            }
            _ => None,
        })
        .collect();
    // Several entries of one section for the same board date: all are kept.
    let earlier_narratives = narratives_of(trail, s, at);
    let late = |date: Option<NaiveDate>, state: ragtrail_events::MilestoneState| {
        date.is_some_and(|d| d < at.as_at) && state != ragtrail_events::MilestoneState::Completed
    };
    let milestones = trail
        .events(s, Slot::Milestone, at)
        .filter_map(|e| match e {
            Event::MilestoneRecorded {
                date,
                when,
                activity,
                state,
            } => Some(MilestoneView {
                date: Some(*date),
                when: when.clone(),
                activity: activity.clone(),
                state: *state,
                overdue: late(Some(*date), *state),
            }),
            // A milestone the report gives no exact date ("To be agreed"): its words are kept.
            Event::MilestonePlanned {
                when,
                date,
                activity,
                state,
            } => Some(MilestoneView {
                date: *date,
                when: Some(when.clone()),
                activity: activity.clone(),
                state: *state,
                overdue: late(*date, *state),
            }),
            _ => None,
        })
        .collect();
    // The latest amount of each named money line.
    let mut money_lines: BTreeMap<String, Stamped<i64>> = BTreeMap::new();
    for h in trail.all(s, Slot::MoneyLine, at) {
        if let Some(Event::MoneyRecorded { line, pence }) = h.value.event() {
            money_lines.insert(
                line.clone(),
                Stamped {
                    value: *pence,
                    set: trail.stamp(&h),
                },
            );
        }
    }
    let links = links_of(trail, id, at);
    let finance = Finance {
        budget: trail.money(s, Slot::Budget, at),
        spent: trail.money(s, Slot::Spent, at),
        savings_target: trail.money(s, Slot::SavingsTarget, at),
        savings_achieved: trail.money(s, Slot::SavingsAchieved, at),
    };
    let metrics = trail
        .item_metrics
        .get(&id)
        .into_iter()
        .flatten()
        .filter_map(|m| metric::view(trail, *m, at))
        .filter(|m| m.item == Some(id))
        .collect();
    let (risks, issues) = concern::of(trail, id, at);
    let travel = travel(trail, id, previous_board(*programme), at);
    Some(ItemView {
        id,
        programme: *programme,
        parent: *parent,
        kind: *kind,
        reference: trail.reference(id, at).unwrap_or_else(|| reference.clone()),
        title: trail.text(s, Slot::Title, at).unwrap_or_default(),
        owner: trail.text(s, Slot::Owner, at),
        description: trail.text(s, Slot::Description, at),
        priority: trail
            .latest(s, Slot::Priority, at)
            .and_then(|(f, _)| f.priority()),
        timeframe: timeframe.clone(),
        rag: rag_at(trail, id, at),
        phase: trail.set_of(s, Slot::Phase, at, SlotValue::phase),
        planned_phase,
        target_date,
        first_target_date,
        slippage_days,
        overdue_days,
        within_slippage: within_slippage(trail, id, at),
        narratives,
        earlier_narratives,
        milestones,
        finance,
        money_lines,
        links,
        notes: trail.notes(s, at),
        roles: trail.roles(s, at),
        closed,
        metrics,
        risks,
        issues,
        travel,
    })
}

/// The items `id` links to, and those that link to it.
fn links_of(trail: &Trail, id: Uuid, at: Viewpoint) -> Vec<ItemLink> {
    let reference = |other: Uuid| trail.reference(other, at);
    let relations = |from: Uuid| -> Vec<(Uuid, String)> {
        trail
            .stream(from)
            .map(|s| {
                trail
                    .events(s, Slot::Link, at)
                    .filter_map(|e| match e {
                        Event::ItemLinked { other, relation } => Some((*other, relation.clone())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out: Vec<ItemLink> = relations(id)
        .into_iter()
        .filter_map(|(other, relation)| {
            Some(ItemLink {
                item: other,
                reference: reference(other)?,
                relation,
                inward: false,
            })
        })
        .collect();
    for from in trail.linked_from.get(&id).into_iter().flatten() {
        for (other, relation) in relations(*from) {
            if other == id {
                if let Some(r) = reference(*from) {
                    out.push(ItemLink {
                        item: *from,
                        reference: r,
                        relation,
                        inward: true,
                    });
                }
            }
        }
    }
    out
}

/// For each narrative section with several entries at its latest date, the
/// entries before the latest (oldest first).
fn narratives_of(
    trail: &Trail,
    s: &crate::trail::Stream,
    at: Viewpoint,
) -> BTreeMap<ragtrail_events::Section, Vec<Stamped<String>>> {
    let mut out = BTreeMap::new();
    for slot in s.slots.keys() {
        let Slot::Narrative(section) = slot else {
            continue;
        };
        let hits = s
            .slot(*slot)
            .map(|t| t.day_at(at.as_at, at.upto))
            .unwrap_or_default();
        let Some((_, earlier)) = hits.split_last() else {
            continue;
        };
        let earlier: Vec<Stamped<String>> = earlier
            .iter()
            .filter_map(|h| {
                Some(Stamped {
                    value: h.value.text()?.to_string(),
                    set: trail.stamp(h),
                })
            })
            .collect();
        if !earlier.is_empty() {
            out.insert(*section, earlier);
        }
    }
    out
}

/// Days an item's target date at `at` lies after the first one it was
/// given (negative: brought forward).
pub(crate) fn slippage(trail: &Trail, id: Uuid, at: Viewpoint) -> Option<i64> {
    let s = trail.stream(id)?;
    let now = trail.latest(s, Slot::TargetDate, at)?.0.date()?;
    let first = s
        .slot(Slot::TargetDate)?
        .first_at(at.as_at, at.upto)?
        .value
        .date()?;
    Some((now - first).num_days())
}

/// The largest positive slippage among the items under `id`, at any depth.
fn within_slippage(trail: &Trail, id: Uuid, at: Viewpoint) -> Option<WithinSlippage> {
    let mut worst: Option<WithinSlippage> = None;
    let mut stack: Vec<Uuid> = trail
        .children
        .get(&id)
        .into_iter()
        .flatten()
        .copied()
        .collect();
    // An outline is a few levels deep; the bound only guards a malformed one.
    let mut seen = 0usize;
    while let Some(child) = stack.pop() {
        seen += 1;
        if seen > 10_000 {
            break;
        }
        if let Some(days) = slippage(trail, child, at).filter(|d| *d > 0) {
            if worst.as_ref().is_none_or(|w| days > w.days) {
                let reference = trail.reference(child, at).unwrap_or_default();
                worst = Some(WithinSlippage {
                    days,
                    item: child,
                    reference,
                });
            }
        }
        stack.extend(trail.children.get(&child).into_iter().flatten().copied());
    }
    worst
}

/// An item's RAG per dimension at `at`, with who set each.
pub(crate) fn rag_at(trail: &Trail, id: Uuid, at: Viewpoint) -> BTreeMap<Dimension, Stamped<Rag>> {
    let Some(s) = trail.stream(id) else {
        return BTreeMap::new();
    };
    Dimension::ALL
        .into_iter()
        .filter_map(|d| {
            let (f, set) = trail.latest(s, Slot::Rag(d), at)?;
            Some((
                d,
                Stamped {
                    value: f.rag()?,
                    set,
                },
            ))
        })
        .collect()
}

/// The overall RAG's direction of travel as at `at`, short term against
/// the programme's `previous_board`.
fn travel(trail: &Trail, id: Uuid, previous_board: Option<NaiveDate>, at: Viewpoint) -> Travel {
    let overall = |when: Viewpoint| {
        rag_at(trail, id, when)
            .get(&Dimension::Overall)
            .map(|s| s.value)
    };
    let now = overall(at);
    let step = |since: NaiveDate| {
        let from = overall(Viewpoint { as_at: since, ..at });
        let m = movement(from, now);
        TravelStep {
            since,
            from,
            to: now,
            change: m.change,
        }
    };
    let year_ago = at.as_at.checked_sub_months(chrono::Months::new(12));
    Travel {
        short: now.and(previous_board).map(step),
        long: now.and(year_ago).map(step),
    }
}
