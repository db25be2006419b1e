//! The JSON shape of an event, defined once: what a client sends to append
//! one ([`AppendBody`], and a batch of them), and how a stored event is shown
//! and exported ([`EnvelopeView`]). The API, its OpenAPI document, `ragtrail
//! import` and `ragtrail export` all use these types, so the shape cannot
//! drift between them. Parsing turns serde's errors into a [`FieldError`]
//! naming the field.

use chrono::{DateTime, NaiveDate, Utc};
use ragtrail_events::envelope::Digest32;
use ragtrail_events::{Envelope, Event, FieldError, NewEvent};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// One event to append (`POST /api/v1/events`; also each entry of a batch,
/// and each line of an import file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendBody {
    /// The programme, item, metric, risk or issue the event is about.
    #[serde(deserialize_with = "uuid_text")]
    pub stream: Uuid,
    /// The event type, e.g. `RagChanged` (see the `Event` schema for each type's `data`).
    #[serde(rename = "type")]
    pub type_name: String,
    /// The event's fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Value,
    /// The date the fact applies to (normally the board or reporting date).
    #[serde(deserialize_with = "date_text")]
    pub effective: NaiveDate,
    /// Why: required for RAG changes, target date revisions and corrections.
    #[serde(default)]
    pub reason: Option<String>,
    /// The version the stream must be at (0 for a new stream); 409 otherwise.
    #[serde(default)]
    pub expected_version: Option<u64>,
    /// A retry with the same key returns the first result (or use the
    /// `Idempotency-Key` header). Not inside a batch: a batch has one key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// Several events appended atomically (`POST /api/v1/batches`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// Each as in `AppendBody`, without `idempotency_key`.
    pub events: Vec<AppendBody>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

impl AppendBody {
    /// The event this body describes. Errors name the field (`type`, `data.rag`, …).
    pub fn to_new_event(&self) -> Result<NewEvent, FieldError> {
        let data = match &self.data {
            Value::Null => Value::Object(Default::default()),
            d => d.clone(),
        };
        let mut event = Event::from_type_and_data(&self.type_name, data)?;
        months_in_order(&mut event);
        Ok(NewEvent {
            stream: self.stream,
            event,
            effective: self.effective,
            reason: self.reason.clone(),
            expected_version: self.expected_version,
        })
    }
}

impl BatchBody {
    /// The batch's events, each error named by its place (`events[2].reason`).
    pub fn to_new_events(&self) -> Result<Vec<NewEvent>, FieldError> {
        self.events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let at = format!("events[{i}]");
                if e.idempotency_key.is_some() {
                    return Err(FieldError::new(
                        "idempotency_key",
                        "belongs to the whole batch: give it once, beside `events`",
                    )
                    .within(&at));
                }
                e.to_new_event().map_err(|err| err.within(&at))
            })
            .collect()
    }
}

/// A stored event as the API shows it, the live feed sends it and an export
/// holds it (and `ragtrail import` restores it from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeView {
    pub position: u64,
    pub id: Uuid,
    pub stream: Uuid,
    pub version: u64,
    #[serde(rename = "type")]
    pub type_name: String,
    #[schema(value_type = Object)]
    pub data: Value,
    pub effective: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub schema: u16,
    pub payload_hash: String,
    pub prev_hash: String,
    pub hash: String,
    /// The position of the erasure that redacted this event's text, if one
    /// did: `data` then holds "[erased …]" where the text was, and
    /// `payload_hash` is still the hash of the payload as first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_by: Option<u64>,
}

impl From<&Envelope> for EnvelopeView {
    fn from(e: &Envelope) -> Self {
        EnvelopeView {
            position: e.position,
            id: e.id,
            stream: e.stream,
            version: e.version,
            type_name: e.event.type_name().to_string(),
            data: e.event.data_json(),
            effective: e.effective,
            recorded_at: e.recorded_at,
            actor: e.actor.clone(),
            reason: e.reason.clone(),
            idempotency_key: e.idempotency_key.clone(),
            schema: e.schema,
            payload_hash: e.payload_hash.to_hex(),
            prev_hash: e.prev_hash.to_hex(),
            hash: e.hash.to_hex(),
            erased_by: e.erased_by,
        }
    }
}

