//! The mount plan: compiled in the parent from an [`FsSpec`] into a list of
//! operations whose paths, option strings and data are all prepared, executed
//! in the child in order (rolling back on a failure), and turned back into a
//! readable error from the operation index, step code and errno the child
//! reports.

use std::cell::Cell;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::Arc;

use crate::artifacts::Artifacts;
use crate::compile::{self, Compiled};
use crate::detail::DetailPipe;
use crate::error::FsError;
use crate::exec::Exec;
use crate::failure::{Fail, Fault, FsFailure};
use crate::op::{Layout, Op};
use crate::rollback::Entry;
use crate::spec::{FsSpec, MountApi};
use crate::sys::Sys;

/// A compiled plan. Build it with [`MountPlan::compile`] in the parent, run it
/// with [`MountPlan::execute`] in the sandbox child, and call
/// [`MountPlan::finish`] once the sandbox is gone.
#[derive(Debug)]
pub struct MountPlan {
    pub(crate) ops: Vec<Op>,
    pub(crate) journal: Vec<Entry>,
    pub(crate) layout: Layout,
    pub(crate) api: MountApi,
    pub(crate) detail: Option<DetailPipe>,
    pub(crate) artifacts: Artifacts,
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
    /// create the host directory for staged artifacts when the layout needs
    /// one. Nothing here depends on the working directory later.
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

    /// The host directory holding this plan's staged artifacts while the
    /// sandbox runs, if it needs one (only without a root switch).
    pub fn artifact_dir(&self) -> Option<&std::path::Path> {
        self.artifacts.dir()
    }

    /// Child side: run every operation in order. On a failure, undo what the
    /// operations so far changed outside the mount namespace, then report it.
    /// Allocation-free; the umask is 0 while it runs, as in bubblewrap, so
    /// modes are exact.
    ///
    /// Destinations below a new root are resolved inside it with `openat2`
    /// whichever mount method is used. On a kernel (or under a seccomp
    /// profile) without `openat2`, such a plan fails before it does anything,
    /// reported for its first destination
    /// ([`FsError::InRootUnavailable`]); a plan without a root switch, or
    /// without destinations, runs with plain lookups, which are the same
    /// there.
    pub fn execute(&self, sys: &impl Sys) -> Result<(), FsFailure> {
        let in_root = match sys.resolve_in_root() {
            Ok(()) => true,
            Err(errno) => {
                if let Some(index) = self.first_confined_dest() {
                    return Err(FsFailure {
                        step: Fail::InRoot.code(0),
                        index,
                        errno: errno.raw_os_error(),
                    });
                }
                false
            }
        };
        for entry in &self.journal {
            entry.reset();
        }
        let old_umask = sys.umask(0);
        let exec = Exec {
            sys,
            plan: self,
            modern: self.api == MountApi::Auto && sys.new_mount_api(),
            in_root,
            held: Cell::new(-1),
        };
        let mut result = Ok(());
        for ((index, op), entry) in (0u32..).zip(&self.ops).zip(&self.journal) {
            if let Err(fault) = exec.run(op, entry) {
                exec.rollback(usize::try_from(index).unwrap_or(usize::MAX));
                result = Err(FsFailure {
                    step: fault.code,
                    index,
                    errno: fault.errno.raw_os_error(),
                });
                break;
            }
        }
        exec.release_held();
        sys.umask(old_umask);
        result
    }

    /// The index of the first operation that resolves a destination below a
    /// new root other than the process's own, if any. The new root itself
    /// (`--ro-bind / /`) takes no lookup.
    fn first_confined_dest(&self) -> Option<u32> {
        if !self.layout.is_staged() {
            return None;
        }
        (0u32..)
            .zip(&self.ops)
            .find(|(_, op)| op.dest().is_some_and(|d| d.rel.as_bytes() != b"."))
            .map(|(index, _)| index)
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
    /// (staged data, `--tmp-overlay` layers without a root switch). Call once
    /// the sandbox has ended, whether it ran or failed to start; a second
    /// call does nothing. Dropping the plan does the same, ignoring errors.
    pub fn finish(&mut self) -> Result<(), FsError> {
        self.artifacts.remove()
    }

    /// The write end of the detail pipe, for the child.
    pub(crate) fn detail_fd(&self) -> Option<RawFd> {
        self.detail.as_ref().map(DetailPipe::write_fd)
    }
}

impl<S: Sys> Exec<'_, S> {
    fn run(&self, op: &Op, entry: &Entry) -> Result<(), Fault> {
        match op {
            Op::Prim(op) => self.run_prim(op, entry),
            Op::Bind(op) => self.run_bind(op, entry),
            Op::RemountRo(op) => self.run_remount(op, entry),
            Op::Proc(op) => self.run_proc(op, entry),
            Op::Dev(op) => self.run_dev(op, entry),
            Op::Mount(op) => self.run_fs_mount(op, entry),
            Op::Dir(op) => self.run_dir(op, entry),
            Op::File(op) => self.run_file(op, entry),
            Op::BindData(op) => self.run_bind_data(op, entry),
            Op::Symlink(op) => self.run_symlink(op, entry),
            Op::Chmod(op) => self.run_chmod(op, entry),
            Op::CloseFds(fds) => {
                for fd in fds {
                    self.sys.close(*fd);
                }
                Ok(())
            }
        }
    }
}
