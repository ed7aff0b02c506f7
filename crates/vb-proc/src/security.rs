//! The sandbox's security context: capabilities, `no_new_privs`, seccomp,
//! the user-namespace policy and the SELinux exec label — prepared in the
//! parent ([`SecurityPlan::prepare`]) and applied in the child in three
//! places:
//!
//! 1. before the PID-1 fork, for every process of the sandbox: the
//!    user-namespace policy (`disable_userns` enters a nested user namespace
//!    after capping the sandbox's count of them at one), then the bounding
//!    set is cut;
//! 2. in the reaper (pid 1): every capability dropped, `no_new_privs`, not
//!    dumpable — so the command can neither ptrace it nor open anything
//!    through `/proc/1/fd` — and the seccomp programs, as bubblewrap applies
//!    them to its pid 1;
//! 3. in the command's process, last before `execve`: the resource limits,
//!    the requested capability sets, `no_new_privs`, the exec label, the
//!    Landlock restriction, then
//!    the seccomp programs: the caller's compiled ones (`--seccomp`,
//!    `--add-seccomp-fd`) in order, then the deny list, the JSON policy and
//!    the default profile, then voidbox's terminal filter. The kernel runs
//!    the last installed first; the strictest action wins, and among
//!    `EPERM`-like errno actions the one of the filter installed last.

use std::ffi::CString;
use std::os::fd::OwnedFd;

use rustix::io::Errno;

use crate::caps::{CallerCaps, CapError, CapOp, CapPlan};
use crate::filter::{self, FilterError, SeccompPolicy, Syscall};
use crate::frame::{ChildFailure, Origin};
use crate::landlock::{LandlockError, LandlockPlan, LandlockSpec};
use crate::rlimit::Rlimit;
use crate::seccomp::{self, BpfProgram};

/// What the sandbox may do, as the caller asks for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct SecuritySpec {
    /// Capability edits in order (`--cap-add`, `--cap-drop`); see [`crate::caps`]
    /// for the model.
    pub capabilities: Vec<CapOp>,
    /// seccomp programs to install, in order, on the command and on the
    /// reaper (`--seccomp`, `--add-seccomp-fd`).
    pub seccomp: Vec<BpfProgram>,
    /// System calls to fail with `EPERM` (`--seccomp-deny`), installed
    /// after [`seccomp`](Self::seccomp).
    pub seccomp_deny: Vec<Syscall>,
    /// A policy in seccompiler's JSON format (`--seccomp-policy`), after the
    /// deny list.
    pub seccomp_policy: Option<SeccompPolicy>,
    /// voidbox's default profile (`--seccomp-default`), after the policy;
    /// see [`filter::default_profile`].
    pub seccomp_default: bool,
    /// Resource limits for the command (`--rlimit`).
    pub rlimits: Vec<Rlimit>,
    /// Landlock rules for the command (`--landlock-*`): paths as seen in the
    /// sandbox, TCP ports.
    pub landlock: LandlockSpec,
    /// Refuse `ioctl(TIOCSTI)` and `ioctl(TIOCLINUX)` with a seccomp filter of
    /// voidbox's own (see [`seccomp::terminal_injection_filter`]).
    pub block_terminal_injection: bool,
    /// Keep the sandbox from creating user namespaces (`--disable-userns`):
    /// needs a new user namespace.
    pub disable_userns: bool,
    /// Fail unless creating a user namespace is refused inside the sandbox
    /// (`--assert-userns-disabled`).
    pub assert_userns_disabled: bool,
    /// The SELinux context to execute the command in (written to
    /// `/proc/thread-self/attr/exec`). The caller checks that SELinux is
    /// enabled.
    pub exec_label: Option<String>,
}

/// Why a [`SecuritySpec`] cannot be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// The capability request cannot be met.
    #[error(transparent)]
    Capabilities(#[from] CapError),
    /// `disable_userns` without a new user namespace.
    #[error("disable_userns requires namespaces.user")]
    DisableUsernsNeedsUserNamespace,
    /// `/proc` could not be opened for the user-namespace limit or the label.
    #[error("opening /proc: {0}")]
    Proc(Errno),
    /// The exec label contains a NUL byte.
    #[error("invalid exec label {0:?}")]
    Label(String),
    /// A named seccomp filter could not be built.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// The Landlock request cannot be prepared.
    #[error(transparent)]
    Landlock(#[from] LandlockError),
}

/// The security steps of the child, reported with [`Origin::Security`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum SecurityStep {
    /// `PR_CAPBSET_DROP`; the index is the capability number.
    BoundingSet = 1,
    /// `capset`.
    CapSet = 2,
    /// `PR_CAP_AMBIENT_RAISE`; the index is the capability number.
    Ambient = 3,
    /// `PR_SET_NO_NEW_PRIVS`.
    NoNewPrivs = 4,
    /// Installing a seccomp program; the index says which (the caller's
    /// first, voidbox's own after them).
    Seccomp = 5,
    /// The nested user namespace (`disable_userns`, or setup as uid 0); the
    /// index is the sub-step: 0 opening `/proc/sys/user/max_user_namespaces`,
    /// 1 writing it, 2 the nested `unshare(CLONE_NEWUSER)`, 3 its `uid_map`,
    /// 4 its `gid_map`.
    DisableUserns = 6,
    /// Creating a user namespace still worked (`assert_userns_disabled`).
    UsernsNotDisabled = 7,
    /// Writing the exec label.
    ExecLabel = 8,
    /// `PR_SET_DUMPABLE` of the reaper.
    Dumpable = 9,
    /// `setrlimit`; the index is the resource's
    /// [`RlimitResource::index`](crate::RlimitResource::index).
    Rlimit = 10,
}

