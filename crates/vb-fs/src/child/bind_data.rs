//! `--bind-data`, child side: the content is written to a hidden file,
//! bound on the destination, and the file's name unlinked.

use rustix::fs::OFlags;

use super::fault::{Fault, at, bind_fault};
use super::journal::{DATA_FILE, Entry};
use super::mount::Src;
use super::runner::{Runner, write_all};
use super::sys::{AT_FDCWD, Sys};
use crate::failure::Fail;
use crate::op::BindDataOp;

impl<S: Sys> Runner<'_, S> {
    pub(crate) fn run_bind_data(&self, op: &BindDataOp, entry: &Entry) -> Result<(), Fault> {
        let root = self.root().map_err(at(Fail::Parents))?;
        let parent = self
            .parents(root.raw(), &op.dest, entry)
            .map_err(at(Fail::Parents))?;
        let create = OFlags::CREATE | OFlags::EXCL | OFlags::RDWR | OFlags::NOFOLLOW;
        let file = self
            .sys
            .open(AT_FDCWD, &op.data_file, create, 0o600, false)
            .map_err(at(Fail::DataTmp))?;
        entry.mark(DATA_FILE);
        let file = self.fd(file);
        self.sys
            .fchmod(file.raw(), op.mode)
            .map_err(at(Fail::DataMode))?;
        write_all(self.sys, file.raw(), &op.data).map_err(at(Fail::FileWrite))?;
        drop(file);
        let target = self
            .ensure_file(root.raw(), &op.dest, &parent, entry)
            .map_err(at(Fail::CreateFileAt))?;
        self.bind(&Src::path(&op.data_file), &target, op.set, entry, || {
            self.reopen(&op.dest, OFlags::PATH)
        })
        .map_err(bind_fault(Fail::BindMount, 0))?;
        // The mount keeps the file; its name goes so nothing else reaches it.
        let _ = self.sys.unlinkat(AT_FDCWD, &op.data_file, false);
        entry.unmark(DATA_FILE);
        Ok(())
    }
}
