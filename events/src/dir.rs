//! The data directory: creating it, taking sled's lock, moving in what an
//! earlier ragtrail left, rebuilding the index, and checking sled against the
//! head record, so that the store and `verify` open a directory the same way.
//!
//! Files (all written by the store, nothing else):
//! - `db`, `conf`, `snap.*`, `blobs/`: sled. The `events` tree holds every event.
//! - `head`: the head record (see [`head`](crate::head)).
//!
//! What makes a group durable is in [`disk`](crate::disk).

use crate::append::Head;
use crate::disk::Disk;
use crate::envelope;
use crate::error::{io_error, Damage, StoreError};
use crate::group;
use crate::head::{self, HeadFile, Recorded};
use crate::index::Index;
use crate::shared::Options;
use chrono::{DateTime, Utc};

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub(crate) use crate::keys::{key_of, EVENTS_TREE};
/// sled's segment size for a new store (2 MiB; sled's default is 512 KiB).
/// sled writes a page larger than a quarter of a segment to a file of its own
/// under `blobs/`; group values are cut to [`value_cap`] so that a leaf of
/// them stays under that (see [`Disk`] for blobs all the same).
const SEGMENT: usize = 2 * 1024 * 1024;

/// The most bytes of records one sled value takes (a group larger than this
/// is cut into several values of one atomic batch). Two limits:
/// - a leaf of sled holds up to 17 values before it splits, and a page larger
///   than a quarter of a segment goes to a blob file of its own;
/// - sled's cache is cut into 256 shards, and each keeps at least one page in
///   memory whatever its capacity, so memory grows with the size of a page:
///   measured at 1M events restored in values of 26 KB, sled held 200 MB
///   resident with a 4 MB cache; in values of 8 KB, a fraction of that.
pub(crate) fn value_cap(segment: usize) -> usize {
    (segment / 4 / 20).clamp(1024, 8 * 1024)
}

/// An opened data directory.
pub(crate) struct Opened {
    pub(crate) db: sled::Db,
    pub(crate) events: sled::Tree,
    pub(crate) index: Index,
    /// The last event sled holds.
    pub(crate) head: Head,
    pub(crate) last_recorded: DateTime<Utc>,
    pub(crate) damage: Option<Damage>,
    pub(crate) segment: usize,
}

/// The segment size a store in `dir` was made with (sled refuses any other).
fn segment_of(dir: &Path) -> usize {
    std::fs::read(dir.join("conf"))
        .ok()
        .and_then(|b| {
            let text = String::from_utf8_lossy(&b).into_owned();
            text.lines()
                .find_map(|l| l.strip_prefix("segment_size: ")?.trim().parse().ok())
        })
        .unwrap_or(SEGMENT)
}

/// Opens sled at `dir` (which locks the directory), translating a held lock
/// into a clear error. sled releases its lock from background threads shortly
/// after the last handle is dropped, so a held lock is retried for up to a
/// second before giving up. A panic inside sled on damaged files is caught
/// and reported as an error.
pub(crate) fn open_db(dir: &Path, cache_bytes: u64) -> Result<(sled::Db, usize), StoreError> {
    let segment = segment_of(dir);
    let mut tries = 0;
    loop {
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .segment_size(segment)
            .flush_every_ms(None);
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
        match opened {
            Ok(Ok(db)) => return Ok((db, segment)),
            Ok(Err(sled::Error::Io(io)))
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
            Ok(Err(source)) => {
                return Err(StoreError::Open {
                    path: dir.to_path_buf(),
                    source,
                })
            }
            Err(_) => {
                return Err(StoreError::Damaged {
                    path: dir.to_path_buf(),
                    detail: "sled could not read its files (it panicked opening them)".into(),
                })
            }
        }
    }
}

/// Creates `dir` if need be, readable by its owner only, and makes its name
/// durable: a directory (and each parent it needed) exists after a power cut
/// only once the directory holding it has been synced. Its parent is synced
/// on every open, since whoever made the directory may not have.
fn make_dir(dir: &Path) -> Result<(), StoreError> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d.to_path_buf());
        at = d.parent();
    }
    if missing.is_empty() {
        missing.push(dir.to_path_buf());
    }
    std::fs::create_dir_all(dir).map_err(io_error(dir, "cannot create the data directory"))?;
    private(dir).map_err(io_error(dir, "cannot make the data directory private"))?;
    for d in missing.iter().rev() {
        let parent = d
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        File::open(parent)
            .and_then(|p| p.sync_all())
            .map_err(io_error(parent, "cannot sync the directory"))?;
    }
    Ok(())
}

