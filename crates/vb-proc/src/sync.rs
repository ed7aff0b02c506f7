//! The parent/child handshake: a one-byte gate from parent to child and a one-byte
//! acknowledgement from child to parent, plus reading the failure frame.
//!
//! Every transfer is checked for its length and its value. A short read or write
//! (including end-of-file) is an error, never a silent continuation: a child that
//! sees end-of-file on the gate knows its parent failed or died and exits.
//!
//! The functions work over [`ByteChannel`] so the failure paths are unit-tested
//! with injected short reads, short writes and wrong bytes.

use std::os::fd::{AsFd, BorrowedFd};

use rustix::io::Errno;

use crate::frame::{ChildFailure, FRAME_LEN, FrameError};

/// The byte the parent writes to release the child once ids, cgroup and network
/// are in place.
pub const GATE_BYTE: u8 = b'G';
/// The byte the parent writes once the sandbox's cgroups exist, for a child
/// that joins them itself.
pub const READY_BYTE: u8 = b'C';
/// The byte the child writes when its setup is finished, just before `execve`.
pub const ACK_BYTE: u8 = b'A';

/// One end of a byte pipe. Implemented by file descriptors, and by fakes in tests.
pub trait ByteChannel {
    /// Read into `buf`; `Ok(0)` is end-of-file.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Write from `buf`, returning how much was written.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno>;
}

/// A [`ByteChannel`] over a file descriptor; retries on `EINTR`.
#[derive(Debug)]
pub struct FdChannel<'fd>(pub BorrowedFd<'fd>);

impl<'fd> FdChannel<'fd> {
    /// Wrap a descriptor.
    pub fn new(fd: &'fd impl AsFd) -> Self {
        Self(fd.as_fd())
    }
}

impl ByteChannel for FdChannel<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            match rustix::io::read(self.0, &mut *buf) {
                Err(Errno::INTR) => continue,
                other => return other,
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        loop {
            match rustix::io::write(self.0, buf) {
                Err(Errno::INTR) => continue,
                other => return other,
            }
        }
    }
}

/// A handshake transfer that did not complete as the protocol requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// Fewer bytes than the protocol requires were transferred (0 is end-of-file).
    #[error("short {direction}: expected {expected} byte(s), got {got}")]
    Short {
        /// "read" or "write".
        direction: &'static str,
        /// Bytes the protocol requires.
        expected: usize,
        /// Bytes actually transferred.
        got: usize,
    },
    /// More bytes than the protocol allows arrived at once.
    #[error("long read: expected {expected} byte(s), got {got}")]
    Long {
        /// Bytes the protocol requires.
        expected: usize,
        /// Bytes that arrived.
        got: usize,
    },
    /// The byte received is not the one the protocol requires.
    #[error("unexpected handshake byte {got:#04x} (expected {expected:#04x})")]
    WrongByte {
        /// The byte the protocol requires.
        expected: u8,
        /// The byte received.
        got: u8,
    },
    /// The failure frame is malformed.
    #[error("malformed failure frame: {0}")]
    Frame(FrameError),
    /// The system call failed.
    #[error("handshake I/O failed: {0}")]
    Io(Errno),
}

/// Write exactly one protocol byte. A write of zero bytes is [`SyncError::Short`].
#[deny(clippy::disallowed_types, clippy::disallowed_macros)] // runs in the child too
pub fn send_token(channel: &mut impl ByteChannel, byte: u8) -> Result<(), SyncError> {
    match channel.write(&[byte]) {
        Ok(1) => Ok(()),
        Ok(got) => Err(SyncError::Short {
            direction: "write",
            expected: 1,
            got,
        }),
        Err(errno) => Err(SyncError::Io(errno)),
    }
}

/// Read exactly one protocol byte and check its value.
///
/// The read uses a two-byte buffer so a peer that wrote more than one byte is
/// caught ([`SyncError::Long`]) instead of leaving stray bytes in the pipe.
#[deny(clippy::disallowed_types, clippy::disallowed_macros)] // runs in the child too
pub fn recv_token(channel: &mut impl ByteChannel, expected: u8) -> Result<(), SyncError> {
    let mut buf = [0u8; 2];
    match channel.read(&mut buf) {
        Ok(1) if buf[0] == expected => Ok(()),
        Ok(1) => Err(SyncError::WrongByte {
            expected,
            got: buf[0],
        }),
        Ok(0) => Err(SyncError::Short {
            direction: "read",
            expected: 1,
            got: 0,
        }),
        Ok(got) => Err(SyncError::Long { expected: 1, got }),
        Err(errno) => Err(SyncError::Io(errno)),
    }
}

/// Read the failure pipe to its end: `Ok(None)` when it closed without a frame
/// (the child executed the command), `Ok(Some(frame))` when the child reported a
/// failure. A partial frame is [`SyncError::Short`].
pub fn recv_failure(channel: &mut impl ByteChannel) -> Result<Option<ChildFailure>, SyncError> {
    let mut buf = [0u8; FRAME_LEN];
    let mut filled = 0;
    while filled < FRAME_LEN {
        let slot = buf.get_mut(filled..).unwrap_or_default();
        match channel.read(slot) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(errno) => return Err(SyncError::Io(errno)),
        }
    }
    match filled {
        0 => Ok(None),
        FRAME_LEN => ChildFailure::decode(&buf)
            .map(Some)
            .map_err(SyncError::Frame),
        got => Err(SyncError::Short {
            direction: "read",
            expected: FRAME_LEN,
            got,
        }),
    }
}

