//! `ragtrail import`: files of events into the store, checked whole first.
//!
//! Formats (by extension):
//! - `.jsonl`: one object per line — an event as `POST /api/v1/events` takes it,
//!   or a batch `{"events": [...]}`. Blank lines and lines starting with `#` are
//!   skipped. Where a UUID is expected (`stream`, `data.programme`, `data.parent`,
//!   `data.item`, `data.board`), a readable name such as `cib/priority-4` may be
//!   given instead (`data.board` only in a `BoardSealed`, where it is an id): it
//!   stands for the UUIDv5 of the name in ragtrail's namespace,
//!   so the same name always means the same stream.
//! - `.jsonl` written by `ragtrail export --format jsonl` (lines with `position`
//!   and `hash`): restored exactly, same ids, times and hash chain, into an empty store.
//! - `.csv` with a header of either `metric,period,value,rag,note` (metric
//!   readings; optional `period_end` and `effective` columns) or
//!   `item,dimension,rag,effective,reason` (RAG updates).
//!
//! Every line is checked before anything is written; a file with any bad line
//! writes nothing and every bad line is reported with its line number, column
//! and what was expected. The whole file is one atomic append whose idempotency
//! key is derived from the file's bytes, so importing it again changes nothing.

use crate::command::{parse_event, FieldError};
use chrono::{Datelike, NaiveDate};
use ragtrail_events::envelope::Digest32;
use ragtrail_events::{validate, Dimension, Envelope, Event, NewEvent, Rag, Value as Measure};
use serde_json::{Map, Value};
use std::fmt;
use uuid::Uuid;

/// The namespace readable names are hashed in (UUIDv5).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x7261_6774_7261_696c_8000_0000_0000_0001);

/// Fields of `data` that hold the id of another stream (and `board` of a seal).
const ID_FIELDS: [&str; 3] = ["programme", "parent", "item"];

/// The UUID a readable name stands for (a UUID stands for itself).
pub fn id_of(name: &str) -> Uuid {
    Uuid::parse_str(name).unwrap_or_else(|_| Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

/// One bad line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.column, self.message)
    }
}

/// What a file holds, once checked.
#[derive(Debug)]
pub enum Contents {
    /// New events, to append as one batch.
    Events(Vec<NewEvent>),
    /// An export, to restore exactly.
    Export(Vec<Envelope>),
}

