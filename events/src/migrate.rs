//! Moving a data directory written by an earlier ragtrail, which kept its
//! events in sled, over to the event log.
//!
//! The old records (`e` + position → event bytes, `k` + key → receipt) are
//! copied in order into `events.log.new`, which is synced and then renamed to
//! the log, so a crash leaves either no log (and the copy starts again) or a
//! whole one. Only then are the old records removed from sled (a removal
//! interrupted by a crash is finished on the next open).

use crate::error::StoreError;
use crate::keys;
use crate::log::{self, Record};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Records per frame of the copied log.
const FRAME_RECORDS: usize = 1024;

pub(crate) fn from_sled(dir: &Path, db: &sled::Db) -> Result<(), StoreError> {
    let old = |prefix: u8| db.scan_prefix([prefix]).next().is_some();
    if !(old(keys::EVENT) || old(keys::KEY) || old(keys::STREAM)) {
        return Ok(());
    }
    let path = dir.join(log::FILE);
    let fail = |detail: String| StoreError::Log {
        path: path.clone(),
        detail: format!("moving the events of an earlier ragtrail out of sled: {detail}"),
    };
    if !path.exists() {
        let new = dir.join(format!("{}.new", log::FILE));
        let mut file = File::create(&new).map_err(|e| fail(e.to_string()))?;
        let mut frame: Vec<Record> = Vec::with_capacity(FRAME_RECORDS);
        let mut write = |frame: &mut Vec<Record>| -> Result<(), StoreError> {
            if !frame.is_empty() {
                file.write_all(&log::encode(frame).0)
                    .map_err(|e| fail(e.to_string()))?;
                frame.clear();
            }
            Ok(())
        };
        for prefix in [keys::EVENT, keys::KEY] {
            for kv in db.scan_prefix([prefix]) {
                let (k, v) = kv?;
                frame.push((k.to_vec(), v.to_vec()));
                if frame.len() == FRAME_RECORDS {
                    write(&mut frame)?;
                }
            }
        }
        write(&mut frame)?;
        file.sync_all().map_err(|e| fail(e.to_string()))?;
        std::fs::rename(&new, &path).map_err(|e| fail(e.to_string()))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| fail(e.to_string()))?;
    }
    let mut batch = sled::Batch::default();
    for prefix in [keys::EVENT, keys::STREAM, keys::KEY] {
        for kv in db.scan_prefix([prefix]) {
            batch.remove(kv?.0);
        }
    }
    db.apply_batch(batch)?;
    db.flush()?;
    Ok(())
}
