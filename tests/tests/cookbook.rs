//! The cookbook (`docs/cookbook.md`): each of the 35 sample programs in
//! `crates/voidbox/examples` is run and what it prints — what its sandbox did
//! — is checked, together with the files it made and removed; then each
//! command line of the `vb` command cookbook is run and its effect checked.
//!
//! Every sample and command creates a namespace, which a caller other than
//! root can only do with user namespaces: without them the test is skipped.
//! Where root and another user legitimately differ (capabilities, cgroup
//! limits, an implied user namespace) each case is asserted; a part that
//! cannot apply on this host prints a `SKIP` line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use voidbox_tests::{
    MARK_VAR, Marked, NsHolder, eventually, example_bin, is_root, needs_userns, process_alive,
    processes_with_env, shared_tempdir, skip, vb, vb_bin, with_fds, with_watchdog,
};

// Running the samples.

/// A sample program that ran to its end.
struct Sample {
    name: &'static str,
    out: Output,
    elapsed: Duration,
}

impl Sample {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn lines(&self) -> Vec<String> {
        self.stdout().lines().map(str::to_owned).collect()
    }

    /// Everything about the run, for a failed assertion.
    fn describe(&self) -> String {
        format!(
            "{}: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.name,
            self.out.status,
            self.stdout(),
            String::from_utf8_lossy(&self.out.stderr)
        )
    }

    /// The sample exited 0 and printed exactly `expected`.
    fn assert_prints(&self, expected: &[&str]) {
        assert!(self.out.status.success(), "{}", self.describe());
        assert_eq!(self.lines(), expected, "{}", self.describe());
    }
}

/// Skip `test` when this run cannot create namespaces at all.
fn cannot_sandbox(test: &str) -> bool {
    !is_root() && needs_userns(test)
}

/// Run the sample `name` with `env` added, in `/`, stdin from /dev/null and a
/// temporary directory of its own (`TMPDIR`), which must be empty again when
/// it ends: every sample removes what it made.
fn run_sample_with(test: &str, name: &'static str, env: &[(&str, &str)]) -> Option<Sample> {
    if cannot_sandbox(test) {
        return None;
    }
    let tmp = shared_tempdir("cookbook", name);
    let mut cmd = Command::new(example_bin(name));
    cmd.env("TMPDIR", &tmp)
        .envs(env.iter().copied())
        .current_dir("/")
        .stdin(Stdio::null());
    let started = Instant::now();
    let out = with_watchdog(Duration::from_secs(60), move || cmd.output().unwrap());
    let sample = Sample {
        name,
        out,
        elapsed: started.elapsed(),
    };
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        left.is_empty(),
        "left behind {left:?}\n{}",
        sample.describe()
    );
    Some(sample)
}

fn run_sample(test: &str, name: &'static str) -> Option<Sample> {
    run_sample_with(test, name, &[])
}

/// `new` for a caller that is not root (voidbox implies a user namespace),
/// `shared` for root.
fn implied_user_ns() -> &'static str {
    if is_root() { "user=shared" } else { "user=new" }
}

/// The effective capability set in the text of a `/proc/PID/status`.
fn effective_caps_in(status: &str) -> u64 {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .unwrap();
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

/// The effective capability set of this process.
fn own_effective_caps() -> u64 {
    effective_caps_in(&std::fs::read_to_string("/proc/self/status").unwrap())
}

const CAP_NET_ADMIN: u64 = 1 << 12;
const CAP_NET_RAW: u64 = 1 << 13;

// The samples, one test each.

#[test]
fn sample_01_minimal_launch() {
    if let Some(s) = run_sample("sample_01_minimal_launch", "sample_01_minimal_launch") {
        s.assert_prints(&["exit=0"]);
    }
}

#[test]
fn sample_02_shell_command() {
    if let Some(s) = run_sample("sample_02_shell_command", "sample_02_shell_command") {
        s.assert_prints(&["hi", "exit=0"]);
    }
}

#[test]
fn sample_03_status_callback() {
    if let Some(s) = run_sample("sample_03_status_callback", "sample_03_status_callback") {
        s.assert_prints(&[
            "event=spawned",
            "event=setup_finished",
            "event=exited",
            "monotonic=yes",
            "exit=0",
        ]);
    }
}

#[test]
fn sample_04_chdir() {
    if let Some(s) = run_sample("sample_04_chdir", "sample_04_chdir") {
        s.assert_prints(&["/tmp", "exit=0"]);
    }
}

#[test]
fn sample_05_clear_env() {
    // Run from `/`: the command starts there, and PWD says so.
    if let Some(s) = run_sample("sample_05_clear_env", "sample_05_clear_env") {
        s.assert_prints(&["HELLO=WORLD", "PWD=/", "exit=0"]);
    }
}

#[test]
fn sample_06_unset_env() {
    let env = [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/nonexistent"),
        ("VB_COOKBOOK_KEPT", "yes"),
    ];
    let Some(s) = run_sample_with("sample_06_unset_env", "sample_06_unset_env", &env) else {
        return;
    };
    assert!(s.out.status.success(), "{}", s.describe());
    let lines = s.lines();
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("PATH=") || l.starts_with("HOME=")),
        "{}",
        s.describe()
    );
    // The rest of the environment is inherited.
    assert!(
        lines.iter().any(|l| l == "VB_COOKBOOK_KEPT=yes"),
        "{}",
        s.describe()
    );
    assert_eq!(lines.last().map(String::as_str), Some("exit=0"));
}

#[test]
fn sample_07_pid_namespace() {
    if let Some(s) = run_sample("sample_07_pid_namespace", "sample_07_pid_namespace") {
        s.assert_prints(&[
            "pid=2",
            "mnt=new",
            "uts=shared",
            "ipc=shared",
            "net=shared",
            "pid=new",
            implied_user_ns(),
            "exit=0",
        ]);
    }
}

