//! The sandbox's first process sends the parent its
//! [`SandboxReport`](crate::SandboxReport) (see [`crate::report`] for why
//! from inside).

use std::os::fd::{BorrowedFd, RawFd};

use rustix::io::Errno;

use crate::report::{NAMESPACES, REPORT_LEN};

/// The calling process's pid in the PID namespace of the procfs `proc_dir`
/// is on: the number its `self` link names.
fn pid_in(proc_dir: BorrowedFd<'_>) -> Result<u64, Errno> {
    let mut buf = [0u8; 32];
    // SAFETY: readlinkat writes at most `buf.len()` bytes into `buf`.
    let n = unsafe {
        libc::readlinkat(
            std::os::fd::AsRawFd::as_raw_fd(&proc_dir),
            c"self".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).map_err(|_| crate::errno::last_errno())?;
    let mut pid = 0u64;
    for b in buf.get(..n).unwrap_or_default() {
        if !b.is_ascii_digit() {
            return Err(Errno::INVAL);
        }
        pid = pid * 10 + u64::from(b - b'0');
    }
    Ok(pid)
}

/// Child: write the report for the calling process on `out`, then close
/// `out`. A system call sequence on stack data: safe after a raw clone.
pub(crate) fn send(out: RawFd, proc_dir: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut record = [0u8; REPORT_LEN];
    let pid = pid_in(proc_dir)?;
    if let Some(slot) = record.get_mut(0..8) {
        slot.copy_from_slice(&pid.to_le_bytes());
    }
    for (i, (_, path)) in NAMESPACES.iter().enumerate() {
        let stat = rustix::fs::statat(proc_dir, *path, rustix::fs::AtFlags::empty())?;
        if let Some(slot) = record.get_mut((i + 1) * 8..(i + 2) * 8) {
            slot.copy_from_slice(&stat.st_ino.to_le_bytes());
        }
    }
    // SAFETY: `out` is the child's copy of the report pipe.
    let out = unsafe { BorrowedFd::borrow_raw(out) };
    let sent = rustix::io::write(out, &record);
    // SAFETY: closing the child's copy, owned by no Rust object here.
    unsafe { libc::close(std::os::fd::AsRawFd::as_raw_fd(&out)) };
    match sent {
        Ok(n) if n == REPORT_LEN => Ok(()),
        Ok(_) => Err(Errno::PIPE),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{SandboxReport, open_host_proc};
    use rustix::process::Pid;

    #[test]
    fn a_process_reports_its_own_namespaces() {
        let proc_dir = open_host_proc().unwrap();
        let (read, write) = rustix::pipe::pipe().unwrap();
        let raw = std::os::fd::IntoRawFd::into_raw_fd(write);
        send(raw, std::os::fd::AsFd::as_fd(&proc_dir)).unwrap();
        let mut bytes = [0u8; REPORT_LEN];
        assert_eq!(rustix::io::read(&read, &mut bytes).unwrap(), REPORT_LEN);
        let report = SandboxReport::decode(&bytes);
        use std::os::unix::fs::MetadataExt;
        let mnt = std::fs::metadata("/proc/self/ns/mnt").unwrap().ino();
        assert_eq!(report.namespace_id("mnt"), Some(mnt));
        let me = i32::try_from(std::process::id()).unwrap();
        assert_eq!(report.first_pid, Pid::from_raw(me));
    }
}
