//! The child side: the helpers every action shares, running on prepared data
//! with raw system calls only (no allocation, no locks, no panics).
//!
//! Destinations are resolved inside the new root: the executor opens the new
//! root and walks each destination one prefix at a time with
//! `openat2(RESOLVE_IN_ROOT)`, creating missing parents with `mkdirat` on the
//! parent's descriptor. A symlink in a destination therefore resolves as the
//! sandbox will see it and can never lead outside the new root. Mounts land on
//! the resolved descriptor (`move_mount`, or `mount(2)` through its
//! `/proc/self/fd` link), never on a path that could be re-resolved
//! differently.
//!
//! That holds for both mount methods: [`MountApi::Legacy`](crate::MountApi)
//! (or a kernel or seccomp profile without `mount_setattr`) changes how a
//! mount is made, not where. Where `openat2` itself is missing, a plan whose
//! destinations lie below a new root is refused before it changes anything
//! (see [`MountPlan::execute`](crate::MountPlan::execute)): a plain `openat`
//! from the new root would follow an absolute symlink or `..` out of it.

use std::cell::Cell;
use std::ffi::CStr;
use std::os::fd::RawFd;

use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::mount::MountFlags;

use crate::failure::{BindStage, Fail, Fault};
use crate::op::Dest;
use crate::plan::MountPlan;
use crate::rollback::{CREATED_DIR, CREATED_FILE, Entry, MOUNTED};
use crate::sys::{AT_FDCWD, Sys};

/// A descriptor the executor opened; closed when dropped.
pub(crate) struct Fd<'a, S: Sys> {
    sys: &'a S,
    raw: RawFd,
}

impl<S: Sys> Fd<'_, S> {
    pub(crate) fn raw(&self) -> RawFd {
        self.raw
    }
}

impl<S: Sys> Drop for Fd<'_, S> {
    fn drop(&mut self) {
        self.sys.close(self.raw);
    }
}

/// The directory a destination's last component lives in.
pub(crate) enum Parent<'a, S: Sys> {
    /// The new root itself.
    Root,
    /// A directory below it.
    Dir(Fd<'a, S>),
    /// A parent is a dangling symlink: bubblewrap ignores that while creating
    /// parents and fails on the destination itself, with ENOENT.
    Missing,
}

impl<S: Sys> Parent<'_, S> {
    fn raw(&self, root: RawFd) -> Result<RawFd, Errno> {
        match self {
            Self::Root => Ok(root),
            Self::Dir(fd) => Ok(fd.raw()),
            Self::Missing => Err(Errno::NOENT),
        }
    }
}

/// A bind source: a descriptor-relative path for `open_tree`, and the same
/// place as a path from the setup root for the legacy API.
pub(crate) struct Src<'p> {
    pub(crate) dirfd: RawFd,
    pub(crate) rel: &'p CStr,
    pub(crate) abs: &'p CStr,
}

impl<'p> Src<'p> {
    /// A source given by its path from the setup root.
    pub(crate) fn path(path: &'p CStr) -> Self {
        Self {
            dirfd: AT_FDCWD,
            rel: path,
            abs: path,
        }
    }
}

/// A path through the `/proc/self/fd` link of a descriptor, in a stack buffer.
pub(crate) struct FdPath {
    buf: [u8; 64],
}

impl FdPath {
    pub(crate) fn new(prefix: &str, fd: RawFd) -> Self {
        let mut buf = [0u8; 64];
        let prefix = prefix.as_bytes();
        let mut len = prefix.len().min(40);
        buf[..len].copy_from_slice(&prefix[..len]);
        let mut digits = [0u8; 12];
        let mut n = fd.unsigned_abs();
        let mut count = 0;
        loop {
            // `n % 10` is below 10, so the cast cannot truncate.
            digits[count] = b'0' + u8::try_from(n % 10).unwrap_or(0);
            count += 1;
            n /= 10;
            if n == 0 || count == digits.len() {
                break;
            }
        }
        for d in digits[..count].iter().rev() {
            buf[len] = *d;
            len += 1;
        }
        Self { buf }
    }

    pub(crate) fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"/")
    }
}