#[test]
fn sample_08_hostname() {
    if let Some(s) = run_sample("sample_08_hostname", "sample_08_hostname") {
        s.assert_prints(&["voidbox-demo", "exit=0"]);
        let host = rustix::system::uname();
        assert_ne!(host.nodename().to_bytes(), b"voidbox-demo");
    }
}

#[test]
fn sample_09_mount_namespace() {
    if let Some(s) = run_sample("sample_09_mount_namespace", "sample_09_mount_namespace") {
        s.assert_prints(&[
            "mnt=new",
            "uts=shared",
            "ipc=shared",
            "net=shared",
            "pid=shared",
            implied_user_ns(),
            "exit=0",
        ]);
    }
}

#[test]
fn sample_10_lock_file() {
    if let Some(s) = run_sample("sample_10_lock_file", "sample_10_lock_file") {
        s.assert_prints(&["while running: locked", "after exit: free", "exit=0"]);
    }
}

#[test]
fn sample_11_bind() {
    if let Some(s) = run_sample("sample_11_bind", "sample_11_bind") {
        s.assert_prints(&[
            "inside: bin/sh found under the destination",
            "exit=0",
            "after: destination empty on the host",
        ]);
    }
}

#[test]
fn sample_12_ro_bind() {
    if let Some(s) = run_sample("sample_12_ro_bind", "sample_12_ro_bind") {
        s.assert_prints(&[
            "inside: passwd readable",
            "inside: write refused (Read-only file system)",
            "exit=0",
        ]);
    }
}

#[test]
fn sample_13_tmpfs() {
    if let Some(s) = run_sample("sample_13_tmpfs", "sample_13_tmpfs") {
        s.assert_prints(&[
            "inside: type=tmpfs size=1048576 mode=700",
            "inside: wrote scratch.txt",
            "exit=0",
            "after: directory empty on the host",
        ]);
    }
}

#[test]
fn sample_14_overlay() {
    if let Some(s) = run_sample("sample_14_overlay", "sample_14_overlay") {
        s.assert_prints(&[
            "inside: from the lower layer",
            "exit=0",
            "after: upper/new.txt = written in the sandbox",
            "after: lower/ unchanged",
        ]);
    }
}

#[test]
fn sample_15_tmp_overlay() {
    if let Some(s) = run_sample("sample_15_tmp_overlay", "sample_15_tmp_overlay") {
        s.assert_prints(&[
            "inside: from the lower layer",
            "inside: new.txt = scratch",
            "exit=0",
            "after: lower/ unchanged, new.txt gone",
        ]);
    }
}

#[test]
fn sample_16_bind_data() {
    if let Some(s) = run_sample("sample_16_bind_data", "sample_16_bind_data") {
        s.assert_prints(&[
            "inside: abc",
            "inside: append ok",
            "exit=0",
            "after: host file is empty",
        ]);
    }
}

#[test]
fn sample_17_ro_bind_data() {
    if let Some(s) = run_sample("sample_17_ro_bind_data", "sample_17_ro_bind_data") {
        s.assert_prints(&[
            "inside: abc",
            "inside: append refused (Read-only file system)",
            "exit=0",
        ]);
    }
}

#[test]
fn sample_18_file() {
    if let Some(s) = run_sample("sample_18_file", "sample_18_file") {
        s.assert_prints(&["inside: hello", "exit=0", "after: host reads hello"]);
    }
}

#[test]
fn sample_19_symlink() {
    if let Some(s) = run_sample("sample_19_symlink", "sample_19_symlink") {
        s.assert_prints(&[
            "inside: link -> /bin/sh",
            "inside: ran through the link",
            "exit=0",
            "after: host link -> /bin/sh",
        ]);
    }
}

#[test]
fn sample_20_chmod() {
    if let Some(s) = run_sample("sample_20_chmod", "sample_20_chmod") {
        s.assert_prints(&["before: 644", "inside: 700", "exit=0", "after: 700"]);
    }
}

#[test]
fn sample_21_as_pid_1() {
    if let Some(s) = run_sample("sample_21_as_pid_1", "sample_21_as_pid_1") {
        s.assert_prints(&["pid=1", "exit=0"]);
    }
}

#[test]
fn sample_22_new_session() {
    if let Some(s) = run_sample("sample_22_new_session", "sample_22_new_session") {
        s.assert_prints(&[
            "inside: session leader",
            "inside: not in the caller's session",
            "exit=0",
        ]);
    }
}

#[test]
fn sample_23_die_with_parent() {
    if let Some(s) = run_sample("sample_23_die_with_parent", "sample_23_die_with_parent") {
        s.assert_prints(&["exit=137 (signal 9)"]);
        // Killed when its thread ended, not after its `sleep 30`.
        assert!(s.elapsed < Duration::from_secs(20), "{:?}", s.elapsed);
    }
}

#[test]
fn sample_24_cap_add() {
    let Some(s) = run_sample("sample_24_cap_add", "sample_24_cap_add") else {
        return;
    };
    // Root starts from its own effective set; anyone else from nothing (in
    // the user namespace voidbox implies).
    let count = if is_root() {
        (own_effective_caps() | CAP_NET_ADMIN).count_ones()
    } else {
        1
    };
    s.assert_prints(&[
        "has CAP_NET_ADMIN: yes",
        &format!("effective count: {count}"),
        "exit=0",
    ]);
}

#[test]
fn sample_25_cap_drop() {
    let Some(s) = run_sample("sample_25_cap_drop", "sample_25_cap_drop") else {
        return;
    };
    let count = if is_root() {
        (own_effective_caps() & !CAP_NET_RAW).count_ones()
    } else {
        0
    };
    s.assert_prints(&[
        "has CAP_NET_RAW: no",
        &format!("effective count: {count}"),
        "exit=0",
    ]);
}

