//! Erasing personal text from stored events, as a lawful request asks: which
//! fields of an event hold the text, and the event with each such field
//! redacted. Pure functions over one [`Event`]; the store's rewrite that puts
//! the redacted payloads on disk (and takes the originals off it) is in
//! [`rewrite`](crate::rewrite).
//!
//! A redacted text keeps a commitment to what it was, so that a board seal
//! made before the erasure still verifies (a seal hashes each text value on
//! its own, see [`text_hash`]): the field becomes
//!
//! ```text
//! [erased sha256:<SHA-256 of the whole original value>] <the value, each match replaced by [erased]>
//! ```
//!
//! Matching ignores ASCII case ("jane smith" matches "Jane Smith"); letters
//! outside ASCII must be given as written (or as another variant).

use crate::envelope::{sha256, Digest32};
use crate::event::Event;
use serde_json::Value;

/// How every redacted text starts (no text written by anything but an erasure may hold it).
pub const MARKER_PREFIX: &str = "[erased sha256:";
/// What stands where each match was.
pub const ERASED: &str = "[erased]";
/// The shortest text an erasure takes: shorter ones would match inside
/// ordinary words, dates and identifiers.
pub const MIN_TEXT: usize = 3;

/// The hash a seal's snapshot holds for a text value: SHA-256 of its UTF-8
/// bytes, or, for a redacted value, the hash its marker carries.
pub fn text_hash(value: &str) -> Digest32 {
    marked_hash(value).unwrap_or_else(|| sha256(&[value.as_bytes()]))
}

/// The original value's hash a redacted text carries, if `value` is one.
pub fn marked_hash(value: &str) -> Option<Digest32> {
    let rest = value.strip_prefix(MARKER_PREFIX)?;
    let hex = rest.get(..64)?;
    let after = &rest[64..];
    if !(after == "]" || after.starts_with("] ")) {
        return None;
    }
    Digest32::from_hex(hex).filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Where `needle` occurs in `hay`, ignoring ASCII case (byte ranges).
fn matches(hay: &str, needle: &str) -> Vec<std::ops::Range<usize>> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    let mut out = Vec::new();
    if n.is_empty() || n.len() > h.len() {
        return out;
    }
    let mut i = 0;
    while i + n.len() <= h.len() {
        if h[i..i + n.len()].eq_ignore_ascii_case(n)
            && hay.is_char_boundary(i)
            && hay.is_char_boundary(i + n.len())
        {
            out.push(i..i + n.len());
            i += n.len();
        } else {
            i += 1;
        }
    }
    out
}

/// Whether `value` holds any of `texts` (outside a marker already there).
pub fn holds(value: &str, texts: &[String]) -> bool {
    let body = body_of(value);
    texts.iter().any(|t| !matches(body, t).is_empty())
}

/// A value as a person reads it: a redacted one without its marker's hash
/// ("Update from [erased]"), any other as it is.
pub fn shown(value: &str) -> &str {
    body_of(value)
}

/// The part of a value an erasure may match in: after its marker, if redacted before.
fn body_of(value: &str) -> &str {
    match marked_hash(value) {
        Some(_) => value[MARKER_PREFIX.len() + 65..].trim_start_matches(' '),
        None => value,
    }
}

/// `value` with every match of `texts` replaced by [`ERASED`], marked with
/// the hash of the value as it first was (a value redacted before keeps its
/// first hash). `None` when nothing matches.
pub fn redact_text(value: &str, texts: &[String]) -> Option<String> {
    if !holds(value, texts) {
        return None;
    }
    let original = text_hash(value);
    let mut body = body_of(value).to_string();
    // Longest variants first, so "Jane Smith" goes before "Jane".
    let mut ordered: Vec<&String> = texts.iter().collect();
    ordered.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for t in ordered {
        let found = matches(&body, t);
        for r in found.into_iter().rev() {
            body.replace_range(r, ERASED);
        }
    }
    Some(format!("{MARKER_PREFIX}{}] {body}", original.to_hex()))
}

/// The fields of `event` (paths into its `data`, as `data.text`) that hold any of `texts`.
pub fn fields_holding(event: &Event, texts: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    walk(&event.data_json(), "data", &mut |path, s| {
        if holds(s, texts) {
            out.push(path.to_string());
        }
        None
    });
    out
}

