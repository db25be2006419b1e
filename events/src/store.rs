//! The event store: a sled tree of hash-chained events, appended to by one
//! group-committing writer thread and read by anyone without waiting for it.
//!
//! An append returns only after its events are durable: applied in one sled
//! batch, flushed, and the store's files fsynced (sled's own flush uses
//! `sync_file_range`, which is not enough against power loss, sled#1452).

use crate::envelope::{self, Digest32, Envelope};
use crate::error::{AppendError, StoreError};
use crate::event::Event;
use crate::keys;
use crate::validate::{self, Invalid};
use crate::writer::{self, Job, Msg, Prepared};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, RwLock};
use tokio::sync::{broadcast, oneshot};
use uuid::Uuid;

/// One event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub stream: Uuid,
    pub event: Event,
    pub effective: NaiveDate,
    pub reason: Option<String>,
    /// The version the caller believes the stream is at (0 for a new stream).
    pub expected_version: Option<u64>,
}

/// An atomic append of one or more events by one actor.
#[derive(Debug, Clone, PartialEq)]
pub struct Append {
    pub actor: String,
    /// A retried append with the same key returns the first result.
    pub idempotency_key: Option<String>,
    pub events: Vec<NewEvent>,
}

/// What the store assigned to an appended event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub position: u64,
    pub stream: Uuid,
    pub version: u64,
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hash: Digest32,
}

impl Receipt {
    pub fn of(e: &Envelope) -> Receipt {
        Receipt {
            position: e.position,
            stream: e.stream,
            version: e.version,
            id: e.id,
            hash: e.hash,
        }
    }
}

/// The last durable event: its position and hash (0 and the zero hash when empty).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Head {
    pub position: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hash: Digest32,
}

impl Head {
    pub const EMPTY: Head = Head {
        position: 0,
        hash: Digest32::GENESIS,
    };
}

/// How the store is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// fsync the store's files after each flush (default). Turning it off is for
    /// measuring its cost only: acknowledged appends may then be lost on power loss.
    pub sync_files: bool,
    /// How many events a slow live subscriber may fall behind before it lags.
    pub live_capacity: usize,
    /// The most appends one group commit takes from the queue.
    pub max_group: usize,
    /// Free space (bytes) always left on the data disk: an append that would eat
    /// into it is refused before sled is touched. sled stops writing for good
    /// (until reopened) once a write of its own fails for lack of space, so this
    /// reserve is what lets writes resume by themselves when space returns.
    pub reserve_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync_files: true,
            live_capacity: 4096,
            max_group: 1024,
            reserve_bytes: 8 * 1024 * 1024,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) db: sled::Db,
    pub(crate) head: RwLock<Head>,
    pub(crate) live: broadcast::Sender<Arc<Envelope>>,
    pub(crate) dir: PathBuf,
    /// Group commits made since the store was opened (each one flush + fsync).
    pub(crate) commits: std::sync::atomic::AtomicU64,
    /// False once a write failed in a way that stops all further appends.
    pub(crate) writable: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub(crate) fn head(&self) -> Head {
        match self.head.read() {
            Ok(h) => *h,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    pub(crate) fn set_head(&self, h: Head) {
        match self.head.write() {
            Ok(mut g) => *g = h,
            Err(poisoned) => *poisoned.into_inner() = h,
        }
    }
}

/// A handle to an open store. Cheap to clone; the writer stops when the last handle is dropped.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
    jobs: mpsc::Sender<Msg>,
}