#[test]
fn sample_26_fail_on_warnings() {
    const TEST: &str = "sample_26_fail_on_warnings";
    let Some(s) = run_sample(TEST, "sample_26_fail_on_warnings") else {
        return;
    };
    if voidbox::selinux_enabled() {
        s.assert_prints(&[
            "plain: exit=0",
            "with a label: skipped (SELinux is enabled)",
        ]);
        skip(
            TEST,
            "SELinux is enabled: a label raises no warning to refuse",
        );
        return;
    }
    s.assert_prints(&[
        "plain: exit=0",
        "with a label: refused (1 warning)",
        "warning: security.exec_label \"system_u:system_r:container_t:s0\" is ignored: SELinux is not enabled on this host",
    ]);
}

#[test]
fn sample_27_namespace_fds() {
    if let Some(s) = run_sample("sample_27_namespace_fds", "sample_27_namespace_fds") {
        s.assert_prints(&[
            "inside: from the holder",
            "net: the holder's",
            "mnt: the holder's",
            "exit=0",
            "host: no marker",
        ]);
    }
}

#[test]
fn sample_28_lock_info_fd() {
    if let Some(s) = run_sample("sample_28_lock_info_fd", "sample_28_lock_info_fd") {
        s.assert_prints(&[
            "info keys: child-pid, mnt-namespace",
            "info child-pid: the session's",
            "while running: locked",
            "exit=0",
            "after exit: free",
        ]);
    }
}

#[test]
fn sample_29_json_status_fd() {
    let Some(s) = run_sample("sample_29_json_status_fd", "sample_29_json_status_fd") else {
        return;
    };
    assert!(s.out.status.success(), "{}", s.describe());
    let lines = s.lines();
    assert_eq!(lines.len(), 3, "{}", s.describe());
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert!(first["child-pid"].as_u64().unwrap() > 0, "{}", s.describe());
    let mnt = first["mnt-namespace"].as_u64().unwrap();
    assert_ne!(mnt, voidbox_tests::host_ns("mnt"), "{}", s.describe());
    assert_eq!(lines[1], "{ \"exit-code\": 0 }", "{}", s.describe());
    assert_eq!(lines[2], "exit=0", "{}", s.describe());
}

#[test]
fn sample_30_argv0() {
    if let Some(s) = run_sample("sample_30_argv0", "sample_30_argv0") {
        s.assert_prints(&["argv: custom-cat /proc/self/cmdline", "exit=0"]);
    }
}

#[test]
fn sample_31_disable_userns() {
    const TEST: &str = "sample_31_disable_userns";
    let Some(s) = run_sample(TEST, "sample_31_disable_userns") else {
        return;
    };
    if !voidbox_tests::userns_available() {
        // Only root gets here: the sandbox's own user namespace is refused.
        assert!(s.out.status.success(), "{}", s.describe());
        assert!(
            s.lines()[0].starts_with("refused: user namespaces are disabled on this host"),
            "{}",
            s.describe()
        );
        skip(TEST, "user namespaces are disabled on this host");
        return;
    }
    if s.lines().first().map(String::as_str) == Some("inside: unshare is not installed") {
        s.assert_prints(&["inside: unshare is not installed", "exit=0"]);
        skip(
            TEST,
            "util-linux unshare is not installed: nothing tried a user namespace",
        );
        return;
    }
    // `user.max_user_namespaces` is 1 in the sandbox: the next one is
    // refused with ENOSPC.
    s.assert_prints(&[
        "inside: new user namespace refused (No space left on device)",
        "exit=0",
    ]);
}

#[test]
fn sample_32_assert_userns_disabled() {
    const TEST: &str = "sample_32_assert_userns_disabled";
    let Some(s) = run_sample(TEST, "sample_32_assert_userns_disabled") else {
        return;
    };
    if !voidbox_tests::userns_available() {
        // Only root gets here: the assertion holds by itself, and
        // disable_userns, which needs a user namespace, is refused.
        assert!(s.out.status.success(), "{}", s.describe());
        assert_eq!(s.lines()[0], "assert alone: exit=0", "{}", s.describe());
        assert!(
            s.lines()[1].starts_with("with disable_userns: refused"),
            "{}",
            s.describe()
        );
        skip(TEST, "user namespaces are disabled on this host");
        return;
    }
    s.assert_prints(&[
        "assert alone: refused (creation of new user namespaces was not disabled as requested)",
        "with disable_userns: exit=0",
    ]);
}

#[test]
fn sample_33_security_labels() {
    const TEST: &str = "sample_33_security_labels";
    let Some(s) = run_sample(TEST, "sample_33_security_labels") else {
        return;
    };
    if voidbox::selinux_enabled() {
        assert!(s.out.status.success(), "{}", s.describe());
        assert_eq!(s.lines()[0], "selinux: enabled", "{}", s.describe());
        skip(
            TEST,
            "SELinux is enabled: the labels apply, no warning to check",
        );
        return;
    }
    s.assert_prints(&[
        "selinux: not enabled",
        "warning: security.exec_label \"system_u:system_r:container_t:s0\" is ignored: SELinux is not enabled on this host",
        "warning: security.file_label \"system_u:object_r:container_file_t:s0\" is ignored: SELinux is not enabled on this host",
        "exit=0",
    ]);
}

#[test]
fn sample_34_resource_limits() {
    const TEST: &str = "sample_34_resource_limits";
    let Some(s) = run_sample(TEST, "sample_34_resource_limits") else {
        return;
    };
    assert!(s.out.status.success(), "{}", s.describe());
    let lines = s.lines();
    if let Some(refusal) = lines.first().and_then(|l| l.strip_prefix("refused: ")) {
        // Only a caller without a cgroup it may write to gets here.
        assert!(!is_root(), "{}", s.describe());
        assert!(refusal.contains("cgroup"), "{}", s.describe());
        skip(TEST, &format!("no cgroup this user may create: {refusal}"));
        return;
    }
    if lines.iter().any(|l| l.starts_with("warning: ")) {
        assert_eq!(lines.last().map(String::as_str), Some("exit=0"));
        skip(
            TEST,
            &format!("limits not enforced on this host: {}", s.stdout().trim()),
        );
        return;
    }
    s.assert_prints(&[
        "limit cpu=50000/100000",
        "limit memory=268435456",
        "limit pids=256",
        "exit=0",
    ]);
}

