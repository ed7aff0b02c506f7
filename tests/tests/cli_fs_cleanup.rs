//! Nothing is left behind: the host's mount table, the temporary and staging
//! locations and every host directory a sandbox could write to are the same
//! before and after a run that succeeds, a run whose setup fails at any
//! action, and a run whose `vb` is SIGKILLed during setup. Runs as root and
//! unprivileged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fs_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use fs_support::{Scratch, Tool, args, artifacts, mounts, run_with, skip};

/// Everything outside the sandbox a run could change.
#[derive(Debug, PartialEq, Eq)]
struct HostState {
    mounts: BTreeSet<String>,
    artifacts: BTreeSet<String>,
    scratch: BTreeSet<String>,
}

fn state(scratch: &Scratch) -> HostState {
    HostState {
        mounts: mounts(),
        artifacts: artifacts(),
        scratch: scratch.listing(),
    }
}

/// The tests compare global state (mount table, temporary directory): one
/// at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn userns_or_root(test: &str) -> bool {
    fs_support::is_root()
        || voidbox_tests::userns_available()
        || !skip(test, "neither root nor user namespaces")
}

/// Actions that each change the bound host directory `/h` (or a `--rootfs`
/// at `/`), in a different way.
fn host_writing_actions(s: &Scratch, at: &str) -> Vec<Vec<String>> {
    let src = s.s("src");
    let file = s.s("src/file");
    vec![
        args(&["--dir", &format!("{at}/a/b")]),
        args(&["--file", "3", &format!("{at}/f")]),
        args(&["--symlink", "target", &format!("{at}/l")]),
        args(&["--ro-bind", &src, &format!("{at}/m/n")]),
        args(&["--chmod", "0700", &format!("{at}/existing")]),
        args(&["--bind-data", "4", &format!("{at}/d/e")]),
        args(&["--tmpfs", &format!("{at}/t/u")]),
        args(&["--ro-bind", &file, &format!("{at}/g")]),
        args(&["--perms", "0750", "--dir", &format!("{at}/p/q/r")]),
        args(&["--dev", &format!("{at}/dev")]),
    ]
}

/// Setup-time failures (not caught at compile time).
fn failing_actions(at: &str) -> Vec<Vec<String>> {
    vec![
        args(&["--chmod", "0700", &format!("{at}/no/such")]),
        args(&["--remount-ro", &format!("{at}/existing")]),
        args(&["--file", "3", &format!("{at}/existing/sub/../../f/x")]),
    ]
}

