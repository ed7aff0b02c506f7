//! vb-netlink against the real kernel, each test in a throwaway network namespace.
//!
//! Namespaces are per thread and libtest runs every test on its own thread, so each test
//! unshares its thread's network namespace first: the host's network is never touched,
//! and `ip` commands spawned from that thread see the same namespace (a child inherits
//! the namespaces of the thread that forks it). Without root, each test prints
//! `SKIP <name>: <reason>` and returns.

// Helpers outside #[test] functions fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::mpsc;

use vb_net::LoopbackSetup;
use vb_netlink::{AddressOptions, Error, Family, IfName, Link, Netlink, Netns, Route, RouteSpec};

/// Moves the calling thread into a fresh network namespace, or prints SKIP and returns
/// `false`.
fn netns(test: &str) -> bool {
    if !rustix::process::geteuid().is_root() {
        voidbox_tests::skip(test, "needs root to unshare a network namespace");
        return false;
    }
    if Command::new("ip").arg("-V").output().is_err() {
        voidbox_tests::skip(test, "the `ip` command (iproute2) is not installed");
        return false;
    }
    // SAFETY: CLONE_NEWNET changes only this thread's network namespace; nothing else
    // (fd table, memory) is unshared, so other threads see nothing inconsistent.
    match unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) } {
        Ok(()) => true,
        Err(e) => {
            voidbox_tests::skip(test, &format!("unshare(CLONE_NEWNET) failed: {e}"));
            false
        }
    }
}

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

fn net(s: &str) -> vb_netlink::ipnetwork::IpNetwork {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Runs `ip -j ARGS` in the calling thread's namespace and parses its output.
fn ip_json(args: &[&str]) -> json::Value {
    let out = Command::new("ip").arg("-j").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json::parse(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

/// A tiny JSON reader, enough for `ip -j` output.
mod json {
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Value {
        Null,
        Bool(bool),
        Number(String),
        String(String),
        Array(Vec<Value>),
        Object(Vec<(String, Value)>),
    }

    impl Value {
        pub(crate) fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }
        pub(crate) fn str(&self, key: &str) -> Option<&str> {
            match self.get(key)? {
                Value::String(s) => Some(s),
                _ => None,
            }
        }
        pub(crate) fn num(&self, key: &str) -> Option<u64> {
            match self.get(key)? {
                Value::Number(n) => n.parse().ok(),
                _ => None,
            }
        }
        pub(crate) fn items(&self) -> &[Value] {
            match self {
                Value::Array(items) => items,
                _ => &[],
            }
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser {
            b: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }

    struct Parser<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Result<(), String> {
            self.ws();
            if self.b.get(self.i) == Some(&c) {
                self.i += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at {}", c as char, self.i))
            }
        }
        fn value(&mut self) -> Result<Value, String> {
            self.ws();
            match self.b.get(self.i).copied() {
                Some(b'{') => {
                    self.i += 1;
                    let mut fields = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Ok(Value::Object(fields));
                    }
                    loop {
                        self.ws();
                        let key = self.string()?;
                        self.eat(b':')?;
                        fields.push((key, self.value()?));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                return Ok(Value::Object(fields));
                            }
                            _ => return Err(format!("bad object at {}", self.i)),
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        return Ok(Value::Array(items));
                    }
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                return Ok(Value::Array(items));
                            }
                            _ => return Err(format!("bad array at {}", self.i)),
                        }
                    }
                }
                Some(b'"') => Ok(Value::String(self.string()?)),
                Some(b't') => self.word("true", Value::Bool(true)),
                Some(b'f') => self.word("false", Value::Bool(false)),
                Some(b'n') => self.word("null", Value::Null),
                Some(_) => {
                    let start = self.i;
                    while self
                        .b
                        .get(self.i)
                        .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
                    {
                        self.i += 1;
                    }
                    if start == self.i {
                        return Err(format!("unexpected byte at {start}"));
                    }
                    Ok(Value::Number(
                        String::from_utf8_lossy(&self.b[start..self.i]).into(),
                    ))
                }
                None => Err("unexpected end".into()),
            }
        }
        fn word(&mut self, w: &str, v: Value) -> Result<Value, String> {
            if self.b[self.i..].starts_with(w.as_bytes()) {
                self.i += w.len();
                Ok(v)
            } else {
                Err(format!("bad literal at {}", self.i))
            }
        }
        fn string(&mut self) -> Result<String, String> {
            self.eat(b'"')?;
            let mut out = Vec::new();
            loop {
                let c = *self.b.get(self.i).ok_or("unterminated string")?;
                self.i += 1;
                match c {
                    b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                    b'\\' => {
                        let e = *self.b.get(self.i).ok_or("bad escape")?;
                        self.i += 1;
                        match e {
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            b'u' => {
                                let hex = std::str::from_utf8(&self.b[self.i..self.i + 4])
                                    .map_err(|e| e.to_string())?;
                                let cp = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                                self.i += 4;
                                let ch = char::from_u32(cp).unwrap_or('?');
                                out.extend_from_slice(ch.to_string().as_bytes());
                            }
                            other => out.push(other),
                        }
                    }
                    other => out.push(other),
                }
            }
        }
    }
}

