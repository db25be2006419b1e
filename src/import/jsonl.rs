//! `.jsonl` files: one JSON object per line, each an event as `POST
//! /api/v1/events` takes it ([`AppendBody`]) or a batch `{"events": [...]}`
//! ([`BatchBody`]), with readable names allowed where ids go; or, in a file
//! written by `ragtrail export --format jsonl`, a stored event
//! ([`EnvelopeView`], with `position` and `hash`) to restore exactly. Blank
//! lines and lines starting with `#` are skipped.

use super::checked::{BadLine, Checked, Contents};
use super::names::resolve_names;
use crate::wire::{self, AppendBody, BatchBody, EnvelopeView};
use ragtrail_events::{FieldError, NewEvent};
use serde_json::Value;

/// What one line of a file holds.
enum Line {
    New(Vec<NewEvent>),
    Stored(Box<ragtrail_events::Envelope>),
}

/// An import file carries one idempotency key, made from its bytes.
fn no_key(body: &AppendBody) -> Result<(), FieldError> {
    match body.idempotency_key {
        Some(_) => Err(FieldError::new(
            "idempotency_key",
            "is not taken in an import file: the file's key is made from its bytes, so importing it again changes nothing",
        )),
        None => Ok(()),
    }
}

/// One line's object, checked.
fn line(mut json: Value) -> Result<Line, FieldError> {
    let Value::Object(m) = &mut json else {
        return Err(FieldError::new("-", "must be a JSON object"));
    };
    if m.contains_key("position") && m.contains_key("hash") {
        let stored: EnvelopeView = wire::parse(json)?;
        return Ok(Line::Stored(Box::new(stored.to_envelope()?)));
    }
    if let Some(Value::Array(list)) = m.get_mut("events") {
        for e in list.iter_mut() {
            if let Value::Object(e) = e {
                resolve_names(e);
            }
        }
        let batch: BatchBody = wire::parse(json)?;
        return Ok(Line::New(batch.to_new_events()?));
    }
    resolve_names(m);
    let body: AppendBody = wire::parse(json)?;
    no_key(&body)?;
    Ok(Line::New(vec![body.to_new_event()?]))
}

fn skip(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Reads and checks a JSONL file a line at a time, reporting every bad line.
pub fn read(text: impl std::io::BufRead) -> Result<Checked, Vec<BadLine>> {
    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut export = Vec::new();
    let mut bad = Vec::new();
    for (i, text) in text.lines().enumerate() {
        let n = i + 1;
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                let message = if e.kind() == std::io::ErrorKind::InvalidData {
                    "is not UTF-8 text".to_string()
                } else {
                    format!("cannot be read: {e}")
                };
                bad.push(BadLine::new(n, "-", message));
                return Err(bad);
            }
        };
        if skip(&text) {
            continue;
        }
        let json = match serde_json::from_str::<Value>(&text) {
            Ok(v) => v,
            Err(e) => {
                let at = format!("column {}", e.column());
                bad.push(BadLine::new(n, at, format!("is not valid JSON: {e}")));
                continue;
            }
        };
        match line(json) {
            Ok(Line::New(new)) => {
                lines.resize(lines.len() + new.len(), n);
                events.extend(new);
            }
            Ok(Line::Stored(e)) => export.push(*e),
            Err(error) => bad.push(BadLine { line: n, error }),
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    let contents = match (events.is_empty(), export.is_empty()) {
        (_, true) => Contents::Events(events),
        (true, false) => Contents::Export(export),
        (false, false) => return Err(vec![BadLine::new(
            0,
            "file",
            "mixes exported events (with position and hash) and new events; import them as two files",
        )]),
    };
    Ok(Checked { lines, contents })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Checked, Vec<BadLine>> {
        read(text.as_bytes())
    }

    #[test]
    fn names_stand_for_ids_and_every_bad_line_is_reported() {
        let good = r#"{"stream": "cib", "type": "ProgrammeRegistered", "data": {"name": "CIB", "authority": "Tameside"}, "effective": "2024-09-01"}"#;
        let batch = r#"{"events": [{"stream": "cib/p4", "type": "ItemRegistered", "data": {"programme": "cib", "kind": "priority", "reference": "4", "title": "T"}, "effective": "2024-09-01"}]}"#;
        let checked = read_text(&format!("# comment\n{good}\n\n{batch}\n")).unwrap();
        assert_eq!(checked.lines, vec![2, 4]);
        let Contents::Events(events) = checked.contents else {
            panic!("new events")
        };
        assert_eq!(events[0].stream, super::super::names::id_of("cib"));
        let bad = read_text(&format!(
            "{good}\nnot json\n[1]\n{{\"stream\": \"x\"}}\n{{\"events\": [{good}, {{\"stream\": \"y\", \"type\": \"Nope\", \"effective\": \"2024-01-01\"}}]}}\n"
        ))
        .unwrap_err();
        let at: Vec<(usize, &str)> = bad
            .iter()
            .map(|b| (b.line, b.error.field.as_str()))
            .collect();
        assert_eq!(
            at,
            vec![
                (2, "column 2"),
                (3, "-"),
                (4, "type"),
                (5, "events[1].type")
            ],
            "{bad:?}"
        );
    }

    #[test]
    fn a_line_may_not_carry_its_own_key() {
        let keyed = r#"{"stream": "cib", "type": "ProgrammeRegistered", "data": {"name": "CIB", "authority": "T"}, "effective": "2024-09-01", "idempotency_key": "k"}"#;
        let bad = read_text(keyed).unwrap_err();
        assert_eq!(bad[0].error.field, "idempotency_key");
    }
}
