//! `ragtrail export --data DIR --format jsonl|csv|xlsx [--as-at DATE] -o FILE`

use super::open_existing;
use chrono::{NaiveDate, Utc};
use ragtrail::export;
use ragtrail::table::views::{board_pack, Source};
use ragtrail_projections::{BoardQuery, Trail};
use std::path::Path;
use std::process::ExitCode;

/// Logs of more events than this show a progress bar while they are written.
const PROGRESS_OVER: u64 = 10_000;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// The whole log, one event per line with its hashes (`ragtrail import` restores it exactly).
    Jsonl,
    /// The board as at a date, one row per item (as GET /api/v1/board?format=csv).
    Csv,
    /// The board pack: what the file is, the board, the movement since the
    /// previous board, metrics, the audit log (as GET /api/v1/board?format=xlsx).
    Xlsx,
}

pub async fn run(
    data: &Path,
    format: Format,
    as_at: Option<NaiveDate>,
    out: &Path,
    force: bool,
) -> ExitCode {
    let store = match open_existing(data) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let as_at = as_at.unwrap_or_else(|| Utc::now().date_naive());
    let trail = || -> Result<Trail, ragtrail_events::StoreError> {
        let mut t = Trail::new();
        for e in store.iter_from(0) {
            t.apply_owned(e?);
        }
        Ok(t)
    };
    let result = match format {
        Format::Jsonl => {
            let total = store.head().position;
            let bar = if total > PROGRESS_OVER {
                indicatif::ProgressBar::new(total)
            } else {
                indicatif::ProgressBar::hidden()
            };
            let done = export::jsonl(&store, out, force, |n| bar.set_position(n));
            bar.finish_and_clear();
            done.map(|n| format!("{n} events"))
        }
        Format::Csv | Format::Xlsx => {
            let xlsx = matches!(format, Format::Xlsx);
            let book = trail().and_then(|t| {
                let q = BoardQuery {
                    as_at,
                    known_at: None,
                    programme: None,
                };
                board_pack(&t, &q, Source::of(&store)?, store.iter_from(0))
            });
            book.map_err(export::ExportError::from)
                .and_then(|book| {
                    export::table(&book, xlsx, out, force)?;
                    Ok(book.sheets.first().map_or(0, |s| s.rows.len()))
                })
                .map(|n| match format {
                    Format::Xlsx => format!("the board pack as at {as_at} ({n} items)"),
                    _ => format!("the board as at {as_at}: {n} items"),
                })
        }
    };
    store.close().await;
    match result {
        Ok(what) => {
            println!("wrote {what} to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
