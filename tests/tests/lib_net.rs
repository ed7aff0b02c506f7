//! vb-net's bridge networking against the real kernel, as root.
//!
//! Every test moves its own thread into a fresh network namespace that plays the host:
//! the bridge, the host-side veths and the NAT rules live there, never in the machine's
//! own namespace. Sandboxes are forked children that unshare a network namespace of
//! their own and wait to be killed. Traffic goes only between those namespaces (sandbox
//! to gateway and back, sandbox to sandbox); NAT is checked by listing its rules, never by sending
//! anything through it. Bridge lock files go to a directory of the test's own.
//!
//! Without root each test prints `SKIP <name>: <reason>`; so do the NAT tests when `nft`
//! or iptables-nft is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use vb_net::vb_netlink::{AddressOptions, Family, IfName, Netlink, RouteSpec};
use vb_net::{Attachment, BridgePlan, Error, NatBackend, NetworkSpec, SandboxNetns};

/// The test's "host": the thread's own network namespace and a state directory.
struct Host {
    state_dir: PathBuf,
}

impl Host {
    /// Moves the calling thread into a fresh network namespace, or prints SKIP.
    fn enter(test: &str) -> Option<Self> {
        if !voidbox_tests::is_root() {
            voidbox_tests::skip(test, "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)");
            return None;
        }
        // SAFETY: CLONE_NEWNET changes only this thread's network namespace; memory and
        // the descriptor table stay shared, so other threads see nothing inconsistent.
        let entered =
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) };
        if let Err(e) = entered {
            voidbox_tests::skip(test, &format!("unshare(CLONE_NEWNET) failed: {e}"));
            return None;
        }
        let state_dir =
            std::env::temp_dir().join(format!("vb-net-library-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state_dir);
        Some(Self { state_dir })
    }

    fn spec(&self, bridge: &str, subnet: &str) -> NetworkSpec {
        NetworkSpec {
            bridge: bridge.into(),
            subnet: subnet.into(),
            state_dir: self.state_dir.clone(),
            ..NetworkSpec::default()
        }
    }

    /// The names of the links in the host namespace.
    fn links(&self) -> BTreeSet<String> {
        Netlink::open()
            .unwrap()
            .links()
            .unwrap()
            .into_iter()
            .map(|l| l.name.to_string())
            .collect()
    }

    /// An outgoing interface with a default route, as NAT needs: a veth pair with a
    /// documentation-range address. Nothing is ever sent through it.
    fn add_uplink(&self, name: &str, peer: &str, third: u8) {
        let mut nl = Netlink::open().unwrap();
        let (a, b) = (IfName::new(name).unwrap(), IfName::new(peer).unwrap());
        nl.add_veth(&a, &b, None).unwrap();
        for n in [a, b] {
            let index = nl.link_by_name(&n).unwrap().index;
            nl.set_link_up(index, true).unwrap();
        }
        let index = nl.link_by_name(&a).unwrap().index;
        let net = format!("198.51.{third}.1/24").parse().unwrap();
        nl.add_address(index, net, AddressOptions::default())
            .unwrap();
        let gw: IpAddr = format!("198.51.{third}.254").parse().unwrap();
        nl.add_route(&RouteSpec::new("0.0.0.0/0".parse().unwrap()).gateway(gw))
            .unwrap();
    }

    fn delete_link(&self, name: &str) {
        let mut nl = Netlink::open().unwrap();
        let index = nl.link_by_name(&IfName::new(name).unwrap()).unwrap().index;
        nl.delete_link(index).unwrap();
    }

    /// The files left in the state directory.
    fn state_files(&self) -> Vec<String> {
        std::fs::read_dir(&self.state_dir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts that only `expected` links exist, no firewall rule is left, and the
    /// state directory is empty.
    fn assert_clean(&self, expected: &BTreeSet<String>) {
        assert_eq!(&self.links(), expected, "links left behind");
        if has("nft") {
            let ruleset = run("nft", &["list", "ruleset"]);
            assert!(
                !ruleset.contains("voidbox") && !ruleset.contains("masquerade"),
                "rules left behind:\n{ruleset}"
            );
        }
        assert_eq!(
            self.state_files(),
            Vec::<String>::new(),
            "state files left behind"
        );
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// A sandbox: a forked child in a network namespace of its own, killed on drop.
struct Sandbox {
    pid: libc::pid_t,
    netns: SandboxNetns,
}

impl Sandbox {
    /// Forks a child that unshares its network namespace (and its user namespace with
    /// `userns`) and waits to be killed.
    fn new(userns: bool) -> Self {
        let (ready_r, ready_w) = rustix::pipe::pipe().unwrap();
        let flags = if userns {
            libc::CLONE_NEWNET | libc::CLONE_NEWUSER
        } else {
            libc::CLONE_NEWNET
        };
        let ready_raw = ready_w.as_raw_fd();
        // SAFETY: the child makes raw system calls only (no allocation, no locks) and
        // never returns; see below.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: raw system calls on values prepared before the fork. The child keeps
            // only the ready pipe (moved to fd 3), so descriptors other tests' threads
            // opened meanwhile do not stay open in it.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if ready_raw != 3 {
                    libc::dup2(ready_raw, 3);
                }
                libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32);
                let ok: u8 = if libc::unshare(flags) == 0 {
                    b'1'
                } else {
                    b'0'
                };
                libc::write(3, (&raw const ok).cast(), 1);
                libc::close(3);
                loop {
                    libc::pause();
                }
            }
        }
        drop(ready_w);
        let mut byte = [0u8; 1];
        let mut ready = std::fs::File::from(ready_r);
        ready.read_exact(&mut byte).unwrap();
        assert_eq!(&byte, b"1", "the sandbox could not unshare its namespaces");
        let pidfd = rustix::process::pidfd_open(
            rustix::process::Pid::from_raw(pid).unwrap(),
            rustix::process::PidfdFlags::empty(),
        )
        .unwrap();
        let netns = SandboxNetns::from_pidfd(pidfd.as_fd()).unwrap();
        Self { pid, netns }
    }

    /// Runs `f` on a thread inside the sandbox's network namespace.
    fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let fd = self.netns.as_fd();
        std::thread::scope(|s| {
            s.spawn(|| {
                rustix::thread::move_into_link_name_space(
                    fd,
                    Some(rustix::thread::LinkNameSpaceType::Network),
                )
                .unwrap();
                f()
            })
            .join()
            .unwrap()
        })
    }

    /// The sandbox's view: its interfaces' (name, up) and IPv4 addresses, and its IPv4
    /// default route's gateway.
    fn view(&self) -> (Vec<(String, bool)>, Vec<String>, Option<IpAddr>) {
        self.run(|| {
            let mut nl = Netlink::open().unwrap();
            let links = nl
                .links()
                .unwrap()
                .into_iter()
                .map(|l| (l.name.to_string(), l.is_up()))
                .collect();
            let addrs = nl
                .addresses(Some(Family::V4))
                .unwrap()
                .into_iter()
                .map(|a| a.network.to_string())
                .collect();
            let gw = nl
                .default_route(Family::V4)
                .unwrap()
                .and_then(|r| r.gateway);
            (links, addrs, gw)
        })
    }

    fn kill(&mut self) {
        if self.pid > 0 {
            // SAFETY: our own unreaped child, so the pid cannot name another process.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
            self.pid = 0;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.kill();
    }
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs a command in the calling thread's namespace and returns its standard output.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// One request/response exchange over TCP: `client` runs in one namespace, the
/// listener was bound in another.
fn exchange(listener: &TcpListener, client: impl FnOnce(SocketAddr) -> String + Send) -> String {
    let addr = listener.local_addr().unwrap();
    std::thread::scope(|s| {
        let server = s.spawn(|| {
            let (mut stream, peer) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut buf = [0u8; 4];
            stream.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"ping");
            stream.write_all(b"pong").unwrap();
            peer
        });
        let reply = client(addr);
        let peer = server.join().unwrap();
        format!("{reply} from {}", peer.ip())
    })
}