/// (index, name, mtu, up, master, kind) of every link, as `ip -d link` shows them.
/// (index, name, mtu, up, master, kind).
type LinkKey = (u32, String, u32, bool, Option<u32>, Option<String>);

fn ip_links() -> BTreeSet<LinkKey> {
    let links = ip_json(&["-d", "link", "show"]);
    let index_of = |n: &str| {
        links
            .items()
            .iter()
            .find(|l| l.str("ifname") == Some(n))
            .and_then(|l| l.num("ifindex"))
    };
    links
        .items()
        .iter()
        .map(|l| {
            let flags = l
                .get("flags")
                .map(|f| f.items().to_vec())
                .unwrap_or_default();
            (
                u32::try_from(l.num("ifindex").unwrap()).unwrap(),
                l.str("ifname").unwrap().to_owned(),
                u32::try_from(l.num("mtu").unwrap()).unwrap(),
                flags.contains(&json::Value::String("UP".into())),
                l.str("master")
                    .and_then(index_of)
                    .map(|i| u32::try_from(i).unwrap()),
                l.get("linkinfo")
                    .and_then(|i| i.str("info_kind"))
                    .map(str::to_owned),
            )
        })
        .collect()
}

fn our_links(nl: &mut Netlink) -> BTreeSet<LinkKey> {
    nl.links()
        .unwrap()
        .into_iter()
        .map(|l: Link| {
            (
                l.index,
                l.name.to_string(),
                l.mtu.unwrap(),
                l.is_up(),
                l.master,
                l.kind.clone(),
            )
        })
        .collect()
}

/// (index, address, prefix, scope) of every address, as `ip addr` shows them.
fn ip_addresses() -> BTreeSet<(u32, IpAddr, u8, u8)> {
    let mut out = BTreeSet::new();
    for link in ip_json(&["addr", "show"]).items() {
        let index = u32::try_from(link.num("ifindex").unwrap()).unwrap();
        for a in link
            .get("addr_info")
            .map(json::Value::items)
            .unwrap_or_default()
        {
            let scope = match a.str("scope").unwrap() {
                "host" => 254,
                "link" => 253,
                "global" => 0,
                other => other.parse().unwrap(),
            };
            let prefix = u8::try_from(a.num("prefixlen").unwrap()).unwrap();
            out.insert((index, ip(a.str("local").unwrap()), prefix, scope));
        }
    }
    out
}

fn our_addresses(nl: &mut Netlink) -> BTreeSet<(u32, IpAddr, u8, u8)> {
    nl.addresses(None)
        .unwrap()
        .into_iter()
        .map(|a| (a.index, a.network.ip(), a.network.prefix(), a.scope))
        .collect()
}

type RouteKey = (
    String,
    Option<IpAddr>,
    Option<u32>,
    u32,
    Option<IpAddr>,
    Option<u32>,
);

