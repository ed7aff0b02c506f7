//! The detail pipe: what the child has to say about a failure that does not
//! fit the fixed-size report (the target of a conflicting symlink), written
//! by the child and read by the parent when it describes the failure.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::error::FsError;

/// A pipe the child writes details to that do not fit a failure report (the
/// target of a conflicting symlink), read by
/// [`MountPlan::describe`](crate::MountPlan::describe).
#[derive(Debug)]
pub(crate) struct DetailPipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl DetailPipe {
    /// A close-on-exec, non-blocking pipe.
    pub(crate) fn new() -> Result<Self, FsError> {
        use rustix::pipe::{PipeFlags, pipe_with};
        let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)
            .map_err(|e| FsError::DetailPipe(e.into()))?;
        Ok(Self { read, write })
    }

    /// Everything the child wrote, for a message.
    pub(crate) fn take(&self) -> String {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = rustix::io::read(&self.read, &mut buf) {
            out.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The write end, for the child.
    pub(crate) fn write_fd(&self) -> RawFd {
        self.write.as_raw_fd()
    }
}
