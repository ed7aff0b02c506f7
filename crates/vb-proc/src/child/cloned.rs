//! What the sandbox child runs between `clone3` and `execve`, in the fixed order
//! the design gives: death signal, gate (and `userns_block_fd`), id switch,
//! hostname, the filesystem and network hooks, joining the cgroups the parent
//! made meanwhile, the cgroup namespace, the security context shared by every
//! process (user-namespace policy, bounding set), `block_fd`, working
//! directory, new session, lock files, the PID-1 fork; then on the reaper's
//! side its own lockdown (no capabilities, not dumpable, descriptors closed)
//! and on the command's side standard streams, the command's security context
//! (capabilities, `no_new_privs`, label, seccomp), signal reset, the
//! acknowledgement and `execve`.
//!
//! Everything here runs in a raw clone of a possibly multi-threaded process: only
//! system calls on data prepared by [`ProcessPlan`](crate::ProcessPlan) in a [`ChildPlan`], no
//! allocation, no locks, no panics. Ids are switched with per-thread raw system
//! calls on purpose: glibc's `setresuid` would try to synchronise the threads of
//! the parent, which do not exist here.

use std::os::fd::{AsFd, BorrowedFd, RawFd};

use rustix::io::Errno;
use rustix::process::Pid;

use std::sync::atomic::Ordering;

use crate::child::steps::{arm_death_signal, fail, set_dumpable, switch_ids_each};
use crate::child::{fds, reaper};
use crate::clone::fork_raw;
use crate::errno::last_errno;
use crate::frame::{ChildFailure, Step};
use crate::hook::ChildHooks;
use crate::plan::{ChildFds, ChildPlan, Monitor};
use crate::sync::{
    ACK_BYTE, FdChannel, GATE_BYTE, READY_BYTE, recv_token, send_failure, send_token,
};

/// The exit code of a child that reported a failure frame.
pub(crate) const SETUP_FAILED_EXIT: libc::c_int = 127;

fn close(fd: RawFd) {
    // SAFETY: the fd is one of the child's copies of the handshake pipes, owned
    // by no Rust object in this process image that will be dropped.
    unsafe { libc::close(fd) };
}

fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the fd stays open until the child closes it explicitly or execs;
    // no borrow outlives that point.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// The child's entry point; never returns.
pub(crate) fn child_main(plan: &ChildPlan, hooks: &ChildHooks<'_>, fds: &ChildFds) -> ! {
    close(fds.gate_write);
    close(fds.ack_read);
    close(fds.fail_read);
    if let Some(fd) = fds.status_read {
        close(fd);
    }
    if let Some(fd) = fds.ready_write {
        close(fd);
    }
    if let Some(fd) = fds.nsid_read {
        close(fd);
    }
    for fd in &plan.close_in_child {
        close(*fd);
    }
    // This process, or the reaper it becomes, waits for children (the
    // command gets default dispositions before exec anyway).
    reaper::default_sigchld();
    let result = run(plan, hooks, fds);
    if let Err(failure) = result {
        send_failure(&mut FdChannel(borrow(fds.fail_write)), &failure);
    }
    // SAFETY: _exit skips Rust and libc teardown, which must not run here.
    unsafe { libc::_exit(SETUP_FAILED_EXIT) }
}

/// Wait until the parent has created the sandbox's cgroups, then join each:
/// open the `tasks` file (relative to a directory descriptor prepared before
/// the clone, which stays valid after the root switch) and write `0`, which
/// names the writing thread — the whole process here.
fn join_cgroups(ready: RawFd, plan: &ChildPlan) -> Result<(), ChildFailure> {
    let files = &plan.join_cgroups;
    let wait = recv_token(&mut FdChannel(borrow(ready)), READY_BYTE);
    close(ready);
    wait.map_err(|_| ChildFailure::process(Step::CgroupJoin, u32::MAX, libc::EPIPE))?;
    let flags = rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC;
    for (index, (dir, path)) in (0u32..).zip(files.iter()) {
        let fail = |e: Errno| ChildFailure::process(Step::CgroupJoin, index, e.raw_os_error());
        let file = rustix::fs::openat(
            borrow(*dir),
            path.as_c_str(),
            flags,
            rustix::fs::Mode::empty(),
        )
        .map_err(fail)?;
        match rustix::io::write(&file, b"0") {
            Ok(1) => {}
            Ok(_) => return Err(fail(Errno::IO)),
            Err(e) => return Err(fail(e)),
        }
        // Dropping `file` closes it.
        drop(file);
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
            close(*dir);
        }
    }
    Ok(())
}

