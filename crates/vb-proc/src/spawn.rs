//! The parent's side: prepare a [`ProcessPlan`], clone the child, run the
//! handshake, and wait for the command.
//!
//! The lifecycle is a typestate: [`ProcessPlan::clone_child`] returns a
//! [`Pending`] child waiting at the gate (the caller attaches cgroups or moves
//! network interfaces now); [`Pending::release`] writes the id maps, opens the
//! gate, and reads the acknowledgement and the failure pipe, returning a
//! [`Running`] command; [`Running::wait`] returns its [`Termination`]. Dropping a
//! `Pending` or an unwaited `Running` kills and reaps the child, so an early
//! failure anywhere leaves no process behind.

use std::ffi::{CString, OsString};
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::AtomicI32;

use rustix::io::Errno;
use rustix::pipe::PipeFlags;
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

use crate::child::child_main;
use crate::clone::{Forked, clone_with_pidfd};
use crate::command::ExecPlan;
use crate::error::ProcError;
use crate::hook::ChildHooks;
use crate::id_map::{IdMapping, write_id_maps};
use crate::join::{JoinNamespaces, JoinPlan};
use crate::namespaces::Namespaces;
use crate::plan::{ChildFds, ChildPlan, Monitor};
use crate::report::{REPORT_LEN, SandboxReport};
use crate::security::{SandboxIds, SecurityPlan, SecuritySpec};
use crate::status::Termination;
use crate::sync::{
    ACK_BYTE, FdChannel, GATE_BYTE, READY_BYTE, SyncError, recv_failure, recv_token, send_token,
};

/// What to run and how to isolate it, as far as vb-proc is concerned.
///
/// Descriptors are borrowed: they must stay open until
/// [`ProcessPlan::clone_child`] returns (the child then holds its own copies).
#[derive(Clone, Debug, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct ProcessSpec<'fd> {
    /// The namespaces to create.
    pub namespaces: Namespaces,
    /// The uid inside the sandbox (default: the caller's real uid). Other than
    /// the caller's uid it needs a new user namespace.
    pub uid: Option<u32>,
    /// The gid inside the sandbox (default: the caller's real gid).
    pub gid: Option<u32>,
    /// The hostname to set (needs a new UTS namespace).
    pub hostname: Option<OsString>,
    /// Kill the sandbox with `SIGKILL` when the spawning thread dies.
    pub die_with_parent: bool,
    /// Call `setsid` before the PID-1 fork, detaching the sandbox from the
    /// caller's session and terminal.
    pub new_session: bool,
    /// With a new PID namespace, run the command as pid 1 instead of under a
    /// reaper.
    pub as_pid_1: bool,
    /// The command and its arguments; `command[0]` is looked up in `PATH`.
    pub command: Vec<OsString>,
    /// argv\[0\] as the command sees it.
    pub argv0: Option<OsString>,
    /// The command's complete environment.
    pub env: Vec<(OsString, OsString)>,
    /// The working directory; default: the caller's if it exists in the sandbox,
    /// else `$HOME`, else `/`.
    pub chdir: Option<PathBuf>,
    /// Descriptors to install as the command's stdin, stdout and stderr
    /// (`None` inherits the caller's).
    pub stdio: [Option<BorrowedFd<'fd>>; 3],
    /// cgroups the child joins itself, each a `tasks` file named relative to an
    /// open directory: once the parent signals that they exist
    /// ([`Started::cgroups_ready`]), after the filesystem and network hooks,
    /// the child opens each and writes `0`. The parent can so create the
    /// cgroups while the child sets itself up, and a process that moves itself
    /// skips the kernel's global thread-group lock, which moving another
    /// process by pid takes and which waits for an RCU grace period.
    pub join_cgroups: Vec<(BorrowedFd<'fd>, CString)>,
    /// Capabilities, seccomp, the user-namespace policy, the exec label.
    pub security: SecuritySpec,
    /// Files (paths inside the sandbox) the sandbox holds a read lock
    /// (`fcntl(F_SETLK, F_RDLCK)`) on for its whole life, taken by the reaper
    /// after setup (`--lock-file`). Not with `as_pid_1`.
    pub lock_files: Vec<PathBuf>,
    /// A descriptor the sandbox keeps open for its whole life, so the caller
    /// sees end-of-file when it ends (`--sync-fd`): held by the reaper, or by
    /// the command with `as_pid_1`.
    pub sync_fd: Option<BorrowedFd<'fd>>,
    /// After setup, the command waits until a byte (or end-of-file) can be
    /// read from this descriptor (`--block-fd`).
    pub block_fd: Option<BorrowedFd<'fd>>,
    /// With a new user namespace: the parent writes no id maps; the child
    /// waits until a byte (or end-of-file) can be read from this descriptor,
    /// by which time the caller has written them (`--userns-block-fd`).
    pub userns_block_fd: Option<BorrowedFd<'fd>>,
    /// Have the child report the ids of the sandbox's namespaces through
    /// [`Started::report`] (the parent cannot read them reliably from
    /// outside: see [`crate::report`]).
    pub report_namespaces: bool,
    /// Existing namespaces to join (see [`crate::join`]).
    pub join: JoinNamespaces<'fd>,
    /// Descriptor numbers the child closes as soon as it runs: the caller's
    /// descriptors that the sandbox must not hold even before it executes
    /// the command, such as a status descriptor whose reader waits for
    /// end-of-file (close-on-exec alone would keep it open until then).
    /// Only the child's copies are closed. Numbers, not borrowed
    /// descriptors: the caller closes its own copy (an info descriptor, once
    /// written) while the sandbox is still being set up, and a reader waits
    /// for that end-of-file.
    pub close_in_child: Vec<RawFd>,
    /// With a new user namespace, run setup as its uid and gid 0 (bubblewrap
    /// does so when it mounts a devpts), then move the command into a nested
    /// user namespace where it has `uid`/`gid`.
    pub setup_as_root: bool,
    /// The caller does nothing between the clone and the command's
    /// `execve` (no cgroup to attach, no network to move): the launch may
    /// then share the caller's memory until then, whatever its size
    /// ([`ProcessPlan::launch_flat`]), where the rest of the specification
    /// allows.
    pub flat: bool,
}

/// The most lock files one sandbox takes.
pub const MAX_LOCK_FILES: usize = 64;

/// A [`ProcessSpec`] turned into the data the child uses without allocating.
#[derive(Debug)]
pub struct ProcessPlan<'fd> {
    /// What the cloned child reads.
    child: ChildPlan,
    /// The id maps the parent writes while the child waits at the gate.
    maps: Option<(IdMapping, IdMapping)>,
    /// Whether the child sends a [`SandboxReport`].
    report: bool,
    _fds: PhantomData<BorrowedFd<'fd>>,
}