/// (destination, gateway, oif, table, prefsrc, metric) of every unicast route of one
/// family in every table, as `ip route show table all` shows them.
fn ip_routes(family: Family, links: &[Link]) -> BTreeSet<RouteKey> {
    let flag = if family == Family::V4 { "-4" } else { "-6" };
    let (any, full) = if family == Family::V4 {
        ("0.0.0.0/0", 32)
    } else {
        ("::/0", 128)
    };
    ip_json(&[flag, "route", "show", "table", "all"])
        .items()
        .iter()
        .filter(|r| r.str("type").is_none_or(|t| t == "unicast"))
        .map(|r| {
            let dst = match r.str("dst").unwrap() {
                "default" => any.to_owned(),
                d if d.contains('/') => d.to_owned(),
                d => format!("{d}/{full}"),
            };
            let table = match r.str("table") {
                None | Some("main") => 254,
                Some("local") => 255,
                Some(n) => n.parse().unwrap(),
            };
            let oif = r
                .str("dev")
                .map(|d| links.iter().find(|l| l.name == d).map(|l| l.index).unwrap());
            (
                dst,
                r.str("gateway").map(ip),
                oif,
                table,
                r.str("prefsrc").map(ip),
                r.num("metric").map(|m| u32::try_from(m).unwrap()),
            )
        })
        .collect()
}

fn our_routes(nl: &mut Netlink, family: Family) -> BTreeSet<RouteKey> {
    nl.routes(family)
        .unwrap()
        .into_iter()
        .filter(|r: &Route| r.kind == 1)
        .map(|r| {
            let metric = r.priority.filter(|m| *m != 0 || family == Family::V6);
            (
                r.destination.to_string(),
                r.gateway,
                r.oif,
                r.table,
                r.prefsrc,
                metric,
            )
        })
        .collect()
}

fn index(nl: &mut Netlink, n: &str) -> u32 {
    nl.link_by_name(&name(n)).unwrap().index
}

#[test]
fn veth_pair_create_dump_and_delete_match_ip() {
    if !netns("veth_pair_create_dump_and_delete_match_ip") {
        return;
    }
    let mut nl = Netlink::open().unwrap();
    nl.add_veth(&name("vt0"), &name("vt1"), None).unwrap();
    let vt0 = nl.link_by_name(&name("vt0")).unwrap();
    let vt1 = nl.link_by_name(&name("vt1")).unwrap();
    assert_eq!(vt0.kind.as_deref(), Some("veth"));
    assert_eq!(vt0.link, Some(vt1.index), "IFLA_LINK names the peer");
    assert_eq!(nl.link_by_index(vt1.index).unwrap().name, "vt1");
    assert_eq!(our_links(&mut nl), ip_links());
    assert_eq!(our_links(&mut nl).len(), 3, "lo and the pair");

    let again = nl.add_veth(&name("vt0"), &name("vt2"), None).unwrap_err();
    assert!(again.is_exists(), "{again}");

    nl.delete_link(vt0.index).unwrap();
    assert!(
        nl.link_by_name(&name("vt1")).unwrap_err().is_not_found(),
        "peer goes too"
    );
    assert!(nl.delete_link(vt0.index).unwrap_err().is_not_found());
    assert_eq!(our_links(&mut nl), ip_links());
}

#[test]
fn bridge_create_enslave_release_and_delete_match_ip() {
    if !netns("bridge_create_enslave_release_and_delete_match_ip") {
        return;
    }
    let mut nl = Netlink::open().unwrap();
    nl.add_bridge(&name("br-t")).unwrap();
    nl.add_veth(&name("vb0"), &name("vb1"), None).unwrap();
    let br = nl.link_by_name(&name("br-t")).unwrap();
    assert_eq!(br.kind.as_deref(), Some("bridge"));
    let vb0 = index(&mut nl, "vb0");
    nl.set_link_master(vb0, Some(br.index)).unwrap();
    assert_eq!(nl.link_by_index(vb0).unwrap().master, Some(br.index));
    assert_eq!(our_links(&mut nl), ip_links());
    nl.set_link_master(vb0, None).unwrap();
    assert_eq!(nl.link_by_index(vb0).unwrap().master, None);
    nl.delete_link(br.index).unwrap();
    assert!(nl.link_by_name(&name("br-t")).unwrap_err().is_not_found());
    assert_eq!(our_links(&mut nl), ip_links());
}

