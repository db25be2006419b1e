//! The fold: every event of the log sorted into per-stream, per-fact timelines.
//! The same [`Trail::apply`] serves a full rebuild (apply every event from
//! position 1) and live updates (apply each new event as it arrives).

use crate::timeline::{Stamp, Timeline};
use chrono::NaiveDate;
use ragtrail_events::{Dimension, Envelope, Event, Section};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// Which fact of a stream an event sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Slot {
    Programme,
    Board,
    Registration,
    Title,
    Owner,
    Description,
    Priority,
    TargetDate,
    Rag(Dimension),
    Phase,
    Plan,
    Milestone,
    Narrative(Section),
    Metric,
    Reading,
    Budget,
    Spent,
    SavingsTarget,
    SavingsAchieved,
    /// Risks and issues: raised, updated, closed, in order.
    Concern,
    Judgement,
    Role,
    Closed,
}

/// The slots an event sets.
pub(crate) fn slots_of(e: &Event) -> Vec<Slot> {
    use Slot::*;
    let mut s = Vec::new();
    match e {
        Event::ProgrammeRegistered { .. } => s.push(Programme),
        Event::BoardMeetingHeld { .. } => s.push(Board),
        Event::ItemRegistered {
            owner, target_date, ..
        } => {
            s.extend([Registration, Title]);
            if owner.is_some() {
                s.push(Owner);
            }
            if target_date.is_some() {
                s.push(TargetDate);
            }
        }
        Event::ItemAmended {
            title,
            owner,
            description,
            priority,
        } => {
            for (present, slot) in [
                (title.is_some(), Title),
                (owner.is_some(), Owner),
                (description.is_some(), Description),
                (priority.is_some(), Priority),
            ] {
                if present {
                    s.push(slot);
                }
            }
        }
        Event::RagChanged { dimension, .. } => s.push(Rag(*dimension)),
        Event::PhaseChanged { .. } => s.push(Phase),
        Event::TimelinePlanned { .. } => s.push(Plan),
        Event::TargetDateRevised { .. } => s.push(TargetDate),
        Event::MilestoneRecorded { .. } => s.push(Milestone),
        Event::NarrativeRecorded { section, .. } => s.push(Narrative(*section)),
        Event::MetricDefined { .. } => s.push(Metric),
        Event::MetricReadingRecorded { .. } => s.push(Reading),
        Event::FinanceRecorded {
            budget,
            spent,
            savings_target,
            savings_achieved,
        } => {
            for (present, slot) in [
                (budget.is_some(), Budget),
                (spent.is_some(), Spent),
                (savings_target.is_some(), SavingsTarget),
                (savings_achieved.is_some(), SavingsAchieved),
            ] {
                if present {
                    s.push(slot);
                }
            }
        }
        Event::RiskRaised { .. }
        | Event::RiskUpdated { .. }
        | Event::RiskClosed { .. }
        | Event::IssueEscalated { .. }
        | Event::IssueResolved { .. } => s.push(Concern),
        Event::JudgementRecorded { .. } => s.push(Judgement),
        Event::RoleAssigned { .. } => s.push(Role),
        Event::ItemClosed { .. } => s.push(Closed),
        Event::Corrected { .. } => {}
    }
    s
}

/// Every fact of one stream.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stream {
    pub(crate) slots: BTreeMap<Slot, Timeline<Arc<Event>>>,
}

impl Stream {
    pub(crate) fn slot(&self, s: Slot) -> Option<&Timeline<Arc<Event>>> {
        self.slots.get(&s)
    }
}

/// Where an event's facts went, so a correction can find them.
#[derive(Debug, Clone, Copy)]
struct Placed {
    stream: Uuid,
    effective: NaiveDate,
    position: u64,
}

/// The projection state of the whole log.
#[derive(Debug, Default, Clone)]
pub struct Trail {
    pub(crate) streams: HashMap<Uuid, Stream>,
    placed: HashMap<Uuid, Placed>,
    /// Programme → its items.
    pub(crate) items: HashMap<Uuid, BTreeSet<Uuid>>,
    /// Item (or programme, for those raised against no item) → its risks and issues.
    pub(crate) concerns: HashMap<Uuid, BTreeSet<Uuid>>,
    /// Item → metrics defined for it.
    pub(crate) item_metrics: HashMap<Uuid, BTreeSet<Uuid>>,
    /// Item → child items.
    pub(crate) children: HashMap<Uuid, BTreeSet<Uuid>>,
    pub(crate) programmes: BTreeSet<Uuid>,
    actors: HashMap<String, Arc<str>>,
    position: u64,
}

