//! Destinations inside the sandbox, prepared in the parent for the child.
//!
//! bubblewrap treats a destination as relative to the new root whatever its
//! leading slashes (`/a`, `a` and `//a` are the same place) and creates its
//! missing parents one component at a time. The child resolves every
//! component *inside* the new root (`openat2` with `RESOLVE_IN_ROOT`), so it
//! needs each parent prefix as its own NUL-terminated string; building them
//! here keeps the child free of allocation.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::FsError;
use crate::op::Dest;

fn cstring(bytes: Vec<u8>, shown: &Path) -> Result<CString, FsError> {
    CString::new(bytes).map_err(|_| FsError::Nul(shown.to_path_buf()))
}

impl Dest {
    /// `dest` under a new root whose setup-time path is `root_abs` (`/newroot`
    /// or `/`).
    pub(crate) fn new(dest: &Path, root_abs: &str) -> Result<Self, FsError> {
        let bytes = dest.as_os_str().as_bytes();
        let stripped: &[u8] = {
            let start = bytes.iter().position(|b| *b != b'/').unwrap_or(bytes.len());
            &bytes[start..]
        };
        let mut abs = root_abs.trim_end_matches('/').as_bytes().to_vec();
        abs.push(b'/');
        abs.extend_from_slice(stripped);

        let components: Vec<&[u8]> = stripped
            .split(|b| *b == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        // A trailing slash makes the last component a directory bubblewrap
        // creates along with the parents (its mkdir-with-parents loop stops
        // only at the final, empty, component).
        let trailing = stripped.ends_with(b"/");
        let parent_count = if trailing {
            components.len()
        } else {
            components.len().saturating_sub(1)
        };
        let mut parents = Vec::with_capacity(parent_count);
        let mut prefix: Vec<u8> = Vec::new();
        for component in components.iter().take(parent_count) {
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(component);
            parents.push((
                cstring(prefix.clone(), dest)?,
                cstring(component.to_vec(), dest)?,
            ));
        }
        let rel = if components.is_empty() {
            b".".to_vec()
        } else {
            components.join(&b'/')
        };
        let name = components.last().map_or(b".".to_vec(), |c| c.to_vec());
        let plain = !components.is_empty()
            && components
                .iter()
                .all(|c| *c != b".".as_slice() && *c != b"..".as_slice());
        Ok(Self {
            shown: dest.display().to_string(),
            abs: cstring(abs, dest)?,
            rel: cstring(rel, dest)?,
            parents,
            name: cstring(name, dest)?,
            parent_mode: 0o700,
            plain,
        })
    }

    /// bubblewrap's rule for the parents of something created with mode
    /// `perms`: 0755, minus the group bits when `perms` grants the group
    /// nothing, minus the other bits when it grants others nothing. Actions
    /// without a mode of their own (binds, symlinks, `--proc`...) count as
    /// mode 0 there, so their parents are 0700: bubblewrap's observed
    /// behaviour, kept for parity.
    pub(crate) fn with_perms(mut self, perms: u32) -> Self {
        let mut mode = 0o755;
        if perms & 0o070 == 0 {
            mode &= !0o050;
        }
        if perms & 0o007 == 0 {
            mode &= !0o005;
        }
        self.parent_mode = mode;
        self
    }

    /// A path below the destination: `abs` plus `/name`.
    pub(crate) fn abs_child(&self, name: &str) -> Result<CString, FsError> {
        let mut bytes = self.abs.as_bytes().to_vec();
        if !bytes.ends_with(b"/") {
            bytes.push(b'/');
        }
        bytes.extend_from_slice(name.as_bytes());
        cstring(bytes, Path::new(&self.shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(p: &str) -> Dest {
        Dest::new(Path::new(p), "/newroot").unwrap()
    }

    fn parents(dest: &Dest) -> Vec<(String, String)> {
        dest.parents
            .iter()
            .map(|(p, n)| {
                (
                    p.to_string_lossy().into_owned(),
                    n.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn leading_slashes_do_not_matter() {
        for p in ["/a/b/c", "a/b/c", "//a//b/c"] {
            let dest = d(p);
            assert_eq!(dest.rel.to_str().unwrap(), "a/b/c");
            assert_eq!(dest.name.to_str().unwrap(), "c");
            assert_eq!(
                parents(&dest),
                vec![("a".into(), "a".into()), ("a/b".into(), "b".into())]
            );
            assert_eq!(dest.parent_rel().to_str().unwrap(), "a/b");
        }
        assert_eq!(d("/a/b/c").abs.to_str().unwrap(), "/newroot/a/b/c");
        assert_eq!(d("a").abs.to_str().unwrap(), "/newroot/a");
    }

    #[test]
    fn the_root_is_dot_with_no_parents() {
        let dest = d("/");
        assert_eq!(dest.rel.to_str().unwrap(), ".");
        assert_eq!(dest.name.to_str().unwrap(), ".");
        assert!(dest.parents.is_empty());
        assert_eq!(dest.parent_rel().to_str().unwrap(), ".");
        assert_eq!(dest.abs.to_str().unwrap(), "/newroot/");
    }

    #[test]
    fn a_trailing_slash_creates_the_last_component_as_a_parent() {
        let dest = d("/a/b/");
        assert_eq!(
            parents(&dest),
            vec![("a".into(), "a".into()), ("a/b".into(), "b".into())]
        );
        assert_eq!(dest.rel.to_str().unwrap(), "a/b");
        assert_eq!(dest.parent_rel().to_str().unwrap(), "a");
    }

    #[test]
    fn host_layout_paths_are_absolute_from_slash() {
        let dest = Dest::new(Path::new("/x/y"), "/").unwrap();
        assert_eq!(dest.abs.to_str().unwrap(), "/x/y");
        assert_eq!(dest.abs_child("z").unwrap().to_str().unwrap(), "/x/y/z");
    }

    #[test]
    fn parents_of_private_files_hide_from_group_and_others() {
        assert_eq!(d("/a/b").parent_mode, 0o700);
        assert_eq!(d("/a/b").with_perms(0o755).parent_mode, 0o755);
        assert_eq!(d("/a/b").with_perms(0o600).parent_mode, 0o700);
        assert_eq!(d("/a/b").with_perms(0o640).parent_mode, 0o750);
        assert_eq!(d("/a/b").with_perms(0o604).parent_mode, 0o705);
        assert_eq!(d("/a/b").with_perms(0o666).parent_mode, 0o755);
    }

    #[test]
    fn only_paths_of_plain_names_are_plain() {
        for p in ["/a", "a/b", "//a//b/", "/a/.b/..c"] {
            assert!(d(p).plain, "{p}");
        }
        for p in ["/", "", "/.", "/..", "/a/../b", "/a/./b", "a/.."] {
            assert!(!d(p).plain, "{p}");
        }
    }

    #[test]
    fn nul_bytes_are_refused() {
        use std::os::unix::ffi::OsStrExt;
        let p = std::ffi::OsStr::from_bytes(b"/a\0b");
        assert!(matches!(
            Dest::new(Path::new(p), "/newroot"),
            Err(FsError::Nul(_))
        ));
    }
}