fn prepare(test: &str) -> Scratch {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new(test);
    s.populate();
    let host = s.join("host");
    std::fs::create_dir_all(host.join("existing")).unwrap();
    std::fs::set_permissions(
        host.join("existing"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    // A rootfs for the --rootfs variant: /bin and friends from the host.
    let root = s.join("root");
    std::fs::create_dir_all(root.join("usr")).unwrap();
    std::fs::create_dir_all(root.join("existing")).unwrap();
    for (link, target) in [
        ("bin", "usr/bin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        std::os::unix::fs::symlink(target, root.join(link)).unwrap();
    }
    s
}

fn fds(s: &Scratch) -> [std::path::PathBuf; 2] {
    [s.join("data.txt"), s.join("data2.txt")]
}

#[test]
fn a_failing_action_at_any_position_leaves_the_host_as_it_was() {
    let test = "a_failing_action_at_any_position_leaves_the_host_as_it_was";
    if !userns_or_root(test) {
        return;
    }
    let _serial = serial();
    let s = prepare(test);
    let fd_paths = fds(&s);
    let fd_refs: Vec<&Path> = fd_paths.iter().map(std::path::PathBuf::as_path).collect();
    let host = s.s("host");
    let root = s.s("root");
    for (prefix, at) in [
        (
            args(&["--ro-bind", "/usr", "/usr", "--bind", &host, "/h"]),
            "/h",
        ),
        (args(&["--rootfs", &root, "--ro-bind", "/usr", "/usr"]), ""),
    ] {
        let actions = host_writing_actions(&s, at);
        for failing in failing_actions(at) {
            for position in 0..=actions.len() {
                let before = state(&s);
                let mut argv = prefix.clone();
                for (i, action) in actions.iter().enumerate() {
                    if i == position {
                        argv.extend(failing.clone());
                    }
                    argv.extend(action.clone());
                }
                if position == actions.len() {
                    argv.extend(failing.clone());
                }
                let out = run_with(Tool::Vb, &argv, &fd_refs, &["true"]);
                assert_eq!(out.code, Some(1), "{argv:?}: {out:?}");
                assert!(!out.stderr.is_empty(), "{argv:?}: no message");
                let after = state(&s);
                assert_eq!(
                    after, before,
                    "failure {failing:?} at position {position} with {prefix:?} left changes"
                );
            }
        }
    }
}

#[test]
fn a_successful_run_changes_only_what_it_was_asked_to() {
    let test = "a_successful_run_changes_only_what_it_was_asked_to";
    if !userns_or_root(test) {
        return;
    }
    let _serial = serial();
    let s = prepare(test);
    let fd_paths = fds(&s);
    let fd_refs: Vec<&Path> = fd_paths.iter().map(std::path::PathBuf::as_path).collect();
    let before = state(&s);
    // A tmpfs root: nothing on the host at all.
    let mut argv = args(&["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin"]);
    argv.extend(args(&[
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
    ]));
    for action in host_writing_actions(&s, "/x") {
        argv.extend(action);
    }
    let argv = argv
        .into_iter()
        .map(|a| if a == "/x/existing" { "/x/a".into() } else { a })
        .collect::<Vec<_>>();
    let out = run_with(Tool::Vb, &argv, &fd_refs, &["true"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(state(&s), before);
}

#[test]
fn a_sigkill_during_setup_leaves_no_mounts_artifacts_or_processes() {
    let test = "a_sigkill_during_setup_leaves_no_mounts_artifacts_or_processes";
    if !userns_or_root(test) {
        return;
    }
    let _serial = serial();
    let s = prepare(test);
    let before = state(&s);
    let mark = voidbox_tests::Marked::new("fs-sigkill");
    // Enough work that setup takes a while: many binds, a /dev, a /proc.
    let mut argv = args(&["--die-with-parent", "--ro-bind", "/usr", "/usr"]);
    argv.extend(args(&[
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/lib",
        "/lib",
    ]));
    argv.extend(args(&["--symlink", "usr/lib64", "/lib64"]));
    for i in 0..300 {
        argv.extend(args(&["--ro-bind", &s.s("src"), &format!("/b/{i}")]));
    }
    argv.extend(args(&[
        "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
    ]));
    argv.extend(args(&["sleep", "30"]));
    let mut delays = [0u64, 1, 2, 3, 5, 8, 12, 20, 30, 50].into_iter().cycle();
    for _ in 0..20 {
        let mut child = voidbox_tests::vb(&argv)
            .env(voidbox_tests::MARK_VAR, &*mark)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delays.next().unwrap_or(0)));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            voidbox_tests::eventually(Duration::from_secs(10), || {
                voidbox_tests::processes_with_env(&mark).is_empty()
            }),
            "sandbox processes outlived a SIGKILLed vb"
        );
        assert_eq!(state(&s), before);
    }
}

/// A run whose setup is stuck (writing `--file` data into a FIFO nobody
/// reads) when `vb` is SIGKILLed: the sandbox dies with it
/// (`--die-with-parent`) and its mounts and staging go with its namespace.
#[test]
fn a_sigkill_while_the_child_is_inside_setup_leaves_no_mounts_or_artifacts() {
    let test = "a_sigkill_while_the_child_is_inside_setup_leaves_no_mounts_or_artifacts";
    if !userns_or_root(test) {
        return;
    }
    let _serial = serial();
    let s = prepare(test);
    let fifo = s.join("host/fifo");
    let c_fifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o666) }, 0);
    let before = state(&s);
    let mark = voidbox_tests::Marked::new("fs-stuck");
    let argv = args(&[
        "--die-with-parent",
        "--bind",
        &s.s("host"),
        "/h",
        "--tmpfs",
        "/t",
        "--dev",
        "/dev",
        "--file",
        "0",
        "/h/fifo",
        "true",
    ]);
    let mut child = voidbox_tests::vb(&argv)
        .env(voidbox_tests::MARK_VAR, &*mark)
        .stdin(std::fs::File::open(s.join("data.txt")).unwrap())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // vb and its sandbox child, the child blocked opening the FIFO. The
    // child is not dumpable once past the gate (an unprivileged reader
    // cannot see its environment), so it is followed by pid.
    let vb_pid = child.id();
    let sandbox_child = || {
        std::fs::read_to_string(format!("/proc/{vb_pid}/task/{vb_pid}/children"))
            .ok()
            .and_then(|c| c.split_whitespace().next().map(str::to_owned))
    };
    assert!(
        voidbox_tests::eventually(Duration::from_secs(10), || sandbox_child().is_some()),
        "the sandbox did not start"
    );
    let first = sandbox_child().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        voidbox_tests::eventually(Duration::from_secs(10), || {
            voidbox_tests::processes_with_env(&mark).is_empty()
                && !voidbox_tests::process_alive(&first)
        }),
        "the sandbox outlived its SIGKILLed vb"
    );
    assert_eq!(state(&s), before);
}

