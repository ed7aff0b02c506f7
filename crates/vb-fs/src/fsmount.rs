//! New filesystem instances on a destination: `--tmpfs` (with `--size` and
//! `--perms`), `--mqueue`, and the overlays (whose option strings
//! [`overlay`](crate::overlay) builds).

use crate::exec::Exec;
use crate::failure::{Fail, Fault, at};
use crate::op::FsMountOp;
use crate::rollback::{Entry, MOUNTED};
use crate::sys::Sys;

impl<S: Sys> Exec<'_, S> {
    pub(crate) fn run_fs_mount(&self, op: &FsMountOp, entry: &Entry) -> Result<(), Fault> {
        let target = self.prepare(&op.dest, true, entry)?;
        self.mount_fs(op.fstype(), target.raw(), op.flags, op.data.as_deref())
            .map_err(at(Fail::FsMount))?;
        entry.mark(MOUNTED);
        Ok(())
    }
}
