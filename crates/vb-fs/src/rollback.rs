//! Rollback: when an operation fails, the child undoes what the operations
//! before it (and the failing one, as far as it got) did, in reverse order,
//! before it reports the failure.
//!
//! Mounts vanish with the sandbox's mount namespace on their own; what
//! outlives it are changes to filesystems shared with the host: directories
//! and files created under a bound host directory or a `--rootfs` tree,
//! changed modes, staged data in a host directory. Each operation journals
//! what it created in a preallocated [`Entry`] (atomics, so the plan stays
//! `Sync` and the child writes without allocating); the undo detaches the
//! operation's mount first (lazily, so a busy mount does not stop the
//! cleanup), then restores modes and removes what it created, deepest first.

use std::sync::atomic::{AtomicU32, Ordering};

use rustix::fs::OFlags;
use rustix::mount::UnmountFlags;

use crate::exec::Exec;
use crate::op::Op;
use crate::sys::{AT_FDCWD, Sys};

/// The operation created its destination directory.
pub(crate) const CREATED_DIR: u32 = 1;
/// The operation created its destination file or symlink.
pub(crate) const CREATED_FILE: u32 = 1 << 1;
/// Something is mounted on the destination.
pub(crate) const MOUNTED: u32 = 1 << 2;
/// The destination's mode was changed; the old one is in `old_mode`.
pub(crate) const CHMODDED: u32 = 1 << 3;
/// A staged data file exists.
pub(crate) const STAGED: u32 = 1 << 4;

/// What one operation changed.
#[derive(Debug, Default)]
pub(crate) struct Entry {
    /// 1 + the index of the first parent directory created (0: none).
    parents_from: AtomicU32,
    flags: AtomicU32,
    old_mode: AtomicU32,
}

impl Entry {
    pub(crate) fn reset(&self) {
        self.parents_from.store(0, Ordering::Relaxed);
        self.flags.store(0, Ordering::Relaxed);
        self.old_mode.store(0, Ordering::Relaxed);
    }

    pub(crate) fn created_parent(&self, index: usize) {
        let value = u32::try_from(index).map_or(u32::MAX, |i| i.saturating_add(1));
        let _ = self
            .parents_from
            .compare_exchange(0, value, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub(crate) fn mark(&self, flag: u32) {
        self.flags.fetch_or(flag, Ordering::Relaxed);
    }

    pub(crate) fn unmark(&self, flag: u32) {
        self.flags.fetch_and(!flag, Ordering::Relaxed);
    }

    pub(crate) fn chmodded(&self, old_mode: u32) {
        self.old_mode.store(old_mode, Ordering::Relaxed);
        self.mark(CHMODDED);
    }

    pub(crate) fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    fn first_parent(&self) -> Option<usize> {
        match self.parents_from.load(Ordering::Relaxed) {
            0 => None,
            n => usize::try_from(n - 1).ok(),
        }
    }

    fn touched(&self) -> bool {
        self.flags() != 0 || self.first_parent().is_some()
    }
}

impl<S: Sys> Exec<'_, S> {
    /// Undo operations `0..=upto`, last first. Best effort: a step that fails
    /// (a directory someone else filled, a mount already gone) is skipped.
    pub(crate) fn rollback(&self, upto: usize) {
        let ops = self.plan.ops.iter().zip(self.plan.journal.iter());
        for (op, entry) in ops.take(upto.saturating_add(1)).rev() {
            if entry.touched() {
                self.undo(op, entry);
            }
        }
    }

    fn undo(&self, op: &Op, entry: &Entry) {
        let flags = entry.flags();
        if flags & STAGED != 0
            && let Some(staged) = op.staged()
        {
            let _ = self.sys.unlinkat(AT_FDCWD, staged, false);
        }
        let Some(dest) = op.dest() else {
            return;
        };
        let Ok(root) = self.root() else {
            return;
        };
        // Both go through the destination's descriptor, resolved inside the
        // new root as the action resolved it: a path would follow symlinks
        // the action did not.
        if flags & MOUNTED != 0
            && let Ok(top) = self.open_in(root.raw(), &dest.rel, OFlags::PATH)
        {
            let link = self.fd_path(top.raw());
            let _ = self.sys.unmount(link.as_cstr(), UnmountFlags::DETACH);
        }
        if flags & CHMODDED != 0
            && let Ok(fd) = self.open_in(root.raw(), &dest.rel, OFlags::PATH)
        {
            let old = entry.old_mode.load(Ordering::Relaxed);
            let link = self.fd_path(fd.raw());
            let _ = self.sys.chmod(link.as_cstr(), old);
        }
        if flags & (CREATED_DIR | CREATED_FILE) != 0 {
            let dir = OFlags::PATH | OFlags::DIRECTORY;
            let parent = self.open_in(root.raw(), dest.parent_rel(), dir);
            if let Ok(parent) = parent {
                let _ = self
                    .sys
                    .unlinkat(parent.raw(), &dest.name, flags & CREATED_DIR != 0);
            }
        }
        if let Some(from) = entry.first_parent() {
            for k in (from..dest.parents.len()).rev() {
                let Some((_, name)) = dest.parents.get(k) else {
                    continue;
                };
                let holder = match k.checked_sub(1).and_then(|i| dest.parents.get(i)) {
                    Some((prefix, _)) => {
                        self.open_in(root.raw(), prefix, OFlags::PATH | OFlags::DIRECTORY)
                    }
                    None => self.open_in(root.raw(), c".", OFlags::PATH | OFlags::DIRECTORY),
                };
                if let Ok(holder) = holder {
                    let _ = self.sys.unlinkat(holder.raw(), name, true);
                }
            }
        }
    }
}
