//! User and group id maps for a new user namespace, written by the parent while
//! the child waits at the gate.
//!
//! One id is mapped: the caller's real uid (gid) outside to the requested sandbox
//! uid (gid) inside. `setgroups` is denied first, which the kernel requires
//! before an unprivileged process may write a gid map, and which keeps the
//! sandbox from dropping supplementary groups used to deny it access.

use std::io::Write;
use std::path::PathBuf;

use rustix::process::Pid;

/// A single-id mapping `inside outside 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMapping {
    /// The id inside the sandbox.
    pub inside: u32,
    /// The id outside (the caller's).
    pub outside: u32,
}

impl IdMapping {
    /// The map file's text.
    pub fn line(&self) -> String {
        format!("{} {} 1\n", self.inside, self.outside)
    }
}

/// The uid and gid mappings that give the sandbox `setup` (uid, gid) inside
/// for the caller's real `caller` (uid, gid) outside.
pub(crate) fn onto_caller(setup: (u32, u32), caller: (u32, u32)) -> (IdMapping, IdMapping) {
    (
        IdMapping {
            inside: setup.0,
            outside: caller.0,
        },
        IdMapping {
            inside: setup.1,
            outside: caller.1,
        },
    )
}

/// What a process writes to map itself into the user namespace it has just
/// made, as paths under a `/proc` directory: `setgroups` denied first, then
/// its uid and gid maps. (The kernel takes a one-line map from the process
/// itself when the outside id is its own.)
pub(crate) fn own_map_writes(
    uid: IdMapping,
    gid: IdMapping,
) -> [(&'static std::ffi::CStr, Vec<u8>); 3] {
    [
        (c"self/setgroups", b"deny".to_vec()),
        (c"self/uid_map", uid.line().into_bytes()),
        (c"self/gid_map", gid.line().into_bytes()),
    ]
}

/// Writing an id-map file failed.
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct IdMapError {
    /// The file being written.
    pub path: PathBuf,
    /// The failure.
    #[source]
    pub source: std::io::Error,
}

fn write_proc_file(pid: Pid, name: &str, text: &str) -> Result<(), IdMapError> {
    let path = PathBuf::from(format!("/proc/{}/{name}", pid.as_raw_nonzero()));
    let err = |source| IdMapError {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(err)?;
    // The kernel takes a map in exactly one write(2); write_all on a short write
    // would send a second, which it rejects, so a partial write is an error too.
    let written = file.write(text.as_bytes()).map_err(err)?;
    if written != text.len() {
        return Err(err(std::io::Error::from(std::io::ErrorKind::WriteZero)));
    }
    Ok(())
}

/// Deny `setgroups` and write the uid and gid maps of `pid`'s user namespace.
pub fn write_id_maps(pid: Pid, uid: IdMapping, gid: IdMapping) -> Result<(), IdMapError> {
    match write_proc_file(pid, "setgroups", "deny") {
        // Kernels before 3.19 have no setgroups file and need no denial.
        Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => {}
        other => other?,
    }
    write_proc_file(pid, "uid_map", &uid.line())?;
    write_proc_file(pid, "gid_map", &gid.line())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_line_is_inside_outside_count() {
        let m = IdMapping {
            inside: 0,
            outside: 1000,
        };
        assert_eq!(m.line(), "0 1000 1\n");
    }
}
