//! Compiling an [`FsSpec`] into a [`MountPlan`], in the parent.
//!
//! Everything that bad input can make fail fails here, before anything is
//! created: sources are canonicalised in action order first (bubblewrap
//! resolves them all before setup, so its first message is about the first
//! bad source), then data descriptors are read, then the operations are
//! built with every path, option string and byte the child will use.

use std::collections::HashMap;
use std::ffi::CString;
use std::io::ErrorKind;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::mount::MountFlags;

use crate::action::{BindMode, FsAction};
use crate::bind::bind_flags;
use crate::error::FsError;
use crate::fsmount::{MAX_TMPFS_BYTES, tmpfs_options};
use crate::op::{
    BindDataOp, BindOp, ChmodOp, Dest, DevOp, DirOp, FileOp, FsKind, FsMountOp, HOST, Layout, Op,
    ProcOp, RemountOp, STAGED, SymlinkOp,
};
use crate::overlay::{self, Upper};
use crate::plan::{DetailPipe, MountPlan, under_old_root};
use crate::root::RootDir;
use crate::spec::{FsSpec, RootSource};
use crate::stage::{Artifacts, push_fd, read_source};

/// Where the new root is staged before the switch: the first of these that
/// is a directory. The staging tmpfs lives only in the sandbox's mount
/// namespace.
const STAGING_CANDIDATES: [&str; 4] = ["/tmp", "/run", "/mnt", "/var/tmp"];

fn cpath(path: &Path) -> Result<CString, FsError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| FsError::Nul(path.to_path_buf()))
}

fn canonical(path: &Path) -> Result<PathBuf, FsError> {
    std::fs::canonicalize(path).map_err(|source| FsError::SourcePath {
        path: path.to_path_buf(),
        source,
    })
}

/// The `--rootfs` directory: one lookup, through a descriptor, gives both
/// the canonical path the child looks for and the identity it must find
/// there (a second lookup could land somewhere else).
fn resolve_root(dir: &Path) -> Result<RootDir, FsError> {
    use rustix::fs::{Mode, OFlags};
    use std::os::fd::AsRawFd;
    let err = |source| FsError::Rootfs {
        path: dir.to_path_buf(),
        source,
    };
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(dir, flags, Mode::empty()).map_err(|e| err(e.into()))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| err(e.into()))?;
    let path = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(err)?;
    Ok(RootDir {
        path,
        dev: st.st_dev,
        ino: st.st_ino,
    })
}

pub(crate) fn staging_dir() -> Result<PathBuf, FsError> {
    STAGING_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .ok_or_else(|| FsError::NoStagingDir {
            tried: STAGING_CANDIDATES.join(", "),
        })
}

/// What pass 1 found for an action.
enum Resolved {
    /// Nothing to resolve.
    Plain,
    /// A `-try` bind whose source does not exist: skipped, as bubblewrap
    /// skips it (its destination is not even created).
    Skip,
    /// The canonical source of a bind.
    Source(PathBuf),
    /// An overlay's canonical directories; lowers bottom to top.
    Overlay {
        upper_work: Option<(PathBuf, PathBuf)>,
        lowers: Vec<PathBuf>,
    },
}

fn overlay_need(action: &FsAction) -> Option<(&'static str, usize, &'static str)> {
    match action {
        FsAction::Overlay { .. } => Some(("--overlay", 1, "one")),
        FsAction::TmpOverlay { .. } => Some(("--tmp-overlay", 1, "one")),
        FsAction::RoOverlay { .. } => Some(("--ro-overlay", 2, "two")),
        _ => None,
    }
}

