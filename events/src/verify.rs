//! Verification of the stored log: walks every event from position 1, checking
//! positions are gap-free, each event's bytes match its hashes, each links to
//! the one before, stream versions are gap-free and the stream index agrees.

use crate::envelope::{self, Digest32};
use crate::error::StoreError;
use crate::keys;
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

/// Opens the store directory (without starting a writer) and verifies it.
pub fn verify_dir(dir: impl AsRef<Path>) -> Result<Verified, VerifyError> {
    let db = crate::store::open_db(dir.as_ref())?;
    verify_db(&db, None)
}

/// Verifies events up to `upto` (all when `None`).
pub(crate) fn verify_db(db: &sled::Db, upto: Option<u64>) -> Result<Verified, VerifyError> {
    let mut expected: u64 = 1;
    let mut prev = Digest32::GENESIS;
    let mut versions: HashMap<Uuid, u64> = HashMap::new();
    for kv in db.scan_prefix([keys::EVENT]) {
        if upto.is_some_and(|u| expected > u) {
            break;
        }
        let (k, v) = kv?;
        let bad = |problem: String| VerifyError::Bad {
            position: expected,
            problem,
        };
        let Some(position) = keys::position_of(&k) else {
            return Err(bad(format!(
                "a key of unexpected form {} sits among the events",
                hex::encode(&k)
            )));
        };
        if position != expected {
            return Err(bad(format!(
                "event {expected} is missing (the next stored event is at {position})"
            )));
        }
        let env = envelope::check(&v, prev).map_err(|e| bad(e.to_string()))?;
        if env.position != position {
            return Err(bad(format!(
                "stored under position {position} but its header says {}: events were moved",
                env.position
            )));
        }
        let version = versions.entry(env.stream).or_insert(0);
        if env.version != *version + 1 {
            return Err(bad(format!(
                "stream {} jumps from version {} to {}",
                env.stream, version, env.version
            )));
        }
        *version = env.version;
        match db.get(keys::stream(env.stream, env.version))? {
            Some(p) if keys::u64_of(&p) == Some(position) => {}
            _ => {
                return Err(bad(format!(
                    "the stream index does not point at this event (stream {}, version {})",
                    env.stream, env.version
                )))
            }
        }
        prev = env.hash;
        expected += 1;
    }
    Ok(Verified {
        count: expected - 1,
        head: prev,
    })
}
