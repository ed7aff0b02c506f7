//! Destinations, looked up and created inside the new root.
//!
//! Destinations are resolved inside the new root: every lookup starts from
//! a descriptor of the new root with `openat2(RESOLVE_IN_ROOT)`, and missing
//! parents are created with `mkdirat` on the parent's descriptor. A symlink
//! in a destination therefore resolves as the sandbox will see it and can
//! never lead outside the new root. Mounts land on the resolved descriptor
//! (`move_mount`, or `mount(2)` through its `/proc/self/fd` link), never on a
//! path that could be re-resolved differently.
//!
//! Most destinations exist already (a bound host tree brings them) or have
//! all their parents: a destination is looked up whole first, its deepest
//! parent next, and the walk that creates parents one prefix at a time
//! runs only when those are missing. Each shortcut is taken only where the
//! full walk would have found the same thing and changed nothing. The first
//! lookup refuses symlinks (`RESOLVE_NO_SYMLINKS`) and, failing that for a
//! reason other than a missing name, is repeated following them: a
//! destination found without a symlink is strictly below the new root, so
//! a mount on it leaves the runner's kept root descriptor valid (see
//! [`MountPoint`]).
//!
//! That holds for both mount methods: [`MountApi::Legacy`](crate::MountApi)
//! (or a kernel or seccomp profile without `mount_setattr`) changes how a
//! mount is made, not where. Where `openat2` itself is missing, a plan whose
//! destinations lie below a new root is refused before it changes anything
//! (see [`MountPlan::execute`](crate::MountPlan::execute)): a plain `openat`
//! from the new root would follow an absolute symlink or `..` out of it.

use std::ffi::CStr;
use std::os::fd::RawFd;

use rustix::fs::OFlags;
use rustix::io::Errno;

use super::fault::Fault;
use super::journal::{CREATED_DIR, CREATED_FILE, Entry};
use super::runner::{Fd, MountPoint, Runner};
use super::sys::Sys;
use crate::failure::Fail;
use crate::op::Dest;

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

impl<'a, S: Sys> Runner<'a, S> {
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

