//! Real kernel replies (see `tests/fixtures/README.md`) parsed back to the values of the
//! topology they were captured from.

// Helpers outside #[test] functions fail the test by panicking, like the tests do.
#![allow(clippy::unwrap_used)]
#![cfg(target_endian = "little")]

use std::net::IpAddr;

use vb_netlink::ipnetwork::IpNetwork;
use vb_netlink::{Address, Link, Message, Route, parse_packet};

fn fixture(name: &str) -> Vec<Message> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).unwrap();
    let mut messages = parse_packet(&bytes).unwrap();
    assert_eq!(
        messages.pop(),
        Some(Message::Done),
        "{name} ends with NLMSG_DONE"
    );
    messages
}

fn links() -> Vec<Link> {
    fixture("links.bin")
        .into_iter()
        .map(|m| match m {
            Message::Link(l) => l,
            other => panic!("not a link: {other:?}"),
        })
        .collect()
}

fn addresses() -> Vec<Address> {
    fixture("addresses.bin")
        .into_iter()
        .map(|m| match m {
            Message::Address(a) => a,
            other => panic!("not an address: {other:?}"),
        })
        .collect()
}

fn routes(file: &str) -> Vec<Route> {
    fixture(file)
        .into_iter()
        .map(|m| match m {
            Message::Route(r) => r,
            other => panic!("not a route: {other:?}"),
        })
        .collect()
}

fn by_name<'a>(links: &'a [Link], name: &str) -> &'a Link {
    links.iter().find(|l| l.name == name).unwrap()
}

fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn link_dump_holds_lo_the_veth_pair_and_the_bridge() {
    let links = links();
    let names: Vec<String> = links.iter().map(|l| l.name.to_string()).collect();
    assert_eq!(names, ["lo", "vbfix1", "vbfix0", "vbfixbr"]);
    let lo = by_name(&links, "lo");
    assert_eq!(
        (lo.index, lo.mtu, lo.kind.as_deref()),
        (1, Some(65536), None)
    );
    let (v0, v1, br) = (
        by_name(&links, "vbfix0"),
        by_name(&links, "vbfix1"),
        by_name(&links, "vbfixbr"),
    );
    assert!(links.iter().all(Link::is_up));
    assert_eq!(
        (v0.kind.as_deref(), v1.kind.as_deref()),
        (Some("veth"), Some("veth"))
    );
    assert_eq!(
        (v0.link, v1.link),
        (Some(v1.index), Some(v0.index)),
        "peers name each other"
    );
    assert_eq!(br.kind.as_deref(), Some("bridge"));
    assert_eq!((v1.master, v0.master), (Some(br.index), None));
    assert_eq!(v0.mtu, Some(1500));
    assert!(v0.mac.is_some_and(|m| m != [0; 6]));
}

#[test]
fn address_dump_holds_the_configured_ipv4_and_ipv6_addresses() {
    let links = links();
    let v0 = by_name(&links, "vbfix0").index;
    let addrs = addresses();
    let find = |n: &str| addrs.iter().find(|a| a.network == net(n)).unwrap();
    let lo4 = find("127.0.0.1/8");
    assert_eq!(
        (lo4.index, lo4.scope, lo4.label.as_deref()),
        (1, 254, Some("lo"))
    );
    let a4 = find("10.9.0.1/24");
    assert_eq!(
        (a4.index, a4.scope, a4.label.as_deref()),
        (v0, 0, Some("vbfix0"))
    );
    let a6 = find("fd09::1/64");
    assert_eq!((a6.index, a6.scope), (v0, 0));
    assert_ne!(a6.flags & 0x02, 0, "IFA_F_NODAD was requested");
    assert_eq!(find("::1/128").index, 1);
    let link_local = addrs.iter().filter(|a| a.scope == 253).count();
    assert_eq!(
        link_local, 3,
        "the kernel's fe80:: on each non-loopback link"
    );
    assert!(addrs.iter().all(|a| a.peer.is_none()));
}

#[test]
fn ipv4_route_dump_holds_gateway_prefsrc_table_and_metric() {
    let links = links();
    let v0 = by_name(&links, "vbfix0").index;
    let routes = routes("routes_v4.bin");
    let find = |n: &str, table: u32| {
        routes
            .iter()
            .find(|r| r.destination == net(n) && r.table == table)
            .unwrap()
    };
    let default = find("0.0.0.0/0", 254);
    assert!(default.is_default());
    assert_eq!(
        (default.gateway, default.oif, default.priority),
        (Some(ip("10.9.0.254")), Some(v0), Some(100))
    );
    let via = find("10.10.0.0/16", 254);
    assert_eq!((via.gateway, via.oif), (Some(ip("10.9.0.254")), Some(v0)));
    let other_table = find("192.0.2.0/24", 100);
    assert_eq!(
        (other_table.prefsrc, other_table.oif, other_table.gateway),
        (Some(ip("10.9.0.1")), Some(v0), None)
    );
    let connected = find("10.9.0.0/24", 254);
    assert_eq!(
        (connected.protocol, connected.scope, connected.prefsrc),
        (2, 253, Some(ip("10.9.0.1")))
    );
    let local = find("127.0.0.1/32", 255);
    assert_eq!((local.kind, local.oif), (2, Some(1)));
    assert_eq!(routes.len(), 9);
}

#[test]
fn ipv6_route_dump_holds_gateway_routes_and_the_default() {
    let links = links();
    let v0 = by_name(&links, "vbfix0").index;
    let routes = routes("routes_v6.bin");
    let default = routes
        .iter()
        .find(|r| r.destination == net("::/0"))
        .unwrap();
    assert!(default.is_default());
    assert_eq!(
        (default.gateway, default.oif, default.table),
        (Some(ip("fd09::fe")), Some(v0), 254)
    );
    let via = routes
        .iter()
        .find(|r| r.destination == net("fd10::/48"))
        .unwrap();
    assert_eq!(
        (via.gateway, via.oif, via.priority),
        (Some(ip("fd09::fe")), Some(v0), Some(1024))
    );
    let multicast = routes.iter().filter(|r| r.kind == 5).count();
    assert_eq!(multicast, 3, "ff00::/8 on each non-loopback link");
    assert!(routes.iter().all(|r| r.family() == vb_netlink::Family::V6));
}
