//! What a configuration means before anything is created: the namespaces
//! actually made, the fields refused, the labels checked, the runtime
//! warnings it gives rise to, and the descriptors voidbox consumes sealed.

use std::os::fd::{AsFd, BorrowedFd};

use vb_fs::RootSource;
use vb_fs::{DataSource, FsAction};

use crate::config::{JailConfig, Namespaces, NetworkOptions};
use crate::error::Error;
use crate::warning::Warning;

/// The namespaces actually created: as configured, plus the mount namespace a
/// root switch needs, plus a user namespace when an unprivileged caller asks
/// for any and joins none (as bubblewrap implies `--unshare-user`).
pub(crate) fn effective_isolation(config: &JailConfig) -> Namespaces {
    let mut iso = config.isolation;
    if config.rootfs != RootSource::Host || !config.fs_actions.is_empty() {
        iso.mount = true;
    }
    if config.network.is_some() {
        iso.net = true;
    }
    // pasta enters the sandbox's namespaces as the caller: through a user
    // namespace the caller owns, also for root.
    if matches!(config.network, Some(NetworkOptions::Pasta(_))) {
        iso.user = true;
    }
    // A generated resolv.conf is bound in: a mount namespace of its own.
    if let Some(NetworkOptions::Bridge(spec)) = &config.network
        && !spec.dns.is_empty()
    {
        iso.mount = true;
    }
    // A joined user namespace stands in for the implied one (bubblewrap's
    // `--userns`).
    if iso.any() && !rustix::process::geteuid().is_root() && config.namespace_fds.user.is_none() {
        iso.user = true;
    }
    iso
}

pub(crate) fn reject_unsupported(config: &JailConfig) -> Result<(), Error> {
    // The network is attached to the namespace the clone makes; with joins
    // the namespaces are made later, in the child.
    if config.network.is_some() && !config.namespace_fds.is_empty() {
        return Err(Error::InvalidConfig(
            "network does not combine with namespace_fds".into(),
        ));
    }
    Ok(())
}

/// Labels go into a mount option string (`context="..."`) and a `/proc`
/// file: a quote or a NUL would change what they say.
pub(crate) fn check_labels(config: &JailConfig) -> Result<(), Error> {
    for (field, label) in [
        ("security.exec_label", &config.security.exec_label),
        ("security.file_label", &config.security.file_label),
    ] {
        if let Some(label) = label
            && label.contains(['"', '\0'])
        {
            return Err(Error::InvalidConfig(format!(
                "{field} {label:?} contains a quote or a NUL byte"
            )));
        }
    }
    Ok(())
}

/// Runtime warnings the configuration itself gives rise to.
pub(crate) fn config_warnings(config: &JailConfig) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if !vb_proc::selinux_enabled() {
        for (field, label) in [
            ("security.exec_label", &config.security.exec_label),
            ("security.file_label", &config.security.file_label),
        ] {
            if let Some(label) = label {
                warnings.push(Warning::LabelIgnored {
                    field,
                    label: label.clone(),
                });
            }
        }
    }
    warnings
}

/// What the running kernel does not enforce of the Landlock request, as a
/// runtime warning — or the error, under `landlock_strict`.
pub(crate) fn landlock_warning(
    config: &JailConfig,
    security: &vb_proc::SecurityPlan,
) -> Result<Option<Warning>, Error> {
    let Some(enforcement) = security
        .landlock()
        .map(vb_proc::LandlockPlan::enforcement)
        .filter(|e| !e.is_full())
    else {
        return Ok(None);
    };
    if config.security.landlock_strict {
        return Err(Error::LandlockNotEnforced(enforcement.clone()));
    }
    Ok(Some(Warning::Landlock(enforcement.clone())))
}

/// Mark every descriptor of `config` that voidbox consumes close-on-exec, so
/// none reaches the command however the caller opened it. (vb-proc closes the
/// sync and block descriptors in the processes that must not keep them.)
pub(crate) fn seal_consumed_fds(config: &JailConfig) -> Result<(), Error> {
    let status = &config.status;
    let consumed = [
        &status.json_status_fd,
        &status.event_fd,
        &status.block_fd,
        &status.userns_block_fd,
        &status.sync_fd,
    ];
    let data = config.fs_actions.iter().filter_map(|a| match a {
        FsAction::File {
            source: DataSource::Fd(fd),
            ..
        }
        | FsAction::BindData {
            source: DataSource::Fd(fd),
            ..
        } => Some(fd),
        FsAction::BindFd { fd, .. } => Some(fd),
        _ => None,
    });
    let set = |fd: BorrowedFd<'_>| {
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC).map_err(|e| Error::ChildStep {
            what: "marking a consumed descriptor close-on-exec".into(),
            source: e.into(),
        })
    };
    for fd in consumed.into_iter().flatten().chain(data) {
        set(fd.as_fd())?;
    }
    Ok(())
}
