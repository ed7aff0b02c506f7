//! End-to-end tests of vb-proc: real clones into real namespaces. They need only
//! unprivileged user namespaces, so they run as root and as an ordinary user;
//! where the host forbids user namespaces they print a SKIP line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsString;
use std::io::Read;
use std::os::fd::AsFd;

use vb_proc::{
    ChildFailure, ChildHooks, Namespaces, ProcError, ProcessPlan, ProcessSpec, Step, Termination,
};

fn sh(script: &str) -> Vec<OsString> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

fn spec(command: Vec<OsString>) -> ProcessSpec<'static> {
    ProcessSpec {
        command,
        env: std::env::vars_os().collect(),
        ..ProcessSpec::default()
    }
}

fn userns() -> Namespaces {
    Namespaces {
        user: true,
        ..Namespaces::default()
    }
}

fn userns_available(test: &str) -> bool {
    let ok = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .map(|s| s.trim() != "0")
        .unwrap_or(false);
    if !ok {
        skip_line(test, "user namespaces are disabled on this host");
    }
    ok
}

/// Run `spec` with stdout captured.
fn run(spec: ProcessSpec<'_>) -> Result<(Termination, String), ProcError> {
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let mut spec = spec;
    spec.stdio[1] = Some(write.as_fd());
    let plan = ProcessPlan::prepare(&spec)?;
    let pending = plan.clone_child(&ChildHooks::default(), None)?;
    let running = pending.release();
    drop(write);
    let running = running?;
    let mut out = String::new();
    std::fs::File::from(read).read_to_string(&mut out).unwrap();
    Ok((running.wait()?, out))
}

#[test]
fn exit_codes_propagate() {
    assert_eq!(run(spec(sh("exit 0"))).unwrap().0, Termination::Exited(0));
    assert_eq!(run(spec(sh("exit 7"))).unwrap().0, Termination::Exited(7));
    let (status, _) = run(spec(sh("kill -9 $$"))).unwrap();
    assert_eq!(status, Termination::Signaled(libc::SIGKILL));
    assert_eq!(status.code(), 137);
}

#[test]
fn reaper_reports_the_commands_status() {
    if !userns_available("reaper_reports_the_commands_status") {
        return;
    }
    let ns = Namespaces {
        pid: true,
        ..userns()
    };
    let mut s = spec(sh("exit 7"));
    s.namespaces = ns;
    assert_eq!(run(s.clone()).unwrap().0, Termination::Exited(7));
    s.command = sh("kill -9 $$");
    let (status, _) = run(s).unwrap();
    assert_eq!(status, Termination::Signaled(libc::SIGKILL));
}

#[test]
fn command_is_pid_2_under_the_reaper_and_pid_1_without() {
    if !userns_available("command_is_pid_2_under_the_reaper_and_pid_1_without") {
        return;
    }
    let mut s = spec(sh("echo $$"));
    s.namespaces = Namespaces {
        pid: true,
        ..userns()
    };
    assert_eq!(run(s.clone()).unwrap().1.trim(), "2");
    s.as_pid_1 = true;
    assert_eq!(run(s).unwrap().1.trim(), "1");
}

#[test]
fn user_namespace_maps_the_requested_ids() {
    if !userns_available("user_namespace_maps_the_requested_ids") {
        return;
    }
    let mut s = spec(vec![
        "/bin/sh".into(),
        "-c".into(),
        "echo $(id -u) $(id -g)".into(),
    ]);
    s.namespaces = userns();
    s.uid = Some(1234);
    s.gid = Some(4321);
    assert_eq!(run(s.clone()).unwrap().1.trim(), "1234 4321");
    s.uid = None;
    s.gid = None;
    let expected = format!(
        "{} {}",
        rustix::process::getuid().as_raw(),
        rustix::process::getgid().as_raw()
    );
    assert_eq!(run(s).unwrap().1.trim(), expected);
}

#[test]
fn hostname_is_set_in_a_new_uts_namespace() {
    if !userns_available("hostname_is_set_in_a_new_uts_namespace") {
        return;
    }
    let mut s = spec(vec!["/bin/hostname".into()]);
    s.namespaces = Namespaces {
        uts: true,
        ..userns()
    };
    s.hostname = Some("vb-proc-test".into());
    assert_eq!(run(s).unwrap().1.trim(), "vb-proc-test");
}

#[test]
fn environment_argv0_and_chdir_reach_the_command() {
    let mut s = spec(vec![
        "/bin/sh".into(),
        "-c".into(),
        r#"echo "$0|$FOO|$PWD|$(pwd)""#.into(),
    ]);
    s.env = vec![
        ("FOO".into(), "bar".into()),
        ("PWD".into(), "/nowhere".into()),
    ];
    s.argv0 = Some("renamed".into());
    s.chdir = Some("/usr".into());
    assert_eq!(run(s).unwrap().1.trim(), "renamed|bar|/usr|/usr");
}

#[test]
fn missing_command_reports_exec_enoent() {
    let err = run(spec(vec!["/nonexistent/command".into()])).unwrap_err();
    match err {
        ProcError::Child(failure) => {
            assert_eq!(Step::of(&failure), Some(Step::Exec));
            assert_eq!(failure.errno, libc::ENOENT);
        }
        other => panic!("expected a child failure, got {other:?}"),
    }
}

#[test]
fn missing_chdir_reports_the_chdir_step() {
    let mut s = spec(vec!["/bin/true".into()]);
    s.chdir = Some("/nonexistent/dir".into());
    match run(s).unwrap_err() {
        ProcError::Child(ChildFailure { errno, .. }) => assert_eq!(errno, libc::ENOENT),
        other => panic!("expected a child failure, got {other:?}"),
    }
}

#[test]
fn dropping_a_pending_child_kills_and_reaps_it() {
    let s = spec(vec!["/bin/sleep".into(), "100".into()]);
    let plan = ProcessPlan::prepare(&s).unwrap();
    let pending = plan.clone_child(&ChildHooks::default(), None).unwrap();
    let pid = pending.pid().as_raw_nonzero().get();
    drop(pending);
    // Reaped: the pid no longer exists as our child (kill reports ESRCH).
    // SAFETY: signal 0 only checks for existence.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    assert!(!alive, "pending child {pid} survived its drop");
}

/// Print a SKIP line straight to file descriptor 2, past libtest's capture of
/// passing tests' output, so a skip is never silent.
fn skip_line(test: &str, reason: &str) {
    let line = format!("SKIP {test}: {reason}\n");
    let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
}
