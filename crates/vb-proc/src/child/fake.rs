//! A recording fake of [`ChildSys`] for unit tests: every call is logged as
//! a [`Call`], any fallible call can be made to fail, and a fork can be
//! followed on either side. It allocates nothing either — the log is a
//! fixed array — so it keeps to the contract of the trait, though it only
//! ever runs in the test process.
//!
//! A successful `execve` replaces the process image: the fake stops
//! recording there, as nothing after it would run in a real child.

use std::ffi::CStr;
use std::fmt;
use std::os::fd::RawFd;

use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::process::Pid;
use rustix::thread::UnshareFlags;

use crate::child::sys::ChildSys;
use crate::frame::{ChildFailure, FRAME_LEN, Origin, StepFailure};
use crate::hook::ChildHook;
use crate::landlock::LandlockPlan;
use crate::namespaces::NamespaceKind;
use crate::rlimit::{Rlimit, RlimitResource};
use crate::seccomp::BpfProgram;

/// Bytes or a path, copied into the log (truncated to 40 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Text {
    bytes: [u8; 40],
    len: usize,
}

impl Text {
    pub(crate) fn new(from: &[u8]) -> Self {
        let mut bytes = [0; 40];
        let len = from.len().min(bytes.len());
        bytes[..len].copy_from_slice(&from[..len]);
        Self { bytes, len }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())
    }
}

/// `Text` of a string, for expectations.
pub(crate) fn t(s: &str) -> Text {
    Text::new(s.as_bytes())
}

/// One logged call, with the arguments that tell calls apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    Close(RawFd),
    Read(RawFd),
    Write(RawFd, Text),
    OpenAt(RawFd, Text),
    CloseAllExcept([RawFd; 4]),
    KeepAcrossExec(RawFd),
    DupAboveStdio(RawFd),
    DupOnto(RawFd, RawFd),
    ReadLock(RawFd),
    DeathSignal,
    ParentPid,
    OwnPid,
    Dumpable(bool),
    Fork,
    Kill(Pid),
    Setsid,
    Setns(RawFd, NamespaceKind),
    Unshare(UnshareFlags),
    SetGid(u32),
    SetUid(u32),
    Hostname(Text),
    SendReport(RawFd),
    Hook(Origin),
    DropBounding(u32),
    SetCapabilities(u64),
    RaiseAmbient(u32),
    NoNewPrivs,
    Rlimit(RlimitResource),
    Landlock,
    Seccomp(usize),
    DefaultSigchld,
    RestoreSigchld,
    BlockForwarded,
    SetMask,
    ResetSignals,
    Chdir(Text),
    Execve(Text),
}

/// The step a failing hook or Landlock restriction reports in the fake.
pub(crate) const FAKE_STEP: StepFailure = StepFailure::new(7, 3, 0);

/// The first descriptor the fake hands out, clear of the tests' own.
pub(crate) const FIRST_FD: RawFd = 100;

pub(crate) struct Fake {
    log: [Call; 256],
    logged: usize,
    /// Fallible calls made so far (the number the next one gets).
    fallible: usize,
    /// Fail the fallible calls with these numbers with these errnos.
    failures: [(usize, Errno); 8],
    nfailures: usize,
    /// The sides successive forks continue on: `Some(pid)` is the parent's.
    forks: [Option<Pid>; 4],
    nforks: usize,
    /// What a read of these descriptors returns (one byte); others read
    /// end-of-file.
    tokens: [(RawFd, u8); 4],
    ntokens: usize,
    /// What successive `getppid` calls answer (then `None`).
    parents: [Option<Pid>; 4],
    nparents: usize,
    /// What `getpid` answers.
    pub(crate) pid: Pid,
    next_fd: RawFd,
    executed: bool,
}

