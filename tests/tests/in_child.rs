//! `voidbox::apply_isolation_in_child` in a child this test forks itself, as
//! an embedder that needs its own fork would: the sandbox gets its root, a
//! fresh /proc, its hostname and a working `lo`, and the exit status reaches
//! the caller's `waitpid`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::CString;
use std::io::Read;
use std::os::fd::AsRawFd;

use voidbox::{IsolationOptions, JailConfig, PreparedIsolation, RootFs};
use voidbox_tests::needs_userns;

fn run(config: &JailConfig, script: &str) -> (i32, String) {
    let prepared = PreparedIsolation::new(config).unwrap();
    let sh = c"/bin/sh";
    let args = [
        sh.to_owned(),
        c"-c".to_owned(),
        CString::new(script).unwrap(),
    ];
    let argv: Vec<*const libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr())
        .chain([std::ptr::null()])
        .collect();
    let envp: [*const libc::c_char; 2] = [
        c"PATH=/usr/sbin:/usr/bin:/sbin:/bin".as_ptr(),
        std::ptr::null(),
    ];
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let write_fd = write.as_raw_fd();
    // SAFETY: a raw fork; the child only makes system calls on prepared data.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) };
    if pid == 0 {
        // SAFETY: the child: redirect stdout, apply, exec.
        unsafe {
            libc::dup2(write_fd, 1);
            if voidbox::apply_isolation_in_child(&prepared).is_err() {
                libc::_exit(99);
            }
            libc::execve(sh.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(98);
        }
    }
    drop(write);
    let mut out = String::new();
    std::fs::File::from(read).read_to_string(&mut out).unwrap();
    let mut status = 0;
    // SAFETY: waiting for the child forked above.
    unsafe { libc::waitpid(i32::try_from(pid).unwrap(), &mut status, 0) };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    (code, out.trim().to_owned())
}

#[test]
fn isolation_applied_in_a_caller_forked_child() {
    if needs_userns("isolation_applied_in_a_caller_forked_child") {
        return;
    }
    let mut config = JailConfig {
        rootfs: RootFs::Dir("/".into()),
        isolation: IsolationOptions {
            pid: true,
            uts: true,
            net: true,
            ..IsolationOptions::default()
        },
        ..JailConfig::default()
    };
    config.runtime.hostname = Some("forked".into());
    let script = "echo $$ $(hostname) $(ls /proc | grep -c '^[0-9]') $(ip -o -4 addr show dev lo | grep -c 127.0.0.1); exit 5";
    let (code, out) = run(&config, script);
    // pid 2 under the reaper; the fresh /proc shows the sandbox's processes
    // only (reaper, shell, and the pipeline's commands).
    let fields: Vec<&str> = out.split(' ').collect();
    assert_eq!(code, 5, "{out}");
    assert_eq!(fields[0], "2");
    assert_eq!(fields[1], "forked");
    assert!(fields[2].parse::<u32>().unwrap() < 10, "{out}");
    assert_eq!(fields[3], "1", "lo carries 127.0.0.1: {out}");
}

#[test]
fn limits_are_refused_in_this_mode() {
    let config = JailConfig {
        resources: voidbox::ResourceLimits::from_reference(None, None, Some("10")).unwrap(),
        ..JailConfig::default()
    };
    let err = PreparedIsolation::new(&config).unwrap_err();
    assert!(err.to_string().contains("not supported yet"), "{err}");
}

#[test]
fn killing_the_pid_the_caller_knows_ends_the_sandbox() {
    // The process the caller forked stays above the new PID namespace as a
    // waiter; a SIGTERM to it must reach the command (hardening: it used to
    // forward nothing, leaving the sandbox running).
    if needs_userns("killing_the_pid_the_caller_knows_ends_the_sandbox") {
        return;
    }
    let config = JailConfig {
        rootfs: RootFs::Dir("/".into()),
        isolation: IsolationOptions {
            pid: true,
            ..IsolationOptions::default()
        },
        ..JailConfig::default()
    };
    let prepared = PreparedIsolation::new(&config).unwrap();
    let sleep = c"/bin/sleep";
    let argv = [sleep.as_ptr(), c"1000".as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    // SAFETY: a raw fork; the child only makes system calls on prepared data.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) };
    if pid == 0 {
        // SAFETY: the child: apply, exec.
        unsafe {
            if voidbox::apply_isolation_in_child(&prepared).is_err() {
                libc::_exit(99);
            }
            libc::execve(sleep.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(98);
        }
    }
    let pid = i32::try_from(pid).unwrap();
    // Wait until the sleep runs two levels below (waiter, reaper, command).
    let grandchild_runs = voidbox_tests::eventually(std::time::Duration::from_secs(10), || {
        let children = |p: i32| {
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default()
        };
        children(pid)
            .split_whitespace()
            .filter_map(|c| c.parse::<i32>().ok())
            .any(|reaper| !children(reaper).trim().is_empty())
    });
    assert!(grandchild_runs, "the sandbox did not start");
    // SAFETY: signalling the child this test forked.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = voidbox_tests::with_watchdog(std::time::Duration::from_secs(10), move || {
        let mut status = 0;
        // SAFETY: waiting for the child forked above.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        status
    });
    assert!(libc::WIFEXITED(status), "{status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 128 + libc::SIGTERM);
}

#[test]
fn landlock_and_the_named_seccomp_bind_a_caller_forked_child() {
    if needs_userns("landlock_and_the_named_seccomp_bind_a_caller_forked_child") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("vb-inchild-landlock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = JailConfig {
        rootfs: RootFs::Dir("/".into()),
        isolation: IsolationOptions {
            pid: true,
            ..IsolationOptions::default()
        },
        ..JailConfig::default()
    };
    config.security.landlock = voidbox::LandlockSpec {
        paths: vec![voidbox::PathRule::read_only("/")],
        ..voidbox::LandlockSpec::default()
    };
    config.security.seccomp_deny = vec![voidbox::Syscall::by_name("mknodat").unwrap()];
    let prepared = PreparedIsolation::new(&config).unwrap();
    if !prepared.warnings().is_empty() {
        voidbox_tests::skip(
            "landlock_and_the_named_seccomp_bind_a_caller_forked_child",
            &format!("{:?}", prepared.warnings()),
        );
        return;
    }
    let target = dir.join("written");
    let script = format!(
        "echo x > {0} && echo WROTE; mkfifo {0}.fifo && echo MADE-FIFO; read l < /etc/hostname && echo READ",
        target.display()
    );
    let (code, out) = run(&config, &script);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("READ"), "{out}");
    assert!(!out.contains("WROTE"), "{out}");
    assert!(!out.contains("MADE-FIFO"), "{out}");
    assert!(!target.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
