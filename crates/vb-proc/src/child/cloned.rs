//! What the child vb-proc clones runs between `clone3` and `execve`, in the
//! fixed order the design gives: close the parent's pipe ends and the
//! caller's status descriptors, default `SIGCHLD`; death signal, gate, not
//! dumpable; the namespaces to join (and the forks below a PID namespace
//! joined or made after the clone); the cgroup namespace and the report when
//! they are final early; `userns_block_fd`; id switch, hostname, the
//! filesystem and network hooks; joining the cgroups the parent made
//! meanwhile, the cgroup namespace and the report otherwise; the security
//! context shared by every process (user-namespace policy, bounding set);
//! `--userns2`, `block_fd`, working directory, new session; lock files and
//! the PID-1 fork. Then on the reaper's side its own lockdown (no
//! capabilities, not dumpable, descriptors closed, seccomp) and on the
//! command's side standard streams, the command's security context
//! (limits, capabilities, `no_new_privs`, label, Landlock), the
//! acknowledgement, signal reset, seccomp and `execve`.
//!
//! [`run`] is the whole sequence over a [`ChildSys`]; [`child_main`] runs it
//! on the kernel and leaves the way [`run`] says ([`Ending`]).

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;

use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::process::Pid;
use rustix::thread::UnshareFlags;

use crate::child::fds::MAX_KEPT;
use crate::child::reaper;
use crate::child::steps::{
    arm_death_signal, fail, run_hooks, send_frame, set_dumpable, setns, switch_ids_each,
    write_file_at,
};
use crate::child::sys::{ChildSys, RealSys, SysChannel};
use crate::frame::{ChildFailure, Step};
use crate::hook::ChildHooks;
use crate::namespaces::NamespaceKind;
use crate::plan::{ChildFds, ChildPlan, FlatPlan, InitPlan, Monitor, Stack};
use crate::sync::{ACK_BYTE, GATE_BYTE, READY_BYTE, recv_token, send_token};

/// The exit code of a child that reported a failure frame.
pub(crate) const SETUP_FAILED_EXIT: libc::c_int = 127;

/// How a process of the sandbox leaves the child-side code, other than by
/// `execve`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// `_exit` with this code: setup failed, and the failure frame is
    /// written.
    Exit(libc::c_int),
    /// Supervise `child` and exit with its status: the reaper above the
    /// command, or the waiter above a PID namespace joined or made after the
    /// clone. `status_fd` receives the raw wait status.
    Supervise {
        /// The process to supervise.
        child: Pid,
        /// Where the raw wait status goes.
        status_fd: Option<RawFd>,
    },
}

/// The child's entry point; never returns.
pub(crate) fn child_main(plan: &ChildPlan, hooks: &ChildHooks<'_>, fds: &ChildFds) -> ! {
    match run(&mut RealSys, plan, hooks, fds) {
        // SAFETY: _exit skips Rust and libc teardown, which must not run here.
        Ending::Exit(code) => unsafe { libc::_exit(code) },
        Ending::Supervise { child, status_fd } => reaper::supervise(child, status_fd),
    }
}

/// The whole child-side sequence of a cloned child. Returns only in a
/// process that does not execute the command: one whose setup failed (the
/// frame is written) or one that supervises a process below it.
pub(crate) fn run<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    hooks: &ChildHooks<'_>,
    fds: &ChildFds,
) -> Ending {
    sys.close(fds.gate_write);
    sys.close(fds.ack_read);
    sys.close(fds.fail_read);
    for fd in [fds.status_read, fds.ready_write, fds.nsid_read]
        .into_iter()
        .flatten()
    {
        sys.close(fd);
    }
    for fd in &plan.close_in_child {
        sys.close(*fd);
    }
    // This process, or the reaper it becomes, waits for children (the
    // command gets default dispositions before exec anyway).
    sys.default_sigchld();
    match setup(sys, plan, hooks, fds) {
        Ok(ending) => ending,
        Err(failure) => {
            send_frame(sys, fds.fail_write, &failure);
            Ending::Exit(SETUP_FAILED_EXIT)
        }
    }
}