/// Makes `dir` its owner's alone: the directory and each one in it 0700,
/// each file 0600 (a directory written by an earlier ragtrail may have
/// files that others could read).
fn private(dir: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            private(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Opens sled, moves in what an earlier ragtrail left, and opens the events tree.
pub(crate) fn open_sled(
    dir: &Path,
    options: &Options,
) -> Result<(sled::Db, sled::Tree, usize), StoreError> {
    make_dir(dir)?;
    crate::rewrite::finish(dir)?;
    let (db, segment) = open_db(dir, options.cache_bytes)?;
    let events = db.open_tree(EVENTS_TREE)?;
    crate::legacy::move_in(dir, &db, &events, value_cap(segment))?;
    Ok((db, events, segment))
}

/// Rebuilds the index from every value of the events tree. A value that
/// cannot be read stops the store from opening.
pub(crate) fn read_index(dir: &Path, events: &sled::Tree) -> Result<Index, StoreError> {
    let refuse = |detail: String| StoreError::Damaged {
        path: dir.to_path_buf(),
        detail,
    };
    let mut index = Index::default();
    for kv in events.iter() {
        let (k, v) = kv.map_err(|e| refuse(format!("sled cannot read its events: {e}")))?;
        let Some(key) = key_of(&k) else {
            return Err(refuse(format!(
                "the events tree holds a value under a malformed key {} (after event {})",
                hex::encode(&k),
                index.len()
            )));
        };
        let read = group::read(&v).map_err(|why| {
            refuse(format!(
                "the group of events stored under position {key} cannot be read: {why} (after event {})",
                index.len()
            ))
        })?;
        for record in read.records {
            index.add(key, record, None);
        }
    }
    Ok(index)
}

/// Opens the directory for a store: sled, the index rebuilt from its values,
/// and the head record checked. A value that cannot be read stops the store
/// from opening; a head record that sled does not reach opens it as damaged.
pub(crate) fn open(dir: &Path, options: &Options) -> Result<Opened, StoreError> {
    let (db, events, segment) = open_sled(dir, options)?;
    let index = read_index(dir, &events)?;
    let count = index.len() as u64;
    let mut head = Head::EMPTY;
    let mut last_recorded = DateTime::<Utc>::MIN_UTC;
    let located = |p: u64| -> Option<envelope::Located> {
        let place = index.place(usize::try_from(p.checked_sub(1)?).ok()?)?;
        let v = events.get(place.key.to_be_bytes()).ok()??;
        envelope::locate(group::value_at(&v, place.offset as usize)?).ok()
    };
    if count > 0 {
        let at = located(count).ok_or_else(|| StoreError::Corrupt {
            position: count,
            detail: "the last event's header cannot be read".into(),
        })?;
        head = Head {
            position: count,
            hash: at.hash,
        };
        last_recorded = at.recorded_at;
    }
    let damage = head::check(&head::read(dir), count, |p| located(p).map(|l| l.hash));
    Ok(Opened {
        db,
        events,
        index,
        head,
        last_recorded,
        damage,
        segment,
    })
}

/// Makes what sled holds durable and records its head, for a store that
/// opened without damage (sled may have recovered events that a crash left
/// in the page cache only). Returns the head record for the writer.
pub(crate) fn settle(
    dir: &Path,
    disk: &mut Disk,
    db: &sled::Db,
    head: Head,
) -> Result<HeadFile, StoreError> {
    let path = dir.join(head::FILE);
    disk.make_durable(db)
        .map_err(|source| StoreError::Durable {
            path: dir.join("db"),
            source,
        })?;
    let file = HeadFile::open(dir).map_err(io_error(&path, "cannot open the head record"))?;
    if head::read(dir) != Recorded::At(head) {
        file.write(head)
            .map_err(|detail| StoreError::Log { path, detail })?;
    }
    Ok(file)
}
