//! How a sandbox ended: [`ExitStatus`], the command's [`Termination`] with
//! what the sandbox's cgroup limits did to it.

use std::fmt;

use vb_cgroup::LimitEvents;
use vb_proc::Termination;

/// How a sandbox ended, as [`Session::wait`](crate::Session::wait) returns
/// it: the command's exit code or signal, and — when the sandbox had cgroup
/// limits — whether the kernel enforced them on it.
///
/// ```no_run
/// let mut cmd = voidbox::Command::new("/usr/bin/python3");
/// cmd.args(["-c", "bytearray(1 << 30)"]).rootfs("/");
/// cmd.config_mut().resources.memory_max = Some(64 << 20);
/// let status = cmd.status()?;
/// if status.killed_by_memory_limit() {
///     eprintln!("out of memory");
/// }
/// # Ok::<(), voidbox::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    termination: Termination,
    limits: Option<LimitEvents>,
}

impl ExitStatus {
    /// A status with what the cgroup counted (`None`: the sandbox had no
    /// cgroup).
    pub fn new(termination: Termination, limits: Option<LimitEvents>) -> Self {
        Self {
            termination,
            limits,
        }
    }

    /// How the command ended: its exit code or the signal that killed it.
    pub fn termination(&self) -> Termination {
        self.termination
    }

    /// The shell's encoding: the exit code, or 128 + the signal number.
    pub fn code(&self) -> i32 {
        self.termination.code()
    }

    /// Whether the command exited with code 0.
    pub fn success(&self) -> bool {
        self.termination.success()
    }

    /// The signal that killed the command, if one did.
    pub fn signal(&self) -> Option<i32> {
        self.termination.signal()
    }

    /// What the sandbox's cgroup counted, when it had one (it has one when
    /// a resource limit was set).
    pub fn limit_events(&self) -> Option<LimitEvents> {
        self.limits
    }

    /// Whether the command was killed (`SIGKILL`) and the kernel's OOM killer
    /// killed a process of the sandbox: the memory limit ended it.
    pub fn killed_by_memory_limit(&self) -> bool {
        self.signal() == Some(libc::SIGKILL) && self.limits.is_some_and(|l| l.oom_killed())
    }

    /// Whether the sandbox was refused a new process at its process-count
    /// limit (`pids.max`) at least once.
    pub fn pids_limit_reached(&self) -> bool {
        self.limits.is_some_and(|l| l.pids_max_reached())
    }
}

impl From<Termination> for ExitStatus {
    fn from(termination: Termination) -> Self {
        Self::new(termination, None)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.termination.fmt(f)?;
        if self.killed_by_memory_limit() {
            f.write_str(" (memory limit reached)")?;
        }
        Ok(())
    }
}
