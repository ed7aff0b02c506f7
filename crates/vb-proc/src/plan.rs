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
    /// A launch whose processes share the launcher's memory until they
    /// execute (see [`ProcessPlan::launch_flat`](crate::ProcessPlan::launch_flat)).
    pub(crate) flat: Option<FlatPlan>,
}

/// What a `CLONE_VM` launch needs beyond the plan.
#[derive(Debug)]
pub(crate) struct FlatPlan {
    /// The child's own id maps (`setgroups`, `uid_map`, `gid_map` under the
    /// host's `/proc/self`), written first thing: there is no gate for the
    /// parent to write them at.
    pub(crate) own_maps: Option<[(&'static std::ffi::CStr, Vec<u8>); 3]>,
    /// The stacks of the sandbox's first process and of the command's.
    pub(crate) stacks: [Stack; 2],
}

/// A stack for a `CLONE_VM` process: an anonymous mapping with a guard
/// page below, unmapped when dropped — after the processes using it have
/// executed or ended (the plan outlives the launch's wait).
#[derive(Debug)]
pub(crate) struct Stack {
    base: *mut std::ffi::c_void,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone; no reference into it is
// handed out to other threads of the launcher.
unsafe impl Send for Stack {}
// SAFETY: as above; `top` only computes an address.
unsafe impl Sync for Stack {}

impl Stack {
    /// A stack of `len` bytes (a multiple of the page size) above a guard
    /// page.
    pub(crate) fn new(len: usize) -> Result<Self, rustix::io::Errno> {
        use rustix::mm::{MapFlags, ProtFlags};
        let guard = rustix::param::page_size();
        let total = len + guard;
        // SAFETY: a fresh private anonymous mapping.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                total,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::STACK | MapFlags::NORESERVE,
            )
        }?;
        let empty = rustix::mm::MprotectFlags::empty();
        // SAFETY: the lowest page of the mapping just made.
        let guarded = unsafe { rustix::mm::mprotect(base, guard, empty) };
        if let Err(e) = guarded {
            // SAFETY: unmapping the mapping just made.
            let _ = unsafe { rustix::mm::munmap(base, total) };
            return Err(e);
        }
        Ok(Self { base, len: total })
    }

    /// The top of the stack, 16-byte aligned (stacks grow down).
    pub(crate) fn top(&self) -> *mut std::ffi::c_void {
        self.base.cast::<u8>().wrapping_add(self.len).cast()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping this value owns, once.
        let _ = unsafe { rustix::mm::munmap(self.base, self.len) };
    }
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
/// parent is gone. Plain numbers, copied where a process must not read the
/// launcher's stack (see `child::cloned::FlatCommand`).
#[derive(Clone, Copy, Debug)]
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
