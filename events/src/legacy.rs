//! Moving in what an earlier ragtrail left in a data directory:
//!
//! - `events.log`, the release that kept events in a file of its own: its
//!   frames (the same bytes as a [`group`](crate::group) value) are copied
//!   into sled's events tree;
//! - events kept in sled's default tree by the release before that (`e` +
//!   position → event, `s` + stream + version, `k` + key → receipt).
//!
//! Same positions, ids, bytes and hashes. The copy is made durable and the
//! head record written before the old records are removed, and the keys of
//! the copy are fixed by the positions, so a crash at any moment leaves the
//! old records in place and the next open simply copies again.

use crate::append::Head;
use crate::error::StoreError;
use crate::group::{self, Record};
use crate::head::HeadFile;
use crate::keys;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The event log file of the release before sled held the events again.
pub const LOG_FILE: &str = "events.log";

/// Reads the frames of an old log file, handing each frame's records to
/// `each`, and stops at the end of the last whole frame. A frame that cannot
/// be read followed by a whole one is damage: an error, never a silent cut.
fn scan_log(path: &Path, mut each: impl FnMut(Vec<Record>)) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    let mut at = 0usize;
    while at < bytes.len() {
        let len = group::u32_at(&bytes, at + 4).unwrap_or(usize::MAX);
        let end = (at + group::HEAD).saturating_add(len);
        let frame = bytes.get(at..end.min(bytes.len())).unwrap_or_default();
        match group::read(frame) {
            Ok(read) if end <= bytes.len() => {
                if !read.checksum_ok {
                    return Err(format!("the frame at byte {at} fails its checksum"));
                }
                each(
                    read.records
                        .iter()
                        .map(|(k, v, _)| (k.to_vec(), v.to_vec()))
                        .collect(),
                );
                at = end;
            }
            _ => break,
        }
    }
    let rest = &bytes[at..];
    // Zeros were space written ahead; a torn last frame was never acknowledged.
    let more = (1..rest.len().saturating_sub(3)).any(|p| {
        rest[p..].starts_with(group::MAGIC) && {
            let len = group::u32_at(rest, p + 4).unwrap_or(usize::MAX);
            rest.get(p..(p + group::HEAD).saturating_add(len))
                .is_some_and(|f| group::read(f).is_ok_and(|r| r.checksum_ok))
        }
    });
    if more {
        return Err(format!(
            "the frame at byte {at} cannot be read but acknowledged frames follow it"
        ));
    }
    Ok(())
}

/// Copies records into the events tree, cut into values as the writer cuts
/// them, durably; returns the head of what was copied.
fn copy_in(
    dir: &Path,
    db: &sled::Db,
    events: &sled::Tree,
    groups: Vec<Vec<Record>>,
    cap: usize,
) -> Result<Head, StoreError> {
    let mut batch = sled::Batch::default();
    let mut values = 0u64;
    let mut last_key = 0u64;
    let mut head = Head::EMPTY;
    for records in &groups {
        for range in group::split(records, cap) {
            let part = &records[range];
            let key = group::first_position(part)
                .unwrap_or(last_key + 1)
                .max(last_key + 1);
            last_key = key;
            batch.insert(&key.to_be_bytes(), group::encode(part).0);
            values += 1;
            // Applied a few thousand values at a time: the copy need not be
            // atomic (a crash leaves the old records, and the next open copies again).
            if values.is_multiple_of(4096) {
                events.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        if let Some((k, v)) = records.iter().rev().find(|(k, _)| k[0] == keys::EVENT) {
            if let (Some(position), Ok(at)) = (keys::position_of(k), crate::envelope::locate(v)) {
                head = Head {
                    position,
                    hash: at.hash,
                };
            }
        }
    }
    events.apply_batch(batch)?;
    let mut disk = crate::disk::Disk::open(dir, true)?;
    disk.make_durable(db)
        .map_err(|source| StoreError::Durable {
            path: dir.join("db"),
            source,
        })?;
    let path = dir.join(crate::head::FILE);
    let fail = |detail: String| StoreError::Log {
        path: path.clone(),
        detail,
    };
    HeadFile::open(dir)
        .map_err(|e| fail(e.to_string()))?
        .write(head)
        .map_err(fail)?;
    Ok(head)
}

/// Moves anything an earlier ragtrail left in `dir` into the events tree.
pub(crate) fn move_in(
    dir: &Path,
    db: &sled::Db,
    events: &sled::Tree,
    cap: usize,
) -> Result<(), StoreError> {
    let log = dir.join(LOG_FILE);
    if log.exists() {
        let fail = |detail: String| {
            StoreError::Log {
            path: log.clone(),
            detail: format!("moving the events of an earlier ragtrail into sled: {detail}; nothing was changed, so restore the directory from a backup or an export"),
        }
        };
        let mut groups = Vec::new();
        scan_log(&log, |records| groups.push(records)).map_err(fail)?;
        let head = copy_in(dir, db, events, groups, cap)?;
        std::fs::remove_file(&log).map_err(|e| fail(e.to_string()))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| fail(e.to_string()))?;
        eprintln!(
            "ragtrail: moved {} events from {} into sled (head {}); the log file is removed",
            head.position,
            log.display(),
            head.hash
        );
    }
    let old = |prefix: u8| db.scan_prefix([prefix]).next().is_some();
    if old(keys::EVENT) || old(keys::KEY) || old(keys::STREAM) {
        let mut records: Vec<Record> = Vec::new();
        for prefix in [keys::EVENT, keys::KEY] {
            for kv in db.scan_prefix([prefix]) {
                let (k, v) = kv?;
                records.push((k.to_vec(), v.to_vec()));
            }
        }
        let head = copy_in(dir, db, events, vec![records], cap)?;
        let mut batch = sled::Batch::default();
        for prefix in [keys::EVENT, keys::STREAM, keys::KEY] {
            for kv in db.scan_prefix([prefix]) {
                batch.remove(kv?.0);
            }
        }
        db.apply_batch(batch)?;
        db.flush()?;
        eprintln!(
            "ragtrail: moved {} events from sled's default tree into its events tree (head {})",
            head.position, head.hash
        );
    }
    Ok(())
}

/// Writes records as the event log file of the release before, one frame per
/// group: for tests of moving in.
pub fn write_log(dir: &Path, groups: &[Vec<(Vec<u8>, Vec<u8>)>]) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    for g in groups {
        bytes.extend(group::encode(g).0);
    }
    std::fs::write(dir.join(LOG_FILE), bytes)
}
