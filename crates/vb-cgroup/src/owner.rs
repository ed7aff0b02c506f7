//! Who owns a sandbox cgroup, and the directory names that record it.
//!
//! A sandbox cgroup is named `<prefix>-<pidns>-<pid>-<starttime>-<seq>`:
//! - `pidns`: the inode of the owner's PID namespace, so a sweep never judges an owner it
//!   cannot see (a pid from another namespace means nothing here);
//! - `pid` and `starttime` (field 22 of `/proc/<pid>/stat`, clock ticks since boot): together
//!   they identify the owner even after its pid is reused by another process;
//! - `seq`: a per-process counter, so names are unique across threads and repeated launches.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::error::{CgroupError, errno_of};

/// The name prefix used when a [`CgroupSpec`](crate::CgroupSpec) does not set one.
pub const DEFAULT_PREFIX: &str = "voidbox";

/// A process identity that survives pid reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// Inode of the process's PID namespace (0 when it could not be read).
    pub pidns: u64,
    /// The pid, as seen in that namespace.
    pub pid: u32,
    /// Start time in clock ticks since boot.
    pub start_time: u64,
}

/// A parsed sandbox cgroup name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxName {
    /// The process that created the cgroup.
    pub owner: Owner,
    /// The owner's sequence number for it.
    pub seq: u64,
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
/// The identity of this process, read once. A forked child (same memory, new pid) sees a pid
/// mismatch and reads its own.
static CURRENT: Mutex<Option<Owner>> = Mutex::new(None);

/// The fields of a `/proc/<pid>/stat` text from field 3 (state) on. The command name
/// (field 2) is in parentheses and may itself contain spaces and parentheses, so fields are
/// counted from the last `)`.
fn fields_after_comm(stat: &str) -> Option<impl Iterator<Item = &str>> {
    let after_comm = stat.get(stat.rfind(')')? + 1..)?;
    Some(after_comm.split_ascii_whitespace())
}

/// Field 22 (`starttime`) of a `/proc/<pid>/stat` text.
pub(crate) fn parse_start_time(stat: &str) -> Option<u64> {
    fields_after_comm(stat)?.nth(22 - 3)?.parse().ok()
}

/// True when field 3 (`state`) says the process has exited (zombie `Z`, dead `X`/`x`): it
/// can no longer clean anything up, even though its parent has not reaped it yet.
pub(crate) fn parse_exited(stat: &str) -> bool {
    fields_after_comm(stat)
        .and_then(|mut fields| fields.next())
        .is_some_and(|state| matches!(state, "Z" | "X" | "x"))
}

fn pidns_inode() -> u64 {
    // An unreadable namespace link (a restrictive procfs) yields 0; sweeps then only judge
    // names that also carry 0, which were written under the same restriction.
    std::fs::metadata("/proc/self/ns/pid").map_or(0, |m| m.ino())
}

impl Owner {
    /// This process, read once and cached (the identity cannot change while it runs).
    ///
    /// # Errors
    /// [`CgroupError::ReadProc`] or [`CgroupError::ParseProc`] for `/proc/self/stat`.
    pub fn current() -> Result<Owner, CgroupError> {
        let pid = std::process::id();
        let mut cached = CURRENT.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(owner) = *cached
            && owner.pid == pid
        {
            return Ok(owner);
        }
        let start_time = Owner::start_time_of(pid)?.ok_or(CgroupError::ParseProc {
            path: PathBuf::from("/proc/self/stat"),
            what: "the process vanished while reading its own stat".to_owned(),
        })?;
        let owner = Owner {
            pidns: pidns_inode(),
            pid,
            start_time,
        };
        *cached = Some(owner);
        Ok(owner)
    }

    /// The start time of `pid` in the caller's PID namespace, `None` when no such process
    /// exists.
    ///
    /// # Errors
    /// [`CgroupError::ReadProc`] for errors other than "no such process", and
    /// [`CgroupError::ParseProc`] for a stat line without field 22.
    pub fn start_time_of(pid: u32) -> Result<Option<u64>, CgroupError> {
        Ok(read_stat(pid)?.map(|(start_time, _)| start_time))
    }

    /// True when this owner still runs: the pid exists, has not exited, and its start time
    /// matches (a reused pid has a later one). The pid is looked up in the caller's PID
    /// namespace; compare [`Owner::pidns`] first.
    ///
    /// # Errors
    /// As [`Owner::start_time_of`].
    pub fn is_alive(&self) -> Result<bool, CgroupError> {
        Ok(read_stat(self.pid)?
            .is_some_and(|(start_time, exited)| start_time == self.start_time && !exited))
    }

