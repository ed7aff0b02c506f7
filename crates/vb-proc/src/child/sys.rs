//! The system calls of the sandbox child, behind [`ChildSys`], so the order
//! of its steps and the failure each one reports are unit-tested with a
//! recording fake (`child/fake.rs`), without a clone or root.
//!
//! The code of the child is generic over the trait and the real path uses
//! [`RealSys`], a unit struct: each call compiles to the system call itself,
//! with no dispatch. Descriptors cross the trait as plain numbers so the fake
//! can hand out made-up ones. The child owns its copies of every descriptor
//! it holds — it leaves by `_exit` or `execve`, so no Rust object of its
//! image ever drops one — which is why closing a number is a safe call here.
//!
//! Each method is one system call (or a fixed sequence on stack data, such
//! as [`reset_signals`](ChildSys::reset_signals)); what a failure means is
//! for the caller to say, with the step it reports.

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, IntoRawFd, RawFd};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Gid, Pid, Uid};
use rustix::thread::UnshareFlags;

use crate::caps::{CapData, CapHeader, LINUX_CAPABILITY_VERSION_3, split};
use crate::child::{fds, raw, reaper};
use crate::errno::last_errno;
use crate::frame::{Origin, StepFailure};
use crate::hook::ChildHook;
use crate::landlock::LandlockPlan;
use crate::namespaces::NamespaceKind;
use crate::rlimit::Rlimit;
use crate::seccomp::BpfProgram;
use crate::sync::ByteChannel;

