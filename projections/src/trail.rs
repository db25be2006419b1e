//! The fold: every event of the log sorted into per-stream, per-fact timelines.
//! The same [`Trail::apply`] serves a full rebuild (apply every event from
//! position 1) and live updates (apply each new event as it arrives).
//!
//! Memory is kept per event to a compact fact (a RAG, a date, a sum in pence,
//! a text, or a shared event for the rarer kinds) and one row of metadata
//! (who, when, why) that every slot the event sets refers to by position.

use crate::timeline::{Hit, Timeline};
use crate::view::{Stamp, Stamped};
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::{Closure, Dimension, Envelope, Event, Phase, Priority, Rag, Section};
use rustc_hash::FxHashMap;
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
    Seal,
    /// Named money lines (`MoneyRecorded`), each event whole.
    MoneyLine,
    /// A metric's target in words.
    TargetText,
    /// A programme's own RAG definitions, each event whole.
    RagDefinition,
    /// Links to other items, each event whole.
    Link,
    /// The report a programme's facts at a date come from.
    Source,
    /// Assumptions and contradictions noted, each event whole.
    Note,
    /// An item's reference, as registered or renumbered.
    Reference,
}

/// One fact's value, as small as it can be kept.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SlotValue {
    Rag(Rag),
    Phase(Phase),
    Priority(Priority),
    Closure(Closure),
    Date(NaiveDate),
    Money(i64),
    Text(Box<str>),
    /// The whole event, for kinds read field by field (registrations, readings, risks…).
    Event(Arc<Event>),
}

impl SlotValue {
    pub(crate) fn rag(&self) -> Option<Rag> {
        match self {
            SlotValue::Rag(r) => Some(*r),
            _ => None,
        }
    }
    pub(crate) fn phase(&self) -> Option<Phase> {
        match self {
            SlotValue::Phase(p) => Some(*p),
            _ => None,
        }
    }
    pub(crate) fn priority(&self) -> Option<Priority> {
        match self {
            SlotValue::Priority(p) => Some(*p),
            _ => None,
        }
    }
    pub(crate) fn closure(&self) -> Option<Closure> {
        match self {
            SlotValue::Closure(c) => Some(*c),
            _ => None,
        }
    }
    pub(crate) fn date(&self) -> Option<NaiveDate> {
        match self {
            SlotValue::Date(d) => Some(*d),
            _ => None,
        }
    }
    pub(crate) fn money(&self) -> Option<i64> {
        match self {
            SlotValue::Money(m) => Some(*m),
            _ => None,
        }
    }
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            SlotValue::Text(t) => Some(t),
            _ => None,
        }
    }
    pub(crate) fn event(&self) -> Option<&Event> {
        match self {
            SlotValue::Event(e) => Some(e),
            _ => None,
        }
    }
}

