//! The rewrite an erasure makes: a new sled with the redacted values, built
//! beside the old one, then moved into its place, so that no file of the
//! data directory still holds the erased text (sled keeps old versions of a
//! value in its log until it reuses the space, so changing values in place
//! would not do).
//!
//! Crash safety is a roll-forward: the new sled is built in `DATA/erasing/`,
//! made durable, and only then marked `READY` (durably). Until `READY` exists
//! a crash leaves the old store, and the next open removes the half-built
//! one. Once it exists the new store is the store: [`finish`] moves it in,
//! step by step, each step safe to repeat, and the next open finishes what a
//! crash interrupted. So a `kill -9` at any moment leaves the old store or the
//! new one, never a mixture. The head record (`DATA/head`) is not moved: the
//! new store holds every event the old one did, with the same hashes, and
//! one more (the erasure), so the old record still holds for it.

use crate::error::{io_error, StoreError};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

/// Where the new sled is built.
pub const DIR: &str = "erasing";
/// Written (durably) into [`DIR`] once the new sled is whole.
const READY: &str = "READY";

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir, "cannot sync the directory"))
}

fn sync_file(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_error(path, "cannot sync the file"))
}

/// Removes sled's snapshot files (`snap.*`) from `dir`: sled rebuilds its
/// snapshot from its log when one is missing, and an old one must never be
/// read beside a new log.
fn remove_snapshots(dir: &Path) -> Result<(), StoreError> {
    let entries = fs::read_dir(dir).map_err(io_error(dir, "cannot list the directory"))?;
    for entry in entries {
        let entry = entry.map_err(io_error(dir, "cannot list the directory"))?;
        if entry.file_name().to_string_lossy().starts_with("snap.") {
            let path = entry.path();
            fs::remove_file(&path).map_err(io_error(&path, "cannot remove sled's snapshot"))?;
        }
    }
    Ok(())
}

/// Builds the new sled in `DATA/erasing/`: every tree of `old` copied, the
/// events tree's values under `replaced` keys swapped for the given ones and
/// `added` put in too, all made durable, then marked ready.
pub(crate) fn build(
    dir: &Path,
    old: &sled::Db,
    segment: usize,
    replaced: &HashMap<u64, Vec<u8>>,
    added: &[(u64, Vec<u8>)],
) -> Result<(), StoreError> {
    let new = dir.join(DIR);
    if new.exists() {
        fs::remove_dir_all(&new).map_err(io_error(&new, "cannot remove an unfinished rewrite"))?;
    }
    fs::create_dir(&new).map_err(io_error(&new, "cannot create the rewrite's directory"))?;
    {
        let db = sled::Config::new()
            .path(&new)
            .segment_size(segment)
            .cache_capacity(16 * 1024 * 1024)
            .flush_every_ms(None)
            .open()
            .map_err(|source| StoreError::Open {
                path: new.clone(),
                source,
            })?;
        for name in old.tree_names() {
            let from = old.open_tree(&name)?;
            let to = db.open_tree(&name)?;
            let events = name == crate::keys::EVENTS_TREE.as_bytes();
            for kv in from.iter() {
                let (k, v) = kv?;
                let key = crate::keys::key_of(&k);
                match key.and_then(|k| replaced.get(&k)).filter(|_| events) {
                    Some(value) => to.insert(k, value.as_slice())?,
                    None => to.insert(k, v)?,
                };
            }
            if events {
                for (key, value) in added {
                    to.insert(key.to_be_bytes(), value.as_slice())?;
                }
            }
        }
        db.flush()?;
    }
    // sled is closed: make every file it wrote, and their names, durable.
    remove_snapshots(&new)?;
    let blobs = new.join("blobs");
    fs::create_dir_all(&blobs).map_err(io_error(&blobs, "cannot create the blob directory"))?;
    for entry in fs::read_dir(&blobs).map_err(io_error(&blobs, "cannot list the blobs"))? {
        let entry = entry.map_err(io_error(&blobs, "cannot list the blobs"))?;
        sync_file(&entry.path())?;
    }
    sync_dir(&blobs)?;
    for name in ["db", "conf"] {
        sync_file(&new.join(name))?;
    }
    sync_dir(&new)?;
    let ready = new.join(READY);
    let mut f = File::create(&ready).map_err(io_error(&ready, "cannot mark the rewrite ready"))?;
    f.write_all(b"ragtrail: this sled replaces the one in the directory above\n")
        .and_then(|()| f.sync_all())
        .map_err(io_error(&ready, "cannot mark the rewrite ready"))?;
    sync_dir(&new)
}

