//! The words of an improvement programme: RAG ratings, dimensions, phases,
//! item kinds, narrative sections, units, grades.
//!
//! These enums are stored with bincode, which records a variant by its index:
//! new variants are only ever appended at the end, never inserted or reordered.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A RAG rating. Blue means complete (or target achieved/exceeded).
/// (`Ord` is declaration order, for use as a map key; movement uses [`Rag::rank`].)
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rag {
    Blue,
    Green,
    Amber,
    Red,
    /// No rating given (a blank RAG cell in a report).
    Unrated,
}

impl Rag {
    /// The order a board reads movement in: Red < Amber < Green < Blue.
    /// `None` for unrated, which is neither better nor worse than anything.
    pub fn rank(self) -> Option<u8> {
        match self {
            Rag::Red => Some(0),
            Rag::Amber => Some(1),
            Rag::Green => Some(2),
            Rag::Blue => Some(3),
            Rag::Unrated => None,
        }
    }

    pub const ALL: [Rag; 5] = [Rag::Blue, Rag::Green, Rag::Amber, Rag::Red, Rag::Unrated];

    /// The word a board reads: "Red", "Amber", "Green", "Blue", "Unrated".
    pub fn word(self) -> &'static str {
        match self {
            Rag::Blue => "Blue",
            Rag::Green => "Green",
            Rag::Amber => "Amber",
            Rag::Red => "Red",
            Rag::Unrated => "Unrated",
        }
    }

    /// A RAG as reports and people write it, in any case: the word, its
    /// initial (R, A, G, B), "complete" for Blue, "n/a" for Unrated.
    pub fn from_word(s: &str) -> Option<Rag> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "r" | "red" => Rag::Red,
            "a" | "amber" => Rag::Amber,
            "g" | "green" => Rag::Green,
            "b" | "blue" | "complete" => Rag::Blue,
            "unrated" | "n/a" => Rag::Unrated,
            _ => return None,
        })
    }
}

/// Which status a RAG rating is about.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The item's overall status ("Current RAG Status").
    Overall,
    /// Delivery of an action against its plan ("Action RAG").
    Delivery,
    /// Savings against target ("Savings RAG").
    Savings,
    /// Spend against budget.
    Budget,
}

impl Dimension {
    pub const ALL: [Dimension; 4] = [
        Dimension::Overall,
        Dimension::Delivery,
        Dimension::Savings,
        Dimension::Budget,
    ];
}

/// A project phase in the seed timelines: D, P, I, S.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Decision,
    Planning,
    Implementation,
    Savings,
}

/// What an item in a programme is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Priority,
    Outcome,
    Project,
    Workstream,
    Action,
    Deliverable,
    /// A "standard of excellence" that actions serve (sufficiency statements).
    Standard,
    /// A "what needs to improve" heading under a priority (highlight reports).
    ImprovementNeed,
}

/// A section of narrative in a report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// "Summary of progress since last board", "Update".
    Progress,
    /// "Activity for the next period", "Action to be taken and when".
    NextPeriod,
    /// "Risks – issues & barriers", "Risk area".
    RisksIssues,
    /// "What needs to improve".
    ImprovementNeed,
    /// "Voice & feedback".
    Voice,
    /// "Key elements".
    KeyElements,
    /// "Resources".
    Resources,
    /// "Impact".
    Impact,
    /// A summary or description of the item.
    Summary,
}

/// State of a dated activity in a project timeline ("On/Off" column).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneState {
    On,
    Off,
    Completed,
    Consulted,
    /// "On-going", "On going weekly".
    Ongoing,
    /// The report left the state blank.
    Unstated,
}

/// What a metric counts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Percent,
    /// Money, always integer pence.
    Gbp,
    Days,
    Ratio,
    /// A yes/no measure ("Actions reviewed: Yes").
    YesNo,
}

/// Which way is better for a metric.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

/// An Ofsted judgement grade.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Outstanding,
    Good,
    RequiresImprovement,
    Inadequate,
}

/// A priority rating given to an action ("Priority Rating" column).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
}

/// How an item ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Closure {
    Completed,
    Withdrawn,
}

/// What a note on a record says about it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// The value was not in the report: whoever recorded it assumed it.
    Assumption,
    /// The report contradicts itself here; what it says is recorded as said.
    Contradiction,
}

macro_rules! display_as_serde_name {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // The serde name is the one users type, so errors and exports use it too.
                match serde_json::to_value(self) {
                    Ok(serde_json::Value::String(s)) => f.write_str(&s),
                    _ => write!(f, "{:?}", self),
                }
            }
        }
    )*};
}
display_as_serde_name!(
    Rag,
    Dimension,
    Phase,
    ItemKind,
    Section,
    MilestoneState,
    Unit,
    Direction,
    Grade,
    Priority,
    Closure,
    NoteKind
);

#[cfg(test)]
mod rag_tests {
    use super::Rag;

    #[test]
    fn every_rag_reads_back_from_its_word() {
        for r in Rag::ALL {
            assert_eq!(Rag::from_word(r.word()), Some(r));
            assert_eq!(Rag::from_word(&r.word().to_uppercase()), Some(r));
        }
        assert_eq!(Rag::from_word(" A "), Some(Rag::Amber));
        assert_eq!(Rag::from_word("Complete"), Some(Rag::Blue));
        assert_eq!(Rag::from_word("purple"), None);
        assert_eq!(Rag::from_word(""), None);
    }
}
