//! Bad command lines: bubblewrap's message, exit status 1, and nothing left
//! behind — the host's mount table unchanged and no process of the attempt
//! still running. Where bubblewrap is installed, its message for the same
//! command line is compared too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use voidbox_tests::{marker, mount_table, processes_with, run_vb, stderr, vb_bin};

/// Run vb with `args` (where `MARK` stands for a unique marker that also ends
/// the command line, so leftover processes can be found); assert exit 1, the
/// message, and no leftovers.
fn rejects(args: &[&str], message: &str) {
    let mark = marker("bad");
    let mounts_before = mount_table();
    let mut full: Vec<String> = args.iter().map(|a| a.replace("MARK", &mark)).collect();
    full.push(mark.clone());
    let out = run_vb(&full);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    let expected = message.replace("MARK", &mark);
    assert_eq!(stderr(&out), format!("vb: {expected}"), "{args:?}");
    assert_eq!(
        mount_table(),
        mounts_before,
        "{args:?} changed the host's mounts"
    );
    assert!(processes_with(&mark).is_empty(), "{args:?} left processes");
}

#[test]
fn unknown_option() {
    rejects(&["--bogus"], "Unknown option --bogus");
}

#[test]
fn missing_argument() {
    // An option's values are whatever follows it, so a missing value can only
    // be at the very end of the command line, before anything could run.
    let mounts_before = mount_table();
    for (args, message) in [
        (
            &["--rootfs", "/", "--chdir"][..],
            "--chdir takes one argument",
        ),
        (&["--uid"][..], "--uid takes an argument"),
        (&["--bind", "/"][..], "--bind takes two arguments"),
    ] {
        let out = run_vb(args);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stderr(&out), format!("vb: {message}"));
    }
    assert_eq!(mount_table(), mounts_before);
}

#[test]
fn non_numeric_uid() {
    rejects(&["--uid", "abc", "true"], "Invalid uid: abc");
}

#[test]
fn hostname_without_uts_namespace() {
    rejects(
        &["--rootfs", "/", "--hostname", "x", "true"],
        "Specifying --hostname requires --unshare-uts",
    );
}

#[test]
fn as_pid_1_without_pid_namespace() {
    rejects(
        &["--rootfs", "/", "--as-pid-1", "true"],
        "Specifying --as-pid-1 requires --unshare-pid",
    );
}

#[test]
fn command_that_does_not_exist() {
    rejects(
        &["--rootfs", "/", "/nonexistent/MARK"],
        "execvp /nonexistent/MARK: No such file or directory",
    );
}

#[test]
fn rootfs_that_does_not_exist() {
    rejects(
        &["--rootfs", "/nonexistent/root", "true"],
        "Can't find rootfs /nonexistent/root: No such file or directory",
    );
}

#[test]
fn explicit_chdir_that_does_not_exist() {
    rejects(
        &["--rootfs", "/", "--chdir", "/nonexistent/dir", "true"],
        "Can't chdir to /nonexistent/dir: No such file or directory",
    );
}

#[test]
fn no_command_prints_usage_and_exits_1() {
    let out = run_vb(["--unshare-pid"]);
    assert_eq!(out.status.code(), Some(1));
    let usage = format!(
        "usage: {} [OPTIONS...] [--] COMMAND [ARGS...]",
        vb_bin().display()
    );
    assert!(stderr(&out).starts_with(&usage));
    let out = run_vb(["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--unshare-pid"));
}

#[test]
fn invoked_as_bwrap_it_speaks_as_bwrap() {
    let dir = std::env::temp_dir().join(marker("bwrapname"));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("bwrap");
    std::os::unix::fs::symlink(vb_bin(), &link).unwrap();
    let out = Command::new(&link).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "bwrap: Unknown option --bogus");
    let out = Command::new(&link).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("bubblewrap "));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The messages bubblewrap 0.8.0 and vb share, compared side by side.
#[test]
fn messages_match_bubblewrap() {
    if Command::new("bwrap").arg("--version").output().is_err() {
        voidbox_tests::skip("messages_match_bubblewrap", "bwrap is not installed");
        return;
    }
    let cases: &[&[&str]] = &[
        &["--bogus", "true"],
        &["--uid"],
        &["--chdir"],
        &["--setenv", "A"],
        &["--bind", "/"],
        &["--ro-bind-fd", "3"],
        &["--uid", "abc", "true"],
        &["--gid", "-1", "true"],
        &["--info-fd", "x", "true"],
        &["--perms", "8", "--tmpfs", "/t", "true"],
        &["--perms", "0700", "--dev-bind", "/", "/", "true"],
        &["--size", "10", "--dir", "/x", "true"],
        &["--size", "0", "--tmpfs", "/x", "true"],
        &["--perms", "1", "--perms", "1", "true"],
        &["--chmod", "8", "/x", "true"],
        &["--dev-bind", "/", "/", "--hostname", "x", "true"],
        &["--dev-bind", "/", "/", "--as-pid-1", "true"],
        &["--seccomp", "3", "--add-seccomp-fd", "4", "true"],
        &["--unshare-pid", "--as-pid-1", "--lock-file", "/x", "true"],
        &["--userns-block-fd", "3", "true"],
        &["--disable-userns", "true"],
    ];
    // As root no user namespace is implied, so a foreign uid needs one.
    let root_only: &[&[&str]] = &[&["--dev-bind", "/", "/", "--uid", "5", "true"]];
    let cases: Vec<&[&str]> = cases
        .iter()
        .copied()
        .chain(
            voidbox_tests::is_root()
                .then_some(root_only)
                .into_iter()
                .flatten()
                .copied(),
        )
        .collect();
    for args in cases {
        let theirs = Command::new("bwrap").args(args).output().unwrap();
        let ours = Command::new(vb_bin()).args(args).output().unwrap();
        assert_eq!(ours.status.code(), Some(1), "{args:?}");
        assert_eq!(theirs.status.code(), Some(1), "{args:?}");
        let theirs = stderr(&theirs).replacen("bwrap: ", "", 1);
        let ours = stderr(&ours).replacen("vb: ", "", 1);
        assert_eq!(ours, theirs, "{args:?}");
    }
}