/// Pass 1: canonical sources, in order.
fn resolve(spec: &FsSpec) -> Result<Vec<Resolved>, FsError> {
    let mut layers: HashMap<&str, &Path> = HashMap::new();
    let mut out = Vec::with_capacity(spec.actions.len());
    for action in &spec.actions {
        let resolved = match action {
            FsAction::Bind { src, optional, .. } => match std::fs::canonicalize(src) {
                Ok(path) => Resolved::Source(path),
                Err(e) if *optional && e.kind() == ErrorKind::NotFound => Resolved::Skip,
                Err(source) => {
                    return Err(FsError::SourcePath {
                        path: src.clone(),
                        source,
                    });
                }
            },
            FsAction::BindFd { fd, .. } => Resolved::Source(canonical(Path::new(&format!(
                "/proc/self/fd/{}",
                fd.as_raw_fd()
            )))?),
            FsAction::OverlaySrc { key, path } => {
                layers.insert(key.as_str(), path.as_path());
                Resolved::Plain
            }
            FsAction::Overlay { sources, .. }
            | FsAction::TmpOverlay { sources, .. }
            | FsAction::RoOverlay { sources, .. } => {
                let (option, needed, word) =
                    overlay_need(action).unwrap_or(("--overlay", 1, "one"));
                if sources.len() < needed {
                    return Err(FsError::OverlaySources {
                        option,
                        needed: word,
                    });
                }
                let paths = sources
                    .iter()
                    .map(|key| {
                        layers.get(key.as_str()).copied().ok_or_else(|| {
                            FsError::UnknownOverlaySource {
                                option,
                                key: key.clone(),
                            }
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                // bubblewrap resolves the upper and work directories first,
                // then the layers top to bottom.
                let upper_work = match action {
                    FsAction::Overlay { upper, work, .. } => {
                        Some((canonical(upper)?, canonical(work)?))
                    }
                    _ => None,
                };
                let mut lowers = paths
                    .iter()
                    .rev()
                    .map(|p| canonical(p))
                    .collect::<Result<Vec<_>, _>>()?;
                lowers.reverse();
                Resolved::Overlay { upper_work, lowers }
            }
            FsAction::Chmod { mode, .. } if *mode > 0o7777 => {
                return Err(FsError::Mode { option: "--chmod" });
            }
            FsAction::Tmpfs { perms, .. }
            | FsAction::Dir { perms, .. }
            | FsAction::File { perms, .. }
            | FsAction::BindData { perms, .. }
                if perms.is_some_and(|p| p > 0o7777) =>
            {
                return Err(FsError::Mode { option: "--perms" });
            }
            FsAction::Tmpfs {
                size: Some(size), ..
            } if *size > MAX_TMPFS_BYTES => {
                return Err(FsError::TmpfsSize {
                    size: *size,
                    max: MAX_TMPFS_BYTES,
                });
            }
            _ => Resolved::Plain,
        };
        out.push(resolved);
    }
    Ok(out)
}

/// Everything the operation builders share.
struct Ctx<'a> {
    spec: &'a FsSpec,
    layout: Layout,
    new_root: &'a str,
    /// Where staged data and tmp-overlay layers go, with a trailing `/`.
    stage_base: String,
    tmp_overlay_index: usize,
    /// The descriptors the actions consume, each once.
    fds: Vec<Arc<OwnedFd>>,
}

impl Ctx<'_> {
    fn dest(&self, path: &Path) -> Result<Dest, FsError> {
        Dest::new(path, self.new_root)
    }

    fn old(&self, host: &Path) -> Result<CString, FsError> {
        cpath(&under_old_root(&self.layout, host))
    }

    fn op(
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
                    source_shown: source.display().to_string(),
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
                    source_shown: source.display().to_string(),
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
            FsAction::Proc { dest } => Op::Proc(ProcOp::new(
                self.dest(dest)?,
                self.spec.mount_proc,
                self.layout.host_proc,
            )?),
            FsAction::Dev { dest } => Op::Dev(DevOp::new(
                self.dest(dest)?,
                self.layout.old_prefix,
                self.spec.console.as_deref(),
                self.spec.mount_label.as_deref(),
            )?),
            FsAction::Tmpfs { dest, size, perms } => {
                let perms = perms.unwrap_or(0o755);
                let data = tmpfs_options(perms, *size, self.spec.mount_label.as_deref());
                Op::Mount(FsMountOp {
                    dest: self.dest(dest)?.with_perms(perms),
                    kind: FsKind::Tmpfs,
                    flags: MountFlags::NOSUID | MountFlags::NODEV,
                    data: Some(CString::new(data).unwrap_or_default()),
                })
            }
            FsAction::Mqueue { dest } => Op::Mount(FsMountOp {
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
                if let crate::action::DataSource::Fd(fd) = source {
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
                if let crate::action::DataSource::Fd(fd) = source {
                    push_fd(&mut self.fds, fd);
                }
                let mode = perms.unwrap_or(0o600);
                let mode_flags = if *read_only {
                    BindMode::ReadOnly
                } else {
                    BindMode::ReadWrite
                };
                let staged = format!("{}bindfile{index}", self.stage_base);
                Op::BindData(BindDataOp {
                    dest: self.dest(dest)?.with_perms(mode),
                    mode,
                    data,
                    set: bind_flags(mode_flags),
                    staged: cpath(Path::new(&staged))?,
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
        let base = self.stage_base.clone();
        let upper = match (&upper_work, upper) {
            (Some((upper, work)), _) => Upper::Host { upper, work },
            (None, Some(index)) => Upper::Tmp { base: &base, index },
            (None, None) => Upper::ReadOnly,
        };
        let data = overlay::options(self.layout.old_prefix, &upper, &lowers)?;
        Ok(Op::Mount(FsMountOp {
            dest: self.dest(dest)?,
            kind: FsKind::Overlay,
            flags: MountFlags::empty(),
            data: Some(data),
        }))
    }
}

pub(crate) fn compile(spec: &FsSpec) -> Result<MountPlan, FsError> {
    let host = spec.root == RootSource::Host;
    let layout = if host { HOST } else { STAGED };
    let root_dir = match &spec.root {
        RootSource::Dir(dir) => Some(resolve_root(dir)?),
        _ => {
            for (set, option) in [
                (spec.rootfs_dev, "rootfs_dev"),
                (spec.rootfs_suid, "rootfs_suid"),
            ] {
                if set {
                    return Err(FsError::RootfsOption { option });
                }
            }
            None
        }
    };
    let staging = if host { PathBuf::new() } else { staging_dir()? };
    let resolved = resolve(spec)?;

    let mut plan = MountPlan::new(layout, spec.mount_api);
    let tmp_overlays = spec
        .actions
        .iter()
        .filter(|a| matches!(a, FsAction::TmpOverlay { .. }))
        .count();
    let needs_stage = tmp_overlays > 0
        || spec
            .actions
            .iter()
            .any(|a| matches!(a, FsAction::BindData { .. }));
    if host && needs_stage {
        plan.artifacts = Artifacts::create()?;
    }
    let stage_base = match plan.artifacts.dir() {
        Some(dir) => format!("{}/", dir.display()),
        None => "/".to_owned(),
    };
    let host_stage = plan.artifacts.dir().map(Path::to_path_buf);
    plan.compile_root_start(
        spec,
        &staging,
        root_dir.as_ref(),
        tmp_overlays,
        host_stage.as_deref(),
    )?;
    let new_root = layout.new_root.to_str().unwrap_or("/");
    let mut ctx = Ctx {
        spec,
        layout,
        new_root,
        stage_base,
        tmp_overlay_index: 0,
        fds: Vec::new(),
    };
    for (action, resolved) in spec.actions.iter().zip(resolved) {
        let index = plan.len();
        if let Some(op) = ctx.op(action, resolved, index)? {
            plan.push(op);
        }
    }
    if !ctx.fds.is_empty() {
        plan.push(Op::CloseFds(
            ctx.fds.iter().map(|fd| fd.as_raw_fd()).collect(),
        ));
        plan.fds = std::mem::take(&mut ctx.fds);
    }
    plan.compile_root_end(spec);
    if spec
        .actions
        .iter()
        .any(|a| matches!(a, FsAction::Symlink { .. }))
    {
        plan.detail = Some(DetailPipe::new()?);
    }
    Ok(plan)
}