/// The system calls the child makes between the clone and `execve`.
///
/// # Safety
///
/// Every method runs in a raw clone of a possibly multi-threaded process,
/// whose other threads do not exist there: an implementation must not
/// allocate, take a lock, touch Rust's standard streams or environment, or
/// panic. The child's soundness depends on it, so implementing the trait is
/// `unsafe`.
pub(crate) unsafe trait ChildSys {
    /// `close(fd)`; the result is of no use to a process that is leaving.
    fn close(&mut self, fd: RawFd);
    /// One `read(2)`; `Ok(0)` is end-of-file.
    fn read(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno>;
    /// One `write(2)`, returning how much was written.
    fn write(&mut self, fd: RawFd, buf: &[u8]) -> Result<usize, Errno>;
    /// `openat(dir, path, flags)` with no creation mode; `dir` may be
    /// `AT_FDCWD`.
    fn open_at(&mut self, dir: RawFd, path: &CStr, flags: OFlags) -> Result<RawFd, Errno>;
    /// Close every descriptor but those in `keep` (negative entries are
    /// ignored).
    fn close_all_except(&mut self, keep: &[RawFd]) -> Result<(), Errno>;
    /// Clear close-on-exec on `fd`.
    fn keep_across_exec(&mut self, fd: RawFd) -> Result<(), Errno>;
    /// A close-on-exec pipe: `(read end, write end)`.
    fn pipe(&mut self) -> Result<(RawFd, RawFd), Errno>;
    /// A child sharing this process's memory (`CLONE_VM`, exit signal
    /// `SIGCHLD`) that runs `entry(arg)` on `stack` (its top).
    ///
    /// # Safety
    ///
    /// `stack` must be the top of a mapping that outlives the child, and
    /// `entry` must keep to the child's contract and never return into
    /// shared state.
    unsafe fn clone_vm(
        &mut self,
        stack: *mut libc::c_void,
        entry: extern "C" fn(*mut libc::c_void) -> libc::c_int,
        arg: *mut libc::c_void,
    ) -> Result<Pid, Errno>;
    /// This process's name (`PR_GET_NAME`), NUL-terminated in `buf`.
    fn own_name(&mut self, buf: &mut [u8; 17]);
    /// `execveat(fd, "", argv, {NULL}, AT_EMPTY_PATH)`: returns only on
    /// failure, with its errno.
    ///
    /// # Safety
    ///
    /// `argv` points to a null-terminated array of pointers to
    /// NUL-terminated strings, all valid for the call.
    unsafe fn exec_fd(&mut self, fd: RawFd, argv: *const *const libc::c_char) -> Errno;
    /// `fcntl(fd, F_DUPFD_CLOEXEC, 3)`: a copy of `fd` above the standard
    /// streams.
    fn dup_above_stdio(&mut self, fd: RawFd) -> Result<RawFd, Errno>;
    /// `dup2(fd, target)`.
    fn dup_onto(&mut self, fd: RawFd, target: RawFd) -> Result<(), Errno>;
    /// Take a read lock on the whole of `fd` (`fcntl(F_SETLK, F_RDLCK)`).
    fn read_lock(&mut self, fd: RawFd) -> Result<(), Errno>;

    /// `PR_SET_PDEATHSIG` with `SIGKILL`.
    fn set_death_signal(&mut self) -> Result<(), Errno>;
    /// `getppid()`: `None` when the parent is outside the PID namespace.
    fn parent_pid(&mut self) -> Option<Pid>;
    /// `getpid()`.
    fn own_pid(&mut self) -> Pid;
    /// `PR_SET_DUMPABLE`.
    fn set_dumpable(&mut self, on: bool) -> Result<(), Errno>;
    /// A plain fork (`SIGCHLD` on exit) by raw system call: `Ok(None)` in the
    /// child, `Ok(Some(pid))` in the parent.
    ///
    /// # Safety
    ///
    /// Both sides must keep to the trait's contract until they `execve` or
    /// `_exit`.
    unsafe fn fork(&mut self) -> Result<Option<Pid>, Errno>;
    /// Send `SIGKILL` to `pid`.
    fn kill(&mut self, pid: Pid);
    /// `setsid()`.
    fn setsid(&mut self) -> Result<(), Errno>;

    /// `setns(fd, kind)`.
    fn setns(&mut self, fd: RawFd, kind: NamespaceKind) -> Result<(), Errno>;
    /// `unshare(flags)`.
    ///
    /// # Safety
    ///
    /// The process must be single-threaded (a child), and `flags` only
    /// namespace flags.
    unsafe fn unshare(&mut self, flags: UnshareFlags) -> Result<(), Errno>;
    /// `setresgid(gid, gid, gid)` for the calling thread only.
    fn set_gid(&mut self, gid: u32) -> Result<(), Errno>;
    /// `setresuid(uid, uid, uid)` for the calling thread only.
    fn set_uid(&mut self, uid: u32) -> Result<(), Errno>;
    /// `sethostname(name)`.
    fn set_hostname(&mut self, name: &[u8]) -> Result<(), Errno>;
    /// Write the [`SandboxReport`](crate::SandboxReport) of the calling
    /// process on `out`, read through the host's `/proc` at `proc_dir`, then
    /// close `out`.
    fn send_report(&mut self, out: RawFd, proc_dir: RawFd) -> Result<(), Errno>;

    /// Run `hook` (`origin` says which one it is).
    fn run_hook(&mut self, origin: Origin, hook: &dyn ChildHook) -> Result<(), StepFailure>;

    /// `PR_CAPBSET_DROP` of capability `cap`.
    fn drop_bounding(&mut self, cap: u32) -> Result<(), Errno>;
    /// `capset`: the permitted, effective and inheritable sets all `mask`.
    fn set_capabilities(&mut self, mask: u64) -> Result<(), Errno>;
    /// `PR_CAP_AMBIENT_RAISE` of capability `cap`.
    fn raise_ambient(&mut self, cap: u32) -> Result<(), Errno>;
    /// `PR_SET_NO_NEW_PRIVS`.
    fn set_no_new_privs(&mut self) -> Result<(), Errno>;
    /// `setrlimit` of one limit.
    fn set_rlimit(&mut self, limit: &Rlimit) -> Result<(), Errno>;
    /// Restrict the calling thread with a Landlock plan
    /// ([`LandlockPlan::apply`]).
    fn restrict_landlock(&mut self, plan: &LandlockPlan) -> Result<(), StepFailure>;
    /// Install one seccomp program on the calling thread.
    fn load_seccomp(&mut self, program: &BpfProgram) -> Result<(), Errno>;

    /// Give `SIGCHLD` its default disposition; returns the one it replaced.
    fn default_sigchld(&mut self) -> libc::sigaction;
    /// Put back a `SIGCHLD` disposition.
    fn restore_sigchld(&mut self, old: &libc::sigaction);
    /// Block the signals the reaper forwards; returns the previous mask.
    fn block_forwarded(&mut self) -> libc::sigset_t;
    /// Set the signal mask.
    fn set_mask(&mut self, mask: &libc::sigset_t);
    /// Default dispositions for every caught signal and `SIGPIPE`, then an
    /// empty mask.
    fn reset_signals(&mut self) -> Result<(), Errno>;

    /// `chdir(dir)`.
    fn chdir(&mut self, dir: &CStr) -> Result<(), Errno>;
    /// `execve(path, argv, envp)`: returns only on failure, with its errno.
    ///
    /// # Safety
    ///
    /// `argv` and `envp` point to null-terminated arrays of pointers to
    /// NUL-terminated strings, all valid for the call.
    unsafe fn execve(
        &mut self,
        path: &CStr,
        argv: *const *const libc::c_char,
        envp: *const *const libc::c_char,
    ) -> Errno;
}

/// A [`ByteChannel`] over a descriptor of the child, for the handshake's
/// token and frame functions; retries on `EINTR` as
/// [`FdChannel`](crate::FdChannel) does.
pub(crate) struct SysChannel<'a, S> {
    sys: &'a mut S,
    fd: RawFd,
}

