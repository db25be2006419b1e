//! Errors of the event store, each saying what happened and what to do.

use crate::validate::Invalid;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Why an append was not made. Whatever the error, nothing of the append was acknowledged,
/// and for every variant but [`AppendError::Storage`] nothing was written at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("event {index}: {invalid}")]
    Invalid { index: usize, invalid: Invalid },
    #[error("version conflict on stream {stream}: expected version {expected}, but it is at version {actual}; re-read the stream and retry")]
    Conflict {
        stream: Uuid,
        expected: u64,
        actual: u64,
    },
    #[error("idempotency key {key:?} was already used for a different request; use a new key for a new request")]
    KeyReused { key: String },
    #[error("nothing to append: give at least one event")]
    Empty,
    #[error("the store could not write ({0}); nothing was acknowledged, so retry with the same idempotency key")]
    Storage(String),
    #[error("the store is shutting down; nothing was written")]
    Closed,
    #[error("the store stopped accepting writes after a write error ({0}); nothing was written. Free disk space (or fix the disk), then restart ragtrail: every acknowledged event is safe")]
    Unwritable(String),
}

/// Why the store could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {} is in use by another ragtrail process (sled locks it); stop that process, or manage it through its HTTP API", path.display())]
    Locked { path: PathBuf },
    #[error("cannot open the event store in {}: sled says: {source}. If its files were damaged, restore the directory from a backup or import an export into a new one", path.display())]
    Open { path: PathBuf, source: sled::Error },
    #[error("cannot read the event store: {0}")]
    Read(#[from] sled::Error),
    #[error("stored event at position {position} is unreadable: {detail}; run `ragtrail verify` to check the log")]
    Corrupt { position: u64, detail: String },
    #[error("the event log {} cannot be used: {detail}", path.display())]
    Log { path: PathBuf, detail: String },
    #[error("the data directory {} is damaged: {detail}. ragtrail will not open it rather than serve fewer events than it acknowledged; run `ragtrail verify --data {}` to see where, then restore the directory from a backup or import an export into a new one", path.display(), path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("cannot start the store's writer thread: {0}")]
    Thread(std::io::Error),
}

/// What was found wrong with a data directory that opened: the position
/// `verify` names and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub position: u64,
    pub problem: String,
}

/// Turns an I/O error on `path` into a [`StoreError::Log`] that says what was being done.
pub(crate) fn io_error(path: &Path, what: &str) -> impl Fn(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |e| StoreError::Log {
        path: path.clone(),
        detail: format!("{what}: {e}"),
    }
}
