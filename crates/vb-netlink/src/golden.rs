//! Golden byte vectors for every request kind, written out by hand from the UAPI struct
//! layouts (little-endian hosts), so that a change to the wire format cannot pass
//! unnoticed.

#![cfg(target_endian = "little")]

use std::os::fd::AsRawFd;

use crate::address::{self, AddressOptions};
use crate::family::Family;
use crate::ifname::IfName;
use crate::link::{self, Netns};
use crate::request::Request;
use crate::route::{self, RouteSpec};

/// Hex digits to bytes; spaces, newlines and `|` separate fields for readability.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn bytes(r: crate::error::Result<Request>) -> Vec<u8> {
    r.unwrap().bytes().to_vec()
}

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

// Header fields: len(4) type(2) flags(2) seq(4) port(4); seq is stamped at send time.
const IFINFO_ZERO: &str = "00 00 0000 00000000 00000000 00000000";

#[test]
fn get_link_by_name() {
    let want = hex(&format!(
        "28000000 1200 0100 00000000 00000000 | {IFINFO_ZERO} | 0700 0300 6c6f0000"
    ));
    assert_eq!(bytes(link::get_by_name(&name("lo"))), want);
}

#[test]
fn get_link_by_index() {
    let want = hex("20000000 1200 0100 00000000 00000000 | 00 00 0000 07000000 00000000 00000000");
    assert_eq!(bytes(link::get_by_index(7)), want);
}

#[test]
fn dump_links() {
    let want = hex(&format!(
        "20000000 1200 0103 00000000 00000000 | {IFINFO_ZERO}"
    ));
    assert_eq!(bytes(link::dump()), want);
}

#[test]
fn add_bridge() {
    let want = hex(&format!(
        "38000000 1000 0506 00000000 00000000 | {IFINFO_ZERO} | 0800 0300 62723000 |
         1000 1280 | 0b00 0100 62726964 67650000"
    ));
    assert_eq!(bytes(link::add_bridge(&name("br0"))), want);
}

#[test]
fn add_veth_pair_here() {
    let want = hex(&format!(
        "58000000 1000 0506 00000000 00000000 | {IFINFO_ZERO} | 0700 0300 76300000 |
         3000 1280 | 0900 0100 76657468 00000000 | 2000 0280 | 1c00 0100 | {IFINFO_ZERO} |
         0700 0300 76310000"
    ));
    assert_eq!(bytes(link::add_veth(&name("v0"), &name("v1"), None)), want);
}

#[test]
fn add_veth_pair_with_peer_in_namespace_of_pid() {
    let want = hex(&format!(
        "60000000 1000 0506 00000000 00000000 | {IFINFO_ZERO} | 0700 0300 76300000 |
         3800 1280 | 0900 0100 76657468 00000000 | 2800 0280 | 2400 0100 | {IFINFO_ZERO} |
         0700 0300 76310000 | 0800 1300 d2040000"
    ));
    assert_eq!(
        bytes(link::add_veth(
            &name("v0"),
            &name("v1"),
            Some(Netns::Pid(1234))
        )),
        want
    );
}

#[test]
fn add_veth_pair_with_peer_in_namespace_of_fd() {
    let file = std::fs::File::open("/dev/null").unwrap();
    let fd = u32::try_from(file.as_raw_fd()).unwrap();
    let mut want = hex(&format!(
        "60000000 1000 0506 00000000 00000000 | {IFINFO_ZERO} | 0700 0300 76300000 |
         3800 1280 | 0900 0100 76657468 00000000 | 2800 0280 | 2400 0100 | {IFINFO_ZERO} |
         0700 0300 76310000 | 0800 1c00"
    ));
    want.extend_from_slice(&fd.to_le_bytes());
    let ns = Some(Netns::Fd(std::os::fd::AsFd::as_fd(&file)));
    assert_eq!(bytes(link::add_veth(&name("v0"), &name("v1"), ns)), want);
}

#[test]
fn set_link_up_and_down() {
    let up = hex("20000000 1000 0500 00000000 00000000 | 00 00 0000 03000000 01000000 01000000");
    let down = hex("20000000 1000 0500 00000000 00000000 | 00 00 0000 03000000 00000000 01000000");
    assert_eq!(bytes(link::set_up(3, true)), up);
    assert_eq!(bytes(link::set_up(3, false)), down);
}

#[test]
fn set_link_master_and_release() {
    let head = "28000000 1000 0500 00000000 00000000 | 00 00 0000 03000000 00000000 00000000";
    assert_eq!(
        bytes(link::set_master(3, Some(5))),
        hex(&format!("{head} | 0800 0a00 05000000"))
    );
    assert_eq!(
        bytes(link::set_master(3, None)),
        hex(&format!("{head} | 0800 0a00 00000000"))
    );
}

#[test]
fn move_link_to_namespace_of_pid() {
    let want = hex(
        "28000000 1000 0500 00000000 00000000 | 00 00 0000 03000000 00000000 00000000 |
         0800 1300 2a000000",
    );
    assert_eq!(bytes(link::set_netns(3, Netns::Pid(42))), want);
}

#[test]
fn rename_link() {
    let want = hex(
        "2c000000 1000 0500 00000000 00000000 | 00 00 0000 03000000 00000000 00000000 |
         0900 0300 65746839 00000000",
    );
    assert_eq!(bytes(link::set_name(3, &name("eth9"))), want);
}

#[test]
fn delete_link() {
    let want = hex("20000000 1100 0500 00000000 00000000 | 00 00 0000 03000000 00000000 00000000");
    assert_eq!(bytes(link::delete(3)), want);
}