/// The steps up to the PID-1 fork, then the command's side (or the
/// reaper's): `Ok` only in a process that leaves without executing.
fn setup<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    hooks: &ChildHooks<'_>,
    fds: &ChildFds,
) -> Result<Ending, ChildFailure> {
    if plan.die_with_parent {
        set_death_signal(sys, plan.expected_parent)?;
    }
    if let Some(flat) = &plan.flat {
        // A CLONE_VM launch: the parent is suspended until this process
        // executes, so it writes its own id maps. It shares the launcher's
        // memory, whose dumpable flag it must not change (a flag of the
        // memory, not of the process); no process of the sandbox exists
        // yet, and vb-init makes itself not dumpable.
        sys.close(fds.gate_read);
        if let Some(maps) = &flat.own_maps {
            let proc_dir = plan
                .proc_dir
                .as_ref()
                .map(AsRawFd::as_raw_fd)
                .ok_or_else(|| fail(Step::OwnIdMap, Errno::BADF))?;
            for (index, (path, text)) in (0u32..).zip(maps.iter()) {
                write_file_at(sys, proc_dir, path, text)
                    .map_err(|e| ChildFailure::process(Step::OwnIdMap, index, e.raw_os_error()))?;
            }
        }
    } else {
        recv_token(&mut SysChannel::new(sys, fds.gate_read), GATE_BYTE)
            .map_err(|_| fail(Step::Gate, Errno::PIPE))?;
        sys.close(fds.gate_read);
        // This process is a copy of the launcher's memory: from here on (the
        // parent has written the id maps it had to) nothing the sandbox holds
        // may trace it or read it through /proc, even a process already in a
        // namespace it joins. `execve` makes the command dumpable again.
        set_dumpable(sys, false)?;
    }
    if let Some(join) = &plan.join {
        let proc_dir = plan
            .proc_dir
            .as_ref()
            .map(AsRawFd::as_raw_fd)
            .ok_or_else(|| fail(Step::JoinNamespace, Errno::BADF))?;
        join.enter(sys, proc_dir)?;
        if join.intermediate {
            // The PID namespace applies to children: the sandbox's first
            // process is one fork further (see crate::join), two when a new
            // one nests in the joined one (unshare refuses a new PID
            // namespace once setns has chosen the children's).
            if let Some(ending) = fork_below(sys, plan, fds)? {
                return Ok(ending);
            }
            if join.nested_pid {
                // SAFETY: unshare of a namespace in a single-threaded child.
                unsafe { sys.unshare(UnshareFlags::NEWPID) }.map_err(|e| fail(Step::Unshare, e))?;
                if let Some(ending) = fork_below(sys, plan, fds)? {
                    return Ok(ending);
                }
            }
        }
    }
    // The cgroup namespace is rooted at the cgroup the process is in when
    // it is made: here when that is final (no cgroup to join), else once
    // joined, below. The report follows it.
    if plan.namespaces.cgroup && plan.cgroup_ns_early {
        enter_cgroup_namespace(sys)?;
    }
    if !plan.namespaces.cgroup || plan.cgroup_ns_early {
        send_report(sys, plan, fds)?;
    }
    if let Some(fd) = plan.monitor.userns_block_fd {
        // The caller writes the id maps (newuidmap) meanwhile.
        block_on(sys, fd, Step::UsernsBlockFd)?;
    }

    switch_ids_each(sys, plan.switch_ids.0, plan.switch_ids.1)?;
    if let Some(name) = &plan.hostname {
        sys.set_hostname(name)
            .map_err(|e| fail(Step::Hostname, e))?;
    }
    run_hooks(sys, hooks)?;
    if let Some(ready) = fds.ready_read {
        join_cgroups(sys, ready, plan)?;
    }
    if plan.namespaces.cgroup && !plan.cgroup_ns_early {
        // After the cgroups are joined, so the namespace is rooted at the
        // sandbox's own cgroup.
        enter_cgroup_namespace(sys)?;
        send_report(sys, plan, fds)?;
    }
    // For every process of the sandbox: the user-namespace policy and the
    // bounding set, then what bubblewrap also does before its pid-1 fork.
    plan.security.before_fork(sys, plan.flat.is_some())?;
    if let Some(fd) = plan.user2 {
        // After setup and the bounding set, as bubblewrap enters it.
        setns(sys, fd, NamespaceKind::User2)?;
    }
    if let Some(fd) = plan.monitor.block_fd {
        block_on(sys, fd, Step::BlockFd)?;
    }
    plan.exec.enter_cwd(sys).map_err(|e| fail(Step::Chdir, e))?;
    if plan.new_session {
        // Before the fork, so the reaper leaves the caller's session and
        // terminal too.
        sys.setsid().map_err(|e| fail(Step::NewSession, e))?;
    }

    if plan.reaper {
        take_locks(sys, &plan.monitor)?;
        let reaper_pid = sys.own_pid();
        // With pid 1 as vb-init, the command waits for end-of-file on this
        // pipe before its `execve` (see command_side): vb-init closes it once
        // locked down (its `execve` makes it dumpable until then).
        let ready = match plan.init {
            Some(_) => Some(sys.pipe().map_err(|e| fail(Step::Fork, e))?),
            None => None,
        };
        if let (Some(flat), Some(init), Some(ready)) = (&plan.flat, &plan.init, ready) {
            return flat_split(sys, plan, fds, flat, init, ready, reaper_pid);
        }
        // Signals are still blocked from the clone (see ProcessPlan::clone_child):
        // the reaper unblocks the ones it forwards once its handlers are in.
        // SAFETY: both sides go on with this code, which keeps to the
        // async-signal-safe contract.
        match unsafe { sys.fork() } {
            Err(e) => return Err(fail(Step::Fork, e)),
            Ok(Some(command)) => {
                if let (Some(init), Some((read, write))) = (&plan.init, ready) {
                    sys.close(read);
                    return Ok(init_side(sys, plan, fds, command, init, write));
                }
                return Ok(reaper_side(sys, plan, fds, command));
            }
            Ok(None) => return below_the_reaper(sys, plan, fds, ready, reaper_pid, None),
        }
    } else if let Some(fd) = plan.monitor.sync_fd {
        // No reaper (as pid 1): the command itself keeps the descriptor open
        // for the sandbox's life, as bubblewrap leaves it.
        sys.keep_across_exec(fd)
            .map_err(|e| fail(Step::SyncFd, e))?;
    }
    command_side(sys, plan, fds, None, None)
}

