//! The parent side of a failure: the error a child's report stands for, in
//! bubblewrap's words. Each operation's messages are here, next to each
//! other; the child side only reports a step code, an index and an errno.

use std::path::PathBuf;

use rustix::io::Errno;

use crate::error::{FsError, bind_error, c_octal, dest_error, step_error};
use crate::failure::{BindStep, Fail};
use crate::op::{
    BindDataOp, BindOp, ChmodOp, DevBind, DevOp, DirOp, FileOp, FsKind, NODES, NewFsOp, Op, ProcOp,
    RemountOp, RootStep, RootStepKind, STDIO, SymlinkOp,
};

impl Op {
    /// The error for a failure at step `fail` (sub-index `sub`) of this
    /// operation; `detail` is what the child wrote on the detail pipe.
    pub(crate) fn describe(
        &self,
        fail: Fail,
        sub: u16,
        errno: i32,
        detail: &str,
    ) -> Option<FsError> {
        if fail == Fail::InRoot {
            return Some(FsError::InRootUnavailable {
                dest: PathBuf::from(&self.dest()?.shown),
                source: std::io::Error::from_raw_os_error(errno),
            });
        }
        match self {
            Self::RootStep(op) => op.describe(fail, errno),
            Self::Bind(op) => op.describe(fail, sub, errno),
            Self::RemountRo(op) => op.describe(fail, errno),
            Self::Proc(op) => op.describe(fail, sub, errno),
            Self::Dev(op) => op.describe(fail, sub, errno),
            Self::NewFs(op) => op.describe(fail, errno),
            Self::Dir(op) => op.describe(fail, errno),
            Self::File(op) => op.describe(fail, errno),
            Self::BindData(op) => op.describe(fail, errno),
            Self::Symlink(op) => op.describe(fail, errno, detail),
            Self::Chmod(op) => op.describe(fail, errno),
            Self::CloseFds(_) => None,
        }
    }
}

impl RootStep {
    fn describe(&self, fail: Fail, errno: i32) -> Option<FsError> {
        if fail == Fail::RootStep {
            return Some(step_error(self.message.clone(), errno));
        }
        let RootStepKind::BindRoot { shown, .. } = &self.kind else {
            return None;
        };
        if fail == Fail::RootChanged {
            return Some(FsError::RootfsChanged {
                path: PathBuf::from(shown),
            });
        }
        let step = BindStep::of_kind(fail)?;
        Some(bind_error(shown, "/newroot", step, errno))
    }
}

impl BindOp {
    fn describe(&self, fail: Fail, sub: u16, errno: i32) -> Option<FsError> {
        let target = self.dest.abs_shown();
        let source = self.source.to_string_lossy();
        if let Some(step) = BindStep::of_kind(fail) {
            return Some(bind_error(&source, &target, step, errno));
        }
        Some(match fail {
            Fail::SourceType => step_error(
                format!("Can't get type of source {}", self.source_shown),
                errno,
            ),
            Fail::FdStat if sub == 0 => {
                step_error(format!("Can't stat fd {}", self.fd.unwrap_or(-1)), errno)
            }
            Fail::FdStat => step_error(format!("Can't stat mount at {target}"), errno),
            Fail::FdRace => FsError::Setup("Race condition binding dirfd".into()),
            other => return dest_error(&self.dest.shown, other, errno),
        })
    }
}

impl RemountOp {
    fn describe(&self, fail: Fail, errno: i32) -> Option<FsError> {
        let target = self.dest.abs_shown();
        Some(match fail {
            Fail::RemountRealpath => step_error(
                format!("Can't remount readonly on {target}: realpath(destination)"),
                errno,
            ),
            Fail::RemountFind => FsError::Setup(format!(
                "Can't remount readonly on {target}: Unable to find destination in mount table"
            )),
            Fail::RemountFlags => step_error(
                format!(
                    "Can't remount readonly on {target}: Unable to remount destination with correct flags"
                ),
                errno,
            ),
            other => return dest_error(&self.dest.shown, other, errno),
        })
    }
}

impl ProcOp {
    /// The host procfs as bubblewrap names it in its message (it binds the
    /// path relative to the setup root).
    fn host_shown(&self) -> String {
        let host = self.host.to_string_lossy();
        host.strip_prefix("/oldroot")
            .map_or_else(|| host.to_string(), |rest| format!("oldroot{rest}"))
    }

    fn describe(&self, fail: Fail, sub: u16, errno: i32) -> Option<FsError> {
        let target = self.dest.abs_shown();
        let covered = |i: u16| {
            self.covered_abs
                .get(usize::from(i))
                .map(|c| c.to_string_lossy().into_owned())
        };
        if let Some(step) = BindStep::of_kind(fail) {
            return Some(bind_error(&self.host_shown(), &target, step, errno));
        }
        Some(match fail {
            Fail::ProcMount => step_error(format!("Can't mount proc on {target}"), errno),
            Fail::ProcAccess => step_error(format!("Can't access {}", covered(sub)?), errno),
            Fail::ProcCover => {
                let (i, step) = BindStep::from_sub(sub);
                let path = covered(i)?;
                bind_error(&path, &path, step, errno)
            }
            other => return dest_error(&self.dest.shown, other, errno),
        })
    }
}