/// The facts an event sets, one per slot. Takes the event by value so texts move, not copy.
pub(crate) fn facts_of(e: Event) -> Vec<(Slot, SlotValue)> {
    use Slot::*;
    let text = |s: String| SlotValue::Text(s.into_boxed_str());
    let whole = |slot: Slot, e: Event| vec![(slot, SlotValue::Event(Arc::new(e)))];
    match e {
        Event::ProgrammeRegistered { .. } => whole(Programme, e),
        Event::BoardMeetingHeld { .. } => whole(Board, e),
        Event::ItemRegistered {
            ref title,
            ref owner,
            target_date,
            ..
        } => {
            let mut f = vec![(Title, text(title.clone()))];
            if let Some(o) = owner {
                f.push((Owner, text(o.clone())));
            }
            if let Some(d) = target_date {
                f.push((TargetDate, SlotValue::Date(d)));
            }
            f.push((Registration, SlotValue::Event(Arc::new(e))));
            f
        }
        Event::ItemAmended {
            title,
            owner,
            description,
            priority,
        } => {
            let mut f = Vec::new();
            f.extend(title.map(|t| (Title, text(t))));
            f.extend(owner.map(|o| (Owner, text(o))));
            f.extend(description.map(|d| (Description, text(d))));
            f.extend(priority.map(|p| (Priority, SlotValue::Priority(p))));
            f
        }
        Event::RagChanged { dimension, rag } => vec![(Rag(dimension), SlotValue::Rag(rag))],
        Event::PhaseChanged { phase } => vec![(Phase, SlotValue::Phase(phase))],
        Event::TimelinePlanned { .. } => whole(Plan, e),
        Event::TargetDateRevised { target_date } => {
            vec![(TargetDate, SlotValue::Date(target_date))]
        }
        Event::MilestoneRecorded { .. } => whole(Milestone, e),
        Event::NarrativeRecorded { section, text: t } => vec![(Narrative(section), text(t))],
        Event::MetricDefined { .. } => whole(Metric, e),
        Event::MetricReadingRecorded { .. } => whole(Reading, e),
        Event::FinanceRecorded {
            budget,
            spent,
            savings_target,
            savings_achieved,
        } => [
            (Budget, budget),
            (Spent, spent),
            (SavingsTarget, savings_target),
            (SavingsAchieved, savings_achieved),
        ]
        .into_iter()
        .filter_map(|(s, m)| m.map(|m| (s, SlotValue::Money(m))))
        .collect(),
        Event::RiskRaised { .. }
        | Event::RiskUpdated { .. }
        | Event::RiskClosed { .. }
        | Event::IssueEscalated { .. }
        | Event::IssueResolved { .. } => whole(Concern, e),
        Event::JudgementRecorded { .. } => whole(Judgement, e),
        Event::RoleAssigned { .. } => whole(Role, e),
        Event::ItemClosed { closure } => vec![(Closed, SlotValue::Closure(closure))],
        Event::BoardSealed { .. } => whole(Seal, e),
        Event::RiskScored { .. } => whole(Concern, e),
        Event::MoneyRecorded { .. } => whole(MoneyLine, e),
        Event::TargetStated { target } => vec![(TargetText, text(target))],
        Event::RagDefined { .. } => whole(RagDefinition, e),
        Event::MilestonePlanned { .. } => whole(Milestone, e),
        Event::ItemLinked { .. } => whole(Link, e),
        Event::SourceRecorded { .. } => whole(Source, e),
        Event::NoteRecorded { .. } => whole(Note, e),
        Event::ItemRenumbered { reference } => vec![(Reference, text(reference))],
        // Read by every stamp of the stream (or programme) at its date; see `Trail::stamp`.
        Event::Attributed { .. } => Vec::new(),
        // A correction acts on its target; an erasure changed stored text
        // (the trail is rebuilt from the log after one) and is listed by the audit.
        Event::Corrected { .. } | Event::TextErased { .. } => Vec::new(),
    }
}

/// Every fact of one stream.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stream {
    pub(crate) slots: BTreeMap<Slot, Timeline<SlotValue>>,
    /// Positions of the stream's events (not its corrections), in order: a
    /// correction names its target by id, and the target is in its stream.
    positions: Vec<u64>,
}

impl Stream {
    pub(crate) fn slot(&self, s: Slot) -> Option<&Timeline<SlotValue>> {
        self.slots.get(&s)
    }
}

/// One row per position: what a [`Stamp`] is made from.
#[derive(Debug, Clone)]
struct Meta {
    id: Uuid,
    stream: Uuid,
    effective: NaiveDate,
    /// Recorded time; never less than the previous row's (the store never goes
    /// backwards), which makes "as known at" a binary search.
    recorded_us: i64,
    actor: u32,
    reason: Option<Box<str>>,
}

/// A point of view: as at a date, knowing the events up to a position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Viewpoint {
    pub(crate) as_at: NaiveDate,
    pub(crate) upto: u64,
}

/// The projection state of the whole log.
#[derive(Debug, Default, Clone)]
pub struct Trail {
    pub(crate) streams: FxHashMap<Uuid, Stream>,
    /// Row `i` is about position `first + i`.
    meta: Vec<Meta>,
    first: u64,
    /// Programme → its items.
    pub(crate) items: HashMap<Uuid, BTreeSet<Uuid>>,
    /// Item (or programme, for those raised against no item) → its risks and issues.
    pub(crate) concerns: HashMap<Uuid, BTreeSet<Uuid>>,
    /// Item → metrics defined for it.
    pub(crate) item_metrics: HashMap<Uuid, BTreeSet<Uuid>>,
    /// Item → child items.
    pub(crate) children: HashMap<Uuid, BTreeSet<Uuid>>,
    /// Item → the items that link to it (`ItemLinked`).
    pub(crate) linked_from: HashMap<Uuid, BTreeSet<Uuid>>,
    /// The programme each item, risk, issue and metric belongs to.
    programme_of: HashMap<Uuid, Uuid>,
    /// The item each item sits under (its parent), and each metric's item.
    parent_of: HashMap<Uuid, Uuid>,
    /// Who set the facts of a stream at a date (`Attributed`): the latest given.
    attributions: HashMap<(Uuid, NaiveDate), crate::view::Attribution>,
    pub(crate) programmes: BTreeSet<Uuid>,
    actors: Vec<Arc<str>>,
    actor_ids: HashMap<Arc<str>, u32>,
    position: u64,
    /// Every erasure, in log order.
    erasures: Vec<crate::view::ErasureView>,
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

