//! One event as clients send it — `stream`, `type`, `data`, `effective`,
//! `reason`, `expected_version` — parsed with errors that name the field.
//! Shared by the HTTP API and `ragtrail import`.

use chrono::NaiveDate;
use ragtrail_events::{Event, NewEvent};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The fields of one event.
pub const EVENT_FIELDS: [&str; 6] = [
    "stream",
    "type",
    "data",
    "effective",
    "reason",
    "expected_version",
];

/// Which field is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn err(field: String, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

pub fn field<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.get(name).filter(|v| !v.is_null())
}

pub fn text(m: &Map<String, Value>, at: &str, name: &str) -> Result<Option<String>, FieldError> {
    match field(m, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(format!("{at}{name}"), "must be a string")),
    }
}

fn required(
    m: &Map<String, Value>,
    at: &str,
    name: &str,
    hint: &str,
) -> Result<String, FieldError> {
    text(m, at, name)?.ok_or_else(|| err(format!("{at}{name}"), format!("is required: {hint}")))
}

/// Parses one event; `at` prefixes field names ("" or "events[2].");
/// `allowed_extra` names other fields the caller handles itself.
pub fn parse_event(
    m: &Map<String, Value>,
    at: &str,
    allowed_extra: &[&str],
) -> Result<NewEvent, FieldError> {
    for k in m.keys() {
        if !EVENT_FIELDS.contains(&k.as_str()) && !allowed_extra.contains(&k.as_str()) {
            return Err(err(
                format!("{at}{k}"),
                format!("unknown field; expected {}", EVENT_FIELDS.join(", ")),
            ));
        }
    }
    let stream = required(
        m,
        at,
        "stream",
        "the id (UUID) of the programme, item, metric, risk or issue",
    )?;
    let stream = Uuid::parse_str(&stream)
        .map_err(|_| err(format!("{at}stream"), format!("{stream:?} is not a UUID")))?;
    let type_name = required(m, at, "type", "the event type, e.g. RagChanged")?;
    let data = field(m, "data").cloned().unwrap_or_else(|| json!({}));
    let event = Event::from_type_and_data(&type_name, data)
        .map_err(|inv| err(format!("{at}{}", inv.field), inv.message))?;
    let effective = required(
        m,
        at,
        "effective",
        "the date the fact applies to, YYYY-MM-DD",
    )?;
    let effective = NaiveDate::parse_from_str(&effective, "%Y-%m-%d").map_err(|_| {
        err(
            format!("{at}effective"),
            format!("{effective:?} is not a date; expected YYYY-MM-DD"),
        )
    })?;
    let reason = text(m, at, "reason")?;
    let expected_version = match field(m, "expected_version") {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            err(
                format!("{at}expected_version"),
                "must be a whole number of 0 or more (0 for a new stream)",
            )
        })?),
    };
    Ok(NewEvent {
        stream,
        event,
        effective,
        reason,
        expected_version,
    })
}
