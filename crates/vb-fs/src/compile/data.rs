//! The content of `--file` and `--bind-data`, read in the parent before the
//! sandbox is cloned (the child only writes bytes it already has), and the
//! caller's descriptors the actions consume.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use rustix::io::Errno;

use crate::action::DataSource;
use crate::error::FsError;

/// Read everything `source` provides. A descriptor is read from its current
/// offset to its end, through a borrow: it stays open (it is the caller's).
pub(crate) fn read_source(source: &DataSource, dest: &Path) -> Result<Vec<u8>, FsError> {
    let fd = match source {
        DataSource::Bytes(bytes) => return Ok(bytes.clone()),
        DataSource::Fd(fd) => fd.as_fd(),
    };
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match rustix::io::read(fd, &mut buf) {
            Ok(0) => return Ok(data),
            Ok(n) => data.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(Errno::INTR) => {}
            Err(e) => {
                return Err(FsError::ReadData {
                    dest: dest.to_path_buf(),
                    source: e.into(),
                });
            }
        }
    }
}

/// Record a descriptor the actions consumed (closed in the child at the end
/// of the actions), once: `fds` keeps it open for as long as the plan holds
/// it.
pub(crate) fn push_fd(fds: &mut Vec<Arc<OwnedFd>>, fd: &Arc<OwnedFd>) {
    if !fds.iter().any(|held| held.as_raw_fd() == fd.as_raw_fd()) {
        fds.push(Arc::clone(fd));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_taken_as_they_are() {
        let data = read_source(&DataSource::Bytes(b"abc".to_vec()), Path::new("/f")).unwrap();
        assert_eq!(data, b"abc");
    }

    #[test]
    fn a_descriptor_is_read_to_its_end_and_left_open() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        rustix::io::write(&w, b"hello ").unwrap();
        rustix::io::write(&w, b"world").unwrap();
        drop(w);
        let r = Arc::new(r);
        let data = read_source(&DataSource::Fd(r.clone()), Path::new("/f")).unwrap();
        assert_eq!(data, b"hello world");
        assert!(
            rustix::io::fcntl_getfd(&*r).is_ok(),
            "the caller's fd was closed"
        );
    }

    #[test]
    fn an_unreadable_descriptor_gives_bubblewraps_message() {
        // A write end cannot be read: EBADF, as for a closed descriptor.
        let (_r, w) = rustix::pipe::pipe().unwrap();
        let err = read_source(&DataSource::Fd(Arc::new(w)), Path::new("/f")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Can't write data to file /f: Bad file descriptor (os error 9)"
        );
    }
}