impl DevOp {
    fn describe(&self, fail: Fail, sub: u16, errno: i32) -> Option<FsError> {
        let shown = &self.dest.shown;
        let abs = self.dest.abs_shown().trim_end_matches('/').to_owned();
        let bound = |b: &DevBind, step| {
            bind_error(
                &b.source.to_string_lossy(),
                &b.abs.to_string_lossy(),
                step,
                errno,
            )
        };
        let node_name = |i: u16| NODES.get(usize::from(i)).map(|n| n.to_string_lossy());
        Some(match fail {
            Fail::MountNewFs => step_error(
                format!("Can't mount tmpfs on {}", self.dest.abs_shown()),
                errno,
            ),
            Fail::DevNode => step_error(
                format!("Can't create file {shown}/{}", node_name(sub)?),
                errno,
            ),
            Fail::DevNodeBind => {
                let (i, step) = BindStep::from_sub(sub);
                bound(self.nodes.get(usize::from(i))?, step)
            }
            Fail::DevStdio => {
                let (name, _) = STDIO.get(usize::from(sub))?;
                step_error(
                    format!("Can't create symlink {shown}/{}", name.to_string_lossy()),
                    errno,
                )
            }
            Fail::DevFd => step_error(format!("Can't create symlink {abs}/fd"), errno),
            Fail::DevCore => step_error(format!("Can't create symlink {abs}/core"), errno),
            Fail::DevShm => step_error(format!("Can't create {shown}/shm"), errno),
            Fail::DevPts => step_error(format!("Can't create {shown}/devpts"), errno),
            Fail::DevPtsMount => step_error(format!("Can't mount devpts on {abs}/pts"), errno),
            Fail::DevPtmx => step_error(format!("Can't make symlink at {shown}/ptmx"), errno),
            Fail::DevConsole => step_error(format!("creating {shown}/console"), errno),
            Fail::DevConsoleBind => bound(self.console.as_ref()?, BindStep::from_sub(sub).1),
            other => return dest_error(&self.dest.shown, other, errno),
        })
    }
}

impl NewFsOp {
    fn describe(&self, fail: Fail, errno: i32) -> Option<FsError> {
        if fail != Fail::MountNewFs {
            return dest_error(&self.dest.shown, fail, errno);
        }
        let target = self.dest.abs_shown();
        Some(match self.kind {
            FsKind::Tmpfs => step_error(format!("Can't mount tmpfs on {target}"), errno),
            FsKind::Mqueue => step_error(format!("Can't mount mqueue on {target}"), errno),
            FsKind::Overlay => {
                let options = self
                    .data
                    .as_deref()
                    .map(|d| d.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let what = format!("Can't make overlay mount on {target} with options {options}");
                // strerror(ELOOP) says nothing useful here.
                if errno == Errno::LOOP.raw_os_error() {
                    FsError::Setup(format!("{what}: Overlay directories may not overlap"))
                } else {
                    step_error(what, errno)
                }
            }
        })
    }
}

impl DirOp {
    fn describe(&self, fail: Fail, errno: i32) -> Option<FsError> {
        dest_error(&self.dest.shown, fail, errno)
    }
}

impl FileOp {
    fn describe(&self, fail: Fail, errno: i32) -> Option<FsError> {
        let shown = &self.dest.shown;
        match fail {
            Fail::FileCreate => Some(step_error(format!("Can't create file {shown}"), errno)),
            Fail::FileWrite => Some(step_error(
                format!("Can't write data to file {shown}"),
                errno,
            )),
            other => dest_error(&self.dest.shown, other, errno),
        }
    }
}

impl SymlinkOp {
    fn describe(&self, fail: Fail, errno: i32, detail: &str) -> Option<FsError> {
        let at = format!("Can't make symlink at {}", self.dest.shown);
        Some(match fail {
            Fail::SymlinkCreate => step_error(at, errno),
            Fail::SymlinkNotLink => {
                FsError::Setup(format!("{at}: destination exists and is not a symlink"))
            }
            Fail::SymlinkRead => step_error(
                format!("{at}: destination exists, and cannot read symlink target"),
                errno,
            ),
            Fail::SymlinkConflict => {
                FsError::Setup(format!("{at}: existing destination is {detail}"))
            }
            other => return dest_error(&self.dest.shown, other, errno),
        })
    }
}

impl ChmodOp {
    fn describe(&self, fail: Fail, errno: i32) -> Option<FsError> {
        (fail == Fail::Chmod).then(|| {
            step_error(
                format!("Can't chmod {} {}", c_octal(self.mode), self.dest.shown),
                errno,
            )
        })
    }
}

impl BindDataOp {
    fn describe(&self, fail: Fail, errno: i32) -> Option<FsError> {
        let shown = &self.dest.shown;
        let data_file = self.data_file.to_string_lossy();
        let target = self.dest.abs_shown();
        if let Some(step) = BindStep::of_kind(fail) {
            return Some(bind_error(&data_file, &target, step, errno));
        }
        Some(match fail {
            Fail::DataTmp => step_error(format!("Can't create tmpfile for {shown}"), errno),
            Fail::DataMode => step_error(
                format!(
                    "Can't set mode {} on file to be used for {shown}",
                    c_octal(self.mode)
                ),
                errno,
            ),
            Fail::FileWrite => step_error(format!("Can't write data to file {shown}"), errno),
            other => return dest_error(&self.dest.shown, other, errno),
        })
    }
}