impl Contents {
    pub fn len(&self) -> usize {
        match self {
            Contents::Events(e) => e.len(),
            Contents::Export(e) => e.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads and checks a whole file held in memory. `actor` is who the events will be recorded by.
pub fn read(name: &str, bytes: &[u8], actor: &str) -> Result<Contents, Vec<BadLine>> {
    read_from(name, bytes, actor).map(|(contents, _)| contents)
}

/// A reader that hashes what passes through it, for the file's idempotency key.
struct Hashing<R> {
    inner: R,
    hash: sha2::Sha256,
}

impl<R: std::io::Read> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads and checks a file as it streams past, a line at a time (only the
/// parsed events are kept, for one atomic append), and works out its
/// idempotency key (see [`key_of`]) on the way.
pub fn read_from(
    name: &str,
    reader: impl std::io::Read,
    actor: &str,
) -> Result<(Contents, String), Vec<BadLine>> {
    use sha2::Digest;
    let mut hashing = Hashing {
        inner: reader,
        hash: sha2::Sha256::new(),
    };
    let lower = name.to_ascii_lowercase();
    let (lines, contents) = if lower.ends_with(".csv") {
        read_csv(&mut hashing)?
    } else if lower.ends_with(".jsonl") || lower.ends_with(".json") || lower.ends_with(".ndjson") {
        read_jsonl(std::io::BufReader::with_capacity(1 << 16, &mut hashing))?
    } else {
        return Err(vec![BadLine {
            line: 0,
            column: "file".into(),
            message: format!("{name} is neither .jsonl nor .csv; name the file for its format"),
        }]);
    };
    if let Contents::Events(events) = &contents {
        // The store checks these too, but only reports the first; report them all.
        let bad: Vec<BadLine> = events
            .iter()
            .zip(lines)
            .filter_map(|(e, line)| {
                validate::envelope(&e.event, e.effective, e.reason.as_deref(), actor)
                    .err()
                    .map(|inv| BadLine {
                        line,
                        column: inv.field,
                        message: inv.message,
                    })
            })
            .collect();
        if !bad.is_empty() {
            return Err(bad);
        }
    }
    if contents.is_empty() {
        return Err(vec![BadLine {
            line: 0,
            column: "file".into(),
            message: "holds no events".into(),
        }]);
    }
    // Whatever the parser left unread counts towards the key too.
    let _ = std::io::copy(&mut hashing, &mut std::io::sink());
    let key = format!("import:{}", hex::encode(hashing.hash.finalize()));
    Ok((contents, key))
}

fn skip(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Replaces readable names by the UUIDs they stand for.
fn resolve_names(m: &mut Map<String, Value>) {
    if let Some(Value::String(s)) = m.get("stream") {
        let id = id_of(s);
        m.insert("stream".into(), Value::String(id.to_string()));
    }
    let sealed = m.get("type").and_then(Value::as_str) == Some("BoardSealed");
    if let Some(Value::Object(data)) = m.get_mut("data") {
        if sealed {
            if let Some(Value::String(s)) = data.get("board") {
                let id = id_of(s);
                data.insert("board".into(), Value::String(id.to_string()));
            }
        }
        for f in ID_FIELDS {
            if let Some(Value::String(s)) = data.get(f) {
                let id = id_of(s);
                data.insert(f.into(), Value::String(id.to_string()));
            }
        }
    }
}

/// The events of a file, and for each the line it came from.
type Read = (Vec<usize>, Contents);

fn read_jsonl(text: impl std::io::BufRead) -> Result<Read, Vec<BadLine>> {
    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut export = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                bad.push(BadLine {
                    line: n,
                    column: "-".into(),
                    message: "is not UTF-8 text".into(),
                });
                return Err(bad);
            }
            Err(e) => {
                bad.push(BadLine {
                    line: n,
                    column: "-".into(),
                    message: format!("cannot be read: {e}"),
                });
                return Err(bad);
            }
        };
        let line = line.as_str();
        if skip(line) {
            continue;
        }
        let mut push_bad = |column: String, message: String| {
            bad.push(BadLine {
                line: n,
                column,
                message,
            })
        };
        let m = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                push_bad("-".into(), "must be a JSON object".into());
                continue;
            }
            Err(e) => {
                push_bad(
                    format!("column {}", e.column()),
                    format!("is not valid JSON: {e}"),
                );
                continue;
            }
        };
        if m.contains_key("position") && m.contains_key("hash") {
            match exported(&m) {
                Ok(e) => export.push(e),
                Err(FieldError { field, message }) => push_bad(field, message),
            }
            continue;
        }
        if let Some(list) = m.get("events") {
            let Some(list) = list.as_array() else {
                push_bad("events".into(), "must be a list of events".into());
                continue;
            };
            for (k, e) in list.iter().enumerate() {
                match e {
                    Value::Object(e) => {
                        let mut e = e.clone();
                        resolve_names(&mut e);
                        match parse_event(&e, &format!("events[{k}]."), &[]) {
                            Ok(e) => {
                                lines.push(n);
                                events.push(e)
                            }
                            Err(FieldError { field, message }) => push_bad(field, message),
                        }
                    }
                    _ => push_bad(format!("events[{k}]"), "must be an object".into()),
                }
            }
            continue;
        }
        let mut m = m;
        resolve_names(&mut m);
        match parse_event(&m, "", &[]) {
            Ok(e) => {
                lines.push(n);
                events.push(e)
            }
            Err(FieldError { field, message }) => push_bad(field, message),
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    match (events.is_empty(), export.is_empty()) {
        (_, true) => Ok((lines, Contents::Events(events))),
        (true, false) => Ok((lines, Contents::Export(export))),
        (false, false) => Err(vec![BadLine {
            line: 0,
            column: "file".into(),
            message: "mixes exported events (with position and hash) and new events; import them as two files".into(),
        }]),
    }
}

/// An exported envelope line back into an envelope.
fn exported(m: &Map<String, Value>) -> Result<Envelope, FieldError> {
    let bad = |field: &str, message: &str| FieldError {
        field: field.into(),
        message: message.into(),
    };
    let get = |k: &str| m.get(k).filter(|v| !v.is_null());
    let s = |k: &str| -> Result<String, FieldError> {
        get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| bad(k, "is required (a string) in an exported event"))
    };
    let n = |k: &str| -> Result<u64, FieldError> {
        get(k)
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(k, "is required (a whole number) in an exported event"))
    };
    let digest = |k: &str| -> Result<Digest32, FieldError> {
        Digest32::from_hex(&s(k)?).ok_or_else(|| bad(k, "must be 64 hexadecimal characters"))
    };
    let uuid = |k: &str| -> Result<Uuid, FieldError> {
        Uuid::parse_str(&s(k)?).map_err(|_| bad(k, "must be a UUID"))
    };
    let type_name = s("type")?;
    let event = Event::from_type_and_data(&type_name, get("data").cloned().unwrap_or(Value::Null))
        .map_err(|inv| bad(&inv.field, &inv.message))?;
    let opt = |k: &str| get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Envelope {
        position: n("position")?,
        id: uuid("id")?,
        stream: uuid("stream")?,
        version: n("version")?,
        effective: NaiveDate::parse_from_str(&s("effective")?, "%Y-%m-%d")
            .map_err(|_| bad("effective", "must be YYYY-MM-DD"))?,
        recorded_at: chrono::DateTime::parse_from_rfc3339(&s("recorded_at")?)
            .map_err(|_| bad("recorded_at", "must be an RFC 3339 instant"))?
            .with_timezone(&chrono::Utc),
        actor: s("actor")?,
        reason: opt("reason"),
        idempotency_key: opt("idempotency_key"),
        schema: u16::try_from(n("schema")?).map_err(|_| bad("schema", "is out of range"))?,
        event,
        payload_hash: digest("payload_hash")?,
        prev_hash: digest("prev_hash")?,
        hash: digest("hash")?,
    })
}

