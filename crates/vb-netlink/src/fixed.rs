//! Requests encoded ahead of time into fixed arrays, and a socket that sends them and
//! reads their ACK without allocating: what a freshly cloned child may use, where nothing
//! may allocate, lock or panic (see the fork-safety rule of voidbox's design).
//!
//! Only the wire format lives here. Which requests a child sends, in which order, and
//! which refusals it tolerates are decisions of the caller (`vb-net`'s loopback setup).

// Everything here runs between clone and exec.
#![deny(clippy::disallowed_types, clippy::disallowed_macros)]

use core::net::Ipv4Addr;
use std::os::fd::OwnedFd;

use rustix::io::Errno;
use rustix::net::RecvFlags;
use rustix::net::netlink::SocketAddrNetlink;

use crate::ack::{read_errno, refusal};
use crate::error::Error;
use crate::frame::Frames;
use crate::limits::MAX_EINTR_RETRIES;
use crate::socket::{open_route_socket, send_to_kernel};
use crate::uapi::{
    AF_INET, AF_UNSPEC, IFA_ADDRESS, IFA_LOCAL, IFF_UP, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REQUEST, NLMSG_ERROR, RT_SCOPE_HOST, RT_SCOPE_UNIVERSE, RTM_NEWADDR, RTM_NEWLINK,
};

/// The capacity of a [`FixedRequest`]: the largest one (an IPv4 address) takes 40 bytes.
pub const FIXED_REQUEST_CAPACITY: usize = 64;

/// Header 16 + `ifaddrmsg` 8 + `IFA_LOCAL` 8 + `IFA_ADDRESS` 8.
const ADDRESS_LEN: usize = 40;
/// Header 16 + `ifinfomsg` 16.
const LINK_LEN: usize = 32;
/// Large enough for a NACK echoing any fixed request with room for extended-ACK
/// attributes; a bigger datagram is reported, never cut silently.
const ACK_BUFFER_LEN: usize = 512;

/// A complete request in a fixed array, sequence number included: built once (in a
/// `const` item or in the parent), then sent as is by [`AckSocket`].
///
/// The encoders produce the same bytes as [`Netlink`](crate::Netlink)'s builders for the
/// same operation (a test holds them to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedRequest {
    bytes: [u8; FIXED_REQUEST_CAPACITY],
    len: usize,
    seq: u32,
    op: &'static str,
}

/// Copies `src` into `dst` at `at`; a const fn so that requests can be `const` items.
const fn put(dst: &mut [u8], at: usize, src: &[u8]) {
    let mut i = 0;
    while i < src.len() && at + i < dst.len() {
        dst[at + i] = src[i];
        i += 1;
    }
}

const fn header(buf: &mut [u8], len: usize, kind: u16, flags: u16, seq: u32) {
    // Both lengths are small constants of this module, far below u32::MAX.
    #[allow(clippy::cast_possible_truncation)]
    let len = len as u32;
    put(buf, 0, &len.to_ne_bytes());
    put(buf, 4, &kind.to_ne_bytes());
    put(buf, 6, &flags.to_ne_bytes());
    put(buf, 8, &seq.to_ne_bytes());
}

/// The kernel's `ifi_index`/`ifa_index` are signed 32-bit: larger indexes cannot exist.
const MAX_INDEX: u32 = 0x7fff_ffff;

const fn checked_index(index: u32) -> Result<[u8; 4], Error> {
    if index > MAX_INDEX {
        return Err(Error::InvalidIndex { index });
    }
    Ok(index.to_ne_bytes())
}

impl FixedRequest {
    /// `RTM_NEWADDR address/prefix dev index`, exclusive create, with the scope the
    /// general builder picks (host for loopback addresses, else universe).
    ///
    /// # Errors
    /// [`Error::InvalidPrefix`] past 32; [`Error::InvalidIndex`] past `i32::MAX`.
    pub const fn add_ipv4_address(
        seq: u32,
        index: u32,
        address: Ipv4Addr,
        prefix: u8,
    ) -> Result<Self, Error> {
        if prefix > 32 {
            return Err(Error::InvalidPrefix {
                what: "an IPv4 address",
                prefix,
            });
        }
        let index = match checked_index(index) {
            Ok(bytes) => bytes,
            Err(e) => return Err(e),
        };
        let scope = if address.is_loopback() {
            RT_SCOPE_HOST
        } else {
            RT_SCOPE_UNIVERSE
        };
        let mut bytes = [0u8; FIXED_REQUEST_CAPACITY];
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        header(&mut bytes, ADDRESS_LEN, RTM_NEWADDR, flags, seq);
        put(&mut bytes, 16, &[AF_INET, prefix, 0, scope]);
        put(&mut bytes, 20, &index);
        let octets = address.octets();
        put(&mut bytes, 24, &8u16.to_ne_bytes());
        put(&mut bytes, 26, &IFA_LOCAL.to_ne_bytes());
        put(&mut bytes, 28, &octets);
        put(&mut bytes, 32, &8u16.to_ne_bytes());
        put(&mut bytes, 34, &IFA_ADDRESS.to_ne_bytes());
        put(&mut bytes, 36, &octets);
        Ok(Self {
            bytes,
            len: ADDRESS_LEN,
            seq,
            op: "add address",
        })
    }