#[test]
fn link_up_down_and_rename_match_ip() {
    if !netns("link_up_down_and_rename_match_ip") {
        return;
    }
    let mut nl = Netlink::open().unwrap();
    nl.add_veth(&name("vu0"), &name("vu1"), None).unwrap();
    let vu0 = index(&mut nl, "vu0");
    nl.set_link_up(vu0, true).unwrap();
    assert!(nl.link_by_index(vu0).unwrap().is_up());
    assert_eq!(our_links(&mut nl), ip_links());
    nl.set_link_up(vu0, false).unwrap();
    assert!(!nl.link_by_index(vu0).unwrap().is_up());
    nl.set_link_name(vu0, &name("renamed")).unwrap();
    assert_eq!(nl.link_by_index(vu0).unwrap().name, "renamed");
    assert!(nl.link_by_name(&name("vu0")).unwrap_err().is_not_found());
    assert_eq!(our_links(&mut nl), ip_links());
}

/// A thread parked in a namespace of its own, running closures there on request.
struct NsThread {
    tid: u32,
    tx: Option<mpsc::Sender<Box<dyn FnOnce() + Send>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl NsThread {
    fn spawn() -> Self {
        let (tx, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let (tid_tx, tid_rx) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            // SAFETY: as in `netns`: only this thread's network namespace changes.
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
                .unwrap();
            tid_tx
                .send(rustix::thread::gettid().as_raw_nonzero().get())
                .unwrap();
            for job in rx {
                job();
            }
        });
        let tid = u32::try_from(tid_rx.recv().unwrap()).unwrap();
        Self {
            tid,
            tx: Some(tx),
            handle: Some(handle),
        }
    }

    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        let job: Box<dyn FnOnce() + Send> = Box::new(move || tx.send(f()).unwrap());
        self.tx.as_ref().unwrap().send(job).unwrap();
        rx.recv().unwrap()
    }

    fn ns_path(&self) -> String {
        format!("/proc/{}/task/{}/ns/net", std::process::id(), self.tid)
    }
}

impl Drop for NsThread {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
    }
}

fn names_in(ns: &NsThread) -> BTreeSet<String> {
    ns.run(|| {
        Netlink::open()
            .unwrap()
            .links()
            .unwrap()
            .iter()
            .map(|l| l.name.to_string())
            .collect()
    })
}

#[test]
fn veth_peer_is_created_in_a_namespace_by_pid_and_by_fd() {
    if !netns("veth_peer_is_created_in_a_namespace_by_pid_and_by_fd") {
        return;
    }
    let other = NsThread::spawn();
    let mut nl = Netlink::open().unwrap();
    nl.add_veth(&name("vp0"), &name("vp1"), Some(Netns::Pid(other.tid)))
        .unwrap();
    let fd = std::fs::File::open(other.ns_path()).unwrap();
    nl.add_veth(&name("vf0"), &name("vf1"), Some(Netns::Fd(fd.as_fd())))
        .unwrap();

    assert!(nl.link_by_name(&name("vp1")).unwrap_err().is_not_found());
    assert!(nl.link_by_name(&name("vf1")).unwrap_err().is_not_found());
    let there = names_in(&other);
    assert!(there.contains("vp1") && there.contains("vf1"), "{there:?}");
    // `ip`, run inside the other namespace, agrees.
    let out = Command::new("nsenter")
        .arg(format!("--net={}", other.ns_path()))
        .args(["ip", "-j", "link", "show"])
        .output()
        .unwrap();
    let ip_names: BTreeSet<String> = json::parse(&String::from_utf8(out.stdout).unwrap())
        .unwrap()
        .items()
        .iter()
        .map(|l| l.str("ifname").unwrap().to_owned())
        .collect();
    assert_eq!(ip_names, there);
}

