//! `vb-init` (`init/main.rs`), the sandbox's pid 1, run on its own as the
//! parent of a command, the way the reaper runs it: once as the build the
//! library carries (the crate's target, run natively), once as the aarch64
//! build under qemu-aarch64's user-mode emulation. Every scenario runs on
//! both and asserts the same observable results, so the aarch64 entry point,
//! system call numbers and registers answer to the same tests as the x86-64
//! ones on an x86-64 host.
//!
//! ```text
//! test process (a child subreaper: it gets the command if pid 1 leaves it)
//!  └─ P: forks C, then executes vb-init (natively, or qemu-aarch64 running it)
//!      └─ C, the command: waits for end-of-file on the ready pipe, reports
//!         /proc/P/status as it is then, and exits, or waits for a signal
//! ```
//!
//! The aarch64 build needs rustc's `aarch64-unknown-linux-musl` target, a
//! linker for it (`aarch64-linux-gnu-gcc`, or the one
//! `CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER` names) and
//! `qemu-aarch64`. Without one of them its runs print a SKIP line, unless
//! `VB_PROC_AARCH64=require` (which `cargo xtask test` sets once it found
//! them) makes that a failure.
//!
//! What qemu-user cannot show: it implements no `seccomp` system call (it
//! answers ENOSYS), so under emulation a seccomp program is never loaded.
//! There the test checks, from qemu's `-strace` log, that vb-init makes the
//! call with the right operation, and that the refusal kills the command as
//! any refused program does. Every other call vb-init makes runs under qemu
//! as it does natively, and the log's call names are checked against the
//! calls the program means to make.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../init/rustc_args.rs"]
mod rustc_args;

use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustix::fs::MemfdFlags;
use rustix::pipe::{PipeFlags, pipe_with};

/// The name vb-init is given as argv[0] and must take as its own.
const NAME: &str = "vb-init-test";
/// The emulated build's target.
const AARCH64: &str = "aarch64-unknown-linux-musl";
/// How long one run may take before the test gives up on it.
const DEADLINE: Duration = Duration::from_secs(30);

/// One build of vb-init and how to execute it.
#[derive(Debug)]
enum Build {
    /// The program the library carries, for the crate's target.
    Native(PathBuf),
    /// The aarch64 program, under `qemu-aarch64`.
    Emulated { qemu: PathBuf, program: PathBuf },
}

impl Build {
    fn label(&self) -> &'static str {
        match self {
            Build::Native(_) => "native",
            Build::Emulated { .. } => "aarch64 under qemu",
        }
    }

    fn emulated(&self) -> bool {
        matches!(self, Build::Emulated { .. })
    }

    /// The path to execute and the argv before vb-init's own arguments
    /// (argv[0] included): qemu logs every system call to its stderr.
    fn command_line(&self) -> (PathBuf, Vec<CString>) {
        let c = |s: &OsStr| CString::new(s.as_bytes()).unwrap();
        match self {
            Build::Native(program) => (program.clone(), vec![c(NAME.as_ref())]),
            Build::Emulated { qemu, program } => (
                qemu.clone(),
                vec![
                    c(qemu.as_os_str()),
                    c("-strace".as_ref()),
                    c("-0".as_ref()),
                    c(NAME.as_ref()),
                    c(program.as_os_str()),
                ],
            ),
        }
    }
}

/// Print a SKIP line straight to file descriptor 2, past libtest's capture of
/// passing tests' output, so a skip is never silent.
fn skip_line(test: &str, reason: &str) {
    let line = format!("SKIP {test}: {reason}\n");
    let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
}