impl<'fd> ProcessPlan<'fd> {
    /// Validate and prepare `spec`.
    pub fn prepare(spec: &ProcessSpec<'fd>) -> Result<Self, ProcError> {
        let real_uid = rustix::process::getuid().as_raw();
        let real_gid = rustix::process::getgid().as_raw();
        let uid = spec.uid.unwrap_or(real_uid);
        let gid = spec.gid.unwrap_or(real_gid);
        let ns = spec.namespaces;
        if !ns.user && spec.join.user.is_none() {
            if uid != real_uid {
                return Err(ProcError::IdsNeedUserNamespace("uid"));
            }
            if gid != real_gid {
                return Err(ProcError::IdsNeedUserNamespace("gid"));
            }
        }
        if spec.hostname.is_some() && !ns.uts {
            return Err(ProcError::HostnameNeedsUts);
        }
        if spec.as_pid_1 && !ns.pid {
            return Err(ProcError::AsPid1NeedsPidNamespace);
        }
        if spec.as_pid_1 && !spec.lock_files.is_empty() {
            return Err(ProcError::AsPid1WithLockFiles);
        }
        if spec.userns_block_fd.is_some() && !ns.user {
            return Err(ProcError::UsernsBlockFdNeedsUserNamespace);
        }
        // The parent reports the namespaces before the child goes past a
        // userns_block_fd, whose helper needs the report first; a cgroup
        // namespace made after joining cgroups would come after it.
        if spec.userns_block_fd.is_some()
            && ns.cgroup
            && !spec.join_cgroups.is_empty()
            && spec.report_namespaces
        {
            return Err(ProcError::UsernsBlockFdWithLateCgroup);
        }
        // u32::MAX is the "unchanged" value of setresuid/setresgid.
        if spec.uid == Some(u32::MAX) || spec.gid == Some(u32::MAX) {
            return Err(ProcError::InvalidId);
        }
        if spec.lock_files.len() > MAX_LOCK_FILES {
            return Err(ProcError::TooManyLockFiles(spec.lock_files.len()));
        }
        let exec = ExecPlan::new(
            &spec.command,
            spec.argv0.as_deref(),
            &spec.env,
            spec.chdir.as_deref(),
            std::env::current_dir().ok().as_deref(),
        )?;
        // The ids vb's maps give the sandbox (none when the caller writes them).
        let own_maps = ns.user && spec.userns_block_fd.is_none();
        let setup_ids = if spec.setup_as_root {
            (0, 0)
        } else {
            (uid, gid)
        };
        let ids = own_maps.then_some(SandboxIds {
            setup: setup_ids,
            command: (uid, gid),
        });
        let join = JoinPlan::prepare(&spec.join, ns, setup_ids)?;
        if join.is_some() && spec.userns_block_fd.is_some() {
            return Err(ProcError::JoinWithUsernsBlockFd);
        }
        // Joining a user namespace counts as one for the capability model;
        // the ids are then the joined namespace's (no maps of vb's).
        let joined_user = spec.join.user.is_some();
        let ids = ids.filter(|_| !joined_user);
        let security = SecurityPlan::prepare(&spec.security, ns.user || joined_user, ids)?;
        let lock_paths = spec
            .lock_files
            .iter()
            .map(|p| {
                CString::new(p.as_os_str().as_bytes())
                    .map_err(|_| ProcError::LockFilePath(p.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // After a join the child writes its own maps (see crate::join).
        let maps = (own_maps && join.is_none())
            .then(|| crate::id_map::onto_caller(setup_ids, (real_uid, real_gid)));
        // Something must hold the locks and the sync descriptor while the
        // command runs: the reaper, which then also runs without a PID
        // namespace (as bubblewrap's monitor-side init does). It also keeps
        // the exit status when the caller ignores SIGCHLD: the cloned child
        // has no exit signal and is not reaped behind the caller's back, but
        // `execve` gives the command SIGCHLD again, so the command must not
        // be the cloned child then.
        let holder = !lock_paths.is_empty() || spec.sync_fd.is_some() || sigchld_ignored();
        let intermediate = join.as_ref().is_some_and(|j| j.intermediate);
        let report = spec.report_namespaces || intermediate;
        let proc_dir = if report || join.is_some() {
            Some(crate::report::open_host_proc().map_err(ProcError::Proc)?)
        } else {
            None
        };
        // pid 1 as vb-init (see crate::init): for the reaper above the
        // command, when the program and its memfds can be had; otherwise the
        // reaper stays in-process.
        let reaper = !spec.as_pid_1 && (ns.pid || holder);
        let init = if reaper {
            crate::init::program_fd().and_then(|fd| {
                let program = rustix::io::fcntl_dupfd_cloexec(
                    // SAFETY: the process-wide memfd crate::init keeps open.
                    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
                    3,
                )
                .ok()?;
                let seccomp = crate::init::seccomp_memfd(&security.seccomp).ok()?;
                Some(crate::plan::InitPlan { program, seccomp })
            })
        } else {
            None
        };
        // A CLONE_VM launch: nothing for the parent to do after the clone,
        // no namespace to join (a process in it could reach the child), and
        // pid 1 as vb-init in a PID namespace of its own (killing it then
        // ends the command's process, whose stack the plan owns). Every id
        // the child takes maps to the launcher's own (one-line maps), so no
        // credential change marks the shared memory not dumpable; nor does
        // entering a nested user namespace (`setup_as_root`,
        // `disable_userns`), whose owner is the process's own uid (see
        // SecurityPlan::before_fork).
        let flat = if spec.flat
            && join.is_none()
            && spec.join.user2.is_none()
            && spec.userns_block_fd.is_none()
            && spec.join_cgroups.is_empty()
            && (!reaper || (ns.pid && init.is_some()))
        {
            let own_maps = maps.map(|(uid, gid)| crate::id_map::own_map_writes(uid, gid));
            const STACK: usize = 512 * 1024;
            Some(crate::plan::FlatPlan {
                own_maps,
                stacks: [
                    crate::plan::Stack::new(STACK).map_err(ProcError::Clone)?,
                    crate::plan::Stack::new(STACK).map_err(ProcError::Clone)?,
                ],
            })
        } else {
            None
        };
        let proc_dir = match proc_dir {
            None if flat.as_ref().is_some_and(|f| f.own_maps.is_some()) => {
                Some(crate::report::open_host_proc().map_err(ProcError::Proc)?)
            }
            other => other,
        };
        let maps = if flat.is_some() { None } else { maps };
        let child = ChildPlan {
            namespaces: ns,
            // With maps written by the caller (userns_block_fd), the ids are
            // the caller's choice too, as under bubblewrap.
            switch_ids: if joined_user {
                // As bubblewrap: only an id other than the caller's is set,
                // and it must be mapped in the joined namespace.
                (
                    (uid != real_uid).then_some(uid),
                    (gid != real_gid).then_some(gid),
                )
            } else if own_maps {
                (Some(setup_ids.0), Some(setup_ids.1))
            } else {
                (None, None)
            },
            hostname: spec.hostname.as_ref().map(|h| h.as_bytes().to_vec()),
            die_with_parent: spec.die_with_parent,
            new_session: spec.new_session,
            reaper,
            // In a new PID namespace the parent is outside it and getppid() is 0.
            expected_parent: if ns.pid && join.is_none() {
                None
            } else {
                Some(rustix::process::getpid())
            },
            exec,
            stdio: spec.stdio.map(|fd| fd.map(|fd| fd.as_raw_fd())),
            join_cgroups: spec
                .join_cgroups
                .iter()
                .map(|(dir, path)| (dir.as_raw_fd(), path.clone()))
                .collect(),
            monitor: Monitor {
                lock_fds: lock_paths.iter().map(|_| AtomicI32::new(-1)).collect(),
                lock_paths,
                sync_fd: spec.sync_fd.map(|fd| fd.as_raw_fd()),
                block_fd: spec.block_fd.map(|fd| fd.as_raw_fd()),
                userns_block_fd: spec.userns_block_fd.map(|fd| fd.as_raw_fd()),
            },
            security,
            cgroup_ns_early: spec.join_cgroups.is_empty(),
            proc_dir,
            join,
            close_in_child: spec.close_in_child.clone(),
            user2: spec.join.user2.map(|fd| fd.as_raw_fd()),
            init,
            flat,
        };
        Ok(Self {
            child,
            maps,
            report,
            _fds: PhantomData,
        })
    }

    /// The command as given, for messages.
    pub fn command_display(&self) -> &str {
        self.child.exec.display()
    }

    /// The exec plan (candidate paths, explicit working directory).
    pub fn exec(&self) -> &ExecPlan {
        &self.child.exec
    }

    /// The prepared security context (Landlock enforcement, rule names).
    pub fn security(&self) -> &SecurityPlan {
        &self.child.security
    }

    /// Whether a PID-1 reaper runs above the command.
    pub fn has_reaper(&self) -> bool {
        self.child.reaper
    }

    /// Clone the child, which runs `hooks` after the gate opens.
    ///
    /// With `cgroup` (a cgroup v2 directory), the child is created inside that
    /// cgroup with `CLONE_INTO_CGROUP`; [`Pending::into_cgroup`] says whether the
    /// kernel honoured it.
    pub fn clone_child(
        &self,
        hooks: &ChildHooks<'_>,
        cgroup: Option<BorrowedFd<'_>>,
    ) -> Result<Pending, ProcError> {
        let pipes = Handshake::new(self)?;
        let fds = pipes.child_fds();
        // Every signal is blocked across the clone, so the child starts with
        // them blocked: none can run one of the caller's handlers in the child,
        // and a signal sent to the sandbox during setup is queued, not lost
        // (the reaper forwards it once it handles signals; a command gets it
        // when its mask is reset just before exec).
        let blocked = BlockAllSignals::new();
        // With namespaces to join, the child makes its own after joining them.
        let flags = if self.child.join.is_some() {
            0
        } else {
            self.child.namespaces.clone_flags()
        };
        // SAFETY: the child branch runs child_main, which keeps to the
        // async-signal-safe contract and never returns.
        let forked = unsafe { clone_with_pidfd(flags, cgroup) };
        if let Ok(Forked::Child) = forked {
            // The child keeps every signal blocked: restoring the caller's mask
            // is the parent's business only.
            child_main(&self.child, hooks, &fds);
        }
        drop(blocked);
        match forked.map_err(ProcError::Clone)? {
            Forked::Child => child_main(&self.child, hooks, &fds),
            Forked::Parent {
                pid,
                pidfd,
                into_cgroup,
            } => Ok(Pending {
                child: Reapable::new(pid, pidfd),
                gate: Some(pipes.gate.1),
                ack: pipes.ack.0,
                fail: pipes.fail.0,
                status: pipes.status.map(|(r, _)| r),
                ready: pipes.ready.map(|(_, w)| w),
                nsid: pipes.nsid.map(|(r, _)| r),
                maps: self.maps,
                into_cgroup,
            }),
        }
        // The child's ends (gate read, ack write, fail write, status write,
        // ready read) are dropped here in the parent, so only the child holds
        // them.
    }
}

/// The handshake pipes of one launch, both ends of each (read, write)
/// until the child exists: the gate, the acknowledgement, the failure
/// frames, and as the plan needs them the reaper's status, the cgroups'
/// readiness and the namespace report.
struct Handshake {
    gate: (OwnedFd, OwnedFd),
    ack: (OwnedFd, OwnedFd),
    fail: (OwnedFd, OwnedFd),
    status: Option<(OwnedFd, OwnedFd)>,
    ready: Option<(OwnedFd, OwnedFd)>,
    nsid: Option<(OwnedFd, OwnedFd)>,
}

impl Handshake {
    fn new(plan: &ProcessPlan<'_>) -> Result<Self, ProcError> {
        let pipe = || rustix::pipe::pipe_with(PipeFlags::CLOEXEC).map_err(ProcError::Pipe);
        let optional = |wanted: bool| wanted.then(pipe).transpose();
        Ok(Self {
            gate: pipe()?,
            ack: pipe()?,
            fail: pipe()?,
            status: optional(plan.child.reaper)?,
            ready: optional(!plan.child.join_cgroups.is_empty())?,
            nsid: optional(plan.report)?,
        })
    }

    /// The descriptor numbers the child reads.
    fn child_fds(&self) -> ChildFds {
        let ends = |p: &Option<(OwnedFd, OwnedFd)>| {
            (
                p.as_ref().map(|(r, _)| r.as_raw_fd()),
                p.as_ref().map(|(_, w)| w.as_raw_fd()),
            )
        };
        let (status_read, status_write) = ends(&self.status);
        let (ready_read, ready_write) = ends(&self.ready);
        let (nsid_read, nsid_write) = ends(&self.nsid);
        ChildFds {
            gate_read: self.gate.0.as_raw_fd(),
            gate_write: self.gate.1.as_raw_fd(),
            ack_read: self.ack.0.as_raw_fd(),
            ack_write: self.ack.1.as_raw_fd(),
            fail_read: self.fail.0.as_raw_fd(),
            fail_write: self.fail.1.as_raw_fd(),
            status_read,
            status_write,
            ready_read,
            ready_write,
            nsid_read,
            nsid_write,
        }
    }
}

/// What the first process of a `CLONE_VM` launch reads (see
/// [`ProcessPlan::launch_flat`]).
struct FlatChild<'a> {
    plan: &'a ChildPlan,
    hooks: &'a ChildHooks<'a>,
    fds: &'a ChildFds,
}

/// The first process of a `CLONE_VM` launch, on the plan's first stack.
extern "C" fn flat_child_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the FlatChild of launch_flat, whose frame is alive:
    // the launching thread is suspended until this process executes or
    // ends.
    let child = unsafe { &*arg.cast::<FlatChild<'_>>() };
    child_main(child.plan, child.hooks, child.fds)
}

impl ProcessPlan<'_> {
    /// Whether [`launch_flat`](Self::launch_flat) applies: the
    /// specification allowed it ([`ProcessSpec::flat`]) and needs nothing
    /// it cannot do.
    pub fn is_flat(&self) -> bool {
        self.child.flat.is_some()
    }

    /// Launch without copying the caller's memory: the sandbox's first
    /// process is made with `CLONE_VM | CLONE_VFORK` on a stack of its own
    /// (the command's process, below pid 1, likewise with `CLONE_VM`), so
    /// the cost does not grow with the caller's size. The calling thread is
    /// suspended until that process executes (vb-init as pid 1, or the
    /// command), which writes its own id maps meanwhile: there is no gate.
    /// Returns the started child; [`Started::report`] and
    /// [`Started::finish`] follow as after [`Pending::open_gate`].
    pub fn launch_flat(&self, hooks: &ChildHooks<'_>) -> Result<Started, ProcError> {
        let Some(flat) = &self.child.flat else {
            return Err(ProcError::Clone(Errno::INVAL));
        };
        // No cgroups to wait for: a flat plan joins none.
        let pipes = Handshake::new(self)?;
        let fds = pipes.child_fds();
        let child = FlatChild {
            plan: &self.child,
            hooks,
            fds: &fds,
        };
        let stack = flat
            .stacks
            .first()
            .map(crate::plan::Stack::top)
            .ok_or(ProcError::Clone(Errno::INVAL))?;
        let flags = libc::CLONE_VM
            | libc::CLONE_VFORK
            | libc::CLONE_PIDFD
            | i32::try_from(self.child.namespaces.clone_flags())
                .map_err(|_| ProcError::Clone(Errno::INVAL))?;
        let mut pidfd: libc::c_int = -1;
        // As in clone_child: every signal blocked across the clone.
        let blocked = BlockAllSignals::new();
        // SAFETY: the entry runs child_main on the plan's stack, which the
        // plan keeps mapped until after the wait; `child` and everything it
        // points to outlive the call, which returns only once the child has
        // executed or ended (CLONE_VFORK). No exit signal: as clone_child.
        let pid = unsafe {
            libc::clone(
                flat_child_entry,
                stack,
                flags,
                (&raw const child).cast_mut().cast(),
                &raw mut pidfd,
            )
        };
        drop(blocked);
        let pid = Pid::from_raw(pid).ok_or_else(|| ProcError::Clone(crate::errno::last_errno()))?;
        // SAFETY: the kernel stored a fresh pidfd that nothing else owns.
        let pidfd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(pidfd) };
        // The child's ends, and the gate it does not use, go here.
        Ok(Started {
            child: Reapable::new(pid, pidfd),
            ack: pipes.ack.0,
            fail: pipes.fail.0,
            status: pipes.status.map(|(r, _)| r),
            ready: None,
            nsid: pipes.nsid.map(|(r, _)| r),
        })
    }
}

/// Read into `buf` until it is full or end-of-file; how much was read.
fn read_full(fd: &OwnedFd, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::io::read(fd, buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Whether the calling process ignores SIGCHLD or asked for its children to
/// be reaped without a wait (`SA_NOCLDWAIT`): the kernel then reaps a child
/// that exits with SIGCHLD as its exit signal, and its status is lost.
fn sigchld_ignored() -> bool {
    // SAFETY: querying the disposition into a zeroed (valid) struct.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut old) == 0
            && (old.sa_sigaction == libc::SIG_IGN || old.sa_flags & libc::SA_NOCLDWAIT != 0)
    }
}

/// Blocks every signal on the calling thread until dropped.
struct BlockAllSignals {
    previous: libc::sigset_t,
}

impl BlockAllSignals {
    fn new() -> Self {
        // SAFETY: sigfillset initialises `all`; pthread_sigmask only changes
        // this thread's mask and stores the old one in `previous`.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut previous);
            Self { previous }
        }
    }
}

impl Drop for BlockAllSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved by `new` on the same thread.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut()) };
    }
}

