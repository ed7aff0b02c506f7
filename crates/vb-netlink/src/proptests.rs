//! Property tests: what the builders write, the parser reads back unchanged; arbitrary and
//! mutated bytes never panic the parser and never yield more than the caps allow.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;
use proptest::prelude::*;

use crate::address::{self, AddressOptions};
use crate::exchange::{Exchange, Expect};
use crate::ifname::IfName;
use crate::limits::{MAX_ATTRIBUTES_PER_MESSAGE, MAX_FRAMES_PER_PACKET};
use crate::link;
use crate::message::{Message, parse_packet};
use crate::route::{self, RouteSpec};
use crate::uapi::RTM_NEWLINK;

fn ifname() -> impl Strategy<Value = IfName> {
    "[a-z][a-z0-9_.-]{0,14}".prop_filter_map("valid name", |s| IfName::new(&s).ok())
}

fn v4_net() -> impl Strategy<Value = IpNetwork> {
    (any::<u32>(), 0u8..=32)
        .prop_map(|(a, p)| IpNetwork::new(IpAddr::V4(Ipv4Addr::from(a)), p).unwrap())
}

fn v6_net() -> impl Strategy<Value = IpNetwork> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, p)| IpNetwork::new(IpAddr::V6(Ipv6Addr::from(a)), p).unwrap())
}

fn any_net() -> impl Strategy<Value = IpNetwork> {
    prop_oneof![v4_net(), v6_net()]
}

/// A route spec whose gateway and source share the destination's family.
fn route_spec() -> impl Strategy<Value = RouteSpec> {
    (
        any_net(),
        any::<u128>(),
        any::<u128>(),
        any::<bool>(),
        any::<bool>(),
        any::<Option<u32>>(),
        any::<u32>(),
        any::<Option<u32>>(),
    )
        .prop_map(|(dst, g, s, has_g, has_s, oif, table, priority)| {
            let same = |bits: u128| match dst {
                IpNetwork::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(bits >> 96).unwrap())),
                IpNetwork::V6(_) => IpAddr::V6(Ipv6Addr::from(bits)),
            };
            RouteSpec {
                destination: dst,
                gateway: has_g.then(|| same(g)),
                prefsrc: has_s.then(|| same(s)),
                oif,
                table,
                priority,
            }
        })
}

fn one(bytes: &[u8]) -> Message {
    let mut msgs = parse_packet(bytes).unwrap();
    assert_eq!(msgs.len(), 1);
    msgs.remove(0)
}

proptest! {
    #[test]
    fn address_add_request_parses_back_to_the_same_address(index in 1u32..=i32::MAX as u32, net in any_net(), nodad in any::<bool>()) {
        let req = address::add(index, net, AddressOptions { nodad }).unwrap();
        let Message::Address(a) = one(req.bytes()) else { panic!("not an address") };
        prop_assert_eq!(a.index, index);
        prop_assert_eq!(a.network, net);
        prop_assert_eq!(a.peer, None);
    }

    #[test]
    fn route_add_request_parses_back_to_the_same_route(spec in route_spec()) {
        let req = route::add(&spec).unwrap();
        let Message::Route(r) = one(req.bytes()) else { panic!("not a route") };
        let masked = IpNetwork::new(spec.destination.network(), spec.destination.prefix()).unwrap();
        prop_assert_eq!(r.destination, masked);
        prop_assert_eq!(r.gateway, spec.gateway);
        prop_assert_eq!(r.prefsrc, spec.prefsrc);
        prop_assert_eq!(r.oif, spec.oif);
        prop_assert_eq!(r.table, spec.table);
        prop_assert_eq!(r.priority, spec.priority);
    }

    #[test]
    fn bridge_and_veth_requests_parse_back_to_their_name_and_kind(name in ifname(), peer in ifname()) {
        let Message::Link(l) = one(link::add_bridge(&name).unwrap().bytes()) else { panic!() };
        prop_assert_eq!(l.name, name);
        prop_assert_eq!(l.kind.as_deref(), Some("bridge"));
        let Message::Link(l) = one(link::add_veth(&name, &peer, None).unwrap().bytes()) else { panic!() };
        prop_assert_eq!(l.name, name);
        prop_assert_eq!(l.kind.as_deref(), Some("veth"));
        let Message::Link(l) = one(link::set_name(7, &name).unwrap().bytes()) else { panic!() };
        prop_assert_eq!((l.index, l.name), (7, name));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_under_the_frame_cap(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        if let Ok(msgs) = parse_packet(&bytes) {
            prop_assert!(msgs.len() <= MAX_FRAMES_PER_PACKET);
        }
        let mut ex = Exchange::new("fuzz", 1, Expect::Dump(RTM_NEWLINK));
        let mut visits = 0usize;
        let _ = ex.feed(&bytes, &mut |_| { visits += 1; Ok(()) });
        prop_assert!(visits <= MAX_FRAMES_PER_PACKET);
    }

    #[test]
    fn mutated_requests_never_panic(spec in route_spec(), name in ifname(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut packet = route::add(&spec).unwrap().bytes().to_vec();
        packet.extend_from_slice(link::add_veth(&name, &name, None).unwrap().bytes());
        for (at, byte) in &edits {
            let i = at.index(packet.len());
            packet[i] = *byte;
        }
        let _ = parse_packet(&packet);
        let _ = parse_packet(&packet[..cut.index(packet.len() + 1)]);
    }

    #[test]
    fn attribute_floods_stop_at_the_attribute_cap(count in (MAX_ATTRIBUTES_PER_MESSAGE - 2)..(MAX_ATTRIBUTES_PER_MESSAGE + 40)) {
        // A link frame whose name is followed by `count` empty attributes.
        let mut body = vec![0u8; 16];
        body.extend_from_slice(&[7, 0, 3, 0, b'l', b'o', 0, 0]);
        for _ in 0..count {
            body.extend_from_slice(&[4, 0, 99, 0]);
        }
        let mut packet = crate::header::Header { len: u32::try_from(16 + body.len()).unwrap(), kind: RTM_NEWLINK, flags: 0, seq: 0, port: 0 }.encode().to_vec();
        packet.extend(body);
        let result = parse_packet(&packet);
        if count < MAX_ATTRIBUTES_PER_MESSAGE {
            prop_assert!(result.is_ok());
        } else {
            prop_assert_eq!(result, Err(crate::Error::TooManyAttributes { cap: MAX_ATTRIBUTES_PER_MESSAGE }));
        }
    }
}
