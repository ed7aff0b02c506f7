//! vb-cgroup against the real kernel: limits that are enforced, read back, and cleaned up.
//!
//! Each enforcement test forks a child that parks on a pipe, attaches it to a fresh sandbox
//! cgroup, releases it, and watches what the kernel lets it do. The child runs only
//! async-signal-safe calls (`read`, `write`, `fork`, `mmap`, `pause`, `clock_gettime`,
//! `_exit`), since the test binary is multi-threaded. Without root, or without the
//! controller a test needs, each test prints `SKIP <name>: <reason>` and returns.

// Helpers outside #[test] functions fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use vb_cgroup::{
    CgroupError, CgroupLayout, CgroupSpec, Controller, CpuMax, DEFAULT_PREFIX, InvalidLimit,
    LimitKind, ResourceLimits, SandboxCgroup, Warning, deny_warnings, sweep_stale,
    warning_count_clipped,
};

/// The enforcement tests measure CPU time and memory; running them one at a time keeps
/// them from skewing each other's numbers.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `sweep_stale` removes every dead owner's cgroups on the machine, and the SIGKILL test
/// kills an owner on purpose and checks its sandboxed process still runs before sweeping:
/// a sweep from a test running beside it in between would end that process first. The
/// tests that sweep take this lock.
static SWEEPS: Mutex<()> = Mutex::new(());

fn sweeping() -> std::sync::MutexGuard<'static, ()> {
    SWEEPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Prints a SKIP (or NOTE) line on the real stderr: libtest captures `eprintln!` of passing
/// tests, and a skip must be visible in a normal run.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn root_or_skip(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    say(&format!("SKIP {test}: needs root to create cgroups"));
    false
}

/// Creates a sandbox cgroup, or prints SKIP when a controller the test needs is missing.
fn create_or_skip(
    test: &str,
    limits: ResourceLimits,
    needs: &[Controller],
) -> Option<(SandboxCgroup, Vec<Warning>)> {
    let (cgroup, warnings) = SandboxCgroup::create(&CgroupSpec::new(limits)).unwrap();
    for warning in &warnings {
        if let Warning::ControllerUnavailable { controller, .. }
        | Warning::ControllerNotEnabled { controller, .. } = warning
            && needs.contains(controller)
        {
            say(&format!("SKIP {test}: {warning}"));
            return None;
        }
    }
    Some((cgroup, warnings))
}

fn paths_of(cgroup: &SandboxCgroup) -> Vec<PathBuf> {
    cgroup.dirs().iter().map(|d| d.path.to_path_buf()).collect()
}

