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

use crate::error::ProcError;
use crate::id_map::IdMapping;
use crate::namespaces::Namespaces;
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
    /// The namespaces to create, all in one `unshare`.
    pub(crate) unshare: rustix::thread::UnshareFlags,
    /// With a new user namespace: `setgroups`, `uid_map` and `gid_map` of
    /// `/proc/self` and what to write to each.
    pub(crate) own_maps: Option<[(CString, Vec<u8>); 3]>,
    /// The uid and gid to switch to.
    pub(crate) switch_ids: Option<(u32, u32)>,
    /// The hostname, without a NUL.
    pub(crate) hostname: Option<Vec<u8>>,
    /// Arm `PR_SET_PDEATHSIG`.
    pub(crate) die_with_parent: bool,
    /// Fork once more so the new PID namespace has its pid 1.
    pub(crate) pid_namespace: bool,
    /// Fork the command under a reaper.
    pub(crate) reaper: bool,
    /// Capabilities, seccomp, Landlock, the user-namespace policy.
    pub(crate) security: SecurityPlan,
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
        // The caller's child writes through its own /proc.
        let own_maps = ns.user.then(|| {
            crate::id_map::own_map_writes(
                IdMapping {
                    inside: uid,
                    outside: real_uid,
                },
                IdMapping {
                    inside: gid,
                    outside: real_gid,
                },
            )
            .map(|(path, text)| {
                let path = [b"/proc/".as_slice(), path.to_bytes()].concat();
                (CString::new(path).unwrap_or_default(), text)
            })
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
}
