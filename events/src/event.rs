//! The typed payload of every stored event: one variant per kind of fact a
//! programme records.
//!
//! Stored with bincode, which is not self-describing. The rules that keep old
//! logs readable forever: variants are only appended at the end of [`Event`],
//! fields are never reordered or removed, and none of serde's `flatten`,
//! `skip`, `tag`, `untagged` or `default` attributes appear on stored types.
//! The golden fixtures in `events/tests/fixtures/` hold every variant's bytes.

use crate::vocab::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A metric value as a report gives it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// A count, percentage, number of days or ratio. Must be finite.
    Number(f64),
    /// Money in integer pence; never a float.
    Pence(i64),
    /// A yes/no measure.
    YesNo(bool),
}

/// A value as people read it: `24`, `30.3`, `£3561.50`, `yes`.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::Pence(p) => write!(f, "£{:.2}", *p as f64 / 100.0),
            Value::YesNo(b) => f.write_str(if *b { "yes" } else { "no" }),
        }
    }
}

impl Value {
    /// The value as a number for arithmetic (deltas, tolerance checks).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Number(n) => n,
            Value::Pence(p) => p as f64,
            Value::YesNo(b) => f64::from(u8::from(b)),
        }
    }
}

/// One month of a planned project timeline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedPhase {
    /// First day of the month.
    pub month: NaiveDate,
    pub phase: Phase,
}

