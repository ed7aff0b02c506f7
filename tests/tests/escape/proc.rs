//! Attacks on the processes and descriptors of the sandbox: capabilities
//! regained, pid 1 used as a stepping stone, descriptors vb consumed or held,
//! terminal injection.
//!
//! Who is attacked matters: a caller whose real uid is 0 keeps its own
//! capabilities by default (bubblewrap's model: `--cap-drop ALL` confines
//! root), so the "cannot undo the sandbox" cases run as uid 65534 (with and
//! without `--uid 0`) and as root with `--cap-drop ALL` (with and without a
//! user namespace and `--uid 0`).

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;
use std::time::Duration;

use voidbox_tests::{
    is_root, needs_root, needs_userns, run_vb, skip, stderr, stdout, vb, with_fds, with_watchdog,
};

/// The ways a sandbox is entered that must leave the command without any
/// privilege over it.
pub(super) fn confined_profiles() -> Vec<Vec<&'static str>> {
    if is_root() {
        vec![
            vec!["--cap-drop", "ALL"],
            vec!["--cap-drop", "ALL", "--unshare-user"],
            vec!["--cap-drop", "ALL", "--unshare-user", "--uid", "0"],
        ]
    } else {
        vec![vec![], vec!["--uid", "0"]]
    }
}

fn sandbox(profile: &[&str], extra: &[&str], script: &str) -> std::process::Output {
    let mut args: Vec<&str> = vec!["--ro-bind", "/", "/"];
    args.extend_from_slice(profile);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "/bin/sh", "-c", script]);
    run_vb(&args)
}

#[test]
fn a_tmpfs_mask_cannot_be_unmounted_from_inside() {
    if needs_userns("a_tmpfs_mask_cannot_be_unmounted_from_inside") {
        return;
    }
    for profile in confined_profiles() {
        // /etc is masked by an empty tmpfs; the attack unmounts it (lazily
        // too) and looks for the host's passwd underneath. (No redirection
        // to /dev/null: under `--ro-bind / /` it is on a nodev mount, the
        // redirection fails and the shell skips the attack.)
        let out = sandbox(
            &profile,
            &["--tmpfs", "/etc"],
            "umount /etc; umount -l /etc; \
             test -e /etc/passwd && echo EXPOSED || echo masked",
        );
        assert_eq!(stdout(&out), "masked", "{profile:?}: {}", stderr(&out));
    }
}

