//! Shared helpers for voidbox's integration suites.
//!
//! The suites run twice under `cargo xtask integration`: as root and as an
//! unprivileged user. A test that needs something the current run lacks calls
//! [`skip`], which prints `SKIP <test>: <reason>` to stderr and returns
//! `true`, so no test passes silently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod bpf;

use std::collections::BTreeSet;
use std::ffi::{CString, OsStr};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The options of a minimal system for a sandboxed shell, coreutils and
/// python3: the host's `/usr` read-only and the merged-`/usr` links.
pub const HOST_USR: &[&str] = &[
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/bin",
    "/bin",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--symlink",
    "usr/sbin",
    "/sbin",
];

/// A fresh directory `vb-{suite}-{name}-{pid}` in the temporary directory,
/// writable by every user (mode 0777), so a sandbox run as uid 65534 can use
/// it too.
pub fn shared_tempdir(suite: &str, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("vb-{suite}-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// Write `text` to `path` with raw calls (safe between fork and exec).
fn write_file_raw(path: &CString, text: &CString) -> std::io::Result<()> {
    // SAFETY: open/write/close on prepared NUL-terminated strings.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let bytes = text.as_bytes();
        let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        libc::close(fd);
        if usize::try_from(n).ok() != Some(bytes.len()) {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Execute a compiled vb-fs plan through the library in a forked child with
/// its own mount namespace (and user namespace when unprivileged), as an
/// embedder that forks itself would, then run `script` there: its stdout, or
/// why it failed (the exit status and both streams, or the setup error).
pub fn run_plan_in_child(plan: Arc<vb_fs::MountPlan>, script: &str) -> Result<String, String> {
    let root = is_root();
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    let maps = [
        (c"/proc/self/setgroups".to_owned(), c"deny".to_owned()),
        (
            c"/proc/self/uid_map".to_owned(),
            CString::new(format!("{uid} {uid} 1")).unwrap(),
        ),
        (
            c"/proc/self/gid_map".to_owned(),
            CString::new(format!("{gid} {gid} 1")).unwrap(),
        ),
    ];
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(script).current_dir("/");
    // SAFETY: the closure only makes system calls on data prepared before
    // the fork (the compiled plan executes without allocating).
    unsafe {
        cmd.pre_exec(move || {
            let flags = if root {
                libc::CLONE_NEWNS
            } else {
                libc::CLONE_NEWUSER | libc::CLONE_NEWNS
            };
            if libc::unshare(flags) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if !root {
                for (path, text) in &maps {
                    write_file_raw(path, text)?;
                }
            }
            plan.execute(&vb_fs::RealSys)
                .map_err(|f| std::io::Error::from_raw_os_error(f.errno))
        });
    }
    let out = cmd.output().map_err(|e| format!("setup failed: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "status {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether the suite runs as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The command of the signal-storm tests: it ignores the signals pid 1
/// forwards, says `ready`, then makes 1000 short-lived children and orphans
/// (which pid 1 inherits) while the storm runs, and finally reports the
/// zombies left in its PID namespace (`zombies=N`) before exiting 3. Needs
/// `/proc` and `/dev` in the sandbox.
pub const STORM_SCRIPT: &str = "trap '' HUP USR1 USR2 WINCH URG; echo ready; \
    i=0; while [ $i -lt 500 ]; do /bin/true & ( /bin/true & ) ; i=$((i+1)); done; wait; \
    for t in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do \
      z=$(ps -e -o stat= | grep -c '^Z'); [ \"$z\" = 0 ] && break; sleep 0.1; done; \
    echo zombies=$z; exit 3";

/// 1000 signals of the kinds pid 1 handles, forwards or ignores, sent to
/// `pid` as fast as they go.
pub fn signal_storm(pid: i32) {
    let kinds = [
        libc::SIGHUP,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGWINCH,
        libc::SIGCHLD,
        libc::SIGCONT,
        libc::SIGURG,
    ];
    for i in 0..1000 {
        // SAFETY: signalling a process the calling test started.
        unsafe { libc::kill(pid, kinds[i % kinds.len()]) };
    }
}

/// Print a SKIP line for `test` and return `true`.
///
/// The line goes straight to file descriptor 2: libtest captures `eprintln!`
/// of passing tests, and a skip must never be silent.
pub fn skip(test: &str, reason: &str) -> bool {
    let line = format!("SKIP {test}: {reason}\n");
    let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
    true
}

/// Skip `test` unless running as root.
pub fn needs_root(test: &str) -> bool {
    !is_root() && skip(test, "needs root")
}

/// Whether user namespaces can be created by this process.
pub fn userns_available() -> bool {
    std::fs::read_to_string("/proc/sys/user/max_user_namespaces").is_ok_and(|s| s.trim() != "0")
}

/// Skip `test` when user namespaces are unavailable.
pub fn needs_userns(test: &str) -> bool {
    !userns_available() && skip(test, "user namespaces are disabled on this host")
}

/// The directory of the build this test program belongs to: the test
/// programs are in its `deps` folder, beside `vb` and `examples/` (wherever
/// the target directory and target tuple put it).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test program's path");
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .expect("a test program inside a build directory")
}

/// Whether processes `a` and `b` share one address space (`CLONE_VM`), as
/// `kcmp(KCMP_VM)` tells; false too when the caller may not compare them.
pub fn share_memory(a: i32, b: i32) -> bool {
    const KCMP_VM: libc::c_long = 1;
    // SAFETY: kcmp compares kernel objects of two processes; no memory is
    // passed.
    let r = unsafe { libc::syscall(libc::SYS_kcmp, a, b, KCMP_VM, 0, 0) };
    r == 0
}

/// The `vb` binary: `$VB_BIN`, else the build's `vb` beside this test
/// program.
pub fn vb_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("VB_BIN") {
        return p.into();
    }
    let bin = profile_dir().join("vb");
    assert!(
        bin.exists(),
        "{} missing: build it with `cargo build -p vb-cli` or set VB_BIN",
        bin.display()
    );
    bin
}

/// An example program of the voidbox crate: `$VB_EXAMPLES/NAME`, else the
/// build's `examples/` beside this test program (`cargo build -p voidbox --examples`).
pub fn example_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("VB_EXAMPLES")
        .map_or_else(|| profile_dir().join("examples"), PathBuf::from);
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} missing: build it with `cargo build -p voidbox --examples` or set VB_EXAMPLES",
        bin.display()
    );
    bin
}

/// `vb` with `args`, stdin from /dev/null.
pub fn vb<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(vb_bin());
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// Run `vb` with `args` and capture everything.
pub fn run_vb<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    vb(args).output().expect("run vb")
}

/// stdout of an output, trimmed.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// stderr of an output, trimmed.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_owned()
}

/// The inode of `/proc/self/ns/<name>` of this process.
pub fn host_ns(name: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/self/ns/{name}"))
        .unwrap()
        .ino()
}

/// The mount table of this process's mount namespace, as a set of
/// `mount-point fstype` lines.
pub fn mount_table() -> BTreeSet<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(|l| {
            let fields: Vec<&str> = l.split(' ').collect();
            let sep = fields
                .iter()
                .position(|f| *f == "-")
                .unwrap_or(fields.len());
            format!(
                "{} {}",
                fields.get(4).unwrap_or(&""),
                fields.get(sep + 1).unwrap_or(&"")
            )
        })
        .collect()
}

