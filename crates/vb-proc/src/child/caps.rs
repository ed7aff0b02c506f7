//! Capabilities in the child: the bounding set cut, the sets and the ambient
//! set raised, as [`crate::caps`] computed them — raw system calls on stack
//! data.

use rustix::io::Errno;

use crate::caps::{CapData, CapHeader, LINUX_CAPABILITY_VERSION_3, split};
use crate::errno::last_errno;

/// Set the calling thread's permitted, effective and inheritable sets to
/// `mask`. A system call on stack data: safe after a raw clone.
pub(crate) fn capset_all(mask: u64) -> Result<(), Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let (low, high) = split(mask);
    let data = [
        CapData {
            effective: low,
            permitted: low,
            inheritable: low,
        },
        CapData {
            effective: high,
            permitted: high,
            inheritable: high,
        },
    ];
    // SAFETY: capset reads the header and two data structs for version 3.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) };
    if ret == 0 { Ok(()) } else { Err(last_errno()) }
}

/// Which capability operation failed in the child, with the capability number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CapFailure {
    /// `PR_CAPBSET_DROP` of this capability.
    Bounding(u32, Errno),
    /// `capset`.
    Set(Errno),
    /// `PR_CAP_AMBIENT_RAISE` of this capability.
    Ambient(u32, Errno),
}

/// Drop every capability outside `keep` from the bounding set.
pub(crate) fn cut_bounding_set(keep: u64, all: u64) -> Result<(), CapFailure> {
    for cap in 0..64u32 {
        let bit = 1u64 << cap;
        if bit & all == 0 || bit & keep != 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments.
        let ret = unsafe {
            libc::prctl(
                libc::PR_CAPBSET_DROP,
                libc::c_ulong::from(cap),
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
        if ret != 0 {
            return Err(CapFailure::Bounding(cap, last_errno()));
        }
    }
    Ok(())
}

/// Set permitted, effective and inheritable to `mask` and raise each of its
/// capabilities in the ambient set.
pub(crate) fn set_caps(mask: u64) -> Result<(), CapFailure> {
    capset_all(mask).map_err(CapFailure::Set)?;
    for cap in 0..64u32 {
        if mask & (1u64 << cap) == 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments.
        let ret = unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                libc::c_ulong::from(cap),
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
        if ret != 0 {
            return Err(CapFailure::Ambient(cap, last_errno()));
        }
    }
    Ok(())
}