#[test]
fn add_ipv4_address() {
    let want = hex(
        "28000000 1400 0506 00000000 00000000 | 02 18 00 00 02000000 |
         0800 0200 0a000001 | 0800 0100 0a000001",
    );
    let net = "10.0.0.1/24".parse().unwrap();
    assert_eq!(bytes(address::add(2, net, AddressOptions::default())), want);
}

#[test]
fn add_loopback_address_gets_host_scope() {
    let want = hex(
        "28000000 1400 0506 00000000 00000000 | 02 08 00 fe 01000000 |
         0800 0200 7f000001 | 0800 0100 7f000001",
    );
    let net = "127.0.0.1/8".parse().unwrap();
    assert_eq!(bytes(address::add(1, net, AddressOptions::default())), want);
}

#[test]
fn add_ipv6_address_without_dad() {
    let want = hex(
        "2c000000 1400 0506 00000000 00000000 | 0a 40 02 00 02000000 |
         1400 0100 fd000000 00000000 00000000 00000001",
    );
    let net = "fd00::1/64".parse().unwrap();
    assert_eq!(
        bytes(address::add(2, net, AddressOptions { nodad: true })),
        want
    );
}

#[test]
fn delete_ipv4_address() {
    let want = hex(
        "28000000 1500 0500 00000000 00000000 | 02 18 00 00 02000000 |
         0800 0200 0a000001 | 0800 0100 0a000001",
    );
    assert_eq!(
        bytes(address::delete(2, "10.0.0.1/24".parse().unwrap())),
        want
    );
}

#[test]
fn dump_addresses() {
    let all = hex("18000000 1600 0103 00000000 00000000 | 00 00 00 00 00000000");
    let v6 = hex("18000000 1600 0103 00000000 00000000 | 0a 00 00 00 00000000");
    assert_eq!(bytes(address::dump(None)), all);
    assert_eq!(bytes(address::dump(Some(Family::V6))), v6);
}

#[test]
fn add_ipv4_route_via_gateway_clears_host_bits() {
    let want = hex(
        "3c000000 1800 0506 00000000 00000000 | 02 10 00 00 fe 03 00 01 00000000 |
         0800 0f00 fe000000 | 0800 0100 0a020000 | 0800 0500 0a0100fe | 0800 0400 03000000",
    );
    let spec = RouteSpec::new("10.2.3.4/16".parse().unwrap())
        .gateway("10.1.0.254".parse().unwrap())
        .oif(3);
    assert_eq!(bytes(route::add(&spec)), want);
}

#[test]
fn add_ipv4_link_route_with_prefsrc_table_and_metric() {
    let want = hex(
        "44000000 1800 0506 00000000 00000000 | 02 10 00 00 00 03 fd 01 00000000 |
         0800 0f00 e8030000 | 0800 0100 0a030000 | 0800 0700 0a010001 | 0800 0400 03000000 |
         0800 0600 07000000",
    );
    let spec = RouteSpec::new("10.3.0.0/16".parse().unwrap())
        .prefsrc("10.1.0.1".parse().unwrap())
        .oif(3)
        .table(1000)
        .priority(7);
    assert_eq!(bytes(route::add(&spec)), want);
}

#[test]
fn add_ipv6_default_route() {
    let want = hex(
        "38000000 1800 0506 00000000 00000000 | 0a 00 00 00 fe 03 00 01 00000000 |
         0800 0f00 fe000000 | 1400 0500 fd000000 00000000 00000000 000000fe",
    );
    let spec = RouteSpec::new("::/0".parse().unwrap()).gateway("fd00::fe".parse().unwrap());
    assert_eq!(bytes(route::add(&spec)), want);
}

#[test]
fn delete_ipv4_route_matches_any_scope_and_protocol() {
    let want = hex(
        "34000000 1900 0500 00000000 00000000 | 02 10 00 00 fe 00 ff 00 00000000 |
         0800 0f00 fe000000 | 0800 0100 0a020000 | 0800 0500 0a0100fe",
    );
    let spec =
        RouteSpec::new("10.2.0.0/16".parse().unwrap()).gateway("10.1.0.254".parse().unwrap());
    assert_eq!(bytes(route::delete(&spec)), want);
}

#[test]
fn get_route_to_ipv4_and_ipv6_hosts() {
    let v4 = hex(
        "24000000 1a00 0100 00000000 00000000 | 02 20 00 00 00 00 00 00 00000000 |
         0800 0100 0a020304",
    );
    let v6 = hex(
        "30000000 1a00 0100 00000000 00000000 | 0a 80 00 00 00 00 00 00 00000000 |
         1400 0100 fd010000 00000000 00000000 00000005",
    );
    assert_eq!(bytes(route::get("10.2.3.4".parse().unwrap())), v4);
    assert_eq!(bytes(route::get("fd01::5".parse().unwrap())), v6);
}

#[test]
fn dump_routes() {
    let want = hex("1c000000 1a00 0103 00000000 00000000 | 02 00 00 00 00 00 00 00 00000000");
    assert_eq!(bytes(route::dump(Family::V4)), want);
}

#[test]
fn route_with_mixed_families_is_refused() {
    let spec = RouteSpec::new("10.0.0.0/8".parse().unwrap()).prefsrc("fd00::1".parse().unwrap());
    assert_eq!(
        route::add(&spec),
        Err(crate::error::Error::FamilyMismatch {
            what: "the preferred source"
        })
    );
}

#[test]
fn sequence_number_is_stamped_into_the_header() {
    let mut r = link::dump().unwrap();
    r.set_seq(0x0102_0304);
    assert_eq!(r.bytes()[8..12], [4, 3, 2, 1]);
}
