//! The system calls the mount plan makes, behind a small trait so the plan's
//! order, failure reporting and rollback are unit-tested with a recording fake.
//!
//! The real implementation passes `&CStr` paths straight to rustix's raw system
//! calls: no conversion buffer, no allocation, as the child requires.

use std::ffi::CStr;

use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

/// The filesystem system calls of a mount plan.
pub trait Sys {
    /// `mount(fstype, target, fstype, flags, data)`: a new filesystem instance.
    fn mount_fs(
        &self,
        fstype: &CStr,
        target: &CStr,
        flags: MountFlags,
        data: Option<&CStr>,
    ) -> Result<(), Errno>;
    /// A bind mount of `source` on `target`, of the whole tree when `recursive`.
    fn bind(&self, source: &CStr, target: &CStr, recursive: bool) -> Result<(), Errno>;
    /// Change the propagation type of the mount at `target`.
    fn propagation(&self, target: &CStr, flags: MountPropagationFlags) -> Result<(), Errno>;
    /// `umount2(target, flags)`.
    fn unmount(&self, target: &CStr, flags: UnmountFlags) -> Result<(), Errno>;
    /// `mkdir(path, mode)`.
    fn mkdir(&self, path: &CStr, mode: u32) -> Result<(), Errno>;
    /// `chdir(path)`.
    fn chdir(&self, path: &CStr) -> Result<(), Errno>;
    /// `pivot_root(new_root, put_old)`.
    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> Result<(), Errno>;
    /// `chroot(path)`.
    fn chroot(&self, path: &CStr) -> Result<(), Errno>;
    /// Whether `path` names a directory (following symlinks).
    fn is_dir(&self, path: &CStr) -> bool;
}

/// The kernel.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealSys;

impl Sys for RealSys {
    fn mount_fs(
        &self,
        fstype: &CStr,
        target: &CStr,
        flags: MountFlags,
        data: Option<&CStr>,
    ) -> Result<(), Errno> {
        rustix::mount::mount(fstype, target, fstype, flags, data)
    }

    fn bind(&self, source: &CStr, target: &CStr, recursive: bool) -> Result<(), Errno> {
        if recursive {
            rustix::mount::mount_bind_recursive(source, target)
        } else {
            rustix::mount::mount_bind(source, target)
        }
    }

    fn propagation(&self, target: &CStr, flags: MountPropagationFlags) -> Result<(), Errno> {
        rustix::mount::mount_change(target, flags)
    }

    fn unmount(&self, target: &CStr, flags: UnmountFlags) -> Result<(), Errno> {
        rustix::mount::unmount(target, flags)
    }

    fn mkdir(&self, path: &CStr, mode: u32) -> Result<(), Errno> {
        rustix::fs::mkdir(path, rustix::fs::Mode::from_raw_mode(mode))
    }

    fn chdir(&self, path: &CStr) -> Result<(), Errno> {
        rustix::process::chdir(path)
    }

    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> Result<(), Errno> {
        rustix::process::pivot_root(new_root, put_old)
    }

    fn chroot(&self, path: &CStr) -> Result<(), Errno> {
        rustix::process::chroot(path)
    }

    fn is_dir(&self, path: &CStr) -> bool {
        rustix::fs::stat(path)
            .map(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
            })
            .unwrap_or(false)
    }
}
