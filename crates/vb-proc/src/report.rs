//! The report the sandbox's first process sends the parent about itself:
//! its pid as the caller sees it (a PID namespace joined or created after the
//! clone puts it one or two forks below the cloned child) and the ids of its
//! namespaces. It reads both through the host's `/proc` (the `self` link
//! resolves in that procfs's PID namespace, the caller's), because from
//! outside `/proc/<pid>/ns` is readable only until the reaper makes itself
//! not dumpable, and the cgroup namespace only exists after the gate.
//!
//! The record is 56 bytes: the pid, then the inode of each namespace in
//! [`NAMESPACES`] order, little-endian `u64`s.

use std::os::fd::{BorrowedFd, RawFd};

use rustix::io::Errno;
use rustix::process::Pid;

/// The namespaces reported, in bubblewrap's `--info-fd` order, with the
/// `/proc` entry each is read from.
pub const NAMESPACES: [(&str, &std::ffi::CStr); 6] = [
    ("cgroup", c"thread-self/ns/cgroup"),
    ("ipc", c"thread-self/ns/ipc"),
    ("mnt", c"thread-self/ns/mnt"),
    ("net", c"thread-self/ns/net"),
    ("pid", c"thread-self/ns/pid"),
    ("uts", c"thread-self/ns/uts"),
];

/// Size of one report.
pub(crate) const REPORT_LEN: usize = 8 * (1 + NAMESPACES.len());

/// What the parent learns about the sandbox's first process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SandboxReport {
    /// Its pid as the caller sees it.
    pub first_pid: Option<Pid>,
    /// The inode of each of its namespaces, in [`NAMESPACES`] order.
    pub namespace_ids: [u64; 6],
}

impl SandboxReport {
    /// The id of the namespace named `name` (`"cgroup"`, `"ipc"`, ...).
    pub fn namespace_id(&self, name: &str) -> Option<u64> {
        NAMESPACES
            .iter()
            .position(|(n, _)| *n == name)
            .and_then(|i| self.namespace_ids.get(i).copied())
    }

    pub(crate) fn decode(bytes: &[u8; REPORT_LEN]) -> Self {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(bytes.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]));
            u64::from_le_bytes(w)
        };
        let pid = i32::try_from(word(0)).ok().and_then(Pid::from_raw);
        let mut namespace_ids = [0u64; 6];
        for (i, slot) in namespace_ids.iter_mut().enumerate() {
            *slot = word(i + 1);
        }
        Self {
            first_pid: pid,
            namespace_ids,
        }
    }
}

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

/// The host's `/proc` as an `O_PATH` directory descriptor (close-on-exec),
/// opened in the parent before the clone: the child looks things up through
/// it after its own `/proc` is gone or replaced.
pub(crate) fn open_host_proc() -> Result<std::os::fd::OwnedFd, rustix::io::Errno> {
    rustix::fs::open(
        c"/proc",
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip_and_name_their_namespaces() {
        let mut bytes = [0u8; REPORT_LEN];
        bytes[0..8].copy_from_slice(&42u64.to_le_bytes());
        for i in 0..6u64 {
            let at = usize::try_from((i + 1) * 8).unwrap();
            bytes[at..at + 8].copy_from_slice(&(4_026_531_000 + i).to_le_bytes());
        }
        let report = SandboxReport::decode(&bytes);
        assert_eq!(report.first_pid, Pid::from_raw(42));
        assert_eq!(report.namespace_id("cgroup"), Some(4_026_531_000));
        assert_eq!(report.namespace_id("uts"), Some(4_026_531_005));
        assert_eq!(report.namespace_id("user"), None);
        bytes[0..8].copy_from_slice(&0u64.to_le_bytes());
        assert_eq!(SandboxReport::decode(&bytes).first_pid, None);
    }

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
