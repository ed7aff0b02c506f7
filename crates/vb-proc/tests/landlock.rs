//! Landlock plans applied in a child the test forks itself: the plan and the
//! checks are prepared before the fork; the child sets `no_new_privs`,
//! applies the plan, runs the checks with system calls only and reports each
//! one's errno (0 when allowed) on a pipe.
//!
//! Landlock needs no privilege: these tests run as root and as an
//! unprivileged user alike, and print a SKIP line when the kernel lacks
//! Landlock (or, for the TCP tests, ABI 4).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::CString;
use std::io::Read;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use vb_proc::StepFailure;
use vb_proc::landlock::{Enforcement, LandlockPlan, LandlockSpec, LandlockStep, PathRule};

const EACCES: i32 = libc::EACCES;

/// What the child tries once restricted.
enum Check {
    /// `open(path, flags)`; for a read-write open, also write a byte and
    /// read.
    Open(CString, libc::c_int),
    /// `mkdir(path)`.
    Mkdir(CString),
    /// `truncate(path, 0)`.
    Truncate(CString),
    /// Fork and `execve(path)`: 0 when the program ran and exited 0.
    Exec(CString),
    /// `connect` a TCP socket to the address.
    Connect(libc::sockaddr_in),
    /// `bind` a TCP socket to the address.
    Bind(libc::sockaddr_in),
}

fn c(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

fn read(path: &Path) -> Check {
    Check::Open(c(path), libc::O_RDONLY)
}

fn write(path: &Path) -> Check {
    Check::Open(c(path), libc::O_WRONLY)
}

fn create(path: &Path) -> Check {
    Check::Open(c(path), libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL)
}

fn list(path: &Path) -> Check {
    Check::Open(c(path), libc::O_RDONLY | libc::O_DIRECTORY)
}

fn loopback(port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::sa_family_t::try_from(libc::AF_INET).unwrap(),
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
        },
        sin_zero: [0; 8],
    }
}

const MAX_CHECKS: usize = 32;
/// The report: a tag (0 applied, 1 apply failed, 2 no_new_privs failed),
/// then step, index, errno of a failure, then one errno per check.
const REPORT: usize = 4 + MAX_CHECKS;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// In the child: one check's errno. System calls only.
fn run_check(check: &Check) -> i32 {
    let sockaddr_len = libc::socklen_t::try_from(size_of::<libc::sockaddr_in>()).unwrap_or(0);
    // SAFETY: every call gets prepared C strings, stack buffers or the
    // descriptors it just opened.
    unsafe {
        match check {
            Check::Open(path, flags) => {
                let fd = libc::open(path.as_ptr(), flags | libc::O_CLOEXEC, 0o600);
                if fd < 0 {
                    return errno();
                }
                let mut result = 0;
                if flags & libc::O_ACCMODE == libc::O_RDWR {
                    let mut byte = [0u8; 1];
                    if libc::write(fd, b"x".as_ptr().cast(), 1) != 1
                        || libc::read(fd, byte.as_mut_ptr().cast(), 1) < 0
                    {
                        result = errno();
                    }
                }
                libc::close(fd);
                result
            }
            Check::Mkdir(path) => {
                if libc::mkdir(path.as_ptr(), 0o700) == 0 {
                    0
                } else {
                    errno()
                }
            }
            Check::Truncate(path) => {
                if libc::truncate(path.as_ptr(), 0) == 0 {
                    0
                } else {
                    errno()
                }
            }
            Check::Exec(path) => {
                let pid = libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0);
                if pid == 0 {
                    let argv = [path.as_ptr(), std::ptr::null()];
                    let envp = [std::ptr::null::<libc::c_char>()];
                    libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
                    libc::_exit(errno());
                }
                if pid < 0 {
                    return errno();
                }
                let mut status = 0;
                libc::waitpid(libc::pid_t::try_from(pid).unwrap_or(-1), &mut status, 0);
                if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    -1
                }
            }
            Check::Connect(addr) | Check::Bind(addr) => {
                let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
                if fd < 0 {
                    return errno();
                }
                let addr: *const libc::sockaddr = std::ptr::from_ref(addr).cast();
                let ret = if matches!(check, Check::Connect(_)) {
                    libc::connect(fd, addr, sockaddr_len)
                } else {
                    libc::bind(fd, addr, sockaddr_len)
                };
                let result = if ret == 0 { 0 } else { errno() };
                libc::close(fd);
                result
            }
        }
    }
}

