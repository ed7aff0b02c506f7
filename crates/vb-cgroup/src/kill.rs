//! Emptying and removing cgroup directories, with bounded waits.
//!
//! v2 has `cgroup.kill`, which kills every member atomically (forks racing with it lose).
//! v1 has nothing of the kind, so members are signalled in rounds: read `cgroup.procs`,
//! SIGKILL each listed process, look again, until the lists are empty or the rounds run
//! out. A pid read from `cgroup.procs` may exit and be reused by an unrelated process before
//! the signal goes out; to never hit such a stranger, each pid is pinned with a pidfd first
//! and signalled only if it is still listed after pinning.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open, pidfd_send_signal};

use crate::cgroupfs::{CgroupFs, parse_pids, read_control, write_control};
use crate::error::{CgroupError, errno_of};

/// Signal rounds before giving up on a cgroup that will not empty.
pub(crate) const KILL_ROUNDS: u32 = 50;
/// The longest pause between rounds; earlier pauses are shorter (100 µs, doubling), so an
/// already-empty cgroup costs one read and a freshly killed one a few hundred microseconds.
/// With [`KILL_ROUNDS`] the whole loop is bounded by about one second.
const MAX_PAUSE: Duration = Duration::from_millis(20);
/// `rmdir` attempts on `EBUSY` (a member still exiting) before giving up.
const RMDIR_ATTEMPTS: u32 = 20;

fn pause(round: u32) {
    let micros = 100u64.saturating_mul(1u64 << round.min(16));
    std::thread::sleep(Duration::from_micros(micros).min(MAX_PAUSE));
}

/// The members of a cgroup; a directory that no longer exists has none.
fn members(dir: &Path) -> Result<Vec<i32>, CgroupError> {
    let file = dir.join("cgroup.procs");
    match read_control(&file) {
        Ok(text) => Ok(parse_pids(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(CgroupError::ReadControl {
            file,
            errno: errno_of(&e),
        }),
    }
}

/// Writes `cgroup.kill`; returns false when the kernel has none (before 5.14) or the
/// directory is already gone.
pub(crate) fn write_cgroup_kill(dir: &Path) -> Result<bool, CgroupError> {
    let file = dir.join("cgroup.kill");
    match write_control(&file, "1") {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CgroupError::Kill {
            file,
            errno: errno_of(&e),
        }),
    }
}

fn pin(pid: i32) -> Result<Option<OwnedFd>, Errno> {
    let Some(pid) = Pid::from_raw(pid) else {
        return Ok(None);
    };
    match pidfd_open(pid, PidfdFlags::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::SRCH) => Ok(None),
        Err(e) => Err(e),
    }
}

/// SIGKILLs every member of `dirs` until none is left, for at most [`KILL_ROUNDS`] rounds.
pub(crate) fn signal_until_empty(dirs: &[&Path]) -> Result<(), CgroupError> {
    for round in 0..KILL_ROUNDS {
        let mut any = false;
        for &dir in dirs {
            let listed = members(dir)?;
            if listed.is_empty() {
                continue;
            }
            any = true;
            let file = dir.join("cgroup.procs");
            let signal_error = |pid, errno| CgroupError::Signal {
                pid,
                file: file.clone(),
                errno,
            };
            let mut pinned = Vec::with_capacity(listed.len());
            for pid in listed {
                match pin(pid) {
                    Ok(Some(fd)) => pinned.push((pid, fd)),
                    Ok(None) => {}
                    Err(errno) => return Err(signal_error(pid, errno)),
                }
            }
            let still = members(dir)?;
            for (pid, fd) in pinned {
                if !still.contains(&pid) {
                    continue;
                }
                match pidfd_send_signal(&fd, Signal::KILL) {
                    Ok(()) | Err(Errno::SRCH) => {}
                    Err(errno) => return Err(signal_error(pid, errno)),
                }
            }
        }
        if !any {
            return Ok(());
        }
        pause(round);
    }
    for &dir in dirs {
        let remaining = members(dir)?.len();
        if remaining > 0 {
            return Err(CgroupError::KillTimeout {
                dir: dir.to_path_buf(),
                remaining,
                rounds: KILL_ROUNDS,
            });
        }
    }
    Ok(())
}

