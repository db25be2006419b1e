//! The views the projections answer with: what the API serializes, the pages
//! render and the exports write. Plain data, no queries: each query module
//! (`board`, `item`, `metric`, …) builds these.

use crate::rating::Rating;
use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// What to build a view for: as at a date, as known at an instant (None:
/// now), for one programme or all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoardQuery {
    pub as_at: NaiveDate,
    pub known_at: Option<DateTime<Utc>>,
    pub programme: Option<Uuid>,
}

/// Per dimension, how many items are at each RAG. (Struct fields spell it
/// out, so that the OpenAPI document shows the map, not a name.)
pub type RagCounts = BTreeMap<Dimension, BTreeMap<Rag, usize>>;

/// Who set a value, when, and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamp {
    /// Position of the event that set it (the correction's, when corrected).
    pub position: u64,
    pub event: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub actor: Arc<str>,
    /// The date the value applies to.
    pub effective: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// When the value was corrected: the id of the event it corrected.
    pub corrects: Option<Uuid>,
    /// Who set, reported or approved it, as the report says (`Attributed`),
    /// as distinct from `actor`, the account that recorded it.
    pub attributed_to: Option<Attribution>,
}

/// Who set a value, as the report says. Kept as the report's own two texts
/// (never joined into one), so that each can be erased and a seal still holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    pub person: String,
    pub capacity: Option<String>,
}

/// A note on a record: an assumed value, or a contradiction in the report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteView {
    pub kind: ragtrail_events::NoteKind,
    /// What it is about ("target_date", "date", "tolerance_pct").
    pub field: Option<String>,
    pub note: String,
    pub set: Stamp,
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
    /// Assumptions and contradictions noted on the programme's record.
    pub notes: Vec<NoteView>,
    /// What the programme's own report says each RAG means, in its words.
    pub rag_definitions: Vec<RagDefinition>,
    /// The report the board's facts come from (the latest recorded as at the date).
    pub source: Option<SourceView>,
}

/// One of a programme's own RAG definitions.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RagDefinition {
    /// The dimension it is for; None: every dimension.
    pub dimension: Option<Dimension>,
    pub rag: Rag,
    /// The report's word for it: "Complete", "At Risk", "Slippage or Issues".
    pub label: String,
    pub meaning: Option<String>,
}

/// The report facts were taken from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceView {
    pub title: String,
    pub date: NaiveDate,
    pub author: Option<String>,
    /// SHA-256 (hex) of the report's file, when it was recorded.
    pub sha256: Option<String>,
    /// Who recorded it, and when.
    pub set: Stamp,
}

/// A link between two items.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemLink {
    pub item: Uuid,
    pub reference: String,
    pub relation: String,
    /// True when the other item recorded the link (it points here).
    pub inward: bool,
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

/// A board meeting with its programme, as a list of every board shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardEntry {
    /// The id of the `BoardMeetingHeld` event: use it to seal the board.
    pub id: Uuid,
    pub programme: Uuid,
    pub programme_name: String,
    pub board: String,
    pub date: NaiveDate,
    pub seal: Option<SealView>,
}

/// A lawful erasure, as the audit shows it (never the text erased).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErasureView {
    /// The position of its (first) `TextErased` event.
    pub position: u64,
    /// The last, when it changed so many events that it is recorded as several.
    pub last_position: u64,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub reason: Option<String>,
    pub legal_basis: String,
    /// How many events it changed, and how many fields of them.
    pub events: usize,
    pub fields: usize,
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

/// A value, stamped with who set it, when and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamped<V> {
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
    pub rag: BTreeMap<Dimension, Stamped<Rag>>,
    pub phase: Option<Stamped<Phase>>,
    /// The phase the plan gave for the month of the board date.
    pub planned_phase: Option<Phase>,
    pub target_date: Option<Stamped<NaiveDate>>,
    pub first_target_date: Option<NaiveDate>,
    /// Days the current target date lies after the first one (negative: brought forward).
    pub slippage_days: Option<i64>,
    /// Days an open item is past its (revised) target date at the board
    /// date; None when it is closed, on time, or has no target date.
    pub overdue_days: Option<i64>,
    /// The largest slippage of any item under this one (deliverables under
    /// an action), with the item it belongs to; None when none slipped.
    pub within_slippage: Option<WithinSlippage>,
    pub narratives: BTreeMap<Section, Stamped<String>>,
    /// Entries of a section recorded for the same board date before the one
    /// in `narratives` (a report with two "progress" paragraphs), oldest
    /// first. Absent when every section has one entry.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub earlier_narratives: BTreeMap<Section, Vec<Stamped<String>>>,
    pub milestones: Vec<MilestoneView>,
    pub finance: Finance,
    /// Money lines beyond budget, spent and savings, in pence, by the report's name for each.
    pub money_lines: BTreeMap<String, Stamped<i64>>,
    /// Links to other items (an action shared by two standards).
    pub links: Vec<ItemLink>,
    /// Assumptions and contradictions noted on the item's record.
    pub notes: Vec<NoteView>,
    pub roles: BTreeMap<String, String>,
    pub closed: Option<Stamped<Closure>>,
    pub metrics: Vec<MetricView>,
    pub risks: Vec<ConcernView>,
    pub issues: Vec<ConcernView>,
    /// Direction of travel of the overall RAG, as councils report it.
    pub travel: Travel,
}

/// The worst slippage among the items under one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WithinSlippage {
    pub days: i64,
    pub item: Uuid,
    pub reference: String,
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
    pub change: crate::movement::Change,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MilestoneView {
    /// None when the report gives no date ("To be agreed", "Ongoing").
    pub date: Option<NaiveDate>,
    pub when: Option<String>,
    pub activity: String,
    pub state: MilestoneState,
    /// Its date is before the board date and it is not completed.
    pub overdue: bool,
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
    /// The target in words, where the report gives no number ("Quarterly review").
    pub target_text: Option<String>,
    /// Assumptions noted on the metric (a unit, direction or tolerance the report did not give).
    pub notes: Vec<NoteView>,
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
    /// A risk's likelihood, impact and score, as the report scores it.
    pub likelihood: Option<u8>,
    pub impact: Option<u8>,
    pub score: Option<u16>,
}

/// Counts RAG ratings per dimension.
pub(crate) fn count_rags(rags: impl Iterator<Item = (Dimension, Rag)>) -> RagCounts {
    let mut counts: RagCounts = BTreeMap::new();
    for (d, r) in rags {
        *counts.entry(d).or_default().entry(r).or_default() += 1;
    }
    counts
}