impl<'a, S: ChildSys> SysChannel<'a, S> {
    /// The channel of `fd`.
    pub(crate) fn new(sys: &'a mut S, fd: RawFd) -> Self {
        Self { sys, fd }
    }
}

impl<S: ChildSys> ByteChannel for SysChannel<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            match self.sys.read(self.fd, &mut *buf) {
                Err(Errno::INTR) => {}
                other => return other,
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        loop {
            match self.sys.write(self.fd, buf) {
                Err(Errno::INTR) => {}
                other => return other,
            }
        }
    }
}

/// The kernel, called directly.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RealSys;

/// A descriptor number as rustix takes it.
fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the number is one the child holds (or AT_FDCWD, which rustix's
    // own CWD constant borrows the same way); a number that is not open only
    // makes the call fail with EBADF, and no borrow outlives the call.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// `Ok` when a libc call returned 0 or more, else the thread's errno.
fn check(ret: libc::c_int) -> Result<libc::c_int, Errno> {
    if ret < 0 { Err(last_errno()) } else { Ok(ret) }
}

/// `prctl(option, arg2)` with zero for the other arguments.
fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments.
    let ret = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if ret == 0 { Ok(()) } else { Err(last_errno()) }
}

// SAFETY: every method below is a system call (or a fixed sequence of them)
// on its arguments and stack data: no allocation, no lock, no panic.
unsafe impl ChildSys for RealSys {
    fn close(&mut self, fd: RawFd) {
        // SAFETY: a descriptor of the child's, owned by no Rust object that
        // will be dropped (see the module docs). A raw call: it may run
        // beside the launching thread (see child::raw).
        unsafe { raw::syscall5(libc::SYS_close, fd.unsigned_abs() as usize, 0, 0, 0, 0) };
    }

    fn read(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
        rustix::io::read(borrow(fd), buf)
    }

    fn write(&mut self, fd: RawFd, buf: &[u8]) -> Result<usize, Errno> {
        rustix::io::write(borrow(fd), buf)
    }

    fn open_at(&mut self, dir: RawFd, path: &CStr, flags: OFlags) -> Result<RawFd, Errno> {
        let dir = if dir == libc::AT_FDCWD {
            rustix::fs::CWD
        } else {
            borrow(dir)
        };
        rustix::fs::openat(dir, path, flags, Mode::empty()).map(IntoRawFd::into_raw_fd)
    }

    fn close_all_except(&mut self, keep: &[RawFd]) -> Result<(), Errno> {
        fds::close_all_except(keep)
    }

