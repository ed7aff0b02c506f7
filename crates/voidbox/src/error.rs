//! The facade's error type: subsystem errors, and child-side failures turned
//! back into messages that name the step and the path.

use std::path::PathBuf;

use vb_fs::FsError;
use vb_proc::ProcError;

/// Why a sandbox could not be spawned or waited for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration field is set that this version does not implement.
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
    /// The configuration is inconsistent.
    #[error("{0}")]
    InvalidConfig(String),
    /// The process core failed (clone, handshake, id maps, validation).
    #[error(transparent)]
    Process(#[from] ProcError),
    /// A cgroup could not be set up or removed.
    #[error(transparent)]
    Cgroup(#[from] vb_cgroup::CgroupError),
    /// The filesystem plan could not be built or failed in the child.
    #[error(transparent)]
    Filesystem(#[from] FsError),
    /// The command could not be executed.
    #[error("execvp {command}: {source}")]
    Exec {
        /// The command as given.
        command: String,
        /// Why `execve` failed.
        #[source]
        source: std::io::Error,
    },
    /// The requested working directory could not be entered.
    #[error("Can't chdir to {dir}: {source}")]
    Chdir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another step in the sandbox child failed.
    #[error("{what}: {source}")]
    ChildStep {
        /// The step.
        what: String,
        /// The failing call's error.
        #[source]
        source: std::io::Error,
    },
    /// Setup produced runtime warnings and `fail_on_runtime_warnings` is set.
    #[error("refusing to run with {} runtime warning(s): {}", .0.len(), .0.join("; "))]
    RuntimeWarnings(Vec<String>),
    /// [`Session::wait`](crate::Session::wait) was already called.
    #[error("this session was already waited for")]
    SessionAlreadyWaited,
}
