//! The fixed-size failure frame a sandbox child writes on its close-on-exec error
//! pipe: which part of the child-side plan failed ([`Origin`]), at which step,
//! with which errno.
//!
//! A frame is 16 bytes: origin, step, index and errno as little-endian `u32`/`i32`.
//! End-of-file on the pipe without a frame means the command was executed: the
//! pipe is close-on-exec, so a successful `execve` closes the child's copy.

use std::fmt;

/// Size in bytes of one encoded [`ChildFailure`].
pub const FRAME_LEN: usize = 16;

/// Which part of the child-side plan failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Origin {
    /// A step owned by vb-proc itself (see [`Step`]).
    Process = 1,
    /// The filesystem hook (mounts and the root switch): see
    /// [`ChildHooks::filesystem`](crate::ChildHooks::filesystem).
    Filesystem = 2,
    /// The network hook (interfaces inside the new network namespace): see
    /// [`ChildHooks::network`](crate::ChildHooks::network).
    Network = 3,
    /// The security context (capabilities, no_new_privs, the user-namespace
    /// policy, seccomp): see [`SecurityStep`](crate::SecurityStep).
    Security = 4,
}

impl Origin {
    fn from_u32(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::Process,
            2 => Self::Filesystem,
            3 => Self::Network,
            4 => Self::Security,
            _ => return None,
        })
    }
}

/// The steps vb-proc runs in the child, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Step {
    /// `prctl(PR_SET_PDEATHSIG)` for `die_with_parent`.
    DeathSignal = 1,
    /// The parent died between `clone` and `prctl(PR_SET_PDEATHSIG)`.
    ParentGone = 2,
    /// Reading the one-byte gate from the parent.
    Gate = 3,
    /// `setresgid` to the sandbox gid (the index is the gid).
    SetGid = 4,
    /// `setresuid` to the sandbox uid (the index is the uid).
    SetUid = 5,
    /// `unshare(CLONE_NEWCGROUP)` once the parent has placed the child in its cgroup.
    CgroupNamespace = 6,
    /// `sethostname`.
    Hostname = 7,
    /// Forking the command under the PID-1 reaper.
    Fork = 8,
    /// `setsid` for `new_session`.
    NewSession = 9,
    /// `chdir` to the requested working directory.
    Chdir = 10,
    /// Restoring the signal mask and `SIGPIPE` before exec.
    Signals = 11,
    /// Writing the one-byte setup-finished acknowledgement.
    Ack = 12,
    /// `execve` of every candidate path failed.
    Exec = 13,
    /// `dup2` of a standard stream onto fd 0, 1 or 2 (the index says which).
    Stdio = 14,
    /// `unshare` of the requested namespaces (in a caller-forked child, or
    /// after joining namespaces).
    Unshare = 15,
    /// Writing the process's own id maps (in a caller-forked child, or after
    /// joining namespaces; the index is 0 for `setgroups`, 1 for `uid_map`,
    /// 2 for `gid_map`).
    OwnIdMap = 16,
    /// Joining a cgroup through a prepared `tasks` file (the index says which;
    /// `u32::MAX` when the parent never signalled that the cgroups exist).
    CgroupJoin = 17,
    /// Opening a lock file (the index says which).
    LockOpen = 18,
    /// Taking the read lock on a lock file (the index says which).
    LockTake = 19,
    /// Reading the block descriptor (`block_fd`).
    BlockFd = 20,
    /// Reading the user-namespace block descriptor (`userns_block_fd`).
    UsernsBlockFd = 21,
    /// Keeping the sync descriptor open across `execve` (`as_pid_1`).
    SyncFd = 22,
    /// The reaper closing the descriptors it does not need.
    CloseFds = 23,
    /// `setns` into an existing namespace (the index is its
    /// [`NamespaceKind`](crate::NamespaceKind)).
    JoinNamespace = 24,
    /// Reporting the sandbox's first process to the parent.
    Report = 25,
    /// `PR_SET_DUMPABLE`.
    Dumpable = 26,
}

impl Step {
    fn from_u32(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::DeathSignal,
            2 => Self::ParentGone,
            3 => Self::Gate,
            4 => Self::SetGid,
            5 => Self::SetUid,
            6 => Self::CgroupNamespace,
            7 => Self::Hostname,
            8 => Self::Fork,
            9 => Self::NewSession,
            10 => Self::Chdir,
            11 => Self::Signals,
            12 => Self::Ack,
            13 => Self::Exec,
            14 => Self::Stdio,
            15 => Self::Unshare,
            16 => Self::OwnIdMap,
            17 => Self::CgroupJoin,
            18 => Self::LockOpen,
            19 => Self::LockTake,
            20 => Self::BlockFd,
            21 => Self::UsernsBlockFd,
            22 => Self::SyncFd,
            23 => Self::CloseFds,
            24 => Self::JoinNamespace,
            25 => Self::Report,
            26 => Self::Dumpable,
            _ => return None,
        })
    }

    /// The step named by a [`ChildFailure`] whose origin is [`Origin::Process`].
    pub fn of(failure: &ChildFailure) -> Option<Self> {
        match failure.origin {
            Origin::Process => Self::from_u32(failure.step),
            _ => None,
        }
    }
}

