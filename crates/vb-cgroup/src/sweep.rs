//! Removing sandbox cgroups whose owner has died.
//!
//! A launcher that is SIGKILLed never runs its cleanup. Its sandbox cgroups keep the owner's
//! identity in their names (see [`Owner`]), so the next launcher can tell them apart from
//! those of live processes: a name whose owner pid is gone, or belongs to a process that
//! started at another time (the pid was reused), is stale. Names from another PID namespace
//! are left alone, since their owner cannot be judged from here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{CgroupError, errno_of};
use crate::hierarchy::CgroupLayout;
use crate::kill;
use crate::owner::{Owner, SandboxName};

/// What a sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Directories removed.
    pub removed: Vec<PathBuf>,
    /// Stale sandboxes that could not be emptied or removed (the sweep went on with the
    /// others).
    pub failed: Vec<CgroupError>,
    /// Sandbox directories left alone because their owner still runs or lives in another
    /// PID namespace.
    pub kept: usize,
}

/// Sandbox directories named with `prefix` directly under `dir`.
fn sandbox_entries(dir: &Path, prefix: &str) -> Result<Vec<(String, SandboxName)>, CgroupError> {
    let scan_error = |e: std::io::Error| CgroupError::ScanDir {
        path: dir.to_path_buf(),
        errno: errno_of(&e),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // The caller's cgroup itself may vanish (it was moved); nothing to sweep there.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(scan_error(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(scan_error)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some(parsed) = SandboxName::parse(prefix, &name) {
            out.push((name, parsed));
        }
    }
    Ok(out)
}

/// Kills the members of, and removes, every `prefix`-named sandbox cgroup under the caller's
/// cgroups in `layout` whose owner is gone. The unified-hierarchy directory of a stale
/// sandbox gets `cgroup.kill` first.
///
/// Call it once at startup (a launcher that was SIGKILLed leaves cgroups behind); it costs a
/// directory listing per hierarchy when nothing is stale.
///
/// # Errors
/// [`CgroupError::ScanDir`] when a caller directory cannot be listed, and owner lookup
/// errors ([`CgroupError::ReadProc`]) other than "no such process".
pub fn sweep_stale(layout: &CgroupLayout, prefix: &str) -> Result<SweepReport, CgroupError> {
    let me = Owner::current()?;
    let unified_dir = layout.unified().map(|u| u.caller_dir.as_path());

    // name → (owner, [(dir, is_v2)]): one sandbox spans several hierarchies.
    let mut sandboxes: BTreeMap<String, (SandboxName, Vec<(PathBuf, bool)>)> = BTreeMap::new();
    for dir in layout.sandbox_parent_dirs() {
        let is_v2 = Some(dir) == unified_dir;
        for (name, parsed) in sandbox_entries(dir, prefix)? {
            sandboxes
                .entry(name.clone())
                .or_insert_with(|| (parsed, Vec::new()))
                .1
                .push((dir.join(&name), is_v2));
        }
    }

    let mut report = SweepReport::default();
    for (parsed, dirs) in sandboxes.into_values() {
        let owner = parsed.owner;
        if owner.pidns != me.pidns || owner.is_alive()? {
            report.kept += dirs.len();
            continue;
        }
        let v2 = dirs.iter().find(|(_, v2)| *v2).map(|(p, _)| p.as_path());
        let paths: Vec<&Path> = dirs.iter().map(|(p, _)| p.as_path()).collect();
        match kill::kill_and_remove(&*layout.fs, v2, &paths) {
            Ok(()) => report.removed.extend(dirs.into_iter().map(|(p, _)| p)),
            Err(e) => report.failed.push(e),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mockfs::MockHost;

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn sweep_removes_dead_owners_and_keeps_live_ones() {
        let host = MockHost::hybrid();
        let me = Owner::current().unwrap();
        let dead = Owner {
            pid: dead_pid(),
            start_time: 1,
            ..me
        };
        let reused = Owner {
            start_time: me.start_time + 1,
            ..me
        };
        let foreign_ns = Owner {
            pidns: me.pidns + 1,
            pid: dead_pid(),
            ..me
        };
        let names = [
            dead.next_name("voidbox"),
            reused.next_name("voidbox"),
            me.next_name("voidbox"),
            foreign_ns.next_name("voidbox"),
            dead.next_name("other"),
        ];
        let parents = ["memory/process_api/abc", "pids", "unified"];
        for parent in parents {
            for name in &names {
                std::fs::create_dir(host.path(parent).join(name)).unwrap();
            }
        }
        let report = sweep_stale(&host.layout, "voidbox").unwrap();
        assert_eq!(report.failed, vec![]);
        assert_eq!(report.removed.len(), 6, "{report:?}");
        assert_eq!(report.kept, 6);
        for parent in parents {
            let dir = host.path(parent);
            assert!(!dir.join(&names[0]).exists(), "dead owner");
            assert!(!dir.join(&names[1]).exists(), "reused pid");
            assert!(dir.join(&names[2]).exists(), "live owner");
            assert!(dir.join(&names[3]).exists(), "other pid namespace");
            assert!(dir.join(&names[4]).exists(), "other prefix");
        }
        // A second sweep finds nothing more to do.
        let again = sweep_stale(&host.layout, "voidbox").unwrap();
        assert!(again.removed.is_empty());
    }
}
