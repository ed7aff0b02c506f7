//! Isolation applied in a child the caller forked: [`InChildPlan::apply`],
//! in the order the [`crate::caller_fork`] module docs give.

use rustix::io::Errno;

use crate::caller_fork::InChildPlan;
use crate::child::steps::{arm_death_signal, fail, switch_ids};
use crate::child::{fds, reaper};
use crate::clone::fork_raw;
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
        if self.die_with_parent {
            arm_death_signal()?;
        }
        if !self.unshare.is_empty() {
            // SAFETY: the caller guarantees a single-threaded child; unsharing
            // its namespaces affects only this process (and, for the PID
            // namespace, its future children).
            unsafe { rustix::thread::unshare_unsafe(self.unshare) }
                .map_err(|e| fail(Step::Unshare, e))?;
        }
        if let Some(maps) = &self.own_maps {
            for (index, (path, text)) in (0u32..).zip(maps.iter()) {
                write_file(path, text)
                    .map_err(|e| ChildFailure::process(Step::OwnIdMap, index, e.raw_os_error()))?;
            }
        }
        if let Some((uid, gid)) = self.switch_ids {
            switch_ids(uid, gid)?;
        }
        if let Some(name) = &self.hostname {
            rustix::system::sethostname(name).map_err(|e| fail(Step::Hostname, e))?;
        }
        if self.pid_namespace {
            // The process the caller forked stays outside the new namespace:
            // it waits for pid 1 there, forwarding signals to it.
            fork_supervised(&self.security, false)?;
            if self.die_with_parent {
                arm_death_signal()?;
            }
        }
        hooks.run_setup()?;
        self.security.before_fork()?;
        if self.reaper {
            fork_supervised(&self.security, true)?;
        }
        self.security.command()?;
        self.security.load_seccomp()
    }
}

/// Fork with the forwarded signals blocked across it. The parent supervises
/// the child (forwarding signals, exiting with its status) once it has given
/// up what the sandbox could use through it (it is a copy of the caller's
/// memory): capabilities, dumpability, descriptors; as the sandbox's pid 1
/// (`reaper`) it also takes the seccomp programs. The child returns with the
/// caller's signal mask back.
fn fork_supervised(security: &SecurityPlan, reaper: bool) -> Result<(), ChildFailure> {
    // The parent side waits for the child: an inherited ignored SIGCHLD
    // would lose its status. The child gets the caller's back.
    let sigchld = reaper::default_sigchld();
    let blocked = reaper::ForwardedBlocked::block();
    // SAFETY: both sides keep to the async-signal-safe contract.
    match unsafe { fork_raw() } {
        Err(e) => {
            blocked.restore();
            Err(fail(Step::Fork, e))
        }
        Ok(None) => {
            blocked.restore();
            reaper::restore_sigchld(&sigchld);
            Ok(())
        }
        Ok(Some(child)) => {
            if let Err(failure) = security.reaper() {
                // SAFETY: kill(2) of the process just forked.
                unsafe { libc::kill(child.as_raw_nonzero().get(), libc::SIGKILL) };
                return Err(failure);
            }
            // Neither the waiter nor the reaper needs any of the caller's
            // descriptors; holding them would delay end-of-file on the
            // caller's pipes and, for pid 1, hand them to the sandbox.
            fds::close_all_except(&[]).map_err(|e| fail(Step::CloseFds, e))?;
            if reaper {
                security.load_seccomp()?;
            }
            reaper::supervise(child, None)
        }
    }
}

/// Write `text` to `path` in one `write(2)`, as the kernel wants id maps.
fn write_file(path: &std::ffi::CStr, text: &[u8]) -> Result<(), Errno> {
    let flags = rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC;
    let fd = rustix::fs::open(path, flags, rustix::fs::Mode::empty())?;
    // Dropping the descriptor closes it: a system call, no allocation.
    match rustix::io::write(&fd, text) {
        Ok(n) if n == text.len() => Ok(()),
        Ok(_) => Err(Errno::IO),
        Err(e) => Err(e),
    }
}
