//! Bind mounts (`--bind`, `--ro-bind`, `--dev-bind`, their `-try` forms,
//! `--bind-fd`, `--ro-bind-fd`) and `--remount-ro`.
//!
//! Every bind is recursive, `nosuid` on every mount of the copied tree, also
//! `nodev` unless it is a dev-bind, and also read-only for the `ro` forms, as
//! bubblewrap applies them. With the new mount API the flags are set on the
//! whole detached copy by one `mount_setattr(AT_RECURSIVE)` before it is
//! attached, so the cost is linear in the size of the copied tree; bubblewrap
//! re-reads the whole mount table for every bind.
//!
//! A bind on an existing destination (the usual case under a bound host
//! tree) is one lookup and the bind itself: the source's type is needed
//! only to create a missing destination.

use rustix::fs::OFlags;
use rustix::io::Errno;

use super::fault::{Fault, bind_fault};
use super::journal::{Entry, MOUNTED};
use super::mount::Src;
use super::runner::Runner;
use super::sys::Sys;
use crate::failure::Fail;
use crate::op::{BindOp, REMOUNT_FLAGS, RemountOp};

impl<S: Sys> Runner<'_, S> {
    pub(crate) fn run_bind(&self, op: &BindOp, entry: &Entry) -> Result<(), Fault> {
        let missing = match self.bind_in_place(op, entry)? {
            InPlace::Bound => return self.check_bind_fd(op),
            InPlace::Missing => true,
            InPlace::NotTried => false,
        };
        let info = match self.sys.stat(&op.source) {
            Ok(info) => info,
            Err(Errno::NOENT) if op.optional => return Ok(()),
            Err(e) => return Err(Fault::new(Fail::SourceType, 0, e)),
        };
        let target = self.prepare(&op.dest, info.is_dir, missing, entry)?;
        self.bind(&Src::path(&op.source), &target, op.set, entry, || {
            self.reopen(&op.dest, OFlags::PATH)
        })
        .map_err(bind_fault(Fail::BindMount, 0))?;
        self.check_bind_fd(op)
    }

    /// The common case without the source's type: when the destination
    /// exists, bind on it straight away. The kernel refuses to mount a
    /// directory on a non-directory or the reverse, which is all the type
    /// was for: a destination of the wrong type fails the mount and is left
    /// to the full sequence (stat the source, parents, `ensure_dir` or
    /// `ensure_file`, bind), as is every failure before something is
    /// mounted: nothing has changed then, so that sequence runs as if this
    /// had not been tried, and reports what it finds in its own order.
    fn bind_in_place(&self, op: &BindOp, entry: &Entry) -> Result<InPlace, Fault> {
        let Ok(root) = self.root() else {
            return Ok(InPlace::NotTried);
        };
        let target = match self.lookup(root.raw(), &op.dest, OFlags::PATH) {
            Ok(target) => target,
            Err(Errno::NOENT) => return Ok(InPlace::Missing),
            Err(_) => return Ok(InPlace::NotTried),
        };
        drop(root);
        let bound = self.bind(&Src::path(&op.source), &target, op.set, entry, || {
            self.reopen(&op.dest, OFlags::PATH)
        });
        match bound {
            Ok(()) => Ok(InPlace::Bound),
            Err(_) if entry.flags() & MOUNTED == 0 => Ok(InPlace::NotTried),
            Err(e) => Err(bind_fault(Fail::BindMount, 0)(e)),
        }
    }

    /// `--bind-fd`: the source path was resolved from the descriptor before
    /// setup; check that what got mounted is still that file.
    fn check_bind_fd(&self, op: &BindOp) -> Result<(), Fault> {
        let Some(fd) = op.fd else {
            return Ok(());
        };
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
        Ok(())
    }
}

/// What [`Runner::bind_in_place`] did.
enum InPlace {
    /// The source is mounted on the existing destination.
    Bound,
    /// The destination does not exist: it must be created for the source's
    /// type.
    Missing,
    /// Nothing changed; the full sequence decides.
    NotTried,
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
