//! The steps around the actions: bubblewrap's root switch (a tmpfs, the
//! setup root, holding `newroot` and `oldroot`; `pivot_root` or `chroot`;
//! the old root detached at the end), or, without a root switch, what the
//! host's tree needs. The child runs them like any operation.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use rustix::mount::{MountFlags, MountPropagationFlags};

use super::path::{cpath, under_old_root};
use crate::error::FsError;
use crate::op::{Layout, Op, PROC_FLAGS, RootStep, RootStepKind};
use crate::spec::{FsSpec, RootSource, RootSwitch};

/// Where the setup root (the tmpfs the new root is assembled in) is mounted:
/// the first of these that is a directory. It lives only in the sandbox's
/// mount namespace.
const SETUP_ROOT_CANDIDATES: [&str; 4] = ["/tmp", "/run", "/mnt", "/var/tmp"];

/// Where to mount the setup root.
pub(super) fn setup_root_dir() -> Result<PathBuf, FsError> {
    SETUP_ROOT_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .ok_or_else(|| FsError::NoSetupRoot {
            tried: SETUP_ROOT_CANDIDATES.join(", "),
        })
}

/// A `--rootfs` directory as the parent resolved it.
#[derive(Debug, Clone)]
pub(super) struct RootDir {
    /// The canonical host path.
    pub(super) path: PathBuf,
    /// The directory's device, to recognise it in the child.
    pub(super) dev: u64,
    /// The directory's inode.
    pub(super) ino: u64,
}

/// The `--rootfs` directory: one lookup, through a descriptor, gives both
/// the canonical path the child looks for and the identity it must find
/// there (a second lookup could land somewhere else).
pub(super) fn resolve_root(dir: &Path) -> Result<RootDir, FsError> {
    use rustix::fs::{Mode, OFlags};
    use std::os::fd::AsRawFd;
    let err = |source| FsError::Rootfs {
        path: dir.to_path_buf(),
        source,
    };
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(dir, flags, Mode::empty()).map_err(|e| err(e.into()))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| err(e.into()))?;
    let path = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(err)?;
    Ok(RootDir {
        path,
        dev: st.st_dev,
        ino: st.st_ino,
    })
}

fn c(path: &str) -> CString {
    // The literals passed here contain no NUL.
    CString::new(path).unwrap_or_default()
}

/// Append a step with its message.
fn step(ops: &mut Vec<Op>, kind: RootStepKind, message: impl Into<String>) {
    ops.push(Op::RootStep(RootStep {
        kind,
        message: message.into(),
    }));
}

/// The upper and work directories of `count` tmp-overlays, under `base`.
fn tmp_overlay_dirs(ops: &mut Vec<Op>, base: &str, count: usize) {
    for i in 0..count {
        for (kind, what) in [("upper", "upperdir"), ("work", "workdir")] {
            step(
                ops,
                RootStepKind::Mkdir {
                    path: c(&format!("{base}tmp-overlay-{kind}-{i}")),
                    mode: 0o755,
                },
                format!("Creating --tmp-overlay {what} failed"),
            );
        }
    }
}

