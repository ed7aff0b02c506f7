//! The runner of one plan in the child: what a run keeps (the system calls,
//! where things are, the mount method, the lookup mode, the new root's
//! descriptor), the descriptors it opens, and the small helpers every action
//! shares.

use std::cell::Cell;
use std::ffi::CStr;
use std::os::fd::RawFd;

use rustix::fs::OFlags;
use rustix::io::Errno;

use super::sys::{AT_FDCWD, Sys};
use crate::op::Layout;

/// A descriptor the runner opened; closed when dropped, unless it is the
/// runner's own copy of the new root, lent out.
pub(crate) struct Fd<'a, S: Sys> {
    sys: &'a S,
    raw: RawFd,
    owned: bool,
}

impl<S: Sys> Fd<'_, S> {
    pub(crate) fn raw(&self) -> RawFd {
        self.raw
    }
}

impl<S: Sys> Drop for Fd<'_, S> {
    fn drop(&mut self) {
        if self.owned {
            self.sys.close(self.raw);
        }
    }
}

/// Where a mount is about to land: the descriptor of its mount point, and
/// whether that is certainly somewhere strictly below the new root's top
/// directory. A mount on the top directory itself covers every descriptor
/// of the new root opened before it, the runner's kept one included.
pub(crate) struct MountPoint<'a, S: Sys> {
    pub(crate) fd: Fd<'a, S>,
    /// Found by a lookup that cannot end on the new root's top directory:
    /// plain names and no symlink (see [`Dest::plain`](crate::op::Dest)),
    /// or one name inside a directory already found.
    pub(crate) below_root: bool,
}

impl<'a, S: Sys> MountPoint<'a, S> {
    /// A mount point that may be the new root's top directory.
    pub(crate) fn anywhere(fd: Fd<'a, S>) -> Self {
        Self {
            fd,
            below_root: false,
        }
    }

    /// A mount point certainly below the new root's top directory.
    pub(crate) fn below_root(fd: Fd<'a, S>) -> Self {
        Self {
            fd,
            below_root: true,
        }
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.fd.raw()
    }
}

/// A path through the `/proc/self/fd` link of a descriptor, in a stack buffer.
pub(crate) struct FdPath {
    buf: [u8; 64],
}

impl FdPath {
    pub(crate) fn new(prefix: &str, fd: RawFd) -> Self {
        let mut buf = [0u8; 64];
        let prefix = prefix.as_bytes();
        let mut len = prefix.len().min(40);
        buf[..len].copy_from_slice(&prefix[..len]);
        let mut digits = [0u8; 12];
        let mut n = fd.unsigned_abs();
        let mut count = 0;
        loop {
            // `n % 10` is below 10, so the cast cannot truncate.
            digits[count] = b'0' + u8::try_from(n % 10).unwrap_or(0);
            count += 1;
            n /= 10;
            if n == 0 || count == digits.len() {
                break;
            }
        }
        for d in digits[..count].iter().rev() {
            buf[len] = *d;
            len += 1;
        }
        Self { buf }
    }

    pub(crate) fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"/")
    }
}

/// Write all of `bytes` to `fd`.
pub(crate) fn write_all(sys: &impl Sys, fd: RawFd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match sys.write(fd, bytes) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One run of a plan in the child.
pub(crate) struct Runner<'a, S: Sys> {
    pub(crate) sys: &'a S,
    /// Where things are during setup.
    pub(crate) layout: Layout,
    /// The new mount API is in use; otherwise `mount(2)` on descriptor
    /// links.
    pub(crate) modern: bool,
    /// Lookups below the new root use `openat2(RESOLVE_IN_ROOT)`. Only false
    /// where the new root is the process's root, where a plain lookup is the
    /// same.
    pub(crate) in_root: bool,
    /// A descriptor one root-switch step keeps for a later one (the chroot
    /// mode's copy of the host tree); -1 when none.
    pub(crate) held: Cell<RawFd>,
    /// The write end of the detail pipe, if the plan has one.
    pub(crate) detail: Option<RawFd>,
    /// The new root, opened once and lent to every operation that looks a
    /// destination up (-1 until first needed).
    pub(crate) root: Cell<RawFd>,
    /// Something may have been mounted on the new root's top directory (or
    /// a root-switch step changed where `/newroot` is) since `root` was
    /// opened: until the current operation ends, every lookup opens the
    /// new root afresh, and the kept descriptor is closed then.
    pub(crate) root_covered: Cell<bool>,
}

impl<'a, S: Sys> Runner<'a, S> {
    /// A runner for one run of a plan.
    pub(crate) fn new(
        sys: &'a S,
        layout: Layout,
        modern: bool,
        in_root: bool,
        detail: Option<RawFd>,
    ) -> Self {
        Self {
            sys,
            layout,
            modern,
            in_root,
            held: Cell::new(-1),
            detail,
            root: Cell::new(-1),
            root_covered: Cell::new(false),
        }
    }

    /// Close the held descriptor, if any.
    pub(crate) fn release_held(&self) {
        let fd = self.held.replace(-1);
        if fd >= 0 {
            self.sys.close(fd);
        }
    }

    pub(crate) fn fd(&self, raw: RawFd) -> Fd<'a, S> {
        Fd {
            sys: self.sys,
            raw,
            owned: true,
        }
    }

    /// The new root. The kept descriptor, opened on first use, unless a
    /// mount may have covered it during the current operation: then a
    /// fresh one, as the kept one now names the directory under that mount.
    pub(crate) fn root(&self) -> Result<Fd<'a, S>, Errno> {
        if self.root_covered.get() {
            return self.open_root().map(|raw| self.fd(raw));
        }
        let mut raw = self.root.get();
        if raw < 0 {
            raw = self.open_root()?;
            self.root.set(raw);
        }
        Ok(Fd {
            sys: self.sys,
            raw,
            owned: false,
        })
    }

    fn open_root(&self) -> Result<RawFd, Errno> {
        self.sys.open(
            AT_FDCWD,
            self.layout.new_root,
            OFlags::PATH | OFlags::DIRECTORY,
            0,
            false,
        )
    }

    /// A mount just landed on `target`: if that may be the new root's top
    /// directory, stop lending the kept descriptor.
    pub(crate) fn mounted_on(&self, target: &MountPoint<'_, S>) {
        if !target.below_root {
            self.root_covered.set(true);
        }
    }

    /// Between operations (no descriptor lent out): drop the kept new
    /// root if a mount may have covered it, so the next lookup opens the
    /// root as it now is.
    pub(crate) fn settle_root(&self) {
        if self.root_covered.replace(false) {
            self.release_root();
        }
    }

    /// Close the kept new root, if open.
    pub(crate) fn release_root(&self) {
        let fd = self.root.replace(-1);
        if fd >= 0 {
            self.sys.close(fd);
        }
    }

    /// The `/proc/self/fd` path of `fd` as the setup root sees it.
    pub(crate) fn fd_path(&self, fd: RawFd) -> FdPath {
        FdPath::new(self.layout.fd_links, fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_paths_spell_the_number() {
        assert_eq!(
            FdPath::new("/oldroot/proc/self/fd/", 7).as_cstr(),
            c"/oldroot/proc/self/fd/7"
        );
        assert_eq!(
            FdPath::new("/proc/self/fd/", 1234).as_cstr(),
            c"/proc/self/fd/1234"
        );
        assert_eq!(
            FdPath::new("/proc/self/fd/", 0).as_cstr(),
            c"/proc/self/fd/0"
        );
    }
}