/// The command's process, just created below the reaper: it gives up the
/// reaper's descriptors and goes on to `execve`.
fn below_the_reaper<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    fds: &ChildFds,
    ready: Option<(RawFd, RawFd)>,
    reaper_pid: Pid,
    started: Option<RawFd>,
) -> Result<Ending, ChildFailure> {
    if let Some((_, write)) = ready {
        sys.close(write);
    }
    if let Some(fd) = fds.status_write {
        sys.close(fd);
    }
    for slot in &plan.monitor.lock_fds {
        sys.close(slot.load(Ordering::Relaxed));
    }
    if let Some(fd) = plan.monitor.sync_fd {
        sys.close(fd);
    }
    if plan.die_with_parent {
        // The reaper is pid 1 of the new namespace, or the
        // process that forked this one.
        let parent = if plan.namespaces.pid {
            Pid::from_raw(1)
        } else {
            Some(reaper_pid)
        };
        set_death_signal(sys, parent)?;
    }
    command_side(sys, plan, fds, ready.map(|(read, _)| read), started)
}

/// What the command's process of a `CLONE_VM` launch reads: it starts on a
/// stack of its own, in [`flat_command_entry`]. It runs on after the
/// launcher has resumed and left `launch_flat`, whose frame held the
/// descriptor numbers: they are copied here, on the first process's stack,
/// which the plan keeps mapped. (The plan outlives the command's `execve`.)
struct FlatCommand<'a> {
    plan: &'a ChildPlan,
    fds: ChildFds,
    ready: (RawFd, RawFd),
    started: RawFd,
    reaper_pid: Pid,
}

