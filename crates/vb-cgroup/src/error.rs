//! The crate's error type: one variant per failing step, each naming the file (or input)
//! and the errno.

use std::path::PathBuf;

use rustix::io::Errno;

use crate::resource_limits::{InvalidLimit, LimitKind};
use crate::warning::Warning;

/// Everything that can fail while parsing limits, detecting the hierarchy, creating,
/// entering, killing, removing or sweeping a sandbox cgroup.
///
/// A controller that is missing or refuses a limit is *not* an error: it is a
/// [`Warning`], returned next to the result (see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CgroupError {
    /// A limit string was rejected.
    #[error("invalid {limit} value {input:?}: {reason}; expected {}", limit.expected())]
    InvalidLimit {
        /// The limit being parsed.
        limit: LimitKind,
        /// The rejected input, verbatim.
        input: String,
        /// What is wrong with it.
        reason: InvalidLimit,
    },
    /// A cgroup name prefix is unusable as one path component.
    #[error("invalid cgroup name prefix {prefix:?}: {reason}")]
    InvalidPrefix {
        /// The rejected prefix.
        prefix: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A pid passed to [`attach`](crate::SandboxCgroup::attach) is not a positive number.
    #[error("invalid pid {pid}: must be positive")]
    InvalidPid {
        /// The rejected pid.
        pid: i32,
    },
    /// Reading a procfs file (`/proc/self/mountinfo`, `/proc/self/cgroup`,
    /// `/proc/self/stat`) failed.
    #[error("reading {path} failed: {errno}")]
    ReadProc {
        /// The file.
        path: PathBuf,
        /// The error.
        errno: Errno,
    },
    /// A procfs file had a line this crate cannot understand.
    #[error("cannot parse {path}: {what}")]
    ParseProc {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// `/proc/self/mountinfo` lists no cgroup or cgroup2 file system.
    #[error("no cgroup file system is mounted")]
    NoCgroupMounts,
    /// A mounted hierarchy has no line in `/proc/self/cgroup`, so the caller's place in it
    /// is unknown.
    #[error("the caller's cgroup in the hierarchy mounted at {mount_point} is unknown")]
    CallerCgroupUnknown {
        /// Where the hierarchy is mounted.
        mount_point: PathBuf,
    },
    /// The caller's cgroup lies outside the part of a hierarchy that is mounted (for
    /// example a bind mount of a sibling subtree), so it cannot be reached.
    #[error(
        "the caller's cgroup {cgroup} is not visible under {mount_point} (mount root {mount_root})"
    )]
    CallerOutsideMount {
        /// Where the hierarchy is mounted.
        mount_point: PathBuf,
        /// The subtree of the hierarchy mounted there.
        mount_root: PathBuf,
        /// The caller's cgroup path from `/proc/self/cgroup`.
        cgroup: PathBuf,
    },
    /// `mkdir` of a sandbox cgroup directory failed.
    #[error("creating cgroup directory {path} failed: {errno}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The error.
        errno: Errno,
    },
    /// Opening the v2 cgroup directory (the `CLONE_INTO_CGROUP` fd) failed.
    #[error("opening cgroup directory {path} failed: {errno}")]
    OpenDir {
        /// The directory.
        path: PathBuf,
        /// The error.
        errno: Errno,
    },
    /// Writing a pid to a `cgroup.procs` file failed.
    #[error("moving pid {pid} into {file} failed: {errno}")]
    Attach {
        /// The `cgroup.procs` file.
        file: PathBuf,
        /// The pid.
        pid: i32,
        /// The error.
        errno: Errno,
    },
    /// Reading a `cgroup.procs` or `cgroup.events` file failed.
    #[error("reading {file} failed: {errno}")]
    ReadControl {
        /// The file.
        file: PathBuf,
        /// The error.
        errno: Errno,
    },
    /// Writing `cgroup.kill` failed.
    #[error("writing 1 to {file} failed: {errno}")]
    Kill {
        /// The `cgroup.kill` file.
        file: PathBuf,
        /// The error.
        errno: Errno,
    },
    /// `kill(pid, SIGKILL)` failed with something other than "no such process".
    #[error("sending SIGKILL to pid {pid} (listed in {file}) failed: {errno}")]
    Signal {
        /// The pid.
        pid: i32,
        /// The `cgroup.procs` file that listed it.
        file: PathBuf,
        /// The error.
        errno: Errno,
    },
    /// Processes were still listed in a cgroup after the bounded kill loop.
    #[error("{remaining} process(es) still in {dir} after {rounds} kill rounds")]
    KillTimeout {
        /// The cgroup directory.
        dir: PathBuf,
        /// How many pids were still listed.
        remaining: usize,
        /// How many rounds were tried.
        rounds: u32,
    },
    /// `rmdir` of a sandbox cgroup directory failed.
    #[error("removing cgroup directory {path} failed: {errno}")]
    RemoveDir {
        /// The directory.
        path: PathBuf,
        /// The error.
        errno: Errno,
    },
    /// Listing a directory during the stale sweep failed.
    #[error("listing {path} failed: {errno}")]
    ScanDir {
        /// The directory.
        path: PathBuf,
        /// The error.
        errno: Errno,
    },
    /// The caller's policy treats runtime warnings as fatal and there were some
    /// (see [`deny_warnings`](crate::deny_warnings)).
    #[error("{count} runtime warning(s) with fail-on-warnings set; first: {first}")]
    WarningsDenied {
        /// How many warnings there were.
        count: usize,
        /// The first one.
        first: Box<Warning>,
    },
}

/// The errno of an I/O error; errors that carry none (a zero-length `write_all`) become
/// `EIO`, which is what such a short write means on a control file.
pub(crate) fn errno_of(error: &std::io::Error) -> Errno {
    Errno::from_io_error(error).unwrap_or(Errno::IO)
}
