//! The report an import's facts come from: `ragtrail import --source-title T
//! --source-date D [--source-author A]` records it on every programme the
//! file names, with the file's SHA-256, so that the board and item pages say
//! where the facts came from. Imported history is recorded today, so "as
//! known at" an instant of the report's own time shows nothing; the source's
//! date is what an inspector can use instead.

use super::checked::{BadLine, Contents};
use chrono::NaiveDate;
use ragtrail_events::{Event, NewEvent};
use std::collections::BTreeSet;

/// The report a file was taken from.
#[derive(Debug, Clone)]
pub struct Source {
    pub title: String,
    pub date: NaiveDate,
    pub author: Option<String>,
}

/// `contents` with a `SourceRecorded` on each programme it names, and the
/// idempotency key made to cover the source too (the same file with the
/// same source imported again still changes nothing).
pub fn with_source(
    contents: Contents,
    key: String,
    source: &Source,
) -> Result<(Contents, String), BadLine> {
    let Contents::Events(mut events) = contents else {
        return Err(BadLine::new(
            0,
            "--source-title",
            "an export is restored exactly as it was, so it takes no source; leave --source-* out",
        ));
    };
    let mut programmes = BTreeSet::new();
    for e in &events {
        match &e.event {
            Event::ProgrammeRegistered { .. } => {
                programmes.insert(e.stream);
            }
            Event::ItemRegistered { programme, .. }
            | Event::RiskRaised { programme, .. }
            | Event::IssueEscalated { programme, .. } => {
                programmes.insert(*programme);
            }
            _ => {}
        }
    }
    if programmes.is_empty() {
        return Err(BadLine::new(
            0,
            "--source-title",
            "the file registers no programme and no item of one, so there is nothing to record the source on",
        ));
    }
    let sha256 = key.strip_prefix("import:").unwrap_or(&key).to_string();
    for p in programmes {
        events.push(NewEvent {
            stream: p,
            event: Event::SourceRecorded {
                title: source.title.clone(),
                date: source.date,
                author: source.author.clone(),
                sha256: Some(sha256.clone()),
            },
            effective: source.date,
            reason: None,
            expected_version: None,
        });
    }
    // The key names the file and the source given with it.
    let said = format!(
        "{}\u{1f}{}\u{1f}{}",
        source.title,
        source.date,
        source.author.as_deref().unwrap_or("")
    );
    let tag = ragtrail_events::envelope::sha256(&[said.as_bytes()]).to_hex();
    Ok((
        Contents::Events(events),
        format!("{key}:source:{}", &tag[..16]),
    ))
}
