//! The mount plan: compiled in the parent from an [`FsSpec`] into a list of
//! operations whose paths, option strings and data are all prepared, executed
//! in the child in order (rolling back on a failure), and turned back into a
//! readable error from the operation index, step code and errno the child
//! reports.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use crate::artifacts::Artifacts;
use crate::child::{self, journal::Entry, sys::Sys};
use crate::compile::{self, Compiled};
use crate::detail::DetailPipe;
use crate::error::FsError;
use crate::failure::{Fail, FsFailure};
use crate::op::{Layout, Op};
use crate::spec::{FsSpec, MountApi};

/// A compiled plan. Build it with [`MountPlan::compile`] in the parent, run it
/// with [`MountPlan::execute`] in the sandbox child, and call
/// [`MountPlan::finish`] once the sandbox is gone.
#[derive(Debug)]
pub struct MountPlan {
    pub(crate) ops: Vec<Op>,
    /// What each operation changed, one entry per operation, for rollback.
    journal: Vec<Entry>,
    layout: Layout,
    api: MountApi,
    detail: Option<DetailPipe>,
    artifacts: Artifacts,
    /// The caller's descriptors the operations name by number (`--bind-fd`'s
    /// check of the mount, the closing of consumed descriptors in the
    /// child). The child gets only the numbers, so the plan holds the
    /// descriptors themselves for as long as it can run: were the caller's
    /// last copy dropped meanwhile, a number could be closed and reused for
    /// something else, and the child would check or close the wrong file.
    #[expect(dead_code, reason = "held, never read: holding them is the point")]
    fds: Vec<Arc<OwnedFd>>,
}

impl MountPlan {
    /// Compile `spec`: resolve every host path to an absolute, symlink-free
    /// one, read data descriptors, build every string the child needs, and
    /// create the host artifact directory when the layout needs one. Nothing
    /// here depends on the working directory later.
    pub fn compile(spec: &FsSpec) -> Result<Self, FsError> {
        let Compiled {
            layout,
            ops,
            detail,
            artifacts,
            fds,
        } = compile::compile(spec)?;
        Ok(Self {
            journal: ops.iter().map(|_| Entry::default()).collect(),
            ops,
            layout,
            api: spec.mount_api,
            detail,
            artifacts,
            fds,
        })
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the plan does nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The host directory holding this plan's data files and `--tmp-overlay`
    /// layers while the sandbox runs, if it needs one (only without a root
    /// switch).
    pub fn artifact_dir(&self) -> Option<&std::path::Path> {
        self.artifacts.dir()
    }

    /// Child side: run every operation in order. On a failure, undo what the
    /// operations so far changed outside the mount namespace, then report it.
    /// Allocation-free, lock-free and panic-free, so it may run in a raw
    /// clone of a multi-threaded process; the umask is 0 while it runs, as
    /// in bubblewrap, so modes are exact.
    ///
    /// Destinations below a new root are resolved inside it with `openat2`
    /// whichever mount method is used. On a kernel (or under a seccomp
    /// profile) without `openat2`, such a plan fails before it does anything,
    /// reported for its first destination
    /// ([`FsError::InRootUnavailable`]); a plan without a root switch, or
    /// without destinations, runs with plain lookups, which are the same
    /// there.
    pub fn execute(&self, sys: &impl Sys) -> Result<(), FsFailure> {
        child::run(
            sys,
            &self.ops,
            &self.journal,
            self.layout,
            self.api,
            self.detail.as_ref().map(DetailPipe::write_fd),
        )
    }

    /// Parent side: the error a child's failure report stands for.
    pub fn describe(&self, failure: FsFailure) -> FsError {
        let detail = self
            .detail
            .as_ref()
            .map(DetailPipe::take)
            .unwrap_or_default();
        let found = usize::try_from(failure.index)
            .ok()
            .and_then(|i| self.ops.get(i))
            .zip(Fail::decode(failure.step))
            .and_then(|(op, (fail, sub))| op.describe(fail, sub, failure.errno, &detail));
        found.unwrap_or_else(|| FsError::UnknownStep {
            index: failure.index,
            source: std::io::Error::from_raw_os_error(failure.errno),
        })
    }

    /// Remove what the plan left on the host for the sandbox's lifetime
    /// (data files, `--tmp-overlay` layers without a root switch). Call once
    /// the sandbox has ended, whether it ran or failed to start; a second
    /// call does nothing. Dropping the plan does the same, ignoring errors.
    pub fn finish(&mut self) -> Result<(), FsError> {
        self.artifacts.remove()
    }
}
