//! What a sandbox's filesystem should look like: the input of
//! [`MountPlan::compile`](crate::MountPlan::compile).

use std::path::PathBuf;

use crate::action::FsAction;

/// Where the sandbox's root filesystem comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RootSource {
    /// No root switch: the sandbox sees the host's tree in its own mount
    /// namespace (with a fresh `/proc` when the PID namespace is new), and the
    /// actions apply to host paths directly.
    #[default]
    Host,
    /// bubblewrap's root: an empty tmpfs, populated by filesystem actions.
    Tmpfs,
    /// This host directory, bound recursively, becomes `/`; the actions apply
    /// on top of it. Every mount of it is `nosuid,nodev` unless
    /// [`FsSpec::rootfs_suid`] / [`FsSpec::rootfs_dev`] say otherwise: an
    /// image's setuid files and device nodes are dead by default.
    Dir(PathBuf),
}

/// How the process enters its new root.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RootSwitch {
    /// `pivot_root`, then the old root is detached: nothing of it stays
    /// reachable. bubblewrap's behaviour and the default.
    #[default]
    PivotRoot,
    /// `chroot` into the new root; the host's tree stays the mount
    /// namespace's root and is reachable through descriptors opened before.
    /// A compatibility mode for hosts where `pivot_root` fails (a root on
    /// ramfs, some nested containers).
    Chroot,
}

/// Which kernel interface mounts go through. Either way destinations are
/// resolved inside the new root with `openat2(RESOLVE_IN_ROOT)`; without
/// `openat2` a plan with destinations below a new root is refused (see
/// [`MountPlan::execute`](crate::MountPlan::execute)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MountApi {
    /// The mount API of Linux 5.12 (`open_tree`, `mount_setattr`,
    /// `move_mount`) when the kernel (and any seccomp profile) allows it; the
    /// legacy method otherwise.
    #[default]
    Auto,
    /// bubblewrap's `mount(2)` method: each read-only or nosuid bind walks the
    /// mount table to remount its submounts. Mounts still land on the
    /// resolved destination's descriptor. For comparison and for kernels
    /// where the probe misjudges.
    Legacy,
}

/// What the sandbox's filesystem should look like.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsSpec {
    /// The root.
    pub root: RootSource,
    /// How to enter it.
    pub switch: RootSwitch,
    /// The sandbox has its own PID namespace: `--proc` mounts a fresh procfs
    /// (instead of binding the host's), and a [`RootSource::Host`] or
    /// [`RootSource::Dir`] root gets one on its `/proc`.
    pub mount_proc: bool,
    /// The actions that compose the tree, in order.
    pub actions: Vec<FsAction>,
    /// The host terminal the sandbox's stdout is, if any: `--dev` binds it at
    /// `console` (bubblewrap's `ttyname(1)`).
    pub console: Option<PathBuf>,
    /// The kernel interface for mounts.
    pub mount_api: MountApi,
    /// Keep device nodes of a [`RootSource::Dir`] root usable (no `nodev`
    /// on its mounts). Refused with any other root.
    pub rootfs_dev: bool,
    /// Keep setuid and setgid bits of a [`RootSource::Dir`] root effective
    /// (no `nosuid` on its mounts). Refused with any other root.
    pub rootfs_suid: bool,
    /// The SELinux context of the tmpfs mounts the actions make (`--tmpfs`,
    /// `--dev`), as bubblewrap's `--file-label` gives it. The caller checks
    /// that SELinux is enabled.
    pub mount_label: Option<String>,
}