/// `event` with every text field that holds any of `texts` redacted, and the
/// paths of those fields; `None` when no field holds one. A string that is
/// not free text (a date, an identifier, a RAG word) is left alone: it could
/// not hold a redaction and still be read as the event.
pub fn redact(event: &Event, texts: &[String]) -> Option<(Event, Vec<String>)> {
    let mut data = event.data_json();
    let mut changed = Vec::new();
    for path in fields_holding(event, texts) {
        let mut trial = data.clone();
        let mut done = false;
        walk_mut(&mut trial, "data", &mut |p, s| {
            if p == path {
                if let Some(r) = redact_text(s, texts) {
                    *s = r;
                    done = true;
                }
            }
        });
        if done && Event::from_type_and_data(event.type_name(), trial.clone()).is_ok() {
            data = trial;
            changed.push(path);
        }
    }
    if changed.is_empty() {
        return None;
    }
    let redacted = Event::from_type_and_data(event.type_name(), data).ok()?;
    Some((redacted, changed))
}

fn walk(v: &Value, path: &str, f: &mut dyn FnMut(&str, &str) -> Option<()>) {
    match v {
        Value::String(s) => {
            f(path, s);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), f);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                walk(item, &format!("{path}.{k}"), f);
            }
        }
        _ => {}
    }
}

fn walk_mut(v: &mut Value, path: &str, f: &mut dyn FnMut(&str, &mut String)) {
    match v {
        Value::String(s) => f(path, s),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk_mut(item, &format!("{path}[{i}]"), f);
            }
        }
        Value::Object(m) => {
            for (k, item) in m.iter_mut() {
                walk_mut(item, &format!("{path}.{k}"), f);
            }
        }
        _ => {}
    }
}

/// The salted hash an erasure records for one variant of the erased text.
pub fn salted(salt: &[u8], text: &str) -> Digest32 {
    sha256(&[salt, text.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Section;

    fn texts(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_redacted_value_keeps_the_hash_of_what_it_was() {
        let v = "Update from Jane Smith: jane smith will report";
        let r = redact_text(v, &texts(&["Jane Smith"])).unwrap();
        assert!(
            r.ends_with("] Update from [erased]: [erased] will report"),
            "{r}"
        );
        assert_eq!(text_hash(&r), sha256(&[v.as_bytes()]));
        assert!(!r.to_lowercase().contains("jane"));
        // Erased again (another name), it keeps the first hash.
        let again = redact_text(&r, &texts(&["report"])).unwrap();
        assert_eq!(text_hash(&again), sha256(&[v.as_bytes()]));
        assert!(again.ends_with("will [erased]"), "{again}");
        assert_eq!(redact_text(&r, &texts(&["Jane Smith"])), None);
        // The hex of the marker is not a match for anything.
        assert_eq!(redact_text(&r, &texts(&["sha"])), None);
    }

    #[test]
    fn longer_variants_go_first_and_case_is_ignored() {
        let r = redact_text("JANE SMITH and Jane", &texts(&["Jane", "Jane Smith"])).unwrap();
        assert!(r.ends_with("] [erased] and [erased]"), "{r}");
    }

    #[test]
    fn only_free_text_fields_are_redacted() {
        let e = Event::NarrativeRecorded {
            section: Section::Progress,
            text: "Progress reported by Jane Smith".into(),
        };
        let (r, fields) = redact(&e, &texts(&["Jane Smith"])).unwrap();
        assert_eq!(fields, vec!["data.text".to_string()]);
        let Event::NarrativeRecorded { text, .. } = r else {
            panic!()
        };
        assert!(text.ends_with("Progress reported by [erased]"));
        // A RAG word or a section name cannot be erased: the event would not read.
        assert!(redact(&e, &texts(&["progress"])).is_some_and(|(_, f)| f == ["data.text"]));
        assert_eq!(redact(&e, &texts(&["nobody"])), None);
    }

    #[test]
    fn a_forged_marker_is_not_read_as_one() {
        assert_eq!(marked_hash("[erased sha256:zz]"), None);
        let h = "a".repeat(64);
        assert!(marked_hash(&format!("{MARKER_PREFIX}{h}]")).is_some());
        assert!(marked_hash(&format!("{MARKER_PREFIX}{h}]x")).is_none());
    }
}
