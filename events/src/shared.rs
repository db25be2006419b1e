//! What the store's handles and its writer share: sled, the in-memory index,
//! the durable head, the live feed, and how the store was opened. Reads go
//! straight to sled and never wait for the writer.

use crate::append::Head;
use crate::envelope::{self, Envelope};
use crate::error::StoreError;
use crate::index::{Index, Place};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// What [`Store::on_durable`](crate::Store::on_durable) calls with each durable batch of events.
pub type OnDurable = Arc<dyn Fn(&[Envelope]) + Send + Sync>;

/// How the store is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// Make each group durable (flush, then `fdatasync` of sled's files) before
    /// acknowledging it (default). Turning it off is for measuring its cost
    /// only: acknowledged appends may then be lost on power loss.
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
    /// sled's page cache, in bytes.
    pub cache_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync_files: true,
            live_capacity: 4096,
            max_group: 1024,
            reserve_bytes: 8 * 1024 * 1024,
            cache_bytes: 16 * 1024 * 1024,
        }
    }
}

/// sled and its events tree. An erasure rewrites the data directory and
/// swaps a new sled in (see [`rewrite`](crate::rewrite)), so handles to
/// either are taken afresh for each use, never kept.
pub(crate) struct Sled {
    pub(crate) db: sled::Db,
    /// The events: one value per group commit, keyed by its first position (u64 BE).
    pub(crate) events: sled::Tree,
}

pub(crate) struct Shared {
    pub(crate) sled: RwLock<Sled>,
    /// Held (shared) by writes to the service's own trees, and (alone) by an
    /// erasure while it copies them into the rewritten store.
    pub(crate) trees: RwLock<()>,
    pub(crate) index: RwLock<Index>,
    pub(crate) head: RwLock<Head>,
    pub(crate) live: broadcast::Sender<Arc<Envelope>>,
    /// Told of every durable write on the writer's thread, before any append returns.
    pub(crate) on_durable: RwLock<Option<OnDurable>>,
    pub(crate) dir: PathBuf,
    /// Group commits made since the store was opened.
    pub(crate) commits: AtomicU64,
    /// False once a write failed in a way that stops all further appends.
    pub(crate) writable: AtomicBool,
    /// What was found wrong with the data directory when it was opened: the
    /// store then serves what it holds, refuses appends, and reports this.
    pub(crate) damage: Option<crate::error::Damage>,
}

pub(crate) fn read_lock<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn write_lock<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The most events one chunk of a sequential read takes.
const CHUNK_EVENTS: usize = 4096;

impl Shared {
    /// sled's events tree, as it is now.
    pub(crate) fn events(&self) -> sled::Tree {
        read_lock(&self.sled).events.clone()
    }

    /// sled, as it is now.
    pub(crate) fn db(&self) -> sled::Db {
        read_lock(&self.sled).db.clone()
    }

    pub(crate) fn head(&self) -> Head {
        *read_lock(&self.head)
    }

    pub(crate) fn set_head(&self, h: Head) {
        *write_lock(&self.head) = h;
    }

    pub(crate) fn writable(&self) -> bool {
        self.writable.load(Ordering::Relaxed)
    }

    pub(crate) fn count_commit(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    fn place(&self, position: u64) -> Option<Place> {
        let i = usize::try_from(position.checked_sub(1)?).ok()?;
        read_lock(&self.index).place(i)
    }

    /// The sled value under `key`.
    fn value(&self, key: u64, position: u64) -> Result<sled::IVec, StoreError> {
        read_lock(&self.sled)
            .events
            .get(key.to_be_bytes())?
            .ok_or_else(|| StoreError::Corrupt {
                position,
                detail: format!("the group value {key} that holds it is gone from sled"),
            })
    }

    /// The stored bytes of the event at `position` (indexed, not necessarily acknowledged).
    pub(crate) fn bytes_at(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(place) = self.place(position) else {
            return Ok(None);
        };
        let value = self.value(place.key, position)?;
        Ok(Some(slice(&value, place, position)?.to_vec()))
    }

    pub(crate) fn event_at(&self, position: u64) -> Result<Option<Envelope>, StoreError> {
        self.bytes_at(position)?
            .map(|v| decoded(position, &v))
            .transpose()
    }

    /// Events `from..=to`, up to [`CHUNK_EVENTS`] of them, reading each sled value once.
    pub(crate) fn chunk(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<Result<Envelope, StoreError>>, StoreError> {
        let places: Vec<Place> = {
            let index = read_lock(&self.index);
            let lo = (from - 1) as usize;
            let hi = (to as usize).min(lo + CHUNK_EVENTS);
            index.places(lo, hi)
        };
        let mut out = Vec::with_capacity(places.len());
        let mut current: Option<(u64, sled::IVec)> = None;
        for (place, position) in places.into_iter().zip(from..) {
            let value = match &current {
                Some((k, v)) if *k == place.key => v.clone(),
                _ => {
                    let v = self.value(place.key, position)?;
                    current = Some((place.key, v.clone()));
                    v
                }
            };
            out.push(slice(&value, place, position).and_then(|b| decoded(position, b)));
        }
        Ok(out)
    }
}

fn slice(value: &[u8], place: Place, position: u64) -> Result<&[u8], StoreError> {
    crate::group::value_at(value, place.offset as usize).ok_or_else(|| StoreError::Corrupt {
        position,
        detail: format!(
            "the group value {} is shorter than when it was indexed",
            place.key
        ),
    })
}

/// Decodes the stored bytes of the event at `position`.
pub(crate) fn decoded(position: u64, bytes: &[u8]) -> Result<Envelope, StoreError> {
    envelope::decode(bytes).map_err(|e| StoreError::Corrupt {
        position,
        detail: e.to_string(),
    })
}
