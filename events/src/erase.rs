//! A lawful erasure as the store carries it out: what was asked, where the
//! text is (the dry run), and what was done. The writer does the real run
//! (see `Writer::erase`), so that nothing is appended while the store is
//! rewritten; the text work is in [`erasure`](crate::erasure) and the
//! directory's rewrite in [`rewrite`](crate::rewrite).

use crate::append::Receipt;
use crate::envelope::Envelope;
use crate::erasure;
use crate::error::{StoreError, WriteFailure};
use crate::field::FieldError;
use crate::validate;
use serde::Serialize;
use uuid::Uuid;

/// The most variants one erasure takes.
pub const MAX_TEXTS: usize = 20;

/// An erasure asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The text to erase, and any variants of it ("Jane Smith", "J. Smith").
    pub texts: Vec<String>,
    pub reason: String,
    pub legal_basis: String,
    /// Who asks (the admin token's name).
    pub actor: String,
}

impl Request {
    /// Checks what was asked before anything is searched.
    pub fn check(&self) -> Result<(), FieldError> {
        if self.texts.is_empty() || self.texts.len() > MAX_TEXTS {
            return Err(FieldError::new(
                "text",
                format!("give the text to erase, and up to {MAX_TEXTS} variants of it"),
            ));
        }
        for (i, t) in self.texts.iter().enumerate() {
            let field = if self.texts.len() == 1 {
                "text".to_string()
            } else {
                format!("text[{i}]")
            };
            validate::text(&field, t, validate::NAME_MAX, true)?;
            if t.trim().chars().count() < erasure::MIN_TEXT {
                return Err(FieldError::new(
                    field,
                    format!(
                        "is shorter than {} characters: it would match inside ordinary words",
                        erasure::MIN_TEXT
                    ),
                ));
            }
        }
        validate::text("reason", &self.reason, validate::REASON_MAX, true)?;
        validate::text("legal_basis", &self.legal_basis, validate::REASON_MAX, true)?;
        validate::text("actor", &self.actor, validate::NAME_MAX, true)
    }

    /// The variants as matched: trimmed, each once.
    pub(crate) fn variants(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.texts {
            let t = t.trim().to_string();
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&t)) {
                out.push(t);
            }
        }
        out
    }
}

/// One field of one event that holds the text.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub position: u64,
    pub stream: Uuid,
    /// A path into the event's `data` (`data.text`), or an envelope field
    /// (`reason`, `actor`, `idempotency_key`).
    pub field: String,
    /// False for an envelope field: those are covered by the hash chain
    /// byte for byte, so they cannot be changed without breaking it.
    pub erasable: bool,
}

/// Every field of `events` that holds one of `texts`.
pub fn find(
    events: impl Iterator<Item = Result<Envelope, StoreError>>,
    texts: &[String],
) -> Result<Vec<Found>, StoreError> {
    let mut out = Vec::new();
    for e in events {
        out.extend(find_in(&e?, texts).0);
    }
    Ok(out)
}

/// The fields of one event that hold one of `texts`, and the event with
/// them redacted (the writer's real run uses both; the dry run the first).
pub(crate) fn find_in(
    e: &Envelope,
    texts: &[String],
) -> (Vec<Found>, Option<(crate::event::Event, Vec<String>)>) {
    let mut out = Vec::new();
    let found = |field: String, erasable: bool| Found {
        position: e.position,
        stream: e.stream,
        field,
        erasable,
    };
    let header = [
        ("actor", Some(e.actor.as_str())),
        ("reason", e.reason.as_deref()),
        ("idempotency_key", e.idempotency_key.as_deref()),
    ];
    for (field, value) in header {
        if value.is_some_and(|v| erasure::holds(v, texts)) {
            out.push(found(field.to_string(), false));
        }
    }
    if matches!(e.event, crate::event::Event::TextErased { .. }) {
        return (out, None);
    }
    let redacted = erasure::redact(&e.event, texts);
    for field in erasure::fields_holding(&e.event, texts) {
        let erasable = redacted.as_ref().is_some_and(|(_, f)| f.contains(&field));
        out.push(found(field, erasable));
    }
    (out, redacted)
}

/// What an erasure did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Erased {
    /// The `TextErased` event that records it (the first, when it changed so
    /// many events that it is recorded as several).
    pub erasure: Receipt,
    /// Every `TextErased` event of it, in order.
    pub erasures: Vec<Receipt>,
    /// Every field changed.
    pub fields: Vec<Found>,
}

/// Why an erasure was not made. Whatever the error, the store is as it was.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EraseError {
    #[error("{0}")]
    Invalid(FieldError),
    #[error("the text appears in no event's data; nothing was erased and nothing written")]
    Nowhere,
    /// The text is also in fields an erasure cannot change: an envelope's
    /// actor, reason or idempotency key (the hash chain covers them byte for
    /// byte), or a field that is not free text.
    #[error("the text appears in {} field(s) an erasure cannot change ({}); nothing was erased. Erase a narrower variant, or see docs/erasure.md", .0.len(), list(.0))]
    Unerasable(Vec<Found>),
    #[error("the store takes no writes ({0}); nothing was erased")]
    Unwritable(WriteFailure),
    #[error("the store is shutting down; nothing was erased")]
    Closed,
    #[error("the erasure could not rewrite the store ({0}); the store is as it was before")]
    Rewrite(String),
    /// The rewrite is in place but the store could not take it up again: a
    /// restart finishes it (the next open rolls the rewrite forward).
    #[error("the store was rewritten but could not be reopened ({0}); restart ragtrail to finish the erasure")]
    Reopen(String),
}

fn list(found: &[Found]) -> String {
    let shown: Vec<String> = found
        .iter()
        .take(5)
        .map(|f| format!("position {} {}", f.position, f.field))
        .collect();
    let more = found.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

impl From<sled::Error> for EraseError {
    fn from(e: sled::Error) -> Self {
        EraseError::Rewrite(e.to_string())
    }
}

impl From<StoreError> for EraseError {
    fn from(e: StoreError) -> Self {
        EraseError::Rewrite(e.to_string())
    }
}
