//! The board as at a date: every item with its RAG per dimension (and who set
//! it, when, why), owner, phase, target date and slippage, latest narratives,
//! metrics, finance, risks and issues; counts by RAG.

use crate::rating::{self, Rating, Rule};
use crate::timeline::{Stamp, Timeline};
use crate::trail::{Slot, Trail};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ragtrail_events::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// Which board to build: as at a date, as known at an instant (None: now), for one programme or all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoardQuery {
    pub as_at: NaiveDate,
    pub known_at: Option<DateTime<Utc>>,
    pub programme: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub as_at: NaiveDate,
    pub known_at: Option<DateTime<Utc>>,
    pub programmes: Vec<ProgrammeView>,
    pub items: Vec<ItemView>,
    /// Per dimension, how many items are at each RAG.
    pub counts: BTreeMap<Dimension, BTreeMap<Rag, usize>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgrammeView {
    pub id: Uuid,
    pub name: String,
    pub authority: String,
    pub sponsor: Option<String>,
    pub boards: Vec<BoardMeeting>,
    pub judgements: Vec<JudgementView>,
    pub roles: BTreeMap<String, String>,
    /// Risks and issues raised against the programme rather than an item.
    pub risks: Vec<ConcernView>,
    pub issues: Vec<ConcernView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardMeeting {
    pub event: Uuid,
    pub board: String,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgementView {
    pub inspection: String,
    pub area: String,
    pub grade: Grade,
    pub date: NaiveDate,
}

/// A value and who set it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Set<V> {
    pub value: V,
    pub set: Stamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemView {
    pub id: Uuid,
    pub programme: Uuid,
    pub parent: Option<Uuid>,
    pub kind: ItemKind,
    pub reference: String,
    pub title: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub timeframe: Option<String>,
    pub rag: BTreeMap<Dimension, Set<Rag>>,
    pub phase: Option<Set<Phase>>,
    /// The phase the plan gave for the month of the board date.
    pub planned_phase: Option<Phase>,
    pub target_date: Option<Set<NaiveDate>>,
    pub first_target_date: Option<NaiveDate>,
    /// Days the current target date lies after the first one (negative: brought forward).
    pub slippage_days: Option<i64>,
    pub narratives: BTreeMap<Section, Set<String>>,
    pub milestones: Vec<MilestoneView>,
    pub finance: Finance,
    pub roles: BTreeMap<String, String>,
    pub closed: Option<Set<Closure>>,
    pub metrics: Vec<MetricView>,
    pub risks: Vec<ConcernView>,
    pub issues: Vec<ConcernView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MilestoneView {
    pub date: NaiveDate,
    pub when: Option<String>,
    pub activity: String,
    pub state: MilestoneState,
}

/// Money in integer pence.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Finance {
    pub budget: Option<i64>,
    pub spent: Option<i64>,
    pub savings_target: Option<i64>,
    pub savings_achieved: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricView {
    pub id: Uuid,
    pub item: Option<Uuid>,
    pub reference: Option<String>,
    pub name: String,
    pub unit: Unit,
    pub good_direction: Direction,
    pub target: Option<Value>,
    pub tolerance_pct: Option<f64>,
    pub latest: Option<ReadingView>,
    pub previous: Option<ReadingView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadingView {
    pub period: String,
    pub period_end: NaiveDate,
    pub value: Option<Value>,
    pub target: Option<Value>,
    pub rag: Option<Rag>,
    pub rating: Rating,
    pub note: Option<String>,
    pub set: Stamp,
}

/// A risk or an issue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConcernView {
    pub id: Uuid,
    pub item: Option<Uuid>,
    pub reference: String,
    pub description: String,
    pub owner: Option<String>,
    /// Mitigation (risks) or action to be taken (issues).
    pub action: Option<String>,
    pub rag: Option<Rag>,
    pub open: bool,
    pub raised: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub note: Option<String>,
}

type Slots<'a> = Option<&'a Timeline<Arc<Event>>>;

fn latest<'a>(t: Slots<'a>, q: &BoardQuery) -> Option<(&'a Event, &'a Stamp)> {
    t?.at(q.as_at, q.known_at).map(|(e, s)| (e.as_ref(), s))
}

impl Trail {
    /// The board as at `q.as_at`, as known at `q.known_at`.
    pub fn board(&self, q: &BoardQuery) -> Board {
        let programmes: Vec<ProgrammeView> = self
            .programmes
            .iter()
            .filter(|p| q.programme.is_none_or(|want| want == **p))
            .filter_map(|p| self.programme_at(*p, q))
            .collect();
        let mut items: Vec<ItemView> = self
            .item_ids(q.programme)
            .filter_map(|id| self.item_at(id, q))
            .filter(|i| q.programme.is_none_or(|p| p == i.programme))
            .collect();
        items.sort_by(|a, b| {
            (a.programme, natural_key(&a.reference), a.id).cmp(&(
                b.programme,
                natural_key(&b.reference),
                b.id,
            ))
        });
        let counts = count(
            items
                .iter()
                .flat_map(|i| i.rag.iter().map(|(d, s)| (*d, s.value))),
        );
        Board {
            as_at: q.as_at,
            known_at: q.known_at,
            programmes,
            items,
            counts,
        }
    }

    /// The ids of the items registered to a programme (or to any programme).
    pub(crate) fn item_ids(&self, programme: Option<Uuid>) -> impl Iterator<Item = Uuid> + '_ {
        self.items
            .iter()
            .filter(move |(p, _)| programme.is_none_or(|want| want == **p))
            .flat_map(|(_, ids)| ids.iter().copied())
    }

    /// An item's registration as at the query.
    pub(crate) fn registration(&self, id: Uuid, q: &BoardQuery) -> Option<&Event> {
        latest(self.stream(id)?.slot(Slot::Registration), q).map(|(e, _)| e)
    }

    /// An item's RAG per dimension as at the query, with who set each.
    pub(crate) fn rag_at(&self, id: Uuid, q: &BoardQuery) -> BTreeMap<Dimension, Set<Rag>> {
        let Some(s) = self.stream(id) else {
            return BTreeMap::new();
        };
        Dimension::ALL
            .into_iter()
            .filter_map(|d| match latest(s.slot(Slot::Rag(d)), q) {
                Some((Event::RagChanged { rag, .. }, st)) => Some((
                    d,
                    Set {
                        value: *rag,
                        set: st.clone(),
                    },
                )),
                _ => None,
            })
            .collect()
    }

    /// The risks and issues raised against an item (or a programme, for those
    /// raised against no item), as at the query.
    fn concerns_of(&self, owner: Uuid, q: &BoardQuery) -> (Vec<ConcernView>, Vec<ConcernView>) {
        let (mut risks, mut issues) = (Vec::new(), Vec::new());
        for c in self.concerns.get(&owner).into_iter().flatten() {
            match self.concern_at(*c, q) {
                Some((view, true)) => risks.push(view),
                Some((view, false)) => issues.push(view),
                None => {}
            }
        }
        (risks, issues)
    }

    /// A programme's own facts as at the query.
    pub fn programme_at(&self, id: Uuid, q: &BoardQuery) -> Option<ProgrammeView> {
        let s = self.stream(id)?;
        let (
            Event::ProgrammeRegistered {
                name,
                authority,
                sponsor,
            },
            _,
        ) = latest(s.slot(Slot::Programme), q)?
        else {
            return None;
        };
        let boards = s
            .slot(Slot::Board)
            .into_iter()
            .flat_map(|t| t.all_at(q.as_at, q.known_at))
            .filter_map(|(e, st)| match e.as_ref() {
                Event::BoardMeetingHeld { board, date } => Some(BoardMeeting {
                    event: st.corrects.unwrap_or(st.event),
                    board: board.clone(),
                    date: *date,
                }),
                _ => None,
            })
            .collect();
        let judgements = s
            .slot(Slot::Judgement)
            .into_iter()
            .flat_map(|t| t.all_at(q.as_at, q.known_at))
            .filter_map(|(e, _)| match e.as_ref() {
                Event::JudgementRecorded {
                    inspection,
                    area,
                    grade,
                    date,
                } => Some(JudgementView {
                    inspection: inspection.clone(),
                    area: area.clone(),
                    grade: *grade,
                    date: *date,
                }),
                _ => None,
            })
            .collect();
        let (risks, issues) = self.concerns_of(id, q);
        Some(ProgrammeView {
            id,
            name: name.clone(),
            authority: authority.clone(),
            sponsor: sponsor.clone(),
            boards,
            judgements,
            roles: roles(s.slot(Slot::Role), q),
            risks,
            issues,
        })
    }

    /// One item as at the query; None if it was not registered by then.
    pub fn item_at(&self, id: Uuid, q: &BoardQuery) -> Option<ItemView> {
        let s = self.stream(id)?;
        let Event::ItemRegistered {
            programme,
            parent,
            kind,
            reference,
            timeframe,
            ..
        } = self.registration(id, q)?
        else {
            return None;
        };
        let text_of = |slot: Slot, pick: fn(&Event) -> Option<&String>| {
            latest(s.slot(slot), q).and_then(|(e, _)| pick(e).cloned())
        };
        let title = text_of(Slot::Title, |e| match e {
            Event::ItemRegistered { title, .. } => Some(title),
            Event::ItemAmended { title, .. } => title.as_ref(),
            _ => None,
        })
        .unwrap_or_default();
        let owner = text_of(Slot::Owner, |e| match e {
            Event::ItemRegistered { owner, .. } | Event::ItemAmended { owner, .. } => {
                owner.as_ref()
            }
            _ => None,
        });
        let description = text_of(Slot::Description, |e| match e {
            Event::ItemAmended { description, .. } => description.as_ref(),
            _ => None,
        });
        let priority = latest(s.slot(Slot::Priority), q).and_then(|(e, _)| match e {
            Event::ItemAmended { priority, .. } => *priority,
            _ => None,
        });
        let rag = self.rag_at(id, q);
        let phase = match latest(s.slot(Slot::Phase), q) {
            Some((Event::PhaseChanged { phase }, st)) => Some(Set {
                value: *phase,
                set: st.clone(),
            }),
            _ => None,
        };
        let planned_phase = match latest(s.slot(Slot::Plan), q) {
            Some((Event::TimelinePlanned { months }, _)) => months
                .iter()
                .find(|m| m.month.year() == q.as_at.year() && m.month.month() == q.as_at.month())
                .map(|m| m.phase),
            _ => None,
        };
        let target_of = |e: &Event| match e {
            Event::ItemRegistered { target_date, .. } => *target_date,
            Event::TargetDateRevised { target_date } => Some(*target_date),
            _ => None,
        };
        let target_date = latest(s.slot(Slot::TargetDate), q).and_then(|(e, st)| {
            target_of(e).map(|d| Set {
                value: d,
                set: st.clone(),
            })
        });
        let first_target_date = s
            .slot(Slot::TargetDate)
            .and_then(|t| t.first_at(q.as_at, q.known_at))
            .and_then(|(e, _)| target_of(e));
        let slippage_days = match (&target_date, first_target_date) {
            (Some(now), Some(first)) => Some((now.value - first).num_days()),
            _ => None,
        };
        let mut narratives = BTreeMap::new();
        for (slot, t) in &s.slots {
            if let Slot::Narrative(section) = slot {
                if let Some((e, st)) = t.at(q.as_at, q.known_at) {
                    if let Event::NarrativeRecorded { text, .. } = e.as_ref() {
                        narratives.insert(
                            *section,
                            Set {
                                value: text.clone(),
                                set: st.clone(),
                            },
                        );
                    }
                }
            }
        }
        let milestones = s
            .slot(Slot::Milestone)
            .into_iter()
            .flat_map(|t| t.all_at(q.as_at, q.known_at))
            .filter_map(|(e, _)| match e.as_ref() {
                Event::MilestoneRecorded {
                    date,
                    when,
                    activity,
                    state,
                } => Some(MilestoneView {
                    date: *date,
                    when: when.clone(),
                    activity: activity.clone(),
                    state: *state,
                }),
                _ => None,
            })
            .collect();
        let money = |slot: Slot, pick: fn(&Event) -> Option<i64>| {
            latest(s.slot(slot), q).and_then(|(e, _)| pick(e))
        };
        let finance = Finance {
            budget: money(Slot::Budget, |e| match e {
                Event::FinanceRecorded { budget, .. } => *budget,
                _ => None,
            }),
            spent: money(Slot::Spent, |e| match e {
                Event::FinanceRecorded { spent, .. } => *spent,
                _ => None,
            }),
            savings_target: money(Slot::SavingsTarget, |e| match e {
                Event::FinanceRecorded { savings_target, .. } => *savings_target,
                _ => None,
            }),
            savings_achieved: money(Slot::SavingsAchieved, |e| match e {
                Event::FinanceRecorded {
                    savings_achieved, ..
                } => *savings_achieved,
                _ => None,
            }),
        };
        let closed = match latest(s.slot(Slot::Closed), q) {
            Some((Event::ItemClosed { closure }, st)) => Some(Set {
                value: *closure,
                set: st.clone(),
            }),
            _ => None,
        };
        let metrics = self
            .item_metrics
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|m| self.metric_at(*m, q))
            .filter(|m| m.item == Some(id))
            .collect();
        let (risks, issues) = self.concerns_of(id, q);
        Some(ItemView {
            id,
            programme: *programme,
            parent: *parent,
            kind: *kind,
            reference: reference.clone(),
            title,
            owner,
            description,
            priority,
            timeframe: timeframe.clone(),
            rag,
            phase,
            planned_phase,
            target_date,
            first_target_date,
            slippage_days,
            narratives,
            milestones,
            finance,
            roles: roles(s.slot(Slot::Role), q),
            closed,
            metrics,
            risks,
            issues,
        })
    }

    /// A metric with its latest two readings as at the query.
    pub fn metric_at(&self, id: Uuid, q: &BoardQuery) -> Option<MetricView> {
        let (mut view, readings) = self.metric_readings(id, q)?;
        let mut it = readings.into_iter().rev();
        view.latest = it.next();
        view.previous = it.next();
        Some(view)
    }

    /// A metric's definition (without readings) and all its rated readings as at the query.
    pub(crate) fn metric_readings(
        &self,
        id: Uuid,
        q: &BoardQuery,
    ) -> Option<(MetricView, Vec<ReadingView>)> {
        let s = self.stream(id)?;
        let (
            Event::MetricDefined {
                item,
                reference,
                name,
                unit,
                good_direction,
                target,
                tolerance_pct,
            },
            _,
        ) = latest(s.slot(Slot::Metric), q)?
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
            tolerance_pct: *tolerance_pct,
            latest: None,
            previous: None,
        };
        Some((
            view,
            readings(s.slot(Slot::Reading), q.as_at, q.known_at, rule),
        ))
    }

    /// A risk or issue as at the query, and whether it is a risk.
    pub fn concern_at(&self, id: Uuid, q: &BoardQuery) -> Option<(ConcernView, bool)> {
        let s = self.stream(id)?;
        let mut view: Option<(ConcernView, bool)> = None;
        for (e, st) in s.slot(Slot::Concern)?.all_at(q.as_at, q.known_at) {
            let opened = |item: &Option<Uuid>,
                          reference: &String,
                          description: &String,
                          owner: &Option<String>,
                          action: &Option<String>,
                          rag: Option<Rag>| ConcernView {
                id,
                item: *item,
                reference: reference.clone(),
                description: description.clone(),
                owner: owner.clone(),
                action: action.clone(),
                rag,
                open: true,
                raised: st.effective,
                closed_on: None,
                note: None,
            };
            match (e.as_ref(), view.as_mut()) {
                (
                    Event::RiskRaised {
                        item,
                        reference,
                        description,
                        owner,
                        mitigation,
                        rag,
                        ..
                    },
                    _,
                ) => {
                    let v = opened(item, reference, description, owner, mitigation, *rag);
                    view = Some((v, true));
                }
                (
                    Event::IssueEscalated {
                        item,
                        reference,
                        description,
                        owner,
                        action,
                        ..
                    },
                    _,
                ) => {
                    view = Some((
                        opened(item, reference, description, owner, action, None),
                        false,
                    ))
                }
                (
                    Event::RiskUpdated {
                        description,
                        owner,
                        mitigation,
                        rag,
                    },
                    Some((v, _)),
                ) => {
                    if let Some(d) = description {
                        v.description = d.clone();
                    }
                    if owner.is_some() {
                        v.owner = owner.clone();
                    }
                    if mitigation.is_some() {
                        v.action = mitigation.clone();
                    }
                    if rag.is_some() {
                        v.rag = *rag;
                    }
                }
                (Event::RiskClosed { note } | Event::IssueResolved { note }, Some((v, _))) => {
                    v.open = false;
                    v.closed_on = Some(st.effective);
                    v.note = note.clone();
                }
                _ => {}
            }
        }
        view
    }
}