fn ping(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).unwrap();
    String::from_utf8(buf.to_vec()).unwrap()
}

fn ip_of(a: &Attachment) -> Ipv4Addr {
    a.address().ip()
}

/// The sandbox reaches a listener on the gateway over TCP, and the host side
/// reaches a listener on the sandbox's address.
#[test]
fn sandbox_reaches_the_gateway_over_tcp() {
    let Some(host) = Host::enter("sandbox_reaches_the_gateway_over_tcp") else {
        return;
    };
    let before = host.links();
    let plan = BridgePlan::new(&host.spec("vbt-gw", "10.90.0.0/24")).unwrap();
    let sandbox = Sandbox::new(false);
    let mut a = plan.attach(&sandbox.netns).unwrap();
    assert_eq!(
        a.address().to_string(),
        "10.90.0.2/24",
        "the pool's first address"
    );
    assert_eq!(a.gateway(), Ipv4Addr::new(10, 90, 0, 1));

    let (links, addrs, gw) = sandbox.view();
    assert!(links.contains(&("eth0".into(), true)), "{links:?}");
    assert_eq!(addrs, ["10.90.0.2/24"]);
    assert_eq!(gw, Some(IpAddr::V4(Ipv4Addr::new(10, 90, 0, 1))));
    let host_links = host.links();
    assert!(host_links.contains("vbt-gw"));
    assert!(host_links.contains(&a.host_veth().to_string()));
    assert!(
        !host_links.contains("eth0"),
        "the peer never appears on the host"
    );

    let listener = TcpListener::bind((a.gateway(), 0)).unwrap();
    let got = exchange(&listener, |addr| sandbox.run(|| ping(addr)));
    assert_eq!(got, "pong from 10.90.0.2");
    // And the other way: the host side reaches the sandbox's address.
    let inside = sandbox.run(|| TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap());
    let port = inside.local_addr().unwrap().port();
    let got = exchange(&inside, |_| ping(SocketAddr::from((ip_of(&a), port))));
    assert_eq!(got, "pong from 10.90.0.1");

    a.teardown().unwrap();
    host.assert_clean(&before);
}