#[test]
fn sample_35_session_api() {
    if let Some(s) = run_sample("sample_35_session_api", "sample_35_session_api") {
        s.assert_prints(&[
            "spawned: pid > 0",
            "exit=0",
            "second wait: this session was already waited for",
        ]);
    }
}

// The command cookbook: helpers.

/// `vb` with `args` run to its end (stdin from /dev/null, in `/`).
fn run(args: &[&str]) -> Output {
    let mut cmd = vb(args);
    cmd.current_dir("/");
    with_watchdog(Duration::from_secs(60), move || cmd.output().unwrap())
}

fn describe(out: &Output) -> String {
    format!(
        "{:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run `vb` with `args`; it must succeed. Its stdout.
fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "vb {args:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run `vb` with `args`; it must fail. Its stderr.
fn run_failing(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "vb {args:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A directory for one command test, writable by every user, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Self {
        Self(shared_tempdir("cookbook-cmd", test))
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        // An overlay's work directory holds a mode-0 `work`.
        if let Ok(entries) = std::fs::read_dir(&self.0) {
            for entry in entries.flatten() {
                let inner = entry.path().join("work");
                let _ = std::fs::set_permissions(inner, std::fs::Permissions::from_mode(0o700));
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file holding `data`, open for reading, to hand to `vb` as a descriptor.
fn data_file(dir: &Dir, name: &str, data: &[u8]) -> File {
    let path = dir.0.join(name);
    std::fs::write(&path, data).unwrap();
    File::open(path).unwrap()
}

/// `vb` with `args`, descriptor 3 a copy of `fd`, run to its end.
fn run_with_fd3(args: &[&str], fd: &impl AsRawFd) -> Output {
    let mut cmd = vb(args);
    cmd.current_dir("/");
    with_fds(&mut cmd, &[(3, fd.as_raw_fd())]);
    with_watchdog(Duration::from_secs(60), move || cmd.output().unwrap())
}

/// Whether a process holds a lock on `path` (a write lock is refused).
fn locked(path: &Path) -> bool {
    let file = File::options().read(true).write(true).open(path).unwrap();
    rustix::fs::fcntl_lock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err()
}

/// The limits on the cgroups of process `pid`, as `KIND=VALUE`, sorted
/// (cgroup v2 files, or their v1 equivalents).
fn cgroup_limits(pid: u64) -> Vec<String> {
    let read = |path: String| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
    };
    let mut found = Vec::new();
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    for line in cgroups.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if controllers.is_empty() {
            for (kind, file) in [
                ("cpu", "cpu.max"),
                ("memory", "memory.max"),
                ("pids", "pids.max"),
            ] {
                if let Some(v) = read(format!("/sys/fs/cgroup{path}/{file}")) {
                    found.push(format!("{kind}={}", v.replace(' ', "/")));
                }
            }
            continue;
        }
        let dir = format!("/sys/fs/cgroup/{controllers}{path}");
        for controller in controllers.split(',') {
            let value = match controller {
                "memory" => read(format!("{dir}/memory.limit_in_bytes")),
                "pids" => read(format!("{dir}/pids.max")),
                "cpu" => read(format!("{dir}/cpu.cfs_quota_us"))
                    .zip(read(format!("{dir}/cpu.cfs_period_us")))
                    .map(|(q, p)| format!("{q}/{p}")),
                _ => None,
            };
            if let Some(value) = value {
                found.push(format!("{controller}={value}"));
            }
        }
    }
    found.sort();
    found
}

const HELLO: &[&str] = &["/bin/sh", "-c", "echo hello from voidbox"];

/// `args` followed by `--` and `cmd`.
fn line(args: &[&str], cmd: &[&str]) -> Vec<String> {
    args.iter()
        .chain(["--"].iter())
        .chain(cmd)
        .map(|s| (*s).to_owned())
        .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

// Section 17 of the reference document: its one `vb` line, and the root
// switch lines of its section 9.1.

#[test]
fn section_17_the_reference_line_finds_no_shell_in_an_empty_root() {
    if cannot_sandbox("section_17_the_reference_line_finds_no_shell_in_an_empty_root") {
        return;
    }
    // As bubblewrap, vb starts from an empty tmpfs root: nothing to execute.
    let err = run_failing(&strs(&line(&[], HELLO)));
    assert!(
        err.contains("execvp /bin/sh: No such file or directory"),
        "{err}"
    );
}

#[test]
fn section_17_hello_from_voidbox_on_the_host_root() {
    if cannot_sandbox("section_17_hello_from_voidbox_on_the_host_root") {
        return;
    }
    assert_eq!(
        run_ok(&strs(&line(&["--rootfs", "/"], HELLO))),
        "hello from voidbox\n"
    );
}

#[test]
fn section_17_hello_from_voidbox_bubblewrap_style() {
    if cannot_sandbox("section_17_hello_from_voidbox_bubblewrap_style") {
        return;
    }
    assert_eq!(
        run_ok(&strs(&line(&["--ro-bind", "/", "/"], HELLO))),
        "hello from voidbox\n"
    );
}

#[test]
fn section_17_root_switch_by_pivot_root_or_chroot() {
    if cannot_sandbox("section_17_root_switch_by_pivot_root_or_chroot") {
        return;
    }
    for switch in [&["--pivot-root"][..], &["--no-pivot-root"], &["--chroot"]] {
        let args: Vec<&str> = switch.iter().copied().chain(["--rootfs", "/"]).collect();
        assert_eq!(
            run_ok(&strs(&line(&args, HELLO))),
            "hello from voidbox\n",
            "{switch:?}"
        );
    }
}

// The samples as command lines.

#[test]
fn command_01_minimal_launch() {
    if cannot_sandbox("command_01_minimal_launch") {
        return;
    }
    assert_eq!(run_ok(&["--rootfs", "/", "--", "/bin/true"]), "");
}

#[test]
fn command_02_shell_command() {
    if cannot_sandbox("command_02_shell_command") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--unshare-pid",
        "--unshare-uts",
        "--unshare-ipc",
        "--",
        "/bin/sh",
        "-c",
        "echo hi",
    ]);
    assert_eq!(out, "hi\n");
}

#[test]
fn command_03_event_fd() {
    const TEST: &str = "command_03_event_fd";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let events = File::create(dir.0.join("events.jsonl")).unwrap();
    let out = run_with_fd3(
        &["--rootfs", "/", "--event-fd", "3", "--", "/bin/true"],
        &events,
    );
    assert!(out.status.success(), "{}", describe(&out));
    let text = std::fs::read_to_string(dir.0.join("events.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["spawned", "setup_finished", "exited"], "{text}");
    let times: Vec<u64> = events
        .iter()
        .map(|e| e["at_ns"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{text}");
    assert_eq!(events[2]["exit_code"], 0, "{text}");
}

#[test]
fn command_04_chdir() {
    if cannot_sandbox("command_04_chdir") {
        return;
    }
    assert_eq!(
        run_ok(&["--rootfs", "/", "--chdir", "/tmp", "--", "/bin/pwd"]),
        "/tmp\n"
    );
}

#[test]
fn command_05_clear_env() {
    if cannot_sandbox("command_05_clear_env") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--clearenv",
        "--setenv",
        "HELLO",
        "WORLD",
        "--",
        "/usr/bin/env",
    ]);
    assert_eq!(out, "HELLO=WORLD\nPWD=/\n");
}

#[test]
fn command_06_unset_env() {
    if cannot_sandbox("command_06_unset_env") {
        return;
    }
    let mut cmd = vb([
        "--rootfs",
        "/",
        "--unsetenv",
        "PATH",
        "--unsetenv",
        "HOME",
        "--",
        "/usr/bin/env",
    ]);
    cmd.env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .env("VB_COOKBOOK_KEPT", "yes");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("PATH=") || l.starts_with("HOME=")),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "VB_COOKBOOK_KEPT=yes"), "{text}");
}

#[test]
fn command_07_pid_namespace() {
    if cannot_sandbox("command_07_pid_namespace") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--unshare-pid",
        "--",
        "/bin/sh",
        "-c",
        "echo $$; readlink /proc/self/ns/net",
    ]);
    let net = format!("net:[{}]", voidbox_tests::host_ns("net"));
    assert_eq!(out, format!("2\n{net}\n"));
}

