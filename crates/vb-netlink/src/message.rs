//! Whole-packet parsing into typed messages: the entry point for fuzzing and for tools
//! that hold captured netlink bytes.

use crate::ack::{parse_ack, read_errno, refusal};
use crate::address::Address;
use crate::error::Error;
use crate::frame::{Frame, Frames};
use crate::link::Link;
use crate::route::Route;
use crate::uapi::{
    NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE,
};

/// One parsed rtnetlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `RTM_NEWLINK`.
    Link(Link),
    /// `RTM_NEWADDR`.
    Address(Address),
    /// `RTM_NEWROUTE`.
    Route(Route),
    /// `NLMSG_ERROR` with errno 0.
    Ack,
    /// `NLMSG_DONE` with errno 0: the end of a dump.
    Done,
    /// `NLMSG_NOOP`.
    Noop,
}

impl Message {
    /// Parses one frame. A NACK (or a failed `NLMSG_DONE`) becomes the mapped error.
    pub(crate) fn parse(frame: &Frame<'_>) -> Result<Self, Error> {
        const OP: &str = "parse packet";
        match frame.header.kind {
            NLMSG_NOOP => Ok(Self::Noop),
            NLMSG_ERROR => parse_ack(OP, frame.payload).map(|()| Self::Ack),
            NLMSG_DONE => match read_errno(frame.payload, "NLMSG_DONE")? {
                0 => Ok(Self::Done),
                errno => Err(refusal(OP, errno)),
            },
            NLMSG_OVERRUN => Err(Error::Overrun { op: OP }),
            RTM_NEWLINK => Link::parse(frame.payload).map(Self::Link),
            RTM_NEWADDR => Address::parse(frame.payload).map(Self::Address),
            RTM_NEWROUTE => Route::parse(frame.payload).map(Self::Route),
            kind => Err(Error::UnexpectedMessageType {
                kind,
                context: "parsing a packet",
            }),
        }
    }
}

/// Parses every frame of `packet` into a typed message.
///
/// Bounded by [`crate::limits::MAX_FRAMES_PER_PACKET`] frames and
/// [`crate::limits::MAX_ATTRIBUTES_PER_MESSAGE`] attributes per message; never panics.
///
/// # Errors
/// The first malformed frame, attribute or payload, or the first kernel refusal, as the
/// [`Error`] variant naming the failing check.
pub fn parse_packet(packet: &[u8]) -> Result<Vec<Message>, Error> {
    let mut out = Vec::new();
    for frame in Frames::new(packet) {
        out.push(Message::parse(&frame?)?);
    }
    Ok(out)
}