/// A child process that is killed and reaped on drop unless it was waited for.
#[derive(Debug)]
struct Reapable {
    pid: Pid,
    pidfd: OwnedFd,
    reaped: bool,
}

impl Reapable {
    fn new(pid: Pid, pidfd: OwnedFd) -> Self {
        Self {
            pid,
            pidfd,
            reaped: false,
        }
    }

    fn wait(&mut self) -> Result<Termination, ProcError> {
        // `__WALL`: the child was cloned without an exit signal.
        let options =
            WaitIdOptions::EXITED | WaitIdOptions::from_bits_retain(libc::__WALL.unsigned_abs());
        loop {
            match rustix::process::waitid(WaitId::PidFd(self.pidfd.as_fd()), options) {
                Ok(Some(status)) => {
                    self.reaped = true;
                    return Ok(Termination::from_waitid(&status));
                }
                Ok(None) | Err(Errno::INTR) => {}
                Err(errno) => return Err(ProcError::Wait(errno)),
            }
        }
    }

    fn kill_and_reap(&mut self) -> Option<Termination> {
        if self.reaped {
            return None;
        }
        // ESRCH (already exited) is fine: the wait below reaps it either way.
        let _ = rustix::process::pidfd_send_signal(&self.pidfd, Signal::KILL);
        self.wait().ok()
    }
}

