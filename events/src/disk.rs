//! What makes a group durable: sled's `flush()` (which writes sled's buffers
//! with `pwrite` and calls `sync_file_range`, which does not survive a power
//! cut), then `fdatasync` of `db` and of every file in `blobs/` not synced
//! before (and `fsync` of `blobs/` when one is new). Only then is anything
//! acknowledged. docs/reliability.md lists the syscalls; tests/durability.rs
//! checks them with strace.

use crate::error::{io_error, StoreError, WriteFailure};
use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// sled's files on disk, for making a group durable.
pub(crate) struct Disk {
    db_file: File,
    dir: PathBuf,
    blobs: PathBuf,
    synced: HashSet<OsString>,
    sync: bool,
}

impl Disk {
    pub(crate) fn open(dir: &Path, sync: bool) -> Result<Disk, StoreError> {
        let path = dir.join("db");
        let db_file = File::open(&path).map_err(io_error(&path, "cannot open sled's file"))?;
        let mut disk = Disk {
            db_file,
            dir: dir.to_path_buf(),
            blobs: dir.join("blobs"),
            synced: HashSet::new(),
            sync,
        };
        if sync {
            // sled's own files and their names, once: a power cut must not take `conf` away.
            let conf = File::open(dir.join("conf")).and_then(|f| f.sync_all());
            let names = File::open(dir).and_then(|d| d.sync_all());
            conf.and(names)
                .map_err(io_error(dir, "cannot sync sled's files"))?;
            disk.sync_blobs()
                .map_err(|source| StoreError::Durable { path, source })?;
        }
        Ok(disk)
    }

    /// sled's `flush()`, then `fdatasync` of every file it wrote.
    pub(crate) fn make_durable(&mut self, db: &sled::Db) -> Result<(), WriteFailure> {
        db.flush().map_err(WriteFailure::Flush)?;
        if !self.sync {
            return Ok(());
        }
        self.db_file.sync_data().map_err(|e| WriteFailure::Sync {
            path: self.dir.join("db"),
            source: Arc::new(e),
        })?;
        self.sync_blobs()
    }

    /// `fdatasync` of each blob file not synced yet, then of the directory that names it.
    fn sync_blobs(&mut self) -> Result<(), WriteFailure> {
        let blobs = self.blobs.clone();
        let fail = |e: std::io::Error| WriteFailure::Sync {
            path: blobs.clone(),
            source: Arc::new(e),
        };
        let entries = match std::fs::read_dir(&self.blobs) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(fail(e)),
        };
        let mut new = false;
        for entry in entries {
            let entry = entry.map_err(&fail)?;
            let name = entry.file_name();
            if self.synced.contains(&name) {
                continue;
            }
            match File::open(entry.path()) {
                Ok(f) => f.sync_data().map_err(&fail)?,
                // sled removed it since: nothing to sync.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(fail(e)),
            }
            self.synced.insert(name);
            new = true;
        }
        if new {
            File::open(&self.blobs)
                .and_then(|d| d.sync_all())
                .map_err(&fail)?;
        }
        Ok(())
    }
}
