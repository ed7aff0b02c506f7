//! `voidbox::apply_isolation_in_child` in a child this test forks itself, as
//! an embedder that needs its own fork would: the sandbox gets its root, a
//! fresh /proc, its hostname and a working `lo`, and the exit status reaches
//! the caller's `waitpid`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::CString;
use std::io::Read;
use std::os::fd::AsRawFd;

use voidbox::{JailConfig, Namespaces, PreparedIsolation, RootSource};
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
        rootfs: RootSource::Dir("/".into()),
        isolation: Namespaces {
            pid: true,
            uts: true,
            net: true,
            ..Namespaces::default()
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
        rootfs: RootSource::Dir("/".into()),
        isolation: Namespaces {
            pid: true,
            ..Namespaces::default()
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
        rootfs: RootSource::Dir("/".into()),
        isolation: Namespaces {
            pid: true,
            ..Namespaces::default()
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

/// The example `embedder_pty_isolation` (a pty, a fork, voidbox's isolation
/// applied in the child, a shell on the pty's slave, the terminal relayed),
/// driven through a pty pair as a user at a terminal would: the shell runs
/// in the sandbox (its hostname, its own PID namespace) with the pty as its
/// controlling terminal, and the example exits with the shell's status.
#[test]
fn the_pty_embedder_example_runs_a_shell_on_its_terminal() {
    const TEST: &str = "the_pty_embedder_example_runs_a_shell_on_its_terminal";
    if needs_userns(TEST) {
        return;
    }
    let example = voidbox_tests::example_bin("embedder_pty_isolation");
    use rustix::pty::OpenptFlags;
    let master = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    rustix::pty::grantpt(&master).unwrap();
    rustix::pty::unlockpt(&master).unwrap();
    let name = rustix::pty::ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let mut child = std::process::Command::new(example)
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let mut terminal = std::fs::File::from(master);
    use std::io::{Read, Write};
    terminal
        .write_all(b"echo host=$(hostname) tty=$(tty) pid=$$; test -t 0 && echo TTY; exit 7\n")
        .unwrap();
    let output = voidbox_tests::with_watchdog(std::time::Duration::from_secs(30), move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO once the last holder of the slave is gone.
        while let Ok(n) = terminal.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    });
    let status = child.wait().unwrap();
    assert!(output.contains("host=pty-box"), "{output}");
    assert!(output.contains("tty=/dev/pts/"), "{output}");
    assert!(
        output.contains("\nTTY") || output.contains("TTY\r"),
        "{output}"
    );
    // The shell is not the caller's pid: the sandbox has its own namespace.
    // (The pty echoes the typed line too: take the value the shell printed.)
    let pid: u32 = output
        .split("pid=")
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .next()
        .unwrap_or_else(|| panic!("{output}"));
    assert!(pid <= 3, "{output}");
    // The shell's job control works: its terminal is its own session's.
    assert!(!output.contains("Cannot set tty process group"), "{output}");
    assert_eq!(status.code(), Some(7), "{output}");
}