#[test]
fn command_08_hostname() {
    if cannot_sandbox("command_08_hostname") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--unshare-uts",
        "--hostname",
        "voidbox-demo",
        "--",
        "/bin/hostname",
    ]);
    assert_eq!(out, "voidbox-demo\n");
}

#[test]
fn command_09_mount_namespace() {
    if cannot_sandbox("command_09_mount_namespace") {
        return;
    }
    // `--rootfs` alone: a new mount namespace, the host's network.
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--",
        "/usr/bin/stat",
        "-L",
        "-c",
        "%i",
        "/proc/self/ns/mnt",
        "/proc/self/ns/net",
    ]);
    let ids: Vec<u64> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert_ne!(ids[0], voidbox_tests::host_ns("mnt"), "{out}");
    assert_eq!(ids[1], voidbox_tests::host_ns("net"), "{out}");
}

#[test]
fn command_10_lock_file() {
    const TEST: &str = "command_10_lock_file";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let lock = dir.0.join("sandbox.lock");
    File::create(&lock).unwrap();
    let mut child = vb([
        "--rootfs",
        "/",
        "--lock-file",
        lock.to_str().unwrap(),
        "--",
        "/bin/cat",
    ])
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || locked(&lock)),
        "the sandbox never took its lock"
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert!(!locked(&lock), "the lock outlived the sandbox");
}

#[test]
fn command_11_bind() {
    const TEST: &str = "command_11_bind";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let dest = dir.path("usr");
    std::fs::create_dir(&dest).unwrap();
    let probe = format!("{dest}/bin/sh");
    run_ok(&[
        "--rootfs",
        "/",
        "--bind",
        "/usr",
        &dest,
        "--",
        "/usr/bin/test",
        "-e",
        &probe,
    ]);
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "the bind leaked out"
    );
}

#[test]
fn command_12_ro_bind() {
    const TEST: &str = "command_12_ro_bind";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let dest = dir.path("etc");
    std::fs::create_dir(&dest).unwrap();
    let probe = format!("{dest}/voidbox-probe");
    let err = run_failing(&[
        "--rootfs",
        "/",
        "--ro-bind",
        "/etc",
        &dest,
        "--",
        "/usr/bin/touch",
        &probe,
    ]);
    assert!(err.contains("Read-only file system"), "{err}");
    let passwd = format!("{dest}/passwd");
    run_ok(&[
        "--rootfs",
        "/",
        "--ro-bind",
        "/etc",
        &dest,
        "--",
        "/usr/bin/test",
        "-r",
        &passwd,
    ]);
}

#[test]
fn command_13_tmpfs() {
    const TEST: &str = "command_13_tmpfs";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let dest = dir.path("sandbox");
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--size",
        "1048576",
        "--perms",
        "0700",
        "--tmpfs",
        &dest,
        "--",
        "/bin/sh",
        "-c",
        "stat -f -c '%T %b %S' \"$0\"; stat -c %a \"$0\"; touch \"$0/scratch\"",
        &dest,
    ]);
    let lines: Vec<&str> = out.lines().collect();
    let fs: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(fs[0], "tmpfs", "{out}");
    let size: u64 = fs[1].parse::<u64>().unwrap() * fs[2].parse::<u64>().unwrap();
    assert_eq!(size, 1 << 20, "{out}");
    assert_eq!(lines[1], "700", "{out}");
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "the tmpfs leaked out"
    );
}

