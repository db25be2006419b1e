//! powercut: a FUSE filesystem for power-loss tests. It holds everything in
//! memory and remembers what has been made durable: a file's writes and
//! truncations count only once the file is `fsync`ed or `fdatasync`ed, and a
//! directory's entries (files created, removed or renamed in it) only once the
//! directory itself is `fsync`ed, as POSIX promises and no more.
//!
//! [`Disk::cut`] is the power cut: from that instant every operation fails
//! with `EIO`, and what survives is an [`Image`]: the durable state, plus (in
//! [`Cut::Reorder`]) a random subset of the writes not yet durable, applied in
//! a random order, as LazyFS and the ALICE crash-consistency studies model a
//! disk's cache. [`Disk::mount_image`] mounts an image again, for recovery.
//!
//! It is a test tool: one mutex, no permissions beyond the mode bits, no
//! hard links, symlinks or extended attributes.

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    MountOption, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// How the power goes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Every write not yet durable is lost.
    DropAll,
    /// A random subset of the writes not yet durable reached the disk, in a
    /// random order (seeded, so a failure can be replayed).
    Reorder { seed: u64 },
}

/// One change to a file's bytes since it was last synced, with what it replaced.
#[derive(Debug, Clone)]
enum Change {
    Write {
        offset: u64,
        new: Vec<u8>,
        old: Vec<u8>,
        old_len: u64,
    },
    Resize {
        new_len: u64,
        old_len: u64,
        cut: Vec<u8>,
    },
}

impl Change {
    fn redo(&self, data: &mut Vec<u8>) {
        match self {
            Change::Write { offset, new, .. } => {
                let end = *offset as usize + new.len();
                if data.len() < end {
                    data.resize(end, 0);
                }
                data[*offset as usize..end].copy_from_slice(new);
            }
            Change::Resize { new_len, .. } => data.resize(*new_len as usize, 0),
        }
    }