fn assert_all_gone(paths: &[PathBuf]) {
    for path in paths {
        assert!(!path.exists(), "{} was left behind", path.display());
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .trim()
        .to_owned()
}

/// A `key value` line of a flat-keyed cgroup file (`cpu.stat`, `memory.events`, ...).
fn keyed(path: &Path, key: &str) -> u64 {
    read(path)
        .lines()
        .find_map(|line| {
            let (k, v) = line.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok()).flatten()
        })
        .unwrap_or_else(|| panic!("no {key} in {}", path.display()))
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Writes `words` to `fd` as native-endian i64s; async-signal-safe.
fn report(fd: RawFd, words: &[i64; 2]) {
    let bytes = words.as_ptr().cast::<libc::c_void>();
    // SAFETY: `words` is 16 readable bytes that outlive the call.
    let _ = unsafe { libc::write(fd, bytes, std::mem::size_of_val(words)) };
}

/// A forked child, parked until [`Parked::release`].
struct Parked {
    pid: i32,
    release: OwnedFd,
    results: OwnedFd,
}

fn park(body: fn(RawFd) -> !) -> Parked {
    let (release_r, release_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let (results_r, results_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    // SAFETY: the child only calls async-signal-safe functions (read, write, fork, mmap,
    // pause, clock_gettime, _exit) and never returns into Rust code that could allocate or
    // take a lock another thread held at fork time.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let mut byte = 0u8;
        // SAFETY: reads one byte into a live local.
        let n = unsafe { libc::read(release_r.as_raw_fd(), (&raw mut byte).cast(), 1) };
        if n != 1 {
            // SAFETY: _exit is async-signal-safe and does not return.
            unsafe { libc::_exit(99) };
        }
        body(results_w.as_raw_fd());
    }
    drop(release_r);
    drop(results_w);
    Parked {
        pid,
        release: release_w,
        results: results_r,
    }
}

impl Parked {
    fn release(&self) {
        assert_eq!(rustix::io::write(&self.release, &[1]).unwrap(), 1);
    }

    /// The child's two-word report, waiting at most `timeout`; `None` at EOF.
    fn results(&self, timeout: Duration) -> Option<[i64; 2]> {
        let mut pfd = libc::pollfd {
            fd: self.results.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = i32::try_from(timeout.as_millis()).unwrap();
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&raw mut pfd, 1, millis) };
        assert!(ready > 0, "the child did not report within {timeout:?}");
        let mut buf = [0u8; 16];
        let n = rustix::io::read(&self.results, &mut buf).unwrap();
        if n == 0 {
            return None;
        }
        assert_eq!(n, 16, "short report");
        let word = |i: usize| i64::from_ne_bytes(buf[i * 8..i * 8 + 8].try_into().unwrap());
        Some([word(0), word(1)])
    }

    /// Waits for the child; returns its wait status and rusage.
    fn wait(&self) -> (i32, libc::rusage) {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waits for our own child with valid out-pointers.
        let r = unsafe { libc::wait4(self.pid, &raw mut status, 0, &raw mut usage) };
        assert_eq!(r, self.pid, "wait4: {}", std::io::Error::last_os_error());
        (status, usage)
    }
}

/// Forks until the kernel refuses; reports how many forks succeeded and the errno.
fn fork_until_refused(out: RawFd) -> ! {
    let mut forked = 0i64;
    let mut err = 0i64;
    while forked < 64 {
        // SAFETY: the grandchild only pauses and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            loop {
                // SAFETY: pause is async-signal-safe; the cgroup's kill ends it.
                unsafe { libc::pause() };
            }
        }
        if pid < 0 {
            err = i64::from(errno());
            break;
        }
        forked += 1;
    }
    report(out, &[forked, err]);
    // SAFETY: _exit does not return.
    unsafe { libc::_exit(0) }
}

const MIB: usize = 1 << 20;

/// Touches every page of 64 MiB of fresh anonymous memory; reports only if it survives.
fn allocate_64m(out: RawFd) -> ! {
    let len = 64 * MIB;
    // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        report(out, &[-1, i64::from(errno())]);
        // SAFETY: _exit does not return.
        unsafe { libc::_exit(2) };
    }
    let base = p.cast::<u8>();
    for offset in (0..len).step_by(4096) {
        // SAFETY: offset < len, inside the mapping.
        unsafe { base.add(offset).write_volatile(1) };
    }
    report(out, &[0, 0]);
    // SAFETY: _exit does not return.
    unsafe { libc::_exit(0) }
}

fn monotonic() -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    ts
}

const BUSY_SECONDS: i64 = 2;

/// Spins for two seconds of wall time.
fn busy_loop(out: RawFd) -> ! {
    let start = monotonic();
    loop {
        let now = monotonic();
        let elapsed_ns =
            (now.tv_sec - start.tv_sec) * 1_000_000_000 + (now.tv_nsec - start.tv_nsec);
        if elapsed_ns >= BUSY_SECONDS * 1_000_000_000 {
            break;
        }
    }
    report(out, &[0, 0]);
    // SAFETY: _exit does not return.
    unsafe { libc::_exit(0) }
}