/// Child side: write a failure frame. Allocation-free; errors are ignored because
/// the child is about to exit and has no other channel to report on.
#[deny(clippy::disallowed_types, clippy::disallowed_macros)] // runs in the child too
pub(crate) fn send_failure(channel: &mut impl ByteChannel, failure: &ChildFailure) {
    let frame = failure.encode();
    let mut sent = 0;
    while sent < FRAME_LEN {
        match channel.write(frame.get(sent..).unwrap_or_default()) {
            Ok(0) | Err(_) => return,
            Ok(n) => sent += n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Step;

    /// A scripted channel: each read returns the next scripted chunk; writes
    /// accept at most `write_limit` bytes.
    struct Script {
        reads: Vec<Result<Vec<u8>, Errno>>,
        write_limit: usize,
        written: Vec<u8>,
    }

    impl Script {
        fn reads(reads: Vec<Result<Vec<u8>, Errno>>) -> Self {
            Self {
                reads,
                write_limit: usize::MAX,
                written: Vec::new(),
            }
        }
    }

    impl ByteChannel for Script {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
            if self.reads.is_empty() {
                return Ok(0);
            }
            let chunk = self.reads.remove(0)?;
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            Ok(n)
        }

        fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
            let n = buf.len().min(self.write_limit);
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }
    }

    #[test]
    fn gate_accepts_exactly_one_right_byte() {
        let mut ch = Script::reads(vec![Ok(vec![GATE_BYTE])]);
        assert_eq!(recv_token(&mut ch, GATE_BYTE), Ok(()));
    }

    #[test]
    fn short_read_is_an_error() {
        let mut ch = Script::reads(vec![]);
        assert_eq!(
            recv_token(&mut ch, GATE_BYTE),
            Err(SyncError::Short {
                direction: "read",
                expected: 1,
                got: 0
            })
        );
    }

    #[test]
    fn wrong_byte_is_an_error() {
        let mut ch = Script::reads(vec![Ok(vec![b'X'])]);
        assert_eq!(
            recv_token(&mut ch, ACK_BYTE),
            Err(SyncError::WrongByte {
                expected: ACK_BYTE,
                got: b'X'
            })
        );
    }

    #[test]
    fn extra_bytes_are_an_error() {
        let mut ch = Script::reads(vec![Ok(vec![ACK_BYTE, ACK_BYTE])]);
        assert_eq!(
            recv_token(&mut ch, ACK_BYTE),
            Err(SyncError::Long {
                expected: 1,
                got: 2
            })
        );
    }

    #[test]
    fn read_errors_surface() {
        let mut ch = Script::reads(vec![Err(Errno::IO)]);
        assert_eq!(
            recv_token(&mut ch, GATE_BYTE),
            Err(SyncError::Io(Errno::IO))
        );
    }

    #[test]
    fn short_write_is_an_error() {
        let mut ch = Script::reads(vec![]);
        ch.write_limit = 0;
        assert_eq!(
            send_token(&mut ch, GATE_BYTE),
            Err(SyncError::Short {
                direction: "write",
                expected: 1,
                got: 0
            })
        );
        ch.write_limit = 1;
        assert_eq!(send_token(&mut ch, GATE_BYTE), Ok(()));
        assert_eq!(ch.written, vec![GATE_BYTE]);
    }

    #[test]
    fn failure_pipe_eof_means_exec_succeeded() {
        let mut ch = Script::reads(vec![]);
        assert_eq!(recv_failure(&mut ch), Ok(None));
    }

    #[test]
    fn failure_frame_arrives_in_pieces() {
        let frame = ChildFailure::process(Step::Exec, 0, libc::ENOENT).encode();
        let mut ch = Script::reads(vec![Ok(frame[..5].to_vec()), Ok(frame[5..].to_vec())]);
        assert_eq!(
            recv_failure(&mut ch),
            Ok(Some(ChildFailure::process(Step::Exec, 0, libc::ENOENT)))
        );
    }

    #[test]
    fn partial_frame_is_an_error() {
        let frame = ChildFailure::process(Step::Exec, 0, libc::ENOENT).encode();
        let mut ch = Script::reads(vec![Ok(frame[..7].to_vec())]);
        assert_eq!(
            recv_failure(&mut ch),
            Err(SyncError::Short {
                direction: "read",
                expected: FRAME_LEN,
                got: 7
            })
        );
    }

    #[test]
    fn failure_frame_written_across_short_writes() {
        let failure = ChildFailure::process(Step::Hostname, 0, libc::EPERM);
        let mut ch = Script::reads(vec![]);
        ch.write_limit = 3;
        send_failure(&mut ch, &failure);
        assert_eq!(ch.written, failure.encode().to_vec());
    }
}