    fn keep_across_exec(&mut self, fd: RawFd) -> Result<(), Errno> {
        // SAFETY: fcntl on a descriptor number; failure is reported.
        check(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) }).map(drop)
    }

    fn pipe(&mut self) -> Result<(RawFd, RawFd), Errno> {
        let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        Ok((read.into_raw_fd(), write.into_raw_fd()))
    }

    unsafe fn clone_vm(
        &mut self,
        stack: *mut libc::c_void,
        entry: extern "C" fn(*mut libc::c_void) -> libc::c_int,
        arg: *mut libc::c_void,
    ) -> Result<Pid, Errno> {
        // SAFETY: the caller guarantees the stack and the entry.
        let pid = unsafe { libc::clone(entry, stack, libc::CLONE_VM | libc::SIGCHLD, arg) };
        Pid::from_raw(pid).ok_or_else(last_errno)
    }

    fn own_name(&mut self, buf: &mut [u8; 17]) {
        // SAFETY: PR_GET_NAME writes at most 16 bytes, NUL included, into
        // a buffer of 17.
        unsafe { libc::prctl(libc::PR_GET_NAME, buf.as_mut_ptr()) };
    }

    unsafe fn exec_fd(&mut self, fd: RawFd, argv: *const *const libc::c_char) -> Errno {
        let envp: [*const libc::c_char; 1] = [std::ptr::null()];
        // SAFETY: the caller guarantees argv; envp is an empty list; the
        // path is an empty C string, as AT_EMPTY_PATH wants.
        unsafe {
            libc::syscall(
                libc::SYS_execveat,
                fd,
                c"".as_ptr(),
                argv,
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        last_errno()
    }

    fn dup_above_stdio(&mut self, fd: RawFd) -> Result<RawFd, Errno> {
        // SAFETY: F_DUPFD_CLOEXEC on a descriptor number; failure is reported.
        check(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) })
    }

    fn dup_onto(&mut self, fd: RawFd, target: RawFd) -> Result<(), Errno> {
        // SAFETY: dup2 of descriptor numbers; failure is reported.
        check(unsafe { libc::dup2(fd, target) }).map(drop)
    }

    fn read_lock(&mut self, fd: RawFd) -> Result<(), Errno> {
        // SAFETY: an all-zero flock is valid; the fields are set below.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        // Both constants are small (0 and 0): the C field is a short.
        lock.l_type = libc::c_short::try_from(libc::F_RDLCK).unwrap_or_default();
        lock.l_whence = libc::c_short::try_from(libc::SEEK_SET).unwrap_or_default();
        // SAFETY: F_SETLK with a valid flock struct.
        if unsafe { libc::fcntl(fd, libc::F_SETLK, &raw const lock) } != 0 {
            return Err(last_errno());
        }
        Ok(())
    }

    fn set_death_signal(&mut self) -> Result<(), Errno> {
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
    }

    fn parent_pid(&mut self) -> Option<Pid> {
        rustix::process::getppid()
    }

    fn own_pid(&mut self) -> Pid {
        rustix::process::getpid()
    }

    fn set_dumpable(&mut self, on: bool) -> Result<(), Errno> {
        prctl(libc::PR_SET_DUMPABLE, libc::c_ulong::from(on), 0)
    }

    unsafe fn fork(&mut self) -> Result<Option<Pid>, Errno> {
        // Not glibc's fork(): its atfork handlers take the allocator's locks.
        // SAFETY: clone(SIGCHLD) with a null stack is fork() without those
        // handlers; the caller upholds the child's contract.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_clone,
                u64::from(libc::SIGCHLD.unsigned_abs()),
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        match ret {
            -1 => Err(last_errno()),
            0 => Ok(None),
            pid => i32::try_from(pid)
                .ok()
                .and_then(Pid::from_raw)
                .map(Some)
                .ok_or(Errno::INVAL),
        }
    }

    fn kill(&mut self, pid: Pid) {
        // SAFETY: kill(2) of a process this one forked.
        unsafe { libc::kill(pid.as_raw_nonzero().get(), libc::SIGKILL) };
    }

    fn setsid(&mut self) -> Result<(), Errno> {
        rustix::process::setsid().map(drop)
    }

    fn setns(&mut self, fd: RawFd, kind: NamespaceKind) -> Result<(), Errno> {
        // SAFETY: setns(2) on a descriptor number with a namespace type; the
        // kernel checks both.
        check(unsafe { libc::setns(fd, kind.flag()) }).map(drop)
    }

    unsafe fn unshare(&mut self, flags: UnshareFlags) -> Result<(), Errno> {
        // SAFETY: the caller guarantees a single-threaded process and
        // namespace flags, which change nothing Rust's descriptors rely on.
        unsafe { rustix::thread::unshare_unsafe(flags) }
    }

    fn set_gid(&mut self, gid: u32) -> Result<(), Errno> {
        let id = Gid::from_raw(gid);
        rustix::thread::set_thread_res_gid(id, id, id)
    }

    fn set_uid(&mut self, uid: u32) -> Result<(), Errno> {
        let id = Uid::from_raw(uid);
        rustix::thread::set_thread_res_uid(id, id, id)
    }

    fn set_hostname(&mut self, name: &[u8]) -> Result<(), Errno> {
        rustix::system::sethostname(name)
    }

    fn send_report(&mut self, out: RawFd, proc_dir: RawFd) -> Result<(), Errno> {
        crate::child::report::send(out, borrow(proc_dir))
    }

    fn run_hook(&mut self, _origin: Origin, hook: &dyn ChildHook) -> Result<(), StepFailure> {
        hook.run()
    }

    fn drop_bounding(&mut self, cap: u32) -> Result<(), Errno> {
        prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0)
    }

    fn set_capabilities(&mut self, mask: u64) -> Result<(), Errno> {
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let (low, high) = split(mask);
        let data = [
            CapData {
                effective: low,
                permitted: low,
                inheritable: low,
            },
            CapData {
                effective: high,
                permitted: high,
                inheritable: high,
            },
        ];
        // SAFETY: capset reads the header and two data structs for version 3.
        let ret = unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) };
        if ret == 0 { Ok(()) } else { Err(last_errno()) }
    }

    fn raise_ambient(&mut self, cap: u32) -> Result<(), Errno> {
        let raise = libc::c_ulong::try_from(libc::PR_CAP_AMBIENT_RAISE).unwrap_or_default();
        prctl(libc::PR_CAP_AMBIENT, raise, libc::c_ulong::from(cap))
    }

    fn set_no_new_privs(&mut self) -> Result<(), Errno> {
        rustix::thread::set_no_new_privs(true)
    }

    fn set_rlimit(&mut self, limit: &Rlimit) -> Result<(), Errno> {
        let value = rustix::process::Rlimit {
            current: limit.soft,
            maximum: limit.hard,
        };
        rustix::process::setrlimit(limit.resource.resource(), value)
    }

    fn restrict_landlock(&mut self, plan: &LandlockPlan) -> Result<(), StepFailure> {
        plan.apply()
    }

    fn load_seccomp(&mut self, program: &BpfProgram) -> Result<(), Errno> {
        let insns = program.instructions();
        let len = u16::try_from(insns.len()).map_err(|_| Errno::INVAL)?;
        let prog = libc::sock_fprog {
            len,
            filter: insns.as_ptr().cast_mut(),
        };
        // SAFETY: seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog) reads `len`
        // instructions from `filter`, which `program` holds for the call.
        // A raw call, as execve (see child::raw).
        let ret = unsafe {
            raw::syscall5(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER as usize,
                0,
                (&raw const prog) as usize,
                0,
                0,
            )
        };
        if ret == 0 {
            Ok(())
        } else {
            Err(raw::errno_of(ret))
        }
    }

    fn default_sigchld(&mut self) -> libc::sigaction {
        reaper::default_sigchld()
    }

    fn restore_sigchld(&mut self, old: &libc::sigaction) {
        reaper::restore_sigchld(old);
    }

    fn block_forwarded(&mut self) -> libc::sigset_t {
        let set = reaper::forwarded_set();
        // SAFETY: an all-zero sigset is valid output storage; sigprocmask
        // only changes this thread's mask.
        unsafe {
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigprocmask(libc::SIG_BLOCK, &set, &mut previous);
            previous
        }
    }

    fn set_mask(&mut self, mask: &libc::sigset_t) {
        // SAFETY: a mask saved by `block_forwarded` (or another valid set).
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, mask, std::ptr::null_mut()) };
    }

    fn reset_signals(&mut self) -> Result<(), Errno> {
        reset_signals()
    }

    fn chdir(&mut self, dir: &CStr) -> Result<(), Errno> {
        rustix::process::chdir(dir)
    }

    unsafe fn execve(
        &mut self,
        path: &CStr,
        argv: *const *const libc::c_char,
        envp: *const *const libc::c_char,
    ) -> Errno {
        // A raw call: it may run beside the launching thread, whose errno
        // a CLONE_VM process shares (see child::raw).
        // SAFETY: the caller guarantees null-terminated arrays of valid
        // strings; `path` is NUL-terminated.
        let ret = unsafe {
            raw::syscall5(
                libc::SYS_execve,
                path.as_ptr() as usize,
                argv as usize,
                envp as usize,
                0,
                0,
            )
        };
        raw::errno_of(ret)
    }
}

