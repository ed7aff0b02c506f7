//! Filesystem options: binds, overlays, the special filesystems, created
//! files, directories and symbolic links, and the modifiers (`--perms`,
//! `--size`, `--chmod`).

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::PathBuf;

use voidbox::{BindMode, DataSource, FsAction};

use crate::numbers::{MAX_TMPFS_BYTES, SizeError, parse_mode, parse_size};
use crate::state::{State, die};

use super::descriptors::release_fd;
use super::{Outcome, fd_value, strerror};

pub(super) fn push(s: &mut State, action: FsAction) -> Outcome {
    s.config.fs_actions.push(action);
    Ok(())
}

pub(super) fn bind_action(
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
pub(super) fn bind_fd_action(
    s: &mut State,
    fd: &OsStr,
    dest: OsString,
    read_only: bool,
) -> Outcome {
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
pub(super) fn unopened_bind_fd(fd: i32, dest: PathBuf, read_only: bool) -> FsAction {
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
pub(super) fn take_overlay_sources(s: &mut State) -> Vec<String> {
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

pub(super) fn bind_data_action(
    s: &mut State,
    fd: &OsStr,
    dest: OsString,
    read_only: bool,
) -> Outcome {
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
pub(super) fn read_data(s: &mut State, fd: i32, dest: &OsStr) -> Vec<u8> {
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
