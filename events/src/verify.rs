//! Verification of the stored log: walks every event from position 1, checking
//! positions are gap-free, each event's bytes match its hashes, each links to
//! the one before, stream versions are gap-free, and every frame of the file
//! is whole and passes its checksum.

use crate::envelope::{self, Digest32};
use crate::error::StoreError;
use crate::keys;
use crate::log;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use uuid::Uuid;

/// A verified log: how many events, and the hash of the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub count: u64,
    pub head: Digest32,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The first position at which the log is not as it was written.
    #[error("position {position}: {problem}")]
    Bad { position: u64, problem: String },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<sled::Error> for VerifyError {
    fn from(e: sled::Error) -> Self {
        VerifyError::Store(StoreError::Read(e))
    }
}

/// Opens the store directory (without starting a writer) and verifies its log.
pub fn verify_dir(dir: impl AsRef<Path>) -> Result<Verified, VerifyError> {
    let dir = dir.as_ref();
    // Holding the directory (sled's lock) keeps a writer out while we read.
    let (_db, _file) = crate::store::open_dir(dir)?;
    verify_log(dir, None)
}

/// Verifies the log of `dir` up to byte `upto` (all of it when `None`).
pub(crate) fn verify_log(dir: &Path, upto: Option<u64>) -> Result<Verified, VerifyError> {
    let path = dir.join(log::FILE);
    let io = |e: std::io::Error| {
        VerifyError::Store(StoreError::Log {
            path: path.clone(),
            detail: format!("cannot read: {e}"),
        })
    };
    let mut file = std::fs::File::open(&path).map_err(io)?;
    let mut walk = Walk {
        expected: 1,
        prev: Digest32::GENESIS,
        versions: HashMap::new(),
        starts: Vec::new(),
    };
    let mut found: Option<VerifyError> = None;
    let scanned = log::scan(&mut file, upto, |k, v, span| {
        if found.is_none() {
            found = walk.record(k, v, span).err();
        }
    })
    .map_err(io)?;
    let Walk {
        expected,
        prev,
        starts,
        ..
    } = walk;
    if let Some(e) = found {
        return Err(e);
    }
    if let Some((_, detail)) = scanned.broken {
        return Err(VerifyError::Bad {
            position: expected,
            problem: format!("the log is damaged: {detail}"),
        });
    }
    if let Some(&at) = scanned.damaged.first() {
        let position = starts.partition_point(|s| *s < at) as u64 + 1;
        return Err(VerifyError::Bad {
            position,
            problem: format!(
                "the frame at byte {at} of the log fails its checksum, though its events verify: a record other than an event was altered"
            ),
        });
    }
    if scanned.torn > 0 {
        return Err(VerifyError::Bad {
            position: expected,
            problem: format!(
                "the log ends with {} bytes that are not a whole frame: a write torn by a crash (never acknowledged; ragtrail removes it when it next opens the store) or damage",
                scanned.torn
            ),
        });
    }
    Ok(Verified {
        count: expected - 1,
        head: prev,
    })
}

/// The walk along the log: what the next event must be.
struct Walk {
    expected: u64,
    prev: Digest32,
    versions: HashMap<Uuid, u64>,
    /// Where each event starts, to name the first event of a frame that fails its checksum.
    starts: Vec<u64>,
}

impl Walk {
    /// Checks one record; events must continue the chain at the expected position.
    fn record(&mut self, key: &[u8], value: &[u8], span: log::Span) -> Result<(), VerifyError> {
        let bad = |problem: String| VerifyError::Bad {
            position: self.expected,
            problem,
        };
        match key.first() {
            Some(&keys::KEY) => return Ok(()),
            Some(&keys::EVENT) => {}
            _ => {
                return Err(bad(format!(
                    "a record of unexpected form (key {}) sits among the events",
                    hex::encode(key)
                )))
            }
        }
        let Some(position) = keys::position_of(key) else {
            return Err(bad(format!(
                "an event record has a malformed key {}",
                hex::encode(key)
            )));
        };
        if position != self.expected {
            return Err(bad(format!(
                "event {} is missing (the next stored event is at {position})",
                self.expected
            )));
        }
        let env = envelope::check(value, self.prev).map_err(|e| bad(e.to_string()))?;
        if env.position != position {
            return Err(bad(format!(
                "stored under position {position} but its header says {}: events were moved",
                env.position
            )));
        }
        let version = self.versions.entry(env.stream).or_insert(0);
        if env.version != *version + 1 {
            let problem = format!(
                "stream {} jumps from version {} to {}",
                env.stream, version, env.version
            );
            return Err(VerifyError::Bad {
                position: self.expected,
                problem,
            });
        }
        *version = env.version;
        self.starts.push(span.offset);
        self.prev = env.hash;
        self.expected += 1;
        Ok(())
    }
}