    fn undo(&self, data: &mut Vec<u8>) {
        match self {
            Change::Write {
                offset,
                old,
                old_len,
                ..
            } => {
                let at = *offset as usize;
                data[at..at + old.len()].copy_from_slice(old);
                data.truncate(*old_len as usize);
            }
            Change::Resize { old_len, cut, .. } => {
                data.truncate(*old_len as usize);
                if data.len() < *old_len as usize {
                    data.extend_from_slice(cut);
                    data.resize(*old_len as usize, 0);
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Body {
    File {
        data: Vec<u8>,
        unsynced: Vec<Change>,
    },
    Dir {
        entries: BTreeMap<OsString, u64>,
        synced: BTreeMap<OsString, u64>,
    },
}

#[derive(Debug, Clone)]
struct Node {
    body: Body,
    perm: u16,
    mtime: SystemTime,
}

/// What survives a power cut: directories and files as they were made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    File {
        data: Vec<u8>,
        perm: u16,
    },
    Dir {
        entries: BTreeMap<OsString, Image>,
        perm: u16,
    },
}

impl Image {
    pub fn empty() -> Image {
        Image::Dir {
            entries: BTreeMap::new(),
            perm: 0o755,
        }
    }

    /// Bytes in all files.
    pub fn bytes(&self) -> u64 {
        match self {
            Image::File { data, .. } => data.len() as u64,
            Image::Dir { entries, .. } => entries.values().map(Image::bytes).sum(),
        }
    }
}

struct State {
    nodes: BTreeMap<u64, Node>,
    next: u64,
    powered: bool,
    /// Counts of what was asked, for reports.
    pub syncs: u64,
    pub writes: u64,
}

/// A tiny seeded generator (xorshift64*), so a reordered cut can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl State {
    fn from_image(image: &Image) -> State {
        let mut s = State {
            nodes: BTreeMap::new(),
            next: 2,
            powered: true,
            syncs: 0,
            writes: 0,
        };
        s.load(1, image);
        s
    }

    fn load(&mut self, ino: u64, image: &Image) {
        let node = match image {
            Image::File { data, perm } => Node {
                body: Body::File {
                    data: data.clone(),
                    unsynced: Vec::new(),
                },
                perm: *perm,
                mtime: SystemTime::now(),
            },
            Image::Dir { entries, perm } => {
                let mut map = BTreeMap::new();
                for (name, child) in entries {
                    let c = self.next;
                    self.next += 1;
                    self.load(c, child);
                    map.insert(name.clone(), c);
                }
                Node {
                    body: Body::Dir {
                        entries: map.clone(),
                        synced: map,
                    },
                    perm: *perm,
                    mtime: SystemTime::now(),
                }
            }
        };
        self.nodes.insert(ino, node);
    }

    fn image(&self, ino: u64, rng: &mut Option<Rng>) -> Image {
        let node = &self.nodes[&ino];
        match &node.body {
            Body::File { data, unsynced } => {
                let mut base = data.clone();
                for c in unsynced.iter().rev() {
                    c.undo(&mut base);
                }
                if let Some(rng) = rng {
                    let mut kept: Vec<&Change> =
                        unsynced.iter().filter(|_| rng.next() % 2 == 0).collect();
                    for i in (1..kept.len()).rev() {
                        let j = (rng.next() % (i as u64 + 1)) as usize;
                        kept.swap(i, j);
                    }
                    for c in kept {
                        c.redo(&mut base);
                    }
                }
                Image::File {
                    data: base,
                    perm: node.perm,
                }
            }
            Body::Dir { synced, .. } => Image::Dir {
                entries: synced
                    .iter()
                    .map(|(n, c)| (n.clone(), self.image(*c, rng)))
                    .collect(),
                perm: node.perm,
            },
        }
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let n = self.nodes.get(&ino)?;
        let (kind, size, nlink) = match &n.body {
            Body::File { data, .. } => (FileType::RegularFile, data.len() as u64, 1),
            Body::Dir { .. } => (FileType::Directory, 0, 2),
        };
        Some(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: n.mtime,
            mtime: n.mtime,
            ctime: n.mtime,
            crtime: n.mtime,
            kind,
            perm: n.perm,
            nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    fn entries(&mut self, ino: u64) -> Result<&mut BTreeMap<OsString, u64>, Errno> {
        match self.nodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::Dir { entries, .. }) => Ok(entries),
            Some(_) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    fn file(&mut self, ino: u64) -> Result<(&mut Vec<u8>, &mut Vec<Change>), Errno> {
        match self.nodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::File { data, unsynced }) => Ok((data, unsynced)),
            Some(_) => Err(Errno::EISDIR),
            None => Err(Errno::ENOENT),
        }
    }

    fn add(&mut self, parent: u64, name: &OsStr, body: Body, perm: u16) -> Result<u64, Errno> {
        if self.entries(parent)?.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.next;
        self.next += 1;
        self.nodes.insert(
            ino,
            Node {
                body,
                perm,
                mtime: SystemTime::now(),
            },
        );
        self.entries(parent)?.insert(name.to_os_string(), ino);
        Ok(ino)
    }

    fn write(&mut self, ino: u64, offset: u64, bytes: &[u8]) -> Result<(), Errno> {
        self.writes += 1;
        let (data, unsynced) = self.file(ino)?;
        let old_len = data.len() as u64;
        let at = offset as usize;
        let old = data
            .get(at..(at + bytes.len()).min(data.len()))
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let change = Change::Write {
            offset,
            new: bytes.to_vec(),
            old,
            old_len,
        };
        change.redo(data);
        unsynced.push(change);
        Ok(())
    }

    fn resize(&mut self, ino: u64, new_len: u64) -> Result<(), Errno> {
        let (data, unsynced) = self.file(ino)?;
        let old_len = data.len() as u64;
        let cut = data
            .get(new_len as usize..)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let change = Change::Resize {
            new_len,
            old_len,
            cut,
        };
        change.redo(data);
        unsynced.push(change);
        Ok(())
    }

    fn sync(&mut self, ino: u64) -> Result<(), Errno> {
        self.syncs += 1;
        match self.nodes.get_mut(&ino).map(|n| &mut n.body) {
            Some(Body::File { unsynced, .. }) => unsynced.clear(),
            Some(Body::Dir { entries, synced }) => *synced = entries.clone(),
            None => return Err(Errno::ENOENT),
        }
        Ok(())
    }
}

/// The filesystem as FUSE sees it.
struct Fs(Arc<Mutex<State>>);

const TTL: Duration = Duration::ZERO;

impl Fs {
    fn lock(&self) -> Result<MutexGuard<'_, State>, Errno> {
        let s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if s.powered {
            Ok(s)
        } else {
            Err(Errno::EIO)
        }
    }
}

impl Body {
    fn empty_dir() -> Body {
        Body::Dir {
            entries: BTreeMap::new(),
            synced: BTreeMap::new(),
        }
    }