#[test]
fn bad_input_leaves_nothing_behind() {
    let test = "bad_input_leaves_nothing_behind";
    if !userns_or_root(test) {
        return;
    }
    let _serial = serial();
    let s = prepare(test);
    let fd_paths = fds(&s);
    let fd_refs: Vec<&Path> = fd_paths.iter().map(std::path::PathBuf::as_path).collect();
    let host = s.s("host");
    let before = state(&s);
    let base = args(&["--bind", &host, "/h", "--dir", "/h/made"]);
    for (extra, message) in [
        (
            args(&["--bind", "/nonexistent/src", "/h/x"]),
            "Can't find source path /nonexistent/src: No such file or directory",
        ),
        (
            args(&["--chmod", "0700", "/h/missing"]),
            "Can't chmod 0700 /h/missing: No such file or directory",
        ),
        (
            args(&["--symlink", "a", "/h/l", "--symlink", "b", "/h/l"]),
            "Can't make symlink at /h/l: existing destination is a",
        ),
        (
            args(&["--file", "77", "/h/f"]),
            "Can't write data to file /h/f: Bad file descriptor",
        ),
        (
            args(&["--bind-fd", "77", "/h/f"]),
            "Can't find source path /proc/self/fd/77: No such file or directory",
        ),
        (
            args(&["--symlink", "/etc", "/h/esc", "--dir", "/h/esc/x"]),
            "Can't mkdir /h/esc/x: No such file or directory",
        ),
        (
            args(&["--overlay-src", &host, "--ro-overlay", "/o"]),
            "--ro-overlay requires at least two --overlay-src",
        ),
        (
            args(&["--size", "abc", "--tmpfs", "/t"]),
            "--size takes a non-zero number of bytes",
        ),
    ] {
        let mut argv = base.clone();
        argv.extend(extra.clone());
        let out = run_with(Tool::Vb, &argv, &fd_refs, &["true"]);
        assert_eq!(out.code, Some(1), "{extra:?}: {out:?}");
        assert_eq!(out.stderr, message, "{extra:?}");
        assert_eq!(state(&s), before, "{extra:?} left changes");
    }
}

/// Without a root switch staged data and tmp-overlay layers live in a
/// private host directory for the sandbox's lifetime; it goes when the
/// session is waited, whether the sandbox ran or failed to start.
#[test]
fn host_root_artifacts_are_removed_when_the_session_ends() {
    let test = "host_root_artifacts_are_removed_when_the_session_ends";
    if !userns_or_root(test) {
        return;
    }
    let _serial = serial();
    use voidbox::{DataSource, FsAction, JailConfig, RootSource};
    let s = prepare(test);
    std::fs::create_dir_all(s.join("lower")).unwrap();
    std::fs::write(s.join("lower/file"), "lower\n").unwrap();
    let before = state(&s);
    let target = s.join("src/file");
    let actions = vec![
        FsAction::BindData {
            source: DataSource::Bytes(b"staged\n".to_vec()),
            dest: target.clone(),
            perms: Some(0o644),
            read_only: true,
        },
        FsAction::OverlaySrc {
            key: "lower".into(),
            path: s.join("lower"),
        },
        FsAction::TmpOverlay {
            sources: vec!["lower".into()],
            dest: s.join("host"),
        },
    ];
    let config = |actions: Vec<FsAction>, script: String| JailConfig {
        rootfs: RootSource::Host,
        fs_actions: actions,
        cmd: vec!["/bin/sh".into(), "-c".into(), script.into()],
        ..JailConfig::default()
    };
    let script = format!(
        "cat {0}/src/file {0}/host/file; echo new > {0}/host/new && cat {0}/host/new; \
         ls -a {1} | grep -c '^.vb-fs-{2}-'",
        s.path.display(),
        std::fs::canonicalize(std::env::temp_dir())
            .unwrap()
            .display(),
        std::process::id()
    );
    let out = voidbox::Command::from_config(config(actions.clone(), script))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "staged\nlower\nnew\n1\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), 0);
    assert_eq!(state(&s), before);

    // The same plan failing at its last action: rolled back, removed.
    let mut failing = actions;
    failing.push(FsAction::Chmod {
        path: s.join("no/such"),
        mode: 0o700,
    });
    let err = voidbox::launch(&config(failing, "true".into())).unwrap_err();
    assert!(err.to_string().starts_with("Can't chmod 0700"), "{err}");
    assert_eq!(state(&s), before);
}