/// Counts RAG ratings per dimension.
pub(crate) fn count(
    rags: impl Iterator<Item = (Dimension, Rag)>,
) -> BTreeMap<Dimension, BTreeMap<Rag, usize>> {
    let mut counts: BTreeMap<Dimension, BTreeMap<Rag, usize>> = BTreeMap::new();
    for (d, r) in rags {
        *counts.entry(d).or_default().entry(r).or_default() += 1;
    }
    counts
}

/// Every reading of a metric up to `as_at`, ordered by period, each rated.
pub(crate) fn readings(
    t: Slots<'_>,
    as_at: NaiveDate,
    known_at: Option<DateTime<Utc>>,
    rule: Rule,
) -> Vec<ReadingView> {
    let mut raw: Vec<(&Event, &Stamp)> = t
        .into_iter()
        .flat_map(|t| t.all_at(as_at, known_at))
        .map(|(e, s)| (e.as_ref(), s))
        .collect();
    let period_end = |e: &Event| match e {
        Event::MetricReadingRecorded { period_end, .. } => *period_end,
        _ => NaiveDate::MIN,
    };
    // By period; a later report about the same period supersedes an earlier one.
    raw.sort_by_key(|(e, s)| (period_end(e), s.effective, s.position));
    let mut out: Vec<ReadingView> = Vec::new();
    for (e, st) in raw {
        let Event::MetricReadingRecorded {
            period,
            period_end,
            value,
            rag,
            target,
            note,
        } = e
        else {
            continue;
        };
        if out.last().is_some_and(|l| l.period_end == *period_end) {
            out.pop();
        }
        let previous = out.last().and_then(|p| p.value);
        let rule = Rule {
            target: target.or(rule.target),
            ..rule
        };
        let (rag, rating) = rating::rate(*rag, *value, previous, rule);
        out.push(ReadingView {
            period: period.clone(),
            period_end: *period_end,
            value: *value,
            target: rule.target,
            rag,
            rating,
            note: note.clone(),
            set: st.clone(),
        });
    }
    out
}

fn roles(t: Slots<'_>, q: &BoardQuery) -> BTreeMap<String, String> {
    t.into_iter()
        .flat_map(|t| t.all_at(q.as_at, q.known_at))
        .filter_map(|(e, _)| match e.as_ref() {
            Event::RoleAssigned { role, person } => Some((role.clone(), person.clone())),
            _ => None,
        })
        .collect()
}

/// Orders references as people number them: "1.2" < "1.10" < "2.1".
pub(crate) fn natural_key(s: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut num = String::new();
    let mut text = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !text.is_empty() {
                out.push((u64::MAX, std::mem::take(&mut text)));
            }
            num.push(c);
        } else {
            if !num.is_empty() {
                out.push((num.parse().unwrap_or(u64::MAX), String::new()));
                num.clear();
            }
            text.push(c);
        }
    }
    if !num.is_empty() {
        out.push((num.parse().unwrap_or(u64::MAX), String::new()));
    }
    if !text.is_empty() {
        out.push((u64::MAX, text));
    }
    out
}