#[test]
fn command_14_overlay() {
    const TEST: &str = "command_14_overlay";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map(|d| {
        let p = dir.path(d);
        std::fs::create_dir(&p).unwrap();
        p
    });
    std::fs::write(format!("{lower}/lower.txt"), "from below\n").unwrap();
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--overlay-src",
        &lower,
        "--overlay",
        &upper,
        &work,
        &merged,
        "--",
        "/bin/sh",
        "-c",
        "cat \"$0/lower.txt\"; echo new > \"$0/new.txt\"",
        &merged,
    ]);
    assert_eq!(out, "from below\n");
    assert_eq!(
        std::fs::read_to_string(format!("{upper}/new.txt")).unwrap(),
        "new\n"
    );
    assert!(!Path::new(&format!("{lower}/new.txt")).exists());
}

#[test]
fn command_15_tmp_overlay() {
    const TEST: &str = "command_15_tmp_overlay";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let [lower, merged] = ["lower", "merged"].map(|d| {
        let p = dir.path(d);
        std::fs::create_dir(&p).unwrap();
        p
    });
    std::fs::write(format!("{lower}/lower.txt"), "from below\n").unwrap();
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--overlay-src",
        &lower,
        "--tmp-overlay",
        &merged,
        "--",
        "/bin/sh",
        "-c",
        "echo new > \"$0/new.txt\"; cat \"$0/lower.txt\" \"$0/new.txt\"",
        &merged,
    ]);
    assert_eq!(out, "from below\nnew\n");
    assert_eq!(std::fs::read_dir(&lower).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(&merged).unwrap().count(), 0);
}

#[test]
fn command_16_bind_data() {
    const TEST: &str = "command_16_bind_data";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let data = data_file(&dir, "data", b"abc");
    let dest = dir.path("file");
    let out = run_with_fd3(
        &[
            "--rootfs",
            "/",
            "--bind-data",
            "3",
            &dest,
            "--",
            "/bin/cat",
            &dest,
        ],
        &data,
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(out.stdout, b"abc");
    // On the host, only the empty mount point.
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), 0);
}

#[test]
fn command_17_ro_bind_data() {
    const TEST: &str = "command_17_ro_bind_data";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let data = data_file(&dir, "data", b"abc");
    let dest = dir.path("file");
    let out = run_with_fd3(
        &[
            "--rootfs",
            "/",
            "--ro-bind-data",
            "3",
            &dest,
            "--",
            "/bin/sh",
            "-c",
            "cat \"$0\"; echo def >> \"$0\"",
            &dest,
        ],
        &data,
    );
    assert!(!out.status.success(), "{}", describe(&out));
    assert_eq!(out.stdout, b"abc");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Read-only file system"),
        "{}",
        describe(&out)
    );
}

#[test]
fn command_18_file() {
    const TEST: &str = "command_18_file";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let data = data_file(&dir, "data", b"hello");
    let dest = dir.path("hello.txt");
    let out = run_with_fd3(
        &[
            "--rootfs", "/", "--file", "3", &dest, "--", "/bin/cat", &dest,
        ],
        &data,
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(out.stdout, b"hello");
    // A real file in the root, which is the host's tree: it stays.
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hello");
}

#[test]
fn command_19_symlink() {
    const TEST: &str = "command_19_symlink";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let link = dir.path("sh");
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--symlink",
        "/bin/sh",
        &link,
        "--",
        &link,
        "-c",
        "echo through the link",
    ]);
    assert_eq!(out, "through the link\n");
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/bin/sh"));
}

#[test]
fn command_20_chmod() {
    const TEST: &str = "command_20_chmod";
    if cannot_sandbox(TEST) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new(TEST);
    let path = dir.path("x");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--chmod",
        "0700",
        &path,
        "--",
        "/usr/bin/stat",
        "-c",
        "%a",
        &path,
    ]);
    assert_eq!(out, "700\n");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o700);
}

#[test]
fn command_21_as_pid_1() {
    if cannot_sandbox("command_21_as_pid_1") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--unshare-pid",
        "--as-pid-1",
        "--",
        "/bin/sh",
        "-c",
        "echo $$",
    ]);
    assert_eq!(out, "1\n");
}

#[test]
fn command_22_new_session() {
    if cannot_sandbox("command_22_new_session") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--new-session",
        "--",
        "/bin/sh",
        "-c",
        "read -r pid comm state ppid pgrp sid rest < /proc/self/stat; echo \"$pid $sid\"",
    ]);
    let ids: Vec<i32> = out.split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!(ids[0], ids[1], "not a session leader: {out}");
    // getsid(0), not rustix's `getsid`: when the caller's session leader is
    // outside the caller's PID namespace (as in a CI runner) the kernel
    // answers 0, which rustix's `Pid` cannot represent.
    // SAFETY: getsid(0) only reads the calling process's session id.
    let ours = unsafe { libc::getsid(0) };
    assert_ne!(ids[1], ours);
}

#[test]
fn command_23_die_with_parent() {
    const TEST: &str = "command_23_die_with_parent";
    if cannot_sandbox(TEST) {
        return;
    }
    // A shell starts vb in the background and waits; killing the shell, vb's
    // parent, must take vb and its sandbox down.
    let mark = Marked::new(TEST);
    let mut parent = Command::new("/bin/sh")
        .arg("-c")
        .arg("\"$0\" --rootfs / --die-with-parent -- /bin/sleep 300 & wait")
        .arg(vb_bin())
        .env(MARK_VAR, &*mark)
        .current_dir("/")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let sleeping = || {
        processes_with_env(&mark).into_iter().any(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep")
        })
    };
    assert!(
        eventually(Duration::from_secs(10), sleeping),
        "the sandbox never started"
    );
    parent.kill().unwrap();
    parent.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || processes_with_env(&mark)
            .into_iter()
            .all(|pid| !process_alive(pid))),
        "the sandbox outlived vb's parent"
    );
}

