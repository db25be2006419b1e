//! `ragtrail export`: the whole log as JSONL (which `ragtrail import` restores
//! exactly), the board as at a date as CSV, or a board pack as XLSX with sheets
//! for the board, the movement since the previous board, metrics with targets,
//! and the audit log.

use crate::wire::EnvelopeView;
use chrono::NaiveDate;
use ragtrail_events::{Dimension, Store, Value as Measure};
use ragtrail_projections::view::ItemView;
use ragtrail_projections::{BoardQuery, Trail};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use std::io::Write;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] ragtrail_events::StoreError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("{0}")]
    Refused(String),
}

/// Opens `path` to write an export into: a new file, or with `force` an
/// existing one replaced; never through a symbolic link (an export is often
/// written where others can write, and a link could aim it at a file of theirs).
pub fn create(path: &Path, force: bool) -> Result<std::fs::File, ExportError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).custom_flags(libc::O_NOFOLLOW);
    if force {
        o.create(true).truncate(true);
    } else {
        o.create_new(true);
    }
    o.open(path).map_err(|source| {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            ExportError::Refused(format!(
                "{} is a symbolic link; ragtrail does not write an export through one: give the path of a file",
                path.display()
            ))
        } else if source.kind() == std::io::ErrorKind::AlreadyExists {
            ExportError::Refused(format!(
                "{} exists already; give --force to replace it, or another -o FILE",
                path.display()
            ))
        } else {
            write_err(path)(source)
        }
    })
}

/// A CSV cell that a spreadsheet will not run: text starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's rule for
/// CSV injection), so it shows as the text it is. Plain numbers (`-3`) stay numbers.
pub fn csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && text.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Writes every event, in order, one JSON object per line; returns how
/// many. `written` is told the count after each event (for a progress bar).
pub fn jsonl(
    store: &Store,
    out: &Path,
    force: bool,
    mut written: impl FnMut(u64),
) -> Result<u64, ExportError> {
    let file = create(out, force)?;
    let mut w = std::io::BufWriter::new(file);
    let mut n = 0;
    for e in store.iter_from(0) {
        let e = e?;
        let line = serde_json::to_string(&EnvelopeView::from(&e))
            .map_err(|e| write_err(out)(std::io::Error::other(e)))?;
        writeln!(w, "{line}").map_err(write_err(out))?;
        n += 1;
        written(n);
    }
    w.flush().map_err(write_err(out))?;
    w.get_ref().sync_all().map_err(write_err(out))?;
    Ok(n)
}

/// The columns of a board row.
const BOARD_COLUMNS: [&str; 18] = [
    "programme",
    "reference",
    "kind",
    "title",
    "owner",
    "overall",
    "delivery",
    "savings",
    "budget",
    "phase",
    "target_date",
    "first_target_date",
    "slippage_days",
    "progress",
    "next_period",
    "overall_set_by",
    "overall_set_on",
    "overall_reason",
];

fn board_row(programme: &str, i: &ItemView) -> Vec<String> {
    let rag = |d: Dimension| {
        i.rag
            .get(&d)
            .map(|s| s.value.to_string())
            .unwrap_or_default()
    };
    let text = |s: ragtrail_events::Section| {
        i.narratives
            .get(&s)
            .map(|n| n.value.clone())
            .unwrap_or_default()
    };
    let overall = i.rag.get(&Dimension::Overall);
    vec![
        programme.to_string(),
        i.reference.clone(),
        i.kind.to_string(),
        i.title.clone(),
        i.owner.clone().unwrap_or_default(),
        rag(Dimension::Overall),
        rag(Dimension::Delivery),
        rag(Dimension::Savings),
        rag(Dimension::Budget),
        i.phase
            .as_ref()
            .map(|p| p.value.to_string())
            .unwrap_or_default(),
        i.target_date
            .as_ref()
            .map(|d| d.value.to_string())
            .unwrap_or_default(),
        i.first_target_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        i.slippage_days.map(|d| d.to_string()).unwrap_or_default(),
        text(ragtrail_events::Section::Progress),
        text(ragtrail_events::Section::NextPeriod),
        overall.map(|s| s.set.actor.to_string()).unwrap_or_default(),
        overall
            .map(|s| s.set.effective.to_string())
            .unwrap_or_default(),
        overall
            .and_then(|s| s.set.reason.clone())
            .unwrap_or_default(),
    ]
}

fn board_rows(trail: &Trail, as_at: NaiveDate) -> Vec<Vec<String>> {
    let board = ragtrail_projections::board::at(
        trail,
        &BoardQuery {
            as_at,
            known_at: None,
            programme: None,
        },
    );
    board
        .items
        .iter()
        .map(|i| {
            let name = board
                .programmes
                .iter()
                .find(|p| p.id == i.programme)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| i.programme.to_string());
            board_row(&name, i)
        })
        .collect()
}

/// Writes the board as at `as_at` as CSV; returns how many items.
pub fn csv(trail: &Trail, as_at: NaiveDate, out: &Path, force: bool) -> Result<usize, ExportError> {
    let mut w = csv::Writer::from_writer(create(out, force)?);
    w.write_record(BOARD_COLUMNS)?;
    let rows = board_rows(trail, as_at);
    for r in &rows {
        w.write_record(
            r.iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .iter()
                .map(|c| c.as_bytes()),
        )?;
    }
    w.flush().map_err(write_err(out))?;
    Ok(rows.len())
}

