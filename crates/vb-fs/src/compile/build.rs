//! Pass 2: each action into its operation, with every path, option string
//! and byte the child will use.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::mount::MountFlags;

use super::data::{push_fd, read_source};
use super::options::{Upper, overlay_options, tmpfs_options};
use super::path::{cpath, cpath_under_old_root};
use super::resolve::Resolved;
use crate::action::{BindMode, DataSource, FsAction};
use crate::error::FsError;
use crate::op::{
    BindDataOp, BindOp, COVERED, ChmodOp, Dest, DevBind, DevOp, DirOp, FileOp, FsKind, Layout,
    NODES, NewFsOp, Op, ProcOp, RemountOp, SymlinkOp,
};
use crate::spec::FsSpec;

/// A host path as messages show it.
fn shown(path: &Path) -> String {
    String::from_utf8_lossy(path.as_os_str().as_bytes()).into_owned()
}

/// The flags a bind adds to every mount it copies.
fn bind_flags(mode: BindMode) -> MountFlags {
    match mode {
        BindMode::ReadWrite => MountFlags::NOSUID | MountFlags::NODEV,
        BindMode::ReadOnly => MountFlags::NOSUID | MountFlags::NODEV | MountFlags::RDONLY,
        BindMode::Dev => MountFlags::NOSUID,
    }
}

/// Everything the operation builders share.
pub(super) struct Ctx<'a> {
    pub(super) spec: &'a FsSpec,
    pub(super) layout: Layout,
    pub(super) new_root: &'a str,
    /// Where data files and tmp-overlay layers go, with a trailing `/`.
    pub(super) artifact_base: String,
    pub(super) tmp_overlay_index: usize,
    /// The descriptors the actions consume, each once.
    pub(super) fds: Vec<Arc<OwnedFd>>,
}

