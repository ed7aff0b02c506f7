//! The steps around the actions: bubblewrap's root switch (a staging tmpfs
//! holding `newroot` and `oldroot`, `pivot_root` or `chroot`, the old root
//! detached at the end), or, without a root switch, what the host's tree
//! needs. The child runs them like any operation.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use rustix::mount::{MountFlags, MountPropagationFlags};

use super::path::{cpath, under_old_root};
use crate::error::FsError;
use crate::op::{Layout, Op, PROC_FLAGS, Prim, PrimKind};
use crate::spec::{FsSpec, RootSource, RootSwitch};

/// Where the new root is staged before the switch: the first of these that
/// is a directory. The staging tmpfs lives only in the sandbox's mount
/// namespace.
const STAGING_CANDIDATES: [&str; 4] = ["/tmp", "/run", "/mnt", "/var/tmp"];

pub(super) fn staging_dir() -> Result<PathBuf, FsError> {
    STAGING_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .ok_or_else(|| FsError::NoStagingDir {
            tried: STAGING_CANDIDATES.join(", "),
        })
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

fn c(path: &str) -> CString {
    // The literals passed here contain no NUL.
    CString::new(path).unwrap_or_default()
}

fn prim(ops: &mut Vec<Op>, kind: PrimKind, what: impl Into<String>) {
    ops.push(Op::Prim(Prim {
        kind,
        what: what.into(),
    }));
}

fn tmp_overlay_dirs(ops: &mut Vec<Op>, base: &str, count: usize) {
    for i in 0..count {
        for (kind, what) in [("upper", "upperdir"), ("work", "workdir")] {
            prim(
                ops,
                PrimKind::Mkdir {
                    path: c(&format!("{base}tmp-overlay-{kind}-{i}")),
                    mode: 0o755,
                },
                format!("Creating --tmp-overlay {what} failed"),
            );
        }
    }
}

/// The steps before the actions. `staging` is where the staging tmpfs
/// goes; `host_stage` the host directory for staged artifacts without a
/// root switch; `root_dir` the resolved `--rootfs`.
pub(super) fn before_actions(
    ops: &mut Vec<Op>,
    layout: &Layout,
    spec: &FsSpec,
    staging: &Path,
    root_dir: Option<&RootDir>,
    tmp_overlays: usize,
    host_stage: Option<&Path>,
) -> Result<(), FsError> {
    // Slave, not private: the sandbox still sees mounts made on the host
    // later, and nothing it mounts propagates back.
    prim(
        ops,
        PrimKind::Propagation {
            target: c("/"),
            flags: MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC,
        },
        "Failed to make / slave",
    );
    if spec.root == RootSource::Host {
        if spec.mount_proc {
            prim(
                ops,
                PrimKind::MountFs {
                    fstype: c"proc",
                    target: c("/proc"),
                    flags: PROC_FLAGS,
                    if_dir: true,
                },
                "Can't mount proc on /proc",
            );
        }
        if let Some(stage) = host_stage {
            let base = format!("{}/", stage.display());
            tmp_overlay_dirs(ops, &base, tmp_overlays);
        }
        return Ok(());
    }
    let chroot = spec.switch == RootSwitch::Chroot;
    if chroot {
        prim(
            ops,
            PrimKind::CloneHostRoot,
            "Can't copy the host's mount tree",
        );
    }
    let c_staging = cpath(staging)?;
    prim(
        ops,
        PrimKind::MountFs {
            fstype: c"tmpfs",
            target: c_staging.clone(),
            flags: MountFlags::NOSUID | MountFlags::NODEV,
            if_dir: false,
        },
        "Failed to mount tmpfs",
    );
    prim(ops, PrimKind::Chdir { path: c_staging }, "chdir base_path");
    prim(
        ops,
        PrimKind::Mkdir {
            path: c("newroot"),
            mode: 0o755,
        },
        "Creating newroot failed",
    );
    if root_dir.is_none() {
        // An empty directory of the tmpfs becomes a mount point of its own.
        prim(
            ops,
            PrimKind::Bind {
                source: c("newroot"),
                target: c("newroot"),
            },
            "setting up newroot bind",
        );
    }
    prim(
        ops,
        PrimKind::Mkdir {
            path: c("oldroot"),
            mode: 0o755,
        },
        "Creating oldroot failed",
    );
    tmp_overlay_dirs(ops, "", tmp_overlays);
    if chroot {
        prim(
            ops,
            PrimKind::AttachHostRoot { path: c("oldroot") },
            "Can't attach the host's mount tree at oldroot",
        );
        prim(ops, PrimKind::Chroot { path: c(".") }, "chroot base_path");
    } else {
        prim(
            ops,
            PrimKind::PivotRoot {
                new_root: c("."),
                put_old: c("oldroot"),
            },
            "pivot_root",
        );
    }
    prim(ops, PrimKind::Chdir { path: c("/") }, "chdir / (base path)");
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
        prim(
            ops,
            PrimKind::BindRoot {
                source: cpath(&source)?,
                shown: shown.clone(),
                dev: dir.dev,
                ino: dir.ino,
                set,
            },
            format!("Can't bind mount {shown} on /newroot"),
        );
        if spec.mount_proc {
            prim(ops, PrimKind::MountRootProc, "Can't mount proc on /proc");
        }
    }
    Ok(())
}

/// The steps after the actions.
pub(super) fn after_actions(ops: &mut Vec<Op>, spec: &FsSpec) {
    if spec.root == RootSource::Host {
        return;
    }
    prim(
        ops,
        PrimKind::Propagation {
            target: c("/oldroot"),
            flags: MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
        },
        "Failed to make old root rprivate",
    );
    prim(
        ops,
        PrimKind::Unmount {
            target: c("/oldroot"),
        },
        "unmount old root",
    );
    prim(
        ops,
        PrimKind::Chdir {
            path: c("/newroot"),
        },
        "chdir /newroot",
    );
    if spec.switch == RootSwitch::Chroot {
        prim(ops, PrimKind::Chroot { path: c(".") }, "chroot /newroot");
    } else {
        prim(
            ops,
            PrimKind::PivotRoot {
                new_root: c("."),
                put_old: c("."),
            },
            "pivot_root(/newroot)",
        );
        prim(ops, PrimKind::Unmount { target: c(".") }, "umount old root");
    }
    prim(ops, PrimKind::Chdir { path: c("/") }, "chdir /");
}