impl Default for Fake {
    fn default() -> Self {
        Self {
            log: [Call::NoNewPrivs; 256],
            logged: 0,
            fallible: 0,
            failures: [(usize::MAX, Errno::PERM); 8],
            nfailures: 0,
            forks: [None; 4],
            nforks: 0,
            tokens: [(-1, 0); 4],
            ntokens: 0,
            parents: [None; 4],
            nparents: 0,
            pid: pid(2),
            next_fd: FIRST_FD,
            executed: false,
        }
    }
}

/// A pid for expectations.
pub(crate) fn pid(n: i32) -> Pid {
    Pid::from_raw(n).unwrap_or(Pid::INIT)
}

impl Fake {
    /// Make the fallible call numbered `n` (from 0) fail with `errno`.
    pub(crate) fn fail_call(&mut self, n: usize, errno: Errno) -> &mut Self {
        if let Some(slot) = self.failures.get_mut(self.nfailures) {
            *slot = (n, errno);
            self.nfailures += 1;
        }
        self
    }

    /// Continue the next fork on the parent's side, the child being `child`.
    pub(crate) fn fork_as_parent_of(&mut self, child: Pid) -> &mut Self {
        self.set_fork(Some(child))
    }

    /// Continue the next fork on the child's side (the default).
    pub(crate) fn fork_as_child(&mut self) -> &mut Self {
        self.set_fork(None)
    }

    fn set_fork(&mut self, side: Option<Pid>) -> &mut Self {
        if let Some(slot) = self.forks.get_mut(self.nforks) {
            *slot = side;
            self.nforks += 1;
        }
        self
    }

    /// The next `getppid` answers `parent`.
    pub(crate) fn parent(&mut self, parent: Option<Pid>) -> &mut Self {
        if let Some(slot) = self.parents.get_mut(self.nparents) {
            *slot = parent;
            self.nparents += 1;
        }
        self
    }

    /// A read of `fd` returns `byte`.
    pub(crate) fn token(&mut self, fd: RawFd, byte: u8) -> &mut Self {
        if let Some(slot) = self.tokens.get_mut(self.ntokens) {
            *slot = (fd, byte);
            self.ntokens += 1;
        }
        self
    }

    /// Every call logged, in order.
    pub(crate) fn calls(&self) -> &[Call] {
        &self.log[..self.logged]
    }

    /// The calls that can fail, in order.
    pub(crate) fn fallible_calls(&self) -> usize {
        self.fallible
    }

    /// Whether an `execve` succeeded.
    pub(crate) fn executed(&self) -> bool {
        self.executed
    }

    /// The failure frames written on `fd`.
    pub(crate) fn frames_on(&self, fd: RawFd) -> impl Iterator<Item = ChildFailure> + '_ {
        self.calls().iter().filter_map(move |call| match call {
            Call::Write(to, bytes) if *to == fd && bytes.as_bytes().len() == FRAME_LEN => {
                let mut frame = [0; FRAME_LEN];
                frame.copy_from_slice(bytes.as_bytes());
                ChildFailure::decode(&frame).ok()
            }
            _ => None,
        })
    }

    fn log(&mut self, call: Call) {
        if self.executed {
            return;
        }
        if let Some(slot) = self.log.get_mut(self.logged) {
            *slot = call;
            self.logged += 1;
        }
    }

    /// Log a call that can fail; its injected failure, if any.
    fn fallible(&mut self, call: Call) -> Result<(), Errno> {
        if self.executed {
            return Ok(());
        }
        self.log(call);
        let n = self.fallible;
        self.fallible += 1;
        match self.failures[..self.nfailures]
            .iter()
            .find(|(at, _)| *at == n)
        {
            Some((_, errno)) => Err(*errno),
            None => Ok(()),
        }
    }

    fn new_fd(&mut self) -> RawFd {
        let fd = self.next_fd;
        self.next_fd += 1;
        fd
    }
}

// SAFETY: the fake makes no system call and allocates nothing; it runs in
// the test process only.
unsafe impl ChildSys for Fake {
    fn close(&mut self, fd: RawFd) {
        self.log(Call::Close(fd));
    }