impl Drop for Reapable {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// A cloned child waiting at the gate.
#[derive(Debug)]
pub struct Pending {
    child: Reapable,
    gate: Option<OwnedFd>,
    ack: OwnedFd,
    fail: OwnedFd,
    status: Option<OwnedFd>,
    ready: Option<OwnedFd>,
    nsid: Option<OwnedFd>,
    maps: Option<(IdMapping, IdMapping)>,
    into_cgroup: bool,
}

impl Pending {
    /// The child's pid (the sandbox's pid 1 when it has a new PID namespace).
    pub fn pid(&self) -> Pid {
        self.child.pid
    }

    /// A pidfd for the child.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.child.pidfd.as_fd()
    }

    /// Whether the child was created directly in the requested cgroup.
    pub fn into_cgroup(&self) -> bool {
        self.into_cgroup
    }

    /// Write the id maps, open the gate, signal that the cgroups to join exist
    /// (when there are any), and wait until the command is executed.
    ///
    /// Returns the running command, or the child's failure (the child is reaped
    /// before this returns an error).
    pub fn release(self) -> Result<Running, ProcError> {
        let mut started = self.open_gate()?;
        started.cgroups_ready()?;
        started.finish()
    }

    /// Write the id maps and open the gate: the child starts its setup. The
    /// caller may now work alongside it (create the cgroups it joins) before
    /// [`Started::finish`].
    pub fn open_gate(mut self) -> Result<Started, ProcError> {
        let mut started = Started {
            child: self.child,
            ack: self.ack,
            fail: self.fail,
            status: self.status.take(),
            ready: self.ready.take(),
            nsid: self.nsid.take(),
        };
        if let Some((uid, gid)) = self.maps {
            write_id_maps(started.child.pid, uid, gid)?;
        }
        let gate = self.gate.take();
        let opened = match &gate {
            Some(fd) => send_token(&mut FdChannel::new(fd), GATE_BYTE),
            None => Err(SyncError::Io(Errno::BADF)),
        };
        drop(gate);
        if let Err(e) = opened {
            return Err(started.child_failed_or(ProcError::Handshake("gate", e)));
        }
        Ok(started)
    }
}

