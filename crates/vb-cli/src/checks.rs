//! The checks across options that bubblewrap makes once the command line is
//! read, in its order and with its messages, and the configuration they
//! leave.

use std::ffi::OsString;

use voidbox::{JailConfig, Namespaces, RootSource};

use crate::host::Host;
use crate::state::{CliError, State, die};

/// The checks bubblewrap makes after parsing, in its order, then the config.
pub(crate) fn finish(
    state: &mut State,
    command: Vec<OsString>,
    host: Host,
) -> Result<JailConfig, CliError> {
    let userns_fd = state.fd_options.userns.is_some();
    let userns_block = state.fd_options.userns_block.is_some();
    if userns_block && !state.unshare_user {
        return die("--userns-block-fd requires --unshare-user");
    }
    if userns_block && state.fd_options.info.is_none() {
        return die("--userns-block-fd requires --info-fd");
    }
    if userns_fd && state.unshare_user {
        return die("--userns not compatible --unshare-user");
    }
    if userns_fd && state.unshare_user_try {
        return die("--userns not compatible --unshare-user-try");
    }
    if state.config.security.disable_userns && !state.unshare_user {
        return die("--disable-userns requires --unshare-user");
    }
    if state.config.security.disable_userns && userns_block {
        return die("--disable-userns is not compatible with  --userns-block-fd");
    }
    // An unprivileged caller needs a user namespace for everything else.
    if !host.root && !userns_fd {
        state.unshare_user = true;
    }
    if state.unshare_user_try && host.userns.get() {
        state.unshare_user = true;
    }
    if command.is_empty() {
        return Err(CliError::Usage);
    }
    let real_uid = rustix::process::getuid().as_raw();
    let real_gid = rustix::process::getgid().as_raw();
    let no_userns = !state.unshare_user && !userns_fd;
    if no_userns && state.uid.is_some_and(|u| u != real_uid) {
        return die("Specifying --uid requires --unshare-user or --userns");
    }
    if no_userns && state.gid.is_some_and(|g| g != real_gid) {
        return die("Specifying --gid requires --unshare-user or --userns");
    }
    let cfg = &mut state.config;
    if !cfg.isolation.uts && cfg.runtime.hostname.is_some() {
        return die("Specifying --hostname requires --unshare-uts");
    }
    if cfg.runtime.as_pid_1 && !cfg.isolation.pid {
        return die("Specifying --as-pid-1 requires --unshare-pid");
    }
    if cfg.runtime.as_pid_1 && !cfg.status.lock_files.is_empty() {
        return die("Specifying --as-pid-1 and --lock-file is not permitted");
    }
    let cgroupns = (state.unshare_cgroup || state.unshare_cgroup_try) && host.cgroupns.get();
    if state.unshare_cgroup && !cgroupns {
        return die("Cannot create new cgroup namespace because the kernel does not support it");
    }
    let cgroup = state.unshare_cgroup || (state.unshare_cgroup_try && cgroupns);
    cfg.isolation = Namespaces {
        user: state.unshare_user,
        mount: true,
        cgroup,
        ..cfg.isolation
    };
    // `--memory-max` is a hard limit: where the host could swap, swap is
    // forbidden unless `--memory-swap-max` allows some.
    if cfg.resources.memory_max.is_some() && !state.swap_set && host.swap.get() {
        cfg.resources.memory_swap_max = Some(0);
    }
    cfg.process.uid = state.uid;
    cfg.process.gid = state.gid;
    cfg.rootfs = match state.rootfs.take() {
        Some(dir) => RootSource::Dir(dir),
        None => RootSource::Tmpfs,
    };
    cfg.cmd = command;
    network(state)?;
    crate::apply::resolve_fd_options(state)?;
    Ok(std::mem::take(&mut state.config))
}

/// voidbox's networking options, checked together: a bridge or pasta, the
/// options that refine a bridge only with it, and nothing that contradicts
/// a new network namespace.
fn network(state: &mut State) -> Result<(), CliError> {
    let net = std::mem::take(&mut state.net);
    let chosen = match (net.bridge, net.pasta) {
        (true, true) => return die("--net-pasta is not compatible with --net-bridge"),
        (true, false) => "--net-bridge",
        (false, true) => "--net-pasta",
        (false, false) => {
            if net.host_loopback {
                return die("--net-host-loopback requires --net-pasta");
            }
            if let Some(option) = net.refined.first() {
                return die(format!("{option} requires --net-bridge"));
            }
            if net.pasta_ifname.is_some() {
                return die("--net-ifname requires --net-bridge or --net-pasta");
            }
            return Ok(());
        }
    };
    if net.pasta
        && let Some(option) = net.refined.first()
    {
        return die(format!("{option} requires --net-bridge"));
    }
    if net.bridge && net.host_loopback {
        return die("--net-host-loopback requires --net-pasta");
    }
    if state.share_net {
        return die(format!("{chosen} is not compatible with --share-net"));
    }
    if state.fd_options.netns.is_some() {
        return die(format!("{chosen} is not compatible with --netns"));
    }
    state.config.isolation.net = true;
    state.config.network = Some(if net.bridge {
        voidbox::NetworkOptions::Bridge(net.spec)
    } else {
        voidbox::NetworkOptions::Pasta(voidbox::PastaSpec {
            ifname: net.pasta_ifname.unwrap_or_else(|| net.spec.ifname.clone()),
            map_host_loopback: net.host_loopback,
            ..voidbox::PastaSpec::default()
        })
    });
    Ok(())
}
