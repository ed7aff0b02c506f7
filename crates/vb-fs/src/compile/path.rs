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

/// [`under_old_root`] as a C string. A canonical path (absolute, plain
/// names) is put under the old root in one allocation of the exact size;
/// any other takes the general way.
pub(super) fn cpath_under_old_root(layout: &Layout, path: &Path) -> Result<CString, FsError> {
    let bytes = path.as_os_str().as_bytes();
    let canonical = bytes == b"/"
        || (bytes.starts_with(b"/")
            && bytes[1..]
                .split(|b| *b == b'/')
                .all(|name| !name.is_empty() && name != b"." && name != b".."));
    if !canonical || bytes.contains(&0) {
        return cpath(&under_old_root(layout, path));
    }
    let prefix = layout.old_prefix.as_bytes();
    let mut out = Vec::with_capacity(prefix.len() + bytes.len() + 1);
    out.extend_from_slice(prefix);
    out.extend_from_slice(bytes);
    CString::new(out).map_err(|_| FsError::Nul(path.to_path_buf()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{HOST, NEW_ROOT};

    #[test]
    fn canonical_paths_go_under_the_old_root_as_any_path_does() {
        for layout in [NEW_ROOT, HOST] {
            for path in [
                "/",
                "/usr",
                "/tmp/b3/d2",
                "//usr",
                "/usr/",
                "/a/./b",
                "/a/../b",
                "rel/x",
                "",
                "/é",
            ] {
                let path = Path::new(path);
                assert_eq!(
                    cpath_under_old_root(&layout, path).unwrap(),
                    cpath(&under_old_root(&layout, path)).unwrap(),
                    "{path:?}"
                );
            }
        }
    }
}