impl SecurityStep {
    fn from_u32(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::BoundingSet,
            2 => Self::CapSet,
            3 => Self::Ambient,
            4 => Self::NoNewPrivs,
            5 => Self::Seccomp,
            6 => Self::DisableUserns,
            7 => Self::UsernsNotDisabled,
            8 => Self::ExecLabel,
            9 => Self::Dumpable,
            10 => Self::Rlimit,
            _ => return None,
        })
    }

    /// The step named by a failure whose origin is [`Origin::Security`].
    pub fn of(failure: &ChildFailure) -> Option<Self> {
        match failure.origin {
            Origin::Security => Self::from_u32(failure.step),
            _ => None,
        }
    }
}

/// The nested user namespace the command ends up in, prepared: for
/// `disable_userns` (which first caps the sandbox's count of user namespaces
/// at one, so none can be created inside), and when setup ran as uid 0 of
/// the sandbox's user namespace and the command's ids are others (the
/// nested namespace maps them onto the ids setup had).
#[derive(Debug)]
pub(crate) struct NestedUserns {
    /// Cap the sandbox's user namespaces at one first (`disable_userns`).
    pub(crate) limit: bool,
    /// The nested namespace's `uid_map` line.
    pub(crate) uid_map: Vec<u8>,
    /// Its `gid_map` line.
    pub(crate) gid_map: Vec<u8>,
}

/// The ids of the sandbox's processes in its user namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SandboxIds {
    /// The uid and gid setup runs as (what the sandbox's id maps give).
    pub setup: (u32, u32),
    /// The uid and gid the command runs as.
    pub command: (u32, u32),
}

/// A [`SecuritySpec`] turned into data the child applies without allocating.
#[derive(Debug)]
pub struct SecurityPlan {
    /// The capability masks.
    pub(crate) caps: CapPlan,
    /// The seccomp programs, in the order they are installed.
    pub(crate) seccomp: Vec<BpfProgram>,
    /// The command's resource limits.
    pub(crate) rlimits: Vec<Rlimit>,
    /// Prepared only when the spec asks for a Landlock restriction.
    pub(crate) landlock: Option<LandlockPlan>,
    /// The nested user namespace, when the command gets one.
    pub(crate) nested: Option<NestedUserns>,
    /// Check that a user namespace cannot be created.
    pub(crate) assert_userns_disabled: bool,
    /// The SELinux exec label.
    pub(crate) exec_label: Option<CString>,
    /// The host's `/proc`, for the per-namespace user-namespace limit and the
    /// exec label; close-on-exec, and closed by the reaper.
    pub(crate) proc_dir: Option<OwnedFd>,
}

impl SecurityPlan {
    /// Prepare `spec` for a sandbox in a new (or joined) user namespace when
    /// `ids` is given (and the ids are vb's to choose: `None` otherwise).
    pub fn prepare(
        spec: &SecuritySpec,
        user_namespace: bool,
        ids: Option<SandboxIds>,
    ) -> Result<Self, SecurityError> {
        let caller = CallerCaps::read().map_err(CapError::Read)?;
        let caps = CapPlan::compute(&caller, &spec.capabilities, user_namespace)?;
        if spec.disable_userns && !user_namespace {
            return Err(SecurityError::DisableUsernsNeedsUserNamespace);
        }
        let exec_label = spec
            .exec_label
            .as_ref()
            .map(|l| CString::new(l.as_bytes()).map_err(|_| SecurityError::Label(l.clone())))
            .transpose()?;
        let nested = ids
            .filter(|ids| spec.disable_userns || ids.setup != ids.command)
            .map(|SandboxIds { setup, command }| NestedUserns {
                limit: spec.disable_userns,
                uid_map: format!("{} {} 1\n", command.0, setup.0).into_bytes(),
                gid_map: format!("{} {} 1\n", command.1, setup.1).into_bytes(),
            });
        if spec.disable_userns && nested.is_none() {
            return Err(SecurityError::DisableUsernsNeedsUserNamespace);
        }
        let proc_dir = if nested.is_some() || exec_label.is_some() {
            Some(crate::report::open_host_proc().map_err(SecurityError::Proc)?)
        } else {
            None
        };
        let landlock = if spec.landlock.is_empty() {
            None
        } else {
            Some(LandlockPlan::prepare(&spec.landlock)?)
        };
        // The caller's programs first, then the named ones, then voidbox's
        // own: the companion of Landlock's TCP rules, the terminal filter
        // (see the module docs).
        let mut seccomp = spec.seccomp.clone();
        if !spec.seccomp_deny.is_empty() {
            seccomp.push(filter::deny(&spec.seccomp_deny)?);
        }
        if let Some(policy) = &spec.seccomp_policy {
            seccomp.push(policy.program().clone());
        }
        if spec.seccomp_default {
            seccomp.push(filter::default_profile()?);
        }
        if landlock.as_ref().is_some_and(LandlockPlan::restricts_tcp) {
            seccomp.push(filter::tcp_companion()?);
        }
        if spec.block_terminal_injection {
            seccomp.push(seccomp::terminal_injection_filter());
        }
        Ok(Self {
            caps,
            seccomp,
            rlimits: spec.rlimits.clone(),
            landlock,
            nested,
            assert_userns_disabled: spec.assert_userns_disabled || spec.disable_userns,
            exec_label,
            proc_dir,
        })
    }

