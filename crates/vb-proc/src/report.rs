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
}