fn cpu_seconds(usage: &libc::rusage) -> f64 {
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[test]
fn pids_max_8_refuses_the_eighth_task_with_eagain() {
    let test = "pids_max_8_refuses_the_eighth_task_with_eagain";
    if !root_or_skip(test) {
        return;
    }
    let _serial = serial();
    let limits = ResourceLimits {
        pids_max: Some(8),
        ..ResourceLimits::default()
    };
    let Some((cgroup, warnings)) = create_or_skip(test, limits, &[Controller::Pids]) else {
        return;
    };
    assert_eq!(warnings, vec![]);
    let paths = paths_of(&cgroup);
    let child = park(fork_until_refused);
    assert_eq!(cgroup.attach(child.pid).unwrap(), vec![]);
    child.release();
    let [forked, err] = child.results(Duration::from_secs(20)).unwrap();
    let (status, _) = child.wait();
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    // The child is task 1; seven more fit, the eighth fork is refused.
    assert_eq!(forked, 7);
    assert_eq!(err, i64::from(libc::EAGAIN));
    // The seven paused grandchildren are still inside; remove() must kill them.
    cgroup.remove().unwrap();
    assert_all_gone(&paths);
}

#[test]
fn memory_max_32m_oom_kills_a_64m_allocation() {
    let test = "memory_max_32m_oom_kills_a_64m_allocation";
    if !root_or_skip(test) {
        return;
    }
    let _serial = serial();
    let limits = ResourceLimits {
        memory_max: Some(32 << 20),
        // Without a swap ceiling the allocation could be swapped out instead of killed.
        memory_swap_max: Some(0),
        ..ResourceLimits::default()
    };
    let Some((cgroup, warnings)) = create_or_skip(test, limits, &[Controller::Memory]) else {
        return;
    };
    assert_eq!(warnings, vec![], "swap must be limited too");
    let paths = paths_of(&cgroup);
    let memory_dir = cgroup.dir_of(Controller::Memory).unwrap().to_path_buf();
    let child = park(allocate_64m);
    cgroup.attach(child.pid).unwrap();
    child.release();
    assert_eq!(
        child.results(Duration::from_secs(30)),
        None,
        "the allocation survived"
    );
    let (status, _) = child.wait();
    assert!(libc::WIFSIGNALED(status), "status {status:#x}");
    assert_eq!(libc::WTERMSIG(status), libc::SIGKILL);
    // The kernel's own record says it was the OOM killer.
    let oom_kills = if memory_dir.join("memory.oom_control").exists() {
        keyed(&memory_dir.join("memory.oom_control"), "oom_kill")
    } else {
        keyed(&memory_dir.join("memory.events"), "oom_kill")
    };
    assert!(oom_kills >= 1, "no OOM kill recorded");
    cgroup.remove().unwrap();
    assert_all_gone(&paths);
}

#[test]
fn cpu_max_half_gives_a_busy_loop_about_half_a_cpu() {
    let test = "cpu_max_half_gives_a_busy_loop_about_half_a_cpu";
    if !root_or_skip(test) {
        return;
    }
    let _serial = serial();
    let limits = ResourceLimits {
        cpu_max: Some(CpuMax {
            quota_us: 50_000,
            period_us: 100_000,
        }),
        ..ResourceLimits::default()
    };
    let Some((cgroup, warnings)) = create_or_skip(test, limits, &[Controller::Cpu]) else {
        return;
    };
    assert_eq!(warnings, vec![]);
    let paths = paths_of(&cgroup);
    let cpu_dir = cgroup.dir_of(Controller::Cpu).unwrap().to_path_buf();
    let limited = park(busy_loop);
    // An unlimited twin running at the same time shows how much CPU the host had to give.
    let baseline = park(busy_loop);
    cgroup.attach(limited.pid).unwrap();
    // Both at the highest priority, so that other work on a shared host does not decide
    // the numbers; only the quota should hold the limited child back.
    for pid in [limited.pid, baseline.pid] {
        let id = libc::id_t::try_from(pid).unwrap();
        // SAFETY: changes the nice value of our own child; no memory is passed.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, id, -20) };
    }
    let start = Instant::now();
    limited.release();
    baseline.release();
    limited.results(Duration::from_secs(30)).unwrap();
    let (_, limited_usage) = limited.wait();
    let limited_wall = start.elapsed().as_secs_f64();
    baseline.results(Duration::from_secs(30)).unwrap();
    let (_, baseline_usage) = baseline.wait();
    let limited_share = cpu_seconds(&limited_usage) / limited_wall;
    let baseline_share = cpu_seconds(&baseline_usage) / BUSY_SECONDS as f64;
    eprintln!("cpu share: limited {limited_share:.2}, unlimited twin {baseline_share:.2}");
    assert!(
        limited_share <= 0.7,
        "limited share {limited_share:.2} > 0.7"
    );
    if baseline_share >= 0.75 {
        assert!(
            limited_share >= 0.3,
            "limited share {limited_share:.2} < 0.3"
        );
    } else {
        say(&format!(
            "NOTE {test}: host busy (unlimited twin got {baseline_share:.2}); lower bound not checked"
        ));
        assert!(limited_share < baseline_share);
    }
    let throttled = keyed(&cpu_dir.join("cpu.stat"), "nr_throttled");
    assert!(throttled > 0, "the kernel never throttled the sandbox");
    cgroup.remove().unwrap();
    assert_all_gone(&paths);
}

#[test]
fn limits_read_back_from_the_cgroup_files() {
    let test = "limits_read_back_from_the_cgroup_files";
    if !root_or_skip(test) {
        return;
    }
    let mut limits = ResourceLimits::default();
    limits
        .set(LimitKind::MemoryMax, "32M")
        .unwrap()
        .set(LimitKind::PidsMax, "8")
        .unwrap()
        .set(LimitKind::CpuMax, "50000/100000")
        .unwrap()
        .set(LimitKind::CpuWeight, "200")
        .unwrap();
    let needs = [Controller::Memory, Controller::Pids, Controller::Cpu];
    let Some((cgroup, warnings)) = create_or_skip(test, limits, &needs) else {
        return;
    };
    assert_eq!(warnings, vec![]);
    let paths = paths_of(&cgroup);
    let memory = cgroup.dir_of(Controller::Memory).unwrap();
    let pids = cgroup.dir_of(Controller::Pids).unwrap();
    let cpu = cgroup.dir_of(Controller::Cpu).unwrap();
    assert_eq!(read(&pids.join("pids.max")), "8");
    if memory.join("memory.limit_in_bytes").exists() {
        assert_eq!(read(&memory.join("memory.limit_in_bytes")), "33554432");
        assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "50000");
        assert_eq!(read(&cpu.join("cpu.cfs_period_us")), "100000");
        assert_eq!(read(&cpu.join("cpu.shares")), "2048");
    } else {
        assert_eq!(read(&memory.join("memory.max")), "33554432");
        assert_eq!(read(&cpu.join("cpu.max")), "50000 100000");
        assert_eq!(read(&cpu.join("cpu.weight")), "200");
    }
    // Every directory sits under the caller's own cgroup of its hierarchy.
    let layout = CgroupLayout::detect().unwrap();
    let callers = layout.caller_dirs();
    for path in &paths {
        assert!(
            callers.iter().any(|c| path.parent() == Some(*c)),
            "{} is not directly under a caller cgroup",
            path.display()
        );
    }
    cgroup.remove().unwrap();
    assert_all_gone(&paths);
}