/// A child past the gate, setting itself up. Dropping it kills and reaps the
/// child.
#[derive(Debug)]
pub struct Started {
    child: Reapable,
    ack: OwnedFd,
    fail: OwnedFd,
    status: Option<OwnedFd>,
    ready: Option<OwnedFd>,
    nsid: Option<OwnedFd>,
}

impl Started {
    /// The child's pid.
    pub fn pid(&self) -> Pid {
        self.child.pid
    }

    /// Tell a child that joins cgroups itself that they now exist. Does
    /// nothing when it joins none, or when this was done already.
    pub fn cgroups_ready(&mut self) -> Result<(), ProcError> {
        let Some(ready) = self.ready.take() else {
            return Ok(());
        };
        if let Err(e) = send_token(&mut FdChannel::new(&ready), READY_BYTE) {
            return Err(self.child_failed_or(ProcError::Handshake("cgroup signal", e)));
        }
        Ok(())
    }

    /// The child's report on the sandbox's first process (see
    /// [`crate::report`]): its pid when it is not the cloned child, and the
    /// ids of its namespaces; `None` when none was asked for. With cgroups
    /// to join, call [`cgroups_ready`](Self::cgroups_ready) first: the
    /// cgroup namespace is made once they are joined.
    pub fn report(&mut self) -> Result<Option<SandboxReport>, ProcError> {
        let Some(fd) = self.nsid.take() else {
            return Ok(None);
        };
        let mut buf = [0u8; REPORT_LEN];
        let filled = match read_full(&fd, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                return Err(
                    self.child_failed_or(ProcError::Handshake("sandbox report", SyncError::Io(e)))
                );
            }
        };
        if filled == buf.len() {
            Ok(Some(SandboxReport::decode(&buf)))
        } else {
            let short = SyncError::Short {
                direction: "read",
                expected: buf.len(),
                got: filled,
            };
            Err(self.child_failed_or(ProcError::Handshake("sandbox report", short)))
        }
    }

    /// Wait until the command is executed. A child still waiting for
    /// [`cgroups_ready`](Self::cgroups_ready) gets end-of-file and fails.
    pub fn finish(mut self) -> Result<Running, ProcError> {
        drop(self.ready.take());
        match recv_token(&mut FdChannel::new(&self.ack), ACK_BYTE) {
            Ok(()) => {}
            Err(SyncError::Short { got: 0, .. }) => {
                return Err(self.child_failed_or_exited());
            }
            Err(e) => return Err(self.child_failed_or(ProcError::Handshake("ack", e))),
        }
        // After the acknowledgement the child executes; end-of-file on the
        // close-on-exec failure pipe means execve succeeded.
        match recv_failure(&mut FdChannel::new(&self.fail)) {
            Ok(None) => Ok(Running {
                child: self.child,
                status: self.status.take(),
            }),
            Ok(Some(failure)) => {
                self.child.kill_and_reap();
                Err(ProcError::Child(failure))
            }
            Err(e) => {
                self.child.kill_and_reap();
                Err(ProcError::Handshake("failure pipe", e))
            }
        }
    }

    /// The child's own failure report if it sent one, else `fallback`.
    fn child_failed_or(&mut self, fallback: ProcError) -> ProcError {
        self.child.kill_and_reap();
        match recv_failure(&mut FdChannel::new(&self.fail)) {
            Ok(Some(failure)) => ProcError::Child(failure),
            _ => fallback,
        }
    }

    /// The child ended before acknowledging: its failure report, or how it ended.
    fn child_failed_or_exited(&mut self) -> ProcError {
        match recv_failure(&mut FdChannel::new(&self.fail)) {
            Ok(Some(failure)) => {
                self.child.kill_and_reap();
                ProcError::Child(failure)
            }
            Ok(None) => match self.child.wait() {
                Ok(status) => ProcError::ExitedDuringSetup(status),
                Err(e) => e,
            },
            Err(e) => {
                self.child.kill_and_reap();
                ProcError::Handshake("failure pipe", e)
            }
        }
    }
}

