//! Pass 1: every source made canonical, in action order, and the inputs
//! bubblewrap refuses before setup refused here.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::canonical::SourceDirs;
use super::path::canonical;
use crate::action::FsAction;
use crate::error::FsError;
use crate::spec::FsSpec;

/// The largest tmpfs size bubblewrap accepts: `SIZE_MAX / 2`.
const MAX_TMPFS_BYTES: u64 = u64::MAX / 2;

/// What pass 1 found for an action.
pub(super) enum Resolved {
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

fn overlay_need(action: &FsAction) -> Option<(&'static str, usize)> {
    match action {
        FsAction::Overlay { .. } => Some(("Overlay", 1)),
        FsAction::TmpOverlay { .. } => Some(("TmpOverlay", 1)),
        FsAction::RoOverlay { .. } => Some(("RoOverlay", 2)),
        _ => None,
    }
}

/// Pass 1: canonical sources, in order.
pub(super) fn resolve(spec: &FsSpec) -> Result<Vec<Resolved>, FsError> {
    let mut layers: HashMap<&str, &Path> = HashMap::new();
    let mut source_dirs = SourceDirs::default();
    let mut out = Vec::with_capacity(spec.actions.len());
    for action in &spec.actions {
        let resolved = match action {
            FsAction::Bind { src, optional, .. } => match source_dirs.canonicalize(src) {
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
                let (name, needed) = overlay_need(action).unwrap_or(("Overlay", 1));
                if sources.len() < needed {
                    return Err(FsError::OverlaySources {
                        action: name,
                        needed,
                    });
                }
                let paths = sources
                    .iter()
                    .map(|key| {
                        layers.get(key.as_str()).copied().ok_or_else(|| {
                            FsError::UnknownOverlaySource {
                                action: name,
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
                return Err(FsError::Mode {
                    field: "FsAction::Chmod mode",
                });
            }
            FsAction::Tmpfs { perms, .. }
            | FsAction::Dir { perms, .. }
            | FsAction::File { perms, .. }
            | FsAction::BindData { perms, .. }
                if perms.is_some_and(|p| p > 0o7777) =>
            {
                return Err(FsError::Mode { field: "perms" });
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
