//! The event store: a log file of hash-chained events, appended to by one
//! group-committing writer thread and read by anyone without waiting for it.
//!
//! An append returns only after its events are durable: written to the
//! [`log`](crate::log) with the rest of its group in one frame and synced
//! (`fdatasync`). Where each event is, and each stream's events, are kept in
//! memory and rebuilt from the log when the store opens. sled keeps the
//! service's own small records (tokens) and locks the directory.

use crate::envelope::{self, Digest32, Envelope};
use crate::error::{AppendError, StoreError};
use crate::event::Event;
use crate::keys;
use crate::log::{self, Span};
use crate::validate::{self, Invalid};
use crate::writer::{self, Job, Msg, Prepared};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
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

/// What [`Store::on_durable`] calls with each durable batch of events.
pub type OnDurable = Arc<dyn Fn(&[Envelope]) + Send + Sync>;

/// How the store is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sync the log after each group (default). Turning it off is for
    /// measuring its cost only: acknowledged appends may then be lost on power loss.
    pub sync_files: bool,
    /// How many events a slow live subscriber may fall behind before it lags.
    pub live_capacity: usize,
    /// The most appends one group commit takes from the queue.
    pub max_group: usize,
    /// Free space (bytes) always left on the data disk: an append that would eat
    /// into it is refused before anything is written, so that sled (which stops
    /// writing for good once a write of its own fails for lack of space) can
    /// still record tokens, and writes resume by themselves when space returns.
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

/// Where everything is in the log, rebuilt from it when the store opens.
#[derive(Default)]
pub(crate) struct Index {
    /// Each event's stored bytes: position p at `[p - 1]`.
    pub(crate) events: Vec<Span>,
    /// Each stream's events in version order.
    pub(crate) streams: HashMap<Uuid, Vec<u64>>,
    /// The receipt record of each idempotency key.
    pub(crate) keys: HashMap<Vec<u8>, Vec<u8>>,
    /// Bytes of the log up to the end of the last frame indexed.
    pub(crate) bytes: u64,
}

impl Index {
    /// Indexes one record read from the log. `stream` is the event's stream
    /// when the caller knows it already; otherwise it is read from the header.
    pub(crate) fn add(&mut self, key: &[u8], value: &[u8], span: Span, stream: Option<Uuid>) {
        match key.first() {
            Some(&keys::EVENT) => {
                self.events.push(span);
                let position = self.events.len() as u64;
                // An unreadable header is left for `verify` to name; it is not in any stream.
                if let Some(s) = stream.or_else(|| envelope::locate(value).ok().map(|l| l.stream)) {
                    self.streams.entry(s).or_default().push(position);
                }
            }
            Some(&keys::KEY) => {
                self.keys.insert(key[1..].to_vec(), value.to_vec());
            }
            _ => {}
        }
    }
}

pub(crate) struct Shared {
    /// sled holds the service's own small records (tokens) and locks the directory.
    pub(crate) db: sled::Db,
    /// The log, for reading at positions (`pread`, no shared cursor).
    pub(crate) log: File,
    pub(crate) index: RwLock<Index>,
    pub(crate) head: RwLock<Head>,
    pub(crate) live: broadcast::Sender<Arc<Envelope>>,
    /// Told of every durable write on the writer's thread, before any append returns.
    pub(crate) on_durable: RwLock<Option<OnDurable>>,
    pub(crate) dir: PathBuf,
    /// Group commits made since the store was opened (each one log write + sync).
    pub(crate) commits: std::sync::atomic::AtomicU64,
    /// False once a write failed in a way that stops all further appends.
    pub(crate) writable: std::sync::atomic::AtomicBool,
}

