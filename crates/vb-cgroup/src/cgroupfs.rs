//! Direct reads and writes of cgroupfs control files.
//!
//! Writes open the file without `O_CREAT`: cgroupfs refuses to create files anyway, and on a
//! mock cgroupfs a missing control file must stay missing rather than be invented. Each value
//! goes out with `write_all`, and the kernel parses each `write(2)` as one command, so values
//! are short enough never to be split in practice; a short write still surfaces as an error.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

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

/// `mkdir` of a cgroup directory (the kernel fills it with control files).
pub(crate) fn make_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir(path)?;
    #[cfg(test)]
    crate::mockfs::kernel_after_mkdir(path);
    Ok(())
}

/// `rmdir` of a cgroup directory (the kernel drops its control files with it).
pub(crate) fn remove_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(test)]
    crate::mockfs::kernel_before_rmdir(path);
    std::fs::remove_dir(path)
}

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
