//! Joining and creating namespaces in the child, in the order
//! [`crate::join`] gives.

use std::os::fd::RawFd;

use crate::child::steps::{set_dumpable, setns, write_file_at};
use crate::child::sys::ChildSys;
use crate::frame::{ChildFailure, Step};
use crate::join::JoinPlan;

impl JoinPlan {
    /// Child: join and create, in the order of the module docs. The maps of
    /// a new user namespace are written through `proc_dir` (the host's
    /// `/proc`, which stays reachable whatever the mount namespace).
    pub(crate) fn enter<S: ChildSys>(
        &self,
        sys: &mut S,
        proc_dir: RawFd,
    ) -> Result<(), ChildFailure> {
        for (fd, kind) in &self.setns {
            setns(sys, *fd, *kind)?;
        }
        if !self.unshare.is_empty() {
            // SAFETY: unshare of namespaces in a single-threaded child; it
            // affects only this process (and, for the PID namespace, its
            // children).
            unsafe { sys.unshare(self.unshare) }
                .map_err(|e| ChildFailure::process(Step::Unshare, 0, e.raw_os_error()))?;
        }
        if let Some(maps) = &self.own_maps {
            // The kernel lets a process write its own maps only while it is
            // dumpable (its /proc files are then its own).
            set_dumpable(sys, true)?;
            for (index, (path, text)) in (0u32..).zip(maps.iter()) {
                write_file_at(sys, proc_dir, path, text)
                    .map_err(|e| ChildFailure::process(Step::OwnIdMap, index, e.raw_os_error()))?;
            }
            set_dumpable(sys, false)?;
        }
        Ok(())
    }
}
