//! `--proc`: a fresh procfs when the sandbox has its own PID namespace, else a
//! recursive bind of the host's `/proc` (a fresh one would show the wrong
//! processes). Either way the old, dangerous-to-write entries `sys`,
//! `sysrq-trigger`, `irq` and `bus` are re-bound read-only on themselves when
//! the sandbox could write them, as bubblewrap does.

use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::mount::MountFlags;

use super::fault::{Fault, at, bind_fault};
use super::journal::{Entry, MOUNTED};
use super::mount::Src;
use super::runner::{MountPoint, Runner};
use super::sys::Sys;
use crate::failure::Fail;
use crate::op::{COVERED, PROC_FLAGS, ProcOp};

impl<S: Sys> Runner<'_, S> {
    pub(crate) fn run_proc(&self, op: &ProcOp, entry: &Entry) -> Result<(), Fault> {
        let target = self.prepare(&op.dest, true, false, entry)?;
        if op.fresh {
            self.mount_fs(c"proc", &target, PROC_FLAGS, None)
                .map_err(at(Fail::ProcMount))?;
            entry.mark(MOUNTED);
        } else {
            let set = MountFlags::NOSUID | MountFlags::NODEV;
            self.bind(&Src::path(op.host), &target, set, entry, || {
                self.reopen(&op.dest, OFlags::PATH)
            })
            .map_err(bind_fault(Fail::BindMount, 0))?;
        }
        drop(target);
        let proc = self
            .reopen(&op.dest, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(|e| Fault::new(Fail::ProcAccess, 0, e))?;
        for (i, name) in (0u16..).zip(COVERED) {
            match self.sys.access_write(proc.raw(), name) {
                Ok(()) => {}
                // Already read-only to the sandbox, or absent.
                Err(Errno::ACCESS | Errno::NOENT | Errno::ROFS) => continue,
                Err(e) => return Err(Fault::new(Fail::ProcAccess, i, e)),
            }
            let covered = self
                .sys
                .open(proc.raw(), name, OFlags::PATH | OFlags::NOFOLLOW, 0, false)
                .map_err(|e| Fault::new(Fail::ProcCover, i, e))?;
            // A name inside the procfs directory: not the new root itself.
            let covered = MountPoint::below_root(self.fd(covered));
            // The entry is bound on itself; the legacy method names the
            // source by the descriptor's link, not by a path below a
            // destination that may have resolved through a symlink.
            let link = self.fd_path(covered.raw());
            let src = Src {
                dirfd: proc.raw(),
                rel: name,
                abs: link.as_cstr(),
            };
            let flags = MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV;
            let reopen = || {
                let flags = OFlags::PATH | OFlags::NOFOLLOW;
                let raw = self.sys.open(proc.raw(), name, flags, 0, false)?;
                Ok(self.fd(raw))
            };
            self.bind(&src, &covered, flags, entry, reopen)
                .map_err(bind_fault(Fail::ProcCover, i))?;
        }
        Ok(())
    }
}
