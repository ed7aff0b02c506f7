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
    for dir in layout.caller_dirs() {
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
        match kill::kill_and_remove(v2, &paths) {
            Ok(()) => report.removed.extend(dirs.into_iter().map(|(p, _)| p)),
            Err(e) => report.failed.push(e),
        }
    }
    Ok(report)
}