/// Fork; in the child set `no_new_privs`, apply `plan` and run `checks`.
/// Returns each check's errno, or the child's apply failure.
fn restricted(plan: &LandlockPlan, checks: &[Check]) -> Result<Vec<i32>, StepFailure> {
    restricted_with(plan, checks, true)
}

/// [`restricted`], setting `no_new_privs` first only when `nnp`.
fn restricted_with(
    plan: &LandlockPlan,
    checks: &[Check],
    nnp: bool,
) -> Result<Vec<i32>, StepFailure> {
    assert!(checks.len() <= MAX_CHECKS);
    let (read_end, write_end) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let out_fd = write_end.as_raw_fd();
    // SAFETY: a raw fork; the child below only makes system calls on data
    // prepared above and then _exits.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let mut report = [0i32; REPORT];
        // SAFETY: prctl with integer arguments.
        if nnp && unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            report[0] = 2;
            report[3] = errno();
        } else {
            match plan.apply() {
                Err(failure) => {
                    report[0] = 1;
                    report[1] = i32::try_from(failure.step).unwrap_or(-1);
                    report[2] = i32::try_from(failure.index).unwrap_or(-1);
                    report[3] = failure.errno;
                }
                Ok(()) => {
                    for (slot, check) in report[4..].iter_mut().zip(checks) {
                        *slot = run_check(check);
                    }
                }
            }
        }
        let mut bytes = [0u8; REPORT * 4];
        for (chunk, value) in bytes.chunks_exact_mut(4).zip(report) {
            chunk.copy_from_slice(&value.to_ne_bytes());
        }
        // SAFETY: write the stack buffer to the pipe, then leave without
        // running anything of the parent's.
        unsafe {
            libc::write(out_fd, bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
    }
    drop(write_end);
    let mut bytes = Vec::new();
    std::fs::File::from(read_end)
        .read_to_end(&mut bytes)
        .unwrap();
    let mut status = 0;
    // SAFETY: waiting for the child forked above.
    unsafe { libc::waitpid(libc::pid_t::try_from(pid).unwrap(), &mut status, 0) };
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    assert_eq!(bytes.len(), REPORT * 4, "short report from the child");
    let report: Vec<i32> = bytes
        .chunks_exact(4)
        .map(|b| i32::from_ne_bytes(b.try_into().unwrap()))
        .collect();
    match report[0] {
        0 => Ok(report[4..4 + checks.len()].to_vec()),
        1 => Err(StepFailure::new(
            u32::try_from(report[1]).unwrap(),
            u32::try_from(report[2]).unwrap(),
            report[3],
        )),
        _ => panic!("no_new_privs: errno {}", report[3]),
    }
}

/// The plan for `spec`, or `None` after a SKIP line when the kernel cannot
/// enforce all of it.
fn full_plan(test: &str, spec: &LandlockSpec) -> Option<LandlockPlan> {
    let plan = LandlockPlan::prepare(spec).unwrap();
    match plan.enforcement() {
        Enforcement::Full => Some(plan),
        other => {
            let line = format!("SKIP {test}: {other}\n");
            let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
            None
        }
    }
}

/// A directory of its own under the temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vb-landlock-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn dir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn file(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const TRUE: &str = "/usr/bin/true";

