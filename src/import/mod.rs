//! `ragtrail import`: files of events into the store, checked whole first.
//!
//! Formats, by extension, one file each:
//! - [`jsonl`]: events as the API takes them (readable names allowed where
//!   ids go, see [`names`]), or an export to restore exactly.
//! - [`csv`]: metric readings, or RAG updates, a row each.
//!
//! Every line is checked before anything is written; a file with any bad line
//! writes nothing and every bad line is reported ([`BadLine`]) with its line
//! number, field or column and what was expected. The whole file is one
//! atomic append whose idempotency key is derived from the file's bytes, so
//! importing it again changes nothing. Reading streams the file past (only
//! the parsed events are kept); a progress bar, if any, is the caller's, over
//! the reader it hands in.

mod checked;
pub mod csv;
pub mod jsonl;
pub mod names;
pub mod source;
pub mod tracker;

pub use checked::{BadLine, Contents};
pub use names::{id_of, NAMESPACE};

use ragtrail_events::validate;
use std::fmt;

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

/// Reads and checks a file as it streams past, by the format its name
/// says, and works out its idempotency key (see [`key_of`]) on the way.
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
    let checked = if lower.ends_with(".csv") {
        csv::read(&mut hashing)?
    } else if lower.ends_with(".jsonl") || lower.ends_with(".json") || lower.ends_with(".ndjson") {
        jsonl::read(std::io::BufReader::with_capacity(1 << 16, &mut hashing))?
    } else {
        return Err(vec![BadLine::new(
            0,
            "file",
            format!("{name} is neither .jsonl nor .csv; name the file for its format"),
        )]);
    };
    if let Contents::Events(events) = &checked.contents {
        // The store checks these too, but only reports the first; report them all.
        let bad: Vec<BadLine> = events
            .iter()
            .zip(checked.lines)
            .filter_map(|(e, line)| {
                validate::envelope(&e.event, e.effective, e.reason.as_deref(), actor)
                    .err()
                    .map(|error| BadLine { line, error })
            })
            .collect();
        if !bad.is_empty() {
            return Err(bad);
        }
    }
    if checked.contents.is_empty() {
        return Err(vec![BadLine::new(0, "file", "holds no events")]);
    }
    // Whatever the parser left unread counts towards the key too.
    let _ = std::io::copy(&mut hashing, &mut std::io::sink());
    let key = format!("import:{}", hex::encode(hashing.hash.finalize()));
    Ok((checked.contents, key))
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
                .any(|b| b.line == 2 && b.error.message.contains("UTF-8")),
            "{bad:?}"
        );
    }
}
