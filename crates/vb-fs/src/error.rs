//! vb-fs's error type.

use std::path::PathBuf;

/// Why a filesystem plan could not be compiled or executed.
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
    /// No directory exists on which to stage the new root.
    #[error("no staging directory for the new root (tried {tried})")]
    NoStagingDir {
        /// The candidates, comma-separated.
        tried: String,
    },
    /// The action is not implemented yet.
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
    /// A path contains a NUL byte.
    #[error("path contains a NUL byte: {0:?}")]
    Nul(PathBuf),
    /// A step of the plan failed in the sandbox child.
    #[error("{what}: {source}")]
    Step {
        /// The step, in bubblewrap's words where it has them.
        what: String,
        /// The failing system call's error.
        #[source]
        source: std::io::Error,
    },
    /// A failure report names a step the plan does not have.
    #[error("filesystem setup failed at unknown step {index}: {source}")]
    UnknownStep {
        /// The index reported.
        index: u32,
        /// The error reported.
        #[source]
        source: std::io::Error,
    },
}
