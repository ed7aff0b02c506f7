//! Options that choose the namespaces: new ones (`--unshare-*`, `--share-net`)
//! and joined ones (`--userns`, `--userns2`, `--pidns`), and the user-namespace
//! policy (`--disable-userns`, `--assert-userns-disabled`).

use std::ffi::OsString;

use crate::state::State;

use super::{Outcome, single_fd};

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
    s.share_net = true;
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
    s.unshare_net = true;
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

pub(crate) fn netns(s: &mut State, v: OsString) -> Outcome {
    let fd = single_fd(s, "--netns", s.fd_options.netns.is_some(), &v)?;
    s.fd_options.netns = Some(fd);
    Ok(())
}