/// `name` in a directory of `$PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Build vb-init for aarch64 with the arguments `build.rs` uses; the reason
/// when it cannot be done here.
fn build_aarch64() -> Result<Build, String> {
    let qemu = on_path("qemu-aarch64")
        .or_else(|| on_path("qemu-aarch64-static"))
        .ok_or("qemu-aarch64 is not installed (Debian: qemu-user)")?;
    let linker = std::env::var("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER")
        .unwrap_or_else(|_| "aarch64-linux-gnu-gcc".into());
    if on_path(&linker).is_none() && !Path::new(&linker).is_file() {
        return Err(format!(
            "no linker for {AARCH64}: {linker} is not installed (Debian: gcc-aarch64-linux-gnu)"
        ));
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", AARCH64])
        .output()
        .map_err(|e| format!("running rustc: {e}"))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&libdir.stdout).trim());
    if !libdir.is_dir() {
        return Err(format!(
            "rustc has no {AARCH64} target (rustup target add {AARCH64})"
        ));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let program = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vb-init-aarch64");
    let out = Command::new(&rustc)
        .args(rustc_args::rustc_args(
            AARCH64,
            &manifest.join("init/main.rs"),
            &program,
            Some(&linker),
        ))
        .output()
        .map_err(|e| format!("running rustc: {e}"))?;
    // The tools are all there: a failing build is a failure, not a skip.
    assert!(
        out.status.success(),
        "building vb-init for {AARCH64} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(Build::Emulated { qemu, program })
}

/// The builds to run `test` on, printing a SKIP line for each missing one.
fn builds(test: &str) -> Vec<&'static Build> {
    static BUILDS: OnceLock<(Result<Build, String>, Result<Build, String>)> = OnceLock::new();
    let (native, emulated) = BUILDS.get_or_init(|| {
        // Where build.rs puts the program the library carries.
        let native = if cfg!(vb_init) {
            Ok(Build::Native(Path::new(env!("OUT_DIR")).join("vb-init")))
        } else {
            Err("the crate's target has no vb-init (not x86-64 or aarch64)".to_owned())
        };
        (native, build_aarch64())
    });
    let mut out = Vec::new();
    match native {
        Ok(b) => out.push(b),
        Err(reason) => skip_line(test, reason),
    }
    match emulated {
        Ok(b) => out.push(b),
        Err(reason) => {
            assert!(
                std::env::var("VB_PROC_AARCH64").as_deref() != Ok("require"),
                "VB_PROC_AARCH64=require, but the aarch64 build cannot run: {reason}"
            );
            skip_line(&format!("{test} (aarch64 under qemu)"), reason);
        }
    }
    out
}

/// One test at a time: every descriptor a test makes is copied into any
/// process another test forks meanwhile, which would hold a pipe open.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the command does once the ready pipe has ended.
#[derive(Clone, Copy, Debug)]
enum Part {
    /// Exit with this code.
    Exit(u8),
    /// Wait for a signal that ends it.
    AwaitSignal,
    /// Lead a process group with another member that waits for a signal
    /// (or SIGALRM after 20 s), ignore SIGTERM itself, and exit with 100 +
    /// the signal that ended that member.
    GroupAwaitsSignal,
}

/// What one run showed.
#[derive(Debug)]
struct Outcome {
    /// vb-init's raw wait status.
    init: i32,
    /// What vb-init wrote on the status pipe.
    status: Vec<u8>,
    /// `/proc/<vb-init>/status` as the command read it once the ready pipe
    /// ended; empty when it never did.
    seen: String,
    /// The command's raw wait status, when vb-init exited without reaping
    /// it and the test did.
    orphan: Option<i32>,
    /// qemu's system call log (empty natively).
    trace: String,
}

impl Outcome {
    fn exit_code(&self) -> Option<i32> {
        libc::WIFEXITED(self.init).then(|| libc::WEXITSTATUS(self.init))
    }

    /// A field of the status file the command saw.
    fn seen(&self, field: &str) -> Option<&str> {
        self.seen
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .map(str::trim)
    }

