//! How the child names what failed: a step code (the kind of sub-step, plus a
//! sub-index for steps that repeat inside one action, such as the device nodes
//! of `--dev`) reported with the index of the operation and the errno. The
//! parent turns the three numbers back into bubblewrap's message.
//!
//! This is the vocabulary both sides share, and the child runs it, so it
//! denies the allocating types and macros as `child` does.

#![deny(clippy::disallowed_types, clippy::disallowed_macros)]

/// A failure of one operation, as the child reports it: the step code, the
/// operation's index in the plan, and the errno. `Copy` and allocation-free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsFailure {
    /// What inside the operation failed (plan-defined).
    pub step: u32,
    /// The operation's index in the plan.
    pub index: u32,
    /// The positive errno.
    pub errno: i32,
}

/// The kinds of sub-steps an operation can fail at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum Fail {
    /// A step around the actions; the message is stored with the operation.
    RootStep = 1,
    /// `Can't get type of source`.
    SourceType,
    /// `Can't mkdir parents for`.
    Parents,
    /// `Can't mkdir`.
    MkdirDest,
    /// `Can't create file at`.
    CreateFileAt,
    /// `Can't bind mount A on B: Unable to mount source on destination`.
    BindMount,
    /// `...: Unable to remount destination with correct flags`.
    BindFlags,
    /// `...: Unable to remount recursively with correct flags`.
    BindSubmounts,
    /// `Can't stat fd N` (`--bind-fd`).
    FdStat,
    /// `Race condition binding dirfd` (`--bind-fd`; no errno).
    FdRace,
    /// `Can't remount readonly on X: realpath(destination)`.
    RemountRealpath,
    /// `...: Unable to find destination in mount table` (no errno).
    RemountFind,
    /// `...: Unable to remount destination with correct flags`.
    RemountFlags,
    /// `Can't mount proc on`.
    ProcMount,
    /// `Can't access X/sys` (sub-index: which covered entry).
    ProcAccess,
    /// The read-only re-bind of a covered `/proc` entry (sub-index).
    ProcCover,
    /// `Can't mount tmpfs on`, `Can't mount mqueue on`, `Can't make overlay
    /// mount on`.
    MountNewFs,
    /// `Can't create file X/null` (sub-index: which node).
    DevNode,
    /// The bind of a host device node (sub-index).
    DevNodeBind,
    /// `Can't create symlink X/stdin` (sub-index: 0, 1, 2).
    DevStdio,
    /// `Can't create symlink X/fd`.
    DevFd,
    /// `Can't create symlink X/core`.
    DevCore,
    /// `Can't create X/shm`.
    DevShm,
    /// `Can't create X/devpts`.
    DevPts,
    /// `Can't mount devpts on`.
    DevPtsMount,
    /// `Can't make symlink at X/ptmx`.
    DevPtmx,
    /// `creating X/console`.
    DevConsole,
    /// The bind of the host terminal on `console`.
    DevConsoleBind,
    /// `Can't create file` (`--file`).
    FileCreate,
    /// `Can't write data to file`.
    FileWrite,
    /// `Can't create tmpfile for`.
    DataTmp,
    /// `Can't set mode ... on file to be used for`.
    DataMode,
    /// `Can't make symlink at`.
    SymlinkCreate,
    /// `...: destination exists and is not a symlink` (no errno).
    SymlinkNotLink,
    /// `...: destination exists, and cannot read symlink target`.
    SymlinkRead,
    /// `...: existing destination is Y` (no errno; Y comes on the detail pipe).
    SymlinkConflict,
    /// `Can't chmod`.
    Chmod,
    /// Destinations below a new root cannot be resolved inside it: no
    /// `openat2(RESOLVE_IN_ROOT)`. Reported, before anything runs, for the
    /// first operation with a destination.
    InRoot,
    /// The rootfs directory found in the child is not the compiled one.
    RootChanged,
}