/// The options vb adds beyond bubblewrap name what is wrong with their value
/// and stop before anything is set up.
#[test]
fn security_options_beyond_bubblewrap() {
    let dir = std::env::temp_dir().join(marker("badpolicy"));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let two = write(
        "two.json",
        r#"{"a": {"mismatch_action": "allow", "match_action": "log", "filter": []},
            "b": {"mismatch_action": "allow", "match_action": "log", "filter": []}}"#,
    );
    let unknown_call = write(
        "call.json",
        r#"{"main": {"mismatch_action": "allow", "match_action": {"errno": 1},
            "filter": [{"syscall": "nosuchcall"}]}}"#,
    );
    let truncated = write("truncated.json", "{\n");
    let weakened = write(
        "weakened.json",
        r#"{"main": {"mismatch_action": "allow", "match_action": {"errno": 1},
            "filter": [{"syscall": "mkdirat"},
                       {"syscall": "mkdirat", "args": [{"index": 2, "type": "dword",
                        "op": "eq", "val": 123}]}]}}"#,
    );
    rejects(
        &["--ro-bind", "/", "/", "--seccomp-policy", &weakened, "true"],
        &format!(
            "--seccomp-policy {weakened}: \"mkdirat\" is listed both without and with argument \
             conditions; seccompiler would keep only the conditions, so the call would pass when \
             none holds: list it once"
        ),
    );
    rejects(
        &[
            "--ro-bind",
            "/",
            "/",
            "--seccomp-deny",
            "nosuchcall",
            "true",
        ],
        "--seccomp-deny: unknown system call \"nosuchcall\"",
    );
    rejects(
        &["--ro-bind", "/", "/", "--seccomp-policy", &two, "true"],
        &format!("--seccomp-policy {two}: a policy holds one filter; this one holds 2"),
    );
    for (path, needle) in [
        (&unknown_call, "nosuchcall"),
        (&truncated, "line 2 column 0"),
        (&"/nonexistent/policy.json".to_owned(), "No such file"),
    ] {
        let mounts_before = mount_table();
        let out = run_vb(["--ro-bind", "/", "/", "--seccomp-policy", path, "true"]);
        assert_eq!(out.status.code(), Some(1), "{path}");
        let message = stderr(&out);
        assert!(
            message.starts_with(&format!("vb: --seccomp-policy {path}: "))
                && message.contains(needle),
            "{message}"
        );
        assert_eq!(mount_table(), mounts_before);
    }
    rejects(
        &["--ro-bind", "/", "/", "--rlimit", "nofile=10:5", "true"],
        "--rlimit: the soft limit of nofile is above its hard limit",
    );
    rejects(
        &["--ro-bind", "/", "/", "--rlimit", "nofile", "true"],
        "--rlimit: \"nofile\" is not NAME=SOFT[:HARD] (numbers or unlimited)",
    );
    rejects(
        &["--ro-bind", "/", "/", "--rlimit", "bogus=1", "true"],
        "--rlimit: unknown resource \"bogus\"; expected one of nofile, nproc, as, core, cpu, \
         fsize, memlock, stack, data, msgqueue, nice, rtprio, sigpending",
    );
    // Landlock rules name the sandbox's paths: a missing one is found after
    // the root switch, and everything set up until then is undone.
    rejects(
        &[
            "--ro-bind",
            "/",
            "/",
            "--landlock-ro",
            "/nonexistent/MARK",
            "true",
        ],
        "landlock path /nonexistent/MARK: No such file or directory",
    );
    rejects(
        &["--ro-bind", "/", "/", "--landlock-rw", "relative", "true"],
        "landlock path relative: not an absolute path",
    );
    for option in ["--landlock-tcp-bind", "--landlock-tcp-connect"] {
        for port in ["http", "65536", "-1", "+80", ""] {
            rejects(
                &["--ro-bind", "/", "/", option, port, "true"],
                &format!("{option}: invalid port {port:?} (a number from 0 to 65535)"),
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
