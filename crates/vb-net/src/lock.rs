//! The per-bridge lock that serialises every change to a bridge, its leases and its NAT
//! rules across processes, and the small state kept in the lock file.
//!
//! One file per bridge and host network namespace, `<state dir>/<netns inode>-<bridge>.lock`,
//! locked with `flock(LOCK_EX)`. Everything that decides from the kernel's state and then
//! changes it (creating the bridge, picking an address and creating its veth, counting
//! the bridge's users and removing it) happens under that lock, so concurrent launches
//! see each other's results. The lock is released when its descriptor closes, so a
//! process killed while holding it releases it too.
//!
//! The file is removed together with the bridge. A process that waited for the lock of a
//! removed file notices (the path no longer names the inode it locked) and starts over.
//!
//! The file's content is a cache, not a registry: the probing hint and what NAT rules
//! were installed for which bridge. Losing or corrupting it costs a redundant rule
//! replacement, never a wrong lease (leases live in the kernel, see `lease.rs`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::FlockOperation;
use rustix::io::Errno;

use crate::error::Error;

/// How long to wait for another process's setup or teardown on the same bridge.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// How many times to start over when the locked file was removed meanwhile.
const MAX_REOPENS: usize = 64;

/// The state kept in the lock file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BridgeState {
    /// Where the next address search starts.
    pub(crate) next: Option<u32>,
    /// The NAT rules installed for the bridge, as a key describing them (see `nat.rs`).
    pub(crate) nat: Option<String>,
    /// The bridge's latest sandbox asked to keep it after its last user: a sweep of idle
    /// bridges leaves it alone.
    pub(crate) keep: bool,
    /// The bridge was being created: recorded before the request that creates it and
    /// cleared once it carries voidbox's alias (the kernel ignores an alias in the
    /// creating request, so the two cannot be one step). Still set, it means the creator
    /// was killed in between: an unmarked bridge of that name is voidbox's.
    pub(crate) creating: bool,
}

impl BridgeState {
    /// Parses the file's lines; unknown or malformed lines are ignored.
    pub(crate) fn parse(text: &str) -> Self {
        let mut state = Self::default();
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("next", v)) => state.next = v.trim().parse().ok(),
                Some(("nat", v)) if !v.trim().is_empty() => state.nat = Some(v.trim().to_owned()),
                Some(("keep", v)) => state.keep = v.trim() == "1",
                Some(("creating", v)) => state.creating = v.trim() == "1",
                _ => {}
            }
        }
        state
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if let Some(next) = self.next {
            out.push_str(&format!("next {next}\n"));
        }
        if let Some(nat) = &self.nat {
            out.push_str(&format!("nat {nat}\n"));
        }
        if self.keep {
            out.push_str("keep 1\n");
        }
        if self.creating {
            out.push_str("creating 1\n");
        }
        out
    }
}

/// A held bridge lock. Dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct BridgeLock {
    file: File,
    path: PathBuf,
}

impl BridgeLock {
    /// The lock file's path for `bridge` in the host namespace with inode `netns`.
    pub(crate) fn path(state_dir: &Path, netns: u64, bridge: &str) -> PathBuf {
        state_dir.join(format!("{netns}-{bridge}.lock"))
    }

    /// Creates the state directory if needed and takes the lock, waiting up to 30 s.
    pub(crate) fn acquire(state_dir: &Path, netns: u64, bridge: &str) -> Result<Self, Error> {
        std::fs::create_dir_all(state_dir)
            .map_err(Error::io("creating the network state directory", state_dir))?;
        let path = Self::path(state_dir, netns, bridge);
        let deadline = Instant::now() + LOCK_TIMEOUT;
        for _ in 0..MAX_REOPENS {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_CLOEXEC)
                .open(&path)
                .map_err(Error::io("opening the bridge lock", &path))?;
            wait_for_lock(&file, &path, deadline)?;
            // The holder before us may have removed the file with the bridge: then this
            // lock guards nothing, and the path must be opened again.
            if still_at(&file, &path)? {
                return Ok(Self { file, path });
            }
        }
        Err(Error::LockTimeout {
            path,
            secs: LOCK_TIMEOUT.as_secs(),
        })
    }

    /// Takes the lock of an existing lock file without waiting: `None` when another
    /// process holds it (it is at work on the bridge and will release it itself) or the
    /// file is gone.
    pub(crate) fn try_acquire(
        state_dir: &Path,
        netns: u64,
        bridge: &str,
    ) -> Result<Option<Self>, Error> {
        let path = Self::path(state_dir, netns, bridge);
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("opening the bridge lock", &path)(e)),
        };
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(Errno::WOULDBLOCK | Errno::INTR) => return Ok(None),
            Err(errno) => {
                return Err(Error::io("locking", &path)(std::io::Error::from(errno)));
            }
        }
        Ok(still_at(&file, &path)?.then_some(Self { file, path }))
    }

    /// The bridges that have a lock file for the host namespace with inode `netns`.
    pub(crate) fn bridges(state_dir: &Path, netns: u64) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(state_dir) else {
            return Vec::new();
        };
        let ns = netns.to_string();
        entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let (id, bridge) = name.strip_suffix(".lock")?.split_once('-')?;
                (id == ns && !bridge.is_empty()).then(|| bridge.to_owned())
            })
            .collect()
    }

    /// Reads the state (empty when the file is new or unreadable as text).
    pub(crate) fn read_state(&mut self) -> Result<BridgeState, Error> {
        let mut text = String::new();
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.read_to_string(&mut text))
            .map(|_| BridgeState::parse(&text))
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    Ok(BridgeState::default())
                } else {
                    Err(Error::io("reading the bridge state", &self.path)(e))
                }
            })
    }

    /// Replaces the state in one `pwrite` at offset 0, padded with empty lines over
    /// whatever the file held beyond it: a process killed at any moment leaves either
    /// the old state or the new one, never an empty file (a truncate and a write would)
    /// that forgets the NAT rules to remove.
    pub(crate) fn write_state(&mut self, state: &BridgeState) -> Result<(), Error> {
        let mut bytes = state.render().into_bytes();
        self.file
            .metadata()
            .and_then(|m| {
                let held = usize::try_from(m.len()).unwrap_or(usize::MAX);
                if bytes.len() < held {
                    bytes.resize(held, b'\n');
                }
                self.file.write_all_at(&bytes, 0)
            })
            .map_err(Error::io("writing the bridge state", &self.path))
    }

    /// Removes the lock file (with the bridge), then releases the lock.
    pub(crate) fn remove(self) -> Result<(), Error> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("removing the bridge lock", &self.path)(e)),
        }
    }
}