impl Fail {
    const ALL: [Self; 39] = [
        Self::RootStep,
        Self::SourceType,
        Self::Parents,
        Self::MkdirDest,
        Self::CreateFileAt,
        Self::BindMount,
        Self::BindFlags,
        Self::BindSubmounts,
        Self::FdStat,
        Self::FdRace,
        Self::RemountRealpath,
        Self::RemountFind,
        Self::RemountFlags,
        Self::ProcMount,
        Self::ProcAccess,
        Self::ProcCover,
        Self::MountNewFs,
        Self::DevNode,
        Self::DevNodeBind,
        Self::DevStdio,
        Self::DevFd,
        Self::DevCore,
        Self::DevShm,
        Self::DevPts,
        Self::DevPtsMount,
        Self::DevPtmx,
        Self::DevConsole,
        Self::DevConsoleBind,
        Self::FileCreate,
        Self::FileWrite,
        Self::DataTmp,
        Self::DataMode,
        Self::SymlinkCreate,
        Self::SymlinkNotLink,
        Self::SymlinkRead,
        Self::SymlinkConflict,
        Self::Chmod,
        Self::InRoot,
        Self::RootChanged,
    ];

    /// The step code reported for this kind at `sub`.
    pub(crate) fn code(self, sub: u16) -> u32 {
        u32::from(self as u16) | (u32::from(sub) << 16)
    }

    /// Split a reported step code; `None` for codes no operation produces.
    pub(crate) fn decode(code: u32) -> Option<(Self, u16)> {
        let kind = u16::try_from(code & 0xffff).ok()?;
        let sub = u16::try_from(code >> 16).ok()?;
        Self::ALL
            .iter()
            .copied()
            .find(|f| *f as u16 == kind)
            .map(|f| (f, sub))
    }
}

/// Which part of a bind failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BindStep {
    /// Cloning or attaching the tree.
    Mount,
    /// Setting the flags of the tree (or of its top mount).
    Flags,
    /// Setting the flags of the submounts (legacy walk).
    Submounts,
}

impl BindStep {
    /// The step kind of a top-level bind that failed at this part.
    pub(crate) fn kind(self) -> Fail {
        match self {
            Self::Mount => Fail::BindMount,
            Self::Flags => Fail::BindFlags,
            Self::Submounts => Fail::BindSubmounts,
        }
    }

    /// The part a top-level bind's step kind stands for.
    pub(crate) fn of_kind(kind: Fail) -> Option<Self> {
        match kind {
            Fail::BindMount => Some(Self::Mount),
            Fail::BindFlags => Some(Self::Flags),
            Fail::BindSubmounts => Some(Self::Submounts),
            _ => None,
        }
    }

    /// A bind that is a sub-step of another action (a device node, a
    /// covered `/proc` entry) keeps that action's kind and carries the part
    /// in the high byte of its sub-index.
    pub(crate) fn in_sub(self, sub: u16) -> u16 {
        let bits: u16 = match self {
            Self::Mount => 0,
            Self::Flags => 1,
            Self::Submounts => 2,
        };
        (sub & 0xff) | (bits << 8)
    }

    /// Split a sub-index made by [`BindStep::in_sub`].
    pub(crate) fn from_sub(sub: u16) -> (u16, Self) {
        let step = match sub >> 8 {
            1 => Self::Flags,
            2 => Self::Submounts,
            _ => Self::Mount,
        };
        (sub & 0xff, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_with_their_sub_index() {
        for kind in Fail::ALL {
            for sub in [0u16, 1, 5, 0xffff] {
                assert_eq!(Fail::decode(kind.code(sub)), Some((kind, sub)));
            }
        }
        assert_eq!(Fail::decode(0), None);
        assert_eq!(Fail::decode(999), None);
    }

    #[test]
    fn bind_steps_round_trip_in_a_sub_index() {
        for step in [BindStep::Mount, BindStep::Flags, BindStep::Submounts] {
            assert_eq!(BindStep::from_sub(step.in_sub(5)), (5, step));
            assert_eq!(BindStep::of_kind(step.kind()), Some(step));
        }
    }
}