    /// A fresh, unique directory name for a sandbox cgroup of this owner.
    pub fn next_name(&self, prefix: &str) -> String {
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        format!(
            "{prefix}-{}-{}-{}-{seq}",
            self.pidns, self.pid, self.start_time
        )
    }
}

/// `(starttime, exited)` of `pid`, `None` when no such process exists.
fn read_stat(pid: u32) -> Result<Option<(u64, bool)>, CgroupError> {
    let path = PathBuf::from(format!("/proc/{pid}/stat"));
    let text = match crate::cgroupfs::read_small_file(&path) {
        Ok(text) => text,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) => {
            return Ok(None);
        }
        Err(e) => {
            return Err(CgroupError::ReadProc {
                path,
                errno: errno_of(&e),
            });
        }
    };
    match parse_start_time(&text) {
        Some(start_time) => Ok(Some((start_time, parse_exited(&text)))),
        None => Err(CgroupError::ParseProc {
            path,
            what: "no starttime field".to_owned(),
        }),
    }
}

impl SandboxName {
    /// Parses a directory name made by [`Owner::next_name`] with the same `prefix`; `None`
    /// for any other name.
    pub fn parse(prefix: &str, name: &str) -> Option<SandboxName> {
        let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
        let mut parts = rest.split('-');
        let mut number = || -> Option<u64> {
            let part = parts.next()?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let pidns = number()?;
        let pid = u32::try_from(number()?).ok()?;
        let start_time = number()?;
        let seq = number()?;
        if parts.next().is_some() {
            return None;
        }
        Some(SandboxName {
            owner: Owner {
                pidns,
                pid,
                start_time,
            },
            seq,
        })
    }
}

/// Checks that `prefix` can start a directory name that [`SandboxName::parse`] reads back.
pub(crate) fn validate_prefix(prefix: &str) -> Result<(), CgroupError> {
    let reason = if prefix.is_empty() {
        Some("it is empty")
    } else if prefix.len() > 64 {
        Some("it is longer than 64 bytes")
    } else if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        Some("only ASCII letters, digits, '_' and '.' are allowed")
    } else if prefix.starts_with('.') {
        Some("it must not start with '.'")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(CgroupError::InvalidPrefix {
            prefix: prefix.to_owned(),
            reason,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_even_with_parentheses_in_the_name() {
        let stat =
            "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987_654));
        assert_eq!(parse_start_time("1 (x) S 1"), None);
        assert!(!parse_exited(stat));
        assert!(parse_exited("1234 (a) Z) Z 1 1234"));
        assert!(!parse_exited("garbage"));
    }

    #[test]
    fn an_exited_unreaped_owner_is_dead() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not reaped yet: a zombie keeps its pid and start time.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let zombie = loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            if parse_exited(&stat) {
                break stat;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the child never exited"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let owner = Owner {
            pidns: 0,
            pid,
            start_time: parse_start_time(&zombie).unwrap(),
        };
        assert!(!owner.is_alive().unwrap());
        child.wait().unwrap();
    }

    #[test]
    fn current_owner_is_alive_and_a_reused_pid_is_not() {
        let me = Owner::current().unwrap();
        assert_eq!(me.pid, std::process::id());
        assert!(me.is_alive().unwrap());
        let reused = Owner {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(!reused.is_alive().unwrap());
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        let owner = Owner {
            pidns: 4_026_531_836,
            pid: 42,
            start_time: 777,
        };
        let a = owner.next_name("voidbox");
        let b = owner.next_name("voidbox");
        assert_ne!(a, b);
        let parsed = SandboxName::parse("voidbox", &a).unwrap();
        assert_eq!(parsed.owner, owner);
        assert_eq!(SandboxName::parse("other", &a), None);
        assert_eq!(SandboxName::parse("voidbox", "voidbox-1-2-3"), None);
        assert_eq!(SandboxName::parse("voidbox", "voidbox-1-2-3-4-5"), None);
        assert_eq!(SandboxName::parse("voidbox", "voidbox-1-x-3-4"), None);
        assert_eq!(SandboxName::parse("voidbox", "voidboxx-1-2-3-4"), None);
    }

    #[test]
    fn prefixes_are_single_safe_components() {
        assert!(validate_prefix("voidbox").is_ok());
        assert!(validate_prefix("my_app.v2").is_ok());
        for bad in ["", "a/b", "..", ".hidden", "a-b", "spa ce"] {
            assert!(validate_prefix(bad).is_err(), "{bad:?} accepted");
        }
    }
}
