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
            inlateout("x0") a as isize => ret,
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
