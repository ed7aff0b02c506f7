//! Bringing up `lo` inside a freshly cloned sandbox child, where nothing may allocate,
//! lock or panic (see the fork-safety rule of voidbox's design).
//!
//! The parent builds both requests as fixed byte arrays; the child only opens a socket,
//! sends them, reads each ACK into a stack buffer, parses it with the allocation-free
//! frame iterator and closes the socket. Every failure is a `Copy` value.

use core::fmt;

use rustix::io::Errno;
use rustix::net::RecvFlags;

use crate::ack::read_errno;
use crate::error::Error;
use crate::frame::Frames;
use crate::limits::MAX_EINTR_RETRIES;
use crate::socket::{open_route_socket, send_to_kernel};
use crate::uapi::{
    AF_INET, AF_UNSPEC, EEXIST, IFA_ADDRESS, IFA_LOCAL, IFF_UP, NLM_F_ACK, NLM_F_CREATE,
    NLM_F_EXCL, NLM_F_REQUEST, NLMSG_ERROR, RT_SCOPE_HOST, RTM_NEWADDR, RTM_NEWLINK,
};

/// The loopback interface's index in every network namespace (`LOOPBACK_IFINDEX`).
const LO_INDEX: u32 = 1;
/// Header 16 + `ifaddrmsg` 8 + `IFA_LOCAL` 8 + `IFA_ADDRESS` 8.
const ADDRESS_WIRE_LEN: u32 = 40;
const ADDRESS_LEN: usize = ADDRESS_WIRE_LEN as usize;
/// Header 16 + `ifinfomsg` 16.
const LINK_WIRE_LEN: u32 = 32;
const LINK_LEN: usize = LINK_WIRE_LEN as usize;
const ADDRESS_SEQ: u32 = 1;
const LINK_SEQ: u32 = 2;
/// Large enough for a NACK echoing either request (at most 60 bytes) with room for
/// extended-ACK attributes; a bigger datagram is reported, never cut silently.
const ACK_BUFFER_LEN: usize = 512;

/// The step of [`LoopbackSetup::apply`] that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopbackStep {
    /// Opening the NETLINK_ROUTE socket (or setting its receive timeout).
    OpenSocket,
    /// Sending `RTM_NEWADDR 127.0.0.1/8 dev lo`.
    SendAddress,
    /// Receiving or parsing the address request's ACK.
    ReceiveAddressAck,
    /// The kernel refused the address (other than `EEXIST`, which is tolerated).
    AddAddress,
    /// Sending `RTM_NEWLINK lo up`.
    SendLinkUp,
    /// Receiving or parsing the link request's ACK.
    ReceiveLinkUpAck,
    /// The kernel refused to bring `lo` up.
    SetLinkUp,
}

/// Why [`LoopbackSetup::apply`] failed: the step and an errno.
///
/// For the socket steps the errno is the syscall's; for [`LoopbackStep::AddAddress`] and
/// [`LoopbackStep::SetLinkUp`] it is the kernel's refusal; a malformed or unexpected reply
/// is `EBADMSG` and a reply too large for the buffer `EMSGSIZE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopbackError {
    /// The failing step.
    pub step: LoopbackStep,
    /// The errno (positive).
    pub errno: i32,
}

impl fmt::Display for LoopbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "loopback setup failed at {:?}: {}",
            self.step,
            Errno::from_raw_os_error(self.errno)
        )
    }
}

impl std::error::Error for LoopbackError {}

/// Brings up `lo` with 127.0.0.1/8, as bwrap does for `--unshare-net`.
///
/// Built in the parent (it may allocate, though this one does not); applied in the child
/// with [`LoopbackSetup::apply`], which does not allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopbackSetup {
    address: [u8; ADDRESS_LEN],
    link: [u8; LINK_LEN],
}

impl Default for LoopbackSetup {
    fn default() -> Self {
        Self::new()
    }
}

/// Copies `src` into `dst` at `at`; a const fn so that the requests are plain data.
const fn put(dst: &mut [u8], at: usize, src: &[u8]) {
    let mut i = 0;
    while i < src.len() && at + i < dst.len() {
        dst[at + i] = src[i];
        i += 1;
    }
}

const fn header(buf: &mut [u8], len: u32, kind: u16, flags: u16, seq: u32) {
    put(buf, 0, &len.to_ne_bytes());
    put(buf, 4, &kind.to_ne_bytes());
    put(buf, 6, &flags.to_ne_bytes());
    put(buf, 8, &seq.to_ne_bytes());
}

