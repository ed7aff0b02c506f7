//! The runner of one plan in the child: what a run keeps (the system calls,
//! where things are, the mount method, the lookup mode), the descriptors it
//! opens, and the small helpers every action shares.

use std::cell::Cell;
use std::ffi::CStr;
use std::os::fd::RawFd;

use rustix::io::Errno;

use super::sys::Sys;
use crate::op::Layout;

/// A descriptor the runner opened; closed when dropped.
pub(crate) struct Fd<'a, S: Sys> {
    sys: &'a S,
    raw: RawFd,
}

impl<S: Sys> Fd<'_, S> {
    pub(crate) fn raw(&self) -> RawFd {
        self.raw
    }
}

impl<S: Sys> Drop for Fd<'_, S> {
    fn drop(&mut self) {
        self.sys.close(self.raw);
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
}

impl<'a, S: Sys> Runner<'a, S> {
    /// Close the held descriptor, if any.
    pub(crate) fn release_held(&self) {
        let fd = self.held.replace(-1);
        if fd >= 0 {
            self.sys.close(fd);
        }
    }

    pub(crate) fn fd(&self, raw: RawFd) -> Fd<'a, S> {
        Fd { sys: self.sys, raw }
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
