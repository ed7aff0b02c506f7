//! Bringing up `lo` inside a freshly cloned sandbox child, where nothing may allocate,
//! lock or panic (see the fork-safety rule of voidbox's design).
//!
//! The decision lives here: `lo` is index 1 in every network namespace, gets 127.0.0.1/8
//! (an existing one is fine), then `IFF_UP`, as bubblewrap does for `--unshare-net`. The
//! requests are encoded at compile time by vb-netlink's [`FixedRequest`]; the child only
//! opens an [`AckSocket`], sends them, reads each ACK into a stack buffer and closes the
//! socket. Every failure is a `Copy` value.

// Everything here runs between clone and exec.
#![deny(clippy::disallowed_types, clippy::disallowed_macros)]

use core::fmt;
use core::net::Ipv4Addr;

use rustix::io::Errno;
use vb_netlink::{AckSocket, Error as NetlinkError, FixedRequest};

/// The loopback interface's index in every network namespace (`LOOPBACK_IFINDEX`).
const LO_INDEX: u32 = 1;
const ADDRESS_SEQ: u32 = 1;
const LINK_SEQ: u32 = 2;

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
/// Built in the parent (the requests are compile-time constants); applied in the child
/// with [`LoopbackSetup::apply`], which does not allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopbackSetup {
    address: FixedRequest,
    link: FixedRequest,
}

impl Default for LoopbackSetup {
    fn default() -> Self {
        Self::new()
    }
}

/// Both requests, encoded during compilation: an encoder refusing these constant inputs
/// would be a compile error, so no runtime path can fail to build them.
const LOOPBACK: LoopbackSetup = {
    let address = FixedRequest::add_ipv4_address(ADDRESS_SEQ, LO_INDEX, Ipv4Addr::LOCALHOST, 8);
    let link = FixedRequest::set_link_up(LINK_SEQ, LO_INDEX, true);
    match (address, link) {
        (Ok(address), Ok(link)) => LoopbackSetup { address, link },
        _ => panic!("the loopback requests do not encode"),
    }
};

impl LoopbackSetup {
    /// `RTM_NEWADDR 127.0.0.1/8 scope host dev lo` and `RTM_NEWLINK lo up`, addressing
    /// `lo` by its fixed index 1.
    #[must_use]
    pub const fn new() -> Self {
        LOOPBACK
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
        let socket = AckSocket::open().map_err(|e| LoopbackError {
            step: LoopbackStep::OpenSocket,
            errno: errno_of(&e),
        })?;
        let steps = [(&self.address, Steps::ADDRESS), (&self.link, Steps::LINK)];
        for (request, steps) in steps {
            socket.send(request).map_err(|e| LoopbackError {
                step: steps.send,
                errno: errno_of(&e),
            })?;
            match socket.receive_ack(request) {
                Ok(()) => {}
                Err(NetlinkError::Exists { .. }) if steps.tolerate_exists => {}
                Err(e) => {
                    let step = if is_refusal(&e) {
                        steps.refused
                    } else {
                        steps.receive
                    };
                    return Err(LoopbackError {
                        step,
                        errno: errno_of(&e),
                    });
                }
            }
        }
        Ok(())
    }

    /// The address request's wire bytes (for inspection and tests).
    #[must_use]
    pub fn address_request(&self) -> &[u8] {
        self.address.bytes()
    }

    /// The link request's wire bytes (for inspection and tests).
    #[must_use]
    pub fn link_request(&self) -> &[u8] {
        self.link.bytes()
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

/// Whether the kernel answered with a refusal (as opposed to a transport or parse error).
fn is_refusal(e: &NetlinkError) -> bool {
    matches!(
        e,
        NetlinkError::Exists { .. } | NetlinkError::NotFound { .. } | NetlinkError::Kernel { .. }
    )
}

/// The errno a vb-netlink error stands for in a [`LoopbackError`].
fn errno_of(e: &NetlinkError) -> i32 {
    match e {
        NetlinkError::Open(errno)
        | NetlinkError::Send { errno, .. }
        | NetlinkError::Receive { errno, .. }
        | NetlinkError::SocketOption { errno, .. }
        | NetlinkError::NotFound { errno, .. }
        | NetlinkError::Kernel { errno, .. } => errno.raw_os_error(),
        NetlinkError::Exists { .. } => Errno::EXIST.raw_os_error(),
        NetlinkError::ReceiveTruncated { .. } | NetlinkError::ShortSend { .. } => {
            Errno::MSGSIZE.raw_os_error()
        }
        _ => Errno::BADMSG.raw_os_error(),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_types, clippy::disallowed_macros)]
mod tests {
    use super::*;

    /// The requests as the kernel's own tools would send them, little-endian.
    #[test]
    #[cfg(target_endian = "little")]
    fn requests_match_their_golden_bytes() {
        let setup = LoopbackSetup::new();
        let address: [u8; 40] = [
            40, 0, 0, 0, 20, 0, 0x05, 0x06, 1, 0, 0, 0, 0, 0, 0,
            0, // RTM_NEWADDR, create|excl|ack
            2, 8, 0, 254, 1, 0, 0, 0, // AF_INET /8, scope host, lo
            8, 0, 2, 0, 127, 0, 0, 1, // IFA_LOCAL
            8, 0, 1, 0, 127, 0, 0, 1, // IFA_ADDRESS
        ];
        assert_eq!(setup.address_request(), address);
        let link: [u8; 32] = [
            32, 0, 0, 0, 16, 0, 0x05, 0, 2, 0, 0, 0, 0, 0, 0, 0, // RTM_NEWLINK, ack
            0, 0, 0, 0, 1, 0, 0, 0, // AF_UNSPEC, lo
            1, 0, 0, 0, 1, 0, 0, 0, // IFF_UP set, IFF_UP changed
        ];
        assert_eq!(setup.link_request(), link);
    }

    #[test]
    fn errors_map_to_the_errno_they_stand_for() {
        let op = "op";
        assert_eq!(errno_of(&NetlinkError::Exists { op }), libc::EEXIST);
        assert_eq!(
            errno_of(&NetlinkError::Kernel {
                op,
                errno: Errno::PERM
            }),
            libc::EPERM
        );
        assert_eq!(
            errno_of(&NetlinkError::ShortSend {
                op,
                sent: 1,
                len: 2
            }),
            libc::EMSGSIZE
        );
        assert_eq!(
            errno_of(&NetlinkError::SequenceMismatch {
                expected: 1,
                got: 2
            }),
            libc::EBADMSG
        );
        assert!(is_refusal(&NetlinkError::Exists { op }));
        assert!(!is_refusal(&NetlinkError::Receive {
            op,
            errno: Errno::AGAIN
        }));
    }

    #[test]
    fn apply_brings_lo_up_with_its_address_and_tolerates_a_second_run() {
        let name = "apply_brings_lo_up_with_its_address_and_tolerates_a_second_run";
        if !crate::testns::enter_throwaway_netns(name) {
            return;
        }
        let setup = LoopbackSetup::new();
        let mut nl = vb_netlink::Netlink::open().unwrap();
        assert!(
            !nl.link_by_index(1).unwrap().is_up(),
            "lo starts down in a new namespace"
        );
        setup.apply().unwrap();
        let lo = nl.link_by_index(1).unwrap();
        assert_eq!(lo.name, "lo");
        assert!(lo.is_up());
        let addrs = nl.addresses(Some(vb_netlink::Family::V4)).unwrap();
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