    /// When the first event applied was recorded (None before any).
    pub fn recording_began(&self) -> Option<DateTime<Utc>> {
        self.meta
            .first()
            .and_then(|m| DateTime::from_timestamp_micros(m.recorded_us))
    }

    /// Applies one event (cloning its payload). See [`Trail::apply_owned`].
    pub fn apply(&mut self, env: &Envelope) {
        if env.position > self.position {
            self.apply_owned(env.clone());
        }
    }

    /// Applies one event. Events must come in position order, with recorded
    /// times that never go backwards (as the store writes them); an event at or
    /// below the last applied position is ignored, so replays are harmless.
    pub fn apply_owned(&mut self, env: Envelope) {
        if env.position <= self.position {
            return;
        }
        let actor = self.actor_id(&env.actor);
        let recorded_us = self
            .meta
            .last()
            .map_or(i64::MIN, |m| m.recorded_us)
            .max(env.recorded_at.timestamp_micros());
        if self.meta.is_empty() {
            self.first = env.position;
        }
        // A log handed over with a gap (never one from the store) gets blank rows,
        // so rows stay indexed by position.
        while self.first + (self.meta.len() as u64) < env.position {
            self.meta.push(Meta {
                id: Uuid::nil(),
                stream: Uuid::nil(),
                effective: env.effective,
                recorded_us,
                actor,
                reason: None,
            });
        }
        if let Event::TextErased {
            legal_basis,
            events,
            ..
        } = &env.event
        {
            self.erased(&env, legal_basis, events);
        }
        if let Event::Attributed { person, capacity } = &env.event {
            self.attributions.insert(
                (env.stream, env.effective),
                crate::view::Attribution {
                    person: person.clone(),
                    capacity: capacity.clone(),
                },
            );
        }
        self.position = env.position;
        self.meta.push(Meta {
            id: env.id,
            stream: env.stream,
            effective: env.effective,
            recorded_us,
            actor,
            reason: env.reason.map(String::into_boxed_str),
        });
        if let Event::Corrected {
            target,
            replacement,
        } = env.event
        {
            self.correct(env.stream, target, replacement.map(|r| *r), env.position);
            return;
        }
        self.index(env.stream, &env.event);
        let stream = self.streams.entry(env.stream).or_default();
        stream.positions.push(env.position);
        for (slot, fact) in facts_of(env.event) {
            stream
                .slots
                .entry(slot)
                .or_default()
                .set(env.effective, env.position, fact);
        }
    }

    /// Every erasure made, in log order.
    pub fn erasures(&self) -> &[crate::view::ErasureView] {
        &self.erasures
    }

    /// Notes an erasure; the events of one erasure (one stream) make one entry.
    fn erased(
        &mut self,
        env: &Envelope,
        legal_basis: &str,
        events: &[ragtrail_events::event::ErasedEvent],
    ) {
        let fields = events.iter().map(|e| e.fields.len()).sum::<usize>();
        let same = self.erasures.last().is_some_and(|last| {
            last.last_position + 1 == env.position
                && self.meta(last.position).map(|m| m.stream) == Some(env.stream)
        });
        if let Some(last) = self.erasures.last_mut().filter(|_| same) {
            {
                last.last_position = env.position;
                last.events += events.len();
                last.fields += fields;
                return;
            }
        }
        self.erasures.push(crate::view::ErasureView {
            position: env.position,
            last_position: env.position,
            recorded_at: env.recorded_at,
            actor: env.actor.clone(),
            reason: env.reason.clone(),
            legal_basis: legal_basis.to_string(),
            events: events.len(),
            fields,
        });
    }

    fn actor_id(&mut self, actor: &str) -> u32 {
        if let Some(id) = self.actor_ids.get(actor) {
            return *id;
        }
        let id = self.actors.len() as u32;
        let a: Arc<str> = Arc::from(actor);
        self.actors.push(a.clone());
        self.actor_ids.insert(a, id);
        id
    }

