//! New filesystem instances on a destination: `--tmpfs` (with `--size` and
//! `--perms`), `--mqueue`, and the overlays (whose option strings
//! [`overlay`](crate::overlay) builds).

use crate::error::c_octal;
use crate::exec::Exec;
use crate::failure::{Fail, Fault, at};
use crate::op::FsMountOp;
use crate::rollback::{Entry, MOUNTED};
use crate::sys::Sys;

/// The largest tmpfs size bubblewrap accepts: `SIZE_MAX / 2`.
pub(crate) const MAX_TMPFS_BYTES: u64 = u64::MAX / 2;

/// bubblewrap's tmpfs options: `mode=%#o[,size=%zu]`, then the SELinux
/// `context="LABEL"` of `--file-label` when there is one.
pub(crate) fn tmpfs_options(perms: u32, size: Option<u64>, label: Option<&str>) -> String {
    let mut data = match size {
        Some(size) => format!("mode={},size={size}", c_octal(perms)),
        None => format!("mode={}", c_octal(perms)),
    };
    if let Some(label) = label {
        data.push_str(&format!(",context=\"{label}\""));
    }
    data
}

impl<S: Sys> Exec<'_, S> {
    pub(crate) fn run_fs_mount(&self, op: &FsMountOp, entry: &Entry) -> Result<(), Fault> {
        let target = self.prepare(&op.dest, true, entry)?;
        self.mount_fs(op.fstype(), target.raw(), op.flags, op.data.as_deref())
            .map_err(at(Fail::FsMount))?;
        entry.mark(MOUNTED);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_options_use_c_octal() {
        assert_eq!(tmpfs_options(0o755, None, None), "mode=0755");
        assert_eq!(
            tmpfs_options(0o1777, Some(4096), None),
            "mode=01777,size=4096"
        );
        assert_eq!(tmpfs_options(0, None, None), "mode=0");
        assert_eq!(
            tmpfs_options(0o755, None, Some("system_u:object_r:tmp_t:s0")),
            "mode=0755,context=\"system_u:object_r:tmp_t:s0\""
        );
    }
}
