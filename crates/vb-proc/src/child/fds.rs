//! Descriptor hygiene in the child: close everything but a short list, and
//! mark descriptors close-on-exec — without allocating.

use std::os::fd::RawFd;

use rustix::io::Errno;

/// The most descriptors a process of the sandbox keeps across
/// [`close_all_except`] (the reaper's status pipe, the sync descriptor and the
/// lock files).
pub(crate) const MAX_KEPT: usize = 72;

fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: close_range(2) takes integers; closing descriptors this process
    // owns through no Rust object that will be dropped (a raw-cloned child
    // image) is sound.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0 as libc::c_uint) };
    if ret == 0 {
        return Ok(());
    }
    let errno = crate::errno::last_errno();
    if errno != Errno::NOSYS {
        return Err(errno);
    }
    // Before Linux 5.9: close one by one up to the descriptor limit.
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(1 << 20);
    let end = u64::from(last).min(limit.saturating_sub(1));
    let mut fd = u64::from(first);
    while fd <= end {
        if let Ok(raw) = i32::try_from(fd) {
            // SAFETY: as above; EBADF for unused numbers is expected.
            unsafe { libc::close(raw) };
        }
        fd += 1;
    }
    Ok(())
}

/// Close every descriptor except those in `keep` (negative entries are
/// ignored). Runs in a raw clone: the list is sorted on the stack.
pub(crate) fn close_all_except(keep: &[RawFd]) -> Result<(), Errno> {
    let mut sorted = [0u32; MAX_KEPT];
    let mut n = 0;
    for fd in keep {
        let Ok(fd) = u32::try_from(*fd) else { continue };
        if n == MAX_KEPT {
            return Err(Errno::MFILE);
        }
        // Insertion sort, skipping duplicates.
        let mut i = n;
        while i > 0 && sorted[i - 1] > fd {
            i -= 1;
        }
        if i > 0 && sorted[i - 1] == fd {
            continue;
        }
        let mut j = n;
        while j > i {
            sorted[j] = sorted[j - 1];
            j -= 1;
        }
        sorted[i] = fd;
        n += 1;
    }
    let mut next = 0u32;
    for fd in sorted.iter().take(n) {
        if *fd > next {
            close_range(next, fd - 1)?;
        }
        next = fd + 1;
    }
    close_range(next, u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn everything_but_the_kept_descriptors_is_closed() {
        // In a forked child, so the test process keeps its descriptors.
        let a = std::fs::File::open("/dev/null").unwrap();
        let b = std::fs::File::open("/dev/null").unwrap();
        let c = std::fs::File::open("/dev/null").unwrap();
        let (read, write) = rustix::pipe::pipe().unwrap();
        let keep = [c.as_raw_fd(), write.as_raw_fd(), a.as_raw_fd(), -1];
        // SAFETY: the child only makes system calls and _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let ok = close_all_except(&keep).is_ok();
            let mut alive = [0u8; 8];
            for (i, fd) in [a.as_raw_fd(), b.as_raw_fd(), c.as_raw_fd(), 0, 1, 2]
                .into_iter()
                .enumerate()
            {
                // SAFETY: F_GETFD only inspects the number.
                alive[i] = u8::from(unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0);
            }
            alive[7] = u8::from(ok);
            let _ = rustix::io::write(&write, &alive);
            // SAFETY: leave without running the test harness's teardown.
            unsafe { libc::_exit(0) };
        }
        drop(write);
        let mut got = [0u8; 8];
        let n = rustix::io::read(&read, &mut got).unwrap();
        assert_eq!(n, 8);
        assert_eq!(
            got,
            [1, 0, 1, 0, 0, 0, 0, 1],
            "a kept, b closed, c kept, stdio closed"
        );
        // SAFETY: F_GETFD only inspects the number.
        let b_open = unsafe { libc::fcntl(b.as_raw_fd(), libc::F_GETFD) } >= 0;
        assert!(b_open, "the parent is untouched");
        let mut status = 0;
        // SAFETY: reaping the child forked above.
        unsafe { libc::waitpid(pid, &raw mut status, 0) };
    }

    #[test]
    fn too_many_kept_descriptors_is_an_error() {
        let keep: [RawFd; MAX_KEPT + 1] = std::array::from_fn(|i| RawFd::try_from(i).unwrap());
        // The check happens before any descriptor is closed.
        assert_eq!(close_all_except(&keep), Err(Errno::MFILE));
    }
}