    fn meta(&self, position: u64) -> Option<&Meta> {
        let i = usize::try_from(position.checked_sub(self.first)?).ok()?;
        self.meta.get(i)
    }

    fn correct(&mut self, stream: Uuid, target: Uuid, replacement: Option<Event>, by: u64) {
        let Some(position) = self.position_of(stream, target) else {
            return; // the store refuses such corrections; nothing to do here
        };
        let Some((stream_id, effective)) = self.meta(position).map(|m| (m.stream, m.effective))
        else {
            return;
        };
        if let Some(r) = &replacement {
            self.index(stream_id, r);
        }
        let facts = replacement.map(facts_of).unwrap_or_default();
        let stream = self.streams.entry(stream_id).or_default();
        // The slots the original (or an earlier correction) set are withdrawn
        // unless the replacement sets them again.
        let held: Vec<Slot> = stream
            .slots
            .iter()
            .filter(|(s, t)| t.has(effective, position) && !facts.iter().any(|(f, _)| f == *s))
            .map(|(s, _)| *s)
            .collect();
        for s in held {
            if let Some(t) = stream.slots.get_mut(&s) {
                t.correct(effective, position, None, by);
            }
        }
        for (s, fact) in facts {
            stream
                .slots
                .entry(s)
                .or_default()
                .correct(effective, position, Some(fact), by);
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
                self.programme_of.insert(stream, *programme);
                if let Some(p) = parent {
                    self.parent_of.insert(stream, *p);
                    self.children.entry(*p).or_default().insert(stream);
                }
            }
            Event::ItemLinked { other, .. } => {
                self.linked_from.entry(*other).or_default().insert(stream);
            }
            Event::MetricDefined { item: Some(i), .. } => {
                self.item_metrics.entry(*i).or_default().insert(stream);
                self.parent_of.insert(stream, *i);
                if let Some(p) = self.programme_of.get(i).copied() {
                    self.programme_of.insert(stream, p);
                }
            }
            Event::RiskRaised {
                programme, item, ..
            }
            | Event::IssueEscalated {
                programme, item, ..
            } => {
                self.programme_of.insert(stream, *programme);
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

    /// Every registered programme's id.
    pub fn programme_ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.programmes.iter().copied()
    }

    pub(crate) fn stream(&self, id: Uuid) -> Option<&Stream> {
        self.streams.get(&id)
    }

    /// The point of view of a query: "known at T" becomes the last position recorded by T.
    pub(crate) fn at(&self, as_at: NaiveDate, known_at: Option<DateTime<Utc>>) -> Viewpoint {
        let upto = match known_at {
            None => u64::MAX,
            Some(t) => {
                let t = t.timestamp_micros();
                let n = self.meta.partition_point(|m| m.recorded_us <= t);
                if n == 0 {
                    0
                } else {
                    self.first + n as u64 - 1
                }
            }
        };
        Viewpoint { as_at, upto }
    }

    /// The position of the event of `stream` with this id (newest first: a
    /// correction usually names a recent event).
    fn position_of(&self, stream: Uuid, id: Uuid) -> Option<u64> {
        self.streams
            .get(&stream)?
            .positions
            .iter()
            .rev()
            .copied()
            .find(|p| self.event_id(*p) == Some(id))
    }

    /// The id of the event at `position`.
    pub(crate) fn event_id(&self, position: u64) -> Option<Uuid> {
        self.meta(position).map(|m| m.id)
    }

    /// Who set a value found in a timeline, when and why.
    pub(crate) fn stamp<V>(&self, hit: &Hit<'_, V>) -> Stamp {
        let by = self.meta(hit.by);
        let corrects = (hit.by != hit.position)
            .then(|| self.event_id(hit.position))
            .flatten();
        Stamp {
            position: hit.by,
            event: by.map(|m| m.id).unwrap_or_default(),
            actor: by
                .and_then(|m| self.actors.get(m.actor as usize).cloned())
                .unwrap_or_else(|| Arc::from("")),
            effective: hit.effective,
            recorded_at: by
                .and_then(|m| DateTime::from_timestamp_micros(m.recorded_us))
                .unwrap_or_default(),
            reason: by.and_then(|m| m.reason.as_deref().map(str::to_string)),
            corrects,
            attributed_to: by.and_then(|m| self.attributed(m.stream, hit.effective)),
        }
    }

    /// Who set the facts of `stream` at `effective`: an attribution of the
    /// stream itself, else of the item it sits under (and so on up), else of
    /// its programme.
    fn attributed(&self, stream: Uuid, effective: NaiveDate) -> Option<crate::view::Attribution> {
        if self.attributions.is_empty() {
            return None;
        }
        let mut at = Some(stream);
        // An outline is a few levels deep; the bound only guards a malformed one.
        for _ in 0..16 {
            let Some(s) = at else { break };
            if let Some(a) = self.attributions.get(&(s, effective)) {
                return Some(a.clone());
            }
            at = self.parent_of.get(&s).copied();
        }
        let p = self.programme_of.get(&stream)?;
        self.attributions.get(&(*p, effective)).cloned()
    }

    /// The notes (assumptions, contradictions) on a stream's record up to `at`.
    pub(crate) fn notes(&self, s: &Stream, at: Viewpoint) -> Vec<crate::view::NoteView> {
        self.all(s, Slot::Note, at)
            .filter_map(|h| match h.value.event() {
                Some(Event::NoteRecorded { kind, field, note }) => Some(crate::view::NoteView {
                    kind: *kind,
                    field: field.clone(),
                    note: note.clone(),
                    set: self.stamp(&h),
                }),
                _ => None,
            })
            .collect()
    }

    /// The value of a slot in force at `at`, with its stamp.
    pub(crate) fn latest<'a>(
        &self,
        s: &'a Stream,
        slot: Slot,
        at: Viewpoint,
    ) -> Option<(&'a SlotValue, Stamp)> {
        let hit = s.slot(slot)?.at(at.as_at, at.upto)?;
        Some((hit.value, self.stamp(&hit)))
    }

