//! A recording fake of [`Sys`] for unit tests: every call is logged as text,
//! any call can be made to fail, and a small model filesystem (directories,
//! files, symlinks, a stack of mounts) lets tests check what a failed run
//! left behind. Paths are taken literally (no root switch is simulated):
//! tests pre-populate `/newroot` and `/oldroot/...`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::ffi::CStr;
use std::os::fd::RawFd;

use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use crate::child::sys::{AT_FDCWD, FileInfo, Sys};

/// A node of the model filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    Dir(u32),
    File(u32, Vec<u8>),
    Link(String),
}

/// Fake descriptors start here so they never collide with real ones.
const FIRST_FD: RawFd = 1000;

pub(crate) struct Fake {
    pub(crate) calls: RefCell<Vec<String>>,
    /// Fail the call with this index (counting every call but `close`).
    pub(crate) fail_at: Option<usize>,
    pub(crate) fail_errno: Errno,
    pub(crate) modern: bool,
    /// What the `openat2` probe answers.
    pub(crate) in_root: Result<(), Errno>,
    pub(crate) fs: RefCell<BTreeMap<String, Node>>,
    /// Mount targets, innermost last, with the paths below each that existed
    /// when it was mounted (what an unmount uncovers).
    pub(crate) mounts: RefCell<Vec<(String, Vec<String>)>>,
    pub(crate) fds: RefCell<HashMap<RawFd, String>>,
    pub(crate) next_fd: Cell<RawFd>,
    pub(crate) cwd: RefCell<String>,
    pub(crate) counted: Cell<usize>,
    /// Device and inode `fstat` reports for these paths (by default made up
    /// from the path).
    pub(crate) ids: RefCell<HashMap<String, (u64, u64)>>,
}

impl Default for Fake {
    fn default() -> Self {
        let mut fs = BTreeMap::new();
        for dir in ["/", "/tmp", "/newroot", "/oldroot", "/oldroot/proc"] {
            fs.insert(dir.to_owned(), Node::Dir(0o755));
        }
        Self {
            calls: RefCell::default(),
            fail_at: None,
            fail_errno: Errno::PERM,
            modern: true,
            in_root: Ok(()),
            fs: RefCell::new(fs),
            mounts: RefCell::default(),
            fds: RefCell::default(),
            next_fd: Cell::new(FIRST_FD),
            cwd: RefCell::new("/".into()),
            counted: Cell::new(0),
            ids: RefCell::default(),
        }
    }
}

fn s(c: &CStr) -> String {
    c.to_string_lossy().into_owned()
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => path[..i].into(),
    }
}

impl Fake {
    pub(crate) fn failing_at(call: usize) -> Self {
        Self {
            fail_at: Some(call),
            ..Self::default()
        }
    }

    pub(crate) fn add(&self, path: &str, node: Node) {
        self.fs.borrow_mut().insert(path.into(), node);
    }

    pub(crate) fn dirs(&self, paths: &[&str]) {
        for p in paths {
            self.add(p, Node::Dir(0o755));
        }
    }

    /// Make `path` in the model the real directory `host` (as far as
    /// `fstat` tells): what a compiled `--rootfs` expects to find.
    pub(crate) fn same_as_host(&self, path: &str, host: &str) {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::metadata(host) {
            self.ids
                .borrow_mut()
                .insert(path.into(), (meta.dev(), meta.ino()));
        }
    }

    pub(crate) fn exists(&self, path: &str) -> bool {
        self.fs.borrow().contains_key(path)
    }