    /// The system calls of qemu's log, by name, in order.
    fn calls(&self) -> Vec<&str> {
        self.trace
            .lines()
            .filter_map(|line| {
                let (pid, rest) = line.split_once(' ')?;
                pid.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
                rest.split_once('(').map(|(name, _)| name)
            })
            .collect()
    }
}

/// The raw status vb-init reports, little-endian, as it is on the wire.
fn status_bytes(raw: i32) -> Vec<u8> {
    raw.to_le_bytes().to_vec()
}

fn exited(code: i32) -> i32 {
    code << 8
}

/// Poll `fd` for input until `deadline`; false on timeout.
fn readable(fd: RawFd, deadline: Instant) -> bool {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n > 0 {
            return true;
        }
    }
}

/// Everything `fd` gives until end-of-file; `None` if that takes past
/// `deadline`.
fn read_to_end(fd: &OwnedFd, deadline: Instant) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if !readable(fd.as_raw_fd(), deadline) {
            return None;
        }
        match rustix::io::read(fd, &mut buf) {
            Ok(0) => return Some(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("reading a pipe: {e}"),
        }
    }
}

/// Wait for `pid` until `deadline`: its raw status, `None` when it is not
/// (or no longer) this process's child, `Err(())` on timeout.
fn wait_until(pid: libc::pid_t, deadline: Instant) -> Result<Option<i32>, ()> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes into a valid int.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG | libc::__WALL) };
        if got == pid {
            return Ok(Some(status));
        }
        if got < 0 {
            return Ok(None);
        }
        if Instant::now() >= deadline {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether `pid` blocks `signal`: vb-init blocks the signals it forwards,
/// then reads them from a signalfd (which also reports those already
/// pending). Read from `/proc/<pid>/status`, which any user may read, unlike
/// the descriptors of a process that is not dumpable.
fn blocks(pid: libc::pid_t, signal: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
}

/// Kills what a failed run leaves behind.
struct Leftovers([libc::pid_t; 2]);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for pid in self.0 {
            if pid > 0 {
                // SAFETY: kill and waitpid with integer arguments.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL);
                }
            }
        }
    }
}

