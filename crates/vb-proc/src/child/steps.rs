//! vb-proc's own steps that the cloned child, a caller-forked child and the
//! security context share, each failure named by its [`Step`].

use rustix::io::Errno;
use rustix::process::{Gid, Uid};

use crate::errno::last_errno;
use crate::frame::{ChildFailure, Step};

/// A failure of `step` with no index.
pub(crate) fn fail(step: Step, errno: Errno) -> ChildFailure {
    ChildFailure::process(step, 0, errno.raw_os_error())
}

/// Arm `PR_SET_PDEATHSIG` with `SIGKILL`.
pub(crate) fn arm_death_signal() -> Result<(), ChildFailure> {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .map_err(|e| fail(Step::DeathSignal, e))
}

/// Switch to the sandbox's ids with per-thread raw system calls: glibc's
/// `setresuid` would signal the parent's other threads to change theirs
/// too, and those threads do not exist in the child.
pub(crate) fn switch_ids(uid: u32, gid: u32) -> Result<(), ChildFailure> {
    switch_ids_each(Some(uid), Some(gid))
}

/// [`switch_ids`] for the ids given; a failure's index is the id.
pub(crate) fn switch_ids_each(uid: Option<u32>, gid: Option<u32>) -> Result<(), ChildFailure> {
    if let Some(gid) = gid {
        let id = Gid::from_raw(gid);
        rustix::thread::set_thread_res_gid(id, id, id)
            .map_err(|e| ChildFailure::process(Step::SetGid, gid, e.raw_os_error()))?;
    }
    if let Some(uid) = uid {
        let id = Uid::from_raw(uid);
        rustix::thread::set_thread_res_uid(id, id, id)
            .map_err(|e| ChildFailure::process(Step::SetUid, uid, e.raw_os_error()))?;
    }
    Ok(())
}

/// `PR_SET_DUMPABLE`.
pub(crate) fn set_dumpable(on: bool) -> Result<(), ChildFailure> {
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, libc::c_ulong::from(on)) } == 0 {
        Ok(())
    } else {
        Err(ChildFailure::process(
            Step::Dumpable,
            0,
            last_errno().raw_os_error(),
        ))
    }
}