/// Moves a finished rewrite into place, or removes an unfinished one. Safe to
/// repeat after a crash at any point; called on every open before sled is.
/// Returns whether a rewrite was moved in.
pub(crate) fn finish(dir: &Path) -> Result<bool, StoreError> {
    finish_upto(dir, usize::MAX)
}

/// [`finish`], stopping after its first `steps` steps, as a crash would (for tests).
fn finish_upto(dir: &Path, steps: usize) -> Result<bool, StoreError> {
    let new = dir.join(DIR);
    if !new.exists() {
        return Ok(false);
    }
    if !new.join(READY).exists() {
        fs::remove_dir_all(&new).map_err(io_error(&new, "cannot remove an unfinished rewrite"))?;
        sync_dir(dir)?;
        return Ok(false);
    }
    let move_in = |name: &str| -> Result<(), StoreError> {
        let from = new.join(name);
        if from.exists() {
            let to = dir.join(name);
            if name == "blobs" && to.exists() {
                fs::remove_dir_all(&to).map_err(io_error(&to, "cannot remove the old blobs"))?;
            }
            fs::rename(&from, &to)
                .map_err(io_error(&from, "cannot move the rewritten store in"))?;
        }
        Ok(())
    };
    type Step<'a> = Box<dyn Fn() -> Result<(), StoreError> + 'a>;
    let all: Vec<Step<'_>> = vec![
        Box::new(|| remove_snapshots(dir)),
        Box::new(|| move_in("blobs")),
        Box::new(|| move_in("conf")),
        Box::new(|| move_in("db")),
        Box::new(|| sync_dir(dir)),
        Box::new(|| {
            fs::remove_dir_all(&new)
                .map_err(io_error(&new, "cannot remove the rewrite's directory"))
        }),
        Box::new(|| sync_dir(dir)),
    ];
    for step in all.iter().take(steps) {
        step()?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path) -> sled::Db {
        sled::Config::new()
            .path(dir)
            .segment_size(512 * 1024)
            .flush_every_ms(None)
            .open()
            .unwrap()
    }

    fn contents(db: &sled::Db) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        for name in db.tree_names() {
            for kv in db.open_tree(&name).unwrap().iter() {
                let (k, v) = kv.unwrap();
                out.push(([name.to_vec(), k.to_vec()].concat(), v.to_vec()));
            }
        }
        out
    }

    /// A crash after every step of the move (and before the new store was
    /// ready) leaves a directory that opens as exactly the old store or
    /// exactly the new one, and the next open finishes the move.
    #[test]
    fn a_crash_at_any_step_leaves_the_old_store_or_the_new() {
        for steps in 0..=8 {
            for ready in [false, true] {
                let tmp = tempfile::tempdir().unwrap();
                let dir = tmp.path();
                let (old, new) = {
                    let db = open(dir);
                    let events = db.open_tree(crate::keys::EVENTS_TREE).unwrap();
                    for k in 1..200u64 {
                        events.insert(k.to_be_bytes(), vec![7u8; 300]).unwrap();
                    }
                    db.open_tree("tokens").unwrap().insert("t", "x").unwrap();
                    db.flush().unwrap();
                    let old = contents(&db);
                    let replaced: HashMap<u64, Vec<u8>> = (1..200u64)
                        .step_by(3)
                        .map(|k| (k, vec![9u8; 100]))
                        .collect();
                    build(
                        dir,
                        &db,
                        512 * 1024,
                        &replaced,
                        &[(500, b"erasure".to_vec())],
                    )
                    .unwrap();
                    let mut new = old.clone();
                    for (k, v) in new.iter_mut() {
                        let name = crate::keys::EVENTS_TREE.as_bytes();
                        if k.starts_with(name) {
                            let key = crate::keys::key_of(&k[name.len()..]).unwrap();
                            if let Some(r) = replaced.get(&key) {
                                *v = r.clone();
                            }
                        }
                    }
                    let mut erasure = crate::keys::EVENTS_TREE.as_bytes().to_vec();
                    erasure.extend_from_slice(&500u64.to_be_bytes());
                    new.push((erasure, b"erasure".to_vec()));
                    new.sort();
                    (old, new)
                };
                if !ready {
                    fs::remove_file(dir.join(DIR).join(READY)).unwrap();
                }
                finish_upto(dir, steps).unwrap();
                // The next open finishes (or clears) it.
                finish(dir).unwrap();
                assert!(!dir.join(DIR).exists());
                let mut found = contents(&open(dir));
                found.sort();
                let mut old = old.clone();
                old.sort();
                let want = if ready { &new } else { &old };
                assert_eq!(&found, want, "steps {steps}, ready {ready}");
            }
        }
    }
}