fn set_death_signal(expected_parent: Option<Pid>) -> Result<(), ChildFailure> {
    arm_death_signal()?;
    // The parent may have died before the death signal was armed.
    if rustix::process::getppid() != expected_parent {
        return Err(fail(Step::ParentGone, Errno::SRCH));
    }
    Ok(())
}

/// Wait until a byte (or end-of-file) can be read from `fd`, then close it:
/// bubblewrap's `--block-fd` and `--userns-block-fd`. A read error other than
/// an interruption is a failure.
fn block_on(fd: RawFd, step: Step) -> Result<(), ChildFailure> {
    let mut byte = [0u8; 1];
    loop {
        match rustix::io::read(borrow(fd), &mut byte) {
            Ok(_) => break,
            Err(Errno::INTR) => {}
            Err(e) => return Err(fail(step, e)),
        }
    }
    close(fd);
    Ok(())
}

/// Open and read-lock each lock file (paths inside the sandbox), recording
/// the descriptors in the plan's slots. `fcntl` locks belong to the process
/// that takes them and are not inherited by its children: the caller is the
/// process that becomes the reaper.
fn take_locks(monitor: &Monitor) -> Result<(), ChildFailure> {
    // Non-blocking: a FIFO planted at the path must not hang the sandbox's
    // setup; no controlling terminal: the reaper may be a session leader.
    let flags = rustix::fs::OFlags::RDONLY
        | rustix::fs::OFlags::CLOEXEC
        | rustix::fs::OFlags::NONBLOCK
        | rustix::fs::OFlags::NOCTTY;
    for (index, (path, slot)) in (0u32..).zip(monitor.lock_paths.iter().zip(&monitor.lock_fds)) {
        let fd = rustix::fs::open(path.as_c_str(), flags, rustix::fs::Mode::empty())
            .map_err(|e| ChildFailure::process(Step::LockOpen, index, e.raw_os_error()))?;
        let raw = std::os::fd::IntoRawFd::into_raw_fd(fd);
        slot.store(raw, Ordering::Relaxed);
        // SAFETY: an all-zero flock is valid; the fields are set below.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        // Both constants are small (0 and 0): the C field is a short.
        lock.l_type = libc::c_short::try_from(libc::F_RDLCK).unwrap_or_default();
        lock.l_whence = libc::c_short::try_from(libc::SEEK_SET).unwrap_or_default();
        // SAFETY: F_SETLK with a valid flock struct on a descriptor just opened.
        if unsafe { libc::fcntl(raw, libc::F_SETLK, &raw const lock) } != 0 {
            let errno = last_errno().raw_os_error();
            return Err(ChildFailure::process(Step::LockTake, index, errno));
        }
    }
    Ok(())
}

