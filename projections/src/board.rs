//! The board as at a date: every item with its RAG per dimension (and who set
//! it, when, why), owner, phase, target date and slippage, latest narratives,
//! metrics, finance, risks and issues; counts by RAG.

use crate::rating::{self, Rating, Rule};
use crate::timeline::Hit;
use crate::trail::{At, Fact, Slot, Stamp, Stream, Trail};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ragtrail_events::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Which board to build: as at a date, as known at an instant (None: now), for one programme or all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoardQuery {
    pub as_at: NaiveDate,
    pub known_at: Option<DateTime<Utc>>,
    pub programme: Option<Uuid>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub as_at: NaiveDate,
    pub known_at: Option<DateTime<Utc>>,
    pub programmes: Vec<ProgrammeView>,
    pub items: Vec<ItemView>,
    /// Per dimension, how many items are at each RAG.
    pub counts: BTreeMap<Dimension, BTreeMap<Rag, usize>>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardMeeting {
    pub event: Uuid,
    pub board: String,
    pub date: NaiveDate,
    /// The latest seal of this board, if it was sealed.
    pub seal: Option<SealView>,
}

/// What a board was shown, sealed: the digest of its snapshot and the log head then.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SealView {
    pub as_at: NaiveDate,
    pub snapshot: String,
    pub position: u64,
    pub head: String,
    pub set: Stamp,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgementView {
    pub inspection: String,
    pub area: String,
    pub grade: Grade,
    pub date: NaiveDate,
}

/// A value and who set it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Set<V> {
    pub value: V,
    pub set: Stamp,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Direction of travel of the overall RAG, as councils report it.
    pub travel: Travel,
}

/// Direction of travel: short term against the previous board of the
/// programme, long term against the same date a year earlier.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Travel {
    pub short: Option<TravelStep>,
    pub long: Option<TravelStep>,
}

/// The overall RAG's movement since a date.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TravelStep {
    pub since: NaiveDate,
    pub from: Option<Rag>,
    pub to: Option<Rag>,
    pub change: crate::compare::Change,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MilestoneView {
    pub date: NaiveDate,
    pub when: Option<String>,
    pub activity: String,
    pub state: MilestoneState,
}

/// Money in integer pence.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Finance {
    pub budget: Option<i64>,
    pub spent: Option<i64>,
    pub savings_target: Option<i64>,
    pub savings_achieved: Option<i64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

impl Trail {
    /// The board as at `q.as_at`, as known at `q.known_at`.
    pub fn board(&self, q: &BoardQuery) -> Board {
        Board {
            known_at: q.known_at,
            ..self.board_with(self.at(q.as_at, q.known_at), q.programme)
        }
    }

    /// The board as at `as_at` knowing only the events up to log position `upto`
    /// (what a board was shown, for seals).
    pub fn board_upto(&self, as_at: NaiveDate, upto: u64, programme: Option<Uuid>) -> Board {
        self.board_with(At { as_at, upto }, programme)
    }

