//! `InChildPlan::apply` in a child the test forks itself, as an embedder would:
//! the plan is prepared before the fork, the child applies it with system
//! calls only and executes a prepared argv.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::CString;
use std::io::Read;
use std::os::fd::AsRawFd;

use vb_proc::{ChildHooks, InChildPlan, InChildSpec, Namespaces};

/// Fork, apply `spec` in the child and run `script` with `/bin/sh -c`; return
/// (exit code as the caller sees it, stdout).
fn run(spec: &InChildSpec, script: &str) -> (i32, String) {
    let plan = InChildPlan::prepare(spec).unwrap();
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
    let envp: [*const libc::c_char; 2] = [c"PATH=/usr/bin:/bin".as_ptr(), std::ptr::null()];
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let write_fd = write.as_raw_fd();
    // SAFETY: a raw fork; the child below only makes system calls on data
    // prepared above and then execs or _exits.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) };
    if pid == 0 {
        // SAFETY: the child: dup2 the prepared pipe, apply, exec.
        unsafe {
            libc::dup2(write_fd, 1);
            if plan.apply(&ChildHooks::default()).is_err() {
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

fn userns(test: &str) -> bool {
    let ok = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .is_ok_and(|s| s.trim() != "0");
    if !ok {
        let line = format!("SKIP {test}: user namespaces are disabled\n");
        let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
    }
    ok
}

#[test]
fn pid_namespace_with_reaper_hostname_and_ids() {
    if !userns("pid_namespace_with_reaper_hostname_and_ids") {
        return;
    }
    let spec = InChildSpec {
        namespaces: Namespaces {
            user: true,
            pid: true,
            uts: true,
            ..Namespaces::default()
        },
        uid: Some(0),
        gid: Some(0),
        hostname: Some("inchild".into()),
        ..InChildSpec::default()
    };
    let (code, out) = run(
        &spec,
        "echo $$ $(hostname) $(id -u) $(cat /proc/self/uid_map | tr -s ' ')",
    );
    assert_eq!(code, 0);
    let real = rustix::process::getuid().as_raw();
    assert_eq!(out, format!("2 inchild 0 0 {real} 1"));
}

#[test]
fn as_pid_1_makes_the_command_pid_1_and_status_propagates() {
    if !userns("as_pid_1_makes_the_command_pid_1_and_status_propagates") {
        return;
    }
    let spec = InChildSpec {
        namespaces: Namespaces {
            user: true,
            pid: true,
            ..Namespaces::default()
        },
        as_pid_1: true,
        ..InChildSpec::default()
    };
    assert_eq!(run(&spec, "echo $$; exit 7"), (7, "1".to_owned()));
    let spec = InChildSpec {
        as_pid_1: false,
        ..spec
    };
    assert_eq!(run(&spec, "kill -9 $$").0, 137);
}

#[test]
fn without_namespaces_nothing_changes() {
    let (code, out) = run(&InChildSpec::default(), "echo ok");
    assert_eq!((code, out.as_str()), (0, "ok"));
}
