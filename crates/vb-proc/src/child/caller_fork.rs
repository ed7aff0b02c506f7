//! Isolation applied in a child the caller forked: [`InChildPlan::apply`],
//! in the order the [`crate::caller_fork`] module docs give.

use rustix::process::Pid;

use crate::caller_fork::InChildPlan;
use crate::child::reaper;
use crate::child::steps::{arm_death_signal, fail, run_hooks, switch_ids, write_file_at};
use crate::child::sys::{ChildSys, RealSys};
use crate::frame::{ChildFailure, Step};
use crate::hook::ChildHooks;
use crate::security::SecurityPlan;

impl InChildPlan {
    /// Apply the isolation in the calling process, a child the caller forked.
    ///
    /// Returns `Ok(())` in the process that should now exec the command. With a
    /// PID namespace the calling process does not return: it waits for the new
    /// namespace's pid 1 and exits with its status; the same holds for the
    /// reaper. On failure, the failing process returns the error; the caller
    /// should report it (for example on a pipe) and `_exit`.
    ///
    /// # Safety
    ///
    /// Call only in a single-threaded child created by `fork`/`clone` (the
    /// parent may have had threads), before `execve`. `hooks` must keep the
    /// [`ChildHook`](crate::ChildHook) contract.
    pub unsafe fn apply(&self, hooks: &ChildHooks<'_>) -> Result<(), ChildFailure> {
        match self.apply_with(&mut RealSys, hooks)? {
            None => Ok(()),
            Some(child) => reaper::supervise(child, None),
        }
    }

    /// [`apply`](Self::apply) over `sys`: `Ok(None)` in the process that
    /// executes the command, `Ok(Some(child))` in one that must supervise
    /// `child` (the waiter above pid 1, and the reaper).
    pub(crate) fn apply_with<S: ChildSys>(
        &self,
        sys: &mut S,
        hooks: &ChildHooks<'_>,
    ) -> Result<Option<Pid>, ChildFailure> {
        if self.die_with_parent {
            arm_death_signal(sys)?;
        }
        if !self.unshare.is_empty() {
            // SAFETY: `apply`'s caller guarantees a single-threaded child;
            // unsharing its namespaces affects only this process (and, for
            // the PID namespace, its future children).
            unsafe { sys.unshare(self.unshare) }.map_err(|e| fail(Step::Unshare, e))?;
        }
        if let Some(maps) = &self.own_maps {
            for (index, (path, text)) in (0u32..).zip(maps.iter()) {
                write_file_at(sys, libc::AT_FDCWD, path, text)
                    .map_err(|e| ChildFailure::process(Step::OwnIdMap, index, e.raw_os_error()))?;
            }
        }
        if let Some((uid, gid)) = self.switch_ids {
            switch_ids(sys, uid, gid)?;
        }
        if let Some(name) = &self.hostname {
            sys.set_hostname(name)
                .map_err(|e| fail(Step::Hostname, e))?;
        }
        if self.pid_namespace {
            // The process the caller forked stays outside the new namespace:
            // it waits for pid 1 there, forwarding signals to it.
            if let Some(child) = fork_supervised(sys, &self.security, false)? {
                return Ok(Some(child));
            }
            if self.die_with_parent {
                arm_death_signal(sys)?;
            }
        }
        run_hooks(sys, hooks)?;
        self.security.before_fork(sys, false)?;
        if self.reaper
            && let Some(child) = fork_supervised(sys, &self.security, true)?
        {
            return Ok(Some(child));
        }
        self.security.command(sys)?;
        self.security.load_seccomp(sys)?;
        Ok(None)
    }
}

/// Fork with the forwarded signals blocked across it. The parent is to
/// supervise the child (forwarding signals, exiting with its status) once it
/// has given up what the sandbox could use through it (it is a copy of the
/// caller's memory): capabilities, dumpability, descriptors; as the
/// sandbox's pid 1 (`reaper`) it also takes the seccomp programs. It gets
/// `Some(child)`. The child gets `None`, with the caller's signal mask back.
fn fork_supervised<S: ChildSys>(
    sys: &mut S,
    security: &SecurityPlan,
    reaper: bool,
) -> Result<Option<Pid>, ChildFailure> {
    // The parent side waits for the child: an inherited ignored SIGCHLD
    // would lose its status. The child gets the caller's back.
    let sigchld = sys.default_sigchld();
    // Blocked until the supervisor's handlers are in (it unblocks them).
    let mask = sys.block_forwarded();
    // SAFETY: both sides go on with this code, which keeps to the
    // async-signal-safe contract.
    match unsafe { sys.fork() } {
        Err(e) => {
            sys.set_mask(&mask);
            Err(fail(Step::Fork, e))
        }
        Ok(None) => {
            sys.set_mask(&mask);
            sys.restore_sigchld(&sigchld);
            Ok(None)
        }
        Ok(Some(child)) => {
            if let Err(failure) = security.reaper(sys) {
                sys.kill(child);
                return Err(failure);
            }
            // Neither the waiter nor the reaper needs any of the caller's
            // descriptors; holding them would delay end-of-file on the
            // caller's pipes and, for pid 1, hand them to the sandbox.
            sys.close_all_except(&[])
                .map_err(|e| fail(Step::CloseFds, e))?;
            if reaper {
                security.load_seccomp(sys)?;
            }
            Ok(Some(child))
        }
    }
}