/// The PID-1 split of a `CLONE_VM` launch: the command's process is made
/// with `CLONE_VM` on the plan's second stack (a fork would copy the
/// launcher's page tables). This process waits until that one has done
/// everything that may touch the C library (its setup up to the
/// acknowledgement: the launcher is still suspended then), then locks down
/// and executes vb-init, which resumes the launcher.
fn flat_split<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    fds: &ChildFds,
    flat: &FlatPlan,
    init: &InitPlan,
    ready: (RawFd, RawFd),
    reaper_pid: Pid,
) -> Result<Ending, ChildFailure> {
    let (started_read, started_write) = sys.pipe().map_err(|e| fail(Step::Fork, e))?;
    let command = FlatCommand {
        plan,
        fds: *fds,
        ready,
        started: started_write,
        reaper_pid,
    };
    let stack = flat
        .stacks
        .get(1)
        .map(Stack::top)
        .ok_or_else(|| fail(Step::Fork, Errno::INVAL))?;
    // SAFETY: the entry runs on a stack of its own and keeps to the
    // child's contract; `command` lives in this frame, which this process
    // leaves only by `execve` or `_exit` (the memory stays mapped for the
    // other process until the launch is over).
    let pid = unsafe {
        sys.clone_vm(
            stack,
            flat_command_entry,
            (&raw const command).cast_mut().cast(),
        )
    }
    .map_err(|e| fail(Step::Fork, e))?;
    sys.close(started_write);
    sys.close(ready.0);
    let mut byte = [0u8; 1];
    let started = loop {
        match sys.read(started_read, &mut byte) {
            Err(Errno::INTR) => {}
            other => break other,
        }
    };
    sys.close(started_read);
    if started != Ok(1) {
        // The command's process failed (its frame is written) or is gone.
        sys.kill(pid);
        sys.close(ready.1);
        return Ok(Ending::Exit(SETUP_FAILED_EXIT));
    }
    Ok(init_side(sys, plan, fds, pid, init, ready.1))
}

/// The command's process of a `CLONE_VM` launch, on its own stack.
extern "C" fn flat_command_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the FlatCommand of flat_split, alive meanwhile.
    let command = unsafe { &*arg.cast::<FlatCommand<'_>>() };
    let mut sys = RealSys;
    let ending = below_the_reaper(
        &mut sys,
        command.plan,
        &command.fds,
        Some(command.ready),
        command.reaper_pid,
        Some(command.started),
    );
    let code = match ending {
        Err(failure) => {
            send_frame(&mut sys, command.fds.fail_write, &failure);
            SETUP_FAILED_EXIT
        }
        Ok(Ending::Exit(code)) => code,
        Ok(Ending::Supervise { .. }) => SETUP_FAILED_EXIT,
    };
    // SAFETY: _exit ends this process without running any teardown.
    unsafe { libc::_exit(code) }
}

/// Arm the death signal, then check the parent is still the one expected:
/// it may have died before the signal was armed.
fn set_death_signal<S: ChildSys>(
    sys: &mut S,
    expected_parent: Option<Pid>,
) -> Result<(), ChildFailure> {
    arm_death_signal(sys)?;
    if sys.parent_pid() != expected_parent {
        return Err(fail(Step::ParentGone, Errno::SRCH));
    }
    Ok(())
}

