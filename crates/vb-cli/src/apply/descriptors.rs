//! Descriptor options other than data sources: status and info descriptors,
//! lock files, the sync and block descriptors. The descriptors are checked
//! and taken over only once parsing is done ([`resolve_fd_options`]).

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use voidbox::FsAction;

use crate::state::{CliError, State, die};

use super::mounts::unopened_bind_fd;
use super::security::read_seccomp;
use super::{Outcome, single_fd};

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

pub(crate) fn event_fd(s: &mut State, v: OsString) -> Outcome {
    let fd = single_fd(s, "--event-fd", s.fd_options.event.is_some(), &v)?;
    s.fd_options.event = Some(fd);
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
    if let Some(fd) = o.event {
        match s.owned_fd(fd) {
            Some(owned) => s.config.status.event_fd = Some(owned),
            None => return die("--event-fd: Bad file descriptor"),
        }
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
    if let Some(fd) = o.netns {
        // Joined instead of made: `--unshare-all`'s network namespace gives
        // way, an explicit `--unshare-net` contradicts it.
        if s.unshare_net {
            return die("--netns is not compatible with --unshare-net");
        }
        let Some(owned) = s.owned_fd(fd) else {
            return die("Joining specified network namespace failed: Bad file descriptor");
        };
        s.config.namespace_fds.net = Some(owned);
        s.config.isolation.net = false;
    }
    match s.data_error.take() {
        Some(message) => die(message),
        None => Ok(()),
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

/// `--info-fd`/`--json-status-fd`: an open descriptor, or bubblewrap's
/// message for both (it fails writing to it).
pub(super) fn status_fd(s: &mut State, fd: i32) -> Result<Arc<OwnedFd>, CliError> {
    s.owned_fd(fd)
        .map_or_else(|| die("Write to info_fd: Bad file descriptor"), Ok)
}

/// `--verbose`: the setup steps, each as it ends, with its duration.
pub(crate) fn verbose(s: &mut State) -> Outcome {
    s.config.status.setup_steps = true;
    Ok(())
}
