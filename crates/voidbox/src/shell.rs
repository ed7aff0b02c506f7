//! The shell helpers: [`default_shell_config`] and [`launch_shell`].

use crate::status::ExitStatus;
use vb_fs::RootSource;

use crate::config::{JailConfig, Namespaces, ShellConfig};
use crate::error::Error;
use crate::spawn::launch;

/// A shell configuration over `rootfs` (a host directory; `/` for the host's
/// own tree) with new PID, mount, UTS and IPC namespaces, running `/bin/sh`.
pub fn default_shell_config(rootfs: impl Into<std::path::PathBuf>) -> ShellConfig {
    ShellConfig {
        jail: JailConfig {
            rootfs: RootSource::Dir(rootfs.into()),
            isolation: Namespaces {
                pid: true,
                mount: true,
                uts: true,
                ipc: true,
                ..Namespaces::default()
            },
            ..JailConfig::default()
        },
        shell_path: "/bin/sh".into(),
        shell_args: Vec::new(),
    }
}

/// Launch the shell of `shell` with its arguments and wait for it.
pub fn launch_shell(shell: &ShellConfig) -> Result<ExitStatus, Error> {
    let mut jail = shell.jail.clone();
    jail.cmd = std::iter::once(shell.shell_path.clone().into_os_string())
        .chain(shell.shell_args.iter().cloned())
        .collect();
    launch(&jail)
}
