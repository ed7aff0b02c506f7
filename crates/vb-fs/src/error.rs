//! vb-fs's error type, and the helpers that build its messages from a
//! failure report. Messages follow bubblewrap's wording where it has one, so
//! `vb` prints what `bwrap` prints.

use std::path::PathBuf;

use crate::failure::{BindStep, Fail};

/// Why a filesystem plan could not be compiled, executed or cleaned up.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The root directory does not exist or is not a directory.
    #[error("Can't find rootfs {path}: {source}")]
    Rootfs {
        /// The requested root.
        path: PathBuf,
        /// Why it cannot be used.
        #[source]
        source: std::io::Error,
    },
    /// `rootfs_dev` or `rootfs_suid` was set without a directory root.
    #[error("{option} applies to a directory root only")]
    RootfsOption {
        /// The option set (`rootfs_dev` or `rootfs_suid`).
        option: &'static str,
    },
    /// The root directory found in the sandbox is not the one the plan was
    /// compiled for: the path was swapped (for a symlink, or another
    /// directory renamed in its place) in between.
    #[error(
        "Can't bind mount {path} on /newroot: the directory changed since the plan was compiled"
    )]
    RootfsChanged {
        /// The root, as resolved at compile time.
        path: PathBuf,
    },
    /// No directory exists to mount the setup root on (the tmpfs the new
    /// root is assembled in).
    #[error("no staging directory for the new root (tried {tried})")]
    NoSetupRoot {
        /// The candidates, comma-separated.
        tried: String,
    },
    /// A bind, overlay or `--bind-fd` source does not resolve (bubblewrap
    /// canonicalises sources before setup).
    #[error("Can't find source path {path}: {source}")]
    SourcePath {
        /// The source as given.
        path: PathBuf,
        /// Why it does not resolve.
        #[source]
        source: std::io::Error,
    },
    /// The content of a `--file` or `--bind-data` could not be read from its
    /// descriptor.
    #[error("Can't write data to file {dest}: {source}")]
    ReadData {
        /// The destination the data was for.
        dest: PathBuf,
        /// The read error.
        #[source]
        source: std::io::Error,
    },
    /// An overlay action has fewer lower layers than it needs.
    #[error("FsAction::{action} needs at least {needed} FsAction::OverlaySrc layer(s) before it")]
    OverlaySources {
        /// `Overlay`, `TmpOverlay` or `RoOverlay`.
        action: &'static str,
        /// How many lower layers it needs: 1 or 2.
        needed: usize,
    },
    /// An overlay names a lower layer no earlier `OverlaySrc` declared.
    #[error("FsAction::{action}: no FsAction::OverlaySrc with key {key:?} was declared before it")]
    UnknownOverlaySource {
        /// `Overlay`, `TmpOverlay` or `RoOverlay`.
        action: &'static str,
        /// The missing key.
        key: String,
    },
    /// A mode above 07777.
    #[error("{field} is above 0o7777")]
    Mode {
        /// `FsAction::Chmod mode` or `perms`.
        field: &'static str,
    },
    /// A tmpfs size above bubblewrap's limit (`SIZE_MAX / 2`).
    #[error("Specified tmpfs size too large ({size} > {max})")]
    TmpfsSize {
        /// The size asked for.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// A path contains a NUL byte.
    #[error("path contains a NUL byte: {0:?}")]
    Nul(PathBuf),
    /// The private host directory for data files and `--tmp-overlay`
    /// layers (without a root switch) could not be prepared.
    #[error("Can't create staging directory {path}: {source}")]
    ArtifactDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A pipe for the child's failure details could not be created.
    #[error("Can't create a pipe for setup diagnostics: {0}")]
    DetailPipe(#[source] std::io::Error),
    /// The kernel cannot resolve a destination inside the new root:
    /// `openat2` with `RESOLVE_IN_ROOT` (Linux 5.6) is missing or refused by
    /// a seccomp filter. A plain lookup could follow a symlink of the root
    /// out of it, so the plan refuses before it changes anything.
    #[error(
        "Can't resolve {dest} inside the new root: openat2(RESOLVE_IN_ROOT) is unavailable (Linux 5.6 or later is needed, and a seccomp profile must allow openat2): {source}"
    )]
    InRootUnavailable {
        /// The first destination the plan would have resolved.
        dest: PathBuf,
        /// Why `openat2` failed.
        #[source]
        source: std::io::Error,
    },
    /// A step of the plan failed in the sandbox child.
    #[error("{what}: {source}")]
    Step {
        /// The step, in bubblewrap's words where it has them.
        what: String,
        /// The failing system call's error.
        #[source]
        source: std::io::Error,
    },
    /// A step of the plan failed in the sandbox child for a reason that is
    /// not an error number (bubblewrap prints these without `strerror`).
    #[error("{0}")]
    Setup(String),
    /// A failure report names a step the plan does not have.
    #[error("filesystem setup failed at unknown step {index}: {source}")]
    UnknownStep {
        /// The index reported.
        index: u32,
        /// The error reported.
        #[source]
        source: std::io::Error,
    },
    /// An artifact the plan left on the host could not be removed.
    #[error("Can't remove {path}: {source}")]
    Cleanup {
        /// The artifact.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The error for a step with an errno.
pub(crate) fn step_error(what: String, errno: i32) -> FsError {
    FsError::Step {
        what,
        source: std::io::Error::from_raw_os_error(errno),
    }
}

/// The messages every action that creates its destination shares; `shown`
/// is the destination as the caller wrote it.
pub(crate) fn dest_error(shown: &str, fail: Fail, errno: i32) -> Option<FsError> {
    let what = match fail {
        Fail::Parents => format!("Can't mkdir parents for {shown}"),
        Fail::MkdirDest => format!("Can't mkdir {shown}"),
        Fail::CreateFileAt => format!("Can't create file at {shown}"),
        _ => return None,
    };
    Some(step_error(what, errno))
}

/// The message of a failed bind step, bubblewrap's `die_with_bind_result`.
pub(crate) fn bind_error(source: &str, target: &str, step: BindStep, errno: i32) -> FsError {
    let reason = match step {
        BindStep::Mount => "Unable to mount source on destination",
        BindStep::Flags => "Unable to remount destination with correct flags",
        BindStep::Submounts => "Unable to remount recursively with correct flags",
    };
    step_error(
        format!("Can't bind mount {source} on {target}: {reason}"),
        errno,
    )
}

/// C's `%#o`: octal with a leading 0, except for 0 itself.
pub(crate) fn c_octal(mode: u32) -> String {
    if mode == 0 {
        "0".into()
    } else {
        format!("0{mode:o}")
    }
}