impl Trail {
    pub fn new() -> Trail {
        Trail::default()
    }

    /// Builds the trail from a whole log, in position order.
    pub fn rebuild<'a>(events: impl IntoIterator<Item = &'a Envelope>) -> Trail {
        let mut t = Trail::new();
        for e in events {
            t.apply(e);
        }
        t
    }

    /// The position of the last event applied.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Applies one event. Events must come in position order; an event at or
    /// below the last applied position is ignored (so replays are harmless).
    pub fn apply(&mut self, env: &Envelope) {
        if env.position <= self.position {
            return;
        }
        self.position = env.position;
        let actor = match self.actors.get(&env.actor) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = Arc::from(env.actor.as_str());
                self.actors.insert(env.actor.clone(), a.clone());
                a
            }
        };
        let stamp = Stamp {
            position: env.position,
            event: env.id,
            actor,
            effective: env.effective,
            recorded_at: env.recorded_at,
            reason: env.reason.clone(),
            corrects: None,
        };
        if let Event::Corrected {
            target,
            replacement,
        } = &env.event
        {
            self.correct(*target, replacement.as_deref(), stamp);
            return;
        }
        self.index(env.stream, &env.event);
        let slots = slots_of(&env.event);
        let event = Arc::new(env.event.clone());
        let stream = self.streams.entry(env.stream).or_default();
        for s in &slots {
            stream
                .slots
                .entry(*s)
                .or_default()
                .set(event.clone(), stamp.clone());
        }
        self.placed.insert(
            env.id,
            Placed {
                stream: env.stream,
                effective: env.effective,
                position: env.position,
            },
        );
    }

    fn correct(&mut self, target: Uuid, replacement: Option<&Event>, mut stamp: Stamp) {
        let Some(placed) = self.placed.get(&target).copied() else {
            return; // the store refuses such corrections; nothing to do here
        };
        stamp.corrects = Some(target);
        let new_slots = replacement.map(slots_of).unwrap_or_default();
        let event = replacement.map(|r| Arc::new(r.clone()));
        let stream = self.streams.entry(placed.stream).or_default();
        // The slots the original (or an earlier correction) set: those holding its entry.
        let mut slots: Vec<Slot> = stream
            .slots
            .iter()
            .filter(|(_, t)| t.has(placed.effective, placed.position))
            .map(|(s, _)| *s)
            .collect();
        for s in &new_slots {
            if !slots.contains(s) {
                slots.push(*s);
            }
        }
        for s in slots {
            let value = if new_slots.contains(&s) {
                event.clone()
            } else {
                None
            };
            stream.slots.entry(s).or_default().correct(
                placed.effective,
                placed.position,
                value,
                stamp.clone(),
            );
        }
        if let Some(r) = replacement {
            self.index(placed.stream, r);
        }
    }

    /// Remembers which programme and item a stream belongs to.
    fn index(&mut self, stream: Uuid, e: &Event) {
        match e {
            Event::ProgrammeRegistered { .. } => {
                self.programmes.insert(stream);
            }
            Event::ItemRegistered {
                programme, parent, ..
            } => {
                self.items.entry(*programme).or_default().insert(stream);
                if let Some(p) = parent {
                    self.children.entry(*p).or_default().insert(stream);
                }
            }
            Event::MetricDefined { item: Some(i), .. } => {
                self.item_metrics.entry(*i).or_default().insert(stream);
            }
            Event::RiskRaised {
                programme, item, ..
            }
            | Event::IssueEscalated {
                programme, item, ..
            } => {
                self.concerns
                    .entry(item.unwrap_or(*programme))
                    .or_default()
                    .insert(stream);
            }
            _ => {}
        }
    }

    /// The items registered with `id` as their parent (for history "with children").
    pub fn children_of(&self, id: Uuid) -> Vec<Uuid> {
        self.children
            .get(&id)
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default()
    }

    pub(crate) fn stream(&self, id: Uuid) -> Option<&Stream> {
        self.streams.get(&id)
    }
}
