//! The cgroup entries of `/proc/<pid>/mountinfo` (format in proc(5)).

use std::path::PathBuf;

/// Which cgroup file system a mount is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MountKind {
    /// A cgroup v1 hierarchy; the super-block options name its controllers.
    V1 {
        /// Super-block options (`rw`, `memory`, `name=systemd`, ...).
        options: Vec<String>,
    },
    /// The cgroup v2 unified hierarchy.
    V2,
}

/// One mounted cgroup file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupMount {
    /// The subtree of the hierarchy that is mounted (field 4).
    pub(crate) mount_root: PathBuf,
    /// Where it is mounted (field 5).
    pub(crate) mount_point: PathBuf,
    /// v1 or v2.
    pub(crate) kind: MountKind,
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;

    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |acc, &b| acc * 8 + u32::from(b - b'0'));
                // Three octal digits can exceed a byte (\777); such an escape is not one the
                // kernel writes, so it is kept literally.
                match u8::try_from(value) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 4;
                    }
                    Err(_) => {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

/// Parses one mountinfo line; `None` for lines that are not cgroup mounts or are malformed.
fn parse_line(line: &str) -> Option<CgroupMount> {
    let (before, after) = line.split_once(" - ")?;
    let fields: Vec<&str> = before.split(' ').collect();
    let mount_root = fields.get(3)?;
    let mount_point = fields.get(4)?;
    let mut tail = after.split(' ');
    let fs_type = tail.next()?;
    let _source = tail.next()?;
    let super_options = tail.next()?;
    let kind = match fs_type {
        "cgroup" => MountKind::V1 {
            options: super_options.split(',').map(str::to_owned).collect(),
        },
        "cgroup2" => MountKind::V2,
        _ => return None,
    };
    Some(CgroupMount {
        mount_root: unescape(mount_root),
        mount_point: unescape(mount_point),
        kind,
    })
}

/// Every cgroup and cgroup2 mount in a mountinfo text, in file order.
pub(crate) fn parse_cgroup_mounts(text: &str) -> Vec<CgroupMount> {
    text.lines().filter_map(parse_line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_and_v2_lines_and_skips_others() {
        let text = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
garbage line
";
        let mounts = parse_cgroup_mounts(text);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].mount_point, PathBuf::from("/sys/fs/cgroup/cpu"));
        assert_eq!(
            mounts[0].kind,
            MountKind::V1 {
                options: vec!["rw".into(), "cpu".into()]
            }
        );
        assert_eq!(mounts[1].kind, MountKind::V2);
    }

    #[test]
    fn unescapes_octal_sequences_in_paths() {
        let text = "1 0 0:1 /a\\040b /mnt/with\\040space\\134x rw - cgroup2 none rw\n";
        let mounts = parse_cgroup_mounts(text);
        assert_eq!(mounts[0].mount_root, PathBuf::from("/a b"));
        assert_eq!(mounts[0].mount_point, PathBuf::from("/mnt/with space\\x"));
    }
}
