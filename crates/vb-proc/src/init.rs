//! pid 1 as a program of its own: `vb-init` (`init/main.rs`, built by
//! `build.rs` for the crate's target), carried in the library and executed
//! by the reaper from a sealed memfd once it has forked the command and
//! locked itself down. pid 1 then maps none of the launcher's memory: a
//! reaper that stayed a forked copy of the launcher would hold a copy of
//! everything the embedding process had in memory, for the sandbox's whole
//! life, one `ptrace` permission away from the sandbox.
//!
//! The memfd is made once per process and checked before every launch (a
//! caller that closed it and reused the number must not get another file
//! executed as pid 1). Where the program cannot be made (a target
//! `init/main.rs` is not written for, a kernel refusing executable memfds),
//! the reaper stays in-process, as before.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Mutex;

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::io::Errno;

use crate::seccomp::BpfProgram;

/// The program's bytes.
#[cfg(vb_init)]
const PROGRAM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vb-init"));
#[cfg(not(vb_init))]
const PROGRAM: &[u8] = &[];

/// The memfd holding the program, and the identity it had when made.
struct Held {
    fd: OwnedFd,
    identity: (u64, u64),
}

static HELD: Mutex<Option<Held>> = Mutex::new(None);

fn identity(fd: BorrowedFd<'_>) -> Option<(u64, u64)> {
    rustix::fs::fstat(fd).ok().map(|st| (st.st_dev, st.st_ino))
}

/// A sealed, close-on-exec memfd holding `bytes`.
fn sealed_memfd(name: &str, bytes: &[u8], exec: bool) -> Result<OwnedFd, Errno> {
    let base = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    let fd = if exec {
        // MFD_EXEC (Linux 6.3) keeps it executable where vm.memfd_noexec
        // would make new memfds non-executable; older kernels refuse the
        // flag, and their memfds are executable anyway.
        match rustix::fs::memfd_create(name, base | MemfdFlags::EXEC) {
            Err(Errno::INVAL) => rustix::fs::memfd_create(name, base)?,
            other => other?,
        }
    } else {
        rustix::fs::memfd_create(name, base | MemfdFlags::NOEXEC_SEAL)
            .or_else(|_| rustix::fs::memfd_create(name, base))?
    };
    let mut written = 0;
    while written < bytes.len() {
        match rustix::io::write(&fd, bytes.get(written..).unwrap_or_default()) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => written += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    rustix::fs::fcntl_add_seals(
        &fd,
        SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
    )?;
    Ok(fd)
}

/// The program's memfd as a descriptor number valid in this process (and
/// so in a child cloned now), or `None` where there is no program.
pub(crate) fn program_fd() -> Option<RawFd> {
    if PROGRAM.is_empty() {
        return None;
    }
    let mut held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(h) = held.as_ref()
        && identity(h.fd.as_fd()) == Some(h.identity)
    {
        return Some(h.fd.as_raw_fd());
    }
    // First use, or the caller closed ours: make it (again). A number the
    // caller reused is theirs now; ours is forgotten, not closed.
    if let Some(stale) = held.take() {
        std::mem::forget(stale.fd);
    }
    let fd = sealed_memfd("vb-init", PROGRAM, true).ok()?;
    let id = identity(fd.as_fd())?;
    let raw = fd.as_raw_fd();
    *held = Some(Held { fd, identity: id });
    Some(raw)
}

/// The seccomp programs pid 1 loads after its `execve`, in a sealed memfd:
/// for each, its instruction count (`u32`, little-endian) and its
/// instructions. `None` when there are none.
pub(crate) fn seccomp_memfd(programs: &[BpfProgram]) -> Result<Option<OwnedFd>, Errno> {
    if programs.is_empty() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    for program in programs {
        let insns = program.instructions();
        let count = u32::try_from(insns.len()).map_err(|_| Errno::INVAL)?;
        bytes.extend_from_slice(&count.to_le_bytes());
        for insn in insns {
            bytes.extend_from_slice(&insn.code.to_ne_bytes());
            bytes.push(insn.jt);
            bytes.push(insn.jf);
            bytes.extend_from_slice(&insn.k.to_ne_bytes());
        }
    }
    sealed_memfd("vb-init-seccomp", &bytes, false).map(Some)
}

/// Write `n` in decimal into `buf` with a terminating NUL; the slice
/// written. For the child, which may not allocate.
pub(crate) fn decimal(n: i64, buf: &mut [u8; 24]) -> &[u8] {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut v = n.unsigned_abs();
    loop {
        if let Some(d) = digits.get_mut(len) {
            // v % 10 < 10: the cast cannot truncate.
            #[allow(clippy::cast_possible_truncation)]
            let digit = (v % 10) as u8;
            *d = b'0' + digit;
        }
        len += 1;
        v /= 10;
        if v == 0 || len == digits.len() {
            break;
        }
    }
    let mut out = 0;
    if n < 0
        && let Some(b) = buf.get_mut(0)
    {
        *b = b'-';
        out = 1;
    }
    for i in (0..len).rev() {
        if let (Some(b), Some(d)) = (buf.get_mut(out), digits.get(i)) {
            *b = *d;
            out += 1;
        }
    }
    if let Some(b) = buf.get_mut(out) {
        *b = 0;
    }
    buf.get(..=out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_nul_terminated() {
        let mut buf = [0xffu8; 24];
        assert_eq!(decimal(0, &mut buf), b"0\0");
        assert_eq!(decimal(-1, &mut buf), b"-1\0");
        assert_eq!(decimal(4_194_304, &mut buf), b"4194304\0");
    }

    #[test]
    fn the_program_is_carried_on_the_supported_targets() {
        if cfg!(vb_init) {
            let fd = program_fd().expect("a memfd for vb-init");
            // The same descriptor while it is ours.
            assert_eq!(program_fd(), Some(fd));
            // SAFETY: borrowing a descriptor this module keeps open.
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            // Sealed: it cannot be written.
            assert_eq!(rustix::io::write(borrowed, b"x"), Err(Errno::PERM));
        } else {
            assert_eq!(program_fd(), None);
        }
    }
}