pub(crate) fn read_lock<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn write_lock<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn head(&self) -> Head {
        *read_lock(&self.head)
    }

    pub(crate) fn set_head(&self, h: Head) {
        *write_lock(&self.head) = h;
    }

    fn read_error(&self, e: std::io::Error) -> StoreError {
        StoreError::Log {
            path: self.dir.join(log::FILE),
            detail: format!("cannot read: {e}"),
        }
    }

    /// The stored bytes of the event at `position` (indexed, not necessarily acknowledged).
    pub(crate) fn bytes_at(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let span = match position.checked_sub(1) {
            Some(i) => read_lock(&self.index).events.get(i as usize).copied(),
            None => None,
        };
        let Some(span) = span else { return Ok(None) };
        let mut buf = vec![0u8; span.len as usize];
        self.log
            .read_exact_at(&mut buf, span.offset)
            .map_err(|e| self.read_error(e))?;
        Ok(Some(buf))
    }

    pub(crate) fn event_at(&self, position: u64) -> Result<Option<Envelope>, StoreError> {
        self.bytes_at(position)?
            .map(|v| decoded(position, &v))
            .transpose()
    }

    /// Events `from..=to` read with one `pread` per chunk of up to
    /// [`CHUNK_BYTES`]. Events lie in the file in position order (the index
    /// is built in file order), so a chunk is one contiguous range.
    fn chunk(&self, from: u64, to: u64) -> Result<Vec<Result<Envelope, StoreError>>, StoreError> {
        let spans: Vec<Span> = {
            let index = read_lock(&self.index);
            let lo = (from - 1) as usize;
            let hi = (to as usize).min(index.events.len());
            let Some(first) = index.events.get(lo).map(|s| s.offset) else {
                return Ok(Vec::new());
            };
            index.events[lo..hi]
                .iter()
                .take_while(|s| s.end() - first <= CHUNK_BYTES || s.offset == first)
                .copied()
                .collect()
        };
        let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
            return Ok(Vec::new());
        };
        let base = first.offset;
        let mut buf = vec![0u8; (last.end() - base) as usize];
        self.log
            .read_exact_at(&mut buf, base)
            .map_err(|e| self.read_error(e))?;
        Ok(spans
            .iter()
            .zip(from..)
            .map(|(s, position)| {
                let at = (s.offset - base) as usize;
                decoded(position, &buf[at..at + s.len as usize])
            })
            .collect())
    }
}

/// Decodes the stored bytes of the event at `position`.
fn decoded(position: u64, bytes: &[u8]) -> Result<Envelope, StoreError> {
    envelope::decode(bytes).map_err(|e| StoreError::Corrupt {
        position,
        detail: e.to_string(),
    })
}

/// The most bytes one chunk of a sequential read takes in one `pread`.
const CHUNK_BYTES: u64 = 4 * 1024 * 1024;

/// Events read in order, a chunk at a time.
struct Reading<'a> {
    shared: &'a Shared,
    next: u64,
    head: u64,
    chunk: std::vec::IntoIter<Result<Envelope, StoreError>>,
    failed: bool,
}

impl Iterator for Reading<'_> {
    type Item = Result<Envelope, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.chunk.next() {
            return Some(e);
        }
        if self.failed || self.next > self.head {
            return None;
        }
        match self.shared.chunk(self.next, self.head) {
            Ok(events) if events.is_empty() => None,
            Ok(events) => {
                self.next += events.len() as u64;
                self.chunk = events.into_iter();
                self.chunk.next()
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// A handle to an open store. Cheap to clone; the writer stops when the last handle is dropped.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
    jobs: mpsc::Sender<Msg>,
}

/// Opens sled at `dir` (which locks the directory), translating a held lock
/// into a clear error. sled releases its lock from background threads shortly
/// after the last handle is dropped, so a held lock is retried for up to a
/// second before giving up.
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

/// Opens the directory: sled (and its lock), then the log, moving events an
/// earlier ragtrail kept in sled into the log first (see [`crate::migrate`]).
pub(crate) fn open_dir(dir: &Path) -> Result<(sled::Db, File), StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| StoreError::Log {
        path: dir.to_path_buf(),
        detail: format!("cannot create the data directory: {e}"),
    })?;
    let db = open_db(dir)?;
    crate::migrate::from_sled(dir, &db)?;
    let file = log::open_file(dir)?;
    Ok((db, file))
}

