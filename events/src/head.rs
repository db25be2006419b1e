//! The head record: the last acknowledged event (position and hash), kept in
//! a small file of its own (`DATA/head`), apart from the events in sled.
//!
//! sled, like any log-structured store, recovers from damage at the end of its
//! log by cutting it off; on its own it cannot tell a torn write that was never
//! acknowledged from acknowledged events that were lost. The head record can:
//! the store opens only if sled still holds the recorded head, with the
//! recorded hash (see [`dir`](crate::dir)).
//!
//! The record is only ever written *after* the events it names are durable in
//! sled, so it is never ahead of them. The writer hands each durable head to a
//! keeper thread, which writes the newest one and `fdatasync`s it while the
//! writer goes on, at most once per [`GAP`] (10 ms) so that its syncs do not
//! crowd the writer's. So under load the record may lag the newest group by
//! up to 10 ms and one sync; a quiet store's record is written at once, and
//! after a clean close it is exact.
//!
//! Layout: two slots of [`SLOT`] bytes, written alternately so that a torn
//! write leaves the other slot whole. Each slot, integers little-endian:
//!
//! ```text
//! [magic "RTHD"][position: u64][hash: 32 bytes][crc32 of the 44 bytes before: u32][zeros]
//! ```

use crate::append::Head;
use crate::envelope::Digest32;
use crate::error::Damage;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// The head record's file name in the data directory.
pub const FILE: &str = "head";
const MAGIC: &[u8; 4] = b"RTHD";
const SLOT: usize = 64;
const USED: usize = 4 + 8 + 32;

fn slot_bytes(head: Head) -> [u8; SLOT] {
    let mut b = [0u8; SLOT];
    b[..4].copy_from_slice(MAGIC);
    b[4..12].copy_from_slice(&head.position.to_le_bytes());
    b[12..44].copy_from_slice(&head.hash.0);
    let crc = crc32fast::hash(&b[..USED]);
    b[USED..USED + 4].copy_from_slice(&crc.to_le_bytes());
    b
}

fn slot_of(b: &[u8]) -> Option<Head> {
    if b.len() < USED + 4 || &b[..4] != MAGIC {
        return None;
    }
    let crc = u32::from_le_bytes(b[USED..USED + 4].try_into().ok()?);
    if crc32fast::hash(&b[..USED]) != crc {
        return None;
    }
    let position = u64::from_le_bytes(b[4..12].try_into().ok()?);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&b[12..44]);
    Some(Head {
        position,
        hash: Digest32(hash),
    })
}

/// What the data directory's head record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// No head record file.
    Missing,
    /// The file is there but neither slot can be read.
    Unreadable(String),
    /// The last acknowledged head.
    At(Head),
}

/// Reads the head record of `dir`.
pub fn read(dir: &Path) -> Recorded {
    let path = dir.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Recorded::Missing,
        Err(e) => return Recorded::Unreadable(format!("cannot read {}: {e}", path.display())),
    };
    let best = bytes
        .chunks(SLOT)
        .take(2)
        .filter_map(slot_of)
        .max_by_key(|h| h.position);
    match best {
        Some(h) => Recorded::At(h),
        None => Recorded::Unreadable(format!(
            "{} ({} bytes) holds no readable head record",
            path.display(),
            bytes.len()
        )),
    }
}

/// Checks what sled holds (`count` events, `hash_at` giving an event's hash)
/// against the head record: sled must reach the recorded head, with its hash.
pub(crate) fn check(
    recorded: &Recorded,
    count: u64,
    hash_at: impl Fn(u64) -> Option<Digest32>,
) -> Option<Damage> {
    let what_to_do = "restore the data directory from a backup, or import an export into a new one";
    match recorded {
        Recorded::Missing if count == 0 => None,
        Recorded::Missing => Some(Damage {
            position: count + 1,
            problem: format!(
                "the head record ({FILE}) is missing, so ragtrail cannot tell whether acknowledged events after position {count} were lost; {what_to_do}"
            ),
        }),
        Recorded::Unreadable(why) => Some(Damage {
            position: count + 1,
            problem: format!(
                "the head record cannot be read ({why}), so ragtrail cannot tell whether acknowledged events after position {count} were lost; {what_to_do}"
            ),
        }),
        Recorded::At(h) if h.position > count => Some(Damage {
            position: count + 1,
            problem: format!(
                "acknowledged events are missing: the head record says {} events were acknowledged (head {}), but the store holds {count}; {what_to_do}",
                h.position, h.hash
            ),
        }),
        Recorded::At(h) if h.position == 0 => None,
        Recorded::At(h) => match hash_at(h.position) {
            Some(found) if found == h.hash => None,
            found => Some(Damage {
                position: h.position,
                problem: format!(
                    "the event at position {} is not the one acknowledged: the head record says hash {}, the store has {}; {what_to_do}",
                    h.position,
                    h.hash,
                    found.map_or("an unreadable event".to_string(), |f| f.to_hex())
                ),
            }),
        },
    }
}

/// Overwrites the head record of a closed store, as anyone with write access
/// to the directory could (for forensic tools and tamper tests): only a
/// signed digest kept elsewhere catches a log rewritten with its head record.
pub fn overwrite(dir: &Path, head: Head) -> std::io::Result<()> {
    let f = HeadFile::open(dir)?;
    for slot in 0..2 {
        f.file.write_all_at(&slot_bytes(head), slot * SLOT as u64)?;
    }
    f.file.sync_data()
}

/// The writer's end of the head record.
pub(crate) struct HeadFile {
    file: File,
    path: PathBuf,
}

