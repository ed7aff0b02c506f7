//! Host paths as the plan names them: C strings, canonical paths, and paths
//! under the old root.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::FsError;
use crate::op::Layout;

/// `path` as a C string.
pub(super) fn cpath(path: &Path) -> Result<CString, FsError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| FsError::Nul(path.to_path_buf()))
}

/// `path` made absolute and free of symlinks, or bubblewrap's error for a
/// source that does not resolve.
pub(super) fn canonical(path: &Path) -> Result<PathBuf, FsError> {
    std::fs::canonicalize(path).map_err(|source| FsError::SourcePath {
        path: path.to_path_buf(),
        source,
    })
}

/// The host path `path` as setup sees it (under the old root).
pub(super) fn under_old_root(layout: &Layout, path: &Path) -> PathBuf {
    let mut out = PathBuf::from(layout.old_prefix);
    if out.as_os_str().is_empty() {
        return path.to_path_buf();
    }
    out.push(path.strip_prefix("/").unwrap_or(path));
    out
}