    /// `RTM_NEWLINK` setting (`up`) or clearing `IFF_UP` on link `index`.
    ///
    /// # Errors
    /// [`Error::InvalidIndex`] past `i32::MAX`.
    pub const fn set_link_up(seq: u32, index: u32, up: bool) -> Result<Self, Error> {
        let index = match checked_index(index) {
            Ok(bytes) => bytes,
            Err(e) => return Err(e),
        };
        let mut bytes = [0u8; FIXED_REQUEST_CAPACITY];
        header(
            &mut bytes,
            LINK_LEN,
            RTM_NEWLINK,
            NLM_F_REQUEST | NLM_F_ACK,
            seq,
        );
        put(&mut bytes, 16, &[AF_UNSPEC, 0, 0, 0]);
        put(&mut bytes, 20, &index);
        let flags = if up { IFF_UP } else { 0 };
        put(&mut bytes, 24, &flags.to_ne_bytes());
        put(&mut bytes, 28, &IFF_UP.to_ne_bytes());
        Ok(Self {
            bytes,
            len: LINK_LEN,
            seq,
            op: if up { "set link up" } else { "set link down" },
        })
    }

    /// The wire bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// The sequence number the request carries, which its ACK must echo.
    #[must_use]
    pub const fn seq(&self) -> u32 {
        self.seq
    }

    /// What the request does, for error context (`"add address"`, `"set link up"`).
    #[must_use]
    pub const fn op(&self) -> &'static str {
        self.op
    }
}

/// A NETLINK_ROUTE socket for [`FixedRequest`]s, each answered by one ACK.
///
/// Nothing here allocates, locks or panics, so it is usable after `clone`/`fork` in a
/// multi-threaded process. Every error is a `Copy` [`Error`] without heap data. The
/// socket is close-on-exec, has the crate's receive timeout, and is closed on drop.
#[derive(Debug)]
pub struct AckSocket {
    fd: OwnedFd,
}

impl AckSocket {
    /// Opens the socket in the calling thread's network namespace.
    ///
    /// # Errors
    /// [`Error::Open`] or [`Error::SocketOption`].
    pub fn open() -> Result<Self, Error> {
        Ok(Self {
            fd: open_route_socket()?,
        })
    }

    /// Sends `request` to the kernel.
    ///
    /// # Errors
    /// [`Error::Send`] or [`Error::ShortSend`].
    pub fn send(&self, request: &FixedRequest) -> Result<(), Error> {
        send_to_kernel(&self.fd, request.op, request.bytes())
    }

    /// Reads the ACK for `request` (one datagram, into a stack buffer).
    ///
    /// # Errors
    /// A refusal as [`Error::Exists`], [`Error::NotFound`] or [`Error::Kernel`];
    /// [`Error::Receive`], [`Error::ReceiveTruncated`] and [`Error::ForeignSender`] for the
    /// transport; frame errors, [`Error::UnexpectedMessageType`] or
    /// [`Error::SequenceMismatch`] for a reply that is not this request's ACK.
    pub fn receive_ack(&self, request: &FixedRequest) -> Result<(), Error> {
        let mut buf = [0u8; ACK_BUFFER_LEN];
        let mut tries = 0;
        let len = loop {
            match rustix::net::recvfrom(&self.fd, &mut buf[..], RecvFlags::TRUNC) {
                Err(Errno::INTR) if tries < MAX_EINTR_RETRIES => tries += 1,
                Err(errno) => {
                    return Err(Error::Receive {
                        op: request.op,
                        errno,
                    });
                }
                Ok((_, full, _)) if full > ACK_BUFFER_LEN => {
                    return Err(Error::ReceiveTruncated {
                        len: full,
                        capacity: ACK_BUFFER_LEN,
                    });
                }
                Ok((_, full, from)) => {
                    let port = from
                        .and_then(|a| SocketAddrNetlink::try_from(a).ok())
                        .map_or(u32::MAX, |a| a.pid());
                    if port != 0 {
                        return Err(Error::ForeignSender { port });
                    }
                    break full;
                }
            }
        };
        parse_ack_packet(buf.get(..len).unwrap_or(&[]), request)
    }

    /// Sends `request` and reads its ACK.
    ///
    /// # Errors
    /// Those of [`AckSocket::send`] and [`AckSocket::receive_ack`].
    pub fn exchange(&self, request: &FixedRequest) -> Result<(), Error> {
        self.send(request)?;
        self.receive_ack(request)
    }
}