    /// The prepared Landlock restriction, when one was asked for: what the
    /// running kernel enforces of it ([`LandlockPlan::enforcement`]) is for
    /// the caller to check before the clone, and its rule paths and ports
    /// name a failure.
    pub fn landlock(&self) -> Option<&LandlockPlan> {
        self.landlock.as_ref()
    }

    /// The descriptor the plan holds open for the child, if any.
    #[cfg(test)]
    fn proc_dir(&self) -> Option<std::os::fd::RawFd> {
        self.proc_dir.as_ref().map(std::os::fd::AsRawFd::as_raw_fd)
    }
}

/// Whether the calling process has a controlling terminal that a sandbox
/// sharing its session could inject input into: the `tty_nr` field of
/// `/proc/self/stat` (not whether `/dev/tty` opens, which a mount namespace
/// or a `nodev` `/dev` can hide). When it cannot be read, yes.
pub fn has_controlling_terminal() -> bool {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return true;
    };
    // The command name (field 2) may hold spaces and parentheses: fields
    // are counted after its last ')'. tty_nr is field 7, the fifth after it.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(4))
        .and_then(|tty| tty.parse::<i64>().ok())
        .is_none_or(|tty| tty != 0)
}

/// Whether SELinux is enabled on this host (its filesystem is mounted).
pub fn selinux_enabled() -> bool {
    std::fs::metadata("/sys/fs/selinux/enforce").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_steps_are_stable() {
        for raw in 1..=10 {
            assert_eq!(SecurityStep::from_u32(raw).unwrap() as u32, raw);
        }
        assert_eq!(SecurityStep::from_u32(0), None);
        assert_eq!(SecurityStep::from_u32(11), None);
    }

    #[test]
    fn disable_userns_needs_a_user_namespace() {
        let spec = SecuritySpec {
            disable_userns: true,
            ..SecuritySpec::default()
        };
        assert!(matches!(
            SecurityPlan::prepare(&spec, false, None),
            Err(SecurityError::DisableUsernsNeedsUserNamespace)
        ));
        let ids = SandboxIds {
            setup: (5, 6),
            command: (5, 6),
        };
        let plan = SecurityPlan::prepare(&spec, true, Some(ids)).unwrap();
        assert!(plan.assert_userns_disabled, "disabling implies the check");
        assert!(plan.proc_dir().is_some());
        let nested = plan.nested.as_ref().unwrap();
        assert!(nested.limit);
        assert_eq!(nested.uid_map, b"5 5 1\n");
        assert_eq!(nested.gid_map, b"6 6 1\n");
    }

    #[test]
    fn setup_as_root_nests_the_command_under_its_own_ids() {
        let ids = SandboxIds {
            setup: (0, 0),
            command: (1000, 65534),
        };
        let plan = SecurityPlan::prepare(&SecuritySpec::default(), true, Some(ids)).unwrap();
        let nested = plan.nested.as_ref().unwrap();
        assert!(!nested.limit, "no cap on user namespaces unless asked");
        assert_eq!(nested.uid_map, b"1000 0 1\n");
        assert_eq!(nested.gid_map, b"65534 0 1\n");
        assert!(!plan.assert_userns_disabled);
        let same = SandboxIds {
            setup: (0, 0),
            command: (0, 0),
        };
        let plan = SecurityPlan::prepare(&SecuritySpec::default(), true, Some(same)).unwrap();
        assert!(plan.nested.is_none());
    }

    #[test]
    fn the_terminal_filter_goes_after_the_callers_programs() {
        let own = BpfProgram::from_bytes(&[6, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap();
        let spec = SecuritySpec {
            seccomp: vec![own.clone()],
            block_terminal_injection: true,
            ..SecuritySpec::default()
        };
        let plan = SecurityPlan::prepare(&spec, true, None).unwrap();
        assert_eq!(plan.seccomp.len(), 2);
        assert_eq!(plan.seccomp[0], own);
        assert_eq!(plan.seccomp[1], seccomp::terminal_injection_filter());
        assert!(plan.proc_dir().is_none(), "no /proc needed");
    }
}
