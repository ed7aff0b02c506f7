//! `--dev`: a minimal `/dev` on a fresh tmpfs, as bubblewrap builds it: the
//! host's `null`, `zero`, `full`, `random`, `urandom` and `tty` bound in
//! (device nodes stay usable: no `nodev` on them), `stdin`/`stdout`/`stderr`,
//! `fd` and `core` symlinks, an empty `shm/`, a new devpts instance at `pts/`
//! with `ptmx` pointing into it, and `console` bound to the host terminal when
//! the sandbox's stdout is one.
//!
//! The host nodes are opened (`O_PATH`) before the tmpfs is mounted and bound
//! from those descriptors, so the nodes are found even when the new `/dev`
//! covers the host's (no root switch).

use std::ffi::CStr;
use std::os::fd::RawFd;

use rustix::fs::OFlags;
use rustix::mount::MountFlags;

use super::fault::{Fault, at, at_sub, bind_fault};
use super::journal::{Entry, MOUNTED};
use super::mount::Src;
use super::runner::{MountPoint, Runner};
use super::sys::{AT_FDCWD, Sys};
use crate::failure::Fail;
use crate::op::{DevOp, NODES, STDIO};

impl<S: Sys> Runner<'_, S> {
    /// Create an empty 0444 file `name` in `dir` and bind `source` (already
    /// open as `source_fd`) on it, devices allowed.
    fn dev_bind(
        &self,
        dir: RawFd,
        name: &CStr,
        source_fd: RawFd,
        faults: (Fail, Fail, u16),
        entry: &Entry,
    ) -> Result<(), Fault> {
        let (create_kind, bind_kind, sub) = faults;
        let flags = OFlags::CREATE | OFlags::WRONLY | OFlags::TRUNC | OFlags::NOFOLLOW;
        let file = self
            .sys
            .open(dir, name, flags, 0o444, false)
            .map_err(at_sub(create_kind, sub))?;
        drop(self.fd(file));
        let target = self
            .sys
            .open(dir, name, OFlags::PATH | OFlags::NOFOLLOW, 0, false)
            .map_err(at_sub(bind_kind, sub))?;
        // A name inside the new `/dev`: not the new root itself.
        let target = MountPoint::below_root(self.fd(target));
        let link = self.fd_path(source_fd);
        let src = Src {
            dirfd: AT_FDCWD,
            rel: link.as_cstr(),
            abs: link.as_cstr(),
        };
        let reopen = || {
            let flags = OFlags::PATH | OFlags::NOFOLLOW;
            self.sys
                .open(dir, name, flags, 0, false)
                .map(|raw| self.fd(raw))
        };
        self.bind(&src, &target, MountFlags::NOSUID, entry, reopen)
            .map_err(bind_fault(bind_kind, sub))
    }

    pub(crate) fn run_dev(&self, op: &DevOp, entry: &Entry) -> Result<(), Fault> {
        // Open the host nodes first: the new tmpfs may cover them.
        let mut sources: [RawFd; 7] = [-1; 7];
        let guard = OpenFds {
            sys: self.sys,
            fds: &mut sources,
        };
        let binds = op.nodes.iter().chain(op.console.as_ref());
        for ((i, bind), slot) in (0u16..).zip(binds).zip(guard.fds.iter_mut()) {
            let kind = if usize::from(i) < op.nodes.len() {
                Fail::DevNodeBind
            } else {
                Fail::DevConsoleBind
            };
            *slot = self
                .sys
                .open(AT_FDCWD, &bind.source, OFlags::PATH, 0, false)
                .map_err(at_sub(kind, i))?;
        }
        let target = self.prepare(&op.dest, true, false, entry)?;
        self.mount_fs(
            c"tmpfs",
            &target,
            MountFlags::NOSUID | MountFlags::NODEV,
            Some(op.data.as_c_str()),
        )
        .map_err(at(Fail::MountNewFs))?;
        entry.mark(MOUNTED);
        drop(target);
        let dev = self
            .reopen(&op.dest, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(at(Fail::MountNewFs))?;
        let dev = dev.raw();
        for ((i, name), source) in (0u16..).zip(NODES).zip(guard.fds.iter()) {
            let faults = (Fail::DevNode, Fail::DevNodeBind, i);
            self.dev_bind(dev, name, *source, faults, entry)?;
        }
        for (i, (name, target)) in (0u16..).zip(STDIO) {
            self.sys
                .symlinkat(target, dev, name)
                .map_err(at_sub(Fail::DevStdio, i))?;
        }
        self.sys
            .symlinkat(c"/proc/self/fd", dev, c"fd")
            .map_err(at(Fail::DevFd))?;
        self.sys
            .symlinkat(c"/proc/kcore", dev, c"core")
            .map_err(at(Fail::DevCore))?;
        self.sys
            .mkdirat(dev, c"shm", 0o755)
            .map_err(at(Fail::DevShm))?;
        self.sys
            .mkdirat(dev, c"pts", 0o755)
            .map_err(at(Fail::DevPts))?;
        let pts = self
            .sys
            .open(
                dev,
                c"pts",
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW,
                0,
                false,
            )
            .map_err(at(Fail::DevPtsMount))?;
        let pts = MountPoint::below_root(self.fd(pts));
        self.mount_fs(
            c"devpts",
            &pts,
            MountFlags::NOSUID | MountFlags::NOEXEC,
            Some(c"newinstance,ptmxmode=0666,mode=620"),
        )
        .map_err(at(Fail::DevPtsMount))?;
        self.sys
            .symlinkat(c"pts/ptmx", dev, c"ptmx")
            .map_err(at(Fail::DevPtmx))?;
        if let (Some(_), Some(source)) = (&op.console, guard.fds.get(op.nodes.len())) {
            let faults = (Fail::DevConsole, Fail::DevConsoleBind, 0);
            self.dev_bind(dev, c"console", *source, faults, entry)?;
        }
        Ok(())
    }
}

/// Descriptors closed when the guard goes out of scope.
struct OpenFds<'a, S: Sys> {
    sys: &'a S,
    fds: &'a mut [RawFd],
}

impl<S: Sys> Drop for OpenFds<'_, S> {
    fn drop(&mut self) {
        for fd in self.fds.iter_mut() {
            if *fd >= 0 {
                self.sys.close(*fd);
                *fd = -1;
            }
        }
    }
}