/// The columns of the two CSV layouts.
const READINGS: [&str; 5] = ["metric", "period", "value", "rag", "note"];
const RAGS: [&str; 5] = ["item", "dimension", "rag", "effective", "reason"];

fn read_csv(text: impl std::io::Read) -> Result<Read, Vec<BadLine>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text);
    let header_err = |message: String| {
        vec![BadLine {
            line: 1,
            column: "header".into(),
            message,
        }]
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| header_err(format!("cannot be read: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let has = |cols: &[&str]| cols.iter().all(|c| headers.iter().any(|h| h == c));
    let readings = has(&READINGS);
    if !readings && !has(&RAGS) {
        return Err(header_err(format!(
            "is {:?}; expected the columns {} (metric readings, optionally period_end and effective) or {} (RAG updates)",
            headers.join(","),
            READINGS.join(","),
            RAGS.join(",")
        )));
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                bad.push(BadLine {
                    line,
                    column: "-".into(),
                    message: format!("cannot be read as CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let get = |name: &str| {
            col(name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .to_string()
        };
        let row = if readings {
            reading_row(&get)
        } else {
            rag_row(&get)
        };
        match row {
            Ok(e) => {
                lines.push(line);
                events.push(e)
            }
            Err(errs) => bad.extend(errs.into_iter().map(|(column, message)| BadLine {
                line,
                column,
                message,
            })),
        }
    }
    if bad.is_empty() {
        Ok((lines, Contents::Events(events)))
    } else {
        Err(bad)
    }
}

type RowErrors = Vec<(String, String)>;

fn date(column: &str, v: &str, errs: &mut RowErrors) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errs.push((
                column.into(),
                format!("{v:?} is not a date; expected YYYY-MM-DD"),
            ));
            None
        }
    }
}

fn rag(v: &str, errs: &mut RowErrors) -> Option<Option<Rag>> {
    let r = match v.to_ascii_lowercase().as_str() {
        "" => return Some(None),
        "r" | "red" => Rag::Red,
        "a" | "amber" => Rag::Amber,
        "g" | "green" => Rag::Green,
        "b" | "blue" | "complete" => Rag::Blue,
        "unrated" | "n/a" => Rag::Unrated,
        _ => {
            errs.push((
                "rag".into(),
                format!(
                    "{v:?} is not a RAG; expected red, amber, green, blue, unrated (or R, A, G, B)"
                ),
            ));
            return None;
        }
    };
    Some(Some(r))
}

/// The last day of the month of `d`.
fn month_end(d: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).and_then(|n| n.pred_opt())
}

fn measure(v: &str, errs: &mut RowErrors) -> Option<Option<Measure>> {
    let t = v.trim();
    if t.is_empty() {
        return Some(None);
    }
    match t.to_ascii_lowercase().as_str() {
        "yes" | "y" => return Some(Some(Measure::YesNo(true))),
        "no" | "n" => return Some(Some(Measure::YesNo(false))),
        _ => {}
    }
    if let Some(money) = t.strip_prefix('£') {
        let cleaned: String = money.chars().filter(|c| *c != ',').collect();
        let pence = cleaned
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite())
            .map(|p| (p * 100.0).round() as i64);
        return match pence {
            Some(p) => Some(Some(Measure::Pence(p))),
            None => {
                errs.push((
                    "value".into(),
                    format!("{v:?} is not a sum of money, e.g. £3,561.50"),
                ));
                None
            }
        };
    }
    let number: String = t
        .trim_end_matches('%')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() => Some(Some(Measure::Number(n))),
        _ => {
            errs.push((
                "value".into(),
                format!("{v:?} is not a value; expected a number (24, 30.3, 24%), a sum (£3,561), yes/no, or empty for missing"),
            ));
            None
        }
    }
}

