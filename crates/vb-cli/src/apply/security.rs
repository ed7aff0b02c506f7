//! Security options: capabilities, seccomp (bubblewrap's descriptors and
//! voidbox's by-name rules and profile), Landlock, rlimits, SELinux labels
//! and the terminal-injection filter.

use std::ffi::{OsStr, OsString};
use std::io::Read;

use voidbox::{BpfProgram, CapOp};

use crate::state::{CliError, State, die};

use super::descriptors::release_fd;
use super::{Outcome, fd_value, single_fd, strerror};

pub(crate) fn seccomp(s: &mut State, v: OsString) -> Outcome {
    if !s.config.security.seccomp_programs.is_empty() {
        return die("--seccomp cannot be combined with --add-seccomp-fd");
    }
    let repeated = s.fd_options.seccomp.is_some();
    let fd = single_fd(s, "--seccomp", repeated, &v)?;
    // Read after the cross-option checks, as bubblewrap does.
    s.fd_options.seccomp = Some(fd);
    Ok(())
}

pub(crate) fn add_seccomp_fd(s: &mut State, v: OsString) -> Outcome {
    if s.fd_options.seccomp.is_some() {
        return die("--add-seccomp-fd cannot be combined with --seccomp");
    }
    let fd = fd_value(&v)?;
    let program = read_seccomp(s, fd)?;
    s.config.security.seccomp_programs.push(program);
    Ok(())
}

/// Read a seccomp program from `fd` to its end (bubblewrap's checks and
/// messages), then let go of the descriptor.
pub(crate) fn read_seccomp(s: &mut State, fd: i32) -> Result<BpfProgram, CliError> {
    let Some(owned) = s.owned_fd(fd) else {
        return die("Can't read seccomp data: Bad file descriptor");
    };
    release_fd(s, fd);
    let mut data = Vec::new();
    let copy = rustix::io::fcntl_dupfd_cloexec(&*owned, 0);
    drop(owned);
    let read = copy
        .map_err(std::io::Error::from)
        .and_then(|fd| std::fs::File::from(fd).read_to_end(&mut data));
    if let Err(e) = read {
        return die(format!("Can't read seccomp data: {}", strerror(&e)));
    }
    BpfProgram::from_bytes(&data).or_else(|e| die(e.to_string()))
}

/// bubblewrap refuses a label where SELinux is not enabled.
pub(super) fn check_label() -> Outcome {
    if voidbox::selinux_enabled() {
        Ok(())
    } else {
        die("labeling not supported on this system")
    }
}

pub(crate) fn exec_label(s: &mut State, v: OsString) -> Outcome {
    check_label()?;
    if s.config.security.exec_label.is_some() {
        s.warn_last("--exec-label");
    }
    s.config.security.exec_label = Some(v.to_string_lossy().into_owned());
    Ok(())
}

pub(crate) fn file_label(s: &mut State, v: OsString) -> Outcome {
    check_label()?;
    if s.config.security.file_label.is_some() {
        s.warn_last("--file-label");
    }
    s.config.security.file_label = Some(v.to_string_lossy().into_owned());
    Ok(())
}

pub(crate) fn cap_add(s: &mut State, cap: OsString) -> Outcome {
    cap_op(s, &cap, true)
}

pub(crate) fn cap_drop(s: &mut State, cap: OsString) -> Outcome {
    cap_op(s, &cap, false)
}

/// A capability name (with or without `CAP_`, any case) or `ALL`.
pub(super) fn cap_op(s: &mut State, cap: &OsStr, add: bool) -> Outcome {
    match CapOp::parse(&cap.to_string_lossy(), add) {
        Ok(op) => {
            s.config.security.capabilities.push(op);
            Ok(())
        }
        Err(unknown) => die(unknown.to_string()),
    }
}

pub(crate) fn seccomp_deny(s: &mut State, v: OsString) -> Outcome {
    for name in v.to_string_lossy().split(',') {
        match voidbox::Syscall::by_name(name) {
            Ok(call) => s.config.security.seccomp_deny.push(call),
            Err(unknown) => return die(format!("--seccomp-deny: {unknown}")),
        }
    }
    Ok(())
}

pub(crate) fn seccomp_policy(s: &mut State, v: OsString) -> Outcome {
    let shown = v.to_string_lossy().into_owned();
    if s.config.security.seccomp_policy.is_some() {
        s.warn_last("--seccomp-policy");
    }
    let data = match std::fs::read(&v) {
        Ok(data) => data,
        Err(e) => return die(format!("--seccomp-policy {shown}: {}", strerror(&e))),
    };
    match voidbox::SeccompPolicy::from_json(&data) {
        Ok(policy) => {
            s.config.security.seccomp_policy = Some(policy);
            Ok(())
        }
        Err(e) => die(format!("--seccomp-policy {shown}: {e}")),
    }
}

pub(crate) fn seccomp_default(s: &mut State) -> Outcome {
    s.config.security.seccomp_default = true;
    Ok(())
}

pub(crate) fn rlimit(s: &mut State, v: OsString) -> Outcome {
    match voidbox::Rlimit::parse(&v.to_string_lossy()) {
        Ok(limit) => {
            // A later limit of the same resource replaces an earlier one.
            s.config
                .security
                .rlimits
                .retain(|l| l.resource != limit.resource);
            s.config.security.rlimits.push(limit);
            Ok(())
        }
        Err(e) => die(format!("--rlimit: {e}")),
    }
}

pub(super) fn landlock_path(s: &mut State, v: OsString, access: voidbox::PathAccess) -> Outcome {
    s.config.security.landlock.paths.push(voidbox::PathRule {
        path: v.into(),
        access,
    });
    Ok(())
}

pub(crate) fn landlock_ro(s: &mut State, v: OsString) -> Outcome {
    landlock_path(s, v, voidbox::PathAccess::ReadOnly)
}

pub(crate) fn landlock_rw(s: &mut State, v: OsString) -> Outcome {
    landlock_path(s, v, voidbox::PathAccess::ReadWrite)
}

pub(crate) fn landlock_exec(s: &mut State, v: OsString) -> Outcome {
    landlock_path(s, v, voidbox::PathAccess::Execute)
}

pub(super) fn port(option: &str, v: &OsStr) -> Result<u16, CliError> {
    let text = v.to_string_lossy();
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse() {
        Ok(port) if digits => Ok(port),
        _ => die(format!(
            "{option}: invalid port {text:?} (a number from 0 to 65535)"
        )),
    }
}

pub(crate) fn landlock_tcp_bind(s: &mut State, v: OsString) -> Outcome {
    let port = port("--landlock-tcp-bind", &v)?;
    s.config.security.landlock.tcp_bind.push(port);
    Ok(())
}

pub(crate) fn landlock_tcp_connect(s: &mut State, v: OsString) -> Outcome {
    let port = port("--landlock-tcp-connect", &v)?;
    s.config.security.landlock.tcp_connect.push(port);
    Ok(())
}

pub(crate) fn landlock_strict(s: &mut State) -> Outcome {
    s.config.security.landlock_strict = true;
    Ok(())
}

pub(crate) fn allow_tiocsti(s: &mut State) -> Outcome {
    s.config.security.allow_terminal_injection = true;
    Ok(())
}
