//! How a sandboxed command ended: [`Termination`], from a raw `wait(2)`
//! status or a `waitid(2)` result.

/// How the sandboxed command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Termination {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
}

impl Termination {
    /// From a raw `wait(2)` status.
    pub fn from_raw(raw: i32) -> Self {
        if libc::WIFSIGNALED(raw) {
            Self::Signaled(libc::WTERMSIG(raw))
        } else {
            Self::Exited(libc::WEXITSTATUS(raw))
        }
    }

    /// From what `waitid(2)` reported about an exited child.
    pub(crate) fn from_waitid(status: &rustix::process::WaitIdStatus) -> Self {
        match (status.exit_status(), status.terminating_signal()) {
            (Some(code), _) => Self::Exited(code),
            (None, Some(sig)) => Self::Signaled(sig),
            (None, None) => Self::Exited(0),
        }
    }

    /// The shell's encoding: the exit code, or 128 + the signal number.
    pub fn code(&self) -> i32 {
        match *self {
            Self::Exited(code) => code,
            Self::Signaled(sig) => 128 + sig,
        }
    }

    /// Whether the command exited with code 0.
    pub fn success(&self) -> bool {
        *self == Self::Exited(0)
    }

    /// The signal that killed the command, if one did.
    pub fn signal(&self) -> Option<i32> {
        match *self {
            Self::Signaled(sig) => Some(sig),
            Self::Exited(_) => None,
        }
    }
}

impl std::fmt::Display for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exited(code) => write!(f, "exit code {code}"),
            Self::Signaled(sig) => write!(f, "killed by signal {sig}"),
        }
    }
}
