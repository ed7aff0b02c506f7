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
    /// The sandbox's network could not be planned, attached or torn down.
    #[error(transparent)]
    Network(#[from] vb_net::Error),
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
    /// A seccomp program could not be installed (the index counts the
    /// caller's programs first, then voidbox's own).
    #[error("{}", seccomp_message(.source))]
    Seccomp {
        /// Which program.
        index: u32,
        /// The kernel's error.
        #[source]
        source: std::io::Error,
    },
    /// `assert_userns_disabled`: creating a user namespace still worked.
    #[error("creation of new user namespaces was not disabled as requested")]
    UsernsNotDisabled,
    /// A lock file could not be opened (`open`) or locked.
    #[error("{} lock file {path}: {source}", if *.open { "Unable to open" } else { "Unable to lock" })]
    LockFile {
        /// The path inside the sandbox.
        path: String,
        /// Whether opening (rather than locking) failed.
        open: bool,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Landlock enforces less than asked, and strict enforcement was asked
    /// for (`SecurityOptions::landlock_strict`).
    #[error("refusing to run under a weaker landlock than asked for: {0}")]
    LandlockNotEnforced(vb_proc::Enforcement),
    /// Setup produced runtime warnings and `fail_on_runtime_warnings` is set.
    #[error("refusing to run with {} runtime warning(s): {}", .0.len(), crate::warning::joined(.0))]
    RuntimeWarnings(Vec<crate::Warning>),
    /// [`Session::wait`](crate::Session::wait) was already called.
    #[error("this session was already waited for")]
    SessionAlreadyWaited,
}

/// bubblewrap's wording for a seccomp program the kernel refused.
fn seccomp_message(source: &std::io::Error) -> String {
    if source.raw_os_error() == Some(libc::EINVAL) {
        "Unable to set up system call filtering as requested: prctl(PR_SET_SECCOMP) reported EINVAL. (Hint: this requires a kernel configured with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER.)".to_owned()
    } else {
        format!("prctl(PR_SET_SECCOMP): {source}")
    }
}