fn run(plan: &ChildPlan, hooks: &ChildHooks<'_>, fds: &ChildFds) -> Result<(), ChildFailure> {
    if plan.die_with_parent {
        set_death_signal(plan.expected_parent)?;
    }
    recv_token(&mut FdChannel(borrow(fds.gate_read)), GATE_BYTE)
        .map_err(|_| fail(Step::Gate, Errno::PIPE))?;
    close(fds.gate_read);
    // This process is a copy of the launcher's memory: from here on (the
    // parent has written the id maps it had to) nothing the sandbox holds
    // may trace it or read it through /proc, even a process already in a
    // namespace it joins. `execve` makes the command dumpable again.
    set_dumpable(false)?;
    if let Some(join) = &plan.join {
        let proc_dir = plan
            .proc_dir
            .as_ref()
            .map(AsFd::as_fd)
            .ok_or_else(|| fail(Step::JoinNamespace, Errno::BADF))?;
        join.enter(proc_dir)?;
        if join.intermediate {
            // The PID namespace applies to children: the sandbox's first
            // process is one fork further (see crate::join), two when a new
            // one nests in the joined one (unshare refuses a new PID
            // namespace once setns has chosen the children's).
            fork_below(plan, fds)?;
            if join.nested_pid {
                // SAFETY: unshare in a single-threaded child.
                unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWPID) }
                    .map_err(|e| fail(Step::Unshare, e))?;
                fork_below(plan, fds)?;
            }
        }
    }
    // The cgroup namespace is rooted at the cgroup the process is in when
    // it is made: here when that is final (no cgroup to join), else once
    // joined, below. The report follows it.
    if plan.namespaces.cgroup && plan.cgroup_ns_early {
        enter_cgroup_namespace()?;
    }
    if !plan.namespaces.cgroup || plan.cgroup_ns_early {
        send_report(plan, fds)?;
    }
    if let Some(fd) = plan.monitor.userns_block_fd {
        // The caller writes the id maps (newuidmap) meanwhile.
        block_on(fd, Step::UsernsBlockFd)?;
    }

    switch_ids_each(plan.switch_ids.0, plan.switch_ids.1)?;
    if let Some(name) = &plan.hostname {
        rustix::system::sethostname(name).map_err(|e| fail(Step::Hostname, e))?;
    }
    hooks.run_setup()?;
    if let Some(ready) = fds.ready_read {
        join_cgroups(ready, plan)?;
    }
    if plan.namespaces.cgroup && !plan.cgroup_ns_early {
        // After the cgroups are joined, so the namespace is rooted at the
        // sandbox's own cgroup.
        enter_cgroup_namespace()?;
        send_report(plan, fds)?;
    }
    // For every process of the sandbox: the user-namespace policy and the
    // bounding set, then what bubblewrap also does before its pid-1 fork.
    plan.security.before_fork()?;
    if let Some(fd) = plan.user2 {
        // After setup and the bounding set, as bubblewrap enters it.
        crate::child::join::setns(fd, crate::namespaces::NamespaceKind::User2)?;
    }
    if let Some(fd) = plan.monitor.block_fd {
        block_on(fd, Step::BlockFd)?;
    }
    plan.exec.enter_cwd().map_err(|e| fail(Step::Chdir, e))?;
    if plan.new_session {
        // Before the fork, so the reaper leaves the caller's session and
        // terminal too.
        rustix::process::setsid().map_err(|e| fail(Step::NewSession, e))?;
    }

    if plan.reaper {
        take_locks(&plan.monitor)?;
        let reaper_pid = rustix::process::getpid();
        // Signals are still blocked from the clone (see ProcessPlan::clone_child):
        // the reaper unblocks the ones it forwards once its handlers are in.
        // SAFETY: the new child keeps to the same async-signal-safe contract.
        match unsafe { fork_raw() } {
            Err(e) => return Err(fail(Step::Fork, e)),
            Ok(Some(command)) => reaper_side(plan, fds, command),
            Ok(None) => {
                if let Some(fd) = fds.status_write {
                    close(fd);
                }
                for slot in &plan.monitor.lock_fds {
                    close(slot.load(Ordering::Relaxed));
                }
                if let Some(fd) = plan.monitor.sync_fd {
                    close(fd);
                }
                if plan.die_with_parent {
                    // The reaper is pid 1 of the new namespace, or the
                    // process that forked this one.
                    let parent = if plan.namespaces.pid {
                        Pid::from_raw(1)
                    } else {
                        Some(reaper_pid)
                    };
                    set_death_signal(parent)?;
                }
            }
        }
    } else if let Some(fd) = plan.monitor.sync_fd {
        // No reaper (as pid 1): the command itself keeps the descriptor open
        // for the sandbox's life, as bubblewrap leaves it.
        keep_across_exec(fd).map_err(|e| fail(Step::SyncFd, e))?;
    }
    command_side(plan, fds)
}

