//! The system calls the mount plan makes, behind a small trait so the plan's
//! order, failure reporting and rollback are unit-tested with a recording fake.
//!
//! The real implementation passes `&CStr` paths straight to rustix's raw
//! system calls (or `libc` for `mount_setattr`, which rustix lacks): no
//! conversion buffer, no allocation, as the sandbox child requires.
//! Descriptors cross the trait as plain numbers so the fake can hand out
//! made-up ones; the runner closes every descriptor it opens.

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, IntoRawFd, RawFd};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{
    MountFlags, MountPropagationFlags, MoveMountFlags, OpenTreeFlags, UnmountFlags,
};

/// `AT_FDCWD`: "relative to the working directory" where a descriptor is
/// expected.
pub const AT_FDCWD: RawFd = libc::AT_FDCWD;

/// What the plan needs to know about an open file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileInfo {
    /// It is a directory.
    pub is_dir: bool,
    /// Device and inode, to recognise the same file through two paths.
    pub dev: u64,
    /// See `dev`.
    pub ino: u64,
    /// The permission bits (`st_mode & 07777`).
    pub mode: u32,
}

/// The filesystem system calls of a mount plan.
pub trait Sys {
    /// Whether the kernel offers the mount API of Linux 5.12 (`open_tree`,
    /// `move_mount`, `mount_setattr`); without it the plan falls back to
    /// bubblewrap's `mount(2)` method, on the resolved destinations'
    /// descriptor links.
    fn new_mount_api(&self) -> bool;
    /// Whether `openat2` with `RESOLVE_IN_ROOT` (Linux 5.6) works: `Ok`, or
    /// the errno that says why not (ENOSYS on older kernels, whatever a
    /// seccomp filter returns). Destinations below a new root are resolved
    /// with it whichever mount method is used; without it the plan refuses
    /// to resolve them.
    fn resolve_in_root(&self) -> Result<(), Errno>;
    /// Change the propagation type of the mount at `target`.
    fn propagation(&self, target: &CStr, flags: MountPropagationFlags) -> Result<(), Errno>;
    /// `mount(fstype, target, fstype, flags, data)`: a new filesystem instance.
    fn mount_fs(
        &self,
        fstype: &CStr,
        target: &CStr,
        flags: MountFlags,
        data: Option<&CStr>,
    ) -> Result<(), Errno>;
    /// A bind mount of `source` on `target` (legacy API), of the whole tree
    /// when `recursive`.
    fn bind(&self, source: &CStr, target: &CStr, recursive: bool) -> Result<(), Errno>;
    /// Remount the bind mount at `target` with exactly `flags` (legacy API).
    fn remount_bind(&self, target: &CStr, flags: MountFlags) -> Result<(), Errno>;
    /// The flags of the mount `fd` is on (`fstatvfs`).
    fn mount_flags(&self, fd: RawFd) -> Result<MountFlags, Errno>;
    /// Add `add` to every mount strictly below the mount whose root `target`
    /// (a `/proc/self/fd` link) refers to, as listed in the `mountinfo` file
    /// (legacy API; bubblewrap's submount walk).
    fn remount_submounts(
        &self,
        mountinfo: &CStr,
        target: &CStr,
        add: MountFlags,
    ) -> Result<(), Errno>;
    /// `umount2(target, flags)`.
    fn unmount(&self, target: &CStr, flags: UnmountFlags) -> Result<(), Errno>;
    /// `open_tree(dirfd, path, OPEN_TREE_CLONE | AT_RECURSIVE)`: a detached
    /// copy of the mount tree at `path` (of `dirfd` itself when `path` is
    /// empty).
    fn open_tree(&self, dirfd: RawFd, path: &CStr) -> Result<RawFd, Errno>;
    /// `mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE])`, setting the
    /// `RDONLY`, `NOSUID`, `NODEV` and `NOEXEC` bits of `set`.
    fn mount_setattr(&self, fd: RawFd, recursive: bool, set: MountFlags) -> Result<(), Errno>;
    /// `move_mount(from, "", to, "")`: attach a detached tree on the file `to`
    /// refers to.
    fn move_mount(&self, from: RawFd, to: RawFd) -> Result<(), Errno>;
    /// Whether `fd` refers to the root of a mount.
    fn is_mount_root(&self, fd: RawFd) -> Result<bool, Errno>;
    /// `mkdir(path, mode)`.
    fn mkdir(&self, path: &CStr, mode: u32) -> Result<(), Errno>;
    /// `mkdirat(dirfd, name, mode)`.
    fn mkdirat(&self, dirfd: RawFd, name: &CStr, mode: u32) -> Result<(), Errno>;
    /// Open `path` relative to `dirfd` (close-on-exec). With `in_root`, `dirfd`
    /// acts as the root for the lookup: absolute symlinks and `..` cannot leave
    /// it (`openat2` with `RESOLVE_IN_ROOT`); without, a plain `openat`.
    fn open(
        &self,
        dirfd: RawFd,
        path: &CStr,
        flags: OFlags,
        mode: u32,
        in_root: bool,
    ) -> Result<RawFd, Errno>;
    /// Open `path` below `dirfd` as [`Sys::open`] does with `in_root`, but
    /// fail (with ELOOP) where the lookup meets a symlink, final component
    /// included (`openat2` with `RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS`).
    /// Such a lookup of plain names cannot come back up to `dirfd`: the
    /// plan uses it to know that a mount on the result leaves `dirfd`
    /// uncovered. The default fails with ENOSYS, and the plan then uses
    /// [`Sys::open`] alone.
    fn open_no_symlinks(&self, dirfd: RawFd, path: &CStr, flags: OFlags) -> Result<RawFd, Errno> {
        let _ = (dirfd, path, flags);
        Err(Errno::NOSYS)
    }
    /// `close(fd)`.
    fn close(&self, fd: RawFd);
    /// `fstat(fd)`.
    fn fstat(&self, fd: RawFd) -> Result<FileInfo, Errno>;
    /// `stat(path)`, following symlinks.
    fn stat(&self, path: &CStr) -> Result<FileInfo, Errno>;
    /// `write(fd, bytes)`.
    fn write(&self, fd: RawFd, bytes: &[u8]) -> Result<usize, Errno>;
    /// `symlinkat(target, dirfd, name)`.
    fn symlinkat(&self, target: &CStr, dirfd: RawFd, name: &CStr) -> Result<(), Errno>;
    /// `readlinkat(dirfd, name)` into `buf`; the length read.
    fn readlinkat(&self, dirfd: RawFd, name: &CStr, buf: &mut [u8]) -> Result<usize, Errno>;
    /// `unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0)`.
    fn unlinkat(&self, dirfd: RawFd, name: &CStr, dir: bool) -> Result<(), Errno>;
    /// `chmod(path, mode)`.
    fn chmod(&self, path: &CStr, mode: u32) -> Result<(), Errno>;
    /// `fchmod(fd, mode)`.
    fn fchmod(&self, fd: RawFd, mode: u32) -> Result<(), Errno>;
    /// `faccessat(dirfd, name, W_OK)`.
    fn access_write(&self, dirfd: RawFd, name: &CStr) -> Result<(), Errno>;
    /// `chdir(path)`.
    fn chdir(&self, path: &CStr) -> Result<(), Errno>;
    /// `pivot_root(new_root, put_old)`.
    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> Result<(), Errno>;
    /// `chroot(path)`.
    fn chroot(&self, path: &CStr) -> Result<(), Errno>;
    /// `umask(mask)`; the previous mask.
    fn umask(&self, mask: u32) -> u32;
    /// Whether `path` names a directory (following symlinks).
    fn is_dir(&self, path: &CStr) -> bool;
}