/// Whether the path still names the locked file (the holder before may have removed it
/// with its bridge).
fn still_at(file: &File, path: &Path) -> Result<bool, Error> {
    let locked = file
        .metadata()
        .map_err(Error::io("checking the bridge lock", path))?;
    match std::fs::metadata(path) {
        Ok(now) => Ok(now.ino() == locked.ino() && now.dev() == locked.dev()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("checking the bridge lock", path)(e)),
    }
}

/// Takes the exclusive lock, polling with a growing pause so that a stuck holder turns
/// into [`Error::LockTimeout`] instead of a hang.
fn wait_for_lock(file: &File, path: &Path, deadline: Instant) -> Result<(), Error> {
    let mut pause = Duration::from_micros(50);
    loop {
        match rustix::fs::flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(()),
            Err(Errno::WOULDBLOCK | Errno::INTR) => {}
            Err(errno) => {
                return Err(Error::io("locking", path)(std::io::Error::from(errno)));
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::LockTimeout {
                path: path.to_owned(),
                secs: LOCK_TIMEOUT.as_secs(),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vb-net-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn state_round_trips_and_tolerates_garbage() {
        let s = BridgeState {
            next: Some(17),
            nat: Some("nft 4 eth0 10.88.0.0/16 -".into()),
            keep: true,
            creating: true,
        };
        assert_eq!(BridgeState::parse(&s.render()), s);
        assert_eq!(BridgeState::parse(&format!("{}\n\n\n", s.render())), s);
        assert_eq!(BridgeState::parse(""), BridgeState::default());
        assert_eq!(
            BridgeState::parse("next banana\nweird line\nnat \n"),
            BridgeState::default()
        );
    }

    #[test]
    fn the_lock_excludes_other_holders_and_keeps_state() {
        let dir = tempdir("exclusion");
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (dir, inside) = (dir.clone(), inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        let mut lock = BridgeLock::acquire(&dir, 1, "br0").unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "alone inside");
                        let mut state = lock.read_state().unwrap();
                        state.next = Some(state.next.unwrap_or(0) + 1);
                        lock.write_state(&state).unwrap();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut lock = BridgeLock::acquire(&dir, 1, "br0").unwrap();
        assert_eq!(
            lock.read_state().unwrap().next,
            Some(160),
            "no update was lost"
        );
        lock.remove().unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn a_shorter_state_replaces_a_longer_one_in_place() {
        let dir = tempdir("shrink");
        let mut lock = BridgeLock::acquire(&dir, 1, "br0").unwrap();
        let long = BridgeState {
            next: Some(123_456),
            nat: Some("nft 4 eth0 10.88.0.0/16 fd00::/64".into()),
            keep: true,
            creating: false,
        };
        lock.write_state(&long).unwrap();
        assert_eq!(lock.read_state().unwrap(), long);
        let short = BridgeState {
            next: Some(2),
            ..BridgeState::default()
        };
        lock.write_state(&short).unwrap();
        assert_eq!(lock.read_state().unwrap(), short);
        lock.remove().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn try_acquire_gives_way_to_a_holder_and_lists_this_namespaces_bridges() {
        let dir = tempdir("try");
        assert!(
            BridgeLock::try_acquire(&dir, 1, "br0").unwrap().is_none(),
            "no file"
        );
        let held = BridgeLock::acquire(&dir, 1, "br0").unwrap();
        let other = BridgeLock::acquire(&dir, 2, "br-x").unwrap();
        assert!(
            BridgeLock::try_acquire(&dir, 1, "br0").unwrap().is_none(),
            "held"
        );
        drop(held);
        let taken = BridgeLock::try_acquire(&dir, 1, "br0").unwrap();
        assert!(taken.is_some());
        assert_eq!(BridgeLock::bridges(&dir, 1), ["br0"]);
        assert_eq!(BridgeLock::bridges(&dir, 2), ["br-x"]);
        assert!(BridgeLock::bridges(&dir, 3).is_empty());
        taken.unwrap().remove().unwrap();
        other.remove().unwrap();
        assert!(BridgeLock::bridges(&dir.join("missing"), 1).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_waiter_on_a_removed_file_starts_over() {
        let dir = tempdir("removed");
        let first = BridgeLock::acquire(&dir, 1, "br0").unwrap();
        let waiter = {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut lock = BridgeLock::acquire(&dir, 1, "br0").unwrap();
                let state = lock.read_state().unwrap();
                lock.write_state(&BridgeState {
                    next: Some(5),
                    ..state
                })
                .unwrap();
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        first.remove().unwrap();
        waiter.join().unwrap();
        let path = BridgeLock::path(&dir, 1, "br0");
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            "next 5\n",
            "the waiter wrote to the file at the path, not to the removed one"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