    fn read(&mut self, fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
        self.fallible(Call::Read(fd))?;
        let token = self.tokens[..self.ntokens].iter().find(|(f, _)| *f == fd);
        match (token, buf.first_mut()) {
            (Some((_, byte)), Some(slot)) => {
                *slot = *byte;
                Ok(1)
            }
            _ => Ok(0),
        }
    }

    fn write(&mut self, fd: RawFd, buf: &[u8]) -> Result<usize, Errno> {
        self.fallible(Call::Write(fd, Text::new(buf)))?;
        Ok(buf.len())
    }

    fn open_at(&mut self, dir: RawFd, path: &CStr, _flags: OFlags) -> Result<RawFd, Errno> {
        self.fallible(Call::OpenAt(dir, Text::new(path.to_bytes())))?;
        Ok(self.new_fd())
    }

    fn close_all_except(&mut self, keep: &[RawFd]) -> Result<(), Errno> {
        let mut kept = [-1; 4];
        for (slot, fd) in kept.iter_mut().zip(keep) {
            *slot = *fd;
        }
        self.fallible(Call::CloseAllExcept(kept))
    }

    fn keep_across_exec(&mut self, fd: RawFd) -> Result<(), Errno> {
        self.fallible(Call::KeepAcrossExec(fd))
    }

    fn pipe(&mut self) -> Result<(RawFd, RawFd), Errno> {
        Ok((self.new_fd(), self.new_fd()))
    }

    unsafe fn clone_vm(
        &mut self,
        _stack: *mut libc::c_void,
        _entry: extern "C" fn(*mut libc::c_void) -> libc::c_int,
        _arg: *mut libc::c_void,
    ) -> Result<Pid, Errno> {
        // The unit tests' plans are not flat.
        Err(Errno::NOSYS)
    }

    fn own_name(&mut self, buf: &mut [u8; 17]) {
        if let Some(head) = buf.get_mut(..5) {
            head.copy_from_slice(b"fake\0");
        }
    }

    unsafe fn exec_fd(&mut self, _fd: RawFd, _argv: *const *const libc::c_char) -> Errno {
        // The unit tests' plans carry no vb-init.
        Errno::NOSYS
    }

    fn dup_above_stdio(&mut self, fd: RawFd) -> Result<RawFd, Errno> {
        self.fallible(Call::DupAboveStdio(fd))?;
        Ok(self.new_fd())
    }

    fn dup_onto(&mut self, fd: RawFd, target: RawFd) -> Result<(), Errno> {
        self.fallible(Call::DupOnto(fd, target))
    }

    fn read_lock(&mut self, fd: RawFd) -> Result<(), Errno> {
        self.fallible(Call::ReadLock(fd))
    }

    fn set_death_signal(&mut self) -> Result<(), Errno> {
        self.fallible(Call::DeathSignal)
    }

    fn parent_pid(&mut self) -> Option<Pid> {
        self.log(Call::ParentPid);
        let parent = self.parents[..self.nparents].first().copied().flatten();
        if self.nparents > 0 {
            self.parents.copy_within(1..self.nparents, 0);
            self.nparents -= 1;
        }
        parent
    }

    fn own_pid(&mut self) -> Pid {
        self.log(Call::OwnPid);
        self.pid
    }

    fn set_dumpable(&mut self, on: bool) -> Result<(), Errno> {
        self.fallible(Call::Dumpable(on))
    }

    unsafe fn fork(&mut self) -> Result<Option<Pid>, Errno> {
        self.fallible(Call::Fork)?;
        let side = self.forks[..self.nforks].first().copied().flatten();
        if self.nforks > 0 {
            self.forks.copy_within(1..self.nforks, 0);
            self.nforks -= 1;
        }
        Ok(side)
    }

    fn kill(&mut self, pid: Pid) {
        self.log(Call::Kill(pid));
    }

