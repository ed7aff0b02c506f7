//! Steps that the cloned child, a caller-forked child and the security
//! context share, each failure named by the step it reports.

use std::ffi::CStr;
use std::os::fd::RawFd;

use rustix::fs::OFlags;
use rustix::io::Errno;

use crate::child::sys::{ChildSys, SysChannel};
use crate::frame::{ChildFailure, Origin, Step};
use crate::hook::ChildHooks;
use crate::namespaces::NamespaceKind;
use crate::sync::send_failure;

/// A failure of `step` with no index.
pub(crate) fn fail(step: Step, errno: Errno) -> ChildFailure {
    ChildFailure::process(step, 0, errno.raw_os_error())
}

/// Arm `PR_SET_PDEATHSIG` with `SIGKILL`.
pub(crate) fn arm_death_signal<S: ChildSys>(sys: &mut S) -> Result<(), ChildFailure> {
    sys.set_death_signal()
        .map_err(|e| fail(Step::DeathSignal, e))
}

/// Switch to the sandbox's ids with per-thread raw system calls: glibc's
/// `setresuid` would signal the parent's other threads to change theirs
/// too, and those threads do not exist in the child.
pub(crate) fn switch_ids<S: ChildSys>(sys: &mut S, uid: u32, gid: u32) -> Result<(), ChildFailure> {
    switch_ids_each(sys, Some(uid), Some(gid))
}

/// [`switch_ids`] for the ids given, the gid first; a failure's index is
/// the id.
pub(crate) fn switch_ids_each<S: ChildSys>(
    sys: &mut S,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<(), ChildFailure> {
    if let Some(gid) = gid {
        sys.set_gid(gid)
            .map_err(|e| ChildFailure::process(Step::SetGid, gid, e.raw_os_error()))?;
    }
    if let Some(uid) = uid {
        sys.set_uid(uid)
            .map_err(|e| ChildFailure::process(Step::SetUid, uid, e.raw_os_error()))?;
    }
    Ok(())
}

/// `PR_SET_DUMPABLE`, reported as [`Step::Dumpable`].
pub(crate) fn set_dumpable<S: ChildSys>(sys: &mut S, on: bool) -> Result<(), ChildFailure> {
    sys.set_dumpable(on).map_err(|e| fail(Step::Dumpable, e))
}

/// `setns(fd, kind)`; a failure names the kind.
pub(crate) fn setns<S: ChildSys>(
    sys: &mut S,
    fd: RawFd,
    kind: NamespaceKind,
) -> Result<(), ChildFailure> {
    sys.setns(fd, kind)
        .map_err(|e| ChildFailure::process(Step::JoinNamespace, kind as u32, e.raw_os_error()))
}

/// The filesystem hook, then the network hook; a failure carries the hook's
/// origin.
pub(crate) fn run_hooks<S: ChildSys>(
    sys: &mut S,
    hooks: &ChildHooks<'_>,
) -> Result<(), ChildFailure> {
    for (origin, hook) in [
        (Origin::Filesystem, hooks.filesystem),
        (Origin::Network, hooks.network),
    ] {
        if let Some(hook) = hook {
            sys.run_hook(origin, hook)
                .map_err(|f| ChildFailure::with_origin(origin, f))?;
        }
    }
    Ok(())
}

/// Write `failure`'s frame on the failure pipe `fd`. Errors are ignored: the
/// process is about to exit and has no other channel to report on.
pub(crate) fn send_frame<S: ChildSys>(sys: &mut S, fd: RawFd, failure: &ChildFailure) {
    send_failure(&mut SysChannel::new(sys, fd), failure);
}

/// Write `text` to `path` (relative to `dir`, or absolute with `AT_FDCWD`)
/// in one `write(2)`, as the kernel wants id maps; a short write is `EIO`.
pub(crate) fn write_file_at<S: ChildSys>(
    sys: &mut S,
    dir: RawFd,
    path: &CStr,
    text: &[u8],
) -> Result<(), Errno> {
    let fd = sys.open_at(dir, path, OFlags::WRONLY | OFlags::CLOEXEC)?;
    let written = sys.write(fd, text);
    sys.close(fd);
    match written {
        Ok(n) if n == text.len() => Ok(()),
        Ok(_) => Err(Errno::IO),
        Err(e) => Err(e),
    }
}