/// The sandboxed command, executed and running.
#[derive(Debug)]
pub struct Running {
    child: Reapable,
    status: Option<OwnedFd>,
}

impl Running {
    /// The pid of the sandbox's first process (the reaper when there is one).
    pub fn pid(&self) -> Pid {
        self.child.pid
    }

    /// A pidfd for the sandbox's first process.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.child.pidfd.as_fd()
    }

    /// Send `signal` to the sandbox's first process. The reaper forwards the
    /// signals it handles to the command.
    pub fn signal(&self, signal: Signal) -> Result<(), ProcError> {
        rustix::process::pidfd_send_signal(&self.child.pidfd, signal).map_err(ProcError::Signal)
    }

    /// Wait for the command and return how it ended.
    pub fn wait(mut self) -> Result<Termination, ProcError> {
        // pid 1 as vb-init has SIGCHLD as its exit signal again (an
        // `execve` restores it): a caller that ignores SIGCHLD, or reaps
        // with `waitpid(-1)`, may take it first. Its status pipe still has
        // the command's status.
        let own = match self.child.wait() {
            Ok(own) => Some(own),
            Err(ProcError::Wait(Errno::CHILD)) if self.status.is_some() => {
                self.child.reaped = true;
                None
            }
            Err(e) => return Err(e),
        };
        let lost = ProcError::Wait(Errno::CHILD);
        let Some(status_fd) = self.status.take() else {
            return own.ok_or(lost);
        };
        // The reaper wrote the command's raw wait status before exiting.
        let mut buf = [0u8; 4];
        if read_full(&status_fd, &mut buf) == Ok(buf.len()) {
            Ok(Termination::from_raw(i32::from_le_bytes(buf)))
        } else {
            // The reaper itself was killed before it could report.
            own.ok_or(lost)
        }
    }
}