#[test]
fn link_moves_to_a_namespace_by_pid_and_by_fd() {
    if !netns("link_moves_to_a_namespace_by_pid_and_by_fd") {
        return;
    }
    let other = NsThread::spawn();
    let mut nl = Netlink::open().unwrap();
    nl.add_veth(&name("vm0"), &name("vm1"), None).unwrap();
    nl.add_veth(&name("vn0"), &name("vn1"), None).unwrap();
    nl.add_bridge(&name("brm")).unwrap();
    let vm1 = index(&mut nl, "vm1");
    let vn1 = index(&mut nl, "vn1");
    nl.set_link_netns(vm1, Netns::Pid(other.tid)).unwrap();
    let fd = std::fs::File::open(other.ns_path()).unwrap();
    nl.set_link_netns(vn1, Netns::Fd(fd.as_fd())).unwrap();
    assert!(nl.link_by_index(vm1).unwrap_err().is_not_found());
    assert!(nl.link_by_index(vn1).unwrap_err().is_not_found());
    let there = names_in(&other);
    assert!(there.contains("vm1") && there.contains("vn1"), "{there:?}");
    // Bridges are local to their namespace: the kernel refuses, and we report it.
    let brm = index(&mut nl, "brm");
    let refused = nl.set_link_netns(brm, Netns::Pid(other.tid)).unwrap_err();
    assert!(matches!(refused, Error::Kernel { .. }), "{refused}");
    assert_eq!(our_links(&mut nl), ip_links());
}

#[test]
fn ipv4_and_ipv6_addresses_add_dump_delete_match_ip() {
    if !netns("ipv4_and_ipv6_addresses_add_dump_delete_match_ip") {
        return;
    }
    LoopbackSetup::new().apply().unwrap();
    let mut nl = Netlink::open().unwrap();
    nl.add_veth(&name("va0"), &name("va1"), None).unwrap();
    let va0 = index(&mut nl, "va0");
    let nodad = AddressOptions { nodad: true };
    nl.add_address(va0, net("10.1.0.1/24"), AddressOptions::default())
        .unwrap();
    nl.add_address(va0, net("fd00::1/64"), nodad).unwrap();
    let ours = our_addresses(&mut nl);
    assert!(ours.contains(&(va0, ip("10.1.0.1"), 24, 0)), "{ours:?}");
    assert!(ours.contains(&(va0, ip("fd00::1"), 64, 0)), "{ours:?}");
    assert!(ours.contains(&(1, ip("127.0.0.1"), 8, 254)), "{ours:?}");
    assert_eq!(ours, ip_addresses());
    let v6 = nl.addresses(Some(Family::V6)).unwrap();
    assert!(v6.iter().all(|a| a.family() == Family::V6));

    let dup = nl
        .add_address(va0, net("10.1.0.1/24"), AddressOptions::default())
        .unwrap_err();
    assert!(dup.is_exists(), "{dup}");
    nl.delete_address(va0, net("10.1.0.1/24")).unwrap();
    nl.delete_address(va0, net("fd00::1/64")).unwrap();
    let gone = nl.delete_address(va0, net("10.1.0.1/24")).unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    let ours = our_addresses(&mut nl);
    assert!(
        !ours.iter().any(|a| a.0 == va0 && !a.1.is_ipv6()),
        "{ours:?}"
    );
    assert_eq!(ours, ip_addresses());
}

/// Two veth ends in this namespace, up, with an IPv4 and an IPv6 address on the first.
fn routed_pair(nl: &mut Netlink) -> (u32, u32) {
    nl.add_veth(&name("vr0"), &name("vr1"), None).unwrap();
    let (vr0, vr1) = (index(nl, "vr0"), index(nl, "vr1"));
    nl.set_link_up(vr0, true).unwrap();
    nl.set_link_up(vr1, true).unwrap();
    nl.add_address(vr0, net("10.1.0.1/24"), AddressOptions::default())
        .unwrap();
    nl.add_address(vr0, net("fd00::1/64"), AddressOptions { nodad: true })
        .unwrap();
    (vr0, vr1)
}