/// Wait until the parent has created the sandbox's cgroups, then join each:
/// open the `tasks` file (relative to a directory descriptor prepared before
/// the clone, which stays valid after the root switch) and write `0`, which
/// names the writing thread — the whole process here.
fn join_cgroups<S: ChildSys>(
    sys: &mut S,
    ready: RawFd,
    plan: &ChildPlan,
) -> Result<(), ChildFailure> {
    let files = &plan.join_cgroups;
    let wait = recv_token(&mut SysChannel::new(sys, ready), READY_BYTE);
    sys.close(ready);
    wait.map_err(|_| ChildFailure::process(Step::CgroupJoin, u32::MAX, libc::EPIPE))?;
    for (index, (dir, path)) in (0u32..).zip(files.iter()) {
        let fail = |e: Errno| ChildFailure::process(Step::CgroupJoin, index, e.raw_os_error());
        let file = sys
            .open_at(*dir, path.as_c_str(), OFlags::WRONLY | OFlags::CLOEXEC)
            .map_err(fail)?;
        let written = sys.write(file, b"0");
        sys.close(file);
        match written {
            Ok(1) => {}
            Ok(_) => return Err(fail(Errno::IO)),
            Err(e) => return Err(fail(e)),
        }
    }
    // The directories lead into the host's cgroup tree: close each (once, as
    // entries may share one) so no process of the sandbox keeps them, the
    // reaper included, which never execs.
    for (i, (dir, _)) in files.iter().enumerate() {
        if !files
            .get(..i)
            .unwrap_or_default()
            .iter()
            .any(|(d, _)| d == dir)
        {
            sys.close(*dir);
        }
    }
    Ok(())
}

/// Wait until a byte (or end-of-file) can be read from `fd`, then close it:
/// bubblewrap's `--block-fd` and `--userns-block-fd`. A read error other than
/// an interruption is a failure.
fn block_on<S: ChildSys>(sys: &mut S, fd: RawFd, step: Step) -> Result<(), ChildFailure> {
    let mut byte = [0u8; 1];
    loop {
        match sys.read(fd, &mut byte) {
            Ok(_) => break,
            Err(Errno::INTR) => {}
            Err(e) => return Err(fail(step, e)),
        }
    }
    sys.close(fd);
    Ok(())
}

/// Open and read-lock each lock file (paths inside the sandbox), recording
/// the descriptors in the plan's slots. `fcntl` locks belong to the process
/// that takes them and are not inherited by its children: the caller is the
/// process that becomes the reaper.
fn take_locks<S: ChildSys>(sys: &mut S, monitor: &Monitor) -> Result<(), ChildFailure> {
    // Non-blocking: a FIFO planted at the path must not hang the sandbox's
    // setup; no controlling terminal: the reaper may be a session leader.
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    for (index, (path, slot)) in (0u32..).zip(monitor.lock_paths.iter().zip(&monitor.lock_fds)) {
        let fd = sys
            .open_at(libc::AT_FDCWD, path.as_c_str(), flags)
            .map_err(|e| ChildFailure::process(Step::LockOpen, index, e.raw_os_error()))?;
        slot.store(fd, Ordering::Relaxed);
        sys.read_lock(fd)
            .map_err(|e| ChildFailure::process(Step::LockTake, index, e.raw_os_error()))?;
    }
    Ok(())
}

/// Make the cgroup namespace, rooted at the cgroup the child is in now.
fn enter_cgroup_namespace<S: ChildSys>(sys: &mut S) -> Result<(), ChildFailure> {
    // SAFETY: unshare(CLONE_NEWCGROUP) only changes this process's cgroup
    // namespace; no other thread exists to see it.
    unsafe { sys.unshare(UnshareFlags::NEWCGROUP) }.map_err(|e| fail(Step::CgroupNamespace, e))
}

