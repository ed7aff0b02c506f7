//! Bind mounts (`--bind`, `--ro-bind`, `--dev-bind`, their `-try` forms,
//! `--bind-fd`, `--ro-bind-fd`) and `--remount-ro`.
//!
//! Every bind is recursive, `nosuid` on every mount of the copied tree, also
//! `nodev` unless it is a dev-bind, and also read-only for the `ro` forms, as
//! bubblewrap applies them. With the new mount API the flags are set on the
//! whole detached copy by one `mount_setattr(AT_RECURSIVE)` before it is
//! attached, so the cost is linear in the size of the copied tree; bubblewrap
//! re-reads the whole mount table for every bind.

use rustix::fs::OFlags;
use rustix::io::Errno;

use super::fault::{Fault, bind_fault};
use super::journal::Entry;
use super::mount::Src;
use super::runner::Runner;
use super::sys::Sys;
use crate::failure::Fail;
use crate::op::{BindOp, REMOUNT_FLAGS, RemountOp};

impl<S: Sys> Runner<'_, S> {
    pub(crate) fn run_bind(&self, op: &BindOp, entry: &Entry) -> Result<(), Fault> {
        let info = match self.sys.stat(&op.source) {
            Ok(info) => info,
            Err(Errno::NOENT) if op.optional => return Ok(()),
            Err(e) => return Err(Fault::new(Fail::SourceType, 0, e)),
        };
        let target = self.prepare(&op.dest, info.is_dir, false, entry)?;
        self.bind(&Src::path(&op.source), &target, op.set, entry, || {
            self.reopen(&op.dest, OFlags::PATH)
        })
        .map_err(bind_fault(Fail::BindMount, 0))?;
        if let Some(fd) = op.fd {
            // The source path was resolved from the descriptor before setup;
            // check that what got mounted is still that file.
            let want = self
                .sys
                .fstat(fd)
                .map_err(|e| Fault::new(Fail::FdStat, 0, e))?;
            let mounted = self
                .reopen(&op.dest, OFlags::PATH)
                .and_then(|m| self.sys.fstat(m.raw()))
                .map_err(|e| Fault::new(Fail::FdStat, 1, e))?;
            if (want.dev, want.ino) != (mounted.dev, mounted.ino) {
                return Err(Fault::new(Fail::FdRace, 0, Errno::INVAL));
            }
        }
        Ok(())
    }
}

impl<S: Sys> Runner<'_, S> {
    pub(crate) fn run_remount(&self, op: &RemountOp, entry: &Entry) -> Result<(), Fault> {
        // bubblewrap creates the parents of a --remount-ro destination too.
        let root = self.root().map_err(|e| Fault::new(Fail::Parents, 0, e))?;
        self.parents(root.raw(), &op.dest, entry)
            .map_err(|e| Fault::new(Fail::Parents, 0, e))?;
        let target = self
            .open_in(root.raw(), &op.dest.rel, OFlags::PATH)
            .map_err(|e| Fault::new(Fail::RemountRealpath, 0, e))?;
        if self.modern {
            let is_root = self
                .sys
                .is_mount_root(target.raw())
                .map_err(|e| Fault::new(Fail::RemountRealpath, 0, e))?;
            if !is_root {
                return Err(Fault::new(Fail::RemountFind, 0, Errno::INVAL));
            }
            return self
                .sys
                .mount_setattr(target.raw(), false, REMOUNT_FLAGS)
                .map_err(|e| Fault::new(Fail::RemountFlags, 0, e));
        }
        let current = self
            .sys
            .mount_flags(target.raw())
            .map_err(|e| Fault::new(Fail::RemountFlags, 0, e))?;
        if current.contains(REMOUNT_FLAGS) {
            return Ok(());
        }
        let link = self.fd_path(target.raw());
        self.sys
            .remount_bind(link.as_cstr(), current | REMOUNT_FLAGS)
            .map_err(|e| Fault::new(Fail::RemountFlags, 0, e))
    }
}
