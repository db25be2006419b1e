//! The event log file: ragtrail's own append-only file of hash-chained events.
//!
//! One writer appends; anyone reads. Each group commit is one *frame*, written
//! with one `write` and made durable with one `fdatasync` before any caller of
//! the group is answered. Nothing is ever rewritten in place.
//!
//! Frame layout (integers little-endian):
//!
//! ```text
//! [magic "RTL1"][body_len: u32][crc32(body): u32][body]
//! body = [count: u32] then count × [key_len: u32][key][value_len: u32][value]
//! ```
//!
//! Records are keyed as in [`keys`](crate::keys): `e` + position → the stored
//! event bytes (see [`envelope`](crate::envelope)), `k` + idempotency key →
//! the receipt of the append that used it. Indexes (position → place in the
//! file, stream → positions) are rebuilt in memory when the store opens.
//!
//! A crash can only tear the last frame (each frame is synced before the next
//! is written, and nothing of a torn frame was acknowledged), so on open an
//! incomplete last frame is cut off. A frame that cannot be read *followed by*
//! a good one is damage, not a crash: the store refuses to open rather than
//! drop acknowledged events. The checksum only tells torn writes from whole
//! ones; tampering is caught by the hash chain (`verify`).

use crate::error::StoreError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The log's file name in the data directory.
pub const FILE: &str = "events.log";
const MAGIC: &[u8; 4] = b"RTL1";
const FRAME_HEAD: usize = 12;
/// No frame is larger than this (a group is at most a few MiB).
const FRAME_LIMIT: usize = 1 << 30;

/// One record: a key and its value.
pub(crate) type Record = (Vec<u8>, Vec<u8>);

/// Where a record's value sits in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

impl Span {
    pub(crate) fn end(&self) -> u64 {
        self.offset + u64::from(self.len)
    }
}

/// What a scan of the file found besides its records.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Scanned {
    /// Bytes of whole, readable frames from the start.
    pub(crate) good: u64,
    /// Zero bytes after them to the end: space written ahead for frames to come.
    pub(crate) zeros: u64,
    /// Bytes after them that are not a whole frame, with no good frame after: a torn write.
    pub(crate) torn: u64,
    /// Offsets of whole frames whose checksum fails (their records are still read).
    pub(crate) damaged: Vec<u64>,
    /// A frame that cannot be read, with good frames after it: where and what.
    pub(crate) broken: Option<(u64, String)>,
}

/// One frame's bytes, and where each value lies relative to the frame's start.
pub(crate) fn encode(records: &[Record]) -> (Vec<u8>, Vec<Span>) {
    let body_len: usize = 4 + records
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(FRAME_HEAD + body_len);
    let mut spans = Vec::with_capacity(records.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for (k, v) in records {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        spans.push(Span {
            offset: out.len() as u64,
            len: v.len() as u32,
        });
        out.extend_from_slice(v);
    }
    let crc = crc32fast::hash(&out[FRAME_HEAD..]);
    out[8..12].copy_from_slice(&crc.to_le_bytes());
    (out, spans)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b) as usize)
}

/// A record found in a frame body: key, value, and where the value starts in the body.
type Found<'a> = (&'a [u8], &'a [u8], usize);

/// The records of a frame body, if it is well formed.
fn records_of(body: &[u8]) -> Option<Vec<Found<'_>>> {
    let count = u32_at(body, 0)?;
    let mut out = Vec::with_capacity(count.min(body.len() / 8));
    let mut p = 4usize;
    for _ in 0..count {
        let kl = u32_at(body, p)?;
        let k = body.get(p + 4..(p + 4).checked_add(kl)?)?;
        p += 4 + kl;
        let vl = u32_at(body, p)?;
        let v = body.get(p + 4..(p + 4).checked_add(vl)?)?;
        out.push((k, v, p + 4));
        p += 4 + vl;
    }
    (p == body.len()).then_some(out)
}