/// Make the cgroup namespace, rooted at the cgroup the child is in now.
fn enter_cgroup_namespace() -> Result<(), ChildFailure> {
    // SAFETY: unshare(CLONE_NEWCGROUP) only changes this process's cgroup
    // namespace; no other thread exists to see it.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWCGROUP) }
        .map_err(|e| fail(Step::CgroupNamespace, e))
}

/// Send the parent the [`SandboxReport`](crate::SandboxReport) when it asked
/// for one: once the sandbox's namespaces are final (see [`crate::report`]).
fn send_report(plan: &ChildPlan, fds: &ChildFds) -> Result<(), ChildFailure> {
    let (Some(dir), Some(out)) = (&plan.proc_dir, fds.nsid_write) else {
        return Ok(());
    };
    crate::child::report::send(out, dir.as_fd()).map_err(|e| fail(Step::Report, e))
}

/// Fork; this process stays above as a waiter ([`intermediate_side`]) and
/// the child goes on as the sandbox's first process.
fn fork_below(plan: &ChildPlan, fds: &ChildFds) -> Result<(), ChildFailure> {
    // SAFETY: both sides keep to the async-signal-safe contract.
    match unsafe { fork_raw() } {
        Err(e) => Err(fail(Step::Fork, e)),
        Ok(Some(first)) => intermediate_side(plan, fds, first),
        Ok(None) => {
            if plan.die_with_parent {
                // The waiter is outside the PID namespace: getppid() is 0.
                set_death_signal(None)?;
            }
            Ok(())
        }
    }
}

/// The process above a PID namespace joined or made after the clone: it
/// gives up what it does not need (it is a copy of the launcher's memory)
/// and supervises the sandbox's first process like a reaper, forwarding
/// signals and exiting with its status.
fn intermediate_side(plan: &ChildPlan, fds: &ChildFds, first: Pid) -> ! {
    close(fds.ack_write);
    if let Some(fd) = fds.nsid_write {
        close(fd);
    }
    // The reaper below reports the command's raw status; without one this
    // process does.
    let status = if plan.reaper {
        if let Some(fd) = fds.status_write {
            close(fd);
        }
        None
    } else {
        fds.status_write
    };
    let done = plan.security.reaper().and_then(|()| {
        let keep = [fds.fail_write, status.unwrap_or(-1)];
        fds::close_all_except(&keep).map_err(|e| fail(Step::CloseFds, e))
    });
    if let Err(failure) = done {
        send_failure(&mut FdChannel(borrow(fds.fail_write)), &failure);
        // SAFETY: kill(2) of the process just forked.
        unsafe { libc::kill(first.as_raw_nonzero().get(), libc::SIGKILL) };
        // SAFETY: _exit skips teardown, which must not run here.
        unsafe { libc::_exit(SETUP_FAILED_EXIT) }
    }
    close(fds.fail_write);
    reaper::supervise(first, status)
}

/// Clear close-on-exec on `fd`.
fn keep_across_exec(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: fcntl on a descriptor number; failure is reported.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } < 0 {
        return Err(last_errno());
    }
    Ok(())
}

/// The reaper after the fork: give up everything the command could use
/// through it, then supervise. A failure here is reported like any other;
/// the command, already forked, is killed first.
fn reaper_side(plan: &ChildPlan, fds: &ChildFds, command: Pid) -> ! {
    close(fds.ack_write);
    let locked_down = plan.security.reaper().and_then(|()| {
        let mut keep = [-1; fds::MAX_KEPT];
        let mut n = 0;
        let mut push = |fd: RawFd| {
            if let Some(slot) = keep.get_mut(n) {
                *slot = fd;
                n += 1;
            }
        };
        push(fds.fail_write);
        if let Some(fd) = fds.status_write {
            push(fd);
        }
        if let Some(fd) = plan.monitor.sync_fd {
            push(fd);
        }
        for slot in &plan.monitor.lock_fds {
            push(slot.load(Ordering::Relaxed));
        }
        // Everything else goes: the launcher's descriptors (other threads'
        // pipes, the handshake of concurrent spawns, directories into the
        // host's trees) and the standard streams, which only the command
        // needs.
        fds::close_all_except(keep.get(..n).unwrap_or_default())
            .map_err(|e| fail(Step::CloseFds, e))?;
        plan.security.load_seccomp()
    });
    if let Err(failure) = locked_down {
        send_failure(&mut FdChannel(borrow(fds.fail_write)), &failure);
        // SAFETY: kill(2) of the command this process just forked.
        unsafe { libc::kill(command.as_raw_nonzero().get(), libc::SIGKILL) };
        // SAFETY: _exit skips teardown, which must not run here.
        unsafe { libc::_exit(SETUP_FAILED_EXIT) }
    }
    close(fds.fail_write);
    reaper::supervise(command, fds.status_write)
}

