//! Verification of the stored log: walks every event from position 1, checking
//! positions are gap-free, each event's bytes match its hashes, each links to
//! the one before, stream versions are gap-free, every group value is whole
//! and passes its checksum, and sled reaches the head record with its hash.

use crate::envelope::{self, Digest32};
use crate::error::StoreError;
use crate::group;
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
    /// How many events this walk checked: all of them for a full walk, only
    /// those after the prefix verified before for an incremental one.
    pub checked: u64,
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
    let dir = dir.as_ref();
    // Holding sled (and its lock) keeps a writer out while we read.
    let (_db, events, _) = crate::dir::open_sled(dir, &crate::shared::Options::default())?;
    let verified = walk(&events, Walk::start(), None, None)?.verified();
    let hash_at = |p: u64| -> Option<Digest32> {
        // The walk has checked every position up to `count`. The head record
        // names the head, or (after a crash before it was brought up to date)
        // an event a little before it, found by its key.
        if p == verified.count {
            return Some(verified.head);
        }
        let wanted = keys::event(p);
        events.iter().find_map(|kv| {
            let (_, v) = kv.ok()?;
            let read = group::read(&v).ok()?;
            let (_, value, _) = read.records.into_iter().find(|(k, _, _)| *k == wanted)?;
            envelope::decode(value).ok().map(|e| e.hash)
        })
    };
    if let Some(d) = crate::head::check(&crate::head::read(dir), verified.count, hash_at) {
        return Err(VerifyError::Bad {
            position: d.position,
            problem: d.problem,
        });
    }
    Ok(verified)
}

/// Walks the events tree in order, continuing `from` (a walk that has
/// checked the positions before `from.expected`), starting at the value under
/// `start_key` (the one holding `from.expected`; the first when `None`), up to
/// position `upto` (all of it when `None`). Returns where the walk got to.
pub(crate) fn walk(
    events: &sled::Tree,
    from: Walk,
    start_key: Option<u64>,
    upto: Option<u64>,
) -> Result<Walk, VerifyError> {
    let mut walk = from;
    walk.checked = 0;
    let upto = upto.unwrap_or(u64::MAX);
    // The first value that fails its checksum though its events verify.
    let mut checksum: Option<(u64, u64)> = None;
    let values = match start_key {
        Some(k) => events.range(k.to_be_bytes()..),
        None => events.iter(),
    };
    for kv in values {
        if walk.expected > upto {
            break;
        }
        let (k, v) = kv?;
        let bad = |problem: String| VerifyError::Bad {
            position: walk.expected,
            problem,
        };
        let Some(key) = crate::dir::key_of(&k) else {
            return Err(bad(format!(
                "a value under a malformed key {} sits among the events",
                hex::encode(&k)
            )));
        };
        let read = group::read(&v).map_err(|why| {
            bad(format!(
                "the group of events stored under position {key} cannot be read: {why}"
            ))
        })?;
        let first = walk.expected;
        for (rk, rv, _) in read.records {
            if walk.expected > upto {
                break;
            }
            // Records of this value that an earlier walk checked.
            if keys::position_of(rk).is_some_and(|p| p < walk.expected) {
                continue;
            }
            walk.record(rk, rv)?;
        }
        if !read.checksum_ok && checksum.is_none() {
            checksum = Some((key, first));
        }
    }
    walk.settle_erasures()?;
    if let Some((key, position)) = checksum {
        return Err(VerifyError::Bad {
            position,
            problem: format!(
                "the group of events stored under position {key} fails its checksum, though its events verify: a record other than an event was altered"
            ),
        });
    }
    Ok(walk)
}

/// The walk along the log: what the next event must be. Kept by a store
/// between walks, so that the next one checks only what came after.
#[derive(Debug, Clone)]
pub(crate) struct Walk {
    pub(crate) expected: u64,
    prev: Digest32,
    versions: HashMap<Uuid, u64>,
    checked: u64,
    /// Redacted events not yet vouched for: position → (the erasure that
    /// redacted it, the SHA-256 of its stored payload). The erasure comes
    /// later in the log and must name exactly that hash.
    redacted: HashMap<u64, (u64, Digest32)>,
}

impl Walk {
    pub(crate) fn start() -> Walk {
        Walk {
            expected: 1,
            prev: Digest32::GENESIS,
            versions: HashMap::new(),
            checked: 0,
            redacted: HashMap::new(),
        }
    }

    /// At the end of a walk every redacted event must have been vouched for by its erasure.
    fn settle_erasures(&self) -> Result<(), VerifyError> {
        match self.redacted.iter().min_by_key(|(p, _)| **p) {
            None => Ok(()),
            Some((position, (by, _))) => Err(VerifyError::Bad {
                position: *position,
                problem: format!(
                    "its payload was replaced, and the erasure it names (position {by}) is not in the log: the payload was altered"
                ),
            }),
        }
    }

    /// Checks what an erasure at `at` says it redacted against what is stored.
    fn vouch(&mut self, at: u64, events: &[crate::event::ErasedEvent]) -> Result<(), VerifyError> {
        for e in events {
            let bad = |problem: String| VerifyError::Bad {
                position: e.position,
                problem,
            };
            match self.redacted.get(&e.position) {
                Some((by, hash)) if *by == at => {
                    if Digest32::from_hex(&e.payload) != Some(*hash) {
                        return Err(bad(format!(
                            "its redacted payload is not the one the erasure at position {at} recorded: the payload was altered"
                        )));
                    }
                    self.redacted.remove(&e.position);
                }
                // Redacted again by a later erasure, which vouches for it.
                Some((by, _)) if *by > at => {}
                _ => {
                    return Err(bad(format!(
                        "the erasure at position {at} says it redacted this event, but its stored payload is not that redaction"
                    )))
                }
            }
        }
        Ok(())
    }

    pub(crate) fn verified(&self) -> Verified {
        Verified {
            count: self.expected - 1,
            head: self.prev,
            checked: self.checked,
        }
    }

    /// Checks one record; events must continue the chain at the expected position.
    fn record(&mut self, key: &[u8], value: &[u8]) -> Result<(), VerifyError> {
        let expected = self.expected;
        let bad = |problem: String| VerifyError::Bad {
            position: expected,
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
        let (env, redacted) =
            envelope::check_parts(value, self.prev).map_err(|e| bad(e.to_string()))?;
        if let (Some(by), Some(hash)) = (env.erased_by, redacted) {
            if by <= position {
                return Err(bad(format!(
                    "its payload was replaced, naming an erasure at position {by}, which is not after it: the payload was altered"
                )));
            }
            self.redacted.insert(position, (by, hash));
        }
        if let crate::event::Event::TextErased { events, .. } = &env.event {
            self.vouch(position, events)?;
        }
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
        self.prev = env.hash;
        self.expected += 1;
        self.checked += 1;
        Ok(())
    }
}
