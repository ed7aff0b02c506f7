//! Mount option strings, as bubblewrap builds them: tmpfs's, and
//! overlayfs's.
//!
//! Lower layers are declared bottom to top (`--overlay-src` order), while
//! overlayfs wants `lowerdir=` top first, so the list is reversed. Paths are
//! host paths under the old root; in the option string `\`, `,` and `:` are
//! escaped with a backslash, because overlayfs splits options on `,` and
//! layers on `:`. `userxattr` makes overlayfs keep its metadata in `user.*`
//! extended attributes, which works inside a user namespace.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{FsError, c_octal};

/// Append `path` to `out`, escaping the characters overlayfs splits on.
fn escape_into(out: &mut Vec<u8>, path: &[u8]) {
    for byte in path {
        if matches!(byte, b'\\' | b',' | b':') {
            out.push(b'\\');
        }
        out.push(*byte);
    }
}

/// Where an overlay's writes go.
pub(crate) enum Upper<'p> {
    /// Host directories (`--overlay`).
    Host { upper: &'p Path, work: &'p Path },
    /// Throwaway directories prepared by the root switch (`--tmp-overlay`):
    /// `<base>tmp-overlay-upper-<n>`.
    Tmp { base: &'p str, index: usize },
    /// None: a read-only overlay (`--ro-overlay`).
    ReadOnly,
}

/// The option string of an overlay with `lowers` (bottom to top, canonical
/// host paths) and `upper`; host paths get `old_prefix` in front.
pub(crate) fn overlay_options(
    old_prefix: &str,
    upper: &Upper<'_>,
    lowers: &[&Path],
) -> Result<CString, FsError> {
    let old = old_prefix.as_bytes();
    let mut out = Vec::new();
    match upper {
        Upper::Host { upper, work } => {
            out.extend_from_slice(b"upperdir=");
            out.extend_from_slice(old);
            escape_into(&mut out, upper.as_os_str().as_bytes());
            out.extend_from_slice(b",workdir=");
            out.extend_from_slice(old);
            escape_into(&mut out, work.as_os_str().as_bytes());
            out.push(b',');
        }
        Upper::Tmp { base, index } => {
            out.extend_from_slice(b"upperdir=");
            escape_into(
                &mut out,
                format!("{base}tmp-overlay-upper-{index}").as_bytes(),
            );
            out.extend_from_slice(b",workdir=");
            escape_into(
                &mut out,
                format!("{base}tmp-overlay-work-{index}").as_bytes(),
            );
            out.push(b',');
        }
        Upper::ReadOnly => {}
    }
    out.extend_from_slice(b"lowerdir=");
    for (i, lower) in lowers.iter().rev().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        out.extend_from_slice(old);
        escape_into(&mut out, lower.as_os_str().as_bytes());
    }
    out.extend_from_slice(b",userxattr");
    CString::new(out)
        .map_err(|_| FsError::Nul(lowers.first().map(|p| p.to_path_buf()).unwrap_or_default()))
}

/// bubblewrap's tmpfs options: `mode=%#o[,size=%zu]`, then the SELinux
/// `context="LABEL"` of `--file-label` when there is one.
pub(crate) fn tmpfs_options(perms: u32, size: Option<u64>, label: Option<&str>) -> String {
    let mut data = match size {
        Some(size) => format!("mode={},size={size}", c_octal(perms)),
        None => format!("mode={}", c_octal(perms)),
    };
    if let Some(label) = label {
        data.push_str(&format!(",context=\"{label}\""));
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(c: &CString) -> &str {
        c.to_str().unwrap()
    }

    #[test]
    fn lower_layers_are_listed_top_first() {
        let opts = overlay_options(
            "/oldroot",
            &Upper::ReadOnly,
            &[
                Path::new("/bottom"),
                Path::new("/middle"),
                Path::new("/top"),
            ],
        )
        .unwrap();
        assert_eq!(
            s(&opts),
            "lowerdir=/oldroot/top:/oldroot/middle:/oldroot/bottom,userxattr"
        );
    }

    #[test]
    fn separators_in_paths_are_escaped() {
        let opts = overlay_options(
            "/oldroot",
            &Upper::Host {
                upper: Path::new("/u,p"),
                work: Path::new("/w:k"),
            },
            &[Path::new(r"/a\b")],
        )
        .unwrap();
        assert_eq!(
            s(&opts),
            r"upperdir=/oldroot/u\,p,workdir=/oldroot/w\:k,lowerdir=/oldroot/a\\b,userxattr"
        );
    }

    #[test]
    fn tmp_overlays_write_to_the_setup_root() {
        let opts = overlay_options(
            "/oldroot",
            &Upper::Tmp {
                base: "/",
                index: 2,
            },
            &[Path::new("/l")],
        )
        .unwrap();
        assert_eq!(
            s(&opts),
            "upperdir=/tmp-overlay-upper-2,workdir=/tmp-overlay-work-2,lowerdir=/oldroot/l,userxattr"
        );
        let host = overlay_options(
            "",
            &Upper::Tmp {
                base: "/run/x/",
                index: 0,
            },
            &[Path::new("/l")],
        )
        .unwrap();
        assert_eq!(
            s(&host),
            "upperdir=/run/x/tmp-overlay-upper-0,workdir=/run/x/tmp-overlay-work-0,lowerdir=/l,userxattr"
        );
    }

    #[test]
    fn tmpfs_options_use_c_octal() {
        assert_eq!(tmpfs_options(0o755, None, None), "mode=0755");
        assert_eq!(
            tmpfs_options(0o1777, Some(4096), None),
            "mode=01777,size=4096"
        );
        assert_eq!(tmpfs_options(0, None, None), "mode=0");
        assert_eq!(
            tmpfs_options(0o755, None, Some("system_u:object_r:tmp_t:s0")),
            "mode=0755,context=\"system_u:object_r:tmp_t:s0\""
        );
    }
}