/// The payload of an event. The `stream` of the envelope says what it is about.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Event {
    /// A programme (the stream) is set up.
    ProgrammeRegistered {
        name: String,
        authority: String,
        sponsor: Option<String>,
    },
    /// A board meeting was held; its date is what users pick as "as at".
    BoardMeetingHeld {
        board: String,
        date: NaiveDate,
    },
    /// An item (the stream) is added to a programme.
    ItemRegistered {
        programme: Uuid,
        parent: Option<Uuid>,
        kind: ItemKind,
        /// The report's own numbering: "4.7", "Priority 4", "R01".
        reference: String,
        title: String,
        owner: Option<String>,
        target_date: Option<NaiveDate>,
        /// A timeframe that is not a date: "Ongoing", "April 2018 onwards".
        timeframe: Option<String>,
    },
    /// Some of an item's details change; absent fields stay as they were.
    ItemAmended {
        title: Option<String>,
        owner: Option<String>,
        description: Option<String>,
        priority: Option<Priority>,
    },
    /// A RAG status is set. The envelope's reason is required.
    RagChanged {
        dimension: Dimension,
        rag: Rag,
    },
    /// The item moves to a new phase.
    PhaseChanged {
        phase: Phase,
    },
    /// The planned month-by-month phases of a project (the D/P/I/S timeline).
    TimelinePlanned {
        months: Vec<PlannedPhase>,
    },
    /// The target date is revised. The envelope's reason is required.
    TargetDateRevised {
        target_date: NaiveDate,
    },
    /// A dated activity and its state.
    MilestoneRecorded {
        date: NaiveDate,
        /// The date as the report wrote it, when not a plain date ("March – July 2020").
        when: Option<String>,
        activity: String,
        state: MilestoneState,
    },
    /// A section of narrative for the reporting period.
    NarrativeRecorded {
        section: Section,
        text: String,
    },
    /// A metric (the stream) is defined.
    MetricDefined {
        item: Option<Uuid>,
        reference: Option<String>,
        name: String,
        unit: Unit,
        good_direction: Direction,
        target: Option<Value>,
        /// Percentage either side of target still rated Green; enables the derived rating rule.
        tolerance_pct: Option<f64>,
    },
    /// A reading of a metric (the stream) for a period. A missing value is kept as missing.
    MetricReadingRecorded {
        /// The period as reported: "July 2020", "2018-19 Q1".
        period: String,
        /// Last day of the period, for ordering trends.
        period_end: NaiveDate,
        value: Option<Value>,
        /// The RAG the report gave, kept as given.
        rag: Option<Rag>,
        /// The target for this period, when the report states one.
        target: Option<Value>,
        note: Option<String>,
    },
    /// Money for an item, in integer pence. Budget and spend are never negative;
    /// savings may be (a negative saving target is a cost reduction written as the reports write it).
    FinanceRecorded {
        budget: Option<i64>,
        spent: Option<i64>,
        savings_target: Option<i64>,
        savings_achieved: Option<i64>,
    },
    /// A risk (the stream) is raised.
    RiskRaised {
        programme: Uuid,
        item: Option<Uuid>,
        reference: String,
        description: String,
        owner: Option<String>,
        mitigation: Option<String>,
        rag: Option<Rag>,
    },
    RiskUpdated {
        description: Option<String>,
        owner: Option<String>,
        mitigation: Option<String>,
        rag: Option<Rag>,
    },
    RiskClosed {
        note: Option<String>,
    },
    /// An issue (the stream) is escalated to the board.
    IssueEscalated {
        programme: Uuid,
        item: Option<Uuid>,
        reference: String,
        description: String,
        owner: Option<String>,
        action: Option<String>,
    },
    IssueResolved {
        note: Option<String>,
    },
    /// An inspection judgement for an area.
    JudgementRecorded {
        inspection: String,
        area: String,
        grade: Grade,
        date: NaiveDate,
    },
    /// Supersedes an earlier event of the same stream. With no replacement the
    /// target is withdrawn. The envelope's reason is required.
    Corrected {
        target: Uuid,
        /// An `Event` of the same type as the target (kept open here: the schema recurses).
        #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
        replacement: Option<Box<Event>>,
    },
    /// A person is named in a role for a programme or item ("Project Manager").
    RoleAssigned {
        role: String,
        person: String,
    },
    /// An item is closed: completed or withdrawn.
    ItemClosed {
        closure: Closure,
    },
    /// A board's snapshot is sealed: the SHA-256 (hex) of the board as at the
    /// meeting date, as known at log position `position` whose hash was `head`.
    BoardSealed {
        /// The id of the `BoardMeetingHeld` event.
        board: Uuid,
        as_at: NaiveDate,
        snapshot: String,
        position: u64,
        head: String,
    },
    /// Personal text was erased from earlier events on a lawful request
    /// (written only by an erasure: `POST /api/v1/erasures`, `ragtrail erase`).
    /// The envelope's reason says why. The erased text itself is never held:
    /// only its salted SHA-256, one per variant asked for.
    TextErased {
        legal_basis: String,
        /// 32 random bytes (hex) mixed into `text_hashes`.
        salt: String,
        /// SHA-256 (hex) of `salt ‖ text` for each variant of the text erased.
        text_hashes: Vec<String>,
        /// Every event the erasure changed, and which of its fields.
        events: Vec<ErasedEvent>,
    },
    /// A risk (the stream) is scored: likelihood and impact, and the score
    /// when the report gives one (usually likelihood × impact).
    RiskScored {
        likelihood: u8,
        impact: u8,
        score: Option<u16>,
    },
    /// A named money line of an item or programme beyond budget, spent and
    /// savings ("Investment needed", "Anticipated saving"), in pence.
    MoneyRecorded {
        line: String,
        pence: i64,
    },
    /// A metric's (the stream's) target in words, where the report gives no
    /// number ("Quarterly review", "Reduce").
    TargetStated {
        target: String,
    },
    /// One of a programme's (the stream's) own RAG definitions: what its
    /// report says a status means ("Complete: Blue", "Amber (At Risk) – one
    /// or more aspect of programme viability … is at risk").
    RagDefined {
        /// The dimension the definition is for ("Savings RAG"), or every one.
        dimension: Option<Dimension>,
        rag: Rag,
        label: String,
        meaning: Option<String>,
    },
    /// A milestone of an item (the stream) as the report gives it, when it
    /// has no exact date: "To be agreed", "Ongoing", "Mid Feb 20". `date` is
    /// the date it stands for, only when the report's words give one.
    MilestonePlanned {
        when: String,
        date: Option<NaiveDate>,
        activity: String,
        state: MilestoneState,
    },
    /// An item (the stream) is linked to another: an action shared by two
    /// standards ("also under"), or another relation the report states.
    ItemLinked {
        other: Uuid,
        relation: String,
    },
    /// The report the facts of a programme (the stream) at this date come
    /// from: its title, date, author and the SHA-256 of its file.
    SourceRecorded {
        title: String,
        date: NaiveDate,
        author: Option<String>,
        sha256: Option<String>,
    },
    /// A note on the record of a stream: a value that was assumed (not in
    /// the report), or a place where the report contradicts itself. `field`
    /// names what it is about ("target_date", "tolerance_pct", "date").
    NoteRecorded {
        kind: NoteKind,
        field: Option<String>,
        note: String,
    },
    /// Who set, reported or approved the statuses, readings and narratives
    /// of a stream (or, on a programme, of all its items) at this date, as
    /// distinct from the account that recorded them: "Alison Montgomery,
    /// sponsor, who completed the report".
    Attributed {
        person: String,
        capacity: Option<String>,
    },
    /// An item (the stream) is given another reference: the outline is
    /// reordered ("2.3" becomes "2.1"). Boards read items in reference order.
    ItemRenumbered {
        reference: String,
    },
}

/// One event an erasure changed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasedEvent {
    pub position: u64,
    pub stream: Uuid,
    /// The fields changed, as paths into the event's `data` (`data.text`).
    pub fields: Vec<String>,
    /// SHA-256 (hex) of the payload as the erasure left it: `verify` checks the
    /// stored payload against this, as it checks an untouched one against
    /// its `payload_hash`.
    pub payload: String,
}

