//! Actions that create or change files in the tree rather than mount:
//! `--dir`, `--file`, `--symlink` and `--chmod`.

use rustix::fs::OFlags;
use rustix::io::Errno;

use super::fault::{Fault, at};
use super::journal::{CREATED_FILE, Entry};
use super::lookup::Parent;
use super::runner::{Runner, write_all};
use super::sys::Sys;
use crate::failure::Fail;
use crate::op::{ChmodOp, DirOp, FileOp, SymlinkOp};

impl<S: Sys> Runner<'_, S> {
    pub(crate) fn run_dir(&self, op: &DirOp, entry: &Entry) -> Result<(), Fault> {
        let root = self.root().map_err(at(Fail::Parents))?;
        let parent = self
            .parents(root.raw(), &op.dest, entry)
            .map_err(at(Fail::Parents))?;
        self.ensure_dir(root.raw(), &op.dest, &parent, op.mode, entry)
            .map_err(at(Fail::MkdirDest))?;
        Ok(())
    }

    pub(crate) fn run_file(&self, op: &FileOp, entry: &Entry) -> Result<(), Fault> {
        let root = self.root().map_err(at(Fail::Parents))?;
        self.parents(root.raw(), &op.dest, entry)
            .map_err(at(Fail::Parents))?;
        let create = OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY;
        let fd = match self
            .sys
            .open(root.raw(), &op.dest.rel, create, op.mode, self.in_root)
        {
            Ok(fd) => {
                entry.mark(CREATED_FILE);
                fd
            }
            Err(Errno::EXIST) => self
                .sys
                .open(
                    root.raw(),
                    &op.dest.rel,
                    OFlags::WRONLY | OFlags::TRUNC,
                    0,
                    self.in_root,
                )
                .map_err(at(Fail::FileCreate))?,
            Err(e) => return Err(Fault::new(Fail::FileCreate, 0, e)),
        };
        let fd = self.fd(fd);
        write_all(self.sys, fd.raw(), &op.data).map_err(at(Fail::FileWrite))
    }

    pub(crate) fn run_symlink(&self, op: &SymlinkOp, entry: &Entry) -> Result<(), Fault> {
        let root = self.root().map_err(at(Fail::Parents))?;
        let parent = self
            .parents(root.raw(), &op.dest, entry)
            .map_err(at(Fail::Parents))?;
        let dir = match &parent {
            Parent::Root => root.raw(),
            Parent::Dir(fd) => fd.raw(),
            Parent::Missing => {
                return Err(Fault::new(Fail::SymlinkCreate, 0, Errno::NOENT));
            }
        };
        match self.sys.symlinkat(&op.target, dir, op.dest.name()) {
            Ok(()) => {
                entry.mark(CREATED_FILE);
                return Ok(());
            }
            Err(Errno::EXIST) => {}
            Err(e) => return Err(Fault::new(Fail::SymlinkCreate, 0, e)),
        }
        let mut buf = [0u8; 4096];
        let len = match self.sys.readlinkat(dir, op.dest.name(), &mut buf) {
            Ok(len) => len,
            Err(Errno::INVAL) => return Err(Fault::new(Fail::SymlinkNotLink, 0, Errno::INVAL)),
            Err(e) => return Err(Fault::new(Fail::SymlinkRead, 0, e)),
        };
        let existing = buf.get(..len).unwrap_or_default();
        if existing == op.target.as_bytes() {
            return Ok(());
        }
        if let Some(detail) = self.detail {
            let _ = write_all(self.sys, detail, existing);
        }
        Err(Fault::new(Fail::SymlinkConflict, 0, Errno::EXIST))
    }

    pub(crate) fn run_chmod(&self, op: &ChmodOp, entry: &Entry) -> Result<(), Fault> {
        let root = self.root().map_err(at(Fail::Chmod))?;
        let target = self
            .open_in(root.raw(), &op.dest.rel, OFlags::PATH)
            .map_err(at(Fail::Chmod))?;
        let old = self.sys.fstat(target.raw()).map_err(at(Fail::Chmod))?;
        let link = self.fd_path(target.raw());
        self.sys
            .chmod(link.as_cstr(), op.mode)
            .map_err(at(Fail::Chmod))?;
        entry.chmodded(old.mode);
        Ok(())
    }
}