    fn board_with(&self, at: At, programme: Option<Uuid>) -> Board {
        let q = BoardQuery {
            as_at: at.as_at,
            known_at: None,
            programme,
        };
        let programmes: Vec<ProgrammeView> = self
            .programmes
            .iter()
            .filter(|p| q.programme.is_none_or(|want| want == **p))
            .filter_map(|p| self.programme_view(*p, at))
            .collect();
        // The previous board of each programme, found once for all its items.
        let mut previous: FxHashMap<Uuid, Option<NaiveDate>> = FxHashMap::default();
        let mut items: Vec<ItemView> = self
            .item_ids(q.programme)
            .filter_map(|id| {
                self.item_view(id, at, |p| {
                    *previous
                        .entry(p)
                        .or_insert_with(|| self.previous_board(p, at))
                })
            })
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
            known_at: None,
            programmes,
            items,
            counts,
        }
    }

    /// A programme's own facts as at the query.
    pub fn programme_at(&self, id: Uuid, q: &BoardQuery) -> Option<ProgrammeView> {
        self.programme_view(id, self.at(q.as_at, q.known_at))
    }

    /// One item as at the query; None if it was not registered by then.
    pub fn item_at(&self, id: Uuid, q: &BoardQuery) -> Option<ItemView> {
        let at = self.at(q.as_at, q.known_at);
        self.item_view(id, at, |p| self.previous_board(p, at))
    }

    /// A metric with its latest two readings as at the query.
    pub fn metric_at(&self, id: Uuid, q: &BoardQuery) -> Option<MetricView> {
        self.metric_view(id, self.at(q.as_at, q.known_at))
    }

    /// A risk or issue as at the query, and whether it is a risk.
    pub fn concern_at(&self, id: Uuid, q: &BoardQuery) -> Option<(ConcernView, bool)> {
        self.concern_view(id, self.at(q.as_at, q.known_at))
    }

    /// The ids of the items registered to a programme (or to any programme).
    pub(crate) fn item_ids(&self, programme: Option<Uuid>) -> impl Iterator<Item = Uuid> + '_ {
        self.items
            .iter()
            .filter(move |(p, _)| programme.is_none_or(|want| want == **p))
            .flat_map(|(_, ids)| ids.iter().copied())
    }

    /// An item's registration in force at `at`.
    pub(crate) fn registration(&self, id: Uuid, at: At) -> Option<&Event> {
        let s = self.stream(id)?;
        s.slot(Slot::Registration)?
            .at(at.as_at, at.upto)
            .and_then(|h| h.value.event())
    }

    /// An item's RAG per dimension at `at`, with who set each.
    pub(crate) fn rag_at(&self, id: Uuid, at: At) -> BTreeMap<Dimension, Set<Rag>> {
        let Some(s) = self.stream(id) else {
            return BTreeMap::new();
        };
        Dimension::ALL
            .into_iter()
            .filter_map(|d| {
                let (f, set) = self.latest(s, Slot::Rag(d), at)?;
                Some((
                    d,
                    Set {
                        value: f.rag()?,
                        set,
                    },
                ))
            })
            .collect()
    }

    fn set_of<V>(
        &self,
        s: &Stream,
        slot: Slot,
        at: At,
        get: impl Fn(&Fact) -> Option<V>,
    ) -> Option<Set<V>> {
        let (f, set) = self.latest(s, slot, at)?;
        Some(Set {
            value: get(f)?,
            set,
        })
    }

    fn text(&self, s: &Stream, slot: Slot, at: At) -> Option<String> {
        self.latest(s, slot, at)
            .and_then(|(f, _)| f.text().map(str::to_string))
    }

    fn money(&self, s: &Stream, slot: Slot, at: At) -> Option<i64> {
        self.latest(s, slot, at).and_then(|(f, _)| f.money())
    }

    /// The whole events of a slot in force at `at`, oldest first.
    fn events<'a>(
        &'a self,
        s: &'a Stream,
        slot: Slot,
        at: At,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        self.all(s, slot, at).filter_map(|h| h.value.event())
    }

    fn roles(&self, s: &Stream, at: At) -> BTreeMap<String, String> {
        self.events(s, Slot::Role, at)
            .filter_map(|e| match e {
                Event::RoleAssigned { role, person } => Some((role.clone(), person.clone())),
                _ => None,
            })
            .collect()
    }

    /// The risks and issues raised against an item (or a programme, for those
    /// raised against no item), at `at`.
    fn concerns_of(&self, owner: Uuid, at: At) -> (Vec<ConcernView>, Vec<ConcernView>) {
        let (mut risks, mut issues) = (Vec::new(), Vec::new());
        for c in self.concerns.get(&owner).into_iter().flatten() {
            match self.concern_view(*c, at) {
                Some((view, true)) => risks.push(view),
                Some((view, false)) => issues.push(view),
                None => {}
            }
        }
        (risks, issues)
    }

    /// The latest seal of a board meeting, as known at `at`.
    fn seal_of(&self, s: &Stream, board_event: Uuid, at: At) -> Option<SealView> {
        let all = self.all(
            s,
            Slot::Seal,
            At {
                as_at: NaiveDate::MAX,
                ..at
            },
        );
        all.filter_map(|h| match h.value.event() {
            Some(Event::BoardSealed {
                board,
                as_at,
                snapshot,
                position,
                head,
            }) if *board == board_event => Some(SealView {
                as_at: *as_at,
                snapshot: snapshot.clone(),
                position: *position,
                head: head.clone(),
                set: self.stamp(&h),
            }),
            _ => None,
        })
        .max_by_key(|s| s.set.position)
    }

    fn programme_view(&self, id: Uuid, at: At) -> Option<ProgrammeView> {
        let s = self.stream(id)?;
        let (f, _) = self.latest(s, Slot::Programme, at)?;
        let Some(Event::ProgrammeRegistered {
            name,
            authority,
            sponsor,
        }) = f.event()
        else {
            return None;
        };
        let boards = self
            .all(s, Slot::Board, at)
            .filter_map(|h| match h.value.event() {
                Some(Event::BoardMeetingHeld { board, date }) => {
                    let event = self.event_id(h.position)?;
                    Some(BoardMeeting {
                        event,
                        board: board.clone(),
                        date: *date,
                        seal: self.seal_of(s, event, at),
                    })
                }
                _ => None,
            })
            .collect();
        let judgements = self
            .events(s, Slot::Judgement, at)
            .filter_map(|e| match e {
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
        let (risks, issues) = self.concerns_of(id, at);
        Some(ProgrammeView {
            id,
            name: name.clone(),
            authority: authority.clone(),
            sponsor: sponsor.clone(),
            boards,
            judgements,
            roles: self.roles(s, at),
            risks,
            issues,
        })
    }

    /// `previous_board` gives a programme's last board before `at` (see [`Trail::previous_board`]).
    fn item_view(
        &self,
        id: Uuid,
        at: At,
        previous_board: impl FnOnce(Uuid) -> Option<NaiveDate>,
    ) -> Option<ItemView> {
        let s = self.stream(id)?;
        let Event::ItemRegistered {
            programme,
            parent,
            kind,
            reference,
            timeframe,
            ..
        } = self.registration(id, at)?
        else {
            return None;
        };
        let planned_phase = self
            .latest(s, Slot::Plan, at)
            .and_then(|(f, _)| match f.event() {
                Some(Event::TimelinePlanned { months }) => months
                    .iter()
                    .find(|m| {
                        m.month.year() == at.as_at.year() && m.month.month() == at.as_at.month()
                    })
                    .map(|m| m.phase),
                _ => None,
            });
        let target_date = self.set_of(s, Slot::TargetDate, at, Fact::date);
        let first_target_date = s
            .slot(Slot::TargetDate)
            .and_then(|t| t.first_at(at.as_at, at.upto))
            .and_then(|h| h.value.date());
        let slippage_days = match (&target_date, first_target_date) {
            (Some(now), Some(first)) => Some((now.value - first).num_days()),
            _ => None,
        };
        let narratives = s
            .slots
            .keys()
            .filter_map(|slot| match slot {
                Slot::Narrative(section) => {
                    let set = self.set_of(s, *slot, at, |f| f.text().map(str::to_string))?;
                    Some((*section, set))
                }
                _ => None,
            })
            .collect();
        let milestones = self
            .events(s, Slot::Milestone, at)
            .filter_map(|e| match e {
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
        let finance = Finance {
            budget: self.money(s, Slot::Budget, at),
            spent: self.money(s, Slot::Spent, at),
            savings_target: self.money(s, Slot::SavingsTarget, at),
            savings_achieved: self.money(s, Slot::SavingsAchieved, at),
        };
        let metrics = self
            .item_metrics
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|m| self.metric_view(*m, at))
            .filter(|m| m.item == Some(id))
            .collect();
        let (risks, issues) = self.concerns_of(id, at);
        let travel = self.travel(id, previous_board(*programme), at);
        Some(ItemView {
            id,
            programme: *programme,
            parent: *parent,
            kind: *kind,
            reference: reference.clone(),
            title: self.text(s, Slot::Title, at).unwrap_or_default(),
            owner: self.text(s, Slot::Owner, at),
            description: self.text(s, Slot::Description, at),
            priority: self
                .latest(s, Slot::Priority, at)
                .and_then(|(f, _)| f.priority()),
            timeframe: timeframe.clone(),
            rag: self.rag_at(id, at),
            phase: self.set_of(s, Slot::Phase, at, Fact::phase),
            planned_phase,
            target_date,
            first_target_date,
            slippage_days,
            narratives,
            milestones,
            finance,
            roles: self.roles(s, at),
            closed: self.set_of(s, Slot::Closed, at, Fact::closure),
            metrics,
            risks,
            issues,
            travel,
        })
    }

    /// The programme's last board meeting before `at`.
    fn previous_board(&self, programme: Uuid, at: At) -> Option<NaiveDate> {
        self.board_meetings(programme, at.upto)
            .map(|(date, _)| date)
            .filter(|date| *date < at.as_at)
            .max()
    }

    /// The overall RAG's direction of travel as at `at`, short term against
    /// the programme's `previous_board`.
    fn travel(&self, id: Uuid, previous_board: Option<NaiveDate>, at: At) -> Travel {
        let overall = |when: At| {
            self.rag_at(id, when)
                .get(&Dimension::Overall)
                .map(|s| s.value)
        };
        let now = overall(at);
        let step = |since: NaiveDate| {
            let from = overall(At { as_at: since, ..at });
            let m = crate::compare::movement(from, now);
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

    fn metric_view(&self, id: Uuid, at: At) -> Option<MetricView> {
        let (mut view, readings) = self.metric_readings(id, at, 2)?;
        let mut it = readings.into_iter().rev();
        view.latest = it.next();
        view.previous = it.next();
        Some(view)
    }

    /// A metric's definition (without readings) and its last `last` rated readings at `at`.
    pub(crate) fn metric_readings(
        &self,
        id: Uuid,
        at: At,
        last: usize,
    ) -> Option<(MetricView, Vec<ReadingView>)> {
        let s = self.stream(id)?;
        let (f, _) = self.latest(s, Slot::Metric, at)?;
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
            tolerance_pct: *tolerance_pct,
            latest: None,
            previous: None,
        };
        Some((view, self.readings(s, at, rule, last)))
    }

    /// The last `last` readings of a metric up to `at`, ordered by period, each
    /// rated. A later report about the same period supersedes an earlier one.
    pub(crate) fn readings(&self, s: &Stream, at: At, rule: Rule, last: usize) -> Vec<ReadingView> {
        let mut all: Vec<Hit<'_, Fact>> = self
            .all(s, Slot::Reading, at)
            .filter(|h| reading(h).is_some())
            .collect();
        let period_end = |h: &Hit<'_, Fact>| reading(h).map(|r| r.1);
        all.sort_by_key(|h| (period_end(h), h.effective, h.position));
        let mut by_period: Vec<Hit<'_, Fact>> = Vec::with_capacity(all.len());
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
                let (period, period_end, value, rag, target, note) = reading(&by_period[i])?;
                let previous = i
                    .checked_sub(1)
                    .and_then(|p| reading(&by_period[p]))
                    .and_then(|r| r.2);
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
                    set: self.stamp(&by_period[i]),
                })
            })
            .collect()
    }

    fn concern_view(&self, id: Uuid, at: At) -> Option<(ConcernView, bool)> {
        let s = self.stream(id)?;
        let mut view: Option<(ConcernView, bool)> = None;
        for h in self.all(s, Slot::Concern, at) {
            let Some(e) = h.value.event() else { continue };
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
                raised: h.effective,
                closed_on: None,
                note: None,
            };
            match (e, view.as_mut()) {
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
                    let v = opened(item, reference, description, owner, action, None);
                    view = Some((v, false));
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
                    v.closed_on = Some(h.effective);
                    v.note = note.clone();
                }
                _ => {}
            }
        }
        view
    }
}

/// The fields of a reading: period, period end, value, RAG, target, note.
type ReadingFields<'a> = (
    &'a String,
    NaiveDate,
    Option<Value>,
    Option<Rag>,
    Option<Value>,
    &'a Option<String>,
);

fn reading<'a>(h: &Hit<'a, Fact>) -> Option<ReadingFields<'a>> {
    match h.value.event() {
        Some(Event::MetricReadingRecorded {
            period,
            period_end,
            value,
            rag,
            target,
            note,
        }) => Some((period, *period_end, *value, *rag, *target, note)),
        _ => None,
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