/// Opens sled at `dir`, translating a held lock into a clear error. sled
/// releases its lock from background threads shortly after the last handle is
/// dropped, so a held lock is retried for up to a second before giving up.
pub(crate) fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let mut tries = 0;
    loop {
        match sled::Config::new().path(dir).open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("could not acquire lock") =>
            {
                tries += 1;
                if tries >= 20 {
                    return Err(StoreError::Locked {
                        path: dir.to_path_buf(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(source) => {
                return Err(StoreError::Open {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

impl Store {
    /// Opens (or creates) the store in `dir` with default options.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(dir, Options::default())
    }

    pub fn open_with(dir: impl AsRef<Path>, options: Options) -> Result<Store, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let db = open_db(&dir)?;
        let state = writer::State::load(&db)?;
        let (live, _) = broadcast::channel(options.live_capacity.max(1));
        let shared = Arc::new(Shared {
            db,
            head: RwLock::new(state.head),
            live,
            dir,
            commits: std::sync::atomic::AtomicU64::new(0),
            writable: std::sync::atomic::AtomicBool::new(true),
        });
        let jobs = writer::spawn(shared.clone(), state, &options)?;
        Ok(Store { shared, jobs })
    }

    /// A separate sled tree of the same database, for the service's own small
    /// records (access tokens). Never holds events; the chain does not cover it.
    pub fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        if name.is_empty() || name == "__sled__default" {
            return Err(StoreError::Read(sled::Error::Unsupported(format!(
                "{name:?} is not a usable tree name"
            ))));
        }
        Ok(self.shared.db.open_tree(name)?)
    }

    /// Flushes and fsyncs every tree (for writes to [`Store::tree`] trees).
    pub fn sync(&self) -> Result<(), StoreError> {
        self.shared.db.flush()?;
        std::fs::File::open(self.shared.dir.join("db"))
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::Read(sled::Error::Io(e)))
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Appends events atomically: all are stored, or none. Returns once they are durable.
    pub async fn append(&self, append: Append) -> Result<Vec<Receipt>, AppendError> {
        let prepared = prepare(&append)?;
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Msg::Append(Job {
                append,
                prepared,
                reply,
            }))
            .map_err(|_| AppendError::Closed)?;
        answer.await.unwrap_or(Err(AppendError::Closed))
    }

    /// Commits every append queued so far, then stops the writer: later appends
    /// through any handle fail with [`AppendError::Closed`]. sled's directory lock is
    /// released once every handle is dropped.
    pub async fn close(&self) {
        let (stopped, done) = oneshot::channel();
        if self.jobs.send(Msg::Stop(stopped)).is_ok() {
            let _ = done.await;
        }
    }

    /// How many group commits (one batch, one flush, one fsync each) this
    /// handle's store has made since it was opened.
    pub fn commits(&self) -> u64 {
        self.shared
            .commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether appends can still be made (false after an unrecoverable write error,
    /// until the store is reopened).
    pub fn writable(&self) -> bool {
        self.shared
            .writable
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Writes envelopes exported from another store (or from this one, before a
    /// rebuild) back exactly as they were: same positions, ids, actors, times and
    /// therefore the same hash chain. They must continue this store's log, so a
    /// whole export goes into an empty store. All or nothing; durable on return.
    pub async fn restore(&self, events: Vec<Envelope>) -> Result<Head, AppendError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Msg::Restore(events, reply))
            .map_err(|_| AppendError::Closed)?;
        answer.await.unwrap_or(Err(AppendError::Closed))
    }

    /// The last durable event.
    pub fn head(&self) -> Head {
        self.shared.head()
    }

    /// Up to `limit` events after position `after`, in order.
    pub fn read(&self, after: u64, limit: usize) -> Result<Vec<Envelope>, StoreError> {
        self.iter_from(after).take(limit).collect()
    }

    /// Every durable event after position `after`, in order, read lazily.
    pub fn iter_from(&self, after: u64) -> impl Iterator<Item = Result<Envelope, StoreError>> + '_ {
        let head = self.head().position;
        let start = keys::event(after.saturating_add(1));
        let end = keys::event(head);
        let range = if after >= head {
            None
        } else {
            Some(self.shared.db.range(start..=end))
        };
        range.into_iter().flatten().map(|kv| {
            let (k, v) = kv?;
            let position = keys::position_of(&k).unwrap_or(0);
            envelope::decode(&v).map_err(|e| StoreError::Corrupt {
                position,
                detail: e.to_string(),
            })
        })
    }

    /// The event at `position`, if it is durable.
    pub fn get(&self, position: u64) -> Result<Option<Envelope>, StoreError> {
        if position == 0 || position > self.head().position {
            return Ok(None);
        }
        match self.shared.db.get(keys::event(position))? {
            Some(v) => envelope::decode(&v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    position,
                    detail: e.to_string(),
                }),
            None => Ok(None),
        }
    }

    /// The stored bytes of the event at `position`, exactly as on disk (for export and audit).
    pub fn stored_bytes(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if position == 0 || position > self.head().position {
            return Ok(None);
        }
        Ok(self
            .shared
            .db
            .get(keys::event(position))?
            .map(|v| v.to_vec()))
    }

    /// Up to `limit` events of one stream after version `after_version`, in order.
    pub fn read_stream(
        &self,
        stream: Uuid,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        let head = self.head().position;
        let start = keys::stream(stream, after_version.saturating_add(1));
        let end = keys::stream(stream, u64::MAX);
        let mut out = Vec::new();
        for kv in self.shared.db.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (_, v) = kv?;
            let position = keys::u64_of(&v).unwrap_or(0);
            if position > head {
                break;
            }
            match self.get(position)? {
                Some(e) => out.push(e),
                None => {
                    return Err(StoreError::Corrupt {
                        position,
                        detail: format!("the stream index of {stream} points at a missing event"),
                    })
                }
            }
        }
        Ok(out)
    }

    /// The current (durable) version of a stream; 0 if it has no events.
    pub fn stream_version(&self, stream: Uuid) -> Result<u64, StoreError> {
        let head = self.head().position;
        for kv in self
            .shared
            .db
            .scan_prefix(keys::stream_prefix(stream))
            .rev()
        {
            let (k, v) = kv?;
            if keys::u64_of(&v).unwrap_or(u64::MAX) <= head {
                return Ok(keys::parse_stream(&k).map(|(_, ver)| ver).unwrap_or(0));
            }
        }
        Ok(0)
    }

    /// New events as they become durable. Subscribe before reading the
    /// catch-up part, then skip positions already seen, for a gap-free feed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.shared.live.subscribe()
    }

    /// Walks the hash chain up to the current head.
    pub fn verify(&self) -> Result<crate::Verified, crate::VerifyError> {
        crate::verify::verify_db(&self.shared.db, Some(self.head().position))
    }
}

/// Stateless checks and the payload encoding, done on the caller's task
/// before queueing, so the single writer does as little as possible.
fn prepare(append: &Append) -> Result<Prepared, AppendError> {
    if append.events.is_empty() {
        return Err(AppendError::Empty);
    }
    if let Some(k) = &append.idempotency_key {
        validate::idempotency_key(k)
            .map_err(|invalid| AppendError::Invalid { index: 0, invalid })?;
    }
    let mut payloads = Vec::with_capacity(append.events.len());
    for (index, e) in append.events.iter().enumerate() {
        validate::envelope(&e.event, e.effective, e.reason.as_deref(), &append.actor)
            .map_err(|invalid| AppendError::Invalid { index, invalid })?;
        payloads.push(
            envelope::payload_bytes(&e.event).map_err(|err| AppendError::Invalid {
                index,
                invalid: Invalid::new("data", format!("cannot be encoded: {err}")),
            })?,
        );
    }
    let fingerprint = append
        .idempotency_key
        .as_ref()
        .map(|_| fingerprint(append, &payloads));
    Ok(Prepared {
        payloads,
        fingerprint,
    })
}

/// A digest of everything a request asks for, to tell a retry from a different request.
fn fingerprint(append: &Append, payloads: &[Vec<u8>]) -> Digest32 {
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    part(append.actor.as_bytes());
    for (e, payload) in append.events.iter().zip(payloads) {
        part(e.stream.as_bytes());
        part(&e.effective.num_days_from_ce().to_be_bytes());
        part(e.reason.as_deref().unwrap_or_default().as_bytes());
        match e.expected_version {
            Some(v) => part(&[&[1u8][..], &v.to_be_bytes()].concat()),
            None => part(&[0]),
        }
        part(payload);
    }
    Digest32(h.finalize().into())
}