    /// Every value of a slot in force up to `at`, oldest first.
    pub(crate) fn all<'a>(
        &'a self,
        s: &'a Stream,
        slot: Slot,
        at: Viewpoint,
    ) -> impl Iterator<Item = Hit<'a, SlotValue>> + 'a {
        s.slot(slot)
            .into_iter()
            .flat_map(move |t| t.all_at(at.as_at, at.upto))
    }

    /// The ids of the items registered to a programme (or to any programme).
    pub(crate) fn item_ids(&self, programme: Option<Uuid>) -> impl Iterator<Item = Uuid> + '_ {
        self.items
            .iter()
            .filter(move |(p, _)| programme.is_none_or(|want| want == **p))
            .flat_map(|(_, ids)| ids.iter().copied())
    }

    /// An item's reference at `at`: as renumbered, else as registered.
    pub(crate) fn reference(&self, id: Uuid, at: Viewpoint) -> Option<String> {
        let s = self.stream(id)?;
        self.text(s, Slot::Reference, at)
            .or_else(|| match self.registration(id, at) {
                Some(Event::ItemRegistered { reference, .. }) => Some(reference.clone()),
                _ => None,
            })
    }

    /// An item's registration in force at `at`.
    pub(crate) fn registration(&self, id: Uuid, at: Viewpoint) -> Option<&Event> {
        let s = self.stream(id)?;
        s.slot(Slot::Registration)?
            .at(at.as_at, at.upto)
            .and_then(|h| h.value.event())
    }

    pub(crate) fn set_of<V>(
        &self,
        s: &Stream,
        slot: Slot,
        at: Viewpoint,
        get: impl Fn(&SlotValue) -> Option<V>,
    ) -> Option<Stamped<V>> {
        let (f, set) = self.latest(s, slot, at)?;
        Some(Stamped {
            value: get(f)?,
            set,
        })
    }

    pub(crate) fn text(&self, s: &Stream, slot: Slot, at: Viewpoint) -> Option<String> {
        self.latest(s, slot, at)
            .and_then(|(f, _)| f.text().map(str::to_string))
    }

    pub(crate) fn money(&self, s: &Stream, slot: Slot, at: Viewpoint) -> Option<i64> {
        self.latest(s, slot, at).and_then(|(f, _)| f.money())
    }

    /// The whole events of a slot in force at `at`, oldest first.
    pub(crate) fn events<'a>(
        &'a self,
        s: &'a Stream,
        slot: Slot,
        at: Viewpoint,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        self.all(s, slot, at).filter_map(|h| h.value.event())
    }

    pub(crate) fn roles(&self, s: &Stream, at: Viewpoint) -> BTreeMap<String, String> {
        self.events(s, Slot::Role, at)
            .filter_map(|e| match e {
                Event::RoleAssigned { role, person } => Some((role.clone(), person.clone())),
                _ => None,
            })
            .collect()
    }
}
