//! What each option does to the configuration: one small function per
//! option, named after it, which the table in [`crate::table`] points to.
//! The parser has already taken the option's values off the command line;
//! these functions check them with bubblewrap's messages and store them.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use voidbox::{BindMode, BpfProgram, CapOp, CgroupError, DataSource, EnvOp, FsAction, LimitKind};

use crate::numbers::{MAX_TMPFS_BYTES, SizeError, parse_fd, parse_id, parse_mode, parse_size};
use crate::state::{CliError, State, die};

/// What an option's function returns.
pub(crate) type Outcome = Result<(), CliError>;

/// A descriptor value, or bubblewrap's `Invalid fd: %s`.
pub(crate) fn fd_value(v: &OsStr) -> Result<i32, CliError> {
    parse_fd(v).map_or_else(|| die(format!("Invalid fd: {}", v.to_string_lossy())), Ok)
}

/// A single-valued descriptor option: warn when it was given before, then
/// parse the value (bubblewrap's order).
fn single_fd(s: &mut State, opt: &str, repeated: bool, v: &OsStr) -> Result<i32, CliError> {
    if repeated {
        s.warn_last(opt);
    }
    fd_value(v)
}

// General.

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

// Namespaces.

pub(crate) fn unshare_all(s: &mut State) -> Outcome {
    s.unshare_user_try = true;
    s.unshare_cgroup_try = true;
    let isolation = &mut s.config.isolation;
    isolation.ipc = true;
    isolation.pid = true;
    isolation.uts = true;
    isolation.net = true;
    Ok(())
}

pub(crate) fn share_net(s: &mut State) -> Outcome {
    s.config.isolation.net = false;
    Ok(())
}

pub(crate) fn unshare_user(s: &mut State) -> Outcome {
    s.unshare_user = true;
    Ok(())
}

pub(crate) fn unshare_user_try(s: &mut State) -> Outcome {
    s.unshare_user_try = true;
    Ok(())
}

pub(crate) fn unshare_ipc(s: &mut State) -> Outcome {
    s.config.isolation.ipc = true;
    Ok(())
}

pub(crate) fn unshare_pid(s: &mut State) -> Outcome {
    s.config.isolation.pid = true;
    Ok(())
}

pub(crate) fn unshare_net(s: &mut State) -> Outcome {
    s.config.isolation.net = true;
    Ok(())
}

pub(crate) fn unshare_uts(s: &mut State) -> Outcome {
    s.config.isolation.uts = true;
    Ok(())
}

pub(crate) fn unshare_cgroup(s: &mut State) -> Outcome {
    s.unshare_cgroup = true;
    Ok(())
}

pub(crate) fn unshare_cgroup_try(s: &mut State) -> Outcome {
    s.unshare_cgroup_try = true;
    Ok(())
}

pub(crate) fn userns(s: &mut State, v: OsString) -> Outcome {
    let fd = single_fd(s, "--userns", s.fd_options.userns.is_some(), &v)?;
    s.fd_options.userns = Some(fd);
    Ok(())
}

pub(crate) fn userns2(s: &mut State, v: OsString) -> Outcome {
    let fd = single_fd(s, "--userns2", s.fd_options.userns2.is_some(), &v)?;
    s.fd_options.userns2 = Some(fd);
    Ok(())
}

pub(crate) fn disable_userns(s: &mut State) -> Outcome {
    s.config.security.disable_userns = true;
    Ok(())
}

pub(crate) fn assert_userns_disabled(s: &mut State) -> Outcome {
    s.config.security.assert_userns_disabled = true;
    Ok(())
}

pub(crate) fn pidns(s: &mut State, v: OsString) -> Outcome {
    let fd = single_fd(s, "--pidns", s.fd_options.pidns.is_some(), &v)?;
    s.fd_options.pidns = Some(fd);
    Ok(())
}

