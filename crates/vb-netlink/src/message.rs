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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Header;
    use crate::uapi::{IFLA_IFNAME, IFLA_MTU, RTA_DST, RTA_OIF};

    fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = u16::try_from(4 + payload.len())
            .unwrap()
            .to_ne_bytes()
            .to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(payload);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    fn frame(kind: u16, body: &[u8]) -> Vec<u8> {
        let len = u32::try_from(16 + body.len()).unwrap();
        let mut v = Header {
            len,
            kind,
            flags: 2,
            seq: 1,
            port: 0,
        }
        .encode()
        .to_vec();
        v.extend_from_slice(body);
        v
    }

    fn link_body(attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut b = vec![0u8; 16];
        b[4..8].copy_from_slice(&5u32.to_ne_bytes());
        b[8..12].copy_from_slice(&1u32.to_ne_bytes());
        attrs.iter().for_each(|a| b.extend(a));
        b
    }

    #[test]
    fn parses_a_link_with_name_and_mtu() {
        let body = link_body(&[
            attr(IFLA_IFNAME, b"eth0\0"),
            attr(IFLA_MTU, &1500u32.to_ne_bytes()),
        ]);
        let msgs = parse_packet(&frame(RTM_NEWLINK, &body)).unwrap();
        let Message::Link(link) = &msgs[0] else {
            panic!("{msgs:?}")
        };
        assert_eq!(
            (link.index, link.name.as_str(), link.mtu),
            (5, Some("eth0"), Some(1500))
        );
        assert!(link.is_up());
    }

    #[test]
    fn link_without_a_name_is_missing_attribute() {
        let body = link_body(&[attr(IFLA_MTU, &1500u32.to_ne_bytes())]);
        assert_eq!(
            parse_packet(&frame(RTM_NEWLINK, &body)),
            Err(Error::MissingAttribute {
                what: "IFLA_IFNAME"
            })
        );
    }

    #[test]
    fn unterminated_ifname_is_rejected() {
        let body = link_body(&[attr(IFLA_IFNAME, b"eth0")]);
        assert_eq!(
            parse_packet(&frame(RTM_NEWLINK, &body)),
            Err(Error::IfNameNotTerminated)
        );
    }

    #[test]
    fn short_ifinfomsg_is_short_payload() {
        assert_eq!(
            parse_packet(&frame(RTM_NEWLINK, &[0; 8])),
            Err(Error::ShortPayload {
                what: "ifinfomsg",
                len: 8,
                needed: 16
            })
        );
    }

    #[test]
    fn overrunning_attribute_inside_a_message_is_attribute_overrun() {
        let mut body = link_body(&[attr(IFLA_IFNAME, b"eth0\0")]);
        body[16..18].copy_from_slice(&200u16.to_ne_bytes());
        assert_eq!(
            parse_packet(&frame(RTM_NEWLINK, &body)),
            Err(Error::AttributeOverrun {
                offset: 0,
                len: 200,
                available: 12
            })
        );
    }

    fn route_body(family: u8, dst_len: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut b = vec![family, dst_len, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
        attrs.iter().for_each(|a| b.extend(a));
        b
    }

    #[test]
    fn route_oif_of_wrong_length_is_attribute_size() {
        let body = route_body(2, 0, &[attr(RTA_OIF, &[1, 0])]);
        assert_eq!(
            parse_packet(&frame(RTM_NEWROUTE, &body)),
            Err(Error::AttributeSize {
                what: "RTA_OIF",
                len: 2,
                expected: 4
            })
        );
    }

    #[test]
    fn route_of_unsupported_family_is_rejected() {
        let body = route_body(7, 0, &[]);
        assert_eq!(
            parse_packet(&frame(RTM_NEWROUTE, &body)),
            Err(Error::UnsupportedFamily {
                family: 7,
                context: "rtmsg"
            })
        );
    }

    #[test]
    fn ipv4_destination_of_ipv6_size_is_attribute_size() {
        let body = route_body(2, 8, &[attr(RTA_DST, &[0; 16])]);
        assert_eq!(
            parse_packet(&frame(RTM_NEWROUTE, &body)),
            Err(Error::AttributeSize {
                what: "RTA_DST",
                len: 16,
                expected: 4
            })
        );
    }

    #[test]
    fn prefix_longer_than_the_address_is_invalid_prefix() {
        let body = route_body(2, 33, &[attr(RTA_DST, &[10, 0, 0, 0])]);
        assert_eq!(
            parse_packet(&frame(RTM_NEWROUTE, &body)),
            Err(Error::InvalidPrefix {
                what: "rtmsg",
                prefix: 33
            })
        );
    }

    #[test]
    fn parses_ipv6_route_destination() {
        let mut dst = [0u8; 16];
        dst[0] = 0xfd;
        let body = route_body(
            10,
            48,
            &[attr(RTA_DST, &dst), attr(RTA_OIF, &4u32.to_ne_bytes())],
        );
        let msgs = parse_packet(&frame(RTM_NEWROUTE, &body)).unwrap();
        let Message::Route(r) = &msgs[0] else {
            panic!("{msgs:?}")
        };
        assert_eq!(r.destination, "fd00::/48".parse().unwrap());
        assert_eq!((r.oif, r.table), (Some(4), 254));
    }

    #[test]
    fn unknown_message_type_is_unexpected() {
        assert_eq!(
            parse_packet(&frame(RTM_NEWLINK + 1, &[0; 16])),
            Err(Error::UnexpectedMessageType {
                kind: RTM_NEWLINK + 1,
                context: "parsing a packet"
            })
        );
    }

    #[test]
    fn empty_packet_holds_no_messages() {
        assert_eq!(parse_packet(&[]), Ok(vec![]));
    }
}
