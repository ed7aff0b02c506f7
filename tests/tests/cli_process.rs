//! PID 1, exit statuses, signals, identity, environment, working directory and
//! argv0 — through `vb`, as root and as an unprivileged user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use voidbox_tests::{
    MARK_VAR, Marked, eventually, is_root, marker, needs_userns, processes_with_env, run_vb,
    stderr, stdout, vb, vb_bin,
};

fn sandbox(extra: &[&str], script: &str) -> std::process::Output {
    let mut args = vec!["--rootfs", "/"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "/bin/sh", "-c", script]);
    run_vb(&args)
}

#[test]
fn command_is_pid_2_under_the_reaper_and_pid_1_with_as_pid_1() {
    if needs_userns("command_is_pid_2_under_the_reaper_and_pid_1_with_as_pid_1") {
        return;
    }
    let out = sandbox(&["--unshare-pid"], "echo $$; cat /proc/1/comm");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "2");
    // The reaper carries vb's name (it is vb-init, which takes the name of
    // the process that executed it, as bubblewrap's pid 1 is `bwrap`).
    assert_eq!(lines[1], "vb");
    let out = sandbox(&["--unshare-pid", "--as-pid-1"], "echo $$");
    assert_eq!(stdout(&out), "1");
    let out = sandbox(&[], "echo $$");
    let pid: i32 = stdout(&out).parse().unwrap();
    assert!(pid > 2, "without a PID namespace the pid is the host's");
}

#[test]
fn exit_codes_and_signals_propagate() {
    for (extra, script, code) in [
        (&[][..], "exit 0", 0),
        (&[][..], "exit 7", 7),
        (&[][..], "kill -9 $$", 137),
        (&["--unshare-pid"][..], "exit 7", 7),
        (&["--unshare-pid"][..], "kill -9 $$", 137),
        (&["--unshare-pid", "--as-pid-1"][..], "exit 7", 7),
    ] {
        if !extra.is_empty() && needs_userns("exit_codes_and_signals_propagate") {
            return;
        }
        let out = sandbox(extra, script);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{extra:?} {script}: {}",
            stderr(&out)
        );
    }
}

/// The pid of `vb`'s direct child (the sandbox's first process).
fn child_of(pid: u32) -> Option<i32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Whether `pid` has a handler for `sig` (the `SigCgt` mask of its status).
fn catches(pid: i32, sig: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (sig - 1)) != 0)
}

/// Start `vb` with `args`, marked so every process of the sandbox is found.
fn start_marked(test: &str, args: &[&str]) -> (std::process::Child, Marked) {
    let mark = Marked::new(test);
    let child = vb(args)
        .env(MARK_VAR, &*mark)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    (child, mark)
}