/// The kernel.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealSys;

fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    if fd == AT_FDCWD {
        return rustix::fs::CWD;
    }
    // SAFETY: every descriptor handed to RealSys is one it returned (or one
    // the caller owns for the whole plan) and stays open until the runner
    // closes it after its last use.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// `struct mount_attr` of `<linux/mount.h>` (rustix has no `mount_setattr`).
#[repr(C)]
#[derive(Default)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;

fn mount_attr_bits(flags: MountFlags) -> u64 {
    let mut bits = 0;
    for (flag, attr) in [
        (MountFlags::RDONLY, MOUNT_ATTR_RDONLY),
        (MountFlags::NOSUID, MOUNT_ATTR_NOSUID),
        (MountFlags::NODEV, MOUNT_ATTR_NODEV),
        (MountFlags::NOEXEC, MOUNT_ATTR_NOEXEC),
    ] {
        if flags.contains(flag) {
            bits |= attr;
        }
    }
    bits
}

fn raw_mount_setattr(fd: RawFd, flags: u32, attr: &mut MountAttr) -> Result<(), Errno> {
    // SAFETY: mount_setattr reads `size_of::<MountAttr>()` bytes from a valid,
    // initialised struct and an empty NUL-terminated path.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            flags,
            std::ptr::from_mut(attr),
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(Errno::from_raw_os_error(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ))
    }
}