    fn setsid(&mut self) -> Result<(), Errno> {
        self.fallible(Call::Setsid)
    }

    fn setns(&mut self, fd: RawFd, kind: NamespaceKind) -> Result<(), Errno> {
        self.fallible(Call::Setns(fd, kind))
    }

    unsafe fn unshare(&mut self, flags: UnshareFlags) -> Result<(), Errno> {
        self.fallible(Call::Unshare(flags))
    }

    fn set_gid(&mut self, gid: u32) -> Result<(), Errno> {
        self.fallible(Call::SetGid(gid))
    }

    fn set_uid(&mut self, uid: u32) -> Result<(), Errno> {
        self.fallible(Call::SetUid(uid))
    }

    fn set_hostname(&mut self, name: &[u8]) -> Result<(), Errno> {
        self.fallible(Call::Hostname(Text::new(name)))
    }

    fn send_report(&mut self, out: RawFd, _proc_dir: RawFd) -> Result<(), Errno> {
        self.fallible(Call::SendReport(out))
    }

    fn run_hook(&mut self, origin: Origin, _hook: &dyn ChildHook) -> Result<(), StepFailure> {
        self.fallible(Call::Hook(origin))
            .map_err(|e| StepFailure::new(FAKE_STEP.step, FAKE_STEP.index, e.raw_os_error()))
    }

    fn drop_bounding(&mut self, cap: u32) -> Result<(), Errno> {
        self.fallible(Call::DropBounding(cap))
    }

    fn set_capabilities(&mut self, mask: u64) -> Result<(), Errno> {
        self.fallible(Call::SetCapabilities(mask))
    }

    fn raise_ambient(&mut self, cap: u32) -> Result<(), Errno> {
        self.fallible(Call::RaiseAmbient(cap))
    }

    fn set_no_new_privs(&mut self) -> Result<(), Errno> {
        self.fallible(Call::NoNewPrivs)
    }

    fn set_rlimit(&mut self, limit: &Rlimit) -> Result<(), Errno> {
        self.fallible(Call::Rlimit(limit.resource))
    }

    fn restrict_landlock(&mut self, _plan: &LandlockPlan) -> Result<(), StepFailure> {
        self.fallible(Call::Landlock)
            .map_err(|e| StepFailure::new(FAKE_STEP.step, FAKE_STEP.index, e.raw_os_error()))
    }

    fn load_seccomp(&mut self, program: &BpfProgram) -> Result<(), Errno> {
        self.fallible(Call::Seccomp(program.len()))
    }

    fn default_sigchld(&mut self) -> libc::sigaction {
        self.log(Call::DefaultSigchld);
        // SAFETY: an all-zero sigaction is a valid value (SIG_DFL).
        unsafe { std::mem::zeroed() }
    }

    fn restore_sigchld(&mut self, _old: &libc::sigaction) {
        self.log(Call::RestoreSigchld);
    }

    fn block_forwarded(&mut self) -> libc::sigset_t {
        self.log(Call::BlockForwarded);
        // SAFETY: an all-zero sigset_t is a valid (empty) set.
        unsafe { std::mem::zeroed() }
    }

    fn set_mask(&mut self, _mask: &libc::sigset_t) {
        self.log(Call::SetMask);
    }

    fn reset_signals(&mut self) -> Result<(), Errno> {
        self.fallible(Call::ResetSignals)
    }

    fn chdir(&mut self, dir: &CStr) -> Result<(), Errno> {
        self.fallible(Call::Chdir(Text::new(dir.to_bytes())))
    }

    unsafe fn execve(
        &mut self,
        path: &CStr,
        _argv: *const *const libc::c_char,
        _envp: *const *const libc::c_char,
    ) -> Errno {
        match self.fallible(Call::Execve(Text::new(path.to_bytes()))) {
            Err(errno) => errno,
            Ok(()) => {
                self.executed = true;
                // What the caller sees is moot: a real execve would not return.
                Errno::NOEXEC
            }
        }
    }
}