impl Event {
    /// The name clients use in the `type` field.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::ProgrammeRegistered { .. } => "ProgrammeRegistered",
            Event::BoardMeetingHeld { .. } => "BoardMeetingHeld",
            Event::ItemRegistered { .. } => "ItemRegistered",
            Event::ItemAmended { .. } => "ItemAmended",
            Event::RagChanged { .. } => "RagChanged",
            Event::PhaseChanged { .. } => "PhaseChanged",
            Event::TimelinePlanned { .. } => "TimelinePlanned",
            Event::TargetDateRevised { .. } => "TargetDateRevised",
            Event::MilestoneRecorded { .. } => "MilestoneRecorded",
            Event::NarrativeRecorded { .. } => "NarrativeRecorded",
            Event::MetricDefined { .. } => "MetricDefined",
            Event::MetricReadingRecorded { .. } => "MetricReadingRecorded",
            Event::FinanceRecorded { .. } => "FinanceRecorded",
            Event::RiskRaised { .. } => "RiskRaised",
            Event::RiskUpdated { .. } => "RiskUpdated",
            Event::RiskClosed { .. } => "RiskClosed",
            Event::IssueEscalated { .. } => "IssueEscalated",
            Event::IssueResolved { .. } => "IssueResolved",
            Event::JudgementRecorded { .. } => "JudgementRecorded",
            Event::Corrected { .. } => "Corrected",
            Event::RoleAssigned { .. } => "RoleAssigned",
            Event::ItemClosed { .. } => "ItemClosed",
            Event::BoardSealed { .. } => "BoardSealed",
            Event::TextErased { .. } => "TextErased",
            Event::RiskScored { .. } => "RiskScored",
            Event::MoneyRecorded { .. } => "MoneyRecorded",
            Event::TargetStated { .. } => "TargetStated",
            Event::RagDefined { .. } => "RagDefined",
            Event::MilestonePlanned { .. } => "MilestonePlanned",
            Event::ItemLinked { .. } => "ItemLinked",
            Event::SourceRecorded { .. } => "SourceRecorded",
            Event::NoteRecorded { .. } => "NoteRecorded",
            Event::Attributed { .. } => "Attributed",
            Event::ItemRenumbered { .. } => "ItemRenumbered",
        }
    }

    /// Every type name, in variant order.
    pub const TYPE_NAMES: [&'static str; 34] = [
        "ProgrammeRegistered",
        "BoardMeetingHeld",
        "ItemRegistered",
        "ItemAmended",
        "RagChanged",
        "PhaseChanged",
        "TimelinePlanned",
        "TargetDateRevised",
        "MilestoneRecorded",
        "NarrativeRecorded",
        "MetricDefined",
        "MetricReadingRecorded",
        "FinanceRecorded",
        "RiskRaised",
        "RiskUpdated",
        "RiskClosed",
        "IssueEscalated",
        "IssueResolved",
        "JudgementRecorded",
        "Corrected",
        "RoleAssigned",
        "ItemClosed",
        "BoardSealed",
        "TextErased",
        "RiskScored",
        "MoneyRecorded",
        "TargetStated",
        "RagDefined",
        "MilestonePlanned",
        "ItemLinked",
        "SourceRecorded",
        "NoteRecorded",
        "Attributed",
        "ItemRenumbered",
    ];

    /// Whether the envelope must carry a reason for this event.
    pub fn needs_reason(&self) -> bool {
        matches!(
            self,
            Event::RagChanged { .. } | Event::TargetDateRevised { .. } | Event::Corrected { .. }
        )
    }

    /// Builds an event from the API's `type` and `data` fields. Errors name the
    /// offending field, e.g. `data.rag: unknown variant "purple", expected one of ...`.
    pub fn from_type_and_data(
        type_name: &str,
        data: serde_json::Value,
    ) -> Result<Event, crate::field::FieldError> {
        if !Self::TYPE_NAMES.contains(&type_name) {
            return Err(crate::field::FieldError::new(
                "type",
                format!(
                    "unknown event type {type_name:?}; expected one of {}",
                    Self::TYPE_NAMES.join(", ")
                ),
            ));
        }
        let tagged =
            serde_json::Value::Object([(type_name.to_string(), data)].into_iter().collect());
        serde_path_to_error::deserialize::<_, Event>(tagged).map_err(|e| {
            let path = e.path().to_string();
            // The path starts with the variant name; users call that part `data`.
            let field = match path.split_once('.') {
                Some((_, rest)) => format!("data.{rest}"),
                None => "data".to_string(),
            };
            crate::field::FieldError::new(field, e.into_inner().to_string())
        })
    }

    /// The `data` part of the API form: the payload's fields as JSON.
    pub fn data_json(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => m
                .remove(self.type_name())
                .unwrap_or(serde_json::Value::Null),
            _ => serde_json::Value::Null,
        }
    }
}

#[cfg(test)]
mod value_tests {
    use super::Value;

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(Value::Number(3.0).to_string(), "3");
        assert_eq!(Value::Number(30.3).to_string(), "30.3");
        assert_eq!(Value::Number(-2.5).to_string(), "-2.5");
        assert_eq!(Value::Pence(356150).to_string(), "£3561.50");
        assert_eq!(Value::Pence(-5).to_string(), "£-0.05");
        assert_eq!(Value::YesNo(true).to_string(), "yes");
    }
}
