//! `/proc/<pid>/cgroup`: which cgroup a process belongs to in each hierarchy (cgroups(7)).

use std::path::PathBuf;

/// One line: `hierarchy-ID:controller-list:cgroup-path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Membership {
    /// The controllers bound to the hierarchy (empty for the v2 line `0::`); named
    /// hierarchies appear as `name=...`.
    pub(crate) controllers: Vec<String>,
    /// The cgroup path, relative to the hierarchy's root (and to the reader's cgroup
    /// namespace).
    pub(crate) path: PathBuf,
}

impl Membership {
    /// The v2 line has hierarchy ID 0 and an empty controller list.
    pub(crate) fn is_unified(&self) -> bool {
        self.controllers.is_empty()
    }
}

/// Parses the text of `/proc/<pid>/cgroup`. Lines that do not have three fields are
/// returned as `Err(line number)` so the caller can name them.
pub(crate) fn parse_memberships(text: &str) -> Result<Vec<Membership>, usize> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        // The path is last and may itself contain ':'.
        let mut fields = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(index + 1);
        };
        if !path.starts_with('/') {
            return Err(index + 1);
        }
        out.push(Membership {
            controllers: controllers
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            path: PathBuf::from(path),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_and_v2_lines() {
        let text = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/a:b\n";
        let m = parse_memberships(text).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[1].controllers, vec!["memory".to_owned()]);
        assert_eq!(m[1].path, PathBuf::from("/process_api/abc"));
        assert_eq!(
            m[2].controllers,
            vec!["cpu".to_owned(), "cpuacct".to_owned()]
        );
        assert!(m[3].is_unified());
        assert_eq!(m[3].path, PathBuf::from("/a:b"));
    }

    #[test]
    fn names_the_malformed_line() {
        assert_eq!(parse_memberships("0::/\nnonsense\n"), Err(2));
        assert_eq!(parse_memberships("4:memory:relative\n"), Err(1));
    }
}
