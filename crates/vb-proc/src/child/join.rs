//! Joining and creating namespaces in the child, in the order
//! [`crate::join`] gives, and `--userns2` later.

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, RawFd};

use rustix::io::Errno;

use crate::frame::{ChildFailure, Step};
use crate::join::JoinPlan;
use crate::namespaces::NamespaceKind;

impl JoinPlan {
    /// Child: join and create, in the order of the module docs. The maps of
    /// a new user namespace are written through `proc_dir` (the host's
    /// `/proc`, which stays reachable whatever the mount namespace).
    pub(crate) fn enter(&self, proc_dir: BorrowedFd<'_>) -> Result<(), ChildFailure> {
        for (fd, kind) in &self.setns {
            setns(*fd, *kind)?;
        }
        if !self.unshare.is_empty() {
            // SAFETY: unshare in a single-threaded child; it affects only
            // this process (and, for the PID namespace, its children).
            unsafe { rustix::thread::unshare_unsafe(self.unshare) }
                .map_err(|e| ChildFailure::process(Step::Unshare, 0, e.raw_os_error()))?;
        }
        if let Some(maps) = &self.own_maps {
            // The kernel lets a process write its own maps only while it is
            // dumpable (its /proc files are then its own).
            crate::child::steps::set_dumpable(true)?;
            for (index, (path, text)) in (0u32..).zip(maps.iter()) {
                write_at(proc_dir, path, text)
                    .map_err(|e| ChildFailure::process(Step::OwnIdMap, index, e.raw_os_error()))?;
            }
            crate::child::steps::set_dumpable(false)?;
        }
        Ok(())
    }
}

/// Child: `setns(fd, kind)`; a failure names the kind.
pub(crate) fn setns(fd: RawFd, kind: NamespaceKind) -> Result<(), ChildFailure> {
    // SAFETY: setns(2) on a descriptor number with a namespace type; the
    // kernel checks both.
    if unsafe { libc::setns(fd, kind.flag()) } == 0 {
        return Ok(());
    }
    let errno = crate::errno::last_errno().raw_os_error();
    Err(ChildFailure::process(
        Step::JoinNamespace,
        kind as u32,
        errno,
    ))
}

/// Write `text` to `path` (relative to `dir`) in one `write(2)`, as the
/// kernel wants id maps.
fn write_at(dir: BorrowedFd<'_>, path: &CStr, text: &[u8]) -> Result<(), Errno> {
    let fd = rustix::fs::openat(
        dir,
        path,
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    match rustix::io::write(&fd, text) {
        Ok(n) if n == text.len() => Ok(()),
        Ok(_) => Err(Errno::IO),
        Err(e) => Err(e),
    }
}