/// Whether a whole, intact frame starts at `at`.
fn intact_at(bytes: &[u8], at: usize) -> bool {
    if bytes.get(at..at + 4) != Some(&MAGIC[..]) {
        return false;
    }
    let (Some(len), Some(crc)) = (u32_at(bytes, at + 4), u32_at(bytes, at + 8)) else {
        return false;
    };
    let Some(body) = bytes.get(at + FRAME_HEAD..at + FRAME_HEAD + len.min(FRAME_LIMIT)) else {
        return false;
    };
    len <= FRAME_LIMIT && crc32fast::hash(body) == crc as u32 && records_of(body).is_some()
}

/// Reads the file from the start, handing each record of each readable frame
/// to `each` (key, value, where the value is), frame by frame, so memory
/// holds one frame at a time; only the first `upto` bytes when given. Stops at the first frame that cannot be read
/// and says whether it is a torn tail or damage.
pub(crate) fn scan(
    file: &mut File,
    upto: Option<u64>,
    mut each: impl FnMut(&[u8], &[u8], Span),
) -> std::io::Result<Scanned> {
    file.seek(SeekFrom::Start(0))?;
    let len = file.metadata()?.len();
    let total = upto.map_or(len, |u| u.min(len));
    let mut reader = std::io::BufReader::with_capacity(1 << 20, &mut *file);
    let mut scanned = Scanned::default();
    let mut head = [0u8; FRAME_HEAD];
    let mut body = Vec::new();
    let mut at: u64 = 0;
    loop {
        if at == total {
            scanned.good = at;
            return Ok(scanned);
        }
        let readable = (|| -> std::io::Result<bool> {
            if total - at < FRAME_HEAD as u64 {
                return Ok(false);
            }
            reader.read_exact(&mut head)?;
            if &head[..4] != MAGIC {
                return Ok(false);
            }
            let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
            if len > FRAME_LIMIT || (len as u64) > total - at - FRAME_HEAD as u64 {
                return Ok(false);
            }
            body.resize(len, 0);
            reader.read_exact(&mut body)?;
            Ok(records_of(&body).is_some())
        })()?;
        if !readable {
            break;
        }
        let crc = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        if crc32fast::hash(&body) != crc {
            scanned.damaged.push(at);
        }
        let base = at + FRAME_HEAD as u64;
        for (k, v, off) in records_of(&body).unwrap_or_default() {
            each(
                k,
                v,
                Span {
                    offset: base + off as u64,
                    len: v.len() as u32,
                },
            );
        }
        at = base + body.len() as u64;
    }
    // An unreadable frame at `at`: torn, unless an intact frame follows.
    drop(reader);
    scanned.good = at;
    file.seek(SeekFrom::Start(at))?;
    let mut rest = Vec::new();
    file.take(total - at).read_to_end(&mut rest)?;
    let damaged =
        (1..rest.len().saturating_sub(3)).any(|p| &rest[p..p + 4] == MAGIC && intact_at(&rest, p));
    if damaged {
        scanned.broken = Some((
            at,
            format!("the frame at byte {at} cannot be read but acknowledged frames follow it"),
        ));
    } else if rest.iter().all(|b| *b == 0) {
        scanned.zeros = rest.len() as u64;
    } else {
        scanned.torn = rest.len() as u64;
    }
    Ok(scanned)
}

/// Opens the log file of `dir` for reading and appending, creating it (and
/// making its name durable) if it is new.
pub(crate) fn open_file(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(FILE);
    let created = !path.exists();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StoreError::Log {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    if created {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::Log {
                path,
                detail: format!("cannot sync the directory: {e}"),
            })?;
    }
    Ok(file)
}

/// The log grows in zeros written and synced ahead: a frame written into
/// space that is already part of the file needs no change of the file's
/// size, so its `fdatasync` is one write of data instead of data and the
/// inode. Each growth doubles the file, from [`GROW_MIN`] up to [`GROW_MAX`] at a time.
pub const GROW_MIN: u64 = 64 * 1024;
/// The most the log grows by at once.
pub const GROW_MAX: u64 = 8 * 1024 * 1024;

/// The writer's end of the log.
pub(crate) struct Appender {
    file: File,
    path: PathBuf,
    /// Bytes of whole, synced frames.
    len: u64,
    /// Bytes of the file: frames, then zeros written ahead.
    allocated: u64,
    /// Sync each frame (off only when a store is opened for measuring).
    sync: bool,
}

