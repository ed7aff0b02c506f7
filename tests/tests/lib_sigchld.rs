//! The library keeps the sandbox's exit status whatever the embedder does
//! with SIGCHLD: ignored (the kernel would reap children of its own accord),
//! or handled by a `waitpid(-1)` loop (which reaps any child that exits with
//! SIGCHLD: the sandbox's first process under a reaper exits with no signal
//! and is left alone; a command the caller's child executes directly is the
//! documented exception). A test binary of its own: the disposition is
//! process-wide.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use voidbox::{JailConfig, Namespaces, RootSource};

fn exit_7(pid_namespace: bool) -> i32 {
    let isolation = if pid_namespace && voidbox_tests::userns_available() {
        Namespaces {
            pid: true,
            user: !voidbox_tests::is_root(),
            ..Namespaces::default()
        }
    } else {
        Namespaces::default()
    };
    let config = JailConfig {
        rootfs: RootSource::Host,
        cmd: vec!["/bin/sh".into(), "-c".into(), "exit 7".into()],
        isolation,
        ..JailConfig::default()
    };
    voidbox::launch(&config).unwrap().code()
}

extern "C" fn reap_everything(_: libc::c_int) {
    let mut status = 0;
    // SAFETY: waitpid is async-signal-safe; the loop ends on ECHILD or 0.
    while unsafe { libc::waitpid(-1, &raw mut status, libc::WNOHANG) } > 0 {}
}

#[test]
fn the_exit_status_survives_an_ignored_or_handled_sigchld() {
    // SAFETY: changing this test process's SIGCHLD disposition; the binary
    // holds this one test.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    assert_eq!(exit_7(false), 7, "SIGCHLD ignored");
    assert_eq!(exit_7(true), 7, "SIGCHLD ignored, PID namespace");
    let handler = reap_everything as extern "C" fn(libc::c_int);
    // SAFETY: installing an async-signal-safe handler.
    unsafe { libc::signal(libc::SIGCHLD, handler as libc::sighandler_t) };
    if voidbox_tests::userns_available() || voidbox_tests::is_root() {
        for _ in 0..20 {
            assert_eq!(exit_7(true), 7, "a waitpid(-1) handler, PID namespace");
        }
    } else {
        voidbox_tests::skip(
            "the_exit_status_survives_a_waitpid_handler",
            "user namespaces are disabled on this host",
        );
    }
    // SAFETY: back to the default.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
}
