//! Mounting on a resolved destination: a new filesystem instance through
//! the destination's descriptor link, and a recursive bind with its flags,
//! by the new mount API or bubblewrap's `mount(2)` method.

use std::ffi::CStr;
use std::os::fd::RawFd;

use rustix::io::Errno;
use rustix::mount::MountFlags;

use super::journal::{Entry, MOUNTED};
use super::runner::{Fd, MountPoint, Runner};
use super::sys::{AT_FDCWD, Sys};
use crate::failure::BindStep;

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

impl<'a, S: Sys> Runner<'a, S> {
    /// Mount a new `fstype` instance on `target`, through its descriptor
    /// link (`mount(2)` has no descriptor form for a new instance).
    pub(crate) fn mount_fs(
        &self,
        fstype: &CStr,
        target: &MountPoint<'_, S>,
        flags: MountFlags,
        data: Option<&CStr>,
    ) -> Result<(), Errno> {
        let link = self.fd_path(target.raw());
        self.sys.mount_fs(fstype, link.as_cstr(), flags, data)?;
        self.mounted_on(target);
        Ok(())
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
        target: &MountPoint<'_, S>,
        set: MountFlags,
        entry: &Entry,
        reopen: impl FnOnce() -> Result<Fd<'a, S>, Errno>,
    ) -> Result<(), (BindStep, Errno)> {
        if self.modern {
            let tree = self
                .sys
                .open_tree(src.dirfd, src.rel)
                .map_err(|e| (BindStep::Mount, e))?;
            let tree = self.fd(tree);
            self.sys
                .mount_setattr(tree.raw(), true, set)
                .map_err(|e| (BindStep::Flags, e))?;
            self.sys
                .move_mount(tree.raw(), target.raw())
                .map_err(|e| (BindStep::Mount, e))?;
            entry.mark(MOUNTED);
            self.mounted_on(target);
            return Ok(());
        }
        let link = self.fd_path(target.raw());
        self.sys
            .bind(src.abs, link.as_cstr(), true)
            .map_err(|e| (BindStep::Mount, e))?;
        entry.mark(MOUNTED);
        self.mounted_on(target);
        let top = reopen().map_err(|e| (BindStep::Flags, e))?;
        let current = self
            .sys
            .mount_flags(top.raw())
            .map_err(|e| (BindStep::Flags, e))?;
        let top_link = self.fd_path(top.raw());
        if !current.contains(set) {
            self.sys
                .remount_bind(top_link.as_cstr(), current | set)
                .map_err(|e| (BindStep::Flags, e))?;
        }
        self.sys
            .remount_submounts(self.layout.mountinfo, top_link.as_cstr(), set)
            .map_err(|e| (BindStep::Submounts, e))
    }
}
