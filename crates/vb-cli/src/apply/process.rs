//! Options about the command's process and how it is started: identity,
//! hostname, environment, working directory, session, PID 1, the root and
//! how vb enters it, and the message format (`--level-prefix`).

use std::ffi::{OsStr, OsString};

use voidbox::EnvOp;

use crate::numbers::parse_id;
use crate::state::{CliError, State, die};

use super::Outcome;

pub(crate) fn argv0(s: &mut State, v: OsString) -> Outcome {
    if s.config.process.argv0.is_some() {
        return die("--argv0 used multiple times");
    }
    s.config.process.argv0 = Some(v);
    Ok(())
}

pub(crate) fn level_prefix(s: &mut State) -> Outcome {
    s.level_prefix = true;
    Ok(())
}

/// `--uid`/`--gid`: warn when repeated, then parse (`Invalid uid: %s`).
pub(super) fn id_value(
    s: &mut State,
    opt: &str,
    repeated: bool,
    v: &OsStr,
) -> Result<u32, CliError> {
    if repeated {
        s.warn_last(opt);
    }
    parse_id(v).map_or_else(
        || {
            let which = opt.trim_start_matches('-');
            die(format!("Invalid {which}: {}", v.to_string_lossy()))
        },
        Ok,
    )
}

pub(crate) fn uid(s: &mut State, v: OsString) -> Outcome {
    let repeated = s.uid.is_some();
    s.uid = Some(id_value(s, "--uid", repeated, &v)?);
    Ok(())
}

pub(crate) fn gid(s: &mut State, v: OsString) -> Outcome {
    let repeated = s.gid.is_some();
    s.gid = Some(id_value(s, "--gid", repeated, &v)?);
    Ok(())
}

pub(crate) fn hostname(s: &mut State, v: OsString) -> Outcome {
    if s.hostname_set {
        s.warn_last("--hostname");
    }
    s.hostname_set = true;
    s.config.runtime.hostname = Some(v);
    Ok(())
}

pub(crate) fn chdir(s: &mut State, v: OsString) -> Outcome {
    if s.chdir_set {
        s.warn_last("--chdir");
    }
    s.chdir_set = true;
    s.config.process.chdir = Some(v.into());
    Ok(())
}

pub(crate) fn clearenv(s: &mut State) -> Outcome {
    s.config.process.env.push(EnvOp::Clear);
    Ok(())
}

pub(crate) fn setenv(s: &mut State, key: OsString, value: OsString) -> Outcome {
    s.config.process.env.push(EnvOp::Set { key, value });
    Ok(())
}

pub(crate) fn unsetenv(s: &mut State, key: OsString) -> Outcome {
    s.config.process.env.push(EnvOp::Unset(key));
    Ok(())
}

pub(crate) fn new_session(s: &mut State) -> Outcome {
    s.config.process.new_session = true;
    Ok(())
}

pub(crate) fn die_with_parent(s: &mut State) -> Outcome {
    s.config.process.die_with_parent = true;
    Ok(())
}

pub(crate) fn as_pid_1(s: &mut State) -> Outcome {
    s.config.runtime.as_pid_1 = true;
    Ok(())
}

pub(crate) fn rootfs(s: &mut State, dir: OsString) -> Outcome {
    s.rootfs = Some(dir.into());
    Ok(())
}

pub(crate) fn rootfs_dev(s: &mut State) -> Outcome {
    s.config.runtime.rootfs_dev = true;
    Ok(())
}

pub(crate) fn rootfs_suid(s: &mut State) -> Outcome {
    s.config.runtime.rootfs_suid = true;
    Ok(())
}

pub(crate) fn pivot_root(s: &mut State) -> Outcome {
    s.config.runtime.use_pivot_root = true;
    Ok(())
}

/// `--no-pivot-root` and its alias `--chroot`.
pub(crate) fn no_pivot_root(s: &mut State) -> Outcome {
    s.config.runtime.use_pivot_root = false;
    Ok(())
}

/// `--json` outside `--check-host`, which takes it itself.
pub(crate) fn json(_: &mut State) -> Outcome {
    die("--json requires --check-host")
}