impl LoopbackSetup {
    /// Builds `RTM_NEWADDR 127.0.0.1/8 scope host dev lo` and `RTM_NEWLINK lo up`,
    /// addressing `lo` by its fixed index 1.
    #[must_use]
    pub const fn new() -> Self {
        let mut address = [0u8; ADDRESS_LEN];
        let create = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        header(
            &mut address,
            ADDRESS_WIRE_LEN,
            RTM_NEWADDR,
            create,
            ADDRESS_SEQ,
        );
        put(&mut address, 16, &[AF_INET, 8, 0, RT_SCOPE_HOST]);
        put(&mut address, 20, &LO_INDEX.to_ne_bytes());
        let loopback = [127, 0, 0, 1];
        put(&mut address, 24, &8u16.to_ne_bytes());
        put(&mut address, 26, &IFA_LOCAL.to_ne_bytes());
        put(&mut address, 28, &loopback);
        put(&mut address, 32, &8u16.to_ne_bytes());
        put(&mut address, 34, &IFA_ADDRESS.to_ne_bytes());
        put(&mut address, 36, &loopback);

        let mut link = [0u8; LINK_LEN];
        header(
            &mut link,
            LINK_WIRE_LEN,
            RTM_NEWLINK,
            NLM_F_REQUEST | NLM_F_ACK,
            LINK_SEQ,
        );
        put(&mut link, 16, &[AF_UNSPEC, 0, 0, 0]);
        put(&mut link, 20, &LO_INDEX.to_ne_bytes());
        put(&mut link, 24, &IFF_UP.to_ne_bytes());
        put(&mut link, 28, &IFF_UP.to_ne_bytes());
        Self { address, link }
    }

    /// Adds the address and brings `lo` up in the calling thread's network namespace.
    ///
    /// Safe after `clone`/`fork` in a multi-threaded process: no heap allocation, no
    /// locks, no panicking operation; the socket is closed on every path. An existing
    /// 127.0.0.1/8 (`EEXIST`, e.g. on a second call) is not an error.
    ///
    /// # Errors
    /// The failing [`LoopbackStep`] with its errno.
    pub fn apply(&self) -> Result<(), LoopbackError> {
        let fd = open_route_socket().map_err(|e| LoopbackError {
            step: LoopbackStep::OpenSocket,
            errno: errno_of(&e),
        })?;
        let steps = [
            (&self.address[..], ADDRESS_SEQ, Steps::ADDRESS),
            (&self.link[..], LINK_SEQ, Steps::LINK),
        ];
        for (bytes, seq, steps) in steps {
            send_to_kernel(&fd, "loopback", bytes).map_err(|e| LoopbackError {
                step: steps.send,
                errno: errno_of(&e),
            })?;
            let errno = receive_ack(&fd, seq).map_err(|errno| LoopbackError {
                step: steps.receive,
                errno,
            })?;
            if errno != 0 && !(errno == EEXIST && steps.tolerate_exists) {
                return Err(LoopbackError {
                    step: steps.refused,
                    errno,
                });
            }
        }
        Ok(())
    }

    /// The address request's wire bytes (for inspection and tests).
    #[must_use]
    pub fn address_request(&self) -> &[u8] {
        &self.address
    }

    /// The link request's wire bytes (for inspection and tests).
    #[must_use]
    pub fn link_request(&self) -> &[u8] {
        &self.link
    }
}

struct Steps {
    send: LoopbackStep,
    receive: LoopbackStep,
    refused: LoopbackStep,
    tolerate_exists: bool,
}

impl Steps {
    const ADDRESS: Self = Self {
        send: LoopbackStep::SendAddress,
        receive: LoopbackStep::ReceiveAddressAck,
        refused: LoopbackStep::AddAddress,
        tolerate_exists: true,
    };
    const LINK: Self = Self {
        send: LoopbackStep::SendLinkUp,
        receive: LoopbackStep::ReceiveLinkUpAck,
        refused: LoopbackStep::SetLinkUp,
        tolerate_exists: false,
    };
}

fn errno_of(e: &Error) -> i32 {
    match e {
        Error::Open(errno)
        | Error::Send { errno, .. }
        | Error::Receive { errno, .. }
        | Error::SocketOption { errno, .. } => errno.raw_os_error(),
        Error::ReceiveTruncated { .. } | Error::ShortSend { .. } => Errno::MSGSIZE.raw_os_error(),
        _ => Errno::BADMSG.raw_os_error(),
    }
}