/// Send the parent the [`SandboxReport`](crate::SandboxReport) when it asked
/// for one: once the sandbox's namespaces are final (see [`crate::report`]).
fn send_report<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    fds: &ChildFds,
) -> Result<(), ChildFailure> {
    let (Some(dir), Some(out)) = (&plan.proc_dir, fds.nsid_write) else {
        return Ok(());
    };
    sys.send_report(out, dir.as_raw_fd())
        .map_err(|e| fail(Step::Report, e))
}

/// Fork; this process stays above as a waiter ([`intermediate_side`], which
/// gives the [`Ending`] returned here) and the child goes on as the
/// sandbox's first process (`None`).
fn fork_below<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    fds: &ChildFds,
) -> Result<Option<Ending>, ChildFailure> {
    // SAFETY: both sides go on with this code, which keeps to the
    // async-signal-safe contract.
    match unsafe { sys.fork() } {
        Err(e) => Err(fail(Step::Fork, e)),
        Ok(Some(first)) => Ok(Some(intermediate_side(sys, plan, fds, first))),
        Ok(None) => {
            if plan.die_with_parent {
                // The waiter is outside the PID namespace: getppid() is 0.
                set_death_signal(sys, None)?;
            }
            Ok(None)
        }
    }
}

/// The process above a PID namespace joined or made after the clone: it
/// gives up what it does not need (it is a copy of the launcher's memory)
/// and supervises the sandbox's first process like a reaper, forwarding
/// signals and exiting with its status.
fn intermediate_side<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    fds: &ChildFds,
    first: Pid,
) -> Ending {
    sys.close(fds.ack_write);
    if let Some(fd) = fds.nsid_write {
        sys.close(fd);
    }
    // The reaper below reports the command's raw status; without one this
    // process does.
    let status = if plan.reaper {
        if let Some(fd) = fds.status_write {
            sys.close(fd);
        }
        None
    } else {
        fds.status_write
    };
    let done = plan.security.reaper(sys).and_then(|()| {
        let keep = [fds.fail_write, status.unwrap_or(-1)];
        sys.close_all_except(&keep)
            .map_err(|e| fail(Step::CloseFds, e))
    });
    if let Err(failure) = done {
        send_frame(sys, fds.fail_write, &failure);
        sys.kill(first);
        return Ending::Exit(SETUP_FAILED_EXIT);
    }
    sys.close(fds.fail_write);
    Ending::Supervise {
        child: first,
        status_fd: status,
    }
}

/// The reaper after the fork: give up everything the command could use
/// through it, then supervise. A failure here is reported like any other;
/// the command, already forked, is killed first.
fn reaper_side<S: ChildSys>(sys: &mut S, plan: &ChildPlan, fds: &ChildFds, command: Pid) -> Ending {
    sys.close(fds.ack_write);
    let locked_down = plan.security.reaper(sys).and_then(|()| {
        let (keep, n) = reaper_keeps(plan, fds, &[]);
        // Everything else goes: the launcher's descriptors (other threads'
        // pipes, the handshake of concurrent spawns, directories into the
        // host's trees) and the standard streams, which only the command
        // needs.
        sys.close_all_except(keep.get(..n).unwrap_or_default())
            .map_err(|e| fail(Step::CloseFds, e))?;
        plan.security.load_seccomp(sys)
    });
    supervise_unless_failed(sys, fds, command, locked_down)
}

/// The reaper's setup failed after the command's process was made: the
/// frame goes to the parent and the command is killed.
fn abandon<S: ChildSys>(
    sys: &mut S,
    fds: &ChildFds,
    command: Pid,
    failure: &ChildFailure,
) -> Ending {
    send_frame(sys, fds.fail_write, failure);
    sys.kill(command);
    Ending::Exit(SETUP_FAILED_EXIT)
}

