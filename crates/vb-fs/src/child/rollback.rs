//! Rollback: when an operation fails, the child undoes what the operations
//! before it (and the failing one, as far as it got) did, in reverse order,
//! before it reports the failure.
//!
//! Mounts vanish with the sandbox's mount namespace on their own; what
//! outlives it are changes to filesystems shared with the host: directories
//! and files created under a bound host directory or a `--rootfs` tree,
//! changed modes, data files in a host directory. Each operation journals
//! what it created (see [`journal`](super::journal)); the undo detaches the
//! operation's mount first (lazily, so a busy mount does not stop the
//! cleanup), then restores modes and removes what it created, deepest first.

use rustix::fs::OFlags;
use rustix::mount::UnmountFlags;

use super::journal::{CHMODDED, CREATED_DIR, CREATED_FILE, DATA_FILE, Entry, MOUNTED};
use super::runner::Runner;
use super::sys::{AT_FDCWD, Sys};
use crate::op::Op;

impl<S: Sys> Runner<'_, S> {
    /// Undo operations `0..=upto` of `ops` (journaled in `journal`), last
    /// first. Best effort: a step that fails (a directory someone else
    /// filled, a mount already gone) is skipped.
    pub(crate) fn rollback(&self, ops: &[Op], journal: &[Entry], upto: usize) {
        // Each undo opens the new root as it is then: undoing a mount on it
        // uncovers what a kept descriptor would not see.
        self.release_root();
        self.root_covered.set(true);
        let ops = ops.iter().zip(journal);
        for (op, entry) in ops.take(upto.saturating_add(1)).rev() {
            if entry.touched() {
                self.undo(op, entry);
            }
        }
    }

    fn undo(&self, op: &Op, entry: &Entry) {
        let flags = entry.flags();
        if flags & DATA_FILE != 0
            && let Some(data_file) = op.data_file()
        {
            let _ = self.sys.unlinkat(AT_FDCWD, data_file, false);
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
            let old = entry.old_mode();
            let link = self.fd_path(fd.raw());
            let _ = self.sys.chmod(link.as_cstr(), old);
        }
        if flags & (CREATED_DIR | CREATED_FILE) != 0 {
            let dir = OFlags::PATH | OFlags::DIRECTORY;
            let parent = self.open_in(root.raw(), dest.parent_rel(), dir);
            if let Ok(parent) = parent {
                let _ = self
                    .sys
                    .unlinkat(parent.raw(), dest.name(), flags & CREATED_DIR != 0);
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