impl Appender {
    /// Takes over `file`, whose first `len` bytes are whole frames followed
    /// by `zeros` zero bytes; anything else after them (a torn write) is cut off first.
    pub(crate) fn new(
        file: File,
        path: PathBuf,
        scanned: &Scanned,
        sync: bool,
    ) -> Result<Appender, StoreError> {
        let io = |e: std::io::Error| StoreError::Log {
            path: path.clone(),
            detail: e.to_string(),
        };
        let mut allocated = scanned.good + scanned.zeros;
        if scanned.torn > 0 {
            allocated = scanned.good;
            file.set_len(allocated).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        Ok(Appender {
            file,
            path,
            len: scanned.good,
            allocated,
            sync,
        })
    }

    /// Bytes of whole frames.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// How much the file will grow to take a frame of records that take
    /// `records` bytes (keys, values and their lengths).
    pub(crate) fn growth(&self, records: u64) -> u64 {
        self.growth_to(self.len + FRAME_HEAD as u64 + 4 + records)
    }

    /// How much the file must grow to reach `end` bytes.
    fn growth_to(&self, end: u64) -> u64 {
        if end <= self.allocated {
            0
        } else {
            (end - self.allocated).max(self.allocated.clamp(GROW_MIN, GROW_MAX))
        }
    }

    /// Writes zeros from the end of the file for `by` bytes and syncs them.
    fn grow(&mut self, by: u64) -> Result<(), String> {
        let zeros = vec![0u8; 1 << 20];
        let mut at = self.allocated;
        let end = self.allocated + by;
        let result = (|| -> std::io::Result<()> {
            while at < end {
                let n = (end - at).min(zeros.len() as u64) as usize;
                self.file.write_all_at(&zeros[..n], at)?;
                at += n as u64;
            }
            self.file.sync_all()
        })();
        match result {
            Ok(()) => {
                self.allocated = end;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.allocated);
                Err(format!(
                    "cannot grow the event log {}: {e}",
                    self.path.display()
                ))
            }
        }
    }

    /// Writes one frame and syncs it; returns where each value is in the file.
    /// On failure the file is put back as it was; if even that fails, the
    /// second part of the error is false and the caller must stop writing.
    pub(crate) fn append(&mut self, records: &[Record]) -> Result<Vec<Span>, (String, bool)> {
        let (frame, mut spans) = encode(records);
        let growth = self.growth_to(self.len + frame.len() as u64);
        if growth > 0 {
            self.grow(growth).map_err(|e| (e, true))?;
        }
        let result = self
            .file
            .write_all_at(&frame, self.len)
            .map_err(|e| format!("cannot write the event log {}: {e}", self.path.display()))
            .and_then(|()| {
                if self.sync {
                    self.file.sync_data().map_err(|e| {
                        format!("cannot sync the event log {}: {e}", self.path.display())
                    })
                } else {
                    Ok(())
                }
            });
        match result {
            Ok(()) => {
                for s in &mut spans {
                    s.offset += self.len;
                }
                self.len += frame.len() as u64;
                Ok(spans)
            }
            Err(detail) => match self.zero_back(frame.len()) {
                Ok(()) => Err((detail, true)),
                Err(e) => Err((format!("{detail}; then {e}"), false)),
            },
        }
    }

    /// Puts zeros back over a frame that failed, durably.
    fn zero_back(&mut self, n: usize) -> Result<(), String> {
        let len = self.len;
        self.file
            .write_all_at(&vec![0u8; n], len)
            .and_then(|()| self.file.sync_all())
            .map_err(|e| {
                format!(
                    "cannot put the event log {} back as it was at {len} bytes: {e}",
                    self.path.display()
                )
            })
    }
}

/// A closed store's log as (key, value) records in file order, for forensic
/// tools and tamper tests. [`Records::write`] gives every record a frame of
/// its own with a correct checksum — what anyone with write access to the
/// directory could do, and what only the hash chain (and a digest kept
/// elsewhere) can catch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records(pub Vec<(Vec<u8>, Vec<u8>)>);