/// The steps before the actions. `setup_root` is where the setup root is
/// mounted; `artifact_dir` the host directory for data files and
/// `--tmp-overlay` layers without a root switch; `root_dir` the resolved
/// `--rootfs`.
pub(super) fn before_actions(
    ops: &mut Vec<Op>,
    layout: &Layout,
    spec: &FsSpec,
    setup_root: &Path,
    root_dir: Option<&RootDir>,
    tmp_overlays: usize,
    artifact_dir: Option<&Path>,
) -> Result<(), FsError> {
    // Slave, not private: the sandbox still sees mounts made on the host
    // later, and nothing it mounts propagates back.
    step(
        ops,
        RootStepKind::Propagation {
            target: c("/"),
            flags: MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC,
        },
        "Failed to make / slave",
    );
    if spec.root == RootSource::Host {
        if spec.mount_proc {
            step(
                ops,
                RootStepKind::MountFs {
                    fstype: c"proc",
                    target: c("/proc"),
                    flags: PROC_FLAGS,
                    if_dir: true,
                },
                "Can't mount proc on /proc",
            );
        }
        if let Some(dir) = artifact_dir {
            let base = format!("{}/", dir.display());
            tmp_overlay_dirs(ops, &base, tmp_overlays);
        }
        return Ok(());
    }
    let chroot = spec.switch == RootSwitch::Chroot;
    if chroot {
        step(
            ops,
            RootStepKind::CloneHostRoot,
            "Can't copy the host's mount tree",
        );
    }
    let c_setup_root = cpath(setup_root)?;
    step(
        ops,
        RootStepKind::MountFs {
            fstype: c"tmpfs",
            target: c_setup_root.clone(),
            flags: MountFlags::NOSUID | MountFlags::NODEV,
            if_dir: false,
        },
        "Failed to mount tmpfs",
    );
    step(
        ops,
        RootStepKind::Chdir { path: c_setup_root },
        "chdir base_path",
    );
    step(
        ops,
        RootStepKind::Mkdir {
            path: c("newroot"),
            mode: 0o755,
        },
        "Creating newroot failed",
    );
    if root_dir.is_none() {
        // An empty directory of the tmpfs becomes a mount point of its own.
        step(
            ops,
            RootStepKind::Bind {
                source: c("newroot"),
                target: c("newroot"),
            },
            "setting up newroot bind",
        );
    }
    step(
        ops,
        RootStepKind::Mkdir {
            path: c("oldroot"),
            mode: 0o755,
        },
        "Creating oldroot failed",
    );
    tmp_overlay_dirs(ops, "", tmp_overlays);
    if chroot {
        step(
            ops,
            RootStepKind::AttachHostRoot { path: c("oldroot") },
            "Can't attach the host's mount tree at oldroot",
        );
        step(
            ops,
            RootStepKind::Chroot { path: c(".") },
            "chroot base_path",
        );
    } else {
        step(
            ops,
            RootStepKind::PivotRoot {
                new_root: c("."),
                put_old: c("oldroot"),
            },
            "pivot_root",
        );
    }
    step(
        ops,
        RootStepKind::Chdir { path: c("/") },
        "chdir / (base path)",
    );
    if let Some(dir) = root_dir {
        let source = under_old_root(layout, &dir.path);
        let mut set = MountFlags::empty();
        if !spec.rootfs_suid {
            set |= MountFlags::NOSUID;
        }
        if !spec.rootfs_dev {
            set |= MountFlags::NODEV;
        }
        let shown = dir.path.display().to_string();
        step(
            ops,
            RootStepKind::BindRoot {
                source: cpath(&source)?,
                shown: shown.clone(),
                dev: dir.dev,
                ino: dir.ino,
                set,
            },
            format!("Can't bind mount {shown} on /newroot"),
        );
        if spec.mount_proc {
            step(
                ops,
                RootStepKind::MountRootProc,
                "Can't mount proc on /proc",
            );
        }
    }
    Ok(())
}

/// The steps after the actions.
pub(super) fn after_actions(ops: &mut Vec<Op>, spec: &FsSpec) {
    if spec.root == RootSource::Host {
        return;
    }
    step(
        ops,
        RootStepKind::Propagation {
            target: c("/oldroot"),
            flags: MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
        },
        "Failed to make old root rprivate",
    );
    step(
        ops,
        RootStepKind::Unmount {
            target: c("/oldroot"),
        },
        "unmount old root",
    );
    step(
        ops,
        RootStepKind::Chdir {
            path: c("/newroot"),
        },
        "chdir /newroot",
    );
    if spec.switch == RootSwitch::Chroot {
        step(
            ops,
            RootStepKind::Chroot { path: c(".") },
            "chroot /newroot",
        );
    } else {
        step(
            ops,
            RootStepKind::PivotRoot {
                new_root: c("."),
                put_old: c("."),
            },
            "pivot_root(/newroot)",
        );
        step(
            ops,
            RootStepKind::Unmount { target: c(".") },
            "umount old root",
        );
    }
    step(ops, RootStepKind::Chdir { path: c("/") }, "chdir /");
}