/// Reads one ACK for `seq` into a stack buffer; returns its errno (0 for success).
fn receive_ack(fd: &std::os::fd::OwnedFd, seq: u32) -> Result<i32, i32> {
    let mut buf = [0u8; ACK_BUFFER_LEN];
    let mut tries = 0;
    let len = loop {
        match rustix::net::recv(fd, &mut buf[..], RecvFlags::TRUNC) {
            Err(Errno::INTR) if tries < MAX_EINTR_RETRIES => tries += 1,
            Err(errno) => return Err(errno.raw_os_error()),
            Ok((_, full)) if full > ACK_BUFFER_LEN => return Err(Errno::MSGSIZE.raw_os_error()),
            Ok((_, full)) => break full,
        }
    };
    parse_ack_packet(buf.get(..len).unwrap_or(&[]), seq)
}

/// Finds the ACK for `seq` in `packet`; any other content is `EBADMSG`.
fn parse_ack_packet(packet: &[u8], seq: u32) -> Result<i32, i32> {
    let bad = Errno::BADMSG.raw_os_error();
    let Some(frame) = Frames::new(packet).next() else {
        return Err(bad);
    };
    let frame = frame.map_err(|_| bad)?;
    if frame.header.kind != NLMSG_ERROR || frame.header.seq != seq {
        return Err(bad);
    }
    read_errno(frame.payload, "NLMSG_ERROR").map_err(|_| bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::{self, AddressOptions};
    use crate::link;

    #[test]
    fn prebuilt_requests_equal_the_general_builders_output() {
        let setup = LoopbackSetup::new();
        let mut addr =
            address::add(1, "127.0.0.1/8".parse().unwrap(), AddressOptions::default()).unwrap();
        addr.set_seq(1);
        assert_eq!(setup.address_request(), addr.bytes());
        let mut up = link::set_up(1, true).unwrap();
        up.set_seq(2);
        assert_eq!(setup.link_request(), up.bytes());
    }

    fn ack(seq: u32, errno: i32) -> Vec<u8> {
        let mut v = crate::header::Header {
            len: 20,
            kind: NLMSG_ERROR,
            flags: 0,
            seq,
            port: 0,
        }
        .encode()
        .to_vec();
        v.extend_from_slice(&(-errno).to_ne_bytes());
        v
    }

    #[test]
    fn ack_packet_parser_reports_errno_and_rejects_strangers() {
        assert_eq!(parse_ack_packet(&ack(1, 0), 1), Ok(0));
        assert_eq!(parse_ack_packet(&ack(1, 17), 1), Ok(17));
        let badmsg = Errno::BADMSG.raw_os_error();
        assert_eq!(
            parse_ack_packet(&ack(2, 0), 1),
            Err(badmsg),
            "wrong sequence"
        );
        assert_eq!(parse_ack_packet(&[], 1), Err(badmsg), "empty");
        assert_eq!(
            parse_ack_packet(&ack(1, -5), 1),
            Err(badmsg),
            "positive errno"
        );
        assert_eq!(
            parse_ack_packet(&ack(1, 0)[..18], 1),
            Err(badmsg),
            "truncated"
        );
    }

    #[test]
    fn apply_brings_lo_up_with_its_address_and_tolerates_a_second_run() {
        let name = "apply_brings_lo_up_with_its_address_and_tolerates_a_second_run";
        if !crate::testns::enter_throwaway_netns(name) {
            return;
        }
        let setup = LoopbackSetup::new();
        let mut nl = crate::Netlink::open().unwrap();
        assert!(
            !nl.link_by_index(1).unwrap().is_up(),
            "lo starts down in a new namespace"
        );
        setup.apply().unwrap();
        let lo = nl.link_by_index(1).unwrap();
        assert_eq!(lo.name, "lo");
        assert!(lo.is_up());
        let addrs = nl.addresses(Some(crate::Family::V4)).unwrap();
        let want: ipnetwork::IpNetwork = "127.0.0.1/8".parse().unwrap();
        assert_eq!(
            addrs
                .iter()
                .filter(|a| a.index == 1 && a.network == want)
                .count(),
            1
        );
        assert_eq!(setup.apply(), Ok(()), "EEXIST on the address is tolerated");
    }
}
