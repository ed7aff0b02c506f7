//! `clone3` with a pidfd and namespace flags, falling back to `clone` on `ENOSYS`.
//! (The plain forks of the child, for the PID-1 reaper and the waiter above a
//! PID namespace, are `ChildSys::fork`, in `child/sys.rs`.)
//!
//! These are raw system calls, not glibc's `fork()`: glibc's fork runs `atfork`
//! handlers that take the allocator's locks, which can deadlock a child of a
//! multi-threaded process. The price is the rule every caller must keep: the
//! child may only run async-signal-safe code (see the crate docs).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use rustix::io::Errno;
use rustix::process::Pid;

use crate::errno::last_errno;

/// `CLONE_INTO_CGROUP` (Linux 5.7). libc's constant of that name is deprecated
/// and zero, so it is defined here.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` of `clone3(2)`, version 2 (with the cgroup field).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Which side of a fork the caller is on.
#[derive(Debug)]
pub(crate) enum Forked {
    /// The new process.
    Child,
    /// The original process, with the child's pid and a pidfd for it.
    Parent {
        pid: Pid,
        pidfd: OwnedFd,
        /// Whether `CLONE_INTO_CGROUP` was honoured (false after the `clone`
        /// fallback: the caller must attach the child itself).
        into_cgroup: bool,
    },
}

/// Create a child with the given namespace flags and a pidfd.
///
/// # Safety
///
/// The child returns from this function in a copy of the caller's address space
/// with only the calling thread. Until it calls `execve` or `_exit` it must only
/// run async-signal-safe code: no allocation, no locks, no unwinding.
pub(crate) unsafe fn clone_with_pidfd(
    flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
) -> Result<Forked, Errno> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: flags | u64::from(libc::CLONE_PIDFD.unsigned_abs()),
        pidfd: std::ptr::addr_of_mut!(pidfd) as u64,
        // No exit signal: the child is a "clone" child that only a waiter
        // asking for it (`__WALL`, as `Reapable::wait` does) can reap. A
        // caller that ignores SIGCHLD (which makes the kernel reap children
        // of its own accord) or reaps with `waitpid(-1)` from a SIGCHLD
        // handler cannot take the sandbox's exit status away — as long as
        // the child does not `execve`, which restores SIGCHLD as its exit
        // signal (so a caller ignoring SIGCHLD gets a reaper; see
        // `ProcessPlan::prepare`). A reaper that executes vb-init has it
        // again; its status pipe then carries the command's status to
        // `Running::wait` even when the caller reaped it.
        exit_signal: 0,
        ..CloneArgs::default()
    };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = u64::from(fd.as_raw_fd().unsigned_abs());
    }
    // SAFETY: `args` is a valid, fully initialised clone_args of the size passed;
    // no stack is given, so the child continues on a copy of this stack like
    // fork(); the caller upholds the async-signal-safety contract for the child.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            std::ptr::addr_of_mut!(args),
            std::mem::size_of::<CloneArgs>(),
        )
    };
    let (ret, into_cgroup) = if ret == -1 && last_errno() == Errno::NOSYS {
        // clone(2) has no cgroup argument: the caller attaches the child itself.
        // The low byte of the flags is the exit signal: none, as above.
        let clone_flags = flags | u64::from(libc::CLONE_PIDFD.unsigned_abs());
        // SAFETY: the argument order is (flags, stack, parent_tid, child_tid,
        // tls) on x86-64 and (flags, stack, parent_tid, tls, child_tid) on
        // aarch64 (CLONE_BACKWARDS); the last two are zero either way, so the
        // call is the same on both, the only architectures this crate builds
        // for (see lib.rs). With CLONE_PIDFD the pidfd is stored through
        // `parent_tid`. A null stack makes this behave like fork().
        let ret = unsafe {
            libc::syscall(
                libc::SYS_clone,
                clone_flags,
                0usize,
                std::ptr::addr_of_mut!(pidfd),
                0usize,
                0usize,
            )
        };
        (ret, false)
    } else {
        (ret, cgroup.is_some())
    };
    match ret {
        -1 => Err(last_errno()),
        0 => Ok(Forked::Child),
        pid => {
            let pid = i32::try_from(pid)
                .ok()
                .and_then(Pid::from_raw)
                .ok_or(Errno::INVAL)?;
            // SAFETY: the kernel stored a fresh pidfd that nothing else owns.
            let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
            Ok(Forked::Parent {
                pid,
                pidfd,
                into_cgroup,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_args_layout_matches_the_kernel() {
        // CLONE_ARGS_SIZE_VER2 is 88 bytes.
        assert_eq!(std::mem::size_of::<CloneArgs>(), 88);
    }
}