#[test]
fn command_24_cap_add() {
    if cannot_sandbox("command_24_cap_add") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--cap-add",
        "CAP_NET_ADMIN",
        "--",
        "/bin/cat",
        "/proc/self/status",
    ]);
    let expected = if is_root() {
        own_effective_caps() | CAP_NET_ADMIN
    } else {
        CAP_NET_ADMIN
    };
    assert_eq!(effective_caps_in(&out), expected);
}

#[test]
fn command_25_cap_drop() {
    if cannot_sandbox("command_25_cap_drop") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--cap-drop",
        "CAP_NET_RAW",
        "--",
        "/bin/cat",
        "/proc/self/status",
    ]);
    let expected = if is_root() {
        own_effective_caps() & !CAP_NET_RAW
    } else {
        0
    };
    assert_eq!(effective_caps_in(&out), expected);
}

#[test]
fn command_26_fail_on_warnings() {
    const TEST: &str = "command_26_fail_on_warnings";
    if cannot_sandbox(TEST) {
        return;
    }
    // A CPU quota above every online CPU (here 1024 CPUs' worth) is
    // accepted with a warning, which --fail-on-warnings turns into a refusal.
    let args = [
        "--rootfs",
        "/",
        "--cpu-max",
        "102400000/100000",
        "--",
        "/bin/true",
    ];
    let strict: Vec<&str> = ["--fail-on-warnings"]
        .iter()
        .chain(&args)
        .copied()
        .collect();
    let out = run(&strict);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{}", describe(&out));
    if !is_root() && err.contains("cgroup") && !err.contains("warning") {
        skip(
            TEST,
            &format!("no cgroup this user may create: {}", err.trim()),
        );
        return;
    }
    // The quota's own warning, or, where the cpu controller is not available
    // to the caller, that one: either way a warning, refused.
    assert!(err.contains("refusing to run with"), "{err}");
    // Without the policy the same line runs, with the warning on stderr.
    let out = run(&args);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "{}",
        describe(&out)
    );
}

#[test]
fn command_27_netns() {
    if cannot_sandbox("command_27_netns") {
        return;
    }
    // The holder's network namespace; an unprivileged caller joins the user
    // namespace that owns it first.
    let holder = if is_root() {
        NsHolder::start(&["--net"])
    } else {
        NsHolder::start(&["--map-root-user", "--net"])
    };
    let net = holder.ns("net");
    let expected = std::fs::read_link(format!("/proc/self/fd/{}", net.as_raw_fd())).unwrap();
    let user = holder.ns("user");
    let mut args = vec!["--rootfs", "/", "--netns", "3"];
    let mut fds = vec![(3, net.as_raw_fd())];
    if !is_root() {
        args.extend(["--userns", "4"]);
        fds.push((4, user.as_raw_fd()));
    }
    args.extend(["--", "/usr/bin/readlink", "/proc/self/ns/net"]);
    let mut cmd = vb(&args);
    cmd.current_dir("/");
    with_fds(&mut cmd, &fds);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        expected.to_str().unwrap()
    );
}

#[test]
fn command_28_lock_info_fd() {
    const TEST: &str = "command_28_lock_info_fd";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let lock = dir.0.join("sandbox.lock");
    File::create(&lock).unwrap();
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let mut cmd = vb([
        "--rootfs",
        "/",
        "--lock-file",
        lock.to_str().unwrap(),
        "--info-fd",
        "3",
        "--",
        "/bin/cat",
    ]);
    cmd.stdin(Stdio::piped()).current_dir("/");
    let mut child = with_fds(&mut cmd, &[(3, write.as_raw_fd())])
        .spawn()
        .unwrap();
    drop(write);
    // vb closes the descriptor once the object is written.
    let info = with_watchdog(Duration::from_secs(20), move || {
        let mut text = String::new();
        File::from(read).read_to_string(&mut text).unwrap();
        text
    });
    let object: serde_json::Value = serde_json::from_str(&info).unwrap();
    let keys: Vec<&String> = object.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["child-pid", "mnt-namespace"], "{info}");
    assert!(
        eventually(Duration::from_secs(10), || locked(&lock)),
        "the sandbox never took its lock"
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert!(!locked(&lock));
}