fn info(st: &rustix::fs::Stat) -> FileInfo {
    FileInfo {
        is_dir: rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory,
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode & 0o7777,
    }
}

/// `openat2(dirfd, path, flags, mode, resolve)`.
fn openat2(
    dirfd: RawFd,
    path: &CStr,
    flags: OFlags,
    mode: Mode,
    resolve: ResolveFlags,
) -> Result<RawFd, Errno> {
    // RESOLVE_IN_ROOT reports EAGAIN when a concurrent rename could have
    // let `..` escape; the lookup is safe to repeat.
    let mut tries = 0;
    loop {
        match rustix::fs::openat2(borrow(dirfd), path, flags, mode, resolve) {
            Err(Errno::AGAIN) if tries < 8 => tries += 1,
            other => return other.map(IntoRawFd::into_raw_fd),
        }
    }
}

impl Sys for RealSys {
    fn new_mount_api(&self) -> bool {
        // Probe with a descriptor that cannot be valid: an implemented call
        // fails with EBADF, a missing (or filtered) one with ENOSYS or EPERM.
        let mut attr = MountAttr::default();
        let setattr = raw_mount_setattr(-1, libc::AT_EMPTY_PATH as u32, &mut attr);
        !matches!(setattr, Err(Errno::NOSYS | Errno::PERM))
    }

    fn resolve_in_root(&self) -> Result<(), Errno> {
        // openat2 has no harmless invalid form that tells ENOSYS apart: open
        // `/` for real, with the flags destinations use, and drop it. Any
        // failure means the lookups that matter would fail too.
        rustix::fs::openat2(
            rustix::fs::CWD,
            c"/",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        )
        .map(drop)
    }

    fn propagation(&self, target: &CStr, flags: MountPropagationFlags) -> Result<(), Errno> {
        rustix::mount::mount_change(target, flags)
    }

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

    fn remount_bind(&self, target: &CStr, flags: MountFlags) -> Result<(), Errno> {
        rustix::mount::mount_remount(target, flags | MountFlags::BIND, c"")
    }

    fn mount_flags(&self, fd: RawFd) -> Result<MountFlags, Errno> {
        use rustix::fs::StatVfsMountFlags as F;
        let st = rustix::fs::fstatvfs(borrow(fd))?;
        let mut flags = MountFlags::empty();
        for (vfs, ms) in [
            (F::RDONLY, MountFlags::RDONLY),
            (F::NOSUID, MountFlags::NOSUID),
            (F::NODEV, MountFlags::NODEV),
            (F::NOEXEC, MountFlags::NOEXEC),
            (F::NOATIME, MountFlags::NOATIME),
            (F::NODIRATIME, MountFlags::NODIRATIME),
            (F::RELATIME, MountFlags::RELATIME),
        ] {
            if st.f_flag.contains(vfs) {
                flags |= ms;
            }
        }
        Ok(flags)
    }

    fn remount_submounts(
        &self,
        mountinfo: &CStr,
        target: &CStr,
        add: MountFlags,
    ) -> Result<(), Errno> {
        super::submounts::remount_submounts(mountinfo, target, add)
    }

    fn unmount(&self, target: &CStr, flags: UnmountFlags) -> Result<(), Errno> {
        rustix::mount::unmount(target, flags)
    }

    fn open_tree(&self, dirfd: RawFd, path: &CStr) -> Result<RawFd, Errno> {
        let mut flags = OpenTreeFlags::OPEN_TREE_CLONE
            | OpenTreeFlags::OPEN_TREE_CLOEXEC
            | OpenTreeFlags::AT_RECURSIVE;
        if path.is_empty() {
            flags |= OpenTreeFlags::AT_EMPTY_PATH;
        }
        rustix::mount::open_tree(borrow(dirfd), path, flags).map(IntoRawFd::into_raw_fd)
    }

