//! Direct reads and writes of cgroupfs control files, and the directory operations where
//! cgroupfs does more than a plain file system.
//!
//! Writes open the file without `O_CREAT`: cgroupfs refuses to create files anyway, and on a
//! mock cgroupfs a missing control file must stay missing rather than be invented. Each value
//! goes out with `write_all`, and the kernel parses each `write(2)` as one command, so values
//! are short enough never to be split in practice; a short write still surfaces as an error.
//!
//! Making and removing a cgroup directory go through [`CgroupFs`]: on cgroupfs `mkdir` also
//! creates the control files and `rmdir` drops them, which a directory tree standing in for
//! cgroupfs in the unit tests has to imitate. Reads and writes need no such seam: they behave
//! the same on a plain file.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Writes `value` to the control file `path`.
pub(crate) fn write_control(path: &Path, value: &str) -> std::io::Result<()> {
    // O_TRUNC is ignored by cgroupfs and keeps a mock file's content equal to the last value.
    let mut file = OpenOptions::new().write(true).truncate(true).open(path)?;
    file.write_all(value.as_bytes())
}

/// Reads the control file `path`.
pub(crate) fn read_control(path: &Path) -> std::io::Result<String> {
    read_small_file(path)
}

/// Reads a procfs or cgroupfs file. These report a size of 0, so
/// `std::fs::read_to_string` starts with a 32-byte probe and grows: a dozen
/// `read` calls for `/proc/self/mountinfo`, each regenerating the text. One
/// 8 KiB buffer reads these files in one or two calls.
pub(crate) fn read_small_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::with_capacity(8192);
    std::fs::File::open(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// The cgroup directory operations whose effect goes beyond the directory itself.
pub(crate) trait CgroupFs: fmt::Debug + Send + Sync {
    /// `mkdir` of a cgroup directory (the kernel fills it with control files).
    fn make_dir(&self, path: &Path) -> std::io::Result<()>;

    /// `rmdir` of a cgroup directory (the kernel drops its control files with it).
    fn remove_dir(&self, path: &Path) -> std::io::Result<()>;
}

/// The host's cgroupfs: plain `mkdir(2)` and `rmdir(2)`, the kernel does the rest.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KernelFs;

impl CgroupFs for KernelFs {
    fn make_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir(path)
    }

    fn remove_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_dir(path)
    }
}

/// The [`CgroupFs`] a [`CgroupLayout`](crate::CgroupLayout) is served by, passed on to the
/// sandbox cgroups made in it so that their removal goes through the same one. The default
/// is the host's ([`KernelFs`]); tests hand in a mock.
///
/// Handles are equal when both are the host's or both share one implementation, so layouts
/// detected twice on one host stay equal.
#[derive(Debug, Clone, Default)]
pub(crate) struct FsHandle(Option<Arc<dyn CgroupFs>>);

impl From<Arc<dyn CgroupFs>> for FsHandle {
    fn from(fs: Arc<dyn CgroupFs>) -> FsHandle {
        FsHandle(Some(fs))
    }
}

impl std::ops::Deref for FsHandle {
    type Target = dyn CgroupFs;

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Some(fs) => &**fs,
            None => &KernelFs,
        }
    }
}

impl PartialEq for FsHandle {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for FsHandle {}

/// The pids listed in a `cgroup.procs` text; unparsable lines are ignored (the kernel writes
/// one decimal pid per line).
pub(crate) fn parse_pids(text: &str) -> Vec<i32> {
    text.lines()
        .filter_map(|line| line.trim().parse::<i32>().ok())
        .filter(|&pid| pid > 0)
        .collect()
}

/// The words of a space-separated list file such as `cgroup.controllers`.
pub(crate) fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_ascii_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_procs_and_word_lists() {
        assert_eq!(parse_pids("12\n 34 \nx\n-1\n0\n"), vec![12, 34]);
        assert_eq!(
            words("cpu io  memory\n").collect::<Vec<_>>(),
            ["cpu", "io", "memory"]
        );
    }
}
