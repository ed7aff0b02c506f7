//! The NETLINK_ROUTE socket: single-threaded, one exchange at a time, replies checked for
//! sender, sequence number and truncation, received into one bounded buffer.

use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::io::Errno;
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::sockopt::{Timeout, set_socket_timeout};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

use crate::error::Error;
use crate::exchange::{Exchange, Expect, Progress};
use crate::frame::Frame;
use crate::limits::{MAX_EINTR_RETRIES, RECV_BUFFER_LEN, RECV_TIMEOUT_SECS};
use crate::request::Request;

/// Opens a close-on-exec NETLINK_ROUTE socket with the crate's receive timeout.
///
/// Allocates nothing, so the fork-safe [`crate::AckSocket`] shares it.
pub(crate) fn open_route_socket() -> Result<OwnedFd, Error> {
    // `None` selects protocol 0, NETLINK_ROUTE.
    let fd = rustix::net::socket_with(
        AddressFamily::NETLINK,
        SocketType::RAW,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(Error::Open)?;
    set_socket_timeout(
        &fd,
        Timeout::Recv,
        Some(Duration::from_secs(RECV_TIMEOUT_SECS)),
    )
    .map_err(|errno| Error::SocketOption {
        option: "SO_RCVTIMEO",
        errno,
    })?;
    Ok(fd)
}

/// Sends `bytes` to the kernel (port 0) in one datagram.
pub(crate) fn send_to_kernel(fd: &OwnedFd, op: &'static str, bytes: &[u8]) -> Result<(), Error> {
    let kernel = SocketAddrNetlink::new(0, 0);
    let mut tries = 0;
    let sent = loop {
        match rustix::net::sendto(fd, bytes, SendFlags::empty(), &kernel) {
            Err(Errno::INTR) if tries < MAX_EINTR_RETRIES => tries += 1,
            Err(errno) => return Err(Error::Send { op, errno }),
            Ok(n) => break n,
        }
    };
    if sent != bytes.len() {
        return Err(Error::ShortSend {
            op,
            sent,
            len: bytes.len(),
        });
    }
    Ok(())
}

/// A NETLINK_ROUTE socket with its receive buffer and sequence counter.
#[derive(Debug)]
pub(crate) struct Socket {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
    /// Set when an exchange stopped before its reply ended: unread replies may sit in the
    /// socket, so the next exchange starts on a fresh socket instead of skipping them.
    stale: bool,
}

impl Socket {
    pub(crate) fn open() -> Result<Self, Error> {
        Ok(Self {
            fd: open_route_socket()?,
            seq: 0,
            buf: vec![0u8; RECV_BUFFER_LEN],
            stale: false,
        })
    }

    fn next_seq(&mut self) -> u32 {
        // 0 is left out so that a zeroed header never matches a live request.
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Sends `request` and feeds replies to `visit` until the exchange is complete.
    pub(crate) fn exchange(
        &mut self,
        mut request: Request,
        expect: Expect,
        visit: &mut dyn FnMut(&Frame<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if self.stale {
            self.fd = open_route_socket()?;
            self.stale = false;
        }
        let seq = self.next_seq();
        request.set_seq(seq);
        send_to_kernel(&self.fd, request.op, request.bytes())?;
        self.stale = true;
        let mut exchange = Exchange::new(request.op, seq, expect);
        loop {
            let len = self.receive(request.op)?;
            let packet = self.buf.get(..len).unwrap_or(&[]);
            if exchange.feed(packet, visit)? == Progress::Finished {
                self.stale = false;
                return Ok(());
            }
        }
    }

    /// Receives one datagram from the kernel into the buffer; returns its length.
    fn receive(&mut self, op: &'static str) -> Result<usize, Error> {
        let mut tries = 0;
        loop {
            match rustix::net::recvfrom(&self.fd, &mut self.buf[..], RecvFlags::TRUNC) {
                Err(Errno::INTR) if tries < MAX_EINTR_RETRIES => tries += 1,
                Err(errno) => return Err(Error::Receive { op, errno }),
                Ok((_, full, from)) => {
                    if full > self.buf.len() {
                        return Err(Error::ReceiveTruncated {
                            len: full,
                            capacity: self.buf.len(),
                        });
                    }
                    let port = from
                        .and_then(|a| SocketAddrNetlink::try_from(a).ok())
                        .map_or(u32::MAX, |a| a.pid());
                    if port != 0 {
                        return Err(Error::ForeignSender { port });
                    }
                    return Ok(full);
                }
            }
        }
    }
}

#[cfg(test)]
impl Socket {
    /// Runs a dump and returns every packet's raw bytes, concatenated (frames are
    /// self-delimiting and aligned, so the result parses as one packet).
    pub(crate) fn dump_raw(&mut self, request: Request, kind: u16) -> Result<Vec<u8>, Error> {
        let mut request = request;
        let seq = self.next_seq();
        request.set_seq(seq);
        send_to_kernel(&self.fd, request.op, request.bytes())?;
        let mut exchange = Exchange::new(request.op, seq, Expect::Dump(kind));
        let mut raw = Vec::new();
        loop {
            let len = self.receive(request.op)?;
            let packet = self.buf.get(..len).unwrap_or(&[]);
            raw.extend_from_slice(packet);
            if exchange.feed(packet, &mut |_| Ok(()))? == Progress::Finished {
                return Ok(raw);
            }
        }
    }
}