/// Pids of processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(marker) {
            found.push(pid);
        }
    }
    found
}

/// The environment variable the suites put on `vb` (and so on every process
/// of the sandbox, which inherits it) to find them later.
pub const MARK_VAR: &str = "VB_TEST_MARK";

/// Pids of processes whose environment has `MARK_VAR=marker`.
pub fn processes_with_env(marker: &str) -> Vec<i32> {
    let needle = format!("{MARK_VAR}={marker}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == needle.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

/// Whether process `pid` still runs: a zombie counts as gone. Its parent may
/// be an init that reaps late (or never, when the suite itself runs as pid 1
/// of a container), and a zombie holds no memory, descriptor or mount.
pub fn process_alive(pid: impl std::fmt::Display) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which ends at the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

/// A marker (see [`MARK_VAR`]) that kills every process still carrying it when
/// dropped — also when the test fails first — so a failing test leaves no
/// sandbox running.
#[derive(Debug)]
pub struct Marked(String);

impl Marked {
    /// A fresh marker for `test`.
    pub fn new(test: &str) -> Self {
        Self(marker(test))
    }
}

impl std::ops::Deref for Marked {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Marked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Drop for Marked {
    fn drop(&mut self) {
        for pid in processes_with_env(&self.0) {
            // SAFETY: SIGKILL to processes this test started (they carry its
            // unique marker in their environment).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Wait until `cond` holds or `timeout` passes; whether it held.
pub fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A unique marker for process names in one test.
pub fn marker(test: &str) -> String {
    format!("vbmark-{test}-{}-{}", std::process::id(), rand_u32())
}

fn rand_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.subsec_nanos() ^ std::process::id().rotate_left(16)
}

/// Run `f` on a thread and fail the test if it does not finish in `limit`.
pub fn with_watchdog<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("watchdog: not finished within {limit:?} (hang)")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("watchdog: the watched code panicked")
        }
    }
}

/// Give the command started by `cmd` descriptor `target` as a copy of
/// `source` for each pair (`source` is read in the child after its standard
/// streams are set up, so `1` means the child's stdout). Sources are first
/// copied above every target, so pairs may overlap.
pub fn with_fds<'c>(cmd: &'c mut Command, pairs: &[(i32, i32)]) -> &'c mut Command {
    use std::os::unix::process::CommandExt;
    let pairs = pairs.to_vec();
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe system calls (fcntl, dup2, close) on integers.
    unsafe {
        cmd.pre_exec(move || {
            let mut copies = [-1; 16];
            for (slot, (_, source)) in copies.iter_mut().zip(&pairs) {
                *slot = libc::fcntl(*source, libc::F_DUPFD_CLOEXEC, 100);
                if *slot < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (copy, (target, _)) in copies.iter().zip(&pairs) {
                if libc::dup2(*copy, *target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(*copy);
            }
            Ok(())
        })
    }
}

/// A process holding namespaces made by util-linux `unshare`, killed on drop.
#[derive(Debug)]
pub struct NsHolder(std::process::Child);

impl NsHolder {
    /// Start `unshare FLAGS /bin/sleep 1000` and wait until it runs.
    pub fn start(flags: &[&str]) -> Self {
        let child = std::process::Command::new("unshare")
            .args(flags)
            .args(["/bin/sleep", "1000"])
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        // `unshare` (and with --fork its child) execs sleep once set up.
        assert!(eventually(Duration::from_secs(10), || {
            let comm =
                |p: u32| std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            let child_pid = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .ok()
                .and_then(|c| c.split_whitespace().next().and_then(|p| p.parse().ok()));
            comm(pid).trim() == "sleep" || child_pid.is_some_and(|c| comm(c).trim() == "sleep")
        }));
        Self(child)
    }

    /// The holder's namespace `name` (of its forked child with `--fork`).
    pub fn ns(&self, name: &str) -> std::sync::Arc<std::os::fd::OwnedFd> {
        let pid = self.0.id();
        let target = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .ok()
            .and_then(|c| c.split_whitespace().next().map(str::to_owned))
            .unwrap_or_else(|| pid.to_string());
        let file = std::fs::File::open(format!("/proc/{target}/ns/{name}")).unwrap();
        std::sync::Arc::new(file.into())
    }
}

impl Drop for NsHolder {
    fn drop(&mut self) {
        // With --fork the sleep is unshare's child, pid 1 of the namespace.
        let pid = self.0.id();
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            for child in children
                .split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok())
            {
                // SAFETY: signalling a process this test started.
                unsafe { libc::kill(child, libc::SIGKILL) };
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
