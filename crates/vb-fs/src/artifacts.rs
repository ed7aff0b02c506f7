//! The artifact directory: where a plan keeps files on the host while the
//! sandbox runs, when it has no root switch.
//!
//! `--bind-data` writes its content to a hidden data file, binds it, and
//! unlinks it, as bubblewrap does: with a root switch the file lives in the
//! setup root (a tmpfs that nothing outside the sandbox's mount namespace
//! can see), so nothing is left on the host at all. Without a root switch
//! ([`RootSource::Host`](crate::RootSource)) data files and `--tmp-overlay`
//! layers need a host directory: the parent creates a private one
//! ([`Artifacts`]) and removes it when the sandbox is over; directories of
//! owners that died without removing theirs are swept on the next creation.
//!
//! The temporary directory is shared with every local user, so removal never
//! follows a symlink: each level of a tree is opened `O_NOFOLLOW` relative
//! to its parent's descriptor, its mode is changed through that descriptor,
//! and entries are removed with `unlinkat` relative to it. A directory
//! swapped for a symlink mid-walk is unlinked as a symlink, never entered.
//! The sweep takes only trees owned by the effective uid.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use crate::error::FsError;

/// What artifact directories are called (in the temporary directory).
const PREFIX: &str = ".vb-fs-";

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// A plan's artifact directory, removed by
/// [`Artifacts::remove`] (or on drop).
#[derive(Debug, Default)]
pub(crate) struct Artifacts {
    dir: Option<PathBuf>,
}

impl Artifacts {
    /// Create a private (0700) directory in the temporary directory, first
    /// sweeping those of dead owners.
    pub(crate) fn create() -> Result<Self, FsError> {
        let base = std::env::temp_dir();
        let base = std::fs::canonicalize(&base).map_err(|source| FsError::ArtifactDir {
            path: base.clone(),
            source,
        })?;
        sweep(&base);
        let pid = std::process::id();
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = base.join(format!("{PREFIX}{pid}-{seq}-{nanos:x}"));
        let mut builder = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|source| FsError::ArtifactDir {
                path: dir.clone(),
                source,
            })?;
        Ok(Self { dir: Some(dir) })
    }

    pub(crate) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Remove the directory and everything in it; later calls do nothing.
    pub(crate) fn remove(&mut self) -> Result<(), FsError> {
        match self.dir.take() {
            Some(dir) => remove_tree(&dir).map_err(|source| FsError::Cleanup { path: dir, source }),
            None => Ok(()),
        }
    }
}

impl Drop for Artifacts {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}

/// How deep [`remove_at`] goes before it gives up: far below `PATH_MAX`
/// depths a sandbox creates, and a bound on the stack a hostile tree costs.
const MAX_DEPTH: usize = 256;

/// Remove `path` and everything below it, without following a symlink
/// anywhere (see the module documentation). A path that is already gone is
/// not an error.
pub(crate) fn remove_tree(path: &Path) -> std::io::Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Errno::INVAL.into());
    };
    let parent = match rustix::fs::open(
        parent,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let name = CString::new(name.as_bytes()).map_err(|_| std::io::Error::from(Errno::INVAL))?;
    remove_at(parent.as_fd(), &name, None, 0)
}

/// Remove the entry `name` of the directory `parent`, and everything below
/// it when it is a directory. With `owner`, a directory owned by another
/// uid is left alone. Directories without owner permissions (overlayfs's
/// `work/work` is mode 0) are opened up first.
fn remove_at(
    parent: BorrowedFd<'_>,
    name: &CStr,
    owner: Option<u32>,
    depth: usize,
) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(Errno::LOOP.into());
    }
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let dir = match rustix::fs::openat(parent, name, flags, Mode::empty()) {
        Ok(dir) => dir,
        Err(Errno::NOENT) => return Ok(()),
        // Not a directory, or a symlink (to anything): the name itself goes.
        Err(Errno::NOTDIR | Errno::LOOP) if owner.is_none() => {
            return match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => Ok(()),
                Err(e) => Err(e.into()),
            };
        }
        Err(Errno::NOTDIR | Errno::LOOP) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let st = rustix::fs::fstat(&dir)?;
    if owner.is_some_and(|uid| uid != st.st_uid) {
        return Ok(());
    }
    if st.st_mode & 0o700 != 0o700 {
        // fchmod refuses O_PATH descriptors; the descriptor's link in
        // /proc names exactly this directory, whatever its path is now.
        let link = format!("/proc/self/fd/{}", dir.as_raw_fd());
        rustix::fs::chmod(
            link.as_str(),
            Mode::from_raw_mode((st.st_mode & 0o7777) | 0o700),
        )?;
    }
    // Opened through the pinned descriptor, not by name again.
    let listing = rustix::fs::openat(
        &dir,
        c".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::new(listing)? {
        let entry = entry?;
        let entry_name = entry.file_name();
        if entry_name != c"." && entry_name != c".." {
            names.push(entry_name.to_owned());
        }
    }
    for entry_name in &names {
        remove_at(dir.as_fd(), entry_name, None, depth + 1)?;
    }
    match rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The owner pid encoded in an artifact directory's name.
