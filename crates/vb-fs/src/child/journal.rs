//! The journal of a run: what each operation changed, so a failure can be
//! undone. One [`Entry`] per operation, allocated with the plan in the
//! parent; atomics, so the plan stays `Sync` and the child writes without
//! allocating.

use std::sync::atomic::{AtomicU32, Ordering};

/// The operation created its destination directory.
pub(crate) const CREATED_DIR: u32 = 1;
/// The operation created its destination file or symlink.
pub(crate) const CREATED_FILE: u32 = 1 << 1;
/// Something is mounted on the destination.
pub(crate) const MOUNTED: u32 = 1 << 2;
/// The destination's mode was changed; the old one is in `old_mode`.
pub(crate) const CHMODDED: u32 = 1 << 3;
/// A `--bind-data` data file exists.
pub(crate) const DATA_FILE: u32 = 1 << 4;

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

    /// The mode the destination had before the operation changed it.
    pub(super) fn old_mode(&self) -> u32 {
        self.old_mode.load(Ordering::Relaxed)
    }

    /// The index of the first parent directory the operation created.
    pub(super) fn first_parent(&self) -> Option<usize> {
        match self.parents_from.load(Ordering::Relaxed) {
            0 => None,
            n => usize::try_from(n - 1).ok(),
        }
    }

    /// Whether the operation changed anything.
    pub(super) fn touched(&self) -> bool {
        self.flags() != 0 || self.first_parent().is_some()
    }
}