/// A failure of child-side work numbered by its owner rather than by
/// vb-proc's [`Step`]: a [`ChildHook`](crate::ChildHook), the security
/// context, a Landlock restriction.
///
/// `step` and `index` are the owner's numbering (for the filesystem hook, the
/// step kind and the index of the action in its plan); `errno` is the positive
/// error number of the failing system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepFailure {
    /// The owner-defined step that failed.
    pub step: u32,
    /// The owner-defined index (for example, which action of a plan).
    pub index: u32,
    /// The positive errno of the failing system call.
    pub errno: i32,
}

impl StepFailure {
    /// A failure of `step` at `index` with the given errno.
    pub const fn new(step: u32, index: u32, errno: i32) -> Self {
        Self { step, index, errno }
    }
}

/// A failure that happened in the sandbox child before the command ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildFailure {
    /// Which part of the plan failed.
    pub origin: Origin,
    /// The step number, interpreted according to `origin`.
    pub step: u32,
    /// An index within the step (an action number, a candidate path number...).
    pub index: u32,
    /// The positive errno reported by the failing system call.
    pub errno: i32,
}

impl ChildFailure {
    /// A failure of one of vb-proc's own steps.
    pub const fn process(step: Step, index: u32, errno: i32) -> Self {
        Self {
            origin: Origin::Process,
            step: step as u32,
            index,
            errno,
        }
    }

    /// A failure of work numbered by its owner (`origin` says which).
    pub const fn with_origin(origin: Origin, failure: StepFailure) -> Self {
        Self {
            origin,
            step: failure.step,
            index: failure.index,
            errno: failure.errno,
        }
    }

    /// The frame's wire form.
    #[deny(clippy::disallowed_types, clippy::disallowed_macros)] // runs in the child too
    pub fn encode(&self) -> [u8; FRAME_LEN] {
        let mut out = [0u8; FRAME_LEN];
        out[0..4].copy_from_slice(&(self.origin as u32).to_le_bytes());
        out[4..8].copy_from_slice(&self.step.to_le_bytes());
        out[8..12].copy_from_slice(&self.index.to_le_bytes());
        out[12..16].copy_from_slice(&self.errno.to_le_bytes());
        out
    }

    /// Parse a frame, rejecting unknown origins and non-positive errnos.
    pub fn decode(bytes: &[u8; FRAME_LEN]) -> Result<Self, FrameError> {
        let word = |at: usize| [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        let origin_raw = u32::from_le_bytes(word(0));
        let origin = Origin::from_u32(origin_raw).ok_or(FrameError::Origin(origin_raw))?;
        let errno = i32::from_le_bytes(word(12));
        if errno <= 0 {
            return Err(FrameError::Errno(errno));
        }
        Ok(Self {
            origin,
            step: u32::from_le_bytes(word(4)),
            index: u32::from_le_bytes(word(8)),
            errno,
        })
    }

    /// The errno as an `std::io::Error`, for messages.
    pub fn io_error(&self) -> std::io::Error {
        std::io::Error::from_raw_os_error(self.errno)
    }
}

impl fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Step::of(self) {
            Some(step) => write!(f, "{step:?}: {}", self.io_error()),
            None => write!(
                f,
                "{:?} step {} (item {}): {}",
                self.origin,
                self.step,
                self.index,
                self.io_error()
            ),
        }
    }
}

/// A malformed failure frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The origin field names no known origin.
    #[error("failure frame names unknown origin {0}")]
    Origin(u32),
    /// The errno field is zero or negative.
    #[error("failure frame carries invalid errno {0}")]
    Errno(i32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trips() {
        let failure = ChildFailure::process(Step::Chdir, 3, libc::ENOENT);
        assert_eq!(ChildFailure::decode(&failure.encode()), Ok(failure));
        let hooked =
            ChildFailure::with_origin(Origin::Filesystem, StepFailure::new(9, 41, libc::EPERM));
        assert_eq!(ChildFailure::decode(&hooked.encode()), Ok(hooked));
    }

    #[test]
    fn frame_rejects_unknown_origin_and_bad_errno() {
        let mut bytes = ChildFailure::process(Step::Exec, 0, libc::EACCES).encode();
        bytes[0] = 99;
        assert_eq!(ChildFailure::decode(&bytes), Err(FrameError::Origin(99)));
        let mut bytes = ChildFailure::process(Step::Exec, 0, libc::EACCES).encode();
        bytes[12..16].copy_from_slice(&0i32.to_le_bytes());
        assert_eq!(ChildFailure::decode(&bytes), Err(FrameError::Errno(0)));
        bytes[12..16].copy_from_slice(&(-5i32).to_le_bytes());
        assert_eq!(ChildFailure::decode(&bytes), Err(FrameError::Errno(-5)));
    }

    #[test]
    fn step_numbers_are_stable() {
        for raw in 1..=26 {
            let step = Step::from_u32(raw).unwrap();
            assert_eq!(step as u32, raw);
        }
        assert_eq!(Step::from_u32(0), None);
        assert_eq!(Step::from_u32(27), None);
    }
}