/// The end of an in-process reaper's lockdown: [`abandon`] on failure, else
/// the failure pipe closes (setup is over) and the reaper supervises.
fn supervise_unless_failed<S: ChildSys>(
    sys: &mut S,
    fds: &ChildFds,
    command: Pid,
    locked_down: Result<(), ChildFailure>,
) -> Ending {
    if let Err(failure) = locked_down {
        return abandon(sys, fds, command, &failure);
    }
    sys.close(fds.fail_write);
    Ending::Supervise {
        child: command,
        status_fd: fds.status_write,
    }
}

/// The descriptors a reaper keeps when it closes the rest, and how many:
/// the failure pipe (until its lockdown is done), `extra` (what vb-init
/// needs across its `execve`; negative entries are skipped), then what pid 1
/// holds for the sandbox's life — its status pipe, the sync descriptor and
/// the lock files.
fn reaper_keeps(plan: &ChildPlan, fds: &ChildFds, extra: &[RawFd]) -> ([RawFd; MAX_KEPT], usize) {
    let mut keep = [-1; MAX_KEPT];
    let mut n = 0;
    let held = fds.status_write.into_iter().chain(plan.monitor.sync_fd);
    let locks = plan
        .monitor
        .lock_fds
        .iter()
        .map(|s| s.load(Ordering::Relaxed));
    let all = std::iter::once(fds.fail_write)
        .chain(extra.iter().copied().filter(|fd| *fd >= 0))
        .chain(held)
        .chain(locks);
    for fd in all {
        if let Some(slot) = keep.get_mut(n) {
            *slot = fd;
            n += 1;
        }
    }
    (keep, n)
}

/// The reaper when pid 1 is `vb-init`: the same lockdown as
/// [`reaper_side`] up to the descriptors, then it executes the program, which
/// drops what its `execve` gave back, loads the seccomp programs and
/// supervises. If the program cannot be executed, this process supervises
/// in-process after all, as [`reaper_side`] does.
fn init_side<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    fds: &ChildFds,
    command: Pid,
    init: &InitPlan,
    ready: RawFd,
) -> Ending {
    sys.close(fds.ack_write);
    let program = init.program.as_raw_fd();
    let seccomp = init.seccomp.as_ref().map(AsRawFd::as_raw_fd);
    let lockdown = if plan.flat.is_some() {
        plan.security.reaper_sharing_memory(sys)
    } else {
        plan.security.reaper(sys)
    };
    let locked_down = lockdown.and_then(|()| {
        let seccomp = seccomp.unwrap_or(-1);
        let (keep, n) = reaper_keeps(plan, fds, &[program, ready, seccomp]);
        sys.close_all_except(keep.get(..n).unwrap_or_default())
            .map_err(|e| fail(Step::CloseFds, e))?;
        // What vb-init keeps: everything but the program and the failure
        // pipe, whose end-of-file tells the parent the `execve` happened.
        for fd in keep.get(2..n).unwrap_or_default() {
            sys.keep_across_exec(*fd)
                .map_err(|e| fail(Step::CloseFds, e))?;
        }
        Ok(())
    });
    if let Err(failure) = locked_down {
        return abandon(sys, fds, command, &failure);
    }
    // argv[0] is this process's name, which vb-init takes back (an execve
    // of a memfd would name it `memfd:vb-init`): pid 1 is `vb` or `bwrap`,
    // or the embedder's name, as before.
    let mut name = [0u8; 17];
    sys.own_name(&mut name);
    let mut bufs = [[0u8; 24]; 4];
    let [pid_buf, status_buf, ready_buf, seccomp_buf] = &mut bufs;
    let args: [&[u8]; 5] = [
        &name,
        crate::init::decimal(i64::from(command.as_raw_nonzero().get()), pid_buf),
        crate::init::decimal(i64::from(fds.status_write.unwrap_or(-1)), status_buf),
        crate::init::decimal(i64::from(ready), ready_buf),
        crate::init::decimal(i64::from(seccomp.unwrap_or(-1)), seccomp_buf),
    ];
    let argv: [*const libc::c_char; 6] = [
        args[0].as_ptr().cast(),
        args[1].as_ptr().cast(),
        args[2].as_ptr().cast(),
        args[3].as_ptr().cast(),
        args[4].as_ptr().cast(),
        std::ptr::null(),
    ];
    // SAFETY: argv is a null-terminated array of NUL-terminated strings on
    // this stack.
    let exec_errno = unsafe { sys.exec_fd(program, argv.as_ptr()) };
    if plan.flat.is_some() {
        // This process shares the launcher's memory, and the launcher is
        // suspended until it executes: it can neither supervise here nor
        // wait. The launch fails.
        return abandon(sys, fds, command, &fail(Step::Exec, exec_errno));
    }
    // Not executed (a kernel refusing executable memfds): supervise here,
    // with the seccomp programs this process would have loaded.
    sys.close(program);
    sys.close(ready);
    if let Some(fd) = seccomp {
        sys.close(fd);
    }
    let locked_down = plan.security.load_seccomp(sys);
    supervise_unless_failed(sys, fds, command, locked_down)
}