#[test]
fn ipv4_and_ipv6_routes_add_get_dump_delete_match_ip() {
    if !netns("ipv4_and_ipv6_routes_add_get_dump_delete_match_ip") {
        return;
    }
    LoopbackSetup::new().apply().unwrap();
    let mut nl = Netlink::open().unwrap();
    let (vr0, vr1) = routed_pair(&mut nl);
    let v4 = RouteSpec::new(net("10.2.0.0/16"))
        .gateway(ip("10.1.0.254"))
        .oif(vr0);
    let v4_src = RouteSpec::new(net("10.3.0.0/16"))
        .oif(vr0)
        .prefsrc(ip("10.1.0.1"));
    let v4_table = RouteSpec::new(net("10.4.0.0/24"))
        .oif(vr1)
        .table(100)
        .priority(7);
    let v6 = RouteSpec::new(net("fd01::/64"))
        .gateway(ip("fd00::fe"))
        .oif(vr0);
    let v6_table = RouteSpec::new(net("fd02::/48")).oif(vr1).table(1000);
    for spec in [&v4, &v4_src, &v4_table, &v6, &v6_table] {
        nl.add_route(spec).unwrap();
    }
    assert!(nl.add_route(&v4).unwrap_err().is_exists());

    let links = nl.links().unwrap();
    assert_eq!(
        our_routes(&mut nl, Family::V4),
        ip_routes(Family::V4, &links)
    );
    assert_eq!(
        our_routes(&mut nl, Family::V6),
        ip_routes(Family::V6, &links)
    );
    let routes = nl.routes(Family::V4).unwrap();
    let table100 = routes.iter().find(|r| r.table == 100).unwrap();
    assert_eq!(
        (table100.destination, table100.priority),
        (net("10.4.0.0/24"), Some(7))
    );
    let with_src = routes
        .iter()
        .find(|r| r.destination == net("10.3.0.0/16"))
        .unwrap();
    assert_eq!(with_src.prefsrc, Some(ip("10.1.0.1")));
    let routes6 = nl.routes(Family::V6).unwrap();
    assert!(
        routes6
            .iter()
            .any(|r| r.table == 1000 && r.destination == net("fd02::/48"))
    );

    let got = nl.route_to(ip("10.2.3.4")).unwrap();
    assert_eq!((got.gateway, got.oif), (Some(ip("10.1.0.254")), Some(vr0)));
    let got6 = nl.route_to(ip("fd01::5")).unwrap();
    assert_eq!((got6.gateway, got6.oif), (Some(ip("fd00::fe")), Some(vr0)));
    let unreachable = nl.route_to(ip("192.0.2.9")).unwrap_err();
    assert!(matches!(unreachable, Error::Kernel { .. }), "{unreachable}");

    for spec in [&v4, &v4_src, &v4_table, &v6, &v6_table] {
        nl.delete_route(spec).unwrap();
    }
    assert!(nl.delete_route(&v4).unwrap_err().is_not_found());
    assert_eq!(
        our_routes(&mut nl, Family::V4),
        ip_routes(Family::V4, &links)
    );
    assert_eq!(
        our_routes(&mut nl, Family::V6),
        ip_routes(Family::V6, &links)
    );
    assert!(
        !nl.routes(Family::V4)
            .unwrap()
            .iter()
            .any(|r| r.table == 100)
    );
}

#[test]
fn route_spec_with_mixed_families_is_refused_before_sending() {
    if !netns("route_spec_with_mixed_families_is_refused_before_sending") {
        return;
    }
    let mut nl = Netlink::open().unwrap();
    let spec = RouteSpec::new(net("10.0.0.0/8")).gateway(ip("fd00::1"));
    assert_eq!(
        nl.add_route(&spec),
        Err(Error::FamilyMismatch {
            what: "the gateway"
        })
    );
}

