//! The root switch, bubblewrap's way: a staging tmpfs becomes a temporary root
//! holding `newroot` (where the sandbox's tree is assembled) and the old root
//! at `oldroot` (where sources are read from). After the actions, the old root
//! is detached and `/newroot` becomes `/` with `pivot_root(".", ".")`, which
//! leaves no directory behind in the new root.
//!
//! The chroot mode assembles the same way without `pivot_root`: a detached
//! copy of the host's tree (`open_tree`) is attached at `oldroot`, the process
//! chroots into the staging tmpfs, and finally into `/newroot`. Without a root
//! switch ([`RootSource::Host`]) the actions apply to the host's paths in the
//! sandbox's mount namespace.
//!
//! A `--rootfs` directory is an untrusted tree. The parent resolves it once,
//! through a descriptor, to a canonical path and an identity (device and
//! inode); the child opens that path under the old root without following a
//! final symlink, checks the identity, and binds from the descriptor, with
//! `nosuid,nodev` on every mount unless the caller opted out. Its `/proc` is
//! opened relative to the new root without following a symlink: an image
//! cannot steer the fresh procfs somewhere else.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use crate::bind::bind_fault;
use crate::error::FsError;
use crate::exec::{Exec, Src};
use crate::failure::{Fail, Fault, at};
use crate::op::{Op, PROC_FLAGS, Prim, PrimKind};
use crate::plan::MountPlan;
use crate::rollback::Entry;
use crate::spec::{FsSpec, RootSource, RootSwitch};
use crate::sys::{AT_FDCWD, Sys};

/// A `--rootfs` directory as the parent resolved it.
#[derive(Debug, Clone)]
pub(crate) struct RootDir {
    /// The canonical host path.
    pub(crate) path: PathBuf,
    /// The directory's device, to recognise it in the child.
    pub(crate) dev: u64,
    /// The directory's inode.
    pub(crate) ino: u64,
}

fn c(path: &str) -> CString {
    // The literals passed here contain no NUL.
    CString::new(path).unwrap_or_default()
}

fn cpath(path: &Path) -> Result<CString, FsError> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| FsError::Nul(path.to_path_buf()))
}

impl MountPlan {
    fn prim(&mut self, kind: PrimKind, what: impl Into<String>) {
        self.push(Op::Prim(Prim {
            kind,
            what: what.into(),
        }));
    }