    fn mount_setattr(&self, fd: RawFd, recursive: bool, set: MountFlags) -> Result<(), Errno> {
        let mut attr = MountAttr {
            attr_set: mount_attr_bits(set),
            ..MountAttr::default()
        };
        let mut flags = libc::AT_EMPTY_PATH as u32;
        if recursive {
            flags |= libc::AT_RECURSIVE as u32;
        }
        raw_mount_setattr(fd, flags, &mut attr)
    }

    fn move_mount(&self, from: RawFd, to: RawFd) -> Result<(), Errno> {
        rustix::mount::move_mount(
            borrow(from),
            c"",
            borrow(to),
            c"",
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
        )
    }

    fn is_mount_root(&self, fd: RawFd) -> Result<bool, Errno> {
        use rustix::fs::{StatxAttributes, StatxFlags};
        let st = rustix::fs::statx(borrow(fd), c"", AtFlags::EMPTY_PATH, StatxFlags::empty())?;
        // Kernels before 5.8 do not report the attribute; mount_setattr then
        // decides.
        if !st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT) {
            return Ok(true);
        }
        Ok(st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT))
    }

    fn mkdir(&self, path: &CStr, mode: u32) -> Result<(), Errno> {
        rustix::fs::mkdir(path, Mode::from_raw_mode(mode))
    }

    fn mkdirat(&self, dirfd: RawFd, name: &CStr, mode: u32) -> Result<(), Errno> {
        rustix::fs::mkdirat(borrow(dirfd), name, Mode::from_raw_mode(mode))
    }

    fn open(
        &self,
        dirfd: RawFd,
        path: &CStr,
        flags: OFlags,
        mode: u32,
        in_root: bool,
    ) -> Result<RawFd, Errno> {
        let flags = flags | OFlags::CLOEXEC;
        let mode = Mode::from_raw_mode(mode);
        if !in_root {
            return rustix::fs::openat(borrow(dirfd), path, flags, mode)
                .map(IntoRawFd::into_raw_fd);
        }
        openat2(
            dirfd,
            path,
            flags,
            mode,
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        )
    }

    fn open_no_symlinks(&self, dirfd: RawFd, path: &CStr, flags: OFlags) -> Result<RawFd, Errno> {
        openat2(
            dirfd,
            path,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS,
        )
    }

    fn close(&self, fd: RawFd) {
        if fd >= 0 {
            // SAFETY: the runner closes each descriptor it opened exactly
            // once, after its last use.
            unsafe { rustix::io::close(fd) };
        }
    }

    fn fstat(&self, fd: RawFd) -> Result<FileInfo, Errno> {
        rustix::fs::fstat(borrow(fd)).map(|st| info(&st))
    }

    fn stat(&self, path: &CStr) -> Result<FileInfo, Errno> {
        rustix::fs::stat(path).map(|st| info(&st))
    }

    fn write(&self, fd: RawFd, bytes: &[u8]) -> Result<usize, Errno> {
        rustix::io::write(borrow(fd), bytes)
    }

    fn symlinkat(&self, target: &CStr, dirfd: RawFd, name: &CStr) -> Result<(), Errno> {
        rustix::fs::symlinkat(target, borrow(dirfd), name)
    }

    fn readlinkat(&self, dirfd: RawFd, name: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
        rustix::fs::readlinkat_raw(borrow(dirfd), name, buf)
    }

    fn unlinkat(&self, dirfd: RawFd, name: &CStr, dir: bool) -> Result<(), Errno> {
        let flags = if dir {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        rustix::fs::unlinkat(borrow(dirfd), name, flags)
    }

    fn chmod(&self, path: &CStr, mode: u32) -> Result<(), Errno> {
        rustix::fs::chmod(path, Mode::from_raw_mode(mode))
    }

    fn fchmod(&self, fd: RawFd, mode: u32) -> Result<(), Errno> {
        rustix::fs::fchmod(borrow(fd), Mode::from_raw_mode(mode))
    }

    fn access_write(&self, dirfd: RawFd, name: &CStr) -> Result<(), Errno> {
        rustix::fs::accessat(
            borrow(dirfd),
            name,
            rustix::fs::Access::WRITE_OK,
            AtFlags::empty(),
        )
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

    fn umask(&self, mask: u32) -> u32 {
        rustix::process::umask(Mode::from_raw_mode(mask)).as_raw_mode()
    }

    fn is_dir(&self, path: &CStr) -> bool {
        self.stat(path).is_ok_and(|i| i.is_dir)
    }
}
