//! The event store: sled holds the hash-chained events, one group-committing
//! writer thread appends to it, and anyone reads without waiting for it.
//!
//! An append returns only after its events are durable: written to sled with
//! the rest of its group in one batch, flushed, and synced (see
//! [`dir`](crate::dir) for the exact syscalls), with the head record kept
//! apart (see [`head`](crate::head)). Where each event is, and each stream's
//! events, are kept in memory and rebuilt from sled when the store opens.

use crate::append::{prepare, Append, Head, Receipt};
use crate::envelope::Envelope;
use crate::error::{AppendError, Damage, StoreError};
use crate::shared::{read_lock, write_lock, OnDurable, Options, Shared};
use crate::writer::{self, Job, Msg};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, RwLock};
use tokio::sync::{broadcast, oneshot};
use uuid::Uuid;

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
    /// Where the last verification got to, so that the next checks only what came after.
    verified: Arc<std::sync::Mutex<Option<crate::verify::Walk>>>,
}

impl Store {
    /// Opens (or creates) the store in `dir` with default options.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(dir, Options::default())
    }

    /// Opens the store. A directory whose sled cannot be read is refused; one
    /// whose sled does not reach its head record opens damaged: it serves what
    /// it holds, refuses appends, and reports the damage ([`Store::damage`],
    /// [`Store::verify`]).
    pub fn open_with(dir: impl AsRef<Path>, options: Options) -> Result<Store, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let opened = crate::dir::open(&dir, &options)?;
        let mut disk = crate::disk::Disk::open(&dir, options.sync_files)?;
        let head_file = match &opened.damage {
            None => Some(crate::dir::settle(
                &dir,
                &mut disk,
                &opened.db,
                opened.head,
            )?),
            Some(d) => {
                eprintln!("ragtrail: {}: {}", dir.display(), d.problem);
                None
            }
        };
        let (live, _) = broadcast::channel(options.live_capacity.max(1));
        let writable = opened.damage.is_none();
        let shared = Arc::new(Shared {
            sled: RwLock::new(crate::shared::Sled {
                db: opened.db,
                events: opened.events,
            }),
            trees: RwLock::new(()),
            index: RwLock::new(opened.index),
            head: RwLock::new(opened.head),
            live,
            on_durable: RwLock::new(None),
            dir: dir.clone(),
            commits: AtomicU64::new(0),
            writable: AtomicBool::new(writable),
            damage: opened.damage,
        });
        let thread = |e: std::io::Error| StoreError::Thread(e);
        let keeper = match head_file {
            Some(f) => crate::head::Keeper::start(f).map_err(thread)?,
            None => crate::head::Keeper::idle(),
        };
        let parts = writer::Parts {
            head: opened.head,
            last_recorded: opened.last_recorded,
            disk,
            keeper,
            value_cap: crate::dir::value_cap(opened.segment),
            segment: opened.segment,
        };
        let jobs = writer::spawn(shared.clone(), parts, &options).map_err(thread)?;
        Ok(Store {
            shared,
            jobs,
            verified: Arc::new(std::sync::Mutex::new(None)),
        })
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
        if name.is_empty() || name == "__sled__default" || name == crate::dir::EVENTS_TREE {
            return Err(StoreError::Read(sled::Error::Unsupported(format!(
                "{name:?} is not a usable tree name"
            ))));
        }
        Ok(self.shared.db().open_tree(name)?)
    }

    /// Runs `write` on the tree `name` (see [`Store::tree`]): a write made
    /// this way is never lost to an erasure's rewrite running at the same time.
    pub fn write_tree<T>(
        &self,
        name: &str,
        write: impl FnOnce(&sled::Tree) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _held = read_lock(&self.shared.trees);
        write(&self.tree(name)?)
    }

    /// Flushes and fsyncs every tree (for writes to [`Store::tree`] trees).
    pub fn sync(&self) -> Result<(), StoreError> {
        self.shared.db().flush()?;
        std::fs::File::open(self.shared.dir.join("db"))
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::Read(sled::Error::Io(e)))
    }

    /// Where `request`'s text is, changing nothing (an erasure's dry run):
    /// every field of every event that holds it, erasable or not.
    pub fn find_text(
        &self,
        request: &crate::erase::Request,
    ) -> Result<Vec<crate::erase::Found>, crate::erase::EraseError> {
        request.check().map_err(crate::erase::EraseError::Invalid)?;
        crate::erase::find(self.iter_from(0), &request.variants()).map_err(Into::into)
    }

    /// Erases `request`'s text from every event's payload, records the
    /// erasure as a `TextErased` event, and rewrites the data directory so
    /// that no file of it holds the text (see [`rewrite`](crate::rewrite)).
    /// Appends wait meanwhile. Every hash stays as it was: `verify` checks a
    /// redacted payload against the hash its erasure recorded.
    pub async fn erase(
        &self,
        request: crate::erase::Request,
    ) -> Result<crate::erase::Erased, crate::erase::EraseError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Msg::Erase(request, tx))
            .map_err(|_| crate::erase::EraseError::Closed)?;
        let erased = rx.await.map_err(|_| crate::erase::EraseError::Closed)??;
        // Walk the chain again from the start next time: redactions are checked on the way.
        *self.verified.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(erased)
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

    /// Commits every append queued so far, records the head, then stops the
    /// writer: later appends through any handle fail with
    /// [`AppendError::Closed`]. sled's directory lock is released once every
    /// handle is dropped.
    pub async fn close(&self) {
        let (stopped, done) = oneshot::channel();
        if self.jobs.send(Msg::Stop(stopped)).is_ok() {
            let _ = done.await;
        }
    }

    /// How many group commits this handle's store has made since it was opened.
    pub fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    /// Whether appends can still be made (false after an unrecoverable write
    /// error, until the store is reopened, and for a damaged store).
    pub fn writable(&self) -> bool {
        self.shared.writable()
    }

    /// What was found wrong with the data directory when it was opened.
    pub fn damage(&self) -> Option<&Damage> {
        self.shared.damage.as_ref()
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

    /// Verifies the chain up to the current head, incrementally: the prefix a
    /// verification of this store passed before is not walked again, so a
    /// call costs what was appended since (`Verified::checked` says how many
    /// events it checked). Then checks the head record as it was found when
    /// the store opened. [`Store::verify_full`] walks everything again.
    pub fn verify(&self) -> Result<crate::verify::Verified, crate::verify::VerifyError> {
        self.verify_from(false)
    }

    /// Walks the whole chain from position 1 (and remembers the result, as [`Store::verify`] does).
    pub fn verify_full(&self) -> Result<crate::verify::Verified, crate::verify::VerifyError> {
        self.verify_from(true)
    }

    fn verify_from(
        &self,
        full: bool,
    ) -> Result<crate::verify::Verified, crate::verify::VerifyError> {
        let mut kept = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let head = self.head().position;
        let from = match kept.as_ref() {
            Some(w) if !full && w.expected <= head.saturating_add(1) => w.clone(),
            _ => crate::verify::Walk::start(),
        };
        let start_key = if from.expected == 1 {
            None
        } else {
            let index = read_lock(&self.shared.index);
            let at = usize::try_from(from.expected - 1).unwrap_or(usize::MAX);
            // At the head already: start past the last value (nothing to walk).
            Some(index.place(at).map_or(index.last_key + 1, |p| p.key))
        };
        let walked = crate::verify::walk(&self.shared.events(), from, start_key, Some(head))?;
        let verified = walked.verified();
        *kept = Some(walked);
        drop(kept);
        match &self.shared.damage {
            Some(d) => Err(crate::verify::VerifyError::Bad {
                position: d.position,
                problem: d.problem.clone(),
            }),
            None => Ok(verified),
        }
    }
}