/// `--uid`/`--gid`: warn when repeated, then parse (`Invalid uid: %s`).
fn id_value(s: &mut State, opt: &str, repeated: bool, v: &OsStr) -> Result<u32, CliError> {
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

// Environment.

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

// Monitoring.

pub(crate) fn lock_file(s: &mut State, dest: OsString) -> Outcome {
    s.config.status.lock_files.push(dest.into());
    Ok(())
}

pub(crate) fn sync_fd(s: &mut State, v: OsString) -> Outcome {
    let fd = single_fd(s, "--sync-fd", s.fd_options.sync.is_some(), &v)?;
    s.fd_options.sync = Some(fd);
    Ok(())
}

pub(crate) fn block_fd(s: &mut State, v: OsString) -> Outcome {
    let fd = single_fd(s, "--block-fd", s.fd_options.block.is_some(), &v)?;
    s.fd_options.block = Some(fd);
    Ok(())
}

pub(crate) fn userns_block_fd(s: &mut State, v: OsString) -> Outcome {
    let repeated = s.fd_options.userns_block.is_some();
    let fd = single_fd(s, "--userns-block-fd", repeated, &v)?;
    s.fd_options.userns_block = Some(fd);
    Ok(())
}

pub(crate) fn info_fd(s: &mut State, v: OsString) -> Outcome {
    let fd = single_fd(s, "--info-fd", s.fd_options.info.is_some(), &v)?;
    s.fd_options.info = Some(fd);
    Ok(())
}

pub(crate) fn json_status_fd(s: &mut State, v: OsString) -> Outcome {
    let repeated = s.fd_options.json_status.is_some();
    let fd = single_fd(s, "--json-status-fd", repeated, &v)?;
    s.fd_options.json_status = Some(fd);
    Ok(())
}

/// Take over the last value of each single-valued descriptor option, after
/// the cross-option checks (bubblewrap meets a bad descriptor only when it
/// uses it, after them).
pub(crate) fn resolve_fd_options(s: &mut State) -> Outcome {
    let o = std::mem::take(&mut s.fd_options);
    if let Some(fd) = o.seccomp {
        let program = read_seccomp(s, fd)?;
        s.config.security.seccomp_programs.push(program);
    }
    // bubblewrap closes the info descriptor once written, so a status
    // descriptor of the same number is closed by the time it is written.
    if o.info.is_some() && o.info == o.json_status {
        return die("Write to info_fd: Bad file descriptor");
    }
    if let Some(fd) = o.info {
        // Handed over: closed once written, as bubblewrap closes it. A
        // number also used elsewhere is duplicated so the other use keeps it.
        let owned = status_fd(s, fd)?;
        let own = match std::sync::Arc::try_unwrap(owned) {
            Ok(fd) => fd,
            Err(shared) => rustix::io::fcntl_dupfd_cloexec(&*shared, 0)
                .map_err(|e| CliError::Message(format!("Write to info_fd: {e}")))?,
        };
        s.fds.remove(&fd);
        s.config.status.info_fd = Some(voidbox::HandOff::new(own));
    }
    if let Some(fd) = o.json_status {
        s.config.status.json_status_fd = Some(status_fd(s, fd)?);
    }
    // bubblewrap ignores a sync or block descriptor that is not open.
    s.config.status.sync_fd = o.sync.and_then(|fd| s.owned_fd(fd));
    s.config.status.block_fd = o.block.and_then(|fd| s.owned_fd(fd));
    if let Some(fd) = o.userns_block {
        match s.owned_fd(fd) {
            Some(owned) => s.config.status.userns_block_fd = Some(owned),
            None => return die("--userns-block-fd: Bad file descriptor"),
        }
    }
    for (fd, message) in [
        (o.userns, "Joining specified user namespace failed"),
        (o.userns2, "Setting userns2 failed"),
        (o.pidns, "Setting pidns failed"),
    ] {
        let Some(fd) = fd else { continue };
        let Some(owned) = s.owned_fd(fd) else {
            return die(format!("{message}: Bad file descriptor"));
        };
        let ns = &mut s.config.namespace_fds;
        let slot = match message {
            "Joining specified user namespace failed" => &mut ns.user,
            "Setting userns2 failed" => &mut ns.user2,
            _ => &mut ns.pid,
        };
        *slot = Some(owned);
    }
    match s.data_error.take() {
        Some(message) => die(message),
        None => Ok(()),
    }
}

// Filesystem.

fn push(s: &mut State, action: FsAction) -> Outcome {
    s.config.fs_actions.push(action);
    Ok(())
}

fn bind_action(
    s: &mut State,
    src: OsString,
    dest: OsString,
    mode: BindMode,
    optional: bool,
) -> Outcome {
    push(
        s,
        FsAction::Bind {
            src: src.into(),
            dest: dest.into(),
            mode,
            optional,
        },
    )
}

pub(crate) fn bind(s: &mut State, src: OsString, dest: OsString) -> Outcome {
    bind_action(s, src, dest, BindMode::ReadWrite, false)
}

pub(crate) fn bind_try(s: &mut State, src: OsString, dest: OsString) -> Outcome {
    bind_action(s, src, dest, BindMode::ReadWrite, true)
}

pub(crate) fn dev_bind(s: &mut State, src: OsString, dest: OsString) -> Outcome {
    bind_action(s, src, dest, BindMode::Dev, false)
}

pub(crate) fn dev_bind_try(s: &mut State, src: OsString, dest: OsString) -> Outcome {
    bind_action(s, src, dest, BindMode::Dev, true)
}

pub(crate) fn ro_bind(s: &mut State, src: OsString, dest: OsString) -> Outcome {
    bind_action(s, src, dest, BindMode::ReadOnly, false)
}

pub(crate) fn ro_bind_try(s: &mut State, src: OsString, dest: OsString) -> Outcome {
    bind_action(s, src, dest, BindMode::ReadOnly, true)
}

/// `--bind-fd`/`--ro-bind-fd`: the descriptor is taken over (one owner per
/// number) and the configuration holds it.
fn bind_fd_action(s: &mut State, fd: &OsStr, dest: OsString, read_only: bool) -> Outcome {
    let fd = fd_value(fd)?;
    let owned = if s.consumed.contains(&fd) {
        None
    } else {
        s.owned_fd(fd)
    };
    let action = match owned {
        Some(owned) => FsAction::BindFd {
            fd: owned,
            dest: dest.into(),
            read_only,
        },
        None => unopened_bind_fd(fd, dest.into(), read_only),
    };
    push(s, action)
}

/// A `--bind-fd` of a number that is not open. bubblewrap binds the path
/// `/proc/self/fd/FD` (then checks the mount against FD); with nothing open
/// there, that path does not resolve. There is no descriptor to hold, so vb
/// asks for the bind of that path: it fails where bubblewrap's fails — when
/// sources are resolved, in action order — with the same message
/// (`Can't find source path /proc/self/fd/FD: No such file or directory`).
/// Nothing vb opens in between stays open, so the number is still free then.
fn unopened_bind_fd(fd: i32, dest: PathBuf, read_only: bool) -> FsAction {
    FsAction::Bind {
        src: format!("/proc/self/fd/{fd}").into(),
        dest,
        mode: if read_only {
            BindMode::ReadOnly
        } else {
            BindMode::ReadWrite
        },
        optional: false,
    }
}

/// Let go of descriptor `fd`, which an option has read to its end and is
/// about to close (`--file`, `--bind-data`, `--seccomp`, `--args`...): the
/// number stops standing for it, and an earlier `--bind-fd` of it becomes
/// the bind of a number that is not open, so that it closes now and that
/// bind finds it closed.
pub(crate) fn release_fd(s: &mut State, fd: i32) {
    let Some(owned) = s.fds.remove(&fd) else {
        return;
    };
    for action in &mut s.config.fs_actions {
        if let FsAction::BindFd {
            fd: held,
            dest,
            read_only,
        } = action
            && Arc::ptr_eq(held, &owned)
        {
            *action = unopened_bind_fd(fd, std::mem::take(dest), *read_only);
        }
    }
}

pub(crate) fn bind_fd(s: &mut State, fd: OsString, dest: OsString) -> Outcome {
    bind_fd_action(s, &fd, dest, false)
}

pub(crate) fn ro_bind_fd(s: &mut State, fd: OsString, dest: OsString) -> Outcome {
    bind_fd_action(s, &fd, dest, true)
}

pub(crate) fn remount_ro(s: &mut State, dest: OsString) -> Outcome {
    push(s, FsAction::RemountRo { dest: dest.into() })
}

pub(crate) fn overlay_src(s: &mut State, src: OsString) -> Outcome {
    s.overlay_srcs.push(src);
    Ok(())
}

/// Turn the pending `--overlay-src` paths into keyed `OverlaySrc` actions and
/// return their keys, bottom to top.
fn take_overlay_sources(s: &mut State) -> Vec<String> {
    let srcs = std::mem::take(&mut s.overlay_srcs);
    srcs.into_iter()
        .map(|path| {
            let key = format!("overlay-src-{}", s.overlay_keys);
            s.overlay_keys += 1;
            s.config.fs_actions.push(FsAction::OverlaySrc {
                key: key.clone(),
                path: path.into(),
            });
            key
        })
        .collect()
}

pub(crate) fn overlay(s: &mut State, upper: OsString, work: OsString, dest: OsString) -> Outcome {
    if s.overlay_srcs.is_empty() {
        return die("--overlay requires at least one --overlay-src");
    }
    let sources = take_overlay_sources(s);
    push(
        s,
        FsAction::Overlay {
            sources,
            upper: upper.into(),
            work: work.into(),
            dest: dest.into(),
        },
    )
}

pub(crate) fn tmp_overlay(s: &mut State, dest: OsString) -> Outcome {
    if s.overlay_srcs.is_empty() {
        return die("--tmp-overlay requires at least one --overlay-src");
    }
    let sources = take_overlay_sources(s);
    push(
        s,
        FsAction::TmpOverlay {
            sources,
            dest: dest.into(),
        },
    )
}

pub(crate) fn ro_overlay(s: &mut State, dest: OsString) -> Outcome {
    if s.overlay_srcs.len() < 2 {
        return die("--ro-overlay requires at least two --overlay-src");
    }
    let sources = take_overlay_sources(s);
    push(
        s,
        FsAction::RoOverlay {
            sources,
            dest: dest.into(),
        },
    )
}

pub(crate) fn proc(s: &mut State, dest: OsString) -> Outcome {
    push(s, FsAction::Proc { dest: dest.into() })
}

pub(crate) fn dev(s: &mut State, dest: OsString) -> Outcome {
    push(s, FsAction::Dev { dest: dest.into() })
}

pub(crate) fn tmpfs(s: &mut State, dest: OsString) -> Outcome {
    let action = FsAction::Tmpfs {
        dest: dest.into(),
        size: s.next_size.take(),
        perms: s.next_perms.take(),
    };
    push(s, action)
}

pub(crate) fn mqueue(s: &mut State, dest: OsString) -> Outcome {
    push(s, FsAction::Mqueue { dest: dest.into() })
}

pub(crate) fn dir(s: &mut State, dest: OsString) -> Outcome {
    let action = FsAction::Dir {
        dest: dest.into(),
        perms: s.next_perms.take(),
    };
    push(s, action)
}

pub(crate) fn file(s: &mut State, fd: OsString, dest: OsString) -> Outcome {
    let fd = fd_value(&fd)?;
    let source = DataSource::Bytes(read_data(s, fd, &dest));
    let action = FsAction::File {
        source,
        dest: dest.into(),
        perms: s.next_perms.take(),
    };
    push(s, action)
}

fn bind_data_action(s: &mut State, fd: &OsStr, dest: OsString, read_only: bool) -> Outcome {
    let fd = fd_value(fd)?;
    let source = DataSource::Bytes(read_data(s, fd, &dest));
    let action = FsAction::BindData {
        source,
        dest: dest.into(),
        perms: s.next_perms.take(),
        read_only,
    };
    push(s, action)
}

/// Read a data descriptor to its end and close it, as bubblewrap does. A
/// descriptor that is not open (or was read already) leaves an error for
/// after the cross-option checks, with bubblewrap's message, and no data.
fn read_data(s: &mut State, fd: i32, dest: &OsStr) -> Vec<u8> {
    let mut data = Vec::new();
    let owned = if s.consumed.contains(&fd) {
        None
    } else {
        s.owned_fd(fd)
    };
    let read = match owned {
        Some(owned) => {
            release_fd(s, fd);
            s.consumed.push(fd);
            let copy = rustix::io::fcntl_dupfd_cloexec(&*owned, 0);
            drop(owned);
            copy.map_err(std::io::Error::from)
                .and_then(|fd| std::fs::File::from(fd).read_to_end(&mut data))
        }
        None => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
    };
    if let Err(e) = read
        && s.data_error.is_none()
    {
        s.data_error = Some(format!(
            "Can't write data to file {}: {}",
            dest.to_string_lossy(),
            strerror(&e)
        ));
    }
    data
}

pub(crate) fn bind_data(s: &mut State, fd: OsString, dest: OsString) -> Outcome {
    bind_data_action(s, &fd, dest, false)
}

pub(crate) fn ro_bind_data(s: &mut State, fd: OsString, dest: OsString) -> Outcome {
    bind_data_action(s, &fd, dest, true)
}

pub(crate) fn symlink(s: &mut State, target: OsString, link: OsString) -> Outcome {
    push(
        s,
        FsAction::Symlink {
            target: target.into(),
            link: link.into(),
        },
    )
}

pub(crate) fn perms(s: &mut State, v: OsString) -> Outcome {
    if s.next_perms.is_some() {
        return die("--perms given twice for the same action");
    }
    let Some(mode) = parse_mode(&v) else {
        return die("--perms takes an octal argument <= 07777");
    };
    s.next_perms = Some(mode);
    Ok(())
}

pub(crate) fn size(s: &mut State, v: OsString) -> Outcome {
    if s.next_size.is_some() {
        return die("--size given twice for the same action");
    }
    match parse_size(&v) {
        Ok(size) => {
            s.next_size = Some(size);
            Ok(())
        }
        Err(SizeError::Invalid) => die("--size takes a non-zero number of bytes"),
        Err(SizeError::TooLarge) => die(format!(
            "--size (for tmpfs) is limited to {MAX_TMPFS_BYTES}"
        )),
    }
}

pub(crate) fn chmod(s: &mut State, mode: OsString, path: OsString) -> Outcome {
    let Some(mode) = parse_mode(&mode) else {
        return die("--chmod takes an octal argument <= 07777");
    };
    push(
        s,
        FsAction::Chmod {
            path: path.into(),
            mode,
        },
    )
}

// Lockdown.

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

/// The `strerror` text of an I/O error, as bubblewrap prints it.
fn strerror(e: &std::io::Error) -> String {
    crate::message::strip_os_error(&e.to_string())
}

/// `--info-fd`/`--json-status-fd`: an open descriptor, or bubblewrap's
/// message for both (it fails writing to it).
fn status_fd(s: &mut State, fd: i32) -> Result<Arc<OwnedFd>, CliError> {
    s.owned_fd(fd)
        .map_or_else(|| die("Write to info_fd: Bad file descriptor"), Ok)
}

/// bubblewrap refuses a label where SELinux is not enabled.
fn check_label() -> Outcome {
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

pub(crate) fn cap_add(s: &mut State, cap: OsString) -> Outcome {
    cap_op(s, &cap, true)
}

pub(crate) fn cap_drop(s: &mut State, cap: OsString) -> Outcome {
    cap_op(s, &cap, false)
}

/// A capability name (with or without `CAP_`, any case) or `ALL`.
fn cap_op(s: &mut State, cap: &OsStr, add: bool) -> Outcome {
    match CapOp::parse(&cap.to_string_lossy(), add) {
        Ok(op) => {
            s.config.security.capabilities.push(op);
            Ok(())
        }
        Err(unknown) => die(unknown.to_string()),
    }
}

// voidbox's own.

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

/// A resource-limit option: parsed now, so a bad value fails before anything
/// is created.
fn set_limit(s: &mut State, opt: &str, kind: LimitKind, value: &OsStr) -> Outcome {
    let text = value.to_string_lossy();
    match s.config.resources.set(kind, &text) {
        Ok(_) => {
            if kind == LimitKind::MemorySwapMax {
                s.swap_set = true;
            }
            Ok(())
        }
        Err(CgroupError::InvalidLimit { reason, .. }) => die(format!(
            "Invalid {opt} value {text:?}: {reason}; expected {}",
            kind.expected()
        )),
        Err(other) => die(format!("{opt}: {other}")),
    }
}

pub(crate) fn memory_max(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--memory-max", LimitKind::MemoryMax, &v)
}

pub(crate) fn memory_swap_max(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--memory-swap-max", LimitKind::MemorySwapMax, &v)
}

pub(crate) fn cpu_max(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--cpu-max", LimitKind::CpuMax, &v)
}

pub(crate) fn cpu_weight(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--cpu-weight", LimitKind::CpuWeight, &v)
}

pub(crate) fn pids_max(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--pids-max", LimitKind::PidsMax, &v)
}

pub(crate) fn io_weight(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--io-weight", LimitKind::IoWeight, &v)
}

pub(crate) fn fail_on_warnings(s: &mut State) -> Outcome {
    s.config.runtime.fail_on_runtime_warnings = true;
    Ok(())
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

fn landlock_path(s: &mut State, v: OsString, access: voidbox::PathAccess) -> Outcome {
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

fn port(option: &str, v: &OsStr) -> Result<u16, CliError> {
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