impl Records {
    /// Reads every readable record of `dir`'s log.
    pub fn read(dir: impl AsRef<Path>) -> std::io::Result<Records> {
        let mut file = File::open(dir.as_ref().join(FILE))?;
        let mut out = Vec::new();
        scan(&mut file, None, |k, v, _| {
            out.push((k.to_vec(), v.to_vec()))
        })?;
        Ok(Records(out))
    }

    /// The value of the first record with `key`.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// Replaces the value of the record with `key` in place, or adds the record at the end.
    pub fn insert(&mut self, key: Vec<u8>, value: Vec<u8>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(r) => r.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Removes every record with `key`.
    pub fn remove(&mut self, key: &[u8]) {
        self.0.retain(|(k, _)| k != key);
    }

    /// Replaces `dir`'s log with these records.
    pub fn write(&self, dir: impl AsRef<Path>) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        for r in &self.0 {
            bytes.extend(encode(std::slice::from_ref(r)).0);
        }
        std::fs::write(dir.as_ref().join(FILE), bytes)
    }
}

/// The key of the event at `position`, as records carry it.
pub fn event_key(position: u64) -> Vec<u8> {
    crate::keys::event(position).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: u8) -> Vec<Record> {
        (0..n)
            .map(|i| (vec![b'e', i], vec![i; i as usize]))
            .collect()
    }

    fn file_of(bytes: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, bytes).unwrap();
        let f = File::open(&path).unwrap();
        (dir, f)
    }

    fn scanned(bytes: &[u8]) -> (Vec<Record>, Scanned) {
        let (_dir, mut f) = file_of(bytes);
        let mut out = Vec::new();
        let s = scan(&mut f, None, |k, v, span| {
            assert_eq!(&bytes[span.offset as usize..span.end() as usize], v);
            out.push((k.to_vec(), v.to_vec()))
        })
        .unwrap();
        (out, s)
    }

    #[test]
    fn frames_round_trip_and_spans_point_at_values() {
        let mut bytes = encode(&records(3)).0;
        bytes.extend(encode(&records(5)).0);
        let (found, s) = scanned(&bytes);
        assert_eq!(found, [records(3), records(5)].concat());
        assert_eq!((s.good, s.torn, s.broken), (bytes.len() as u64, 0, None));
    }

    #[test]
    fn a_torn_last_frame_is_cut_at_any_length() {
        let first = encode(&records(3)).0;
        let second = encode(&records(7)).0;
        for cut in 1..second.len() {
            let mut bytes = first.clone();
            bytes.extend_from_slice(&second[..cut]);
            let (found, s) = scanned(&bytes);
            assert_eq!(found, records(3), "cut at {cut}");
            assert_eq!(
                (s.good, s.torn),
                (first.len() as u64, cut as u64),
                "cut at {cut}"
            );
            assert!(s.broken.is_none());
        }
        // Zeros after the last frame are space written ahead, not a torn frame;
        // a torn frame in that space is.
        let mut bytes = first.clone();
        bytes.extend([0u8; 100]);
        let s = scanned(&bytes).1;
        assert_eq!((s.good, s.zeros, s.torn), (first.len() as u64, 100, 0));
        bytes[first.len() + 10] = 1;
        let s = scanned(&bytes).1;
        assert_eq!((s.good, s.zeros, s.torn), (first.len() as u64, 0, 100));
    }

    #[test]
    fn an_unreadable_frame_before_a_good_one_is_damage() {
        let first = encode(&records(3)).0;
        let second = encode(&records(4)).0;
        // Magic and length bytes: the frame cannot be read.
        for at in 0..8 {
            let mut bytes = first.clone();
            bytes[at] ^= 0x10;
            bytes.extend_from_slice(&second);
            let s = scanned(&bytes).1;
            assert!(s.broken.is_some(), "byte {at}: {s:?}");
            assert_eq!(s.good, 0);
        }
        // Elsewhere in the first frame: read, and reported as damaged (or broken if a length changed).
        for at in 8..first.len() {
            let mut bytes = first.clone();
            bytes[at] ^= 0x01;
            bytes.extend_from_slice(&second);
            let s = scanned(&bytes).1;
            assert!(
                s.damaged == vec![0] || s.broken.is_some(),
                "byte {at}: {s:?}"
            );
        }
    }
}