    /// Look `dest` up below the new root `root`, inside it: first without
    /// following any symlink, which proves the result is strictly below the
    /// root; if that meets a symlink (or fails otherwise), following them as
    /// the sandbox will.
    pub(crate) fn lookup(
        &self,
        root: RawFd,
        dest: &Dest,
        flags: OFlags,
    ) -> Result<MountPoint<'a, S>, Errno> {
        if self.in_root && dest.plain {
            match self.sys.open_no_symlinks(root, &dest.rel, flags) {
                Ok(raw) => return Ok(MountPoint::below_root(self.fd(raw))),
                // The lookup met no symlink before the missing name: one
                // that follows symlinks takes the same way to the same end.
                Err(Errno::NOENT) => return Err(Errno::NOENT),
                Err(_) => {}
            }
        }
        self.open_in(root, &dest.rel, flags)
            .map(MountPoint::anywhere)
    }

    /// Create the missing parents of `dest` (mode `dest.parent_mode`),
    /// journaling the first one created.
    pub(crate) fn parents(
        &self,
        root: RawFd,
        dest: &Dest,
        entry: &Entry,
    ) -> Result<Parent<'a, S>, Errno> {
        let dir = OFlags::PATH | OFlags::DIRECTORY;
        // When the deepest parent resolves, every shallower one does (the
        // lookup went through each), and the walk below would create
        // nothing and end on that same directory.
        if dest.parents.len() > 1
            && let Some((deepest, _)) = dest.parents.last()
            && let Ok(fd) = self.open_in(root, deepest, dir)
        {
            return Ok(Parent::Dir(fd));
        }
        let mut parent = Parent::Root;
        let last = dest.parents.len().saturating_sub(1);
        for (i, (prefix, name)) in dest.parents.iter().enumerate() {
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
    ) -> Result<MountPoint<'a, S>, Errno> {
        match self.lookup(root, dest, OFlags::PATH | OFlags::DIRECTORY) {
            Err(Errno::NOENT) => {}
            other => return other,
        }
        self.make_dir(root, dest, parent, mode, entry)
    }

    /// [`Runner::ensure_dir`] once `dest` was found missing. Should it
    /// exist after all, `mkdirat` says so and it is used as it is.
    fn make_dir(
        &self,
        root: RawFd,
        dest: &Dest,
        parent: &Parent<'a, S>,
        mode: u32,
        entry: &Entry,
    ) -> Result<MountPoint<'a, S>, Errno> {
        match self.sys.mkdirat(parent.raw(root)?, dest.name(), mode) {
            Ok(()) => entry.mark(CREATED_DIR),
            Err(Errno::EXIST) => {}
            Err(e) => return Err(e),
        }
        self.lookup(root, dest, OFlags::PATH | OFlags::DIRECTORY)
    }

    /// bubblewrap's `ensure_file`: any existing non-directory is used as it
    /// is, a missing one is created empty with mode 0444.
    pub(crate) fn ensure_file(
        &self,
        root: RawFd,
        dest: &Dest,
        parent: &Parent<'a, S>,
        entry: &Entry,
    ) -> Result<MountPoint<'a, S>, Errno> {
        match self.lookup(root, dest, OFlags::PATH) {
            Ok(target) => {
                if self.sys.fstat(target.raw())?.is_dir {
                    return Err(Errno::ISDIR);
                }
                return Ok(target);
            }
            Err(Errno::NOENT) => {}
            Err(e) => return Err(e),
        }
        let flags = OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW;
        match self
            .sys
            .open(parent.raw(root)?, dest.name(), flags, 0o444, false)
        {
            Ok(raw) => {
                drop(self.fd(raw));
                entry.mark(CREATED_FILE);
            }
            Err(Errno::EXIST) => {}
            Err(e) => return Err(e),
        }
        self.lookup(root, dest, OFlags::PATH)
    }

    /// Parents, then a directory (or a file) at `dest` to mount on; the
    /// mount point. `missing`: the caller just looked `dest` up and found
    /// nothing there.
    pub(crate) fn prepare(
        &self,
        dest: &Dest,
        dir: bool,
        mut missing: bool,
        entry: &Entry,
    ) -> Result<MountPoint<'a, S>, Fault> {
        let root = self.root().map_err(|e| Fault::new(Fail::Parents, 0, e))?;
        if !missing {
            // An existing destination of the right type: the parents exist
            // and the full sequence below would only find it again.
            let flags = if dir {
                OFlags::PATH | OFlags::DIRECTORY
            } else {
                OFlags::PATH
            };
            match self.lookup(root.raw(), dest, flags) {
                Ok(target) if dir => return Ok(target),
                Ok(target) => {
                    if self.sys.fstat(target.raw()).is_ok_and(|i| !i.is_dir) {
                        return Ok(target);
                    }
                }
                Err(Errno::NOENT) => missing = true,
                Err(_) => {}
            }
        }
        let parent = self
            .parents(root.raw(), dest, entry)
            .map_err(|e| Fault::new(Fail::Parents, 0, e))?;
        if dir {
            // Known missing, the directory is made without looking again:
            // an existing one would make `mkdirat` fail with EEXIST and be
            // used as `ensure_dir` would use it.
            let target = if missing {
                self.make_dir(root.raw(), dest, &parent, 0o755, entry)
            } else {
                self.ensure_dir(root.raw(), dest, &parent, 0o755, entry)
            };
            target.map_err(|e| Fault::new(Fail::MkdirDest, 0, e))
        } else {
            self.ensure_file(root.raw(), dest, &parent, entry)
                .map_err(|e| Fault::new(Fail::CreateFileAt, 0, e))
        }
    }

    /// The destination once something is mounted on it: a descriptor of the
    /// mount's root.
    pub(crate) fn reopen(&self, dest: &Dest, flags: OFlags) -> Result<Fd<'a, S>, Errno> {
        let root = self.root()?;
        self.lookup(root.raw(), dest, flags).map(|target| target.fd)
    }
}