/// Finds the ACK for `request` at the start of `packet`.
fn parse_ack_packet(packet: &[u8], request: &FixedRequest) -> Result<(), Error> {
    let frame = Frames::new(packet).next().ok_or(Error::MissingReply {
        op: request.op,
        what: "an ACK",
    })??;
    if frame.header.kind != NLMSG_ERROR {
        return Err(Error::UnexpectedMessageType {
            kind: frame.header.kind,
            context: "awaiting an ACK",
        });
    }
    if frame.header.seq != request.seq {
        return Err(Error::SequenceMismatch {
            expected: request.seq,
            got: frame.header.seq,
        });
    }
    match read_errno(frame.payload, "NLMSG_ERROR")? {
        0 => Ok(()),
        errno => Err(refusal(request.op, errno)),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_types, clippy::disallowed_macros)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::address::{self, AddressOptions};
    use crate::header::Header;
    use crate::link;

    proptest! {
        #[test]
        fn fixed_address_equals_the_general_builder(
            seq in any::<u32>(),
            index in 1u32..=MAX_INDEX,
            octets in any::<[u8; 4]>(),
            prefix in 0u8..=32,
        ) {
            let ip = Ipv4Addr::from(octets);
            let fixed = FixedRequest::add_ipv4_address(seq, index, ip, prefix).unwrap();
            let net = ipnetwork::Ipv4Network::new(ip, prefix).unwrap();
            let mut general = address::add(index, net.into(), AddressOptions::default()).unwrap();
            general.set_seq(seq);
            prop_assert_eq!(fixed.bytes(), general.bytes());
            prop_assert_eq!(fixed.seq(), seq);
        }

        #[test]
        fn fixed_link_up_equals_the_general_builder(
            seq in any::<u32>(),
            index in 1u32..=MAX_INDEX,
            up in any::<bool>(),
        ) {
            let fixed = FixedRequest::set_link_up(seq, index, up).unwrap();
            let mut general = link::set_up(index, up).unwrap();
            general.set_seq(seq);
            prop_assert_eq!(fixed.bytes(), general.bytes());
        }
    }

    #[test]
    fn encoders_refuse_what_the_kernel_cannot_take() {
        assert_eq!(
            FixedRequest::add_ipv4_address(1, 1, Ipv4Addr::LOCALHOST, 33),
            Err(Error::InvalidPrefix {
                what: "an IPv4 address",
                prefix: 33
            })
        );
        let big = MAX_INDEX + 1;
        assert_eq!(
            FixedRequest::set_link_up(1, big, true),
            Err(Error::InvalidIndex { index: big })
        );
    }

    fn ack(seq: u32, errno: i32) -> Vec<u8> {
        let mut v = Header {
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
    fn ack_parser_reports_refusals_and_rejects_strangers() {
        let req = FixedRequest::set_link_up(7, 1, true).unwrap();
        assert_eq!(parse_ack_packet(&ack(7, 0), &req), Ok(()));
        assert_eq!(
            parse_ack_packet(&ack(7, 17), &req),
            Err(Error::Exists { op: "set link up" })
        );
        assert_eq!(
            parse_ack_packet(&ack(7, 1), &req),
            Err(Error::Kernel {
                op: "set link up",
                errno: Errno::PERM
            })
        );
        assert_eq!(
            parse_ack_packet(&ack(8, 0), &req),
            Err(Error::SequenceMismatch {
                expected: 7,
                got: 8
            })
        );
        assert!(matches!(
            parse_ack_packet(&[], &req),
            Err(Error::MissingReply { .. })
        ));
        assert_eq!(
            parse_ack_packet(&ack(7, -5), &req),
            Err(Error::InvalidErrno { errno: 5 })
        );
        assert!(
            parse_ack_packet(&ack(7, 0)[..18], &req).is_err(),
            "truncated"
        );
        let mut done = ack(7, 0);
        done[4] = 3;
        assert_eq!(
            parse_ack_packet(&done, &req),
            Err(Error::UnexpectedMessageType {
                kind: 3,
                context: "awaiting an ACK"
            })
        );
    }

    #[test]
    fn socket_exchange_brings_a_link_up_and_reports_refusals() {
        let name = "socket_exchange_brings_a_link_up_and_reports_refusals";
        if !crate::testns::enter_throwaway_netns(name) {
            return;
        }
        let sock = AckSocket::open().unwrap();
        let addr = FixedRequest::add_ipv4_address(1, 1, Ipv4Addr::LOCALHOST, 8).unwrap();
        sock.exchange(&addr).unwrap();
        sock.exchange(&FixedRequest::set_link_up(2, 1, true).unwrap())
            .unwrap();
        assert_eq!(
            sock.exchange(&addr),
            Err(Error::Exists { op: "add address" })
        );
        let missing = FixedRequest::set_link_up(3, 999, true).unwrap();
        assert!(sock.exchange(&missing).unwrap_err().is_not_found());
        let mut nl = crate::Netlink::open().unwrap();
        assert!(nl.link_by_index(1).unwrap().is_up());
    }
}