#[test]
fn remove_kills_what_is_left_and_leaves_nothing() {
    let test = "remove_kills_what_is_left_and_leaves_nothing";
    if !root_or_skip(test) {
        return;
    }
    let limits = ResourceLimits {
        pids_max: Some(32),
        memory_max: Some(256 << 20),
        ..ResourceLimits::default()
    };
    let needs = [Controller::Pids, Controller::Memory];
    let Some((cgroup, _)) = create_or_skip(test, limits, &needs) else {
        return;
    };
    let paths = paths_of(&cgroup);
    let mut shell = Command::new("sh")
        .args(["-c", "sleep 300 & sleep 300 & wait"])
        .spawn()
        .unwrap();
    cgroup.attach(i32::try_from(shell.id()).unwrap()).unwrap();
    let started = Instant::now();
    cgroup.remove().unwrap();
    eprintln!("remove with live members took {:?}", started.elapsed());
    assert_eq!(shell.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert_all_gone(&paths);
}

#[test]
fn remove_follows_child_cgroups_made_inside_the_sandbox() {
    let test = "remove_follows_child_cgroups_made_inside_the_sandbox";
    if !root_or_skip(test) {
        return;
    }
    let limits = ResourceLimits {
        pids_max: Some(16),
        ..ResourceLimits::default()
    };
    let Some((cgroup, _)) = create_or_skip(test, limits, &[Controller::Pids]) else {
        return;
    };
    let paths = paths_of(&cgroup);
    let mut sleeper = Command::new("sleep").arg("300").spawn().unwrap();
    let pid = sleeper.id().to_string();
    cgroup.attach(i32::try_from(sleeper.id()).unwrap()).unwrap();
    // What a sandbox with a delegated cgroup namespace could do: nest, and move into it.
    for dir in &paths {
        let inner = dir.join("inner").join("deeper");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(inner.join("cgroup.procs"), &pid).unwrap();
        assert_eq!(
            read(&dir.join("cgroup.procs")),
            "",
            "the sleep moved out of {}",
            dir.display()
        );
    }
    cgroup.remove().unwrap();
    assert_eq!(sleeper.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert_all_gone(&paths);
}

#[test]
fn drop_without_remove_leaves_nothing() {
    let test = "drop_without_remove_leaves_nothing";
    if !root_or_skip(test) {
        return;
    }
    let limits = ResourceLimits {
        pids_max: Some(4),
        ..ResourceLimits::default()
    };
    let Some((cgroup, _)) = create_or_skip(test, limits, &[Controller::Pids]) else {
        return;
    };
    let paths = paths_of(&cgroup);
    assert!(paths.iter().all(|p| p.is_dir()));
    drop(cgroup);
    assert_all_gone(&paths);
}

const OWNER_HELPER_ENV: &str = "VB_CGROUP_TEST_OWNER_HELPER";

/// Not a test: the owner process of `sigkilled_owner_is_swept_by_the_next_start`, run in a
/// child process of the test binary. It creates a sandbox cgroup, puts a `sleep` in it,
/// prints where everything is, and waits to be SIGKILLed.
#[test]
#[ignore = "helper process for sigkilled_owner_is_swept_by_the_next_start"]
fn owner_helper() {
    if std::env::var_os(OWNER_HELPER_ENV).is_none() {
        return;
    }
    let limits = ResourceLimits {
        pids_max: Some(16),
        ..ResourceLimits::default()
    };
    let (cgroup, _) = SandboxCgroup::create(&CgroupSpec::new(limits)).unwrap();
    // Never waited for: this process is SIGKILLed, and the sweep must kill the sleep.
    #[allow(clippy::zombie_processes)]
    let sleeper = Command::new("sleep").arg("300").spawn().unwrap();
    cgroup.attach(i32::try_from(sleeper.id()).unwrap()).unwrap();
    for dir in cgroup.dirs() {
        println!("DIR {}", dir.path.display());
    }
    println!("PID {}", sleeper.id());
    println!("READY");
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// The owner process, killed and reaped even when an assertion fails first,
/// so a failing run leaves no owner (and so no cgroup) behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // A zombie waiting for its new parent to reap it is dead too.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn sigkilled_owner_is_swept_by_the_next_start() {
    let test = "sigkilled_owner_is_swept_by_the_next_start";
    if !root_or_skip(test) {
        return;
    }
    let _sweeping = sweeping();
    let layout = CgroupLayout::detect().unwrap();
    if layout.v1_for(Controller::Pids).is_none() && layout.unified().is_none() {
        say(&format!("SKIP {test}: no pids controller"));
        return;
    }
    let mut owner = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "owner_helper",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(OWNER_HELPER_ENV, "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut dirs = Vec::new();
    let mut sleeper = None;
    let stdout = owner.0.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints `test owner_helper ... ` without a newline before the
        // helper's first line, so the markers are searched, not prefixed.
        if let Some((_, dir)) = line.split_once("DIR ") {
            dirs.push(PathBuf::from(dir));
        } else if let Some((_, pid)) = line.split_once("PID ") {
            sleeper = Some(pid.parse::<u32>().unwrap());
        } else if line.ends_with("READY") {
            break;
        }
    }
    let sleeper = sleeper.expect("the owner helper did not report");
    assert!(!dirs.is_empty());
    owner.0.kill().unwrap(); // SIGKILL: no destructor runs.
    assert_eq!(owner.0.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(
        dirs.iter().all(|d| d.is_dir()),
        "the owner's cgroups should still be there"
    );
    assert!(
        !process_gone(sleeper),
        "the sandboxed process should still run"
    );

    let report = sweep_stale(&layout, DEFAULT_PREFIX).unwrap();
    assert_eq!(report.failed, vec![]);
    for dir in &dirs {
        assert!(report.removed.contains(dir), "{} not swept", dir.display());
    }
    assert_all_gone(&dirs);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !process_gone(sleeper) {
        assert!(
            Instant::now() < deadline,
            "the sandboxed sleep survived the sweep"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sweep_keeps_the_cgroups_of_a_live_owner() {
    let test = "sweep_keeps_the_cgroups_of_a_live_owner";
    if !root_or_skip(test) {
        return;
    }
    let _sweeping = sweeping();
    let Some((cgroup, _)) = create_or_skip(test, ResourceLimits::default(), &[]) else {
        return;
    };
    let paths = paths_of(&cgroup);
    let layout = CgroupLayout::detect().unwrap();
    sweep_stale(&layout, DEFAULT_PREFIX).unwrap();
    assert!(
        paths.iter().all(|p| p.is_dir()),
        "a live owner's cgroup was swept"
    );
    cgroup.remove().unwrap();
    assert_all_gone(&paths);
}

#[test]
fn bad_limits_are_refused_with_a_reason_before_anything_is_created() {
    let mut limits = ResourceLimits::default();
    let cases: [(LimitKind, &str, InvalidLimit); 7] = [
        (LimitKind::MemoryMax, "banana", InvalidLimit::NotANumber),
        (LimitKind::PidsMax, "0", InvalidLimit::Zero),
        (LimitKind::PidsMax, "-4", InvalidLimit::Negative),
        (LimitKind::CpuMax, "500/100000", InvalidLimit::QuotaTooSmall),
        (
            LimitKind::CpuMax,
            "50000/10",
            InvalidLimit::PeriodOutOfRange,
        ),
        (LimitKind::CpuMax, "50000/100000/3", InvalidLimit::Malformed),
        (
            LimitKind::CpuWeight,
            "20000",
            InvalidLimit::OutOfRange {
                min: 1,
                max: 10_000,
            },
        ),
    ];
    for (kind, input, expected) in cases {
        match limits.set(kind, input) {
            Err(CgroupError::InvalidLimit {
                limit,
                input: got,
                reason,
            }) => {
                assert_eq!((limit, got.as_str(), reason), (kind, input, expected));
            }
            other => panic!("{kind} {input:?} gave {other:?}"),
        }
    }
    assert!(limits.is_empty(), "a rejected value must not be stored");
    let message = limits
        .set(LimitKind::MemoryMax, "banana")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("banana") && message.contains("memory_max"),
        "{message}"
    );
}

#[test]
fn a_limit_without_its_controller_is_a_warning_and_fatal_under_the_policy() {
    let test = "a_limit_without_its_controller_is_a_warning_and_fatal_under_the_policy";
    if !root_or_skip(test) {
        return;
    }
    // The real hierarchies, minus every mount that could offer the pids controller.
    let mountinfo: String = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| {
            !(l.contains(" - cgroup2 ") || (l.contains(" - cgroup ") && l.contains("pids")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let self_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let layout = match CgroupLayout::from_proc_texts(&mountinfo, &self_cgroup) {
        Ok(layout) => layout,
        Err(e) => {
            say(&format!(
                "SKIP {test}: no cgroup v1 hierarchy besides pids ({e})"
            ));
            return;
        }
    };
    let limits = ResourceLimits {
        pids_max: Some(8),
        ..ResourceLimits::default()
    };
    let (cgroup, warnings) = SandboxCgroup::create_in(&layout, &CgroupSpec::new(limits)).unwrap();
    assert_eq!(
        warnings,
        vec![Warning::ControllerUnavailable {
            controller: Controller::Pids,
            limits: vec![LimitKind::PidsMax],
        }]
    );
    assert_eq!(warning_count_clipped(&warnings), 1);
    assert!(matches!(
        deny_warnings(&warnings),
        Err(CgroupError::WarningsDenied { count: 1, .. })
    ));
    // Nothing to enforce, so nothing was created, and nothing is left.
    assert!(cgroup.dirs().is_empty());
    cgroup.remove().unwrap();
}

#[test]
fn detection_finds_the_callers_own_cgroups() {
    let layout = match CgroupLayout::detect() {
        Ok(layout) => layout,
        Err(e) => {
            say(&format!(
                "SKIP detection_finds_the_callers_own_cgroups: {e}"
            ));
            return;
        }
    };
    let self_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    for hierarchy in layout.v1_hierarchies() {
        assert!(
            hierarchy.caller_dir.is_dir(),
            "{}",
            hierarchy.caller_dir.display()
        );
        let procs = read(&hierarchy.caller_dir.join("cgroup.procs"));
        let me = std::process::id().to_string();
        assert!(
            procs.lines().any(|l| l == me),
            "this process is not in {} ({self_cgroup})",
            hierarchy.caller_dir.display()
        );
    }
    if let Some(unified) = layout.unified() {
        assert!(unified.caller_dir.join("cgroup.procs").exists());
    }
}