#[test]
fn command_29_json_status_fd() {
    const TEST: &str = "command_29_json_status_fd";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let status = File::create(dir.0.join("status.jsonl")).unwrap();
    let out = run_with_fd3(
        &[
            "--rootfs",
            "/",
            "--json-status-fd",
            "3",
            "--",
            "/bin/sh",
            "-c",
            "exit 3",
        ],
        &status,
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let text = std::fs::read_to_string(dir.0.join("status.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert!(first["child-pid"].as_u64().unwrap() > 0, "{text}");
    assert_eq!(lines[1], "{ \"exit-code\": 3 }", "{text}");
}

#[test]
fn command_30_argv0() {
    if cannot_sandbox("command_30_argv0") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--argv0",
        "custom-cat",
        "--",
        "/bin/cat",
        "/proc/self/cmdline",
    ]);
    assert_eq!(out, "custom-cat\0/proc/self/cmdline\0");
}

#[test]
fn command_31_disable_userns() {
    const TEST: &str = "command_31_disable_userns";
    if cannot_sandbox(TEST) {
        return;
    }
    if needs_userns(TEST) {
        return; // root without user namespaces: --unshare-user cannot work
    }
    if !Path::new("/usr/bin/unshare").exists() {
        skip(TEST, "util-linux unshare is not installed");
        return;
    }
    let err = run_failing(&[
        "--rootfs",
        "/",
        "--unshare-user",
        "--disable-userns",
        "--",
        "/usr/bin/unshare",
        "--user",
        "/bin/true",
    ]);
    assert!(err.contains("No space left on device"), "{err}");
}

#[test]
fn command_32_assert_userns_disabled() {
    const TEST: &str = "command_32_assert_userns_disabled";
    if cannot_sandbox(TEST) {
        return;
    }
    if !voidbox_tests::userns_available() {
        // Root on a host without user namespaces: the assertion holds alone.
        run_ok(&[
            "--rootfs",
            "/",
            "--assert-userns-disabled",
            "--",
            "/bin/true",
        ]);
        skip(
            TEST,
            "user namespaces are disabled: --disable-userns cannot be shown",
        );
        return;
    }
    let err = run_failing(&[
        "--rootfs",
        "/",
        "--assert-userns-disabled",
        "--",
        "/bin/true",
    ]);
    assert!(
        err.contains("creation of new user namespaces was not disabled as requested"),
        "{err}"
    );
    run_ok(&[
        "--rootfs",
        "/",
        "--unshare-user",
        "--disable-userns",
        "--assert-userns-disabled",
        "--",
        "/bin/true",
    ]);
}

#[test]
fn command_33_security_labels() {
    const TEST: &str = "command_33_security_labels";
    if cannot_sandbox(TEST) {
        return;
    }
    if voidbox::selinux_enabled() {
        skip(
            TEST,
            "SELinux is enabled: whether the label exists depends on the policy",
        );
        return;
    }
    // As bubblewrap, vb refuses a label where SELinux is off (the library
    // warns instead, sample 33).
    let err = run_failing(&[
        "--rootfs",
        "/",
        "--exec-label",
        "system_u:system_r:container_t:s0",
        "--",
        "/bin/true",
    ]);
    assert!(
        err.contains("labeling not supported on this system"),
        "{err}"
    );
}

#[test]
fn command_34_resource_limits() {
    const TEST: &str = "command_34_resource_limits";
    if cannot_sandbox(TEST) {
        return;
    }
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let mut cmd = vb([
        "--rootfs",
        "/",
        "--unshare-cgroup",
        "--memory-max",
        "268435456",
        "--cpu-max",
        "50000/100000",
        "--pids-max",
        "256",
        "--info-fd",
        "3",
        "--",
        "/bin/cat",
    ]);
    cmd.stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .current_dir("/");
    let mut child = with_fds(&mut cmd, &[(3, write.as_raw_fd())])
        .spawn()
        .unwrap();
    drop(write);
    let info = with_watchdog(Duration::from_secs(20), move || {
        let mut text = String::new();
        File::from(read).read_to_string(&mut text).unwrap();
        text
    });
    if info.is_empty() {
        // vb failed before the sandbox existed.
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success(), "{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!is_root() && err.contains("cgroup"), "{}", describe(&out));
        skip(
            TEST,
            &format!("no cgroup this user may create: {}", err.trim()),
        );
        return;
    }
    let object: serde_json::Value = serde_json::from_str(&info).unwrap();
    let pid = object["child-pid"].as_u64().unwrap();
    let limits = cgroup_limits(pid);
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        skip(
            TEST,
            &format!("limits not enforced on this host: {}", err.trim()),
        );
        return;
    }
    assert_eq!(
        limits,
        ["cpu=50000/100000", "memory=268435456", "pids=256"],
        "{info}"
    );
}

// voidbox's own options beyond bubblewrap's.

#[test]
fn command_seccomp_default() {
    if cannot_sandbox("command_seccomp_default") {
        return;
    }
    assert_eq!(
        run_ok(&[
            "--rootfs",
            "/",
            "--seccomp-default",
            "--",
            "/bin/sh",
            "-c",
            "echo fine"
        ]),
        "fine\n"
    );
    // The profile refuses new namespaces, among others.
    if Path::new("/usr/bin/unshare").exists() {
        let err = run_failing(&[
            "--rootfs",
            "/",
            "--seccomp-default",
            "--",
            "/usr/bin/unshare",
            "--user",
            "/bin/true",
        ]);
        assert!(err.contains("Operation not permitted"), "{err}");
    } else {
        skip(
            "command_seccomp_default",
            "util-linux unshare is not installed",
        );
    }
}

#[test]
fn command_seccomp_deny() {
    const TEST: &str = "command_seccomp_deny";
    if cannot_sandbox(TEST) {
        return;
    }
    let dir = Dir::new(TEST);
    let target = dir.path("made");
    let err = run_failing(&[
        "--rootfs",
        "/",
        "--seccomp-deny",
        "mkdir,mkdirat",
        "--",
        "/bin/mkdir",
        &target,
    ]);
    assert!(err.contains("Operation not permitted"), "{err}");
    assert!(!Path::new(&target).exists());
}

#[test]
fn command_landlock() {
    const TEST: &str = "command_landlock";
    if cannot_sandbox(TEST) {
        return;
    }
    if voidbox::check_host().unwrap().landlock_abi.is_none() {
        skip(TEST, "Landlock is not available on this kernel");
        return;
    }
    let dir = Dir::new(TEST);
    let [inside, outside] = ["inside", "outside"].map(|d| {
        let p = dir.path(d);
        std::fs::create_dir(&p).unwrap();
        p
    });
    let out = run(&[
        "--rootfs",
        "/",
        "--landlock-ro",
        "/",
        "--landlock-rw",
        &inside,
        "--",
        "/bin/sh",
        "-c",
        "echo a > \"$0/f\" && echo allowed; echo b > \"$1/f\" || echo refused",
        &inside,
        &outside,
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "allowed\nrefused\n");
    assert!(Path::new(&inside).join("f").exists());
    assert!(!Path::new(&outside).join("f").exists());
}

#[test]
fn command_rlimit() {
    if cannot_sandbox("command_rlimit") {
        return;
    }
    let out = run_ok(&[
        "--rootfs",
        "/",
        "--rlimit",
        "nofile=64",
        "--",
        "/bin/sh",
        "-c",
        "ulimit -n",
    ]);
    assert_eq!(out, "64\n");
}