fn owner(name: &[u8]) -> Option<u32> {
    let name = std::str::from_utf8(name).ok()?;
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

/// Remove artifact directories whose owner process no longer exists (it was
/// killed before it could clean up). Only trees owned by the effective uid
/// are taken: another user's look-alike is theirs to keep.
fn sweep(base: &Path) {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(dir) = rustix::fs::open(base, flags, Mode::empty()) else {
        return;
    };
    let Ok(entries) = rustix::fs::Dir::read_from(&dir) else {
        return;
    };
    let stale: Vec<CString> = entries
        .flatten()
        .filter(|entry| {
            owner(entry.file_name().to_bytes())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(|entry| entry.file_name().to_owned())
        .collect();
    let euid = rustix::process::geteuid().as_raw();
    for name in stale {
        let _ = remove_at(dir.as_fd(), &name, Some(euid), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_private_and_removed_once() {
        use std::os::unix::fs::PermissionsExt;
        let mut artifacts = Artifacts::create().unwrap();
        let dir = artifacts.dir().unwrap().to_path_buf();
        assert!(dir.is_absolute());
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o700);
        // Something the kernel would leave: a mode-0 directory with content.
        let work = dir.join("tmp-overlay-work-0/work");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(work.join("f"), b"x").unwrap();
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o0)).unwrap();
        artifacts.remove().unwrap();
        assert!(!dir.exists());
        artifacts.remove().unwrap();
    }

    #[test]
    fn dropping_removes_the_directory() {
        let artifacts = Artifacts::create().unwrap();
        let dir = artifacts.dir().unwrap().to_path_buf();
        drop(artifacts);
        assert!(!dir.exists());
    }

    #[test]
    fn removal_never_follows_a_symlink() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let base = std::env::temp_dir().join(format!("vb-fs-remove-{}", std::process::id()));
        let canary = base.join("canary");
        std::fs::create_dir_all(canary.join("sub")).unwrap();
        std::fs::write(canary.join("file"), b"keep").unwrap();
        std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(0o500)).unwrap();
        let tree = base.join("tree");
        std::fs::create_dir_all(tree.join("inner")).unwrap();
        symlink(&canary, tree.join("dirlink")).unwrap();
        symlink(canary.join("file"), tree.join("inner/filelink")).unwrap();
        std::fs::set_permissions(tree.join("inner"), std::fs::Permissions::from_mode(0o0)).unwrap();
        symlink(&canary, base.join("toplink")).unwrap();
        remove_tree(&tree).unwrap();
        remove_tree(&base.join("toplink")).unwrap();
        assert!(!tree.exists());
        assert!(std::fs::symlink_metadata(base.join("toplink")).is_err());
        assert_eq!(std::fs::read(canary.join("file")).unwrap(), b"keep");
        assert!(canary.join("sub").is_dir());
        let mode = std::fs::metadata(&canary).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o500);
        std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn directories_of_dead_owners_are_swept() {
        let base = std::fs::canonicalize(std::env::temp_dir()).unwrap();
        // No process has pid u32::MAX - 1 (pid_max is at most 2^22).
        let stale = base.join(format!("{PREFIX}{}-0-0", u32::MAX - 1));
        std::fs::create_dir_all(stale.join("sub")).unwrap();
        let live = Artifacts::create().unwrap();
        assert!(!stale.exists(), "stale artifact directory survived");
        assert!(live.dir().unwrap().exists());
    }
}