impl EnvelopeView {
    /// The stored envelope back, exactly (for a restore, which checks the chain).
    pub fn to_envelope(&self) -> Result<Envelope, FieldError> {
        let digest = |field: &str, hex: &str| {
            Digest32::from_hex(hex)
                .ok_or_else(|| FieldError::new(field, "must be 64 hexadecimal characters"))
        };
        Ok(Envelope {
            position: self.position,
            id: self.id,
            stream: self.stream,
            version: self.version,
            effective: self.effective,
            recorded_at: self.recorded_at,
            actor: self.actor.clone(),
            reason: self.reason.clone(),
            idempotency_key: self.idempotency_key.clone(),
            schema: self.schema,
            event: Event::from_type_and_data(&self.type_name, self.data.clone())?,
            payload_hash: digest("payload_hash", &self.payload_hash)?,
            prev_hash: digest("prev_hash", &self.prev_hash)?,
            hash: digest("hash", &self.hash)?,
            erased_by: self.erased_by,
        })
    }
}

/// A plan's months are a set: kept in month order, whatever order they came
/// in (in a correction's replacement too).
fn months_in_order(event: &mut Event) {
    match event {
        Event::TimelinePlanned { months } => months.sort_by_key(|m| m.month),
        Event::Corrected {
            replacement: Some(r),
            ..
        } => months_in_order(r),
        _ => {}
    }
}

/// What each field of an event is, for "is required" errors.
fn hint(field: &str) -> &'static str {
    match field {
        "stream" => ": the id (UUID) of the programme, item, metric, risk or issue",
        "type" => ": the event type, e.g. RagChanged",
        "effective" => ": the date the fact applies to, YYYY-MM-DD",
        "events" => ": a list of events",
        _ => "",
    }
}

/// Parses JSON into `T`, with serde's error turned into a [`FieldError`]
/// that names the field by its path (`events[1].stream`).
pub fn parse<T: DeserializeOwned>(mut json: Value) -> Result<T, FieldError> {
    whole_numbers(&mut json);
    serde_path_to_error::deserialize::<_, T>(json).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let message = e.into_inner().to_string();
        // A missing field is reported at its parent: name the field itself.
        let named = |rest: &str| rest.split('`').nth(1).map(|f| f.to_string());
        if let Some(field) = message.strip_prefix("missing field ").and_then(named) {
            let m = format!("is required{}", hint(&field));
            return FieldError::new(field, m).within(&path);
        }
        if let Some(field) = message.strip_prefix("unknown field ").and_then(named) {
            let expected = message
                .split_once("expected ")
                .map(|(_, e)| e.replace('`', ""))
                .unwrap_or_default();
            let m = format!("unknown field; expected {expected}");
            // The path already ends at the unknown field.
            let at = if path.is_empty() { field } else { path };
            return FieldError::new(at, m);
        }
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        FieldError::new(path, message)
    })
}

/// JSON does not tell `3` from `3.0`: a whole number written with a point is
/// read as the integer it is, so an integer field takes it too.
fn whole_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                let whole = f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15;
                if whole {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(whole_numbers),
        Value::Object(m) => m.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

fn uuid_text<'de, D: Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
    let s = text(d)?;
    Uuid::parse_str(&s).map_err(|_| serde::de::Error::custom(format!("{s:?} is not a UUID")))
}