/// Removes a cgroup directory; an absent one counts as removed, and `EBUSY` (a member still
/// exiting) is retried a bounded number of times.
pub(crate) fn remove_dir(fs: &dyn CgroupFs, path: &Path) -> Result<(), CgroupError> {
    let mut attempt = 0;
    loop {
        match fs.remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && attempt + 1 < RMDIR_ATTEMPTS => {
                pause(attempt);
                attempt += 1;
            }
            Err(e) => {
                return Err(CgroupError::RemoveDir {
                    path: path.to_path_buf(),
                    errno: errno_of(&e),
                });
            }
        }
    }
}

/// Removes a sandbox's directories, killing whatever still runs in them first.
///
/// `rmdir` succeeds only on an empty cgroup, so it is tried first: after a normal exit that
/// is all it costs. Directories that answer `EBUSY` still hold processes; those get
/// `cgroup.kill` (if the v2 directory is among them) and the signal loop, then `rmdir` again.
/// Every directory is attempted; the first error is returned.
pub(crate) fn kill_and_remove(
    fs: &dyn CgroupFs,
    v2: Option<&Path>,
    dirs: &[&Path],
) -> Result<(), CgroupError> {
    let mut busy: Vec<&Path> = Vec::new();
    let mut first_error = None;
    for &dir in dirs {
        match fs.remove_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => busy.push(dir),
            Err(e) => {
                first_error.get_or_insert(CgroupError::RemoveDir {
                    path: dir.to_path_buf(),
                    errno: errno_of(&e),
                });
            }
        }
    }
    if !busy.is_empty() {
        // A busy directory may also hold child cgroups (a sandbox with a delegated cgroup
        // namespace can make them). v1 lists only direct members in cgroup.procs, so every
        // descendant is signalled too, and removed children-first.
        let mut all: Vec<PathBuf> = Vec::new();
        for &dir in &busy {
            match with_descendants(dir) {
                Ok(tree) => all.extend(tree),
                Err(e) => {
                    first_error.get_or_insert(e);
                    all.push(dir.to_path_buf());
                }
            }
        }
        let all_refs: Vec<&Path> = all.iter().map(PathBuf::as_path).collect();
        let v2_busy = v2.filter(|v| busy.contains(v));
        if let Err(e) = kill_all(v2_busy, &all_refs) {
            first_error.get_or_insert(e);
        }
        for dir in all_refs {
            if let Err(e) = remove_dir(fs, dir) {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The most cgroup directories one sandbox may hold for cleanup to follow them; past this a
/// [`CgroupError::ScanDir`] with `E2BIG` keeps removal bounded.
const MAX_TREE: usize = 4096;

/// `dir` and every cgroup directory below it, children before their parents.
fn with_descendants(dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let mut preorder = vec![dir.to_path_buf()];
    let mut next = 0;
    while let Some(current) = preorder.get(next).cloned() {
        next += 1;
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(CgroupError::ScanDir {
                    path: current,
                    errno: errno_of(&e),
                });
            }
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if preorder.len() >= MAX_TREE {
                    return Err(CgroupError::ScanDir {
                        path: dir.to_path_buf(),
                        errno: Errno::TOOBIG,
                    });
                }
                preorder.push(entry.path());
            }
        }
    }
    preorder.reverse();
    Ok(preorder)
}

/// `cgroup.kill` in the v2 directory if any, then the signal loop over `dirs` (which
/// includes the v2 directory) to catch what `cgroup.kill` cannot reach or to replace it.
pub(crate) fn kill_all(v2: Option<&Path>, dirs: &[&Path]) -> Result<(), CgroupError> {
    if let Some(dir) = v2 {
        write_cgroup_kill(dir)?;
    }
    signal_until_empty(dirs)
}
