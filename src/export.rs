//! `ragtrail export`: the whole log as JSONL (which `ragtrail import` restores
//! exactly), or a table file (see [`crate::table`]): the board as at a date as
//! CSV, or the board pack as XLSX, the same bytes as `GET /api/v1/board` with
//! `format=csv` or `format=xlsx` on the same log. Files are written new (or
//! replaced with `--force`), never through a symbolic link, and synced.

use crate::table::sheet::Book;
use crate::wire::EnvelopeView;
use ragtrail_events::Store;
use rust_xlsxwriter::XlsxError;
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

/// Writes a table file: the first table of `book` as CSV, or the whole book as XLSX.
pub fn table(book: &Book, xlsx: bool, out: &Path, force: bool) -> Result<(), ExportError> {
    let bytes = if xlsx {
        crate::table::xlsx::bytes(book)?
    } else {
        let first = book
            .sheets
            .first()
            .ok_or_else(|| ExportError::Refused("there is no table to write".into()))?;
        crate::table::csv::bytes(first)?
    };
    let mut file = create(out, force)?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(write_err(out))
}
