//! The root switch, bubblewrap's way: a tmpfs becomes a temporary root (the
//! setup root)
//! holding `newroot` (where the sandbox's tree is assembled) and the old root
//! at `oldroot` (where sources are read from). After the actions, the old root
//! is detached and `/newroot` becomes `/` with `pivot_root(".", ".")`, which
//! leaves no directory behind in the new root.
//!
//! The chroot mode assembles the same way without `pivot_root`: a detached
//! copy of the host's tree (`open_tree`) is attached at `oldroot`, the process
//! chroots into the setup root, and finally into `/newroot`. Without a root
//! switch ([`RootSource::Host`](crate::RootSource::Host)) the actions apply to the host's paths in the
//! sandbox's mount namespace.
//!
//! A `--rootfs` directory is an untrusted tree. The parent resolves it once,
//! through a descriptor, to a canonical path and an identity (device and
//! inode); the child opens that path under the old root without following a
//! final symlink, checks the identity, and binds from the descriptor, with
//! `nosuid,nodev` on every mount unless the caller opted out. Its `/proc` is
//! opened relative to the new root without following a symlink: an image
//! cannot steer the fresh procfs somewhere else.

use std::ffi::CStr;

use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::mount::{MountFlags, UnmountFlags};

use super::fault::{Fault, at, bind_fault};
use super::journal::Entry;
use super::mount::Src;
use super::runner::{MountPoint, Runner};
use super::sys::{AT_FDCWD, Sys};
use crate::failure::Fail;
use crate::op::{PROC_FLAGS, RootStep, RootStepKind};

impl<S: Sys> Runner<'_, S> {
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
                e => Fault::new(Fail::RootStep, 0, e),
            })?;
        let found = self.fd(found);
        let info = self.sys.fstat(found.raw()).map_err(at(Fail::RootStep))?;
        if (info.dev, info.ino) != identity {
            return Err(Fault::new(Fail::RootChanged, 0, Errno::STALE));
        }
        let target = MountPoint::anywhere(self.root().map_err(at(Fail::RootStep))?);
        let link = self.fd_path(found.raw());
        let src = Src {
            dirfd: found.raw(),
            rel: c"",
            abs: link.as_cstr(),
        };
        self.bind(&src, &target, set, entry, || self.root())
            .map_err(bind_fault(Fail::BindMount, 0))
    }

    /// A fresh procfs on the new root's `proc`, found without following a
    /// symlink; nothing when the root has no such directory.
    fn mount_root_proc(&self) -> Result<(), Errno> {
        let root = self.root()?;
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        match self.sys.open(root.raw(), c"proc", flags, 0, false) {
            Ok(proc) => {
                let proc = MountPoint::below_root(self.fd(proc));
                self.mount_fs(c"proc", &proc, PROC_FLAGS, None)
            }
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn run_root_step(&self, step: &RootStep, entry: &Entry) -> Result<(), Fault> {
        let sys = self.sys;
        let result = match &step.kind {
            RootStepKind::Propagation { target, flags } => sys.propagation(target, *flags),
            RootStepKind::MountFs {
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
            RootStepKind::Bind { source, target } => sys.bind(source, target, true),
            RootStepKind::Unmount { target } => sys.unmount(target, UnmountFlags::DETACH),
            RootStepKind::Mkdir { path, mode } => sys.mkdir(path, *mode),
            RootStepKind::Chdir { path } => sys.chdir(path),
            RootStepKind::PivotRoot { new_root, put_old } => sys.pivot_root(new_root, put_old),
            RootStepKind::Chroot { path } => sys.chroot(path),
            RootStepKind::CloneHostRoot => {
                if self.modern {
                    let tree = sys.open_tree(AT_FDCWD, c"/").map_err(at(Fail::RootStep))?;
                    self.release_held();
                    self.held.set(tree);
                }
                Ok(())
            }
            RootStepKind::AttachHostRoot { path } => {
                let tree = self.held.get();
                if tree >= 0 {
                    let to = sys
                        .open(AT_FDCWD, path, OFlags::PATH | OFlags::DIRECTORY, 0, false)
                        .map_err(at(Fail::RootStep))?;
                    let to = self.fd(to);
                    let moved = sys.move_mount(tree, to.raw());
                    self.release_held();
                    moved
                } else {
                    // Without open_tree the copy is taken now; the setup
                    // root then hides what was under it on the host.
                    sys.bind(c"/", path, true)
                }
            }
            RootStepKind::BindRoot {
                source,
                dev,
                ino,
                set,
                ..
            } => return self.bind_root(source, (*dev, *ino), *set, entry),
            RootStepKind::MountRootProc => self.mount_root_proc(),
        };
        result.map_err(at(Fail::RootStep))
    }
}