#[test]
fn path_rules_grant_what_they_name_and_nothing_else() {
    let t = Scratch::new();
    let ro = t.dir("ro");
    let rw = t.dir("rw");
    let exec = t.dir("exec");
    let outside = t.dir("outside");
    let ro_file = t.file("ro/file", "read only");
    let rw_file = t.file("rw/file", "read write");
    let out_file = t.file("outside/file", "outside");
    std::fs::copy(TRUE, exec.join("true")).unwrap();
    std::fs::copy(TRUE, outside.join("true")).unwrap();
    let spec = LandlockSpec {
        paths: vec![
            PathRule::read_only("/usr"),
            PathRule::read_only(&ro),
            PathRule::read_write(&rw),
            PathRule::execute(&exec),
        ],
        ..LandlockSpec::default()
    };
    let Some(plan) = full_plan("path_rules_grant_what_they_name_and_nothing_else", &spec) else {
        return;
    };
    let checks = [
        // Read-only: read, list, but no write or create.
        (read(&ro_file), 0, "read under ro"),
        (list(&ro), 0, "list an ro directory"),
        (write(&ro_file), EACCES, "write under ro"),
        (create(&ro.join("new")), EACCES, "create under ro"),
        (Check::Truncate(c(&ro_file)), EACCES, "truncate under ro"),
        // Read-write: everything.
        (read(&rw_file), 0, "read under rw"),
        (
            Check::Open(c(&rw_file), libc::O_WRONLY | libc::O_TRUNC),
            0,
            "write and truncate under rw",
        ),
        (create(&rw.join("new")), 0, "create under rw"),
        (Check::Mkdir(c(&rw.join("dir"))), 0, "mkdir under rw"),
        (Check::Truncate(c(&rw_file)), 0, "truncate under rw"),
        // Outside every rule: nothing.
        (read(&out_file), EACCES, "read outside"),
        (list(&outside), EACCES, "list outside"),
        (create(&outside.join("new")), EACCES, "create outside"),
        (
            Check::Mkdir(c(&outside.join("dir"))),
            EACCES,
            "mkdir outside",
        ),
        (Check::Truncate(c(&out_file)), EACCES, "truncate outside"),
        (
            read(Path::new("/etc/passwd")),
            EACCES,
            "read a host file outside",
        ),
        // Execute: read-only trees run their programs; exec trees run and
        // read theirs but are not listed; others run nothing.
        (Check::Exec(c(Path::new(TRUE))), 0, "exec under ro /usr"),
        (Check::Exec(c(&exec.join("true"))), 0, "exec under exec"),
        (read(&exec.join("true")), 0, "read under exec"),
        (list(&exec), EACCES, "list an exec directory"),
        (
            Check::Exec(c(&outside.join("true"))),
            EACCES,
            "exec outside",
        ),
        // /dev/null stays usable, truncating open included.
        (
            Check::Open(c(Path::new("/dev/null")), libc::O_RDWR | libc::O_TRUNC),
            0,
            "/dev/null read-write",
        ),
    ];
    let (checks, expected): (Vec<Check>, Vec<(i32, &str)>) = checks
        .into_iter()
        .map(|(c, e, what)| (c, (e, what)))
        .unzip();
    let got = restricted(&plan, &checks).unwrap();
    for (errno, (want, what)) in got.iter().zip(&expected) {
        assert_eq!(errno, want, "{what}: errno {errno}, expected {want}");
    }
    // What the child did shows from outside.
    assert!(rw.join("new").exists() && rw.join("dir").is_dir());
    assert!(!outside.join("new").exists() && !ro.join("new").exists());
    assert_eq!(std::fs::read_to_string(&ro_file).unwrap(), "read only");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "outside");
}

#[test]
fn a_missing_path_fails_with_enoent_and_its_rule_index() {
    let t = Scratch::new();
    let missing = t.path("not-there");
    let spec = LandlockSpec {
        paths: vec![PathRule::read_only("/usr"), PathRule::read_write(&missing)],
        ..LandlockSpec::default()
    };
    let Some(plan) = full_plan("a_missing_path_fails_with_enoent_and_its_rule_index", &spec) else {
        return;
    };
    let failure = restricted(&plan, &[]).unwrap_err();
    assert_eq!(
        LandlockStep::from_u32(failure.step),
        Some(LandlockStep::OpenPath)
    );
    assert_eq!(failure.errno, libc::ENOENT);
    assert_eq!(plan.path(failure.index), Some(missing.as_path()));
}

#[test]
fn a_file_rule_grants_file_rights_only() {
    let t = Scratch::new();
    let file = t.file("file", "content");
    let other = t.file("other", "other");
    let spec = LandlockSpec {
        paths: vec![PathRule::read_write(&file)],
        ..LandlockSpec::default()
    };
    let Some(plan) = full_plan("a_file_rule_grants_file_rights_only", &spec) else {
        return;
    };
    let got = restricted(
        &plan,
        &[
            Check::Open(c(&file), libc::O_RDWR),
            read(&other),
            Check::Open(c(Path::new("/dev/null")), libc::O_RDWR),
        ],
    )
    .unwrap();
    assert_eq!(got, [0, EACCES, 0]);
}

