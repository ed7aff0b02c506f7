//! The child side: everything that runs in the sandbox child, between the
//! clone and the exec, on the operations `compile` prepared. A raw clone of
//! a multi-threaded process may find the allocator's lock held by a thread
//! that does not exist in the child, so nothing here allocates, locks or
//! panics. The `deny` below makes that a compile error as far as clippy can
//! see it: naming an allocating type (`String`, `Vec`, `Box`, `CString`...)
//! or macro (`format!`, `vec!`) anywhere in this folder fails
//! `cargo clippy` (the list is the workspace's `clippy.toml`). Outside the
//! folder, the child calls only the accessors of `op` and the step codes of
//! `failure` (which denies the same lints), and never builds an `FsError`.
//!
//! Inside the folder: `sys` (the system calls, with `submounts`, the legacy
//! submount walk, below it), `fault` and `journal` are the leaves; `runner`
//! holds a run's state (the new root's descriptor, kept from one operation
//! to the next); `lookup` (destinations inside the new root) and
//! `mount` build on it; each action's `run_*` (`root`, `bind`, `procfs`,
//! `dev`, `new_fs`, `create`, `bind_data`) and `rollback` use those; this
//! module runs the operations in order and dispatches each to its `run_*`.

#![deny(clippy::disallowed_types, clippy::disallowed_macros)]

mod bind;
mod bind_data;
mod create;
mod dev;
mod fault;
pub(crate) mod journal;
mod lookup;
mod mount;
mod new_fs;
mod procfs;
mod rollback;
mod root;
mod runner;
mod submounts;
pub(crate) mod sys;

use std::os::fd::RawFd;

use fault::Fault;
use journal::Entry;
use runner::Runner;
use sys::Sys;

use crate::failure::{Fail, FsFailure};
use crate::op::{Layout, Op};
use crate::spec::MountApi;

/// Run `ops` in order (their journal is `journal`): on a failure, undo what
/// the operations so far changed outside the mount namespace, then report
/// it. The umask is 0 while it runs, as in bubblewrap, so modes are exact.
/// See [`MountPlan::execute`](crate::MountPlan::execute).
pub(crate) fn run(
    sys: &impl Sys,
    ops: &[Op],
    journal: &[Entry],
    layout: Layout,
    api: MountApi,
    detail: Option<RawFd>,
) -> Result<(), FsFailure> {
    let in_root = match sys.resolve_in_root() {
        Ok(()) => true,
        Err(errno) => {
            if let Some(index) = first_confined_dest(ops, layout) {
                return Err(FsFailure {
                    step: Fail::InRoot.code(0),
                    index,
                    errno: errno.raw_os_error(),
                });
            }
            false
        }
    };
    for entry in journal {
        entry.reset();
    }
    let old_umask = sys.umask(0);
    let modern = api == MountApi::Auto && sys.new_mount_api();
    let runner = Runner::new(sys, layout, modern, in_root, detail);
    let mut result = Ok(());
    for ((index, op), entry) in (0u32..).zip(ops).zip(journal) {
        let outcome = runner.run(op, entry);
        runner.settle_root();
        if let Err(fault) = outcome {
            runner.rollback(ops, journal, usize::try_from(index).unwrap_or(usize::MAX));
            result = Err(FsFailure {
                step: fault.code,
                index,
                errno: fault.errno.raw_os_error(),
            });
            break;
        }
    }
    runner.release_held();
    runner.release_root();
    sys.umask(old_umask);
    result
}

/// The index of the first operation that resolves a destination below a
/// new root other than the process's own, if any. The new root itself
/// (`--ro-bind / /`) takes no lookup.
fn first_confined_dest(ops: &[Op], layout: Layout) -> Option<u32> {
    if !layout.has_new_root() {
        return None;
    }
    (0u32..)
        .zip(ops)
        .find(|(_, op)| op.dest().is_some_and(|d| d.rel.as_bytes() != b"."))
        .map(|(index, _)| index)
}

impl<S: Sys> Runner<'_, S> {
    /// Run one operation.
    fn run(&self, op: &Op, entry: &Entry) -> Result<(), Fault> {
        match op {
            Op::RootStep(op) => {
                // A root-switch step moves or covers what `/newroot`
                // names: the next lookup opens the new root again.
                let outcome = self.run_root_step(op, entry);
                self.root_covered.set(true);
                outcome
            }
            Op::Bind(op) => self.run_bind(op, entry),
            Op::RemountRo(op) => self.run_remount(op, entry),
            Op::Proc(op) => self.run_proc(op, entry),
            Op::Dev(op) => self.run_dev(op, entry),
            Op::NewFs(op) => self.run_new_fs(op, entry),
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