#[test]
fn two_sandboxes_on_one_bridge_exchange_tcp_data() {
    let Some(host) = Host::enter("two_sandboxes_on_one_bridge_exchange_tcp_data") else {
        return;
    };
    let before = host.links();
    let plan = BridgePlan::new(&host.spec("vbt-pair", "10.91.0.0/16")).unwrap();
    let (s1, s2) = (Sandbox::new(false), Sandbox::new(false));
    let mut a1 = plan.attach(&s1.netns).unwrap();
    let mut a2 = plan.attach(&s2.netns).unwrap();
    assert_ne!(ip_of(&a1), ip_of(&a2));
    let ip1 = ip_of(&a1);
    let listener = s1.run(|| TcpListener::bind((ip1, 0)).unwrap());
    let got = exchange(&listener, |addr| s2.run(|| ping(addr)));
    assert_eq!(got, format!("pong from {}", ip_of(&a2)));

    a1.teardown().unwrap();
    assert!(
        host.links().contains("vbt-pair"),
        "the bridge stays for the second sandbox"
    );
    a2.teardown().unwrap();
    host.assert_clean(&before);
}

#[test]
fn fixed_address_is_assigned_and_refused_while_taken() {
    let Some(host) = Host::enter("fixed_address_is_assigned_and_refused_while_taken") else {
        return;
    };
    let before = host.links();
    let spec = NetworkSpec {
        address: Some("10.92.0.50".into()),
        ifname: "net0".into(),
        ..host.spec("vbt-fixed", "10.92.0.0/24")
    };
    let plan = BridgePlan::new(&spec).unwrap();
    let (s1, s2) = (Sandbox::new(false), Sandbox::new(false));
    let mut a1 = plan.attach(&s1.netns).unwrap();
    assert_eq!(a1.address().to_string(), "10.92.0.50/24");
    let (links, addrs, _) = s1.view();
    assert!(links.contains(&("net0".into(), true)), "{links:?}");
    assert_eq!(addrs, ["10.92.0.50/24"]);

    let err = plan.attach(&s2.netns).unwrap_err();
    assert!(
        matches!(err, Error::AddressInUse { address, .. } if address == Ipv4Addr::new(10, 92, 0, 50)),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "address 10.92.0.50 is already in use on bridge vbt-fixed"
    );
    assert_eq!(
        s2.view().0,
        [("lo".to_owned(), false)],
        "nothing reached the refused sandbox"
    );
    a1.teardown().unwrap();
    host.assert_clean(&before);
}