impl HeadFile {
    /// Opens the head record of `dir`, creating it (durably, with its name) if it is new.
    pub(crate) fn open(dir: &Path) -> std::io::Result<HeadFile> {
        let path = dir.join(FILE);
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        if created || file.metadata()?.len() < 2 * SLOT as u64 {
            file.set_len(2 * SLOT as u64)?;
            file.sync_all()?;
            File::open(dir)?.sync_all()?;
        }
        Ok(HeadFile { file, path })
    }

    /// Records `head` durably: writes its slot, then `fdatasync`.
    pub(crate) fn write(&self, head: Head) -> Result<(), String> {
        let at = (head.position % 2) * SLOT as u64;
        self.file
            .write_all_at(&slot_bytes(head), at)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| format!("cannot record the head in {}: {e}", self.path.display()))
    }
}

/// The thread that records durable heads without holding the writer up.
pub(crate) struct Keeper {
    slot: Arc<(Mutex<KeeperState>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct KeeperState {
    /// The newest durable head not yet recorded.
    pending: Option<Head>,
    /// The newest head recorded.
    recorded: Option<Head>,
    stop: bool,
    failed: Option<String>,
}

impl Keeper {
    pub(crate) fn start(file: HeadFile) -> std::io::Result<Keeper> {
        let slot = Arc::new((Mutex::new(KeeperState::default()), Condvar::new()));
        let shared = slot.clone();
        let thread = std::thread::Builder::new()
            .name("ragtrail-head".into())
            .spawn(move || keep(file, &shared))?;
        Ok(Keeper {
            slot,
            thread: Some(thread),
        })
    }

    /// A keeper that records nothing, for a damaged store (which never appends).
    pub(crate) fn idle() -> Keeper {
        Keeper {
            slot: Arc::new((Mutex::new(KeeperState::default()), Condvar::new())),
            thread: None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, KeeperState> {
        self.slot.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands over a head whose events are durable; returns at once.
    pub(crate) fn offer(&self, head: Head) {
        self.lock().pending = Some(head);
        self.slot.1.notify_one();
    }

    /// Records `head` (if it is not recorded yet) and waits until it is, then stops the thread.
    pub(crate) fn finish(&mut self, head: Head) -> Result<(), String> {
        {
            let mut s = self.lock();
            if s.recorded != Some(head) {
                s.pending = Some(head);
            }
            s.stop = true;
        }
        self.slot.1.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let s = self.lock();
        match (&s.failed, s.recorded == Some(head)) {
            (_, true) => Ok(()),
            (Some(f), false) => Err(f.clone()),
            (None, false) => Err("the head record was not written".into()),
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.lock().stop = true;
        self.slot.1.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The shortest time between two head records under load: the keeper
/// records at most this often, so its syncs do not crowd the disk that the
/// writer's syncs need (a quiet store's head is recorded at once).
pub(crate) const GAP: std::time::Duration = std::time::Duration::from_millis(10);

fn keep(file: HeadFile, slot: &(Mutex<KeeperState>, Condvar)) {
    let (lock, wake) = slot;
    let mut last: Option<std::time::Instant> = None;
    let mut s = lock.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if s.pending.is_some() {
            let wait = last.map_or(std::time::Duration::ZERO, |l| {
                GAP.saturating_sub(l.elapsed())
            });
            if !wait.is_zero() && !s.stop {
                s = wake
                    .wait_timeout(s, wait)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                continue;
            }
        }
        if let Some(head) = s.pending.take() {
            drop(s);
            let result = file.write(head);
            last = Some(std::time::Instant::now());
            s = lock.lock().unwrap_or_else(|p| p.into_inner());
            match result {
                Ok(()) => {
                    s.recorded = Some(head);
                    s.failed = None;
                }
                Err(e) => {
                    eprintln!("ragtrail: {e}");
                    s.failed = Some(e);
                }
            }
            continue;
        }
        if s.stop {
            return;
        }
        s = wake.wait(s).unwrap_or_else(|p| p.into_inner());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(p: u64) -> Head {
        Head {
            position: p,
            hash: Digest32([p as u8; 32]),
        }
    }

    #[test]
    fn the_newest_whole_slot_wins_and_a_torn_slot_leaves_the_other() {
        let dir = tempfile::TempDir::new().unwrap();
        assert_eq!(read(dir.path()), Recorded::Missing);
        let f = HeadFile::open(dir.path()).unwrap();
        assert!(matches!(read(dir.path()), Recorded::Unreadable(_)));
        f.write(head(7)).unwrap();
        f.write(head(8)).unwrap();
        assert_eq!(read(dir.path()), Recorded::At(head(8)));
        // Tear slot 0 (position 8): slot 1 (position 7) still stands.
        let path = dir.path().join(FILE);
        let mut b = std::fs::read(&path).unwrap();
        b[20] ^= 1;
        std::fs::write(&path, &b).unwrap();
        assert_eq!(read(dir.path()), Recorded::At(head(7)));
        b[SLOT + 20] ^= 1;
        std::fs::write(&path, &b).unwrap();
        assert!(matches!(read(dir.path()), Recorded::Unreadable(_)));
    }

    #[test]
    fn the_keeper_records_the_last_head_it_was_given() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut k = Keeper::start(HeadFile::open(dir.path()).unwrap()).unwrap();
        for p in 1..=50 {
            k.offer(head(p));
        }
        k.finish(head(51)).unwrap();
        assert_eq!(read(dir.path()), Recorded::At(head(51)));
    }
}
