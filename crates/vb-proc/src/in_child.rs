//! Isolation applied inside a child the caller forked itself — for embedders
//! that need control of the fork (a pseudo-terminal set up before isolation,
//! descriptors arranged their own way) and call `execve` themselves.
//!
//! [`InChildPlan::prepare`] runs in the parent before the fork and builds every
//! byte the child will need; [`InChildPlan::apply`] runs in the child, after
//! the caller's own setup, and returns when the caller may exec:
//!
//! 1. `PR_SET_PDEATHSIG` (`die_with_parent`);
//! 2. `unshare` of the requested namespaces, all at once;
//! 3. with a new user namespace, the child writes its own maps (`setgroups`
//!    denied, then one uid and one gid), which the kernel allows for the
//!    caller's own ids — no parent cooperation is needed — then switches to the
//!    sandbox ids;
//! 4. `sethostname`;
//! 5. with a new PID namespace, a fork: the forked process is pid 1 of the new
//!    namespace and goes on; the process the caller forked stays outside,
//!    waits for it, and exits with its status (so the caller's `waitpid` sees
//!    the sandbox's status);
//! 6. the filesystem and network hooks;
//! 7. the security context shared by every process (user-namespace policy,
//!    bounding set);
//! 8. without `as_pid_1`, another fork: pid 1 becomes the reaper (see
//!    [`crate::FORWARDED_SIGNALS`]; it drops every capability and descriptor)
//!    and the command's process goes on as pid 2;
//! 9. the command's security context (capabilities, `no_new_privs`, label,
//!    seccomp); then `apply` returns `Ok(())` in the process that must exec,
//!    with the signal mask it was called with.
//!
//! The process the caller forked and, with a PID namespace, the waiter above
//! pid 1 forward the usual termination and job-control signals down, so
//! killing the pid the caller knows ends the sandbox.
//!
//! Everything the child does is a system call on prepared data: the fork-safety
//! rule of the crate applies, since the caller's process may have had threads.

use std::ffi::CString;

use rustix::io::Errno;

use crate::child::{arm_death_signal, fail, switch_ids};
use crate::clone::fork_raw;
use crate::error::ProcError;
use crate::fds;
use crate::frame::{ChildFailure, Step};
use crate::hook::ChildHooks;
use crate::namespaces::Namespaces;
use crate::pid1;
use crate::security::{SandboxIds, SecurityPlan, SecuritySpec};

/// What to apply in a caller-forked child.
#[derive(Clone, Debug, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct InChildSpec {
    /// The namespaces to unshare.
    pub namespaces: Namespaces,
    /// uid inside (default: the caller's); needs a user namespace to differ.
    pub uid: Option<u32>,
    /// gid inside (default: the caller's).
    pub gid: Option<u32>,
    /// The hostname (needs a UTS namespace).
    pub hostname: Option<std::ffi::OsString>,
    /// Arm `PR_SET_PDEATHSIG` with `SIGKILL`.
    pub die_with_parent: bool,
    /// With a PID namespace, make the caller's command pid 1 (no reaper).
    pub as_pid_1: bool,
    /// Capabilities, seccomp, the user-namespace policy, the exec label.
    pub security: SecuritySpec,
}

/// The prepared form of an [`InChildSpec`].
#[derive(Debug)]
pub struct InChildPlan {
    unshare: rustix::thread::UnshareFlags,
    own_maps: Option<[(CString, Vec<u8>); 3]>,
    switch_ids: Option<(u32, u32)>,
    hostname: Option<Vec<u8>>,
    die_with_parent: bool,
    pid_namespace: bool,
    reaper: bool,
    security: SecurityPlan,
}

impl InChildPlan {
    /// Validate and prepare `spec` (in the parent, before the fork).
    pub fn prepare(spec: &InChildSpec) -> Result<Self, ProcError> {
        use std::os::unix::ffi::OsStrExt;
        let ns = spec.namespaces;
        let real_uid = rustix::process::getuid().as_raw();
        let real_gid = rustix::process::getgid().as_raw();
        let uid = spec.uid.unwrap_or(real_uid);
        let gid = spec.gid.unwrap_or(real_gid);
        if !ns.user && uid != real_uid {
            return Err(ProcError::IdsNeedUserNamespace("uid"));
        }
        if !ns.user && gid != real_gid {
            return Err(ProcError::IdsNeedUserNamespace("gid"));
        }
        if spec.hostname.is_some() && !ns.uts {
            return Err(ProcError::HostnameNeedsUts);
        }
        if spec.as_pid_1 && !ns.pid {
            return Err(ProcError::AsPid1NeedsPidNamespace);
        }
        let unshare = ns.unshare_flags();
        let own_maps = ns.user.then(|| {
            [
                (c"/proc/self/setgroups".to_owned(), b"deny".to_vec()),
                (
                    c"/proc/self/uid_map".to_owned(),
                    format!("{uid} {real_uid} 1\n").into_bytes(),
                ),
                (
                    c"/proc/self/gid_map".to_owned(),
                    format!("{gid} {real_gid} 1\n").into_bytes(),
                ),
            ]
        });
        let ids = ns.user.then_some(SandboxIds {
            setup: (uid, gid),
            command: (uid, gid),
        });
        let security = SecurityPlan::prepare(&spec.security, ns.user, ids)?;
        Ok(Self {
            security,
            unshare,
            own_maps,
            switch_ids: ns.user.then_some((uid, gid)),
            hostname: spec.hostname.as_ref().map(|h| h.as_bytes().to_vec()),
            die_with_parent: spec.die_with_parent,
            pid_namespace: ns.pid,
            reaper: ns.pid && !spec.as_pid_1,
        })
    }

    /// The prepared security context (Landlock enforcement, rule names).
    pub fn security(&self) -> &SecurityPlan {
        &self.security
    }

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
    let sigchld = pid1::default_sigchld();
    let blocked = pid1::ForwardedBlocked::block();
    // SAFETY: both sides keep to the async-signal-safe contract.
    match unsafe { fork_raw() } {
        Err(e) => {
            blocked.restore();
            Err(fail(Step::Fork, e))
        }
        Ok(None) => {
            blocked.restore();
            pid1::restore_sigchld(&sigchld);
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
            pid1::supervise(child, None)
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
