//! Destinations inside the sandbox, prepared in the parent for the child.
//!
//! bubblewrap treats a destination as relative to the new root whatever its
//! leading slashes (`/a`, `a` and `//a` are the same place) and creates its
//! missing parents one component at a time. The child resolves every
//! component *inside* the new root (`openat2` with `RESOLVE_IN_ROOT`), so it
//! needs each parent prefix as its own NUL-terminated string; building them
//! here keeps the child free of allocation. A destination takes four
//! allocations (its message form, its setup path, its relative path, and
//! all its parents packed in one buffer), whatever its depth.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::FsError;
use crate::op::{Dest, Parents};

/// `parts` joined, as a C string, in one allocation of the exact size.
fn cstring(parts: &[&[u8]], shown: &Path) -> Result<CString, FsError> {
    let mut bytes = Vec::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 1);
    for part in parts {
        bytes.extend_from_slice(part);
    }
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
        let abs = cstring(
            &[root_abs.trim_end_matches('/').as_bytes(), b"/", stripped],
            dest,
        )?;
        let components = || stripped.split(|b| *b == b'/').filter(|c| !c.is_empty());
        // The path made of the components alone; most destinations are
        // written that way already.
        let rel = if components().next().is_none() {
            cstring(&[b"."], dest)?
        } else if stripped.ends_with(b"/") || stripped.windows(2).any(|w| w == b"//") {
            let joined: Vec<u8> = components().collect::<Vec<_>>().join(&b'/');
            cstring(&[&joined], dest)?
        } else {
            cstring(&[stripped], dest)?
        };
        let rel_bytes = rel.as_bytes();
        let name_at = rel_bytes
            .iter()
            .rposition(|b| *b == b'/')
            .map_or(0, |i| i + 1);
        // A trailing slash makes the last component a directory bubblewrap
        // creates along with the parents (its mkdir-with-parents loop stops
        // only at the final, empty, component).
        let parent_ends = rel_bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'/')
            .map(|(i, _)| i)
            .chain(
                (stripped.ends_with(b"/") && components().next().is_some())
                    .then_some(rel_bytes.len()),
            );
        let parents = Parents::new(parent_ends.map(|end| &rel_bytes[..end]));
        let plain = components().next().is_some()
            && components().all(|c| c != b".".as_slice() && c != b"..".as_slice());
        Ok(Self {
            shown: String::from_utf8_lossy(bytes).into_owned(),
            abs,
            rel,
            name_at,
            parents,
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
        let abs = self.abs.as_bytes();
        let slash: &[u8] = if abs.ends_with(b"/") { b"" } else { b"/" };
        cstring(&[abs, slash, name.as_bytes()], Path::new(&self.shown))
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
            assert_eq!(dest.name().to_str().unwrap(), "c");
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
        assert_eq!(dest.name().to_str().unwrap(), ".");
        assert_eq!(dest.parents.len(), 0);
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

    /// What a destination is made of, the plain way: components split and
    /// joined again, each parent its own pair of strings.
    fn reference(dest: &str) -> (String, String, Vec<(String, String)>, String) {
        let stripped = dest.trim_start_matches('/');
        let components: Vec<&str> = stripped.split('/').filter(|c| !c.is_empty()).collect();
        let count = if stripped.ends_with('/') {
            components.len()
        } else {
            components.len().saturating_sub(1)
        };
        let parents = (0..count)
            .map(|i| (components[..=i].join("/"), components[i].to_owned()))
            .collect();
        let rel = if components.is_empty() {
            ".".to_owned()
        } else {
            components.join("/")
        };
        let name = components.last().map_or(".", |c| c).to_owned();
        (format!("/newroot/{stripped}"), rel, parents, name)
    }

    fn check_against_reference(p: &str) {
        let dest = d(p);
        let (abs, rel, parents_want, name) = reference(p);
        assert_eq!(dest.abs.to_str().unwrap(), abs, "{p:?}");
        assert_eq!(dest.rel.to_str().unwrap(), rel, "{p:?}");
        assert_eq!(parents(&dest), parents_want, "{p:?}");
        assert_eq!(dest.name().to_str().unwrap(), name, "{p:?}");
        assert_eq!(dest.shown, p);
        assert_eq!(dest.parents.len(), parents_want.len());
        assert_eq!(
            dest.parents.last().map(|(p, n)| (
                p.to_str().unwrap().to_owned(),
                n.to_str().unwrap().to_owned()
            )),
            parents_want.last().cloned()
        );
    }

    #[test]
    fn every_form_of_a_destination_matches_its_components() {
        for p in [
            "",
            "/",
            "//",
            "/./",
            "/a",
            "a",
            "/a/",
            "/a//b",
            "//a//b//",
            "/a/./b",
            "/a/../b/",
            "/.",
            "/..",
            "/a/b/c/d/e",
            "./a",
            "/é/ü/",
        ] {
            check_against_reference(p);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_destination_matches_its_components(p in "[ab./]{0,12}") {
            check_against_reference(&p);
        }
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