fn show(v: Option<Measure>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The latest board date before `as_at` of any programme (for the movement sheet).
fn previous_board(trail: &Trail, as_at: NaiveDate) -> Option<NaiveDate> {
    trail
        .programme_ids()
        .filter_map(|p| ragtrail_projections::board::previous_date(trail, p, as_at, None))
        .max()
}

/// Writes a bold header row.
fn header(sheet: &mut Worksheet, heads: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (c, h) in heads.iter().enumerate() {
        sheet.write_with_format(0, c as u16, *h, bold)?;
    }
    Ok(())
}

/// Writes one row of text cells.
fn row<S: AsRef<str>>(sheet: &mut Worksheet, r: u32, cells: &[S]) -> Result<(), XlsxError> {
    for (c, v) in cells.iter().enumerate() {
        sheet.write(r, c as u16, v.as_ref())?;
    }
    Ok(())
}

/// Writes a board pack for `as_at`: Board, Movement, Metrics and Audit log sheets.
pub fn xlsx(
    store: &Store,
    trail: &Trail,
    as_at: NaiveDate,
    out: &Path,
    force: bool,
) -> Result<(), ExportError> {
    let mut file = create(out, force)?;
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();

    let sheet = book.add_worksheet().set_name("Board")?;
    header(sheet, &BOARD_COLUMNS, &bold)?;
    for (r, cells) in board_rows(trail, as_at).iter().enumerate() {
        row(sheet, r as u32 + 1, cells)?;
    }

    let from = previous_board(trail, as_at).unwrap_or(as_at);
    let sheet = book.add_worksheet().set_name("Movement")?;
    let heads = [
        "reference",
        "title",
        "dimension",
        "from",
        "to",
        "change",
        "exception",
        "target date revised",
        "risks opened",
        "risks closed",
    ];
    header(sheet, &heads, &bold)?;
    sheet.write(0, heads.len() as u16 + 1, format!("from {from} to {as_at}"))?;
    let mut r = 1u32;
    for m in ragtrail_projections::compare::between(trail, from, as_at, None, None).items {
        for (d, mv) in &m.rag {
            let cells = [
                m.reference.clone(),
                m.title.clone(),
                d.to_string(),
                mv.from.map(|x| x.to_string()).unwrap_or_default(),
                mv.to.map(|x| x.to_string()).unwrap_or_default(),
                format!("{:?}", mv.change).to_lowercase(),
                if m.exception {
                    "yes".into()
                } else {
                    String::new()
                },
                m.target_date
                    .as_ref()
                    .map(|t| format!("{} → {}", show_date(t.from), show_date(t.to)))
                    .unwrap_or_default(),
                m.risks_opened.join(", "),
                m.risks_closed.join(", "),
            ];
            row(sheet, r, &cells)?;
            r += 1;
        }
    }

    let sheet = book.add_worksheet().set_name("Metrics")?;
    let heads = [
        "item",
        "metric",
        "unit",
        "better",
        "target",
        "period",
        "value",
        "RAG",
        "how rated",
        "previous period",
        "previous value",
    ];
    header(sheet, &heads, &bold)?;
    let board = ragtrail_projections::board::at(
        trail,
        &BoardQuery {
            as_at,
            known_at: None,
            programme: None,
        },
    );
    let mut r = 1u32;
    for i in &board.items {
        for m in &i.metrics {
            let latest = m.latest.as_ref();
            let rated = latest.map(|l| match &l.rating {
                ragtrail_projections::rating::Rating::Reported => "as reported".to_string(),
                ragtrail_projections::rating::Rating::Rule(rule) => rule.clone(),
                ragtrail_projections::rating::Rating::Unrated => String::new(),
            });
            let cells = [
                i.reference.clone(),
                m.name.clone(),
                m.unit.to_string(),
                m.good_direction.to_string(),
                show(m.target),
                latest.map(|l| l.period.clone()).unwrap_or_default(),
                show(latest.and_then(|l| l.value)),
                latest
                    .and_then(|l| l.rag)
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
                rated.unwrap_or_default(),
                m.previous
                    .as_ref()
                    .map(|p| p.period.clone())
                    .unwrap_or_default(),
                show(m.previous.as_ref().and_then(|p| p.value)),
            ];
            row(sheet, r, &cells)?;
            r += 1;
        }
    }

    let sheet = book.add_worksheet().set_name("Audit log")?;
    let heads = [
        "position",
        "recorded_at",
        "effective",
        "actor",
        "type",
        "stream",
        "reason",
        "hash",
    ];
    header(sheet, &heads, &bold)?;
    for (k, e) in store.iter_from(0).enumerate() {
        let e = e?;
        let r = k as u32 + 1;
        sheet.write(r, 0, e.position as f64)?;
        sheet.write(r, 1, e.recorded_at.to_rfc3339())?;
        sheet.write(r, 2, e.effective.to_string())?;
        sheet.write(r, 3, e.actor.as_str())?;
        sheet.write(r, 4, e.event.type_name())?;
        sheet.write(r, 5, e.stream.to_string())?;
        sheet.write(r, 6, e.reason.clone().unwrap_or_default())?;
        sheet.write(r, 7, e.hash.to_hex())?;
    }
    let bytes = book.save_to_buffer()?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(write_err(out))?;
    Ok(())
}

fn show_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "none".into())
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_quote_and_numbers_stay_numbers() {
        for risky in ["=1+1", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx", "-2+3"] {
            assert_eq!(csv_cell(risky), format!("'{risky}"));
        }
        for plain in ["Amber", "", "-3", "+4.5", "£3,561", "x=1"] {
            assert_eq!(csv_cell(plain), plain);
        }
    }
}
