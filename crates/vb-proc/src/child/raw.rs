//! System calls that touch no C-library state: no `errno`, no lock. A
//! process created with `CLONE_VM` shares the launching thread's
//! thread-local storage, where the C library keeps `errno`; what it does
//! once the launching thread runs again must not write there.

/// `syscall(n, a, b, c, d, e)`; a negative result is `-errno`.
///
/// # Safety
///
/// The arguments must be valid for system call `n`.
#[cfg(target_arch = "x86_64")]
pub(crate) unsafe fn syscall5(
    n: libc::c_long,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`; the
    // kernel clobbers rcx and r11 only.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") n => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            in("r8") e,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// `syscall(n, a, b, c, d, e)`; a negative result is `-errno`.
///
/// # Safety
///
/// The arguments must be valid for system call `n`.
#[cfg(target_arch = "aarch64")]
pub(crate) unsafe fn syscall5(
    n: libc::c_long,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        core::arch::asm!(
            "svc 0",
            in("x8") n,
            inlateout("x0") a => ret,
            in("x1") b,
            in("x2") c,
            in("x3") d,
            in("x4") e,
            options(nostack),
        );
    }
    ret
}

/// The errno of a failed [`syscall5`] result.
pub(crate) fn errno_of(ret: isize) -> rustix::io::Errno {
    let code = i32::try_from(ret.unsigned_abs()).unwrap_or(libc::EINVAL);
    rustix::io::Errno::from_raw_os_error(code)
}

// These run on every target the crate builds for; on aarch64 they are what
// checks the `svc` variant's registers, under qemu-aarch64 on an x86-64
// host (`cargo xtask test` runs them there: see xtask/src/aarch64.rs).
#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;
    use std::os::fd::AsRawFd;

    use rustix::io::Errno;

    use super::{errno_of, syscall5};

    fn fd_arg(fd: &impl AsRawFd) -> usize {
        usize::try_from(fd.as_raw_fd()).expect("a descriptor is not negative")
    }

    #[test]
    fn syscall5_getpid_matches_the_c_library() {
        // SAFETY: getpid takes no arguments.
        let raw = unsafe { syscall5(libc::SYS_getpid, 0, 0, 0, 0, 0) };
        // SAFETY: getpid cannot fail.
        let libc_pid = unsafe { libc::getpid() };
        assert_eq!(raw, isize::try_from(libc_pid).expect("a pid fits isize"));
    }

    #[test]
    fn syscall5_writes_and_reads_a_pipe() {
        let (read, write) = rustix::pipe::pipe().expect("a pipe");
        let message = b"through svc and syscall";
        // SAFETY: write(fd, buf, len) reads `message`, which lives across
        // the call.
        let written = unsafe {
            syscall5(
                libc::SYS_write,
                fd_arg(&write),
                message.as_ptr() as usize,
                message.len(),
                0,
                0,
            )
        };
        assert_eq!(written, isize::try_from(message.len()).expect("small"));
        let mut back = [0u8; 64];
        // SAFETY: read(fd, buf, len) writes at most `back.len()` bytes into
        // `back`.
        let got = unsafe {
            syscall5(
                libc::SYS_read,
                fd_arg(&read),
                back.as_mut_ptr() as usize,
                back.len(),
                0,
                0,
            )
        };
        assert_eq!(got, written);
        assert_eq!(&back[..message.len()], message);
    }

    #[test]
    fn syscall5_reports_a_bad_descriptor_as_ebadf() {
        // A number far above any descriptor this process holds.
        let bad = 1 << 20;
        // SAFETY: close of a descriptor number that is not open.
        let ret = unsafe { syscall5(libc::SYS_close, bad, 0, 0, 0, 0) };
        assert_eq!(ret, -isize::try_from(libc::EBADF).expect("small"));
        assert_eq!(errno_of(ret), Errno::BADF);
    }

    #[test]
    fn syscall5_closes_a_descriptor() {
        let (read, write) = rustix::pipe::pipe().expect("a pipe");
        // Closed by the call below, so not by its owner.
        let number = std::os::fd::IntoRawFd::into_raw_fd(write);
        let arg = usize::try_from(number).expect("a descriptor is not negative");
        // SAFETY: close of a descriptor this test owns and no longer uses.
        let ret = unsafe { syscall5(libc::SYS_close, arg, 0, 0, 0, 0) };
        assert_eq!(ret, 0);
        // The write end is gone: the read end sees end-of-file.
        let mut byte = [0u8; 1];
        assert_eq!(rustix::io::read(&read, &mut byte), Ok(0));
    }

    #[test]
    fn syscall5_passes_the_fourth_and_fifth_arguments() {
        // statx(fd, "", AT_EMPTY_PATH, mask, buffer): the mask travels in
        // the fourth register (r10 / x3) and the buffer in the fifth (r8 /
        // x4). A reserved mask bit is refused; a real one fills the buffer.
        let file = rustix::fs::memfd_create("vb-raw-test", rustix::fs::MemfdFlags::CLOEXEC)
            .expect("a memfd");
        let content = [7u8; 1234];
        assert_eq!(rustix::io::write(&file, &content), Ok(content.len()));
        let empty = c"";
        let statx = |mask: u32, buf: *mut rustix::fs::Statx| {
            // SAFETY: a NUL-terminated path and a buffer of struct statx's
            // size (or null, which the kernel reports as EFAULT).
            unsafe {
                syscall5(
                    libc::SYS_statx,
                    fd_arg(&file),
                    empty.as_ptr() as usize,
                    libc::AT_EMPTY_PATH.unsigned_abs() as usize,
                    mask as usize,
                    buf as usize,
                )
            }
        };
        let mut buf = MaybeUninit::<rustix::fs::Statx>::zeroed();
        // STATX__RESERVED: the kernel refuses it before anything else.
        let reserved = statx(0x8000_0000, buf.as_mut_ptr());
        assert_eq!(errno_of(reserved), Errno::INVAL, "{reserved}");
        let null = statx(libc::STATX_SIZE, std::ptr::null_mut());
        assert_eq!(errno_of(null), Errno::FAULT, "{null}");
        assert_eq!(statx(libc::STATX_SIZE, buf.as_mut_ptr()), 0);
        // SAFETY: the kernel filled the buffer (and zero is a valid Statx).
        let stx = unsafe { buf.assume_init() };
        assert_eq!(stx.stx_size, 1234);
        assert_ne!(stx.stx_mask & libc::STATX_SIZE, 0);
    }
}
