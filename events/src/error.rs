//! Errors of the event store, each saying what happened and what to do.

use crate::validate::FieldError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

/// Why an append was not made. Whatever the error, nothing of the append was acknowledged,
/// and for every variant but [`AppendError::Storage`] nothing was written at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("event {index}: {invalid}")]
    Invalid { index: usize, invalid: FieldError },
    /// A correction names an event its stream does not hold.
    #[error("event {index}: {invalid}")]
    NoSuchTarget { index: usize, invalid: FieldError },
    /// A correction contradicts what the stream holds (it corrects a
    /// correction, or replaces an event with one of another type).
    #[error("event {index}: {invalid}")]
    Contradicts { index: usize, invalid: FieldError },
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
    Storage(WriteFailure),
    #[error("the store is shutting down; nothing was written")]
    Closed,
    #[error("the store stopped accepting writes after a write error ({0}); nothing was written. Free disk space (or fix the disk), then restart ragtrail: every acknowledged event is safe")]
    Unwritable(WriteFailure),
}

/// What went wrong when the store wrote or read back a group.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteFailure {
    #[error("sled could not take the group: {0}")]
    Take(sled::Error),
    #[error("sled could not write: {0}")]
    Flush(sled::Error),
    /// `fdatasync` of one of sled's files (or of its blob directory) failed.
    #[error("cannot sync {}: {source}", path.display())]
    Sync {
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    #[error("cannot tell how much disk space is free: {source}")]
    Space { source: Arc<std::io::Error> },
    #[error("the data disk is nearly full: {:.1} MiB free, and ragtrail keeps {:.1} MiB in reserve; free some space and retry", *free as f64 / 1048576.0, *reserve as f64 / 1048576.0)]
    NearlyFull { free: u64, reserve: u64 },
    /// The store opened damaged, so it takes no writes.
    #[error("the store is damaged: {0}")]
    Damaged(String),
    #[error("the idempotency record for {key:?} is damaged")]
    KeyRecord { key: String },
    #[error("event {position} of idempotency key {key:?} is missing")]
    KeyEventMissing { key: String, position: u64 },
    #[error("cannot read back event {position}: {source}")]
    ReadBack {
        position: u64,
        source: Arc<StoreError>,
    },
}

/// Two failures are the same when they say the same (I/O and sled errors
/// carry no equality of their own).
impl PartialEq for WriteFailure {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for WriteFailure {}

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
    #[error("cannot make the event store in {} durable: {source}", path.display())]
    Durable { path: PathBuf, source: WriteFailure },
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