fn date_text<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = text(d)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a date; expected YYYY-MM-DD")))
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        _ => Err(serde::de::Error::custom("must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rag() -> Value {
        json!({"stream": "6a0f3b6e-3f0c-4a57-9d8e-0d7f5f1f2a11", "type": "RagChanged",
               "data": {"dimension": "overall", "rag": "green"}, "effective": "2024-09-10",
               "reason": "board agreed"})
    }

    fn error_of<T: DeserializeOwned + std::fmt::Debug>(v: Value) -> FieldError {
        parse::<T>(v).unwrap_err()
    }

    #[test]
    fn a_body_becomes_its_event() {
        let body: AppendBody = parse(rag()).unwrap();
        let e = body.to_new_event().unwrap();
        assert_eq!(e.effective, NaiveDate::from_ymd_opt(2024, 9, 10).unwrap());
        assert_eq!(e.event.type_name(), "RagChanged");
        assert_eq!(e.reason.as_deref(), Some("board agreed"));
    }

    #[test]
    fn errors_name_the_field() {
        let mut v = rag();
        v.as_object_mut().unwrap().remove("stream");
        let e = error_of::<AppendBody>(v);
        assert_eq!(e.field, "stream");
        assert!(e.message.starts_with("is required"), "{e}");

        let mut v = rag();
        v["stream"] = json!("p4");
        assert_eq!(
            error_of::<AppendBody>(v).to_string(),
            "stream: \"p4\" is not a UUID"
        );

        let mut v = rag();
        v["effective"] = json!("2024-02-30");
        assert_eq!(error_of::<AppendBody>(v).field, "effective");

        let mut v = rag();
        v["colour"] = json!("red");
        let e = error_of::<AppendBody>(v);
        assert_eq!(e.field, "colour");
        assert!(e.message.contains("expected"), "{e}");

        let mut v = rag();
        v["expected_version"] = json!(-1);
        assert_eq!(error_of::<AppendBody>(v).field, "expected_version");

        let mut v = rag();
        v["data"]["rag"] = json!("purple");
        let body: AppendBody = parse(v).unwrap();
        assert_eq!(body.to_new_event().unwrap_err().field, "data.rag");

        let mut v = rag();
        v["type"] = json!("StatusChanged");
        let body: AppendBody = parse(v).unwrap();
        assert_eq!(body.to_new_event().unwrap_err().field, "type");
    }

    #[test]
    fn a_whole_number_with_a_point_is_an_integer() {
        let mut v = rag();
        v["expected_version"] = json!(3.0);
        let body: AppendBody = parse(v).unwrap();
        assert_eq!(body.expected_version, Some(3));
        let mut v = rag();
        v["expected_version"] = json!(3.5);
        assert_eq!(error_of::<AppendBody>(v).field, "expected_version");
    }

    #[test]
    fn a_batch_names_the_event() {
        let mut second = rag();
        second["stream"] = json!(5);
        let e = error_of::<BatchBody>(json!({"events": [rag(), second]}));
        assert_eq!(e.field, "events[1].stream");
        let mut second = rag();
        second["type"] = json!("Nope");
        let batch: BatchBody = parse(json!({"events": [rag(), second]})).unwrap();
        assert_eq!(batch.to_new_events().unwrap_err().field, "events[1].type");
        let mut keyed = rag();
        keyed["idempotency_key"] = json!("k");
        let batch: BatchBody = parse(json!({"events": [keyed]})).unwrap();
        assert_eq!(
            batch.to_new_events().unwrap_err().field,
            "events[0].idempotency_key"
        );
        assert_eq!(error_of::<BatchBody>(json!({})).field, "events");
    }

    #[test]
    fn a_stored_event_round_trips() {
        use ragtrail_events::envelope::{self, Draft};
        let event = Event::BoardMeetingHeld {
            board: "CIB".into(),
            date: NaiveDate::from_ymd_opt(2024, 9, 10).unwrap(),
        };
        let (_, env) = envelope::encode(&Draft {
            position: 1,
            id: Uuid::from_u128(1),
            stream: Uuid::from_u128(2),
            version: 1,
            event: &event,
            effective: NaiveDate::from_ymd_opt(2024, 9, 10).unwrap(),
            recorded_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            actor: "lead",
            reason: None,
            idempotency_key: None,
            prev_hash: Digest32::GENESIS,
        })
        .unwrap();
        let view = EnvelopeView::from(&env);
        let json = serde_json::to_value(&view).unwrap();
        let back: EnvelopeView = parse(json).unwrap();
        assert_eq!(back.to_envelope().unwrap(), env);
        let mut bad = serde_json::to_value(&view).unwrap();
        bad["hash"] = json!("zz");
        let back: EnvelopeView = parse(bad).unwrap();
        assert_eq!(back.to_envelope().unwrap_err().field, "hash");
    }
}