impl Store {
    /// Opens (or creates) the store in `dir` with default options.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(dir, Options::default())
    }

    pub fn open_with(dir: impl AsRef<Path>, options: Options) -> Result<Store, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let (db, mut file) = open_dir(&dir)?;
        let path = dir.join(log::FILE);
        let mut index = Index::default();
        let scanned = log::scan(&mut file, None, |k, v, span| index.add(k, v, span, None))
            .map_err(|e| StoreError::Log {
                path: path.clone(),
                detail: format!("cannot read: {e}"),
            })?;
        if let Some((_, detail)) = scanned.broken {
            return Err(StoreError::Log {
                path,
                detail: format!(
                    "{detail} (after event {}); ragtrail will not drop them. Run `ragtrail verify` to see where, and restore the directory from a backup",
                    index.events.len()
                ),
            });
        }
        index.bytes = scanned.good;
        let reader = File::open(&path).map_err(|e| StoreError::Log {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        // Cuts off a torn last frame: it was never acknowledged.
        let appender = log::Appender::new(file, path, &scanned, options.sync_files)?;
        let (live, _) = broadcast::channel(options.live_capacity.max(1));
        let shared = Arc::new(Shared {
            db,
            log: reader,
            index: RwLock::new(index),
            head: RwLock::new(Head::EMPTY),
            live,
            on_durable: RwLock::new(None),
            dir,
            commits: std::sync::atomic::AtomicU64::new(0),
            writable: std::sync::atomic::AtomicBool::new(true),
        });
        let state = writer::State::load(&shared)?;
        shared.set_head(state.head);
        let jobs = writer::spawn(shared.clone(), state, appender, &options)?;
        Ok(Store { shared, jobs })
    }

    /// Has `hook` told of every later durable write, in log order, on the
    /// writer's own thread: after the events are durable and readable, and
    /// before any of their appends returns. A projection kept up to date this
    /// way shows an append as soon as its writer hears back, with no task to
    /// wake in between. The hook must be quick and must not append (the writer
    /// waits for it); a panic in it is caught and reported, and the writer goes
    /// on. Replaces any earlier hook; closing the store drops it. The hook
    /// must not hold a handle of this store: the writer would then never see
    /// every handle gone (only [`Store::close`] would stop it).
    pub fn on_durable(&self, hook: OnDurable) {
        *write_lock(&self.shared.on_durable) = Some(hook);
    }

    /// A separate sled tree, for the service's own small records (access
    /// tokens). Never holds events; the chain does not cover it.
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

    /// How many group commits (one log frame and one sync each) this
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

    /// Every durable event after position `after`, in order, read lazily a chunk at a time.
    pub fn iter_from(&self, after: u64) -> impl Iterator<Item = Result<Envelope, StoreError>> + '_ {
        Reading {
            shared: &self.shared,
            next: after.saturating_add(1),
            head: self.head().position,
            chunk: Vec::new().into_iter(),
            failed: false,
        }
    }

    /// The event at `position`, if it is durable.
    pub fn get(&self, position: u64) -> Result<Option<Envelope>, StoreError> {
        if position == 0 || position > self.head().position {
            return Ok(None);
        }
        self.shared.event_at(position)
    }

    /// The stored bytes of the event at `position`, exactly as on disk (for export and audit).
    pub fn stored_bytes(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if position == 0 || position > self.head().position {
            return Ok(None);
        }
        self.shared.bytes_at(position)
    }

    /// The positions of a stream's durable events, in version order.
    fn stream_positions(&self, stream: Uuid) -> Vec<u64> {
        let head = self.head().position;
        let index = read_lock(&self.shared.index);
        match index.streams.get(&stream) {
            Some(ps) => ps[..ps.partition_point(|p| *p <= head)].to_vec(),
            None => Vec::new(),
        }
    }

    /// Up to `limit` events of one stream after version `after_version`, in order.
    pub fn read_stream(
        &self,
        stream: Uuid,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Envelope>, StoreError> {
        let positions = self.stream_positions(stream);
        let skip = usize::try_from(after_version).unwrap_or(usize::MAX);
        positions
            .iter()
            .skip(skip)
            .take(limit)
            .map(|&p| {
                self.shared.event_at(p)?.ok_or_else(|| StoreError::Corrupt {
                    position: p,
                    detail: format!("the stream index of {stream} points at a missing event"),
                })
            })
            .collect()
    }

    /// The current (durable) version of a stream; 0 if it has no events.
    pub fn stream_version(&self, stream: Uuid) -> Result<u64, StoreError> {
        Ok(self.stream_positions(stream).len() as u64)
    }

    /// New events as they become durable. Subscribe before reading the
    /// catch-up part, then skip positions already seen, for a gap-free feed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.shared.live.subscribe()
    }

    /// Walks the hash chain up to the current head.
    pub fn verify(&self) -> Result<crate::Verified, crate::VerifyError> {
        let upto = read_lock(&self.shared.index).bytes;
        crate::verify::verify_log(&self.shared.dir, Some(upto))
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