fn reading_row(get: &dyn Fn(&str) -> String) -> Result<NewEvent, RowErrors> {
    let mut errs = Vec::new();
    let metric = get("metric");
    if metric.is_empty() {
        errs.push((
            "metric".into(),
            "is required: the metric's id or name".into(),
        ));
    }
    let period = get("period");
    let period_end = match get("period_end").as_str() {
        "" => match NaiveDate::parse_from_str(&period, "%Y-%m-%d")
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
                    .ok()
                    .and_then(month_end)
            }) {
            Some(d) => Some(d),
            None => {
                errs.push((
                    "period".into(),
                    format!("{period:?} gives no end date; write it as YYYY-MM or YYYY-MM-DD, or add a period_end column"),
                ));
                None
            }
        },
        v => date("period_end", v, &mut errs),
    };
    let value = measure(&get("value"), &mut errs);
    let rag = rag(&get("rag"), &mut errs);
    let note = Some(get("note")).filter(|n| !n.is_empty());
    let effective = match get("effective").as_str() {
        "" => period_end,
        v => date("effective", v, &mut errs),
    };
    match (period_end, value, rag, effective) {
        (Some(period_end), Some(value), Some(rag), Some(effective)) if errs.is_empty() => {
            Ok(NewEvent {
                stream: id_of(&metric),
                event: Event::MetricReadingRecorded {
                    period,
                    period_end,
                    value,
                    rag,
                    target: None,
                    note,
                },
                effective,
                reason: None,
                expected_version: None,
            })
        }
        _ => Err(errs),
    }
}

fn rag_row(get: &dyn Fn(&str) -> String) -> Result<NewEvent, RowErrors> {
    let mut errs = Vec::new();
    let item = get("item");
    if item.is_empty() {
        errs.push(("item".into(), "is required: the item's id or name".into()));
    }
    let dimension = match get("dimension").to_ascii_lowercase().as_str() {
        "overall" | "" => Some(Dimension::Overall),
        "delivery" | "action" => Some(Dimension::Delivery),
        "savings" => Some(Dimension::Savings),
        "budget" => Some(Dimension::Budget),
        other => {
            errs.push((
                "dimension".into(),
                format!(
                    "{other:?} is not a dimension; expected overall, delivery, savings or budget"
                ),
            ));
            None
        }
    };
    let rag = match rag(&get("rag"), &mut errs) {
        Some(None) => {
            errs.push(("rag".into(), "is required".into()));
            None
        }
        other => other.flatten(),
    };
    let effective = date("effective", &get("effective"), &mut errs);
    let reason = get("reason");
    if reason.is_empty() {
        errs.push((
            "reason".into(),
            "is required: say why the status changed".into(),
        ));
    }
    match (dimension, rag, effective) {
        (Some(dimension), Some(rag), Some(effective)) if errs.is_empty() => Ok(NewEvent {
            stream: id_of(&item),
            event: Event::RagChanged { dimension, rag },
            effective,
            reason: Some(reason),
            expected_version: None,
        }),
        _ => Err(errs),
    }
}

