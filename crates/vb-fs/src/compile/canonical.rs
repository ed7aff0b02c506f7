//! Canonical bind sources, with the directories that hold them remembered.
//!
//! `realpath(3)` reads the link of every prefix of its path: for a thousand
//! sources side by side (`/srv/a/1`, `/srv/a/2`...) that is the same
//! `/srv` and `/srv/a` again and again. Here the canonical form of a
//! source's directory is resolved once per compile, and a source whose last
//! name is not a symlink is that directory's canonical form plus the name:
//! one `readlink` instead of one per component. Anything else (a relative
//! path, `.` or `..`, doubled or trailing slashes, a final symlink, an error)
//! goes to `realpath` itself, so the result, and the error, are what
//! `realpath` gives.

use std::collections::HashMap;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rustix::io::Errno;

/// The longest path `realpath` returns, with its NUL.
const PATH_MAX: usize = libc::PATH_MAX as usize;

/// The canonical forms of source directories, for one compile.
#[derive(Debug, Default)]
pub(super) struct SourceDirs {
    /// Source directory as written, and its canonical form.
    dirs: HashMap<Vec<u8>, PathBuf>,
}

impl SourceDirs {
    /// `path` made absolute and free of symlinks, as `std::fs::canonicalize`
    /// would make it.
    pub(super) fn canonicalize(&mut self, path: &Path) -> io::Result<PathBuf> {
        if let Some(found) = self.through_dir(path) {
            return Ok(found);
        }
        std::fs::canonicalize(path)
    }

    /// The canonical form of `path` from the one of its directory, when its
    /// last name exists and is not a symlink; `None` where `realpath` must
    /// decide.
    fn through_dir(&mut self, path: &Path) -> Option<PathBuf> {
        let (dir, name) = split_plain(path.as_os_str().as_bytes())?;
        let dir_canonical = match self.dirs.get(dir) {
            Some(found) => found,
            None => {
                let found = if dir == b"/" {
                    PathBuf::from("/")
                } else {
                    std::fs::canonicalize(Path::new(std::ffi::OsStr::from_bytes(dir))).ok()?
                };
                self.dirs.entry(dir.to_vec()).or_insert(found)
            }
        };
        let base = dir_canonical.as_os_str().as_bytes();
        let mut joined = Vec::with_capacity(base.len() + 1 + name.len());
        joined.extend_from_slice(base);
        if !joined.ends_with(b"/") {
            joined.push(b'/');
        }
        joined.extend_from_slice(name);
        // realpath refuses a result that does not fit PATH_MAX.
        if joined.len() >= PATH_MAX - 1 {
            return None;
        }
        let joined = PathBuf::from(std::ffi::OsString::from_vec(joined));
        // EINVAL: the name exists and is not a symlink, the only case where
        // realpath appends it as it is.
        let mut buf = [0u8; 1];
        match rustix::fs::readlinkat_raw(rustix::fs::CWD, &joined, &mut buf[..]) {
            Err(Errno::INVAL) => Some(joined),
            _ => None,
        }
    }
}

/// `path` as its directory and last name, when it is absolute, made of
/// plain names (no `.`, `..` or empty ones, no trailing slash), free of NUL
/// and short enough for `realpath`.
fn split_plain(path: &[u8]) -> Option<(&[u8], &[u8])> {
    if path.len() >= PATH_MAX - 1 || !path.starts_with(b"/") || path.contains(&0) {
        return None;
    }
    let plain = path[1..]
        .split(|b| *b == b'/')
        .all(|name| !name.is_empty() && name != b"." && name != b"..");
    if !plain {
        return None;
    }
    let slash = path.iter().rposition(|b| *b == b'/')?;
    let dir = if slash == 0 {
        &path[..1]
    } else {
        &path[..slash]
    };
    Some((dir, &path[slash + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_paths_of_plain_names_take_the_directory_route() {
        assert_eq!(
            split_plain(b"/a/b/c"),
            Some((b"/a/b".as_slice(), b"c".as_slice()))
        );
        assert_eq!(
            split_plain(b"/usr"),
            Some((b"/".as_slice(), b"usr".as_slice()))
        );
        for path in [
            "", "/", "a/b", "/a//b", "/a/b/", "/a/./b", "/a/../b", "/a/..", "./a", "/a\0b",
        ] {
            assert_eq!(split_plain(path.as_bytes()), None, "{path:?}");
        }
    }

    /// A scratch tree with symlinks in every place that matters.
    fn tree() -> PathBuf {
        use std::os::unix::fs::symlink;
        let base = std::env::temp_dir().join(format!("vb-fs-canonical-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("real/sub")).unwrap();
        std::fs::write(base.join("real/file"), b"").unwrap();
        symlink("real", base.join("dirlink")).unwrap();
        symlink("real/sub", base.join("real/sublink")).unwrap();
        symlink("/", base.join("real/rootlink")).unwrap();
        symlink("nowhere", base.join("real/dangling")).unwrap();
        symlink("loop", base.join("real/loop")).unwrap();
        base
    }

    #[test]
    fn every_source_resolves_as_realpath_resolves_it() {
        let base = tree();
        let b = base.display();
        let mut dirs = SourceDirs::default();
        let paths = [
            format!("{b}/real/sub"),
            format!("{b}/real/file"),
            format!("{b}/dirlink/sub"),
            format!("{b}/dirlink/file"),
            format!("{b}/real/sublink"),
            format!("{b}/dirlink/sublink"),
            format!("{b}/real/rootlink"),
            format!("{b}/real/dangling"),
            format!("{b}/real/loop"),
            format!("{b}/real/missing"),
            format!("{b}/missing/x"),
            format!("{b}/real/file/x"),
            format!("{b}/real/sub/"),
            format!("{b}/real/../real/sub"),
            format!("{b}/real//sub"),
            "/".to_owned(),
            "/tmp".to_owned(),
            "relative/path".to_owned(),
        ];
        // Twice: the second round goes through the remembered directories.
        for _ in 0..2 {
            for path in &paths {
                let want = std::fs::canonicalize(path);
                let got = dirs.canonicalize(Path::new(path));
                match (want, got) {
                    (Ok(want), Ok(got)) => assert_eq!(got, want, "{path}"),
                    (Err(want), Err(got)) => {
                        assert_eq!(got.raw_os_error(), want.raw_os_error(), "{path}");
                    }
                    (want, got) => panic!("{path}: {got:?} where realpath gives {want:?}"),
                }
            }
        }
        // Sources whose last name is no symlink went through their
        // directory; the others were left to realpath.
        for (path, through) in [
            ("real/sub", true),
            ("dirlink/file", true),
            ("real/sublink", false),
            ("real/missing", false),
        ] {
            let path = base.join(path);
            assert_eq!(dirs.through_dir(&path).is_some(), through, "{path:?}");
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}