/// The command's process from the standard streams to `execve`; returns
/// only the failure of a step (the last being `execve` itself).
fn command_side<S: ChildSys>(
    sys: &mut S,
    plan: &ChildPlan,
    fds: &ChildFds,
    init_ready: Option<RawFd>,
    started: Option<RawFd>,
) -> Result<Ending, ChildFailure> {
    install_stdio(sys, &plan.stdio)?;
    plan.security.command(sys)?;
    // Setup is finished: acknowledge before the signal mask opens, so a
    // signal that reached the sandbox during setup (forwarded by the reaper,
    // pending here) ends the command as it would have ended the executed
    // one, not as a failed setup.
    send_token(&mut SysChannel::new(sys, fds.ack_write), ACK_BYTE)
        .map_err(|_| fail(Step::Ack, Errno::PIPE))?;
    sys.close(fds.ack_write);
    if let Some(fd) = started {
        // A CLONE_VM launch: what follows runs beside the resumed launcher
        // and keeps to raw system calls (see child::raw).
        let sent = sys.write(fd, b"S");
        sys.close(fd);
        if sent != Ok(1) {
            return Err(fail(Step::Fork, Errno::PIPE));
        }
    }
    if let Some(fd) = init_ready {
        // pid 1 (vb-init) is locked down before the command runs: its setup
        // above went on meanwhile.
        block_on(sys, fd, Step::Fork)?;
    }
    sys.reset_signals().map_err(|e| fail(Step::Signals, e))?;
    // Last, as bubblewrap does: the caller's filters may refuse what the
    // steps above need.
    plan.security.load_seccomp(sys)?;
    let errno = plan.exec.exec(sys);
    Err(fail(Step::Exec, errno))
}

/// Put the requested descriptors on 0, 1 and 2. Each source is first copied
/// above 2, so sources that are themselves 0, 1 or 2 (even swapped) land
/// correctly; `dup2` onto the target clears close-on-exec.
fn install_stdio<S: ChildSys>(sys: &mut S, stdio: &[Option<RawFd>; 3]) -> Result<(), ChildFailure> {
    let mut copies: [RawFd; 3] = [-1; 3];
    for ((target, source), copy) in (0u32..).zip(stdio.iter()).zip(copies.iter_mut()) {
        let Some(source) = *source else { continue };
        *copy = sys
            .dup_above_stdio(source)
            .map_err(|e| ChildFailure::process(Step::Stdio, target, e.raw_os_error()))?;
    }
    for (target, copy) in (0..).zip(copies) {
        if copy < 0 {
            continue;
        }
        sys.dup_onto(copy, target).map_err(|e| {
            ChildFailure::process(Step::Stdio, target.unsigned_abs(), e.raw_os_error())
        })?;
        sys.close(copy);
    }
    Ok(())
}
