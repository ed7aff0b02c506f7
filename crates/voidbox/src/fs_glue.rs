//! The facade's side of vb-fs: the [`FsSpec`] a configuration stands for, the
//! child hook that executes the compiled plan, and the end-of-life cleanup.

use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;

use vb_fs::{FsAction, FsSpec, MountApi, MountPlan, RealSys, RootSwitch};
use vb_proc::{ChildHook, StepFailure};

use crate::config::{JailConfig, Namespaces, Stdio};
use crate::error::Error;

/// The host terminal `fd` is, if it is one (bubblewrap's `ttyname(1)`).
fn terminal_of(fd: RawFd) -> Option<PathBuf> {
    // SAFETY: isatty only inspects the descriptor number.
    if unsafe { libc::isatty(fd) } != 1 {
        return None;
    }
    let path = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    path.starts_with("/dev/").then_some(path)
}

/// Compile the mount plan of `config` (with the namespaces actually created).
/// `extra` actions run after the configuration's (a generated resolv.conf).
pub(crate) fn compile(
    config: &JailConfig,
    iso: &Namespaces,
    extra: Vec<FsAction>,
) -> Result<MountPlan, Error> {
    let wants_console = config
        .fs_actions
        .iter()
        .any(|a| matches!(a, FsAction::Dev { .. }));
    // The command's stdout: what `--dev` binds at `console` when it is a tty.
    let stdout = match &config.process.stdout {
        Stdio::Inherit => Some(1),
        Stdio::Fd(fd) => Some(fd.as_raw_fd()),
        Stdio::Null | Stdio::Piped => None,
    };
    Ok(MountPlan::compile(&FsSpec {
        root: config.rootfs.clone(),
        switch: if config.runtime.use_pivot_root {
            RootSwitch::PivotRoot
        } else {
            RootSwitch::Chroot
        },
        // A PID namespace of its own, new or joined, gets its own procfs.
        mount_proc: iso.pid || config.namespace_fds.pid.is_some(),
        actions: config.fs_actions.iter().cloned().chain(extra).collect(),
        console: stdout.filter(|_| wants_console).and_then(terminal_of),
        mount_api: MountApi::Auto,
        // Without SELinux the label is a runtime warning, not a mount option
        // the kernel would refuse.
        mount_label: config
            .security
            .file_label
            .clone()
            .filter(|_| vb_proc::selinux_enabled()),
        rootfs_dev: config.runtime.rootfs_dev,
        rootfs_suid: config.runtime.rootfs_suid,
    })?)
}

/// The child-side adapter of a vb-fs plan.
pub(crate) struct FsHook<'a>(pub(crate) &'a MountPlan);

// SAFETY: `MountPlan::execute` is vb-fs's child-side executor: system calls on
// the compiled plan only, no allocation, no locks, no panics.
unsafe impl ChildHook for FsHook<'_> {
    fn run(&self) -> Result<(), StepFailure> {
        self.0
            .execute(&RealSys)
            .map_err(|f| StepFailure::new(f.step, f.index, f.errno))
    }
}

/// Remove what the plan left on the host for the sandbox's lifetime (the `--bind-data`
/// files and `--tmp-overlay` layers when there is no root switch). Called once
/// the sandbox has ended (or failed to start), on every path.
pub(crate) fn finish(plan: Option<MountPlan>) -> Result<(), Error> {
    match plan {
        Some(mut plan) => Ok(plan.finish()?),
        None => Ok(()),
    }
}
