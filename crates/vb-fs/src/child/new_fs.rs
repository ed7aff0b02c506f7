//! New filesystem instances on a destination: `--tmpfs` (with `--size` and
//! `--perms`), `--mqueue`, and the overlays; their option strings are
//! built at compile time.

use super::fault::{Fault, at};
use super::journal::{Entry, MOUNTED};
use super::runner::Runner;
use super::sys::Sys;
use crate::failure::Fail;
use crate::op::NewFsOp;

impl<S: Sys> Runner<'_, S> {
    pub(crate) fn run_new_fs(&self, op: &NewFsOp, entry: &Entry) -> Result<(), Fault> {
        let target = self.prepare(&op.dest, true, false, entry)?;
        self.mount_fs(op.fstype(), &target, op.flags, op.data.as_deref())
            .map_err(at(Fail::MountNewFs))?;
        entry.mark(MOUNTED);
        Ok(())
    }
}