    pub(crate) fn node(&self, path: &str) -> Option<Node> {
        self.fs.borrow().get(path).cloned()
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<String, Node> {
        self.fs.borrow().clone()
    }

    pub(crate) fn log(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    /// Record `call`; fail it when it is the chosen one.
    fn record(&self, call: String) -> Result<(), Errno> {
        self.calls.borrow_mut().push(call);
        let n = self.counted.get();
        self.counted.set(n + 1);
        if self.fail_at == Some(n) {
            return Err(self.fail_errno);
        }
        Ok(())
    }

    /// The number of calls that can fail made so far.
    pub(crate) fn counted(&self) -> usize {
        self.counted.get()
    }

    /// What a `/proc/self/fd` link of an open fake descriptor refers to.
    fn fd_link(&self, path: &str) -> Option<String> {
        ["/oldroot/proc/self/fd/", "/proc/self/fd/"]
            .iter()
            .find_map(|links| path.strip_prefix(links)?.parse::<RawFd>().ok())
            .and_then(|fd| self.fds.borrow().get(&fd).cloned())
    }

    fn resolve(&self, dirfd: RawFd, path: &str) -> String {
        if let Some(target) = self.fd_link(path) {
            return target;
        }
        if path.starts_with('/') {
            return normalize(path);
        }
        let base = if dirfd == AT_FDCWD {
            self.cwd.borrow().clone()
        } else {
            self.fds.borrow().get(&dirfd).cloned().unwrap_or_default()
        };
        normalize(&format!("{base}/{path}"))
    }

    /// Look `path` up from the directory `base` one component at a time,
    /// following symlinks (the last one only with `follow_last`). With
    /// `in_root`, `base` is the root of the lookup: absolute targets and
    /// `..` stay inside it (`RESOLVE_IN_ROOT`); without, they are relative
    /// to the model's `/`, as a plain `openat` from the setup root sees them.
    fn walk(&self, base: &str, path: &str, follow_last: bool, in_root: bool) -> String {
        let top = if in_root { base.to_owned() } else { "/".into() };
        let join = |dir: &str, name: &str| normalize(&format!("{dir}/{name}"));
        let mut cur = if path.starts_with('/') {
            top.clone()
        } else {
            base.to_owned()
        };
        let mut pending: std::collections::VecDeque<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect();
        let mut hops = 0;
        while let Some(part) = pending.pop_front() {
            match part.as_str() {
                "." => {}
                ".." => {
                    if cur != top {
                        cur = parent_of(&cur);
                    }
                }
                name => {
                    let next = join(&cur, name);
                    let follow = follow_last || !pending.is_empty();
                    match self.node(&next) {
                        Some(Node::Link(target)) if follow && hops < 40 => {
                            hops += 1;
                            let mut parts: std::collections::VecDeque<String> = target
                                .split('/')
                                .filter(|c| !c.is_empty())
                                .map(String::from)
                                .collect();
                            parts.extend(pending.drain(..));
                            pending = parts;
                            if target.starts_with('/') {
                                cur = top.clone();
                            }
                        }
                        _ => cur = next,
                    }
                }
            }
        }
        cur
    }

    /// Follow a final symlink (absolute targets only; enough for tests).
    fn follow(&self, path: String) -> String {
        match self.node(&path) {
            Some(Node::Link(target)) if target.starts_with('/') => normalize(&target),
            Some(Node::Link(target)) => normalize(&format!("{}/{target}", parent_of(&path))),
            _ => path,
        }
    }

    fn new_fd(&self, path: String) -> RawFd {
        let fd = self.next_fd.get();
        self.next_fd.set(fd + 1);
        self.fds.borrow_mut().insert(fd, path);
        fd
    }

    fn fd_path(&self, fd: RawFd) -> String {
        self.fds
            .borrow()
            .get(&fd)
            .cloned()
            .unwrap_or_else(|| format!("fd{fd}"))
    }

    /// Whether any descriptor is still open.
    pub(crate) fn open_fds(&self) -> Vec<String> {
        self.fds.borrow().values().cloned().collect()
    }

    fn mount_at(&self, target: String) {
        let below: Vec<String> = self
            .fs
            .borrow()
            .keys()
            .filter(|k| k.starts_with(&format!("{target}/")))
            .cloned()
            .collect();
        self.mounts.borrow_mut().push((target, below));
    }

    fn is_mounted(&self, path: &str) -> bool {
        self.mounts.borrow().iter().any(|(t, _)| t == path)
    }

    fn info(&self, path: &str) -> Result<FileInfo, Errno> {
        match self.node(path) {
            Some(Node::Dir(mode)) => {
                let (dev, ino) = self
                    .ids
                    .borrow()
                    .get(path)
                    .copied()
                    .unwrap_or((1, u64::try_from(path.len()).unwrap_or(0)));
                Ok(FileInfo {
                    is_dir: true,
                    dev,
                    ino,
                    mode,
                })
            }
            Some(Node::File(mode, _)) => Ok(FileInfo {
                is_dir: false,
                dev: 1,
                ino: u64::try_from(path.len()).unwrap_or(0),
                mode,
            }),
            Some(Node::Link(_)) => Ok(FileInfo::default()),
            None => Err(Errno::NOENT),
        }
    }

    fn create_check(&self, path: &str) -> Result<(), Errno> {
        if self.exists(path) {
            return Err(Errno::EXIST);
        }
        match self.node(&parent_of(path)) {
            Some(Node::Dir(_)) => Ok(()),
            Some(_) => Err(Errno::NOTDIR),
            None => Err(Errno::NOENT),
        }
    }
}

impl Sys for Fake {
    fn new_mount_api(&self) -> bool {
        self.modern
    }

    fn resolve_in_root(&self) -> Result<(), Errno> {
        self.in_root
    }

    fn propagation(&self, target: &CStr, flags: MountPropagationFlags) -> Result<(), Errno> {
        let kind = if flags.contains(MountPropagationFlags::DOWNSTREAM) {
            "slave"
        } else {
            "private"
        };
        self.record(format!("{kind} {}", s(target)))
    }

    fn mount_fs(
        &self,
        fstype: &CStr,
        target: &CStr,
        _: MountFlags,
        data: Option<&CStr>,
    ) -> Result<(), Errno> {
        let path = self.resolve(AT_FDCWD, &s(target));
        self.record(format!(
            "mount {} {path}{}",
            s(fstype),
            data.map(|d| format!(" {}", s(d))).unwrap_or_default()
        ))?;
        self.mount_at(path);
        Ok(())
    }

    fn bind(&self, source: &CStr, target: &CStr, recursive: bool) -> Result<(), Errno> {
        let path = self.resolve(AT_FDCWD, &s(target));
        self.record(format!(
            "bind{} {} {path}",
            if recursive { "-r" } else { "" },
            self.resolve(AT_FDCWD, &s(source))
        ))?;
        self.mount_at(path);
        Ok(())
    }

    fn remount_bind(&self, target: &CStr, flags: MountFlags) -> Result<(), Errno> {
        let path = self.resolve(AT_FDCWD, &s(target));
        self.record(format!("remount {path} {flags:?}"))
    }

    fn mount_flags(&self, fd: RawFd) -> Result<MountFlags, Errno> {
        self.record(format!("statvfs {}", self.fd_path(fd)))?;
        Ok(MountFlags::empty())
    }

    fn remount_submounts(&self, _: &CStr, target: &CStr, add: MountFlags) -> Result<(), Errno> {
        let path = self.resolve(AT_FDCWD, &s(target));
        self.record(format!("remount-below {path} {add:?}"))
    }

    fn unmount(&self, target: &CStr, _: UnmountFlags) -> Result<(), Errno> {
        let path = self.resolve(AT_FDCWD, &s(target));
        self.record(format!("umount {path}"))?;
        let mut mounts = self.mounts.borrow_mut();
        // Mounts the model does not track (the host's) unmount silently.
        let Some(i) = mounts.iter().rposition(|(t, _)| *t == path) else {
            return Ok(());
        };
        let (target, before) = mounts.remove(i);
        // A lazy unmount takes the mounts below with it.
        let below = format!("{target}/");
        let mut j = i;
        while j < mounts.len() {
            if mounts[j].0.starts_with(&below) {
                mounts.remove(j);
            } else {
                j += 1;
            }
        }
        drop(mounts);
        // The mount's content goes; what it covered is back.
        self.fs
            .borrow_mut()
            .retain(|k, _| !k.starts_with(&below) || before.contains(k));
        Ok(())
    }

    fn open_tree(&self, dirfd: RawFd, path: &CStr) -> Result<RawFd, Errno> {
        let path = self.resolve(dirfd, &s(path));
        self.record(format!("open_tree {path}"))?;
        Ok(self.new_fd(format!("tree:{path}")))
    }

    fn mount_setattr(&self, fd: RawFd, recursive: bool, set: MountFlags) -> Result<(), Errno> {
        self.record(format!(
            "setattr{} {} {set:?}",
            if recursive { "-r" } else { "" },
            self.fd_path(fd)
        ))
    }

    fn move_mount(&self, from: RawFd, to: RawFd) -> Result<(), Errno> {
        let target = self.fd_path(to);
        self.record(format!("move_mount {} {target}", self.fd_path(from)))?;
        self.mount_at(target);
        Ok(())
    }

    fn is_mount_root(&self, fd: RawFd) -> Result<bool, Errno> {
        let path = self.fd_path(fd);
        self.record(format!("is_mount_root {path}"))?;
        Ok(self.is_mounted(&path))
    }

    fn mkdir(&self, path: &CStr, mode: u32) -> Result<(), Errno> {
        let path = self.resolve(AT_FDCWD, &s(path));
        self.record(format!("mkdir {path} {mode:o}"))?;
        self.create_check(&path)?;
        self.add(&path, Node::Dir(mode));
        Ok(())
    }

    fn mkdirat(&self, dirfd: RawFd, name: &CStr, mode: u32) -> Result<(), Errno> {
        let path = self.resolve(dirfd, &s(name));
        self.record(format!("mkdir {path} {mode:o}"))?;
        self.create_check(&path)?;
        self.add(&path, Node::Dir(mode));
        Ok(())
    }

    fn open(
        &self,
        dirfd: RawFd,
        path: &CStr,
        flags: OFlags,
        mode: u32,
        in_root: bool,
    ) -> Result<RawFd, Errno> {
        let raw = self.resolve(dirfd, &s(path));
        let how = if in_root { "openat2" } else { "open" };
        let creating = flags.contains(OFlags::CREATE);
        let what = if creating {
            format!("create {raw} {mode:o}")
        } else {
            format!("{how} {raw}")
        };
        self.record(what)?;
        let follow_last = !flags.contains(OFlags::NOFOLLOW);
        let text = s(path);
        let path = if let Some(target) = self.fd_link(&text) {
            target
        } else {
            let base = if dirfd == AT_FDCWD {
                self.cwd.borrow().clone()
            } else {
                self.fd_path(dirfd)
            };
            self.walk(&base, &text, follow_last, in_root)
        };
        match self.node(&path) {
            None if creating => {
                self.create_check(&path)?;
                self.add(&path, Node::File(mode, Vec::new()));
            }
            None => return Err(Errno::NOENT),
            Some(_) if creating && flags.contains(OFlags::EXCL) => return Err(Errno::EXIST),
            Some(Node::Dir(_)) if flags.contains(OFlags::WRONLY) => return Err(Errno::ISDIR),
            Some(Node::File(..) | Node::Link(_)) if flags.contains(OFlags::DIRECTORY) => {
                return Err(Errno::NOTDIR);
            }
            Some(Node::File(m, _)) if flags.contains(OFlags::TRUNC) => {
                self.add(&path, Node::File(m, Vec::new()));
            }
            Some(_) => {}
        }
        Ok(self.new_fd(path))
    }

    fn open_no_symlinks(&self, dirfd: RawFd, path: &CStr, flags: OFlags) -> Result<RawFd, Errno> {
        let text = s(path);
        self.record(format!("openat2-nosym {}", self.resolve(dirfd, &text)))?;
        let parts: Vec<&str> = text.split('/').filter(|c| !c.is_empty()).collect();
        let mut cur = self.fd_path(dirfd);
        for (i, part) in parts.iter().enumerate() {
            cur = normalize(&format!("{cur}/{part}"));
            let last = i + 1 == parts.len();
            match self.node(&cur) {
                None => return Err(Errno::NOENT),
                Some(Node::Link(_)) => return Err(Errno::LOOP),
                Some(Node::File(..)) if !last || flags.contains(OFlags::DIRECTORY) => {
                    return Err(Errno::NOTDIR);
                }
                Some(_) => {}
            }
        }
        Ok(self.new_fd(cur))
    }

    fn close(&self, fd: RawFd) {
        if fd >= FIRST_FD {
            self.calls
                .borrow_mut()
                .push(format!("close {}", self.fd_path(fd)));
            self.fds.borrow_mut().remove(&fd);
        } else {
            self.calls.borrow_mut().push(format!("close fd{fd}"));
        }
    }

    fn fstat(&self, fd: RawFd) -> Result<FileInfo, Errno> {
        let path = self.fd_path(fd);
        self.record(format!("fstat {path}"))?;
        self.info(&path)
    }

    fn stat(&self, path: &CStr) -> Result<FileInfo, Errno> {
        let path = self.follow(self.resolve(AT_FDCWD, &s(path)));
        self.record(format!("stat {path}"))?;
        self.info(&path)
    }

    fn write(&self, fd: RawFd, bytes: &[u8]) -> Result<usize, Errno> {
        if fd < FIRST_FD {
            // A real descriptor (the detail pipe).
            // SAFETY: the test owns the pipe for the duration of the call.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            return rustix::io::write(borrowed, bytes);
        }
        let path = self.fd_path(fd);
        self.record(format!("write {path} {}", bytes.len()))?;
        let mut fs = self.fs.borrow_mut();
        if let Some(Node::File(_, data)) = fs.get_mut(&path) {
            data.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn symlinkat(&self, target: &CStr, dirfd: RawFd, name: &CStr) -> Result<(), Errno> {
        let path = self.resolve(dirfd, &s(name));
        self.record(format!("symlink {path} -> {}", s(target)))?;
        self.create_check(&path)?;
        self.add(&path, Node::Link(s(target)));
        Ok(())
    }

    fn readlinkat(&self, dirfd: RawFd, name: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
        let path = self.resolve(dirfd, &s(name));
        self.record(format!("readlink {path}"))?;
        match self.node(&path) {
            Some(Node::Link(target)) => {
                let n = target.len().min(buf.len());
                buf[..n].copy_from_slice(&target.as_bytes()[..n]);
                Ok(n)
            }
            Some(_) => Err(Errno::INVAL),
            None => Err(Errno::NOENT),
        }
    }

    fn unlinkat(&self, dirfd: RawFd, name: &CStr, dir: bool) -> Result<(), Errno> {
        let path = self.resolve(dirfd, &s(name));
        self.record(format!("{} {path}", if dir { "rmdir" } else { "unlink" }))?;
        if self.is_mounted(&path) {
            return Err(Errno::BUSY);
        }
        let node = self.node(&path).ok_or(Errno::NOENT)?;
        match (node, dir) {
            (Node::Dir(_), true) => {
                if self
                    .fs
                    .borrow()
                    .keys()
                    .any(|k| k.starts_with(&format!("{path}/")))
                {
                    return Err(Errno::NOTEMPTY);
                }
            }
            (Node::Dir(_), false) => return Err(Errno::ISDIR),
            (_, true) => return Err(Errno::NOTDIR),
            (_, false) => {}
        }
        self.fs.borrow_mut().remove(&path);
        Ok(())
    }

    fn chmod(&self, path: &CStr, mode: u32) -> Result<(), Errno> {
        let path = self.follow(self.resolve(AT_FDCWD, &s(path)));
        self.record(format!("chmod {path} {mode:o}"))?;
        let mut fs = self.fs.borrow_mut();
        match fs.get_mut(&path) {
            Some(Node::Dir(m) | Node::File(m, _)) => {
                *m = mode;
                Ok(())
            }
            _ => Err(Errno::NOENT),
        }
    }

    fn fchmod(&self, fd: RawFd, mode: u32) -> Result<(), Errno> {
        let path = self.fd_path(fd);
        self.record(format!("fchmod {path} {mode:o}"))?;
        if let Some(Node::File(m, _)) = self.fs.borrow_mut().get_mut(&path) {
            *m = mode;
        }
        Ok(())
    }

    fn access_write(&self, dirfd: RawFd, name: &CStr) -> Result<(), Errno> {
        let path = self.resolve(dirfd, &s(name));
        self.record(format!("access {path}"))?;
        if self.exists(&path) {
            Ok(())
        } else {
            Err(Errno::NOENT)
        }
    }

    fn chdir(&self, path: &CStr) -> Result<(), Errno> {
        let path = self.resolve(AT_FDCWD, &s(path));
        self.record(format!("chdir {path}"))?;
        *self.cwd.borrow_mut() = path;
        Ok(())
    }

    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> Result<(), Errno> {
        self.record(format!("pivot {} {}", s(new_root), s(put_old)))
    }

    fn chroot(&self, path: &CStr) -> Result<(), Errno> {
        self.record(format!("chroot {}", s(path)))
    }

    fn umask(&self, mask: u32) -> u32 {
        self.calls.borrow_mut().push(format!("umask {mask:o}"));
        0o22
    }

    fn is_dir(&self, path: &CStr) -> bool {
        matches!(
            self.node(&self.resolve(AT_FDCWD, &s(path))),
            Some(Node::Dir(_))
        )
    }
}