/// Write `n` in decimal, NUL-terminated, at `out` (24 bytes). For the
/// forked process, which may not allocate.
///
/// # Safety
///
/// `out` points to 24 writable bytes.
unsafe fn write_decimal(n: libc::pid_t, out: *mut u8) {
    let mut digits = [0u8; 12];
    let mut len = 0;
    let mut v = n.unsigned_abs();
    loop {
        digits[len] = b'0' + u8::try_from(v % 10).unwrap_or(0);
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for i in 0..len {
        // SAFETY: at most 11 digits and the NUL fit in 24 bytes.
        unsafe { out.add(i).write(digits[len - 1 - i]) };
    }
    // SAFETY: as above.
    unsafe { out.add(len).write(0) };
}

/// The descriptors of one run, as numbers for the forked processes.
#[derive(Clone, Copy)]
struct Fds {
    ready: [RawFd; 2],
    status: [RawFd; 2],
    report: [RawFd; 2],
    pid: [RawFd; 2],
    seccomp: RawFd,
    trace: RawFd,
}

/// The command (C): raw calls only, on what the test prepared.
///
/// # Safety
///
/// Called in a forked process, which it ends.
unsafe fn command_side(fds: Fds, proc_dir: RawFd, part: Part) -> ! {
    // SAFETY: system calls on integers and on buffers of this stack; the
    // process ends with _exit.
    unsafe {
        if matches!(part, Part::GroupAwaitsSignal) {
            libc::setpgid(0, 0);
        }
        // Only vb-init may hold the ready pipe's write end, and the test
        // the other pipes.
        for fd in [
            fds.ready[1],
            fds.status[0],
            fds.status[1],
            fds.report[0],
            fds.pid[0],
            fds.pid[1],
            fds.seccomp,
            fds.trace,
        ] {
            if fd >= 0 {
                libc::close(fd);
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
        // The group's other member, there before the command reports (and
        // so before the test sends a signal).
        let mut member = 0;
        if matches!(part, Part::GroupAwaitsSignal) {
            member = libc::fork();
            if member == 0 {
                libc::close(fds.ready[0]);
                libc::close(fds.report[1]);
                libc::alarm(20);
                loop {
                    libc::pause();
                }
            }
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
        }
        let mut byte = 0u8;
        loop {
            let n = libc::read(fds.ready[0], (&raw mut byte).cast(), 1);
            if n == 0 {
                break;
            }
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            // Data, or an error: not what vb-init's ready pipe does.
            libc::_exit(90);
        }
        let mut buf = [0u8; 8192];
        let file = libc::openat(proc_dir, c"status".as_ptr(), libc::O_RDONLY);
        let mut len = 0;
        while file >= 0 && len < buf.len() {
            let n = libc::read(file, buf.as_mut_ptr().add(len).cast(), buf.len() - len);
            if n <= 0 {
                break;
            }
            len += n.unsigned_abs();
        }
        libc::write(fds.report[1], buf.as_ptr().cast(), len);
        libc::close(fds.report[1]);
        match part {
            Part::Exit(code) => libc::_exit(i32::from(code)),
            Part::AwaitSignal => loop {
                libc::pause();
            },
            Part::GroupAwaitsSignal => {
                let mut status = 0;
                while libc::waitpid(member, &mut status, 0) < 0
                    && *libc::__errno_location() == libc::EINTR
                {}
                let code = if libc::WIFSIGNALED(status) {
                    100 + libc::WTERMSIG(status)
                } else {
                    99
                };
                libc::_exit(code)
            }
        }
    }
}

/// vb-init's parent-to-be (P): forks the command, then executes vb-init.
///
/// # Safety
///
/// Called in a forked process, which it ends; `argv` and `envp` are
/// null-terminated arrays of strings, `pid_arg` 24 writable bytes that
/// `argv` points to.
unsafe fn init_side(
    fds: Fds,
    part: Part,
    path: &CString,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    pid_arg: *mut u8,
) -> ! {
    // SAFETY: system calls on integers and prepared buffers; the process
    // ends with execve or _exit.
    unsafe {
        // As the reaper does before it executes vb-init: no_new_privs lets
        // the seccomp programs load once vb-init has dropped
        // CAP_SYS_ADMIN.
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        let proc_dir = libc::open(
            c"/proc/self".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        let command = libc::fork();
        if command == 0 {
            command_side(fds, proc_dir, part);
        }
        if command < 0 {
            libc::_exit(125);
        }
        if matches!(part, Part::GroupAwaitsSignal) {
            // Both sides set it, whichever runs first.
            libc::setpgid(command, command);
        }
        libc::write(fds.pid[1], (&raw const command).cast(), 4);
        for fd in [fds.ready[1], fds.status[1], fds.seccomp] {
            if fd >= 0 {
                libc::fcntl(fd, libc::F_SETFD, 0);
            }
        }
        if fds.trace >= 0 {
            libc::dup2(fds.trace, 2);
        }
        write_decimal(command, pid_arg);
        libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
        libc::_exit(126)
    }
}

/// A memfd holding `bytes`, as the library's seccomp memfd holds the
/// programs.
fn memfd(bytes: &[u8]) -> OwnedFd {
    let fd = rustix::fs::memfd_create("vb-init-test-seccomp", MemfdFlags::CLOEXEC).unwrap();
    assert_eq!(rustix::io::write(&fd, bytes).unwrap(), bytes.len());
    fd
}

/// Run vb-init (`build`) as the parent of a command doing `part`, with
/// `seccomp` as its SECCOMP-FD (`None`: -1), and send it `signal` once it
/// forwards signals.
fn run(build: &Build, part: Part, seccomp: Option<OwnedFd>, signal: Option<i32>) -> Outcome {
    // SAFETY: prctl with integer arguments; this test process adopts what
    // vb-init leaves behind.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let pipe = || pipe_with(PipeFlags::CLOEXEC).unwrap();
    let (ready_r, ready_w) = pipe();
    let (status_r, status_w) = pipe();
    let (report_r, report_w) = pipe();
    let (pid_r, pid_w) = pipe();
    let trace = build
        .emulated()
        .then(|| rustix::fs::memfd_create("vb-init-test-trace", MemfdFlags::CLOEXEC).unwrap());
    let raw = |fd: Option<&OwnedFd>| fd.map_or(-1, AsRawFd::as_raw_fd);
    let fds = Fds {
        ready: [ready_r.as_raw_fd(), ready_w.as_raw_fd()],
        status: [status_r.as_raw_fd(), status_w.as_raw_fd()],
        report: [report_r.as_raw_fd(), report_w.as_raw_fd()],
        pid: [pid_r.as_raw_fd(), pid_w.as_raw_fd()],
        seccomp: raw(seccomp.as_ref()),
        trace: raw(trace.as_ref()),
    };

    let (path, args) = build.command_line();
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    let mut pid_arg = [0u8; 24];
    let pid_ptr = pid_arg.as_mut_ptr();
    let number = |fd: RawFd| CString::new(fd.to_string()).unwrap();
    let tail = [fds.status[1], fds.ready[1], fds.seccomp].map(number);
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(pid_ptr.cast_const().cast());
    argv.extend(tail.iter().map(|a| a.as_ptr()));
    argv.push(std::ptr::null());
    let envp = [std::ptr::null()];

    // SAFETY: the child runs init_side, which makes raw system calls on
    // what is prepared above and ends with execve or _exit.
    let init = unsafe { libc::fork() };
    assert!(init >= 0, "fork failed");
    if init == 0 {
        // SAFETY: see init_side; argv and envp are null-terminated.
        unsafe { init_side(fds, part, &path, &argv, &envp, pid_ptr) };
    }
    let mut leftovers = Leftovers([init, 0]);
    drop((ready_r, ready_w, status_w, report_w, pid_w, seccomp));
    let deadline = Instant::now() + DEADLINE;

    let pid_bytes = read_to_end(&pid_r, deadline).expect("the command's pid in time");
    let command = libc::pid_t::from_ne_bytes(
        pid_bytes
            .as_slice()
            .try_into()
            .unwrap_or_else(|_| panic!("{}: no command was forked", build.label())),
    );
    leftovers.0[1] = command;
    let seen = read_to_end(&report_r, deadline).expect("the command's report in time");
    if let Some(signal) = signal {
        while !blocks(init, signal) {
            assert!(
                Instant::now() < deadline,
                "{}: vb-init never blocked signal {signal}",
                build.label()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        // SAFETY: kill with integer arguments.
        unsafe { libc::kill(init, signal) };
    }
    let status = read_to_end(&status_r, deadline).expect("vb-init's status in time");
    let init_status = wait_until(init, deadline)
        .expect("vb-init exits in time")
        .expect("vb-init is this process's child");
    leftovers.0[0] = 0;
    let orphan = wait_until(command, deadline).expect("the command ends in time");
    leftovers.0[1] = 0;
    let trace = trace.map_or_else(String::new, |fd| {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let mut offset = 0;
        while let Ok(n @ 1..) = rustix::io::pread(&fd, &mut buf, offset) {
            out.extend_from_slice(&buf[..n]);
            offset += u64::try_from(n).unwrap();
        }
        String::from_utf8_lossy(&out).into_owned()
    });
    Outcome {
        init: init_status,
        status,
        seen: String::from_utf8_lossy(&seen).into_owned(),
        orphan,
        trace,
    }
}

/// The seccomp memfd's content: each program's instruction count, then its
/// instructions (`struct sock_filter`: code, jt, jf, k).
fn seccomp_list(programs: &[&[(u16, u8, u8, u32)]]) -> Vec<u8> {
    let mut out = Vec::new();
    for program in programs {
        out.extend_from_slice(&u32::try_from(program.len()).unwrap().to_le_bytes());
        for (code, jt, jf, k) in *program {
            out.extend_from_slice(&code.to_ne_bytes());
            out.push(*jt);
            out.push(*jf);
            out.extend_from_slice(&k.to_ne_bytes());
        }
    }
    out
}

/// `ret SECCOMP_RET_ALLOW`.
const ALLOW_ALL: &[(u16, u8, u8, u32)] = &[(0x06, 0, 0, 0x7fff_0000)];

/// The calls vb-init makes, by qemu's names for the aarch64 numbers.
const CALLS: [&str; 12] = [
    "prctl",
    "capset",
    "pread64",
    "seccomp",
    "close",
    "kill",
    "rt_sigprocmask",
    "signalfd4",
    "wait4",
    "read",
    "write",
    "exit_group",
];

/// Under qemu: every call logged is one vb-init means to make, and
/// `expected` appear in this order.
fn assert_calls(outcome: &Outcome, expected: &[&str]) {
    let calls = outcome.calls();
    for call in &calls {
        assert!(
            CALLS.contains(call),
            "vb-init made {call}, which it never means to:\n{}",
            outcome.trace
        );
    }
    let mut rest = calls.iter();
    for want in expected {
        assert!(
            rest.any(|c| c == want),
            "{want} missing or out of order in:\n{}",
            outcome.trace
        );
    }
}

/// The lockdown as the command sees it once the ready pipe has ended: its
/// parent took the name it was given and holds no capability.
fn assert_locked_down(build: &Build, outcome: &Outcome) {
    let label = build.label();
    assert_eq!(outcome.seen("Name"), Some(NAME), "{label}: {outcome:#?}");
    for caps in ["CapInh", "CapPrm", "CapEff"] {
        assert_eq!(
            outcome.seen(caps),
            Some("0000000000000000"),
            "{label}: {caps}: {outcome:#?}"
        );
    }
}

#[test]
fn the_command_starts_after_the_lockdown_and_its_status_is_reported() {
    let _serial = serial();
    for build in builds("the_command_starts_after_the_lockdown_and_its_status_is_reported") {
        let label = build.label();
        let outcome = run(build, Part::Exit(42), None, None);
        assert_locked_down(build, &outcome);
        assert_eq!(
            outcome.status,
            status_bytes(exited(42)),
            "{label}: {outcome:#?}"
        );
        assert_eq!(outcome.exit_code(), Some(42), "{label}: {outcome:#?}");
        // vb-init reaped the command itself.
        assert_eq!(outcome.orphan, None, "{label}: {outcome:#?}");
        if build.emulated() {
            assert!(outcome.trace.contains("prctl(15,"), "{}", outcome.trace);
            assert!(outcome.trace.contains("prctl(4,0,"), "{}", outcome.trace);
            assert_calls(
                &outcome,
                &[
                    "prctl",
                    "prctl",
                    "capset",
                    "close",
                    "rt_sigprocmask",
                    "signalfd4",
                    "wait4",
                    "write",
                    "exit_group",
                ],
            );
        }
    }
}

#[test]
fn an_empty_seccomp_list_is_accepted() {
    let _serial = serial();
    for build in builds("an_empty_seccomp_list_is_accepted") {
        let label = build.label();
        let outcome = run(build, Part::Exit(3), Some(memfd(&[])), None);
        assert_locked_down(build, &outcome);
        assert_eq!(outcome.seen("Seccomp"), Some("0"), "{label}: {outcome:#?}");
        assert_eq!(
            outcome.status,
            status_bytes(exited(3)),
            "{label}: {outcome:#?}"
        );
        assert_eq!(outcome.exit_code(), Some(3), "{label}: {outcome:#?}");
        if build.emulated() {
            assert_calls(&outcome, &["capset", "pread64", "close", "close", "wait4"]);
        }
    }
}

#[test]
fn seccomp_programs_are_loaded_before_the_command_starts() {
    const TEST: &str = "seccomp_programs_are_loaded_before_the_command_starts";
    let _serial = serial();
    let list = seccomp_list(&[ALLOW_ALL, ALLOW_ALL]);
    for build in builds(TEST) {
        let label = build.label();
        let outcome = run(build, Part::Exit(0), Some(memfd(&list)), None);
        let loaded = if build.emulated() {
            // qemu logs the call as the kernel would get it: filter mode,
            // no flags, for each program until one is refused.
            let line = outcome
                .trace
                .lines()
                .find(|l| l.contains(" seccomp("))
                .unwrap_or_else(|| panic!("{label}: no seccomp call:\n{}", outcome.trace));
            assert!(line.contains(" seccomp(1,0,"), "{label}: {line}");
            let loaded = line.ends_with(" = 0");
            if !loaded {
                skip_line(
                    &format!("{TEST} (aarch64 under qemu, loading)"),
                    &format!(
                        "qemu-user refuses seccomp ({line}); checked the call and that the refusal kills the command"
                    ),
                );
            }
            loaded
        } else {
            true
        };
        if loaded {
            assert_locked_down(build, &outcome);
            assert_eq!(outcome.seen("Seccomp"), Some("2"), "{label}: {outcome:#?}");
            if let Some(filters) = outcome.seen("Seccomp_filters") {
                assert_eq!(filters, "2", "{label}: {outcome:#?}");
            }
            assert_eq!(outcome.status, status_bytes(0), "{label}: {outcome:#?}");
            assert_eq!(outcome.exit_code(), Some(0), "{label}: {outcome:#?}");
        } else {
            assert_refused(build, "a refused seccomp call", &outcome);
        }
    }
}

/// A refused start: vb-init killed the command before letting it run,
/// reported no status, and exited with 127.
fn assert_refused(build: &Build, what: &str, outcome: &Outcome) {
    let label = format!("{}, {what}", build.label());
    assert_eq!(outcome.seen, "", "{label}: the command ran: {outcome:#?}");
    assert_eq!(outcome.status, b"", "{label}: {outcome:#?}");
    assert_eq!(outcome.exit_code(), Some(127), "{label}: {outcome:#?}");
    assert_eq!(
        outcome.orphan,
        Some(libc::SIGKILL),
        "{label}: the command must be killed: {outcome:#?}"
    );
}

#[test]
fn a_malformed_seccomp_list_kills_the_command_and_fails() {
    let _serial = serial();
    let valid = seccomp_list(&[ALLOW_ALL]);
    let mut too_long = 4097u32.to_le_bytes().to_vec();
    too_long.extend(std::iter::repeat_n(0u8, 4097 * 8));
    let cases: [(&str, Vec<u8>); 5] = [
        ("a program of no instruction", 0u32.to_le_bytes().to_vec()),
        ("a program longer than BPF_MAXINSNS", too_long),
        ("a program cut short", valid[..valid.len() - 1].to_vec()),
        ("a count cut short", [valid.as_slice(), &[1, 0]].concat()),
        (
            "a program the kernel refuses",
            // A jump past the end, and no return: the kernel's checker
            // refuses it (after the first program loaded, natively).
            seccomp_list(&[ALLOW_ALL, &[(0x15, 5, 5, 0)]]),
        ),
    ];
    for build in builds("a_malformed_seccomp_list_kills_the_command_and_fails") {
        for (what, list) in &cases {
            let outcome = run(build, Part::Exit(0), Some(memfd(list)), None);
            assert_refused(build, what, &outcome);
        }
    }
}

#[test]
fn an_unreadable_seccomp_descriptor_kills_the_command_and_fails() {
    let _serial = serial();
    for build in builds("an_unreadable_seccomp_descriptor_kills_the_command_and_fails") {
        // Open for writing only: pread fails (EBADF), which must not pass
        // for an empty list.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .unwrap();
        let outcome = run(build, Part::Exit(0), Some(file.into()), None);
        assert_refused(build, "a write-only descriptor", &outcome);
    }
}

#[test]
fn a_signal_reaches_a_command_that_leads_no_group() {
    let _serial = serial();
    for build in builds("a_signal_reaches_a_command_that_leads_no_group") {
        let label = build.label();
        let outcome = run(build, Part::AwaitSignal, None, Some(libc::SIGTERM));
        assert_locked_down(build, &outcome);
        assert_eq!(
            outcome.status,
            status_bytes(libc::SIGTERM),
            "{label}: {outcome:#?}"
        );
        assert_eq!(
            outcome.exit_code(),
            Some(128 + libc::SIGTERM),
            "{label}: {outcome:#?}"
        );
        assert_eq!(outcome.orphan, None, "{label}: {outcome:#?}");
        if build.emulated() {
            assert_calls(&outcome, &["signalfd4", "read", "kill", "kill", "wait4"]);
        }
    }
}

#[test]
fn a_signal_reaches_the_process_group_the_command_leads() {
    let _serial = serial();
    for build in builds("a_signal_reaches_the_process_group_the_command_leads") {
        let label = build.label();
        let outcome = run(build, Part::GroupAwaitsSignal, None, Some(libc::SIGTERM));
        assert_locked_down(build, &outcome);
        let code = 100 + libc::SIGTERM;
        assert_eq!(
            outcome.status,
            status_bytes(exited(code)),
            "{label}: {outcome:#?}"
        );
        assert_eq!(outcome.exit_code(), Some(code), "{label}: {outcome:#?}");
    }
}

#[test]
fn bad_arguments_exit_127_and_report_nothing() {
    let _serial = serial();
    // STATUS-FD 1: what vb-init reports lands on its standard output.
    let bad: [&[&str]; 8] = [
        &[],
        &["", "1", "-1", "-1"],
        &["2", "1", "-1"],
        &["2", "1", "-1", "-1", "-1"],
        &["2x", "1", "-1", "-1"],
        &["1", "1", "-1", "-1"],
        &["-", "1", "-1", "-1"],
        &["12345678901", "1", "-1", "-1"],
    ];
    for build in builds("bad_arguments_exit_127_and_report_nothing") {
        let label = build.label();
        let (path, args) = build.command_line();
        // vb-init's exit code and standard output.
        let run = |tail: &[&str]| -> (Option<i32>, Vec<u8>) {
            let mut cmd = Command::new(&path);
            let mut args = args.iter().map(|a| OsStr::from_bytes(a.as_bytes()));
            if let Build::Native(_) = build {
                use std::os::unix::process::CommandExt;
                cmd.arg0(args.next().unwrap());
            } else {
                args.next();
            }
            cmd.args(args)
                .args(tail)
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().unwrap();
            let stdout = OwnedFd::from(child.stdout.take().unwrap());
            let deadline = Instant::now() + DEADLINE;
            let out = read_to_end(&stdout, deadline);
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break Some(status);
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(2));
            };
            let (Some(out), Some(status)) = (out, status) else {
                panic!("{label}: {tail:?}: vb-init did not exit in time");
            };
            (status.code(), out)
        };
        for tail in bad {
            assert_eq!(run(tail), (Some(127), vec![]), "{label}: {tail:?}");
        }
        // Well-formed, with no child at all: the end of the command (whose
        // status is then unknown, reported as exit 1).
        let good = run(&["2", "1", "-1", "-1"]);
        assert_eq!(good, (Some(1), status_bytes(exited(1))), "{label}");
    }
}