impl Ctx<'_> {
    fn dest(&self, path: &Path) -> Result<Dest, FsError> {
        Dest::new(path, self.new_root)
    }

    fn old(&self, host: &Path) -> Result<CString, FsError> {
        cpath_under_old_root(&self.layout, host)
    }

    /// The operation for `action`, or none for an action that makes none
    /// (an `--overlay-src`, a skipped `-try` bind).
    pub(super) fn op(
        &mut self,
        action: &FsAction,
        resolved: Resolved,
        index: usize,
    ) -> Result<Option<Op>, FsError> {
        let source = match resolved {
            Resolved::Skip => return Ok(None),
            Resolved::Source(path) => Some(path),
            Resolved::Plain => None,
            Resolved::Overlay { upper_work, lowers } => {
                let (dest, tmp) = match action {
                    FsAction::TmpOverlay { dest, .. } => (dest, true),
                    FsAction::Overlay { dest, .. } | FsAction::RoOverlay { dest, .. } => {
                        (dest, false)
                    }
                    _ => return Ok(None),
                };
                return self.overlay(dest, upper_work, tmp, &lowers).map(Some);
            }
        };
        let op = match action {
            FsAction::Bind {
                dest,
                mode,
                optional,
                ..
            } => {
                let source = source.unwrap_or_default();
                Op::Bind(BindOp {
                    source_shown: shown(&source),
                    source: self.old(&source)?,
                    dest: self.dest(dest)?,
                    set: bind_flags(*mode),
                    optional: *optional,
                    fd: None,
                })
            }
            FsAction::BindFd {
                fd,
                dest,
                read_only,
            } => {
                let source = source.unwrap_or_default();
                push_fd(&mut self.fds, fd);
                let mode = if *read_only {
                    BindMode::ReadOnly
                } else {
                    BindMode::ReadWrite
                };
                Op::Bind(BindOp {
                    source_shown: shown(&source),
                    source: self.old(&source)?,
                    dest: self.dest(dest)?,
                    set: bind_flags(mode),
                    optional: false,
                    fd: Some(fd.as_raw_fd()),
                })
            }
            FsAction::RemountRo { dest } => Op::RemountRo(RemountOp {
                dest: self.dest(dest)?,
            }),
            FsAction::Proc { dest } => Op::Proc(proc_op(
                self.dest(dest)?,
                self.spec.mount_proc,
                self.layout.host_proc,
            )?),
            FsAction::Dev { dest } => Op::Dev(dev_op(
                self.dest(dest)?,
                self.layout.old_prefix,
                self.spec.console.as_deref(),
                self.spec.mount_label.as_deref(),
            )?),
            FsAction::Tmpfs { dest, size, perms } => {
                let perms = perms.unwrap_or(0o755);
                let data = tmpfs_options(perms, *size, self.spec.mount_label.as_deref());
                Op::NewFs(NewFsOp {
                    dest: self.dest(dest)?.with_perms(perms),
                    kind: FsKind::Tmpfs,
                    flags: MountFlags::NOSUID | MountFlags::NODEV,
                    data: Some(CString::new(data).unwrap_or_default()),
                })
            }
            FsAction::Mqueue { dest } => Op::NewFs(NewFsOp {
                dest: self.dest(dest)?,
                kind: FsKind::Mqueue,
                flags: MountFlags::empty(),
                data: None,
            }),
            FsAction::Dir { dest, perms } => {
                let mode = perms.unwrap_or(0o755);
                Op::Dir(DirOp {
                    dest: self.dest(dest)?.with_perms(mode),
                    mode,
                })
            }
            FsAction::File {
                source,
                dest,
                perms,
            } => {
                let data = read_source(source, dest)?;
                if let DataSource::Fd(fd) = source {
                    push_fd(&mut self.fds, fd);
                }
                let mode = perms.unwrap_or(0o666);
                Op::File(FileOp {
                    dest: self.dest(dest)?.with_perms(mode),
                    mode,
                    data,
                })
            }
            FsAction::BindData {
                source,
                dest,
                perms,
                read_only,
            } => {
                let data = read_source(source, dest)?;
                if let DataSource::Fd(fd) = source {
                    push_fd(&mut self.fds, fd);
                }
                let mode = perms.unwrap_or(0o600);
                let mode_flags = if *read_only {
                    BindMode::ReadOnly
                } else {
                    BindMode::ReadWrite
                };
                let data_file = format!("{}bindfile{index}", self.artifact_base);
                Op::BindData(BindDataOp {
                    dest: self.dest(dest)?.with_perms(mode),
                    mode,
                    data,
                    set: bind_flags(mode_flags),
                    data_file: cpath(Path::new(&data_file))?,
                })
            }
            FsAction::Symlink { target, link } => Op::Symlink(SymlinkOp {
                target: cpath(target)?,
                dest: self.dest(link)?,
            }),
            FsAction::Chmod { path, mode } => Op::Chmod(ChmodOp {
                dest: self.dest(path)?,
                mode: *mode,
            }),
            FsAction::OverlaySrc { .. }
            | FsAction::Overlay { .. }
            | FsAction::TmpOverlay { .. }
            | FsAction::RoOverlay { .. } => return Ok(None),
        };
        Ok(Some(op))
    }

    fn overlay(
        &mut self,
        dest: &Path,
        upper_work: Option<(PathBuf, PathBuf)>,
        tmp: bool,
        lowers: &[PathBuf],
    ) -> Result<Op, FsError> {
        let lowers: Vec<&Path> = lowers.iter().map(PathBuf::as_path).collect();
        let upper = tmp.then(|| {
            let index = self.tmp_overlay_index;
            self.tmp_overlay_index += 1;
            index
        });
        let base = self.artifact_base.clone();
        let upper = match (&upper_work, upper) {
            (Some((upper, work)), _) => Upper::Host { upper, work },
            (None, Some(index)) => Upper::Tmp { base: &base, index },
            (None, None) => Upper::ReadOnly,
        };
        let data = overlay_options(self.layout.old_prefix, &upper, &lowers)?;
        Ok(Op::NewFs(NewFsOp {
            dest: self.dest(dest)?,
            kind: FsKind::Overlay,
            flags: MountFlags::empty(),
            data: Some(data),
        }))
    }
}

/// A `--dev`: `old_prefix` is where host paths are during setup; `console` the
/// host terminal of stdout.
fn dev_op(
    dest: Dest,
    old_prefix: &str,
    console: Option<&std::path::Path>,
    label: Option<&str>,
) -> Result<DevOp, FsError> {
    let host = |path: &str| {
        CString::new(format!("{old_prefix}{path}")).map_err(|_| FsError::Nul(path.into()))
    };
    let nodes = NODES
        .iter()
        .map(|name| {
            let name = name.to_string_lossy();
            Ok(DevBind {
                source: host(&format!("/dev/{name}"))?,
                abs: dest.abs_child(&name)?,
            })
        })
        .collect::<Result<_, FsError>>()?;
    let console = match console {
        Some(tty) => Some(DevBind {
            source: host(&tty.to_string_lossy())?,
            abs: dest.abs_child("console")?,
        }),
        None => None,
    };
    Ok(DevOp {
        dest,
        nodes,
        console,
        data: CString::new(tmpfs_options(0o755, None, label))
            .map_err(|_| FsError::Nul("file_label".into()))?,
    })
}

/// A `--proc`: a fresh procfs or a bind of the host's `host`.
fn proc_op(dest: Dest, fresh: bool, host: &'static CStr) -> Result<ProcOp, FsError> {
    let covered_abs = COVERED
        .iter()
        .map(|name| dest.abs_child(&name.to_string_lossy()))
        .collect::<Result<_, _>>()?;
    Ok(ProcOp {
        dest,
        fresh,
        host,
        covered_abs,
    })
}