    fn empty_file() -> Body {
        Body::File {
            data: Vec::new(),
            unsynced: Vec::new(),
        }
    }
}

impl Fs {
    /// Makes a file or directory named `name` in `parent`, and its attributes.
    fn make(
        &self,
        parent: INodeNo,
        name: &OsStr,
        body: Body,
        mode: u32,
    ) -> Result<FileAttr, Errno> {
        self.lock().and_then(|mut s| {
            let ino = s.add(parent.0, name, body, (mode & 0o7777) as u16)?;
            s.attr(ino).ok_or(Errno::EIO)
        })
    }
}

macro_rules! answer {
    ($reply:expr, $body:expr, |$v:ident| $ok:expr) => {
        match $body {
            Ok($v) => $ok,
            Err(e) => $reply.error(e),
        }
    };
}

impl Filesystem for Fs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let r = self.lock().and_then(|mut s| {
            let ino = *s.entries(parent.0)?.get(name).ok_or(Errno::ENOENT)?;
            s.attr(ino).ok_or(Errno::ENOENT)
        });
        answer!(reply, r, |a| reply.entry(&TTL, &a, Generation(0)));
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let r = self.lock().and_then(|s| s.attr(ino.0).ok_or(Errno::ENOENT));
        answer!(reply, r, |a| reply.attr(&TTL, &a));
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let r = self.lock().and_then(|mut s| {
            if let Some(len) = size {
                s.resize(ino.0, len)?;
            }
            if let Some(m) = mode {
                s.nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)?.perm = (m & 0o7777) as u16;
            }
            s.attr(ino.0).ok_or(Errno::ENOENT)
        });
        answer!(reply, r, |a| reply.attr(&TTL, &a));
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let r = self.make(parent, name, Body::empty_dir(), mode & !umask);
        answer!(reply, r, |a| reply.entry(&TTL, &a, Generation(0)));
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let r = self.make(parent, name, Body::empty_file(), mode & !umask);
        answer!(reply, r, |a| reply.created(
            &TTL,
            &a,
            Generation(0),
            FileHandle(0),
            FopenFlags::empty()
        ));
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let r = self.lock().and_then(|mut s| {
            let entries = s.entries(parent.0)?;
            entries.remove(name).map(|_| ()).ok_or(Errno::ENOENT)
        });
        answer!(reply, r, |_v| reply.ok());
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let r = self.lock().and_then(|mut s| {
            let ino = *s.entries(parent.0)?.get(name).ok_or(Errno::ENOENT)?;
            if !s.entries(ino)?.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            s.entries(parent.0)?.remove(name);
            Ok(())
        });
        answer!(reply, r, |_v| reply.ok());
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let r = self.lock().and_then(|mut s| {
            let ino = s.entries(parent.0)?.remove(name).ok_or(Errno::ENOENT)?;
            s.entries(newparent.0)?.insert(newname.to_os_string(), ino);
            Ok(())
        });
        answer!(reply, r, |_v| reply.ok());
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let r = self
            .lock()
            .and_then(|s| s.attr(ino.0).map(|_| ()).ok_or(Errno::ENOENT));
        answer!(reply, r, |_v| reply
            .opened(FileHandle(0), FopenFlags::empty()));
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let r = self.lock().and_then(|mut s| {
            let (data, _) = s.file(ino.0)?;
            let from = (offset as usize).min(data.len());
            let to = (from + size as usize).min(data.len());
            Ok(data[from..to].to_vec())
        });
        answer!(reply, r, |d| reply.data(&d));
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let r = self.lock().and_then(|mut s| s.write(ino.0, offset, data));
        answer!(reply, r, |_v| reply.written(data.len() as u32));
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        answer!(reply, self.lock().map(|_| ()), |_v| reply.ok());
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let r = self.lock().and_then(|mut s| s.sync(ino.0));
        answer!(reply, r, |_v| reply.ok());
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let r = self.lock().and_then(|mut s| s.entries(ino.0).map(|_| ()));
        answer!(reply, r, |_v| reply
            .opened(FileHandle(0), FopenFlags::empty()));
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let r = self.lock().and_then(|mut s| {
            let list: Vec<(OsString, u64)> = s
                .entries(ino.0)?
                .iter()
                .map(|(n, i)| (n.clone(), *i))
                .collect();
            let mut out = vec![
                (OsString::from("."), ino.0, FileType::Directory),
                (OsString::from(".."), 1, FileType::Directory),
            ];
            for (n, i) in list {
                let kind = s.attr(i).map_or(FileType::RegularFile, |a| a.kind);
                out.push((n, i, kind));
            }
            Ok(out)
        });
        match r {
            Ok(list) => {
                for (i, (name, child, kind)) in list.into_iter().enumerate().skip(offset as usize) {
                    if reply.add(INodeNo(child), (i + 1) as u64, kind, name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let r = self.lock().and_then(|mut s| s.sync(ino.0));
        answer!(reply, r, |_v| reply.ok());
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        answer!(reply, self.lock().map(|_| ()), |_v| reply.statfs(
            1 << 24,
            1 << 24,
            1 << 24,
            1 << 20,
            1 << 20,
            4096,
            255,
            4096
        ));
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        answer!(reply, self.lock().map(|_| ()), |_v| reply.ok());
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let r = self.lock().and_then(|mut s| {
            if mode != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            let len = s.file(ino.0)?.0.len() as u64;
            if offset + length > len {
                s.resize(ino.0, offset + length)?;
            }
            Ok(())
        });
        answer!(reply, r, |_v| reply.ok());
    }
}

/// A mounted powercut filesystem.
pub struct Disk {
    state: Arc<Mutex<State>>,
    session: Option<fuser::BackgroundSession>,
    mountpoint: PathBuf,
}

impl Disk {
    /// Mounts an empty filesystem at `mountpoint` (an existing, empty directory; needs root and /dev/fuse).
    pub fn mount(mountpoint: &Path) -> std::io::Result<Disk> {
        Disk::mount_image(mountpoint, &Image::empty())
    }

    /// Mounts `image` (what an earlier cut left) at `mountpoint`.
    pub fn mount_image(mountpoint: &Path, image: &Image) -> std::io::Result<Disk> {
        let state = Arc::new(Mutex::new(State::from_image(image)));
        let mut config = fuser::Config::default();
        config.mount_options = vec![
            MountOption::FSName("powercut".into()),
            MountOption::DefaultPermissions,
            MountOption::RW,
        ];
        let session = fuser::spawn_mount(Fs(state.clone()), mountpoint, &config)?;
        Ok(Disk {
            state,
            session: Some(session),
            mountpoint: mountpoint.to_path_buf(),
        })
    }

    /// Mounts `image` at `mountpoint` (made if missing) for a test: `None`,
    /// after saying the test is skipped, where FUSE cannot be mounted (no root
    /// or no /dev/fuse); under `CI=true` it panics instead, since CI has both.
    pub fn mount_for_test(mountpoint: &Path, image: &Image) -> Option<Disk> {
        if let Err(e) = std::fs::create_dir_all(mountpoint) {
            panic!("cannot make the mountpoint {}: {e}", mountpoint.display());
        }
        match Disk::mount_image(mountpoint, image) {
            Ok(d) => Some(d),
            Err(e) if std::env::var_os("CI").is_none() => {
                println!("SKIPPED: cannot mount the powercut FUSE filesystem here ({e}); it needs root and /dev/fuse");
                None
            }
            Err(e) => panic!("cannot mount the powercut FUSE filesystem: {e}"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// Cuts the power: from now on every operation fails with `EIO`. Returns
    /// what survives. The filesystem stays mounted (and failing) until
    /// [`Disk::unmount`] or drop, so that processes using it can be killed first.
    pub fn cut(&self, how: Cut) -> Image {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.powered = false;
        let mut rng = match how {
            Cut::DropAll => None,
            Cut::Reorder { seed } => Some(Rng(seed | 1)),
        };
        s.image(1, &mut rng)
    }

    /// How many syncs and writes the filesystem has been asked for.
    pub fn counts(&self) -> (u64, u64) {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        (s.syncs, s.writes)
    }

    /// Unmounts (lazily: anything still open sees errors).
    pub fn unmount(mut self) {
        self.unmount_now();
    }

    fn unmount_now(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = s.umount_and_join();
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        self.unmount_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(s: &mut State, name: &str) -> u64 {
        s.add(1, OsStr::new(name), Body::empty_file(), 0o644)
            .unwrap()
    }

    fn data_of(image: &Image, name: &str) -> Option<Vec<u8>> {
        match image {
            Image::Dir { entries, .. } => match entries.get(OsStr::new(name))? {
                Image::File { data, .. } => Some(data.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn only_synced_writes_and_synced_names_survive() {
        let mut s = State::from_image(&Image::empty());
        let f = file(&mut s, "a");
        s.write(f, 0, b"hello").unwrap();
        // The name is not durable until the directory is synced.
        assert_eq!(data_of(&s.image(1, &mut None), "a"), None);
        s.sync(1).unwrap();
        assert_eq!(data_of(&s.image(1, &mut None), "a"), Some(vec![]));
        s.sync(f).unwrap();
        s.write(f, 3, b"LO world").unwrap();
        s.resize(f, 4).unwrap();
        assert_eq!(
            data_of(&s.image(1, &mut None), "a"),
            Some(b"hello".to_vec())
        );
        s.sync(f).unwrap();
        assert_eq!(data_of(&s.image(1, &mut None), "a"), Some(b"helL".to_vec()));
        // An unsynced unlink does not stick either.
        s.entries(1).unwrap().remove(OsStr::new("a"));
        assert!(data_of(&s.image(1, &mut None), "a").is_some());
    }

    #[test]
    fn a_reordered_cut_keeps_some_unsynced_writes_in_any_order() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..64 {
            let mut s = State::from_image(&Image::empty());
            let f = file(&mut s, "a");
            s.sync(1).unwrap();
            s.write(f, 0, b"aaaa").unwrap();
            s.sync(f).unwrap();
            s.write(f, 0, b"b").unwrap();
            s.write(f, 0, b"c").unwrap();
            s.write(f, 4, b"dd").unwrap();
            let got = data_of(&s.image(1, &mut Some(Rng(seed * 2 + 1))), "a").unwrap();
            assert!(got.starts_with(b"a") || got.starts_with(b"b") || got.starts_with(b"c"));
            seen.insert(got);
        }
        // Nothing, some, all, and the two writes at 0 in both orders.
        assert!(seen.contains(b"aaaa".as_slice()));
        assert!(seen.contains(b"baaa".as_slice()) && seen.contains(b"caaa".as_slice()));
        assert!(seen.contains(b"caaadd".as_slice()));
    }
}