fn command_side(plan: &ChildPlan, fds: &ChildFds) -> Result<(), ChildFailure> {
    install_stdio(&plan.stdio)?;
    plan.security.command()?;
    // Setup is finished: acknowledge before the signal mask opens, so a
    // signal that reached the sandbox during setup (forwarded by the reaper,
    // pending here) ends the command as it would have ended the executed
    // one, not as a failed setup.
    send_token(&mut FdChannel(borrow(fds.ack_write)), ACK_BYTE)
        .map_err(|_| fail(Step::Ack, Errno::PIPE))?;
    close(fds.ack_write);
    reset_signals().map_err(|e| fail(Step::Signals, e))?;
    // Last, as bubblewrap does: the caller's filters may refuse what the
    // steps above need.
    plan.security.load_seccomp()?;
    let errno = plan.exec.exec();
    Err(fail(Step::Exec, errno))
}

/// Put the requested descriptors on 0, 1 and 2. Each source is first copied
/// above 2, so sources that are themselves 0, 1 or 2 (even swapped) land
/// correctly; `dup2` onto the target clears close-on-exec.
fn install_stdio(stdio: &[Option<RawFd>; 3]) -> Result<(), ChildFailure> {
    let errno = || last_errno().raw_os_error();
    let mut copies: [RawFd; 3] = [-1; 3];
    for ((target, source), copy) in (0u32..).zip(stdio.iter()).zip(copies.iter_mut()) {
        let Some(source) = *source else { continue };
        // SAFETY: F_DUPFD_CLOEXEC on a descriptor number; failure is reported.
        *copy = unsafe { libc::fcntl(source, libc::F_DUPFD_CLOEXEC, 3) };
        if *copy < 0 {
            return Err(ChildFailure::process(Step::Stdio, target, errno()));
        }
    }
    for (target, copy) in (0..).zip(copies) {
        if copy < 0 {
            continue;
        }
        // SAFETY: dup2 of a descriptor this function just created; then it is closed.
        let ret = unsafe { libc::dup2(copy, target) };
        if ret < 0 {
            return Err(ChildFailure::process(
                Step::Stdio,
                target.unsigned_abs(),
                errno(),
            ));
        }
        close(copy);
    }
    Ok(())
}

/// Give the command default signal dispositions and an empty mask.
///
/// Handlers inherited from the caller are reset first, or a signal pending
/// from setup would run the caller's handler in this process once unblocked.
/// `SIGPIPE` goes back to its default too: Rust programs ignore it, and an
/// ignored disposition would survive `execve` into the command.
fn reset_signals() -> Result<(), Errno> {
    let errno = last_errno;
    for sig in 1..=libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: an all-zero sigaction is valid for the kernel to fill.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: querying the disposition into a valid struct; a number the
        // C library reserves fails with EINVAL and is skipped.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
            continue;
        }
        let caught = old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN;
        if caught || sig == libc::SIGPIPE {
            // SAFETY: installing SIG_DFL with an empty mask.
            let mut dfl: libc::sigaction = unsafe { std::mem::zeroed() };
            dfl.sa_sigaction = libc::SIG_DFL;
            // SAFETY: valid sigaction pointers.
            if unsafe { libc::sigaction(sig, &dfl, std::ptr::null_mut()) } != 0 {
                return Err(errno());
            }
        }
    }
    // SAFETY: a zeroed sigset is valid input for sigemptyset, which fills it.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall wrappers on valid, initialised arguments.
    unsafe {
        libc::sigemptyset(&mut empty);
        if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) != 0 {
            return Err(errno());
        }
    }
    Ok(())
}