#[test]
fn default_route_gateway_and_oif_come_from_the_same_message() {
    if !netns("default_route_gateway_and_oif_come_from_the_same_message") {
        return;
    }
    let mut nl = Netlink::open().unwrap();
    assert_eq!(nl.default_route(Family::V4).unwrap(), None);
    let (vr0, vr1) = routed_pair(&mut nl);
    nl.add_address(vr1, net("10.5.0.1/24"), AddressOptions::default())
        .unwrap();
    let via_vr0 = RouteSpec::new(net("0.0.0.0/0"))
        .gateway(ip("10.1.0.254"))
        .priority(100);
    let via_vr1 = RouteSpec::new(net("0.0.0.0/0"))
        .gateway(ip("10.5.0.254"))
        .priority(50);
    nl.add_route(&via_vr0).unwrap();
    let d = nl.default_route(Family::V4).unwrap().unwrap();
    assert_eq!((d.gateway, d.oif), (Some(ip("10.1.0.254")), vr0));
    nl.add_route(&via_vr1).unwrap();
    let d = nl.default_route(Family::V4).unwrap().unwrap();
    assert_eq!(
        (d.gateway, d.oif, d.priority),
        (Some(ip("10.5.0.254")), vr1, 50)
    );
    // `ip route show default` picks the same one first.
    let first = ip_json(&["-4", "route", "show", "default"]).items()[0].clone();
    assert_eq!(first.str("gateway"), Some("10.5.0.254"));
    assert_eq!(first.str("dev"), Some("vr1"));

    nl.add_route(&RouteSpec::new(net("::/0")).gateway(ip("fd00::fe")))
        .unwrap();
    let d6 = nl.default_route(Family::V6).unwrap().unwrap();
    assert_eq!((d6.gateway, d6.oif), (Some(ip("fd00::fe")), vr0));
}

#[test]
fn loopback_setup_applies_in_a_forked_child_of_a_busy_multithreaded_process() {
    let test = "loopback_setup_applies_in_a_forked_child_of_a_busy_multithreaded_process";
    if !netns(test) {
        return;
    }
    let setup = LoopbackSetup::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::black_box(vec![0u8; 4096]);
                }
            })
        })
        .collect();
    for _ in 0..20 {
        // SAFETY: the child runs only allocation-free code (a raw unshare syscall,
        // `LoopbackSetup::apply`, `_exit`), as the fork-safety rule requires.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: only the child's own network namespace changes.
            let code = match unsafe {
                rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET)
            } {
                Err(_) => 3,
                Ok(()) => match setup.apply() {
                    Ok(()) => 0,
                    Err(_) => 4,
                },
            };
            // SAFETY: `_exit` ends the child without running the parent's atexit hooks.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waiting for the child forked just above.
        assert_eq!(unsafe { libc::waitpid(pid, &raw mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "child died: status {status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "apply failed in the child");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in churn {
        t.join().unwrap();
    }
}

#[test]
fn loopback_setup_works_without_root_inside_a_user_namespace() {
    let test = "loopback_setup_works_without_root_inside_a_user_namespace";
    let setup = LoopbackSetup::new();
    // A new user namespace needs a single-threaded caller, hence the fork; the child then
    // owns its network namespace and may configure it without any host privilege.
    // SAFETY: the child runs only allocation-free code (raw syscalls, `apply`, `_exit`).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let flags = rustix::thread::UnshareFlags::NEWUSER | rustix::thread::UnshareFlags::NEWNET;
        // SAFETY: only the child's own user and network namespaces change.
        let code = match unsafe { rustix::thread::unshare_unsafe(flags) } {
            Err(_) => 3,
            Ok(()) => match setup.apply() {
                Ok(()) => 0,
                Err(e) => 10 + u8::try_from(e.errno).unwrap_or(0),
            },
        };
        // SAFETY: `_exit` ends the child without running the parent's atexit hooks.
        unsafe { libc::_exit(i32::from(code)) };
    }
    let mut status = 0;
    // SAFETY: waiting for the child forked just above.
    assert_eq!(unsafe { libc::waitpid(pid, &raw mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died: status {status:#x}");
    match libc::WEXITSTATUS(status) {
        0 => {}
        3 => {
            voidbox_tests::skip(
                test,
                "unshare(CLONE_NEWUSER | CLONE_NEWNET) is not allowed here",
            );
        }
        other => panic!("apply failed in the child: errno {}", other - 10),
    }
}