#[test]
fn tcp_connect_rules_allow_listed_ports_only() {
    let allowed = TcpListener::bind("127.0.0.1:0").unwrap();
    let denied = TcpListener::bind("127.0.0.1:0").unwrap();
    let allowed_port = allowed.local_addr().unwrap().port();
    let denied_port = denied.local_addr().unwrap().port();
    let spec = LandlockSpec {
        tcp_connect: vec![allowed_port],
        ..LandlockSpec::default()
    };
    let Some(plan) = full_plan("tcp_connect_rules_allow_listed_ports_only", &spec) else {
        return;
    };
    let got = restricted(
        &plan,
        &[
            Check::Connect(loopback(allowed_port)),
            Check::Connect(loopback(denied_port)),
            // Binding is not handled without a bind port.
            Check::Bind(loopback(0)),
            // Nor is the filesystem without a path rule.
            read(Path::new("/etc/passwd")),
        ],
    )
    .unwrap();
    assert_eq!(got, [0, EACCES, 0, 0]);
}

#[test]
fn tcp_bind_rules_allow_listed_ports_only() {
    // Both ports are held by listeners of the test, so a bind in the child
    // can never succeed and no port can be taken by a concurrent test in
    // between. Landlock's check runs before the address is looked at: a
    // port it allows fails with EADDRINUSE, a port it denies with EACCES.
    let allowed = TcpListener::bind("127.0.0.1:0").unwrap();
    let denied = TcpListener::bind("127.0.0.1:0").unwrap();
    let allowed_port = allowed.local_addr().unwrap().port();
    let denied_port = denied.local_addr().unwrap().port();
    let spec = LandlockSpec {
        tcp_bind: vec![allowed_port],
        ..LandlockSpec::default()
    };
    let Some(plan) = full_plan("tcp_bind_rules_allow_listed_ports_only", &spec) else {
        return;
    };
    let got = restricted(
        &plan,
        &[
            Check::Bind(loopback(allowed_port)),
            Check::Bind(loopback(denied_port)),
            // An ephemeral port needs a rule for port 0.
            Check::Bind(loopback(0)),
            // Connecting is not handled without a connect port.
            Check::Connect(loopback(denied_port)),
        ],
    )
    .unwrap();
    assert_eq!(got, [libc::EADDRINUSE, EACCES, EACCES, 0]);
}

#[test]
fn bind_port_zero_allows_ephemeral_ports() {
    let spec = LandlockSpec {
        tcp_bind: vec![0],
        ..LandlockSpec::default()
    };
    let Some(plan) = full_plan("bind_port_zero_allows_ephemeral_ports", &spec) else {
        return;
    };
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    let got = restricted(
        &plan,
        &[Check::Bind(loopback(0)), Check::Bind(loopback(held_port))],
    )
    .unwrap();
    assert_eq!(got, [0, EACCES]);
}

#[test]
fn connect_port_zero_denies_every_connection() {
    let spec = LandlockSpec {
        tcp_connect: vec![0],
        ..LandlockSpec::default()
    };
    let Some(plan) = full_plan("connect_port_zero_denies_every_connection", &spec) else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = restricted(&plan, &[Check::Connect(loopback(port))]).unwrap();
    assert_eq!(got, [EACCES]);
}

#[test]
fn without_no_new_privs_restricting_fails_with_eperm() {
    let test = "without_no_new_privs_restricting_fails_with_eperm";
    if rustix::process::geteuid().is_root() {
        let line = format!(
            "SKIP {test}: root holds CAP_SYS_ADMIN, which lets Landlock restrict without no_new_privs\n"
        );
        let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
        return;
    }
    let spec = LandlockSpec {
        paths: vec![PathRule::read_only("/usr")],
        ..LandlockSpec::default()
    };
    let Some(plan) = full_plan(test, &spec) else {
        return;
    };
    let failure = restricted_with(&plan, &[], false).unwrap_err();
    assert_eq!(
        (LandlockStep::from_u32(failure.step), failure.errno),
        (Some(LandlockStep::RestrictSelf), libc::EPERM)
    );
}