/// Write all of `bytes` to `fd`.
pub(crate) fn write_all(sys: &impl Sys, fd: RawFd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match sys.write(fd, bytes) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The executor of one plan run.
pub(crate) struct Exec<'a, S: Sys> {
    pub(crate) sys: &'a S,
    pub(crate) plan: &'a MountPlan,
    /// The new mount API is in use; otherwise `mount(2)` on descriptor
    /// links.
    pub(crate) modern: bool,
    /// Lookups below the new root use `openat2(RESOLVE_IN_ROOT)`. Only false
    /// where the new root is the process's root, where a plain lookup is the
    /// same.
    pub(crate) in_root: bool,
    /// A descriptor one root-switch step keeps for a later one (the chroot
    /// mode's copy of the host tree); -1 when none.
    pub(crate) held: Cell<RawFd>,
}

impl<'a, S: Sys> Exec<'a, S> {
    /// Close the held descriptor, if any.
    pub(crate) fn release_held(&self) {
        let fd = self.held.replace(-1);
        if fd >= 0 {
            self.sys.close(fd);
        }
    }

    pub(crate) fn fd(&self, raw: RawFd) -> Fd<'a, S> {
        Fd { sys: self.sys, raw }
    }

    /// The new root, freshly opened: a mount on the root itself by an earlier
    /// action covers any descriptor opened before it.
    pub(crate) fn root(&self) -> Result<Fd<'a, S>, Errno> {
        self.sys
            .open(
                AT_FDCWD,
                self.plan.layout.new_root,
                OFlags::PATH | OFlags::DIRECTORY,
                0,
                false,
            )
            .map(|raw| self.fd(raw))
    }

    /// Open `rel` below the new root `root`, inside it.
    pub(crate) fn open_in(
        &self,
        root: RawFd,
        rel: &CStr,
        flags: OFlags,
    ) -> Result<Fd<'a, S>, Errno> {
        self.sys
            .open(root, rel, flags, 0, self.in_root)
            .map(|raw| self.fd(raw))
    }

    /// Create the missing parents of `dest` (mode `dest.parent_mode`),
    /// journaling the first one created.
    pub(crate) fn parents(
        &self,
        root: RawFd,
        dest: &Dest,
        entry: &Entry,
    ) -> Result<Parent<'a, S>, Errno> {
        let mut parent = Parent::Root;
        let last = dest.parents.len().saturating_sub(1);
        for (i, (prefix, name)) in dest.parents.iter().enumerate() {
            let dir = OFlags::PATH | OFlags::DIRECTORY;
            match self.open_in(root, prefix, dir) {
                Ok(fd) => parent = Parent::Dir(fd),
                Err(Errno::NOENT) => {
                    match self.sys.mkdirat(parent.raw(root)?, name, dest.parent_mode) {
                        Ok(()) => entry.created_parent(i),
                        Err(Errno::EXIST) => {}
                        Err(e) => return Err(e),
                    }
                    match self.open_in(root, prefix, dir) {
                        Ok(fd) => parent = Parent::Dir(fd),
                        Err(Errno::NOENT) if i == last => return Ok(Parent::Missing),
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(parent)
    }

    /// bubblewrap's `ensure_dir`: an existing directory is used as it is,
    /// a missing one is created with `mode`; anything else is ENOTDIR.
    pub(crate) fn ensure_dir(
        &self,
        root: RawFd,
        dest: &Dest,
        parent: &Parent<'a, S>,
        mode: u32,
        entry: &Entry,
    ) -> Result<Fd<'a, S>, Errno> {
        let dir = OFlags::PATH | OFlags::DIRECTORY;
        match self.open_in(root, &dest.rel, dir) {
            Err(Errno::NOENT) => {}
            other => return other,
        }
        match self.sys.mkdirat(parent.raw(root)?, &dest.name, mode) {
            Ok(()) => entry.mark(CREATED_DIR),
            Err(Errno::EXIST) => {}
            Err(e) => return Err(e),
        }
        self.open_in(root, &dest.rel, dir)
    }

    /// bubblewrap's `ensure_file`: any existing non-directory is used as it
    /// is, a missing one is created empty with mode 0444.
    pub(crate) fn ensure_file(
        &self,
        root: RawFd,
        dest: &Dest,
        parent: &Parent<'a, S>,
        entry: &Entry,
    ) -> Result<Fd<'a, S>, Errno> {
        match self.open_in(root, &dest.rel, OFlags::PATH) {
            Ok(fd) => {
                if self.sys.fstat(fd.raw())?.is_dir {
                    return Err(Errno::ISDIR);
                }
                return Ok(fd);
            }
            Err(Errno::NOENT) => {}
            Err(e) => return Err(e),
        }
        let flags = OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW;
        match self
            .sys
            .open(parent.raw(root)?, &dest.name, flags, 0o444, false)
        {
            Ok(raw) => {
                drop(self.fd(raw));
                entry.mark(CREATED_FILE);
            }
            Err(Errno::EXIST) => {}
            Err(e) => return Err(e),
        }
        self.open_in(root, &dest.rel, OFlags::PATH)
    }

    /// Parents, then a directory (or a file) at `dest` to mount on; the
    /// descriptor of the mount point.
    pub(crate) fn prepare(
        &self,
        dest: &Dest,
        dir: bool,
        entry: &Entry,
    ) -> Result<Fd<'a, S>, Fault> {
        let root = self.root().map_err(|e| Fault::new(Fail::Parents, 0, e))?;
        let parent = self
            .parents(root.raw(), dest, entry)
            .map_err(|e| Fault::new(Fail::Parents, 0, e))?;
        if dir {
            self.ensure_dir(root.raw(), dest, &parent, 0o755, entry)
                .map_err(|e| Fault::new(Fail::MkdirDest, 0, e))
        } else {
            self.ensure_file(root.raw(), dest, &parent, entry)
                .map_err(|e| Fault::new(Fail::CreateFileAt, 0, e))
        }
    }

    /// The destination once something is mounted on it: a descriptor of the
    /// mount's root.
    pub(crate) fn reopen(&self, dest: &Dest, flags: OFlags) -> Result<Fd<'a, S>, Errno> {
        let root = self.root()?;
        self.open_in(root.raw(), &dest.rel, flags)
    }

    /// The `/proc/self/fd` path of `fd` as the setup root sees it.
    pub(crate) fn fd_path(&self, fd: RawFd) -> FdPath {
        FdPath::new(self.plan.layout.fd_links, fd)
    }

    /// Mount a new `fstype` instance on `target`, through its descriptor
    /// link (`mount(2)` has no descriptor form for a new instance).
    pub(crate) fn mount_fs(
        &self,
        fstype: &CStr,
        target: RawFd,
        flags: MountFlags,
        data: Option<&CStr>,
    ) -> Result<(), Errno> {
        let link = self.fd_path(target);
        self.sys.mount_fs(fstype, link.as_cstr(), flags, data)
    }

    /// A recursive bind of `src` on `target` with `set` added to every mount
    /// of the copied tree. Modern: clone the tree, set the flags on the whole
    /// detached copy in one call, attach it. Legacy: bind on the target's
    /// descriptor link, then remount the new mount's top and walk the mount
    /// table for its submounts (bubblewrap's method). `reopen` finds the new
    /// mount's root for that: `target` still names the directory under it.
    pub(crate) fn bind(
        &self,
        src: &Src<'_>,
        target: RawFd,
        set: MountFlags,
        entry: &Entry,
        reopen: impl FnOnce() -> Result<Fd<'a, S>, Errno>,
    ) -> Result<(), (BindStage, Errno)> {
        if self.modern {
            let tree = self
                .sys
                .open_tree(src.dirfd, src.rel)
                .map_err(|e| (BindStage::Mount, e))?;
            let tree = self.fd(tree);
            self.sys
                .mount_setattr(tree.raw(), true, set)
                .map_err(|e| (BindStage::Flags, e))?;
            self.sys
                .move_mount(tree.raw(), target)
                .map_err(|e| (BindStage::Mount, e))?;
            entry.mark(MOUNTED);
            return Ok(());
        }
        let link = self.fd_path(target);
        self.sys
            .bind(src.abs, link.as_cstr(), true)
            .map_err(|e| (BindStage::Mount, e))?;
        entry.mark(MOUNTED);
        let top = reopen().map_err(|e| (BindStage::Flags, e))?;
        let current = self
            .sys
            .mount_flags(top.raw())
            .map_err(|e| (BindStage::Flags, e))?;
        let top_link = self.fd_path(top.raw());
        if !current.contains(set) {
            self.sys
                .remount_bind(top_link.as_cstr(), current | set)
                .map_err(|e| (BindStage::Flags, e))?;
        }
        self.sys
            .remount_submounts(self.plan.layout.mountinfo, top_link.as_cstr(), set)
            .map_err(|e| (BindStage::Submounts, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_paths_spell_the_number() {
        assert_eq!(
            FdPath::new("/oldroot/proc/self/fd/", 7).as_cstr(),
            c"/oldroot/proc/self/fd/7"
        );
        assert_eq!(
            FdPath::new("/proc/self/fd/", 1234).as_cstr(),
            c"/proc/self/fd/1234"
        );
        assert_eq!(
            FdPath::new("/proc/self/fd/", 0).as_cstr(),
            c"/proc/self/fd/0"
        );
    }
}