/// Give the command default signal dispositions and an empty mask.
///
/// Handlers inherited from the caller are reset first, or a signal pending
/// from setup would run the caller's handler in this process once unblocked.
/// `SIGPIPE` goes back to its default too: Rust programs ignore it, and an
/// ignored disposition would survive `execve` into the command.
/// The kernel's `struct sigaction` for `rt_sigaction(2)` on x86-64 and
/// aarch64: handler, flags, restorer, then a 64-bit mask.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// `rt_sigaction(sig, new, old)` as a raw system call. Not the C library's
/// `sigaction`: musl's takes a lock for `SIGABRT`, which another thread of
/// the launcher may have held when this child was cloned.
fn raw_sigaction(
    sig: libc::c_int,
    new: Option<&KernelSigaction>,
    old: Option<&mut KernelSigaction>,
) -> Result<(), Errno> {
    let new = new.map_or(std::ptr::null(), std::ptr::from_ref);
    let old = old.map_or(std::ptr::null_mut(), std::ptr::from_mut);
    // SAFETY: both pointers are null or point to a valid KernelSigaction;
    // the size is the kernel's sigset (8 bytes).
    let ret = unsafe {
        raw::syscall5(
            libc::SYS_rt_sigaction,
            sig.unsigned_abs() as usize,
            new as usize,
            old as usize,
            8,
            0,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(raw::errno_of(ret))
    }
}

fn reset_signals() -> Result<(), Errno> {
    // The kernel's numbers, 1 to 64, whatever the C library reserves.
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        let mut old = KernelSigaction {
            handler: 0,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        if raw_sigaction(sig, None, Some(&mut old)).is_err() {
            continue;
        }
        let caught = old.handler != libc::SIG_DFL && old.handler != libc::SIG_IGN;
        if caught || sig == libc::SIGPIPE {
            let dfl = KernelSigaction {
                handler: libc::SIG_DFL,
                flags: 0,
                restorer: 0,
                mask: 0,
            };
            raw_sigaction(sig, Some(&dfl), None)?;
        }
    }
    let empty: u64 = 0;
    // SAFETY: rt_sigprocmask with a valid 8-byte set and no old set.
    let ret = unsafe {
        raw::syscall5(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK.unsigned_abs() as usize,
            (&raw const empty) as usize,
            0,
            8,
            0,
        )
    };
    if ret != 0 {
        return Err(raw::errno_of(ret));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{KernelSigaction, raw_sigaction};

    extern "C" fn handler(_: libc::c_int) {}

    fn bit(sig: libc::c_int) -> u64 {
        1 << (sig - 1)
    }

    /// The layout of `KernelSigaction` against the C library's `sigaction`,
    /// both ways, on a signal nothing else in the crate uses (its default
    /// is to ignore it, so no delivery can hurt).
    #[test]
    fn raw_sigaction_agrees_with_the_c_library() {
        let sig = libc::SIGURG;
        // SAFETY: an all-zero sigaction is valid; sigaction reads `new` and
        // fills `saved`, which is put back at the end.
        let mut saved: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
        new.sa_sigaction = handler as *const () as usize;
        new.sa_flags = libc::SA_RESTART;
        // SAFETY: sa_mask is a valid sigset_t; sigaction as above.
        unsafe {
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaddset(&mut new.sa_mask, libc::SIGUSR1);
            assert_eq!(libc::sigaction(sig, &new, &mut saved), 0);
        }

        let mut seen = KernelSigaction {
            handler: 0,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        let read = raw_sigaction(sig, None, Some(&mut seen));

        // Written raw, read back by the C library.
        let ignore = KernelSigaction {
            handler: libc::SIG_IGN,
            flags: 0,
            restorer: 0,
            mask: bit(libc::SIGUSR2) | bit(libc::SIGHUP),
        };
        let written = raw_sigaction(sig, Some(&ignore), None);
        // SAFETY: as above.
        let mut back: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: reading the disposition, then restoring the saved one.
        let (got, restored) = unsafe {
            (
                libc::sigaction(sig, std::ptr::null(), &mut back),
                libc::sigaction(sig, &saved, std::ptr::null_mut()),
            )
        };
        assert_eq!((got, restored), (0, 0));

        assert_eq!(read, Ok(()));
        assert_eq!(seen.handler, handler as *const () as usize);
        assert_ne!(
            seen.flags & u64::from(libc::SA_RESTART.unsigned_abs()),
            0,
            "flags {:#x}",
            seen.flags
        );
        assert_eq!(seen.mask, bit(libc::SIGUSR1), "mask {:#x}", seen.mask);

        assert_eq!(written, Ok(()));
        assert_eq!(back.sa_sigaction, libc::SIG_IGN);
        // SAFETY: sigismember on a valid set.
        let members = unsafe {
            [libc::SIGUSR2, libc::SIGHUP, libc::SIGUSR1]
                .map(|s| libc::sigismember(&back.sa_mask, s))
        };
        assert_eq!(members, [1, 1, 0]);
    }
}