#[test]
fn a_read_only_bind_cannot_be_made_writable_from_inside() {
    if needs_userns("a_read_only_bind_cannot_be_made_writable_from_inside") {
        return;
    }
    let dir = tempdir("rw");
    for profile in confined_profiles() {
        let script = "mount -o remount,rw /mnt/w; \
             mount -o remount,bind,rw /mnt/w; \
             mount --bind /mnt/w /mnt/w; \
             touch /mnt/w/pwned && echo WROTE || echo refused";
        let mut extra = vec!["--tmpfs", "/mnt", "--ro-bind"];
        let path = dir.to_str().unwrap();
        extra.extend_from_slice(&[path, "/mnt/w"]);
        let out = sandbox(&profile, &extra, script);
        assert_eq!(stdout(&out), "refused", "{profile:?}: {}", stderr(&out));
        assert!(!dir.join("pwned").exists(), "{profile:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_command_has_no_new_privs_and_no_capabilities_when_confined() {
    if needs_userns("the_command_has_no_new_privs_and_no_capabilities_when_confined") {
        return;
    }
    for profile in confined_profiles() {
        let out = sandbox(
            &profile,
            &[],
            "grep -E '^(CapPrm|CapEff|CapAmb|CapInh|NoNewPrivs):' /proc/self/status",
        );
        let text = stdout(&out);
        for line in text.lines() {
            let value = line.split_whitespace().nth(1).unwrap_or_default();
            if line.starts_with("NoNewPrivs") {
                assert_eq!(value, "1", "{profile:?}: {text}");
            } else {
                assert_eq!(value, "0000000000000000", "{profile:?}: {text}");
            }
        }
        assert_eq!(text.lines().count(), 5, "{profile:?}: {text}");
    }
}

#[test]
fn uid_0_in_a_user_namespace_regains_nothing_on_exec() {
    // Exec as uid 0 in a user namespace hands the bounding set back to the
    // permitted set: it must have been cut.
    if needs_userns("uid_0_in_a_user_namespace_regains_nothing_on_exec") {
        return;
    }
    let out = if is_root() {
        sandbox(
            &["--unshare-user", "--uid", "0", "--cap-drop", "ALL"],
            &[],
            "grep -E '^CapBnd:' /proc/self/status",
        )
    } else {
        sandbox(&["--uid", "0"], &[], "grep -E '^CapBnd:' /proc/self/status")
    };
    assert_eq!(
        stdout(&out).split_whitespace().nth(1),
        Some("0000000000000000"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn status_descriptors_never_reach_the_command() {
    // A command that could write to --json-status-fd would forge the
    // sandbox's exit status for whoever reads it.
    for opt in ["--json-status-fd", "--info-fd"] {
        let mut cmd = vb(["--ro-bind", "/", "/", opt, "3", "--", "/bin/sh", "-c"]);
        cmd.arg("echo '{ \"exit-code\": 0 }' >&3 && echo FORGED; exit 5")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = with_fds(&mut cmd, &[(3, 1)]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!text.contains("FORGED"), "{opt}: {text}");
        assert_eq!(out.status.code(), Some(5), "{opt}: {text}");
        if opt == "--json-status-fd" {
            let exits: Vec<&str> = text.lines().filter(|l| l.contains("exit-code")).collect();
            assert_eq!(exits, ["{ \"exit-code\": 5 }"], "{text}");
        }
    }
}

#[test]
fn consumed_descriptors_are_closed_and_inherited_ones_pass_through() {
    // fd 5: --block-fd (a readable pipe), fd 6: --file source, fd 7: merely
    // inherited.
    let (block_r, block_w) = pipe();
    rustix::io::write(&block_w, b"x").unwrap();
    let data = voidbox_tests::bpf::data_fd(b"data\n");
    let inherited = std::fs::File::open("/dev/null").unwrap();
    let mut cmd = vb([
        "--ro-bind",
        "/",
        "/",
        "--tmpfs",
        "/mnt",
        "--block-fd",
        "5",
        "--file",
        "6",
        "/mnt/data",
        "--",
        "/bin/sh",
        "-c",
        "for fd in 5 6 7; do test -e /proc/self/fd/$fd && echo open-$fd; done; cat /mnt/data",
    ]);
    let out = with_fds(
        &mut cmd,
        &[
            (5, block_r.as_raw_fd()),
            (6, data.as_raw_fd()),
            (7, inherited.as_raw_fd()),
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "open-7\ndata");
}

#[test]
fn pid_1_holds_no_descriptor_of_the_launcher() {
    if needs_userns("pid_1_holds_no_descriptor_of_the_launcher") {
        return;
    }
    // vb runs with an extra inherited descriptor (7) and stdio pipes; the
    // reaper must hold none of them, only its status pipe to vb.
    let inherited = std::fs::File::open("/dev/null").unwrap();
    let mut cmd = vb([
        "--ro-bind",
        "/",
        "/",
        "--unshare-pid",
        "--",
        "/bin/sleep",
        "1000",
    ]);
    cmd.stdout(Stdio::piped());
    let mut child = with_fds(&mut cmd, &[(7, inherited.as_raw_fd())])
        .spawn()
        .unwrap();
    let pid = child.id();
    // Once the command runs, pid 1 is locked down (it waits for that).
    let reaper = voidbox_tests::eventually(Duration::from_secs(10), || {
        first_child(pid).is_some_and(|r| {
            first_child(r).is_some_and(|c| {
                std::fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|n| n == "sleep\n")
            })
        })
    });
    assert!(reaper, "the sandbox did not start");
    let reaper = first_child(pid).unwrap();
    let fds = if is_root() {
        let fds: Vec<String> = std::fs::read_dir(format!("/proc/{reaper}/fd"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                std::fs::read_link(e.path())
                    .map(|t| t.display().to_string())
                    .unwrap_or_default()
            })
            .collect();
        Some(fds)
    } else {
        // Not dumpable: an unprivileged process cannot even list them.
        assert!(std::fs::read_dir(format!("/proc/{reaper}/fd")).is_err());
        None
    };
    // SIGKILL to the sandbox's pid 1 ends its namespace; then vb exits.
    // SAFETY: signalling a process this test started.
    unsafe { libc::kill(i32::try_from(reaper).unwrap(), libc::SIGKILL) };
    child.wait().unwrap();
    if let Some(fds) = fds {
        // The status pipe, and vb-init's signalfd (the in-process reaper
        // has none).
        let pipes = fds.iter().filter(|f| f.starts_with("pipe:")).count();
        let others: Vec<_> = fds
            .iter()
            .filter(|f| !f.starts_with("pipe:") && f.as_str() != "anon_inode:[signalfd]")
            .collect();
        assert_eq!(pipes, 1, "only the status pipe: {fds:?}");
        assert!(others.is_empty(), "{fds:?}");
    }
}

#[test]
fn pid_1_cannot_be_read_or_traced_from_inside() {
    if needs_userns("pid_1_cannot_be_read_or_traced_from_inside") {
        return;
    }
    // The reaper is a copy of the launcher's memory: nothing of it may be
    // readable from the sandbox. Opening environ, mem and maps is what the
    // kernel checks; the descriptor numbers may be listed by a command whose
    // uid owns the reaper's /proc entry, but none may be followed. (Output
    // is discarded into a variable, not /dev/null: under `--ro-bind / /` that
    // is on a nodev mount, and a failed redirection would skip the attack.)
    for profile in confined_profiles() {
        let out = sandbox(
            &profile,
            &["--unshare-pid", "--proc", "/proc"],
            "for f in environ mem maps; do \
               out=$( (: < /proc/1/$f) 2>&1) && echo readable-$f; done; \
             for f in cwd root; do out=$(ls /proc/1/$f/ 2>&1) && echo readable-$f; done; \
             for l in /proc/1/fd/*; do out=$(readlink $l 2>&1) && echo readable-fd; done; \
             grep -E '^(CapEff|CapPrm|NoNewPrivs):' /proc/1/status",
        );
        let text = stdout(&out);
        assert!(!text.contains("readable"), "{profile:?}: {text}");
        assert!(
            text.contains("CapEff:\t0000000000000000"),
            "{profile:?}: {text}"
        );
        assert!(
            text.contains("CapPrm:\t0000000000000000"),
            "{profile:?}: {text}"
        );
        assert!(text.contains("NoNewPrivs:\t1"), "{profile:?}: {text}");
    }
}

#[test]
fn reaper_keeps_no_pipe_of_other_threads() {
    // Thread A keeps sandboxes with reapers alive; thread B runs short
    // commands with captured output. A reaper holding B's pipe write ends
    // would keep B's read waiting until that sandbox ends.
    if needs_userns("reaper_keeps_no_pipe_of_other_threads") {
        return;
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spawner_stop = stop.clone();
    let spawner = std::thread::spawn(move || {
        let config = voidbox::JailConfig {
            rootfs: voidbox::RootSource::Dir("/".into()),
            cmd: vec!["/bin/sleep".into(), "1000".into()],
            isolation: voidbox::Namespaces {
                pid: true,
                user: true,
                ..voidbox::Namespaces::default()
            },
            ..voidbox::JailConfig::default()
        };
        let mut sessions = Vec::new();
        while !spawner_stop.load(std::sync::atomic::Ordering::Relaxed) && sessions.len() < 40 {
            sessions.push(voidbox::spawn(&config).unwrap());
        }
        sessions
    });
    with_watchdog(Duration::from_secs(60), move || {
        for _ in 0..40 {
            let out = std::process::Command::new("/bin/echo")
                .arg("ok")
                .output()
                .unwrap();
            assert_eq!(out.stdout, b"ok\n");
        }
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    // Dropping the sessions kills the sandboxes.
    drop(spawner.join().unwrap());
}

#[test]
fn a_seccomp_program_binds_the_command_and_pid_1() {
    if needs_userns("a_seccomp_program_binds_the_command_and_pid_1") {
        return;
    }
    // mkdir refused with ENOTSUP (95): distinctive, and a second stacked
    // program refuses rmdir with EROFS.
    let deny_mkdir = voidbox_tests::bpf::data_fd(&voidbox_tests::bpf::deny(&[(
        libc::SYS_mkdir,
        libc::ENOTSUP,
    )]));
    let deny_rmdir =
        voidbox_tests::bpf::data_fd(&voidbox_tests::bpf::deny(&[(libc::SYS_rmdir, libc::EROFS)]));
    let mut cmd = vb([
        "--ro-bind",
        "/",
        "/",
        "--tmpfs",
        "/tmp",
        "--dir",
        "/tmp/d",
        "--unshare-pid",
        "--proc",
        "/proc",
        "--add-seccomp-fd",
        "5",
        "--add-seccomp-fd",
        "6",
        "--",
        "/bin/sh",
        "-c",
        "mkdir /tmp/x; rmdir /tmp/d; grep Seccomp_filters /proc/1/status /proc/self/status",
    ]);
    let out = with_fds(
        &mut cmd,
        &[(5, deny_mkdir.as_raw_fd()), (6, deny_rmdir.as_raw_fd())],
    )
    .output()
    .unwrap();
    let err = stderr(&out);
    assert!(err.contains("Operation not supported"), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    let text = stdout(&out);
    assert!(
        text.contains("/proc/1/status:Seccomp_filters:\t2"),
        "{text}"
    );
    assert!(
        text.contains("/proc/self/status:Seccomp_filters:\t2"),
        "{text}"
    );
}

#[test]
fn terminal_injection_is_refused_when_the_session_is_shared() {
    // python3 pushes a byte into its terminal with TIOCSTI; `script` gives
    // the whole run a pseudo-terminal as controlling terminal.
    if std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").is_ok_and(|s| s.trim() == "0") {
        skip(
            "terminal_injection_is_refused_when_the_session_is_shared",
            "TIOCSTI is disabled on this kernel (legacy_tiocsti=0)",
        );
        return;
    }
    let inject = "python3 -c 'import fcntl, termios\ntry:\n    fcntl.ioctl(0, termios.TIOCSTI, b\"x\")\n    print(\"INJECTED\")\nexcept OSError as e:\n    print(\"refused\", e.errno)'";
    let under_a_terminal = |extra: &str| {
        let line = format!(
            "{} --ro-bind / / --dev /dev {extra} -- /bin/sh -c \"{}\"",
            voidbox_tests::vb_bin().display(),
            inject.replace('"', "\\\"")
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = under_a_terminal("");
    assert!(text.contains(&format!("refused {}", libc::EPERM)), "{text}");
    // The opt-out shows the attack is real where the filter is not.
    let text = under_a_terminal("--allow-tiocsti");
    assert!(text.contains("INJECTED"), "{text}");
}

fn first_child(pid: u32) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    voidbox_tests::shared_tempdir("escape", name)
}

#[test]
fn a_seccomp_allowlist_refuses_what_it_does_not_list() {
    // What a dynamically linked cat needs to start, without openat: the
    // loader cannot open libc and reports the allowlist's errno (95).
    let mut allowed = vec![
        libc::SYS_execve,
        libc::SYS_brk,
        libc::SYS_mmap,
        libc::SYS_mprotect,
        libc::SYS_munmap,
        libc::SYS_access,
        libc::SYS_read,
        libc::SYS_write,
        libc::SYS_writev,
        libc::SYS_close,
        libc::SYS_fstat,
        libc::SYS_newfstatat,
        libc::SYS_pread64,
        libc::SYS_exit_group,
        libc::SYS_exit,
        libc::SYS_set_tid_address,
        libc::SYS_set_robust_list,
        libc::SYS_rseq,
        libc::SYS_prlimit64,
        libc::SYS_getrandom,
        libc::SYS_ioctl,
        libc::SYS_lseek,
        libc::SYS_readlink,
        libc::SYS_fadvise64,
    ];
    #[cfg(target_arch = "x86_64")]
    allowed.push(libc::SYS_arch_prctl);
    let run = |allowed: &[i64]| {
        let program =
            voidbox_tests::bpf::data_fd(&voidbox_tests::bpf::allow_only(allowed, libc::ENOTSUP));
        let mut cmd = vb([
            "--ro-bind",
            "/",
            "/",
            "--seccomp",
            "5",
            "/bin/cat",
            "/etc/hostname",
        ]);
        with_fds(&mut cmd, &[(5, program.as_raw_fd())])
            .output()
            .unwrap()
    };
    let out = run(&allowed);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(stderr(&out).contains("Error 95"), "{}", stderr(&out));
    // Listing openat (and futex, which the C library needs once it runs)
    // lets it through.
    allowed.extend([libc::SYS_openat, libc::SYS_futex]);
    let out = run(&allowed);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        std::fs::read_to_string("/etc/hostname").unwrap().trim()
    );
}

/// Every line of the command's `/proc/self/cgroup` names the root of its
/// hierarchy: its cgroup namespace is rooted at its own (limited) cgroup.
fn cgroup_namespace_is_rooted(out: &std::process::Output) -> bool {
    let text = stdout(out);
    !text.is_empty() && text.lines().all(|l| l.ends_with(":/"))
}

#[test]
fn a_cgroup_namespace_is_rooted_at_the_limits_when_namespaces_are_joined() {
    // Made before the cgroup was joined, the namespace would be rooted at
    // the caller's cgroup, and a command with capabilities could mount the
    // hierarchy and move itself out of its limits.
    if needs_root("a_cgroup_namespace_is_rooted_at_the_limits_when_namespaces_are_joined") {
        return;
    }
    let holder = voidbox_tests::NsHolder::start(&["--pid", "--fork"]);
    let pidns = holder.ns("pid_for_children");
    let mut cmd = vb([
        "--ro-bind",
        "/",
        "/",
        "--pidns",
        "3",
        "--unshare-pid",
        "--unshare-cgroup",
        "--pids-max",
        "20",
        "--",
        "cat",
        "/proc/self/cgroup",
    ]);
    let out = with_fds(&mut cmd, &[(3, pidns.as_raw_fd())])
        .output()
        .unwrap();
    assert!(
        cgroup_namespace_is_rooted(&out),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn a_cgroup_namespace_is_rooted_at_the_limits_with_userns_block_fd() {
    // The helper of --userns-block-fd needs the namespace ids before the
    // child goes on: the cgroup is placed before the child starts instead
    // of the namespace being made too early.
    if needs_root("a_cgroup_namespace_is_rooted_at_the_limits_with_userns_block_fd") {
        return;
    }
    let (info_r, info_w) = pipe();
    let (block_r, block_w) = pipe();
    let mut cmd = vb([
        "--ro-bind",
        "/",
        "/",
        "--unshare-user",
        "--unshare-cgroup",
        "--pids-max",
        "20",
        "--info-fd",
        "3",
        "--userns-block-fd",
        "4",
        "--",
        "cat",
        "/proc/self/cgroup",
    ]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = with_fds(
        &mut cmd,
        &[(3, info_w.as_raw_fd()), (4, block_r.as_raw_fd())],
    )
    .spawn()
    .unwrap();
    drop((info_w, block_r));
    let info = with_watchdog(Duration::from_secs(20), move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::from(info_r), &mut s).unwrap();
        s
    });
    let pid: i32 = info
        .split("\"child-pid\": ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("child-pid");
    std::fs::write(format!("/proc/{pid}/uid_map"), "0 0 1\n").unwrap();
    std::fs::write(format!("/proc/{pid}/setgroups"), "deny\n").unwrap();
    std::fs::write(format!("/proc/{pid}/gid_map"), "0 0 1\n").unwrap();
    rustix::io::write(&block_w, b"x").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        cgroup_namespace_is_rooted(&out),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn the_sandbox_child_is_not_dumpable_during_setup() {
    // Until it executes, the sandbox's first process holds the launcher's
    // memory: a forked copy, which must not be readable by a process of the
    // same user, or (a launch without a copy, CLONE_VM) the launcher's
    // memory itself, which is then exactly as readable as the launcher.
    // Either way nothing becomes readable that was not.
    if is_root() {
        skip(
            "the_sandbox_child_is_not_dumpable_during_setup",
            "root reads any process's memory: the unprivileged pass runs it",
        );
        return;
    }
    let (block_r, block_w) = pipe();
    let mut cmd = vb(["--ro-bind", "/", "/", "--block-fd", "3", "--", "/bin/true"]);
    let mut child = with_fds(&mut cmd, &[(3, block_r.as_raw_fd())])
        .spawn()
        .unwrap();
    drop(block_r);
    let vb_pid = child.id();
    assert!(voidbox_tests::eventually(Duration::from_secs(10), || {
        first_child(vb_pid).is_some()
    }));
    let sandbox = first_child(vb_pid).unwrap();
    // Give it time to pass the gate and block on the descriptor.
    std::thread::sleep(Duration::from_millis(200));
    let environ = std::fs::read(format!("/proc/{sandbox}/environ"));
    let mem = std::fs::File::open(format!("/proc/{sandbox}/mem"));
    let shared = voidbox_tests::share_memory(
        i32::try_from(vb_pid).unwrap(),
        i32::try_from(sandbox).unwrap(),
    );
    let launcher = std::fs::read(format!("/proc/{vb_pid}/environ"));
    rustix::io::write(&block_w, b"x").unwrap();
    assert!(child.wait().unwrap().success());
    if shared {
        assert_eq!(
            environ.ok(),
            launcher.ok(),
            "the same memory, the same access"
        );
    } else {
        assert!(environ.is_err(), "the launcher's environment is readable");
        assert!(mem.is_err(), "the launcher's memory is readable");
    }
}

#[test]
fn terminal_injection_is_refused_when_dev_tty_is_hidden() {
    // The caller's controlling terminal is found from its process status,
    // not from whether /dev/tty opens (a mount can hide it).
    if needs_root("terminal_injection_is_refused_when_dev_tty_is_hidden") {
        return;
    }
    let dir = tempdir("tty");
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, b"").unwrap();
    let inject = "python3 -c 'import fcntl, termios\ntry:\n    fcntl.ioctl(0, termios.TIOCSTI, b\"x\")\n    print(\"INJECTED\")\nexcept OSError as e:\n    print(\"refused\", e.errno)'";
    let inner = format!(
        "mount --bind {} /dev/tty && {} --ro-bind / / -- /bin/sh -c \"{}\"",
        blocker.display(),
        voidbox_tests::vb_bin().display(),
        inject.replace('"', "\\\"")
    );
    let line = format!("unshare -m sh -c '{}'", inner.replace('\'', "'\\''"));
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.contains(&format!("refused {}", libc::EPERM)), "{text}");
}

/// The errno each call gets inside a sandbox run with `extra`, from a small
/// python3 probe calling `syscall(nr, ARG0, ARG1, -1, -1, -1, -1)` (each
/// call given as `(name, nr, ARG0, ARG1)`, mostly -1): arguments that make
/// the kernel itself fail (a bad descriptor, pointer or flag) with an errno
/// other than EPERM wherever no capability check comes first.
fn probe_errnos(
    extra: &[&str],
    calls: &[(String, i64, i64, i64)],
) -> std::collections::BTreeMap<String, i32> {
    let list: Vec<String> = calls
        .iter()
        .map(|(n, nr, a0, a1)| format!("({n:?}, {nr}, {a0}, {a1})"))
        .collect();
    let script = format!(
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n\
         m = ctypes.c_long(-1)\n\
         for name, nr, a0, a1 in [{}]:\n    ctypes.set_errno(0)\n    r = libc.syscall(ctypes.c_long(nr), ctypes.c_long(a0), ctypes.c_long(a1), m, m, m, m)\n    print(name, 0 if r >= 0 else ctypes.get_errno())\n",
        list.join(", ")
    );
    let mut args: Vec<&str> = vec!["--ro-bind", "/", "/", "--cap-drop", "ALL"];
    if !is_root() {
        args.truncate(3);
    }
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "/usr/bin/python3", "-c", &script]);
    let out = run_vb(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|l| {
            let (name, errno) = l.split_once(' ')?;
            Some((name.to_owned(), errno.parse().ok()?))
        })
        .collect()
}

#[test]
fn the_default_profile_refuses_each_listed_call_and_x32() {
    let mut calls: Vec<(String, i64, i64, i64)> = vb_proc::filter::DEFAULT_DENIED
        .iter()
        .map(|(name, _)| {
            let call = vb_proc::Syscall::by_name(name).unwrap();
            ((*name).to_owned(), call.number(), -1, -1)
        })
        .collect();
    // unshare(-1) carries every namespace flag; 0x80 is CLONE_NEWTIME alone.
    calls.push(("unshare_namespaces".into(), libc::SYS_unshare, -1, -1));
    calls.push(("unshare_time".into(), libc::SYS_unshare, 0x80, -1));
    calls.push(("ioctl".into(), libc::SYS_ioctl, -1, 0x5412)); // TIOCSTI
    calls.push(("ioctl_tioclinux".into(), libc::SYS_ioctl, -1, 0x541c));
    // USERFAULTFD_IOC_NEW: /dev/userfaultfd's way to a userfaultfd.
    calls.push(("ioctl_userfaultfd".into(), libc::SYS_ioctl, -1, 0xaa00));
    #[cfg(target_arch = "x86_64")]
    calls.push(("x32_getpid".into(), 0x4000_0000 | libc::SYS_getpid, -1, -1));
    let filtered = probe_errnos(&["--seccomp-default"], &calls);
    let unfiltered = probe_errnos(&[], &calls);
    assert_eq!(filtered.len(), calls.len(), "{filtered:?}");
    for (name, _, _, _) in &calls {
        assert_eq!(
            filtered.get(name),
            Some(&libc::EPERM),
            "{name}: {filtered:?}"
        );
    }
    // Not vacuous: without the profile the kernel answers otherwise for the
    // calls that need no privilege to get past their first checks.
    for name in [
        "setns",
        "ptrace",
        "process_vm_readv",
        "open_tree",
        "open_tree_attr",
        "io_uring_setup",
        "ioctl",
        "ioctl_userfaultfd",
    ] {
        assert_ne!(
            unfiltered.get(name),
            Some(&libc::EPERM),
            "{name}: {unfiltered:?}"
        );
    }
    #[cfg(target_arch = "x86_64")]
    assert_ne!(unfiltered.get("x32_getpid"), Some(&libc::EPERM));
    // clone3 is answered ENOSYS, so the C library falls back to clone.
    let clone3 = probe_errnos(
        &["--seccomp-default"],
        &[("clone3".into(), libc::SYS_clone3, -1, -1)],
    );
    assert_eq!(clone3.get("clone3"), Some(&libc::ENOSYS));
}

#[test]
fn seccomp_deny_and_a_policy_refuse_what_they_name() {
    let calls = [
        ("mkdirat".to_owned(), libc::SYS_mkdirat, -1, -1),
        ("mknodat".to_owned(), libc::SYS_mknodat, -1, -1),
    ];
    let denied = probe_errnos(&["--seccomp-deny", "mkdirat"], &calls);
    assert_eq!(denied.get("mkdirat"), Some(&libc::EPERM));
    assert_ne!(denied.get("mknodat"), Some(&libc::EPERM));
    let dir = tempdir("policy");
    let policy = dir.join("policy.json");
    std::fs::write(
        &policy,
        r#"{"main": {"mismatch_action": "allow", "match_action": {"errno": 13},
            "filter": [{"syscall": "mknodat"}]}}"#,
    )
    .unwrap();
    let by_policy = probe_errnos(&["--seccomp-policy", policy.to_str().unwrap()], &calls);
    assert_eq!(by_policy.get("mknodat"), Some(&libc::EACCES));
    assert_ne!(by_policy.get("mkdirat"), Some(&libc::EACCES));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rlimits_read_back_inside() {
    let out = run_vb([
        "--ro-bind",
        "/",
        "/",
        "--rlimit",
        "nofile=64:128",
        "--rlimit",
        "core=0",
        "--",
        "/bin/sh",
        "-c",
        "ulimit -Sn; ulimit -Hn; grep -E '^Max (open files|core file size)' /proc/self/limits",
    ]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"64"), "{text} {}", stderr(&out));
    assert_eq!(lines.get(1), Some(&"128"), "{text}");
    assert!(
        text.contains("Max core file size        0                    0"),
        "{text}"
    );
    assert!(
        text.contains("Max open files            64                   128"),
        "{text}"
    );
}

/// What the memory scan in the sandbox reports: which processes' memory it
/// could open, and in which it found the pattern.
const MEMORY_SCAN: &str = r#"
import os, sys
pattern = sys.argv[1][::-1].encode()
found, readable = [], 0
for pid in os.listdir('/proc'):
    if not pid.isdigit() or int(pid) == os.getpid():
        continue
    try:
        maps = open(f'/proc/{pid}/maps').read().splitlines()
        mem = open(f'/proc/{pid}/mem', 'rb', 0)
    except OSError:
        continue
    readable += 1
    for line in maps:
        start, end = (int(x, 16) for x in line.split()[0].split('-'))
        try:
            mem.seek(start)
            if pattern in mem.read(end - start):
                found.append(pid)
                break
        except (OSError, ValueError, OverflowError):
            pass
print('found', ' '.join(found) or '-', 'readable', readable)
"#;

#[test]
fn no_process_the_command_reaches_yields_the_launchers_memory() {
    // An embedder's process holds secrets. The command, launched in-process
    // from this test, reads the memory of every process it can see
    // (/proc/<pid>/mem, mapping by mapping) looking for one: pid 1 of its
    // namespace, the launcher itself where the PID namespace is shared. It
    // is given the secret reversed, so the plan's copy of its argv does not
    // count.
    const TEST: &str = "no_process_the_command_reaches_yields_the_launchers_memory";
    if needs_userns(TEST) {
        return;
    }
    if !std::path::Path::new("/usr/bin/python3").exists() {
        skip(TEST, "python3 is not installed");
        return;
    }
    let secret = format!("launcher-secret-{}", voidbox_tests::marker(TEST));
    let held = std::hint::black_box(secret.clone().into_bytes());
    let reversed: String = secret.chars().rev().collect();
    // With a user namespace: root of the host without one keeps its
    // capabilities in the sandbox (as under bubblewrap) and is not confined
    // from the host's processes.
    let cases = [
        ("every namespace", voidbox::Namespaces::ALL, None),
        ("every namespace, uid 0", voidbox::Namespaces::ALL, Some(0)),
        (
            "the PID namespace shared",
            voidbox::Namespaces {
                pid: false,
                ..voidbox::Namespaces::ALL
            },
            None,
        ),
    ];
    for (what, isolation, uid) in cases {
        let mut config = voidbox::JailConfig {
            rootfs: voidbox::RootSource::Dir("/".into()),
            cmd: vec![
                "/usr/bin/python3".into(),
                "-c".into(),
                MEMORY_SCAN.into(),
                reversed.clone().into(),
            ],
            isolation,
            ..voidbox::JailConfig::default()
        };
        config.process.uid = uid;
        config.fs_actions.push(voidbox::FsAction::Proc {
            dest: "/proc".into(),
        });
        let out = voidbox::Command::from_config(config).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{what}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.starts_with("found - "), "{what}: {text}");
    }
    drop(held);
}

#[test]
fn pid_1_is_vb_init_and_maps_none_of_the_launcher() {
    // An embedder's view: after an in-process launch, the sandbox's pid 1
    // is the small vb-init program, not a copy of this process (whose
    // resident memory is megabytes), named as this process is, and it
    // forwards SIGTERM.
    const TEST: &str = "pid_1_is_vb_init_and_maps_none_of_the_launcher";
    if needs_userns(TEST) {
        return;
    }
    if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        skip(TEST, "vb-init is written for x86-64 and aarch64 only");
        return;
    }
    let config = voidbox::JailConfig {
        rootfs: voidbox::RootSource::Dir("/".into()),
        cmd: vec!["/bin/sleep".into(), "1000".into()],
        isolation: voidbox::Namespaces::ALL,
        ..voidbox::JailConfig::default()
    };
    let mut session = voidbox::spawn(&config).unwrap();
    let pid = session.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let rss_kib: u64 = field("VmRSS:")
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signalling the sandbox's pid 1, which forwards it.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let code = session.wait().unwrap().code();
    // Named as the launcher is (as bubblewrap's pid 1 is `bwrap`).
    let own = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
    assert_eq!(field("Name:"), own.trim(), "{status}");
    assert!(rss_kib < 256, "pid 1 resident: {rss_kib} kB");
    assert_eq!(
        code,
        128 + libc::SIGTERM,
        "SIGTERM forwarded to the command"
    );
}
