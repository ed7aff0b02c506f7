//! vb-proc's error type: one variant per failing step.

use rustix::io::Errno;

use crate::command::ExecError;
use crate::env::EnvError;
use crate::frame::ChildFailure;
use crate::id_map::IdMapError;
use crate::security::SecurityError;
use crate::status::Termination;
use crate::sync::SyncError;

/// Why spawning or waiting for a sandboxed process failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// A uid or gid other than the caller's was requested without a new user
    /// namespace.
    #[error("{0} other than the caller's requires namespaces.user or join.user")]
    IdsNeedUserNamespace(&'static str),
    /// A hostname was requested without a new UTS namespace.
    #[error("hostname requires namespaces.uts")]
    HostnameNeedsUts,
    /// `as_pid_1` was requested without a new PID namespace.
    #[error("as_pid_1 requires namespaces.pid")]
    AsPid1NeedsPidNamespace,
    /// Lock files were requested with `as_pid_1`: only a reaper holds them.
    #[error("as_pid_1 does not combine with lock_files")]
    AsPid1WithLockFiles,
    /// `userns_block_fd` without a new user namespace.
    #[error("userns_block_fd requires namespaces.user")]
    UsernsBlockFdNeedsUserNamespace,
    /// More lock files than [`crate::MAX_LOCK_FILES`].
    #[error("too many lock files: {0} (at most 64)")]
    TooManyLockFiles(usize),
    /// A lock file path contains a NUL byte.
    #[error("lock file path contains a NUL byte: {0:?}")]
    LockFilePath(std::path::PathBuf),
    /// A namespace kind is both joined and created.
    #[error("cannot both join and create a {0:?} namespace")]
    JoinAndCreate(crate::namespaces::NamespaceKind),
    /// Namespaces to join with `userns_block_fd`.
    #[error("join does not combine with userns_block_fd")]
    JoinWithUsernsBlockFd,
    /// A report of the namespaces for `userns_block_fd`, with a cgroup
    /// namespace that is only made after the cgroups are joined.
    #[error(
        "userns_block_fd with namespaces.cgroup needs the cgroup placed before the child starts"
    )]
    UsernsBlockFdWithLateCgroup,
    /// A uid or gid of 4294967295, which the kernel reads as "unchanged".
    #[error("uid and gid 4294967295 are not valid ids")]
    InvalidId,
    /// `/proc` could not be opened.
    #[error("opening /proc: {0}")]
    Proc(Errno),
    /// The security context cannot be prepared.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// The environment edits were invalid.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// The command cannot be executed as given.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// Creating a handshake pipe failed.
    #[error("creating a handshake pipe: {0}")]
    Pipe(Errno),
    /// `clone3`/`clone` failed.
    #[error("Creating new namespace failed: {0}")]
    Clone(Errno),
    /// Writing the id maps failed.
    #[error(transparent)]
    IdMap(#[from] IdMapError),
    /// A handshake transfer with the child failed.
    #[error("handshake with the sandbox child failed at the {0}: {1}")]
    Handshake(&'static str, SyncError),
    /// The child reported a failure before the command ran.
    #[error("sandbox setup failed: {0}")]
    Child(ChildFailure),
    /// The child ended during setup without reporting why.
    #[error("the sandbox child ended during setup ({0})")]
    ExitedDuringSetup(Termination),
    /// Waiting for the child failed.
    #[error("waiting for the sandbox failed: {0}")]
    Wait(Errno),
    /// Sending a signal to the child failed.
    #[error("signalling the sandbox failed: {0}")]
    Signal(Errno),
}