#[test]
fn sigterm_to_the_reaper_ends_the_command_and_vb_exits_143() {
    if needs_userns("sigterm_to_the_reaper_ends_the_command_and_vb_exits_143") {
        return;
    }
    let (mut child, mark) = start_marked(
        "sigterm",
        &["--rootfs", "/", "--unshare-pid", "--", "/bin/sleep", "1000"],
    );
    // vb, the reaper and the command.
    assert!(eventually(Duration::from_secs(10), || {
        processes_with_env(&mark)
            .iter()
            .any(|p| comm(*p) == "sleep")
    }));
    let reaper = child_of(child.id()).expect("vb has a child");
    // SAFETY: sending SIGTERM to a process this test started.
    assert_eq!(unsafe { libc::kill(reaper, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(eventually(Duration::from_secs(5), || processes_with_env(
        &mark
    )
    .is_empty()));
}

#[test]
fn a_signal_sent_during_setup_is_not_lost() {
    if needs_userns("a_signal_sent_during_setup_is_not_lost") {
        return;
    }
    // The signal goes to the reaper as soon as it exists, most likely while
    // it is still setting up; it is queued and forwarded once it can be.
    let (mut child, mark) = start_marked(
        "early",
        &["--rootfs", "/", "--unshare-pid", "--", "/bin/sleep", "1000"],
    );
    assert!(eventually(Duration::from_secs(10), || child_of(child.id()).is_some()));
    let reaper = child_of(child.id()).expect("vb has a child");
    // SAFETY: signalling a process this test started.
    assert_eq!(unsafe { libc::kill(reaper, libc::SIGTERM) }, 0);
    assert!(
        voidbox_tests::with_watchdog(Duration::from_secs(30), move || child
            .wait()
            .unwrap()
            .code())
            == Some(143)
    );
    assert!(eventually(Duration::from_secs(5), || processes_with_env(
        &mark
    )
    .is_empty()));
}

#[test]
fn reaper_forwards_usr1_to_the_command() {
    if needs_userns("reaper_forwards_usr1_to_the_command") {
        return;
    }
    let script = "trap 'echo got-usr1; exit 3' USR1; while :; do sleep 0.05; done";
    let (child, mark) = start_marked(
        "usr1",
        &[
            "--rootfs",
            "/",
            "--unshare-pid",
            "--",
            "/bin/sh",
            "-c",
            script,
        ],
    );
    // The shell's trap must be in place before the signal arrives.
    assert!(eventually(Duration::from_secs(10), || {
        processes_with_env(&mark)
            .iter()
            .any(|p| comm(*p) == "sh" && catches(*p, libc::SIGUSR1))
    }));
    let reaper = child_of(child.id()).expect("vb has a child");
    // SAFETY: signalling a process this test started.
    assert_eq!(unsafe { libc::kill(reaper, libc::SIGUSR1) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "got-usr1");
}

#[test]
fn die_with_parent_kills_the_sandboxed_tree() {
    // With a PID namespace the whole tree goes; without one, the command
    // itself (bubblewrap's semantics: the death signal is the command's).
    // The counts are of the marked processes whose environment the suite can
    // read: vb and the command's tree. The reaper is not dumpable, so an
    // unprivileged reader cannot see its environment: it is followed by pid.
    let cases: [(&[&str], &str, usize); 2] = [
        (&["--unshare-pid"], "sleep 1000 & sleep 1000 & wait", 4),
        (&[], "exec sleep 1000", 2),
    ];
    for (extra, script, expected) in cases {
        if !extra.is_empty() && needs_userns("die_with_parent_kills_the_sandboxed_tree") {
            return;
        }
        // A --rootfs is nodev: the shell's background jobs need a /dev/null.
        let mut args = vec!["--rootfs", "/", "--dev", "/dev", "--die-with-parent"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "/bin/sh", "-c", script]);
        let (mut child, mark) = start_marked("dwp", &args);
        assert!(
            eventually(Duration::from_secs(10), || processes_with_env(&mark).len()
                >= expected),
            "the sandbox did not start ({extra:?})"
        );
        let first = child_of(child.id()).expect("vb has a child");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            eventually(Duration::from_secs(5), || processes_with_env(&mark)
                .is_empty()
                && !voidbox_tests::process_alive(first)),
            "processes left after SIGKILL of vb ({extra:?}): {:?}",
            processes_with_env(&mark)
        );
    }
}

/// `--die-with-parent` covers vb itself, as in bubblewrap: when the process
/// that started vb dies, vb and the sandbox die too rather than live on
/// reparented.
#[test]
fn die_with_parent_kills_vb_when_its_parent_dies() {
    // The sandbox's processes whose environment the suite can read: the
    // command (a reaper is not dumpable, so it is followed by pid).
    let cases: [(&[&str], usize); 2] = [(&[], 1), (&["--unshare-pid"], 1)];
    for (extra, sandbox_processes) in cases {
        if !extra.is_empty() && needs_userns("die_with_parent_kills_vb_when_its_parent_dies") {
            return;
        }
        let mark = Marked::new("dwp-vb");
        // A shell starts vb in the background and exits once its stdin closes.
        let mut shell = Command::new("/bin/sh")
            .args(["-c", r#""$0" "$@" & read _"#])
            .arg(vb_bin())
            .args(["--rootfs", "/", "--die-with-parent"])
            .args(extra)
            .args(["--", "/bin/sleep", "1000"])
            .env(MARK_VAR, &*mark)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The shell, vb and the sandbox's processes.
        assert!(
            eventually(Duration::from_secs(10), || {
                let found = processes_with_env(&mark);
                found.len() > 1 + sandbox_processes && found.iter().any(|p| comm(*p) == "sleep")
            }),
            "the sandbox did not start ({extra:?})"
        );
        let vb_pid = child_of(shell.id()).expect("the shell started vb");
        let first = child_of(u32::try_from(vb_pid).unwrap()).expect("vb started the sandbox");
        drop(shell.stdin.take());
        shell.wait().unwrap();
        assert!(
            eventually(Duration::from_secs(5), || processes_with_env(&mark)
                .is_empty()
                && !voidbox_tests::process_alive(first)),
            "left after vb's parent died ({extra:?}, vb was {vb_pid}): {:?}",
            processes_with_env(&mark)
                .iter()
                .map(|p| (*p, comm(*p)))
                .collect::<Vec<_>>()
        );
    }
}

/// A launcher that execs vb with SIGCHLD ignored (inherited across exec)
/// still gets the command's exit status, and the command gets the default
/// disposition back, as under bubblewrap.
#[test]
fn an_ignored_sigchld_in_the_launcher_keeps_the_exit_status() {
    let mut cmd = vb([
        "--rootfs",
        "/",
        "--",
        "/bin/sh",
        "-c",
        "grep SigIgn /proc/self/status; exit 7",
    ]);
    // SAFETY: signal() is async-signal-safe, and this runs in the forked
    // child just before it execs vb.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGCHLD, libc::SIG_IGN);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let ignored = stdout(&out)
        .strip_prefix("SigIgn:")
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .expect("the command's SigIgn line");
    assert_eq!(
        ignored & (1 << (libc::SIGCHLD - 1)),
        0,
        "the command inherited an ignored SIGCHLD"
    );
}

#[test]
fn uid_and_gid_inside_follow_the_options() {
    if needs_userns("uid_and_gid_inside_follow_the_options") {
        return;
    }
    let real = format!(
        "{} {}",
        rustix::process::getuid().as_raw(),
        rustix::process::getgid().as_raw()
    );
    let out = sandbox(&[], "echo $(id -u) $(id -g)");
    assert_eq!(stdout(&out), real);
    let out = sandbox(
        &["--unshare-user", "--uid", "1234", "--gid", "4321"],
        "echo $(id -u) $(id -g)",
    );
    assert_eq!(stdout(&out), "1234 4321", "{}", stderr(&out));
    let out = sandbox(
        &["--unshare-user", "--uid", "0", "--gid", "0"],
        "echo $(id -u) $(id -g)",
    );
    assert_eq!(stdout(&out), "0 0");
    // setgroups is denied in the new user namespace.
    let out = sandbox(&["--unshare-user"], "cat /proc/self/setgroups");
    assert_eq!(stdout(&out), "deny");
    if is_root() {
        let out = sandbox(&["--uid", "5", "--gid", "0"], "true");
        assert_eq!(out.status.code(), Some(1));
    }
}

#[test]
fn hostname_is_set_in_the_uts_namespace() {
    if needs_userns("hostname_is_set_in_the_uts_namespace") {
        return;
    }
    let out = sandbox(&["--unshare-uts", "--hostname", "vb-test-host"], "hostname");
    assert_eq!(stdout(&out), "vb-test-host", "{}", stderr(&out));
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    assert_ne!(host, "vb-test-host", "the host's name must be untouched");
}

#[test]
fn environment_edits_apply_in_order_and_pwd_is_set() {
    let out = vb([
        "--rootfs",
        "/",
        "--clearenv",
        "--setenv",
        "A",
        "1",
        "--setenv",
        "B",
        "2",
        "--unsetenv",
        "A",
        "--setenv",
        "C",
        "x y",
        "--chdir",
        "/usr",
        "--",
        "/usr/bin/env",
    ])
    .output()
    .unwrap();
    let mut lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(lines, vec!["B=2", "C=x y", "PWD=/usr"]);
}

#[test]
fn environment_matches_bubblewrap() {
    if std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_err()
    {
        voidbox_tests::skip("environment_matches_bubblewrap", "bwrap is not installed");
        return;
    }
    let edits = [
        "--setenv",
        "VB_T",
        "1",
        "--unsetenv",
        "HOME",
        "--setenv",
        "X",
        "y",
    ];
    let mut vb_args = vec!["--rootfs", "/"];
    vb_args.extend_from_slice(&edits);
    vb_args.extend_from_slice(&["--", "/usr/bin/env"]);
    let mut bwrap_args = vec!["--bind", "/", "/"];
    bwrap_args.extend_from_slice(&edits);
    bwrap_args.push("/usr/bin/env");
    let sorted = |o: std::process::Output| {
        let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    let ours = sorted(vb(&vb_args).current_dir("/").output().unwrap());
    let theirs = sorted(
        std::process::Command::new("bwrap")
            .args(&bwrap_args)
            .current_dir("/")
            .output()
            .unwrap(),
    );
    assert_eq!(ours, theirs);
}

#[test]
fn default_cwd_is_old_cwd_then_home_then_root() {
    let dir = std::env::temp_dir().join(marker("cwd"));
    std::fs::create_dir_all(&dir).unwrap();
    let cwd_of = |rootfs: &str, env: &[&str]| {
        let mut args = vec!["--rootfs", rootfs];
        args.extend_from_slice(env);
        args.extend_from_slice(&["--", "/bin/sh", "-c", "echo $(pwd) $PWD"]);
        let out = vb(&args).current_dir(&dir).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let here = dir.display().to_string();
    assert_eq!(cwd_of("/", &[]), format!("{here} {here}"));
    // Inside a root made of /usr the old cwd does not exist: $HOME, then /.
    assert_eq!(
        cwd_of("/usr", &["--setenv", "HOME", "/share"]),
        "/share /share"
    );
    assert_eq!(cwd_of("/usr", &["--unsetenv", "HOME"]), "/ /");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn argv0_replaces_what_the_command_sees() {
    let out = sandbox(&["--argv0", "custom-name"], "echo $0");
    assert_eq!(stdout(&out), "custom-name");
}

#[test]
fn new_session_detaches_from_the_session() {
    // The caller's session id, as the kernel reports it: 0 when the
    // session leader lives outside this pid namespace (a container), which
    // rustix's `getsid` cannot represent.
    // SAFETY: getsid(0) only reads the calling process's session id.
    let caller_sid = unsafe { libc::getsid(0) };
    // Without a reaper the command leads the new session itself.
    let out = sandbox(&["--new-session"], "ps -o sid= -p $$ | tr -d ' '; echo $$");
    let text = stdout(&out);
    let mut lines = text.lines();
    let sid = lines.next().unwrap_or_default();
    let pid = lines.next().unwrap_or_default();
    assert_eq!(sid, pid, "the command leads its own session");
    assert_ne!(sid, caller_sid.to_string(), "a session of its own");
    if needs_userns("new_session_detaches_from_the_session") {
        return;
    }
    // Under a reaper the session is made before the reaper's fork, as
    // bubblewrap does: pid 1 leads it, and keeps none of the caller's
    // terminal either.
    let out = sandbox(
        &["--new-session", "--unshare-pid", "--proc", "/proc"],
        "ps -o sid= -p $$ | tr -d ' '; ps -o sid= -p 1 | tr -d ' '; ps -o tty= -p 1",
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"1"), "{text}");
    assert_eq!(
        lines.get(1),
        Some(&"1"),
        "the reaper leads the session: {text}"
    );
    assert_eq!(
        lines.get(2).map(|l| l.trim()),
        Some("?"),
        "no terminal: {text}"
    );
}

/// PID 1 under a signal storm while children come and go: no zombie is
/// left, the exit code is the command's, and vb does not hang.
#[test]
fn pid_1_keeps_reaping_and_the_exit_code_under_a_signal_storm() {
    if needs_userns("pid_1_keeps_reaping_and_the_exit_code_under_a_signal_storm") {
        return;
    }
    use std::io::BufRead;
    let (mut child, _mark) = start_marked(
        "storm",
        &[
            "--rootfs",
            "/",
            "--unshare-pid",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--",
            "/bin/sh",
            "-c",
            voidbox_tests::STORM_SCRIPT,
        ],
    );
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let reaper = child_of(child.id()).expect("vb has a child");
    voidbox_tests::signal_storm(reaper);
    let (rest, status) = voidbox_tests::with_watchdog(Duration::from_secs(60), move || {
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        (rest, child.wait().unwrap())
    });
    assert_eq!(rest, ["zombies=0"]);
    assert_eq!(status.code(), Some(3));
}