/// The idempotency key of a file: importing the same bytes again changes nothing.
pub fn key_of(bytes: &[u8]) -> String {
    format!(
        "import:{}",
        ragtrail_events::envelope::sha256(&[bytes]).to_hex()
    )
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// New events at these positions.
    Appended { first: u64, last: u64 },
    /// The file was imported before: nothing changed.
    AlreadyThere { first: u64, last: u64 },
    /// An export restored, ending at this position.
    Restored { count: u64, head: String },
}

impl fmt::Display for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loaded::Appended { first, last } => write!(
                f,
                "imported {} events at positions {first}..{last}",
                last - first + 1
            ),
            Loaded::AlreadyThere { first, last } => write!(
                f,
                "already imported (positions {first}..{last}): nothing changed"
            ),
            Loaded::Restored { count, head } => {
                write!(f, "restored {count} events exactly; head {head}")
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{} bad line(s); nothing was imported:\n{}", .0.len(), .0.iter().map(|b| format!("  {b}")).collect::<Vec<_>>().join("\n"))]
    Bad(Vec<BadLine>),
    #[error("the store refused the import, so nothing was imported: {0}")]
    Append(#[from] ragtrail_events::AppendError),
    #[error("an export can only be restored into an empty store, and this one holds {0} events; use a new --data directory")]
    NotEmpty(u64),
}

/// Checks a whole file, then writes it as one atomic append (or restores an export).
pub async fn load(
    store: &ragtrail_events::Store,
    name: &str,
    bytes: &[u8],
    actor: &str,
) -> Result<Loaded, LoadError> {
    let (contents, key) = read_from(name, bytes, actor).map_err(LoadError::Bad)?;
    write(store, contents, key, actor).await
}

/// Writes checked contents: one atomic append keyed by `key`, or a restore.
pub async fn write(
    store: &ragtrail_events::Store,
    contents: Contents,
    key: String,
    actor: &str,
) -> Result<Loaded, LoadError> {
    match contents {
        Contents::Events(events) => {
            let before = store.head().position;
            let receipts = store
                .append(ragtrail_events::Append {
                    actor: actor.to_string(),
                    idempotency_key: Some(key),
                    events,
                })
                .await?;
            let first = receipts.first().map_or(0, |r| r.position);
            let last = receipts.last().map_or(0, |r| r.position);
            Ok(if last <= before {
                Loaded::AlreadyThere { first, last }
            } else {
                Loaded::Appended { first, last }
            })
        }
        Contents::Export(envelopes) => {
            let held = store.head().position;
            if held != 0 {
                return Err(LoadError::NotEmpty(held));
            }
            let count = envelopes.len() as u64;
            let head = store.restore(envelopes).await?;
            Ok(Loaded::Restored {
                count,
                head: head.hash.to_hex(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_file_has_the_key_of_its_bytes() {
        let text = "# a comment\n{\"stream\": \"p\", \"type\": \"ProgrammeRegistered\", \"data\": {\"name\": \"P\", \"authority\": \"A\"}, \"effective\": \"2024-09-01\"}\n\n# trailing\n";
        let (contents, key) = read_from("x.jsonl", text.as_bytes(), "lead").unwrap();
        assert_eq!(contents.len(), 1);
        assert_eq!(key, key_of(text.as_bytes()));
        let bad = read_from("x.jsonl", &b"{\"a\": 1}\n\xff\xfe\n"[..], "lead").unwrap_err();
        assert!(
            bad.iter()
                .any(|b| b.line == 2 && b.message.contains("UTF-8")),
            "{bad:?}"
        );
    }
}