    fn tmp_overlay_dirs(&mut self, base: &str, count: usize) {
        for i in 0..count {
            for (kind, what) in [("upper", "upperdir"), ("work", "workdir")] {
                self.prim(
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
    pub(crate) fn compile_root_start(
        &mut self,
        spec: &FsSpec,
        staging: &Path,
        root_dir: Option<&RootDir>,
        tmp_overlays: usize,
        host_stage: Option<&Path>,
    ) -> Result<(), FsError> {
        // Slave, not private: the sandbox still sees mounts made on the host
        // later, and nothing it mounts propagates back.
        self.prim(
            PrimKind::Propagation {
                target: c("/"),
                flags: MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC,
            },
            "Failed to make / slave",
        );
        if spec.root == RootSource::Host {
            if spec.mount_proc {
                self.prim(
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
                self.tmp_overlay_dirs(&base, tmp_overlays);
            }
            return Ok(());
        }
        let chroot = spec.switch == RootSwitch::Chroot;
        if chroot {
            self.prim(PrimKind::CloneHostRoot, "Can't copy the host's mount tree");
        }
        let c_staging = cpath(staging)?;
        self.prim(
            PrimKind::MountFs {
                fstype: c"tmpfs",
                target: c_staging.clone(),
                flags: MountFlags::NOSUID | MountFlags::NODEV,
                if_dir: false,
            },
            "Failed to mount tmpfs",
        );
        self.prim(PrimKind::Chdir { path: c_staging }, "chdir base_path");
        self.prim(
            PrimKind::Mkdir {
                path: c("newroot"),
                mode: 0o755,
            },
            "Creating newroot failed",
        );
        if root_dir.is_none() {
            // An empty directory of the tmpfs becomes a mount point of its own.
            self.prim(
                PrimKind::Bind {
                    source: c("newroot"),
                    target: c("newroot"),
                },
                "setting up newroot bind",
            );
        }
        self.prim(
            PrimKind::Mkdir {
                path: c("oldroot"),
                mode: 0o755,
            },
            "Creating oldroot failed",
        );
        self.tmp_overlay_dirs("", tmp_overlays);
        if chroot {
            self.prim(
                PrimKind::AttachHostRoot { path: c("oldroot") },
                "Can't attach the host's mount tree at oldroot",
            );
            self.prim(PrimKind::Chroot { path: c(".") }, "chroot base_path");
        } else {
            self.prim(
                PrimKind::PivotRoot {
                    new_root: c("."),
                    put_old: c("oldroot"),
                },
                "pivot_root",
            );
        }
        self.prim(PrimKind::Chdir { path: c("/") }, "chdir / (base path)");
        if let Some(dir) = root_dir {
            let source = crate::plan::under_old_root(&self.layout, &dir.path);
            let mut set = MountFlags::empty();
            if !spec.rootfs_suid {
                set |= MountFlags::NOSUID;
            }
            if !spec.rootfs_dev {
                set |= MountFlags::NODEV;
            }
            let shown = dir.path.display().to_string();
            self.prim(
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
                self.prim(PrimKind::MountRootProc, "Can't mount proc on /proc");
            }
        }
        Ok(())
    }

    /// The steps after the actions.
    pub(crate) fn compile_root_end(&mut self, spec: &FsSpec) {
        if spec.root == RootSource::Host {
            return;
        }
        self.prim(
            PrimKind::Propagation {
                target: c("/oldroot"),
                flags: MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
            },
            "Failed to make old root rprivate",
        );
        self.prim(
            PrimKind::Unmount {
                target: c("/oldroot"),
            },
            "unmount old root",
        );
        self.prim(
            PrimKind::Chdir {
                path: c("/newroot"),
            },
            "chdir /newroot",
        );
        if spec.switch == RootSwitch::Chroot {
            self.prim(PrimKind::Chroot { path: c(".") }, "chroot /newroot");
        } else {
            self.prim(
                PrimKind::PivotRoot {
                    new_root: c("."),
                    put_old: c("."),
                },
                "pivot_root(/newroot)",
            );
            self.prim(PrimKind::Unmount { target: c(".") }, "umount old root");
        }
        self.prim(PrimKind::Chdir { path: c("/") }, "chdir /");
    }
}

impl<S: Sys> Exec<'_, S> {
    /// Open the `--rootfs` directory under the old root, check it is the
    /// compiled one, and bind it on the new root from that descriptor.
    fn bind_root(
        &self,
        source: &CStr,
        identity: (u64, u64),
        set: MountFlags,
        entry: &Entry,
    ) -> Result<(), Fault> {
        // Only a final symlink matters here: a swapped intermediate
        // component leads to a directory with another identity.
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        let found = self
            .sys
            .open(AT_FDCWD, source, flags, 0, false)
            .map_err(|e| match e {
                Errno::NOTDIR | Errno::LOOP => Fault::new(Fail::RootChanged, 0, e),
                e => Fault::new(Fail::Prim, 0, e),
            })?;
        let found = self.fd(found);
        let info = self.sys.fstat(found.raw()).map_err(at(Fail::Prim))?;
        if (info.dev, info.ino) != identity {
            return Err(Fault::new(Fail::RootChanged, 0, Errno::STALE));
        }
        let target = self.root().map_err(at(Fail::Prim))?;
        let link = self.fd_path(found.raw());
        let src = Src {
            dirfd: found.raw(),
            rel: c"",
            abs: link.as_cstr(),
        };
        self.bind(&src, target.raw(), set, entry, || self.root())
            .map_err(bind_fault(Fail::BindMount, 0))
    }

    /// A fresh procfs on the new root's `proc`, found without following a
    /// symlink; nothing when the root has no such directory.
    fn mount_root_proc(&self) -> Result<(), Errno> {
        let root = self.root()?;
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        match self.sys.open(root.raw(), c"proc", flags, 0, false) {
            Ok(proc) => {
                let proc = self.fd(proc);
                self.mount_fs(c"proc", proc.raw(), PROC_FLAGS, None)
            }
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn run_prim(&self, prim: &Prim, entry: &Entry) -> Result<(), Fault> {
        let sys = self.sys;
        let result = match &prim.kind {
            PrimKind::Propagation { target, flags } => sys.propagation(target, *flags),
            PrimKind::MountFs {
                fstype,
                target,
                flags,
                if_dir,
            } => {
                if *if_dir && !sys.is_dir(target) {
                    return Ok(());
                }
                sys.mount_fs(fstype, target, *flags, None)
            }
            PrimKind::Bind { source, target } => sys.bind(source, target, true),
            PrimKind::Unmount { target } => sys.unmount(target, UnmountFlags::DETACH),
            PrimKind::Mkdir { path, mode } => sys.mkdir(path, *mode),
            PrimKind::Chdir { path } => sys.chdir(path),
            PrimKind::PivotRoot { new_root, put_old } => sys.pivot_root(new_root, put_old),
            PrimKind::Chroot { path } => sys.chroot(path),
            PrimKind::CloneHostRoot => {
                if self.modern {
                    let tree = sys.open_tree(AT_FDCWD, c"/").map_err(at(Fail::Prim))?;
                    self.release_held();
                    self.held.set(tree);
                }
                Ok(())
            }
            PrimKind::AttachHostRoot { path } => {
                let tree = self.held.get();
                if tree >= 0 {
                    let to = sys
                        .open(AT_FDCWD, path, OFlags::PATH | OFlags::DIRECTORY, 0, false)
                        .map_err(at(Fail::Prim))?;
                    let to = self.fd(to);
                    let moved = sys.move_mount(tree, to.raw());
                    self.release_held();
                    moved
                } else {
                    // Without open_tree the copy is taken now; the staging
                    // tmpfs then hides what was under it on the host.
                    sys.bind(c"/", path, true)
                }
            }
            PrimKind::BindRoot {
                source,
                dev,
                ino,
                set,
                ..
            } => return self.bind_root(source, (*dev, *ino), *set, entry),
            PrimKind::MountRootProc => self.mount_root_proc(),
        };
        result.map_err(at(Fail::Prim))
    }
}
