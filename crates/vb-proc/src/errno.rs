//! The calling thread's `errno`, for the raw `libc` calls rustix does not
//! wrap.

use rustix::io::Errno;

/// The calling thread's `errno` after a failed libc call. Async-signal-safe.
pub(crate) fn last_errno() -> Errno {
    Errno::from_raw_os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}
