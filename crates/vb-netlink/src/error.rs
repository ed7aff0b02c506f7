//! The crate's error type: one variant per failing step, each with its context.
//!
//! No variant owns heap memory, so an error can be built (and matched) in a freshly
//! cloned child, where allocating is forbidden.

use rustix::io::Errno;

/// Everything that can go wrong while building a request, talking to the kernel, or
/// parsing its replies.
///
/// Offsets in parse errors are byte offsets into the region being parsed (a packet for
/// frame errors, a message's attribute area for attribute errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)` failed.
    #[error("opening a NETLINK_ROUTE socket failed: {0}")]
    Open(Errno),
    /// A socket option could not be set.
    #[error("setting socket option {option} failed: {errno}")]
    SocketOption {
        /// The option's name.
        option: &'static str,
        /// The error from `setsockopt`.
        errno: Errno,
    },
    /// `sendto` failed.
    #[error("sending the {op} request failed: {errno}")]
    Send {
        /// The operation whose request was being sent.
        op: &'static str,
        /// The error from `sendto`.
        errno: Errno,
    },
    /// `sendto` accepted fewer bytes than the request holds.
    #[error("short send of the {op} request: {sent} of {len} bytes")]
    ShortSend {
        /// The operation whose request was being sent.
        op: &'static str,
        /// Bytes accepted.
        sent: usize,
        /// Bytes in the request.
        len: usize,
    },
    /// `recvfrom` failed (`EAGAIN` after the receive timeout).
    #[error("receiving the reply to {op} failed: {errno}")]
    Receive {
        /// The operation whose reply was awaited.
        op: &'static str,
        /// The error from `recvfrom`.
        errno: Errno,
    },
    /// A datagram was larger than the receive buffer (detected with `MSG_TRUNC`).
    #[error("a reply datagram of {len} bytes exceeds the {capacity}-byte receive buffer")]
    ReceiveTruncated {
        /// The datagram's real length.
        len: usize,
        /// The buffer's length.
        capacity: usize,
    },
    /// A datagram came from a netlink port other than the kernel's (port 0).
    #[error("a reply came from netlink port {port}, not from the kernel")]
    ForeignSender {
        /// The sender's port id.
        port: u32,
    },
    /// A reply frame carries a sequence number other than the request's.
    #[error("reply sequence number {got} does not match the request's {expected}")]
    SequenceMismatch {
        /// The request's sequence number.
        expected: u32,
        /// The reply's.
        got: u32,
    },
    /// Fewer bytes than a netlink header remain and they are not zero padding.
    #[error("truncated netlink header at offset {offset}: {available} bytes left, 16 needed")]
    TruncatedHeader {
        /// Offset of the would-be header.
        offset: usize,
        /// Bytes left in the packet.
        available: usize,
    },
    /// A frame's `nlmsg_len` is smaller than its own header (0 included).
    #[error("netlink frame at offset {offset} declares length {len}, less than its header")]
    FrameTooShort {
        /// Offset of the frame.
        offset: usize,
        /// The declared length.
        len: u32,
    },
    /// A frame's `nlmsg_len` runs past the end of the packet.
    #[error("netlink frame at offset {offset} declares length {len}, only {available} bytes left")]
    FrameOverrun {
        /// Offset of the frame.
        offset: usize,
        /// The declared length.
        len: u32,
        /// Bytes left in the packet from the frame's start.
        available: usize,
    },
    /// An alignment padding byte is not zero.
    #[error("non-zero padding byte at offset {offset}")]
    NonZeroPadding {
        /// Offset of the offending byte.
        offset: usize,
    },
    /// A packet holds more frames than [`crate::limits::MAX_FRAMES_PER_PACKET`].
    #[error("more than {cap} frames in one packet")]
    TooManyFrames {
        /// The cap.
        cap: usize,
    },
    /// Fewer bytes than an attribute header remain and they are not zero padding.
    #[error("truncated attribute header at offset {offset}: {available} bytes left, 4 needed")]
    TruncatedAttribute {
        /// Offset of the would-be attribute.
        offset: usize,
        /// Bytes left.
        available: usize,
    },
    /// An attribute's length is smaller than its own header (0 included).
    #[error("attribute at offset {offset} declares length {len}, less than its header")]
    AttributeTooShort {
        /// Offset of the attribute.
        offset: usize,
        /// The declared length.
        len: u16,
    },
    /// An attribute's length runs past the end of its message.
    #[error("attribute at offset {offset} declares length {len}, only {available} bytes left")]
    AttributeOverrun {
        /// Offset of the attribute.
        offset: usize,
        /// The declared length.
        len: u16,
        /// Bytes left from the attribute's start.
        available: usize,
    },
    /// A message holds more attributes than [`crate::limits::MAX_ATTRIBUTES_PER_MESSAGE`].
    #[error("more than {cap} attributes in one message")]
    TooManyAttributes {
        /// The cap.
        cap: usize,
    },
    /// A message payload is shorter than its fixed header (`ifinfomsg`, `rtmsg`, …).
    #[error("{what} payload of {len} bytes is shorter than the {needed} bytes required")]
    ShortPayload {
        /// What was being parsed.
        what: &'static str,
        /// Bytes present.
        len: usize,
        /// Bytes required.
        needed: usize,
    },
    /// An attribute's payload has the wrong size for its type.
    #[error("attribute {what} has {len} payload bytes, expected {expected}")]
    AttributeSize {
        /// The attribute.
        what: &'static str,
        /// Bytes present.
        len: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// An interface name attribute lacks its NUL terminator.
    #[error("interface name attribute is not NUL-terminated")]
    IfNameNotTerminated,
    /// An interface name is empty, too long or contains a forbidden byte.
    #[error("invalid interface name: {reason}")]
    InvalidIfName {
        /// Why it is rejected.
        reason: &'static str,
    },
    /// An interface alias is too long or contains a NUL byte.
    #[error("invalid interface alias: {reason}")]
    InvalidAlias {
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A frame's type is not one the current exchange can carry.
    #[error("unexpected netlink message type {kind} while {context}")]
    UnexpectedMessageType {
        /// The frame's `nlmsg_type`.
        kind: u16,
        /// What was being done.
        context: &'static str,
    },
    /// An address family this crate does not handle (only IPv4 and IPv6 are).
    #[error("unsupported address family {family} in {context}")]
    UnsupportedFamily {
        /// The family number.
        family: u8,
        /// Where it was found.
        context: &'static str,
    },
    /// A required attribute is absent from a message.
    #[error("{what} is missing from the message")]
    MissingAttribute {
        /// The attribute.
        what: &'static str,
    },
    /// An `NLMSG_ERROR` or `NLMSG_DONE` carries an errno that is positive or `i32::MIN`.
    #[error("invalid errno {errno} in a kernel reply")]
    InvalidErrno {
        /// The raw value.
        errno: i32,
    },
    /// The kernel refused with `EEXIST`: the object already exists.
    #[error("{op}: the object already exists")]
    Exists {
        /// The operation.
        op: &'static str,
    },
    /// The kernel refused with `ENODEV`, `ENOENT`, `ESRCH` or `EADDRNOTAVAIL`.
    #[error("{op}: not found ({errno})")]
    NotFound {
        /// The operation.
        op: &'static str,
        /// The errno.
        errno: Errno,
    },
    /// The kernel refused with any other errno.
    #[error("{op}: the kernel refused: {errno}")]
    Kernel {
        /// The operation.
        op: &'static str,
        /// The errno.
        errno: Errno,
    },
    /// The kernel flagged a dump as inconsistent (`NLM_F_DUMP_INTR`); retrying may help.
    #[error("{op}: the dump was interrupted by a concurrent change")]
    DumpInterrupted {
        /// The operation.
        op: &'static str,
    },
    /// The kernel reported `NLMSG_OVERRUN`: messages were lost.
    #[error("{op}: the kernel reported a netlink overrun")]
    Overrun {
        /// The operation.
        op: &'static str,
    },
    /// A dump did not end within [`crate::limits::MAX_PACKETS_PER_DUMP`] packets.
    #[error("a dump sent more than {cap} packets without ending")]
    TooManyPackets {
        /// The cap.
        cap: usize,
    },
    /// A dump returned more than [`crate::limits::MAX_MESSAGES_PER_DUMP`] messages.
    #[error("a dump returned more than {cap} messages")]
    TooManyMessages {
        /// The cap.
        cap: usize,
    },
    /// A reply ended (or a request got no answer) where a message was required.
    #[error("{op}: the kernel's reply ended without {what}")]
    MissingReply {
        /// The operation.
        op: &'static str,
        /// What was expected.
        what: &'static str,
    },
    /// A request would exceed [`crate::limits::MAX_REQUEST_LEN`] (or the caller's buffer).
    #[error("the request needs {needed} bytes, more than the {capacity}-byte buffer")]
    RequestTooLarge {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        capacity: usize,
    },
    /// An interface index does not fit the kernel's signed 32-bit field.
    #[error("interface index {index} is out of range")]
    InvalidIndex {
        /// The index.
        index: u32,
    },
    /// A prefix length exceeds the address width of its family.
    #[error("prefix length {prefix} is too long for {what}")]
    InvalidPrefix {
        /// Where it was found.
        what: &'static str,
        /// The prefix length.
        prefix: u8,
    },
    /// Addresses of different families were mixed in one request.
    #[error("{what} is not of the same address family as the destination")]
    FamilyMismatch {
        /// The mismatching field.
        what: &'static str,
    },
}

impl Error {
    /// Whether the kernel said the object does not exist (teardown can treat this as done).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Whether the kernel said the object already exists.
    #[must_use]
    pub fn is_exists(&self) -> bool {
        matches!(self, Self::Exists { .. })
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
