//! Regenerates the kernel-reply fixtures under `tests/fixtures/` (root only, ignored by
//! default): `cargo test -p vb-netlink --lib capture_fixtures -- --ignored`.
//!
//! The topology is built in a throwaway network namespace, so the fixtures hold nothing
//! of the host, and is described in `tests/fixtures/README.md`.

use crate::address::{self, AddressOptions};
use crate::client::Netlink;
use crate::family::Family;
use crate::ifname::IfName;
use crate::route::{self, RouteSpec};
use crate::socket::Socket;
use crate::uapi::{RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE};

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

/// Builds the fixture topology in the current namespace.
fn build_topology(nl: &mut Netlink) {
    let lo_address = "127.0.0.1/8".parse().unwrap();
    nl.add_address(1, lo_address, AddressOptions::default())
        .unwrap();
    nl.set_link_up(1, true).unwrap();
    nl.add_veth(&name("vbfix0"), &name("vbfix1"), None).unwrap();
    nl.add_bridge(&name("vbfixbr")).unwrap();
    let v0 = nl.link_by_name(&name("vbfix0")).unwrap().index;
    let v1 = nl.link_by_name(&name("vbfix1")).unwrap().index;
    let br = nl.link_by_name(&name("vbfixbr")).unwrap().index;
    nl.set_link_master(v1, Some(br)).unwrap();
    for i in [v0, v1, br] {
        nl.set_link_up(i, true).unwrap();
    }
    let nodad = AddressOptions { nodad: true };
    nl.add_address(v0, "10.9.0.1/24".parse().unwrap(), nodad)
        .unwrap();
    nl.add_address(v0, "fd09::1/64".parse().unwrap(), nodad)
        .unwrap();
    let ip = |s: &str| s.parse().unwrap();
    let specs = [
        RouteSpec::new("10.10.0.0/16".parse().unwrap()).gateway(ip("10.9.0.254")),
        RouteSpec::new("0.0.0.0/0".parse().unwrap())
            .gateway(ip("10.9.0.254"))
            .priority(100),
        RouteSpec::new("192.0.2.0/24".parse().unwrap())
            .oif(v0)
            .prefsrc(ip("10.9.0.1"))
            .table(100),
        RouteSpec::new("fd10::/48".parse().unwrap()).gateway(ip("fd09::fe")),
        RouteSpec::new("::/0".parse().unwrap())
            .gateway(ip("fd09::fe"))
            .oif(v0),
    ];
    for spec in &specs {
        nl.add_route(spec).unwrap();
    }
}

#[test]
#[ignore = "rewrites the committed fixtures; run by hand as root"]
fn capture_fixtures() {
    if !crate::testns::enter_throwaway_netns("capture_fixtures") {
        return;
    }
    let mut nl = Netlink::open().unwrap();
    build_topology(&mut nl);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = Socket::open().unwrap();
    let dumps = [
        (
            "links.bin",
            s.dump_raw(crate::link::dump().unwrap(), RTM_NEWLINK),
        ),
        (
            "addresses.bin",
            s.dump_raw(address::dump(None).unwrap(), RTM_NEWADDR),
        ),
        (
            "routes_v4.bin",
            s.dump_raw(route::dump(Family::V4).unwrap(), RTM_NEWROUTE),
        ),
        (
            "routes_v6.bin",
            s.dump_raw(route::dump(Family::V6).unwrap(), RTM_NEWROUTE),
        ),
    ];
    for (file, bytes) in dumps {
        std::fs::write(dir.join(file), bytes.unwrap()).unwrap();
    }
}