#[test]
fn pool_exhaustion_with_a_slash_30_is_explicit_and_temporary() {
    let Some(host) = Host::enter("pool_exhaustion_with_a_slash_30_is_explicit_and_temporary")
    else {
        return;
    };
    let before = host.links();
    let plan = BridgePlan::new(&host.spec("vbt-tiny", "10.93.0.4/30")).unwrap();
    assert_eq!(plan.pool_size(), 1);
    let (s1, s2) = (Sandbox::new(false), Sandbox::new(false));
    let mut a1 = plan.attach(&s1.netns).unwrap();
    assert_eq!(a1.address().to_string(), "10.93.0.6/30");
    let err = plan.attach(&s2.netns).unwrap_err();
    assert!(matches!(err, Error::PoolExhausted { size: 1, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "the address pool of 10.93.0.4/30 on bridge vbt-tiny is exhausted: all 1 addresses are in use"
    );
    a1.teardown().unwrap();
    let mut a2 = plan.attach(&s2.netns).unwrap();
    assert_eq!(
        a2.address().to_string(),
        "10.93.0.6/30",
        "freed, then handed out again"
    );
    a2.teardown().unwrap();
    host.assert_clean(&before);
}

#[test]
fn interface_name_collision_in_the_sandbox_leaves_nothing() {
    let Some(host) = Host::enter("interface_name_collision_in_the_sandbox_leaves_nothing") else {
        return;
    };
    let before = host.links();
    let spec = NetworkSpec {
        ifname: "lo".into(),
        ..host.spec("vbt-clash", "10.94.0.0/24")
    };
    let plan = BridgePlan::new(&spec).unwrap();
    let sandbox = Sandbox::new(false);
    let err = plan.attach(&sandbox.netns).unwrap_err();
    assert!(matches!(err, Error::InterfaceExists { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "an interface named lo already exists in the sandbox's network namespace"
    );
    host.assert_clean(&before);
    assert_eq!(sandbox.view().0, [("lo".to_owned(), false)]);
}

#[test]
fn a_foreign_link_holding_a_lease_name_is_skipped() {
    let Some(host) = Host::enter("a_foreign_link_holding_a_lease_name_is_skipped") else {
        return;
    };
    let plan = BridgePlan::new(&host.spec("vbt-skip", "10.95.0.0/24")).unwrap();
    let s1 = Sandbox::new(false);
    let mut a1 = plan.attach(&s1.netns).unwrap();
    let lease_of_2 = a1.host_veth().to_string();
    a1.teardown().unwrap();
    // Something outside voidbox now holds the name of the lease for .2 (unattached, so
    // it is no sandbox, but the name is taken): the next attach moves on to .3.
    let mut nl = Netlink::open().unwrap();
    nl.add_bridge(&IfName::new(&lease_of_2).unwrap()).unwrap();
    let before = host.links();
    let s2 = Sandbox::new(false);
    let mut a2 = plan.attach(&s2.netns).unwrap();
    assert_eq!(a2.address().to_string(), "10.95.0.3/24");
    a2.teardown().unwrap();
    // The foreign link counts as a user of the bridge's lease space: nothing of it is
    // removed, and the bridge stays with it.
    assert!(host.links().is_superset(&before));
    host.delete_link(&lease_of_2);
    let plan_prune = plan.clone();
    plan_prune.prune().unwrap();
    assert!(
        !host.links().contains("vbt-skip"),
        "prune removed the unused bridge"
    );
    assert_eq!(host.state_files(), Vec::<String>::new());
}

/// Masquerade rules in the host namespace's nftables ruleset that mention `subnet`.
fn nft_masquerades(subnet: &str) -> usize {
    run("nft", &["list", "ruleset"])
        .lines()
        .filter(|l| l.contains(subnet) && l.contains("masquerade"))
        .count()
}

#[test]
fn nat_rules_come_with_the_first_sandbox_and_go_with_the_last() {
    let test = "nat_rules_come_with_the_first_sandbox_and_go_with_the_last";
    let Some(host) = Host::enter(test) else {
        return;
    };
    if !has("nft") {
        voidbox_tests::skip(test, "nft is not installed (Debian package nftables)");
        return;
    }
    std::fs::write("/proc/sys/net/ipv4/ip_forward", "0\n").unwrap();
    host.add_uplink("upl0", "upl1", 100);
    let before = host.links();
    let spec = NetworkSpec {
        nat: true,
        nat_backend: NatBackend::Nftables,
        ..host.spec("vbt-nat", "10.96.0.0/16")
    };
    let plan = BridgePlan::new(&spec).unwrap();
    let (s1, s2, s3) = (
        Sandbox::new(false),
        Sandbox::new(false),
        Sandbox::new(false),
    );
    let mut a1 = plan.attach(&s1.netns).unwrap();
    let ruleset = run("nft", &["list", "table", "inet", "voidbox-vbt-nat"]);
    assert!(
        ruleset.contains("ip saddr 10.96.0.0/16 oifname \"upl0\" masquerade"),
        "{ruleset}"
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        "1\n"
    );
    let mut a2 = plan.attach(&s2.netns).unwrap();
    let mut a3 = plan.attach(&s3.netns).unwrap();
    assert_eq!(
        nft_masquerades("10.96.0.0/16"),
        1,
        "repeated launches add no duplicate"
    );

    a1.teardown().unwrap();
    a2.teardown().unwrap();
    assert_eq!(
        nft_masquerades("10.96.0.0/16"),
        1,
        "the last sandbox still uses them"
    );
    a3.teardown().unwrap();
    assert_eq!(nft_masquerades("10.96.0.0/16"), 0);
    host.assert_clean(&before);
}

#[test]
fn nat_rules_follow_a_new_outgoing_interface() {
    let test = "nat_rules_follow_a_new_outgoing_interface";
    let Some(host) = Host::enter(test) else {
        return;
    };
    if !has("nft") {
        voidbox_tests::skip(test, "nft is not installed (Debian package nftables)");
        return;
    }
    host.add_uplink("olda0", "olda1", 101);
    let spec = NetworkSpec {
        nat: true,
        ..host.spec("vbt-move", "10.97.0.0/24")
    };
    let plan = BridgePlan::new(&spec).unwrap();
    let (s1, s2) = (Sandbox::new(false), Sandbox::new(false));
    let mut a1 = plan.attach(&s1.netns).unwrap();
    let table = || run("nft", &["list", "table", "inet", "voidbox-vbt-move"]);
    assert!(table().contains("oifname \"olda0\""));
    // The outgoing interface disappears and the default route now leaves by another.
    host.delete_link("olda0");
    host.add_uplink("newb0", "newb1", 102);
    let mut a2 = plan.attach(&s2.netns).unwrap();
    let now = table();
    assert!(
        now.contains("oifname \"newb0\"") && !now.contains("olda0"),
        "{now}"
    );
    assert_eq!(nft_masquerades("10.97.0.0/24"), 1);
    a1.teardown().unwrap();
    a2.teardown().unwrap();
    // Deleting one end of the old uplink deleted both.
    host.assert_clean(&names(&["lo", "newb0", "newb1"]));
}

#[test]
fn iptables_nft_backend_writes_one_chain_and_removes_it() {
    let test = "iptables_nft_backend_writes_one_chain_and_removes_it";
    let Some(host) = Host::enter(test) else {
        return;
    };
    let iptables_nft = Command::new("iptables")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("nf_tables"));
    if !iptables_nft {
        voidbox_tests::skip(
            test,
            "iptables-nft is not installed (Debian package iptables)",
        );
        return;
    }
    host.add_uplink("ipt0", "ipt1", 103);
    let before = host.links();
    let spec = NetworkSpec {
        nat: true,
        nat_backend: NatBackend::IptablesNft,
        ..host.spec("vbt-ipt", "10.98.0.0/24")
    };
    let plan = BridgePlan::new(&spec).unwrap();
    let (s1, s2) = (Sandbox::new(false), Sandbox::new(false));
    let mut a1 = plan.attach(&s1.netns).unwrap();
    let mut a2 = plan.attach(&s2.netns).unwrap();
    let saved = run("iptables-save", &["-t", "nat"]);
    let ours: Vec<&str> = saved.lines().filter(|l| l.contains("VB-vbt-ipt")).collect();
    assert_eq!(
        ours,
        [
            ":VB-vbt-ipt - [0:0]",
            "-A POSTROUTING -j VB-vbt-ipt",
            "-A VB-vbt-ipt -s 10.98.0.0/24 -o ipt0 -j MASQUERADE",
        ],
        "{saved}"
    );
    a1.teardown().unwrap();
    a2.teardown().unwrap();
    let saved = run("iptables-save", &["-t", "nat"]);
    assert!(
        !saved.contains("VB-") && !saved.contains("MASQUERADE"),
        "{saved}"
    );
    assert_eq!(host.links(), before);
    assert_eq!(host.state_files(), Vec::<String>::new());
}

#[test]
fn ipv6_subnet_adds_a_second_address_route_and_rule() {
    let test = "ipv6_subnet_adds_a_second_address_route_and_rule";
    let Some(host) = Host::enter(test) else {
        return;
    };
    if !has("nft") {
        voidbox_tests::skip(test, "nft is not installed (Debian package nftables)");
        return;
    }
    host.add_uplink("up6a", "up6b", 106);
    let before = host.links();
    let spec = NetworkSpec {
        ipv6_subnet: Some("fd00:103::/64".into()),
        nat: true,
        ..host.spec("vbt-six", "10.103.0.0/24")
    };
    let plan = BridgePlan::new(&spec).unwrap();
    let sandbox = Sandbox::new(false);
    let mut a = plan.attach(&sandbox.netns).unwrap();
    assert_eq!(a.address_v6().unwrap().to_string(), "fd00:103::2/64");
    let gw6 = a.gateway_v6().unwrap();
    assert_eq!(gw6.to_string(), "fd00:103::1");
    let (addrs6, route6) = sandbox.run(|| {
        let mut nl = Netlink::open().unwrap();
        let addrs: Vec<String> = nl
            .addresses(Some(Family::V6))
            .unwrap()
            .into_iter()
            .filter(|a| a.scope == 0)
            .map(|a| a.network.to_string())
            .collect();
        (
            addrs,
            nl.default_route(Family::V6)
                .unwrap()
                .and_then(|r| r.gateway),
        )
    });
    assert_eq!(addrs6, ["fd00:103::2/64"]);
    assert_eq!(route6, Some(IpAddr::V6(gw6)));
    let listener = TcpListener::bind((gw6, 0)).unwrap();
    assert_eq!(
        exchange(&listener, |addr| sandbox.run(|| ping(addr))),
        "pong from fd00:103::2"
    );
    let table = run("nft", &["list", "table", "inet", "voidbox-vbt-six"]);
    assert!(
        table.contains("ip6 saddr fd00:103::/64 oifname \"up6a\" masquerade"),
        "{table}"
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/forwarding").unwrap(),
        "1\n"
    );
    a.teardown().unwrap();
    host.assert_clean(&before);
}

#[test]
fn sixteen_parallel_setups_on_one_bridge_get_distinct_addresses() {
    let Some(host) = Host::enter("sixteen_parallel_setups_on_one_bridge_get_distinct_addresses")
    else {
        return;
    };
    let before = host.links();
    let plan = Arc::new(BridgePlan::new(&host.spec("vbt-par", "10.99.0.0/24")).unwrap());
    let barrier = Arc::new(Barrier::new(16));
    // Threads start in this thread's namespace, the test's host.
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (plan, barrier) = (plan.clone(), barrier.clone());
            std::thread::spawn(move || {
                let sandbox = Sandbox::new(false);
                barrier.wait();
                let a = plan.attach(&sandbox.netns).unwrap();
                let (_, addrs, _) = sandbox.view();
                assert_eq!(
                    addrs,
                    [a.address().to_string()],
                    "the sandbox has its address"
                );
                barrier.wait();
                (a, sandbox)
            })
        })
        .collect();
    let attached: Vec<(Attachment, Sandbox)> =
        workers.into_iter().map(|w| w.join().unwrap()).collect();
    let addresses: BTreeSet<Ipv4Addr> = attached.iter().map(|(a, _)| ip_of(a)).collect();
    assert_eq!(addresses.len(), 16, "{addresses:?}");
    let veths: BTreeSet<String> = attached
        .iter()
        .map(|(a, _)| a.host_veth().to_string())
        .collect();
    assert_eq!(veths.len(), 16);
    // Tear down concurrently too, from threads in other namespaces than the host's.
    let teardowns: Vec<_> = attached
        .into_iter()
        .map(|(mut a, sandbox)| {
            std::thread::spawn(move || {
                // SAFETY: CLONE_NEWNET changes only this thread's network namespace.
                unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
                    .unwrap();
                a.teardown().unwrap();
                drop(sandbox);
            })
        })
        .collect();
    for t in teardowns {
        t.join().unwrap();
    }
    host.assert_clean(&before);
}

#[test]
fn teardown_is_idempotent_and_dropping_tears_down() {
    let Some(host) = Host::enter("teardown_is_idempotent_and_dropping_tears_down") else {
        return;
    };
    let before = host.links();
    let plan = BridgePlan::new(&host.spec("vbt-idem", "10.100.0.0/24")).unwrap();
    let (s1, s2) = (Sandbox::new(false), Sandbox::new(false));
    let mut a1 = plan.attach(&s1.netns).unwrap();
    a1.teardown().unwrap();
    assert!(a1.is_torn_down());
    a1.teardown().unwrap();
    a1.teardown().unwrap();
    host.assert_clean(&before);
    drop(a1);
    let a2 = plan.attach(&s2.netns).unwrap();
    assert!(host.links().contains("vbt-idem"));
    drop(a2);
    host.assert_clean(&before);
}

#[test]
fn a_kept_bridge_survives_its_last_sandbox_and_a_failed_attach() {
    let test = "a_kept_bridge_survives_its_last_sandbox_and_a_failed_attach";
    let Some(host) = Host::enter(test) else {
        return;
    };
    let before = host.links();
    let kept = NetworkSpec {
        keep_bridge: true,
        ..host.spec("vbt-keep", "10.104.0.0/24")
    };
    let plan = BridgePlan::new(&kept).unwrap();
    let (s1, s2) = (Sandbox::new(false), Sandbox::new(false));
    let mut a1 = plan.attach(&s1.netns).unwrap();
    a1.teardown().unwrap();
    assert!(
        host.links().contains("vbt-keep"),
        "kept after its last sandbox"
    );
    // Another subnet on the same bridge is refused, and the refusal removes nothing.
    let other = BridgePlan::new(&host.spec("vbt-keep", "10.105.0.0/24")).unwrap();
    let err = other.attach(&s2.netns).unwrap_err();
    assert!(matches!(err, Error::SubnetMismatch { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "bridge vbt-keep carries 10.104.0.1/24 but not the gateway 10.105.0.1/24: it serves \
         another subnet (choose another bridge name or that subnet)"
    );
    assert!(host.links().contains("vbt-keep"));
    assert_eq!(
        host.links().len(),
        before.len() + 1,
        "no veth left by the refusal"
    );
    // Pruning removes it now that it is unused.
    plan.prune().unwrap();
    host.assert_clean(&before);
}

/// A creator killed between creating its bridge and marking it as voidbox's
/// (two requests: the kernel ignores an alias in the creating one) leaves an
/// unmarked bridge and a lock file still recording `creating`: that bridge is
/// voidbox's and goes with its next last user. An unmarked bridge without
/// that record is the administrator's and stays.
#[test]
fn an_unmarked_bridge_is_voidboxs_only_when_its_creation_was_recorded() {
    let test = "an_unmarked_bridge_is_voidboxs_only_when_its_creation_was_recorded";
    let Some(host) = Host::enter(test) else {
        return;
    };
    let before = host.links();
    let netns = std::fs::metadata("/proc/thread-self/ns/net")
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let mut nl = Netlink::open().unwrap();
    for name in ["vbt-half", "vbt-admin"] {
        nl.add_bridge(&IfName::new(name).unwrap()).unwrap();
    }
    std::fs::create_dir_all(&host.state_dir).unwrap();
    std::fs::write(
        host.state_dir.join(format!("{netns}-vbt-half.lock")),
        "creating 1\n",
    )
    .unwrap();
    for (bridge, subnet) in [
        ("vbt-half", "10.106.0.0/24"),
        ("vbt-admin", "10.107.0.0/24"),
    ] {
        let plan = BridgePlan::new(&host.spec(bridge, subnet)).unwrap();
        let sandbox = Sandbox::new(false);
        let mut a = plan.attach(&sandbox.netns).unwrap();
        a.teardown().unwrap();
    }
    let mut expected = before.clone();
    expected.insert("vbt-admin".into());
    assert_eq!(host.links(), expected);
    host.delete_link("vbt-admin");
    host.assert_clean(&before);
}

#[test]
fn a_killed_sandbox_takes_its_veth_along() {
    let Some(host) = Host::enter("a_killed_sandbox_takes_its_veth_along") else {
        return;
    };
    let before = host.links();
    let plan = BridgePlan::new(&host.spec("vbt-kill", "10.101.0.0/24")).unwrap();
    let mut sandbox = Sandbox::new(false);
    let mut a = plan.attach(&sandbox.netns).unwrap();
    let veth = a.host_veth().to_string();
    // As when the launcher is SIGKILLed: nothing tears down, the sandbox dies. The
    // namespace is freed once nothing holds it (the test's descriptor included).
    sandbox.kill();
    drop(sandbox);
    let deadline = Instant::now() + Duration::from_secs(10);
    while host.links().contains(&veth) {
        assert!(Instant::now() < deadline, "{veth} outlived its sandbox");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A later teardown finds the veth gone, which is not an error, and removes the bridge.
    a.teardown().unwrap();
    host.assert_clean(&before);
}

#[test]
fn pasta_configures_a_rootless_style_sandbox() {
    let test = "pasta_configures_a_rootless_style_sandbox";
    let Some(host) = Host::enter(test) else {
        return;
    };
    if Command::new("pasta").arg("--version").output().is_err() {
        voidbox_tests::skip(test, "pasta is not installed (Debian package passt)");
        return;
    }
    // pasta copies the host's routable interface: the test's host gets one.
    host.add_uplink("pst0", "pst1", 104);
    let sandbox = Sandbox::new(true);
    let mut pasta = vb_net::Pasta::attach(
        u32::try_from(sandbox.pid).unwrap(),
        &vb_net::PastaSpec {
            ifname: "tap0".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let (links, addrs, gw) = sandbox.view();
    assert!(links.iter().any(|(n, up)| n == "tap0" && *up), "{links:?}");
    assert!(addrs.contains(&"198.51.104.1/24".to_owned()), "{addrs:?}");
    assert_eq!(gw, Some("198.51.104.254".parse().unwrap()));
    let pid = pasta.pid();
    pasta.teardown().unwrap();
    pasta.teardown().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
    {
        assert!(Instant::now() < deadline, "pasta {pid} still runs");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn without_privilege_the_message_names_the_capability() {
    // Runs everywhere: as root it checks the refusal of an unusable bridge instead.
    let test = "without_privilege_the_message_names_the_capability";
    if voidbox_tests::is_root() {
        let Some(host) = Host::enter(test) else {
            return;
        };
        // A name taken by a veth: no bridge, and nothing created.
        host.add_uplink("notbr0", "notbr1", 105);
        let before = host.links();
        let plan = BridgePlan::new(&host.spec("notbr0", "10.102.0.0/24")).unwrap();
        let sandbox = Sandbox::new(false);
        let err = plan.attach(&sandbox.netns).unwrap_err();
        assert_eq!(
            err.to_string(),
            "notbr0 exists in the host's network namespace but is a veth, not a bridge"
        );
        assert_eq!(host.links(), before);
        assert_eq!(host.state_files(), Vec::<String>::new());
        return;
    }
    let plan = BridgePlan::new(&NetworkSpec {
        state_dir: std::env::temp_dir().join("vb-net-unprivileged"),
        ..NetworkSpec::default()
    })
    .unwrap();
    let own = SandboxNetns::from_pid(std::process::id()).unwrap();
    let err = plan.attach(&own).unwrap_err();
    assert!(matches!(err, Error::MissingCapability { .. }), "{err}");
    assert!(err.to_string().contains("needs CAP_NET_ADMIN"), "{err}");
}
