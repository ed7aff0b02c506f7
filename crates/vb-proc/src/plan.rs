//! The data the sandbox child reads, as leaves below the code that runs it:
//! [`ChildPlan`] for the child vb-proc clones, with the lock files and the
//! monitoring descriptors ([`Monitor`]) and the handshake descriptors
//! ([`ChildFds`]). [`ProcessPlan`](crate::ProcessPlan) builds them in the
//! parent; the child (`crate::child`) only reads them.

use std::ffi::CString;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::AtomicI32;

use rustix::process::Pid;

use crate::command::ExecPlan;
use crate::join::JoinPlan;
use crate::namespaces::Namespaces;
use crate::security::SecurityPlan;

/// Everything the cloned child reads, prepared by
/// [`ProcessPlan::prepare`](crate::ProcessPlan::prepare): plain data, C
/// strings and descriptor numbers, so the child runs without allocating.
#[derive(Debug)]
pub(crate) struct ChildPlan {
    /// The namespaces created (at the clone, or by the child after a join;
    /// the cgroup namespace always by the child).
    pub(crate) namespaces: Namespaces,
    /// The uid and gid to switch to (each only when it must change).
    pub(crate) switch_ids: (Option<u32>, Option<u32>),
    /// The hostname to set, without a NUL.
    pub(crate) hostname: Option<Vec<u8>>,
    /// Arm `PR_SET_PDEATHSIG`.
    pub(crate) die_with_parent: bool,
    /// `setsid` before the PID-1 fork.
    pub(crate) new_session: bool,
    /// Fork the command under a PID-1 reaper.
    pub(crate) reaper: bool,
    /// What `getppid` must return once the death signal is armed (`None`
    /// when the parent is outside the child's PID namespace).
    pub(crate) expected_parent: Option<Pid>,
    /// argv, envp, the candidate paths and working directories.
    pub(crate) exec: ExecPlan,
    /// The descriptors to install as 0, 1 and 2.
    pub(crate) stdio: [Option<RawFd>; 3],
    /// The cgroups the child joins itself: a directory and the `tasks` file
    /// in it.
    pub(crate) join_cgroups: Vec<(RawFd, CString)>,
    /// Capabilities, seccomp, Landlock, the user-namespace policy.
    pub(crate) security: SecurityPlan,
    /// Lock files and the monitoring descriptors.
    pub(crate) monitor: Monitor,
    /// The caller's descriptors the child closes first thing.
    pub(crate) close_in_child: Vec<RawFd>,
    /// Enter the cgroup namespace right after the gate rather than after
    /// joining the cgroups (there are none to join, or the caller must learn
    /// its id before the child goes on: `userns_block_fd`).
    pub(crate) cgroup_ns_early: bool,
    /// The host's `/proc`, through which the child reports the sandbox's
    /// namespaces and writes its own id maps after a join.
    pub(crate) proc_dir: Option<OwnedFd>,
    /// Namespaces to join, and what is created after them.
    pub(crate) join: Option<JoinPlan>,
    /// `--userns2`, entered after setup.
    pub(crate) user2: Option<RawFd>,
    /// pid 1 as the `vb-init` program (see `crate::init`); `None` keeps the
    /// reaper in-process.
    pub(crate) init: Option<InitPlan>,
}

/// What the reaper needs to execute `vb-init`.
#[derive(Debug)]
pub(crate) struct InitPlan {
    /// This launch's copy of the program's memfd.
    pub(crate) program: OwnedFd,
    /// The seccomp programs pid 1 loads after its `execve`.
    pub(crate) seccomp: Option<OwnedFd>,
}

/// The monitoring descriptors and lock files, prepared.
#[derive(Debug, Default)]
pub(crate) struct Monitor {
    /// The lock files, as paths inside the sandbox.
    pub(crate) lock_paths: Vec<CString>,
    /// Filled by the child with the descriptors it locked (no allocation).
    pub(crate) lock_fds: Vec<AtomicI32>,
    /// `--sync-fd`: held open for the sandbox's life.
    pub(crate) sync_fd: Option<RawFd>,
    /// `--block-fd`: waited on before the working directory is entered.
    pub(crate) block_fd: Option<RawFd>,
    /// `--userns-block-fd`: waited on before the id switch.
    pub(crate) userns_block_fd: Option<RawFd>,
}

/// The raw descriptors of the handshake pipes, both ends of each: the child
/// closes the parent's ends first, so end-of-file on the gate means the
/// parent is gone.
#[derive(Debug)]
pub(crate) struct ChildFds {
    pub(crate) gate_read: RawFd,
    pub(crate) gate_write: RawFd,
    pub(crate) ack_read: RawFd,
    pub(crate) ack_write: RawFd,
    pub(crate) fail_read: RawFd,
    pub(crate) fail_write: RawFd,
    pub(crate) status_read: Option<RawFd>,
    pub(crate) status_write: Option<RawFd>,
    pub(crate) ready_read: Option<RawFd>,
    pub(crate) ready_write: Option<RawFd>,
    pub(crate) nsid_read: Option<RawFd>,
    pub(crate) nsid_write: Option<RawFd>,
}
