//! `--unshare-net`: the sandbox gets its own network namespace whose `lo` is
//! up with 127.0.0.1/8, as with bubblewrap — as root and unprivileged — and
//! loopback traffic works inside it; `--netns FD` joins an existing one; and
//! voidbox's networking (`--net-bridge` and its options, `--net-nat`,
//! `--net-pasta`), with the host side in a network namespace each test makes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use voidbox_tests::{needs_userns, run_vb, stderr, stdout};

#[test]
fn lo_is_up_with_127_0_0_1_in_a_new_network_namespace() {
    if needs_userns("lo_is_up_with_127_0_0_1_in_a_new_network_namespace") {
        return;
    }
    if std::process::Command::new("ip").arg("-V").output().is_err() {
        voidbox_tests::skip(
            "lo_is_up_with_127_0_0_1_in_a_new_network_namespace",
            "the `ip` command is not installed",
        );
        return;
    }
    let out = run_vb([
        "--rootfs",
        "/",
        "--unshare-net",
        "--",
        "ip",
        "-o",
        "-4",
        "addr",
        "show",
        "dev",
        "lo",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("inet 127.0.0.1/8"),
        "{}",
        stdout(&out)
    );
    let out = run_vb([
        "--rootfs",
        "/",
        "--unshare-net",
        "--",
        "ip",
        "-o",
        "link",
        "show",
    ]);
    let links = stdout(&out);
    assert_eq!(links.lines().count(), 1, "only lo exists: {links}");
    assert!(links.contains("lo:") && links.contains("UP"), "{links}");
}

#[test]
fn loopback_traffic_works_inside_the_sandbox() {
    if needs_userns("loopback_traffic_works_inside_the_sandbox") {
        return;
    }
    // A listener and a client on 127.0.0.1 inside the sandbox's own namespace.
    let script = "
import socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
c = socket.create_connection(s.getsockname())
a, _ = s.accept(); c.sendall(b'ping'); print(a.recv(4).decode())
";
    let out = run_vb([
        "--rootfs",
        "/",
        "--unshare-net",
        "--",
        "python3",
        "-c",
        script,
    ]);
    assert_eq!(stdout(&out), "ping", "{}", stderr(&out));
}

#[test]
fn share_net_keeps_the_hosts_interfaces() {
    let host_links = std::fs::read_dir("/sys/class/net").unwrap().count();
    let out = run_vb([
        "--rootfs",
        "/",
        "--unshare-all",
        "--share-net",
        "--",
        "ls",
        "/sys/class/net",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), host_links);
}

/// The namespace a descriptor is open on, as `readlink` shows it.
fn ns_of(fd: &std::os::fd::OwnedFd) -> String {
    let link = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd));
    std::fs::read_link(link)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Run `vb ARGS -- readlink /proc/self/ns/net` with descriptors 10 and 11
/// set to `fds`.
fn net_ns_seen(args: &[&str], fds: &[(i32, i32)]) -> String {
    let mut cmd = voidbox_tests::vb(args.iter().chain(&[
        "--rootfs",
        "/",
        "--",
        "readlink",
        "/proc/self/ns/net",
    ]));
    voidbox_tests::with_fds(&mut cmd, fds);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `--netns FD` joins the network namespace open on FD: the command's
/// `/proc/self/ns/net` is that namespace. Unprivileged (and as root), the
/// namespace belongs to a user namespace the caller made, joined with
/// `--userns`; as root, a namespace of the host's user namespace is joined
/// also under `--unshare-all`, whose new network namespace gives way.
#[test]
fn netns_joins_the_namespace_open_on_the_descriptor() {
    const TEST: &str = "netns_joins_the_namespace_open_on_the_descriptor";
    if needs_userns(TEST) {
        return;
    }
    let raw = |fd: &std::os::fd::OwnedFd| std::os::fd::AsRawFd::as_raw_fd(fd);
    let holder = voidbox_tests::NsHolder::start(&["-Urn"]);
    let (net, user) = (holder.ns("net"), holder.ns("user"));
    let seen = net_ns_seen(
        &["--userns", "10", "--netns", "11"],
        &[(10, raw(&user)), (11, raw(&net))],
    );
    assert_eq!(seen, ns_of(&net));
    assert_ne!(seen, format!("net:[{}]", voidbox_tests::host_ns("net")));
    if !voidbox_tests::is_root() {
        voidbox_tests::skip(
            TEST,
            "the --unshare-all half joins a namespace of the host's user namespace, which needs root",
        );
        return;
    }
    let holder = voidbox_tests::NsHolder::start(&["-n"]);
    let net = holder.ns("net");
    let seen = net_ns_seen(&["--unshare-all", "--netns", "11"], &[(11, raw(&net))]);
    assert_eq!(seen, ns_of(&net));
}

/// Bad `--netns` input fails before anything runs, with one clear line and
/// exit status 1: a closed descriptor, a descriptor that is no namespace,
/// and `--unshare-net` beside it.
#[test]
fn netns_refuses_bad_descriptors_and_contradictions() {
    let not_a_namespace = std::fs::File::open("/etc/hostname").unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&not_a_namespace);
    let cases: [(&[&str], &str); 3] = [
        (
            &["--netns", "57"],
            "Joining specified network namespace failed: Bad file descriptor",
        ),
        (
            &["--netns", "9", "--unshare-net"],
            "--netns is not compatible with --unshare-net",
        ),
        (
            &["--netns", "9"],
            "Joining the Net namespace failed: Invalid argument",
        ),
    ];
    for (args, message) in cases {
        let mut cmd = voidbox_tests::vb(
            ["--rootfs", "/"]
                .iter()
                .chain(args)
                .chain(&["--", "/bin/true"]),
        );
        voidbox_tests::with_fds(&mut cmd, &[(9, fd)]);
        let out = cmd.output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.trim_end(), format!("vb: {message}"), "{args:?}");
    }
}

/// Run `f` on a thread of its own whose network namespace is new: the
/// test's "host", so bridges, veths and NAT rules never touch the real
/// host's tables. `vb` started from that thread inherits it. `None` (with a
/// SKIP line) when the caller cannot make one.
fn in_test_host<T: Send + 'static>(
    test: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    if !voidbox_tests::is_root() {
        voidbox_tests::skip(
            test,
            "the bridge options need CAP_NET_ADMIN in the host's namespace (root)",
        );
        return None;
    }
    let test = test.to_owned();
    std::thread::spawn(move || {
        // SAFETY: CLONE_NEWNET changes only this thread's network namespace.
        let entered =
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) };
        match entered {
            Ok(()) => Some(f()),
            Err(e) => {
                voidbox_tests::skip(&test, &format!("unshare(CLONE_NEWNET) failed: {e}"));
                None
            }
        }
    })
    .join()
    .unwrap()
}

/// The links of the calling thread's network namespace.
fn links() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .collect()
}

/// `--net-bridge` with a subnet and a name server: the sandbox gets an
/// address from the subnet on `eth0`, the default route through the
/// gateway, the generated `/etc/resolv.conf`, and reaches a TCP listener
/// on the gateway's side; afterwards the veth and the bridge are gone.
#[test]
fn net_bridge_connects_the_sandbox_through_the_gateway() {
    const TEST: &str = "net_bridge_connects_the_sandbox_through_the_gateway";
    in_test_host(TEST, || {
        assert_eq!(links(), ["lo"]);
        std::process::Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .unwrap();
        let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::thread::spawn(move || {
            let (mut stream, peer) = listener.accept().unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
            (peer.ip().to_string(), text)
        });
        let script = format!(
            "ip -4 -o addr show eth0; ip -4 route show default; cat /etc/resolv.conf; \
             echo hello > /dev/tcp/10.91.0.1/{port}"
        );
        let out = voidbox_tests::vb([
            "--rootfs",
            "/",
            "--dev",
            "/dev",
            "--net-bridge",
            "vbt0",
            "--net-subnet",
            "10.91.0.0/24",
            "--net-dns",
            "192.0.2.53",
            "--",
            "bash",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
        let text = stdout(&out);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
        assert!(text.contains("eth0    inet 10.91.0.2/24"), "{text}");
        assert!(text.contains("default via 10.91.0.1 dev eth0"), "{text}");
        assert!(text.contains("nameserver 192.0.2.53"), "{text}");
        let (peer, received) = accepted.join().unwrap();
        assert_eq!((peer.as_str(), received.as_str()), ("10.91.0.2", "hello\n"));
        // Nothing left: the veth went with the sandbox, the bridge with its
        // last user.
        assert_eq!(links(), ["lo"]);
    });
}

/// Gives the test's host an uplink (`up0`, a veth whose peer stays on the
/// host) with a default route, for NAT to masquerade out of.
fn add_uplink() {
    let ip = |args: &[&str]| {
        assert!(
            std::process::Command::new("ip")
                .args(args)
                .status()
                .unwrap()
                .success()
        );
    };
    ip(&["link", "add", "up0", "type", "veth", "peer", "name", "up1"]);
    ip(&["link", "set", "up0", "up"]);
    ip(&["addr", "add", "198.51.100.1/24", "dev", "up0"]);
    ip(&["route", "add", "default", "via", "198.51.100.254"]);
}

/// The calling thread's network namespace's nftables ruleset.
fn ruleset() -> String {
    let out = std::process::Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have_nft() -> bool {
    std::process::Command::new("nft")
        .arg("--version")
        .output()
        .is_ok()
}

/// `--net-nat`: masquerading rules for the subnet exist while a sandbox
/// runs and are gone after it (checked by listing them, never by sending
/// traffic out). The test's host gets an uplink with a default route.
#[test]
fn net_nat_rules_live_as_long_as_the_sandbox() {
    const TEST: &str = "net_nat_rules_live_as_long_as_the_sandbox";
    if !have_nft() {
        voidbox_tests::skip(TEST, "nftables is not installed");
        return;
    }
    in_test_host(TEST, || {
        add_uplink();
        let mut child = voidbox_tests::vb([
            "--rootfs",
            "/",
            "--net-bridge",
            "vbt1",
            "--net-subnet",
            "10.92.0.0/24",
            "--net-nat",
            "--",
            "sh",
            "-c",
            "read line || true",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        let running = voidbox_tests::eventually(std::time::Duration::from_secs(10), || {
            let rules = ruleset();
            rules.contains("10.92.0.0/24") && rules.contains("masquerade")
        });
        let while_running = ruleset();
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
        assert!(
            running,
            "no NAT rule while the sandbox runs:\n{while_running}"
        );
        assert!(while_running.contains("oifname \"up0\""), "{while_running}");
        let after = ruleset();
        assert!(
            !after.contains("10.92.0.0/24") && !after.contains("masquerade"),
            "{after}"
        );
        assert!(!links().iter().any(|l| l == "vbt1"), "{:?}", links());
    });
}

/// Bad networking input fails with one clear line and exit status 1 before
/// anything is created.
#[test]
fn net_options_refuse_bad_input_and_create_nothing() {
    let cases: [(&[&str], &str); 11] = [
        (
            &["--net-host-loopback"],
            "vb: --net-host-loopback requires --net-pasta",
        ),
        (
            &["--net-keep-bridge"],
            "vb: --net-keep-bridge requires --net-bridge",
        ),
        (
            &["--net-bridge", "vbt2", "--net-subnet", "10.0.0.0/33"],
            "network option `subnet` = \"10.0.0.0/33\"",
        ),
        (
            &[
                "--net-bridge",
                "vbt2",
                "--net-subnet",
                "10.89.0.0/24",
                "--net-ip",
                "10.1.1.1",
            ],
            "network option `address` = \"10.1.1.1\"",
        ),
        (
            &[
                "--net-bridge",
                "vbt2",
                "--net-subnet",
                "10.89.0.0/24",
                "--net-ip",
                "10.89.0.1",
            ],
            "network option `address` = \"10.89.0.1\"",
        ),
        (
            &["--net-bridge", "averyverylongbridgename"],
            "network option `bridge` = \"averyverylongbridgename\"",
        ),
        (
            &[
                "--net-bridge",
                "vbt2",
                "--net-ifname",
                "averyverylongifname",
            ],
            "network option `ifname` = \"averyverylongifname\"",
        ),
        (&["--net-nat"], "vb: --net-nat requires --net-bridge"),
        (
            &["--unshare-all", "--share-net", "--net-bridge", "vbt2"],
            "vb: --net-bridge is not compatible with --share-net",
        ),
        (
            &["--net-pasta", "--net-bridge", "vbt2"],
            "vb: --net-pasta is not compatible with --net-bridge",
        ),
        (
            &["--net-dns", "192.0.2.1"],
            "vb: --net-dns requires --net-bridge",
        ),
    ];
    for (args, message) in cases {
        let out = voidbox_tests::vb(
            ["--rootfs", "/"]
                .iter()
                .chain(args)
                .chain(&["--", "/bin/true"]),
        )
        .output()
        .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("vb: ") && err.contains(message),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    // Nothing named like the bridges above exists on this host.
    assert!(
        !links()
            .iter()
            .any(|l| l.starts_with("vbt2") || l.starts_with("averyvery"))
    );
}

/// Without CAP_NET_ADMIN in the host's namespace, `--net-bridge` says what
/// it needs — and suggests `--net-pasta`.
#[test]
fn net_bridge_without_privilege_names_the_capability() {
    const TEST: &str = "net_bridge_without_privilege_names_the_capability";
    if voidbox_tests::is_root() {
        voidbox_tests::skip(TEST, "root holds CAP_NET_ADMIN");
        return;
    }
    let out = voidbox_tests::vb(["--rootfs", "/", "--net-bridge", "vbt3", "--", "/bin/true"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("CAP_NET_ADMIN") && err.contains("pasta"),
        "{err}"
    );
}

/// Runs `f` in the test's host for pasta, handing it a builder of `vb`
/// commands that run as an unprivileged user — pasta's users are
/// unprivileged. `None`, with a SKIP line, when that cannot be made here.
///
/// As root: a thread of its own with a new mount and network namespace,
/// where `/dev/net/tun` is a node of mode 0666 on a private tmpfs (the
/// host's own node, often 0600, is untouched), `lo` is up, and an
/// uplink `vbd0` (10.123.0.2/24) has a default route through 10.123.0.1 for
/// pasta to copy (a veth whose peer stays down, so nothing sent there goes
/// anywhere); `vb` runs there as uid 65534 through `setpriv`. Nothing
/// the sandboxes send leaves that namespace. Unprivileged: the caller's own
/// namespaces, if its `/dev/net/tun` opens and there is a default route.
fn in_pasta_host<T: Send + 'static>(
    test: &str,
    f: impl FnOnce(&dyn Fn(&[&str]) -> std::process::Command) -> T + Send + 'static,
) -> Option<T> {
    if std::process::Command::new("pasta")
        .arg("--version")
        .output()
        .is_err()
    {
        voidbox_tests::skip(test, "pasta is not installed (Debian package passt)");
        return None;
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        voidbox_tests::skip(test, "the host has no /dev/net/tun (the tun module)");
        return None;
    }
    if !voidbox_tests::is_root() {
        let tun = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun");
        if let Err(e) = tun {
            voidbox_tests::skip(test, &format!("/dev/net/tun cannot be opened: {e}"));
            return None;
        }
        let routed = std::fs::read_to_string("/proc/net/route").is_ok_and(|r| {
            r.lines()
                .skip(1)
                .any(|l| l.split('\t').nth(1) == Some("00000000"))
        });
        if !routed {
            voidbox_tests::skip(test, "no IPv4 default route for pasta to copy");
            return None;
        }
        return Some(f(&|args| voidbox_tests::vb(args)));
    }
    std::thread::spawn(move || {
        use rustix::thread::{UnshareFlags, unshare_unsafe};
        // SAFETY: CLONE_FS gives this thread its own root and working
        // directory (a mount namespace cannot be entered by a thread sharing
        // them); then the namespaces change only this thread's view.
        unsafe {
            unshare_unsafe(UnshareFlags::FS).unwrap();
            unshare_unsafe(UnshareFlags::NEWNS | UnshareFlags::NEWNET).unwrap();
        }
        let run = |argv: &[&str]| {
            let out = std::process::Command::new(argv[0])
                .args(&argv[1..])
                .output()
                .unwrap();
            assert!(out.status.success(), "{argv:?}: {}", stderr(&out));
        };
        run(&["mount", "--make-rprivate", "/"]);
        run(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            "mode=0755",
            "vb-test",
            "/dev/net",
        ]);
        run(&["mknod", "-m", "0666", "/dev/net/tun", "c", "10", "200"]);
        run(&["ip", "link", "set", "lo", "up"]);
        run(&[
            "ip", "link", "add", "vbd0", "type", "veth", "peer", "name", "vbd1",
        ]);
        run(&["ip", "addr", "add", "10.123.0.2/24", "dev", "vbd0"]);
        run(&["ip", "link", "set", "vbd0", "up"]);
        run(&["ip", "route", "add", "default", "via", "10.123.0.1"]);
        f(&|args| {
            let mut cmd = std::process::Command::new("setpriv");
            cmd.args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                "--",
            ])
            .arg(voidbox_tests::vb_bin())
            .args(args);
            cmd
        })
    })
    .join()
    .map_or_else(|panic| std::panic::resume_unwind(panic), Some)
}

/// `--net-pasta` where pasta cannot be found: one line naming the package,
/// exit status 1, and no process of the sandbox left.
#[test]
fn net_pasta_without_pasta_names_the_package() {
    let marker = voidbox_tests::marker("net_pasta_without_pasta");
    let out = voidbox_tests::vb(["--rootfs", "/", "--net-pasta", "--", "/bin/true"])
        .env("PATH", "/nonexistent")
        .env(voidbox_tests::MARK_VAR, &marker)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "vb: cannot run pasta: No such file or directory (install the Debian package `passt`)"
    );
    assert!(voidbox_tests::processes_with_env(&marker).is_empty());
}

/// `--net-pasta` as an unprivileged user: pasta gives the sandbox an
/// interface configured like the host's (a user namespace is implied, also
/// for root): its address and its default route.
#[test]
fn net_pasta_configures_the_sandboxs_interface() {
    const TEST: &str = "net_pasta_configures_the_sandboxs_interface";
    let Some(out) = in_pasta_host(TEST, |vb| {
        vb(&[
            "--rootfs",
            "/",
            "--net-pasta",
            "--net-ifname",
            "pst0",
            "--",
            "sh",
            "-c",
            "id -u; ip -4 -o addr show pst0; ip -4 route show default",
        ])
        .output()
        .unwrap()
    }) else {
        return;
    };
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("pst0    inet "), "{text}");
    assert!(text.contains("default via "), "{text}");
    if voidbox_tests::is_root() {
        // The test's host: its uplink's address and route, seen by uid 65534.
        assert!(text.starts_with("65534\n"), "{text}");
        assert!(text.contains("inet 10.123.0.2/24"), "{text}");
        assert!(text.contains("default via 10.123.0.1"), "{text}");
    }
}

/// Each sandbox of the mesh test: listen on port 7000, say its address,
/// read everyone's addresses, connect to every other one, accept as many,
/// and report how many peers it heard from.
const MESH_PEER: &str = r#"
import socket, sys, threading
import subprocess
out = subprocess.run(["ip", "-4", "-o", "addr", "show", "eth0"], capture_output=True, text=True).stdout
addr = out.split()[3].split("/")[0]
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", 7000))
listener.listen(32)
print(addr, flush=True)
peers = sys.stdin.readline().split()
others = [p for p in peers if p != addr]
heard = []
def accept():
    for _ in others:
        conn, _ = listener.accept()
        heard.append(conn.recv(64))
        conn.close()
t = threading.Thread(target=accept)
t.start()
for p in others:
    s = socket.create_connection((p, 7000), timeout=10)
    s.sendall(addr.encode())
    s.close()
t.join(30)
print("heard", len(heard), flush=True)
"#;

/// 16 `vb` launched at once on one bridge: 16 distinct addresses, every
/// sandbox reaches every other over TCP, and afterwards no veth, bridge or
/// rule is left.
#[test]
fn sixteen_parallel_sandboxes_on_one_bridge_reach_each_other() {
    const TEST: &str = "sixteen_parallel_sandboxes_on_one_bridge_reach_each_other";
    if std::process::Command::new("python3")
        .arg("-V")
        .output()
        .is_err()
    {
        voidbox_tests::skip(TEST, "python3 is not installed");
        return;
    }
    in_test_host(TEST, || {
        use std::io::{BufRead, Write};
        let mut sandboxes: Vec<_> = (0..16)
            .map(|_| {
                voidbox_tests::vb([
                    "--rootfs",
                    "/",
                    "--dev",
                    "/dev",
                    "--net-bridge",
                    "vbt4",
                    "--net-subnet",
                    "10.94.0.0/24",
                    "--",
                    "python3",
                    "-c",
                    MESH_PEER,
                ])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        let mut readers: Vec<_> = sandboxes
            .iter_mut()
            .map(|c| std::io::BufReader::new(c.stdout.take().unwrap()).lines())
            .collect();
        let addresses: Vec<String> = readers
            .iter_mut()
            .map(|r| r.next().unwrap().unwrap())
            .collect();
        let distinct: std::collections::BTreeSet<&String> = addresses.iter().collect();
        assert_eq!(distinct.len(), 16, "{addresses:?}");
        assert!(
            addresses.iter().all(|a| a.starts_with("10.94.0.")),
            "{addresses:?}"
        );
        let list = format!("{}\n", addresses.join(" "));
        for child in &mut sandboxes {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(list.as_bytes())
                .unwrap();
        }
        let heard: Vec<String> =
            voidbox_tests::with_watchdog(std::time::Duration::from_secs(90), move || {
                readers
                    .iter_mut()
                    .map(|r| r.next().unwrap().unwrap())
                    .collect()
            });
        for child in &mut sandboxes {
            assert!(child.wait().unwrap().success());
        }
        assert!(heard.iter().all(|h| h == "heard 15"), "{heard:?}");
        assert_eq!(links(), ["lo"]);
    });
}

/// vb SIGKILLed while its sandbox runs under `--die-with-parent`: the
/// sandbox dies with it and its veth with the sandbox's namespace. The
/// bridge and its NAT rules, left without users and without anyone to
/// count them, go at the next teardown: on the same bridge as its last
/// user, on another bridge as a sweep of idle bridges.
#[test]
fn a_sigkilled_vb_leaves_no_veth_behind() {
    const TEST: &str = "a_sigkilled_vb_leaves_no_veth_behind";
    let nat = have_nft();
    if !nat {
        voidbox_tests::skip(TEST, "(NAT part) nftables is not installed");
    }
    in_test_host(TEST, move || {
        use std::io::BufRead;
        if nat {
            add_uplink();
        }
        let veths = || {
            links()
                .into_iter()
                .filter(|l| l.starts_with("vb"))
                .collect::<Vec<_>>()
        };
        let launch_and_kill = |bridge: &str| {
            let mut args = vec![
                "--rootfs",
                "/",
                "--die-with-parent",
                "--net-bridge",
                bridge,
                "--net-subnet",
                "10.95.0.0/24",
            ];
            if nat {
                args.push("--net-nat");
            }
            args.extend(["--", "sh", "-c", "echo up; exec sleep 1000"]);
            let mut child = voidbox_tests::vb(args)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
            assert_eq!(lines.next().unwrap().unwrap(), "up");
            // The bridge and the host-side veth.
            assert!(veths().len() >= 2, "{:?}", links());
            child.kill().unwrap();
            child.wait().unwrap();
            assert!(
                voidbox_tests::eventually(std::time::Duration::from_secs(10), || veths()
                    == [bridge]),
                "{:?}",
                links()
            );
            if nat {
                assert!(ruleset().contains("10.95.0.0/24"), "{}", ruleset());
            }
        };
        let launch = |bridge: &str, subnet: &str| {
            let out = voidbox_tests::vb([
                "--rootfs",
                "/",
                "--net-bridge",
                bridge,
                "--net-subnet",
                subnet,
                "--",
                "true",
            ])
            .output()
            .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        };
        let only_the_hosts = || {
            let mut now = links();
            now.sort();
            assert_eq!(now, ["lo", "up0", "up1"][..if nat { 3 } else { 1 }]);
        };
        // The bridge's next sandbox is its last: it goes with it.
        launch_and_kill("vbt5");
        launch("vbt5", "10.95.0.0/24");
        only_the_hosts();
        // A sandbox on another bridge sweeps it.
        launch_and_kill("vbt5");
        launch("vbt7", "10.93.0.0/24");
        only_the_hosts();
        // Killed at every point of its setup (it takes a few milliseconds):
        // no veth outlives its launcher, and the next teardown cleans up.
        for step in 0..24u64 {
            let mut child = voidbox_tests::vb([
                "--rootfs",
                "/",
                "--net-bridge",
                "vbt5",
                "--net-subnet",
                "10.95.0.0/24",
                "--",
                "true",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
            std::thread::sleep(std::time::Duration::from_micros(250 * step));
            let _ = child.kill();
            child.wait().unwrap();
        }
        assert!(
            voidbox_tests::eventually(std::time::Duration::from_secs(10), || veths()
                .iter()
                .all(|l| l == "vbt5")),
            "{:?}",
            links()
        );
        launch("vbt7", "10.93.0.0/24");
        only_the_hosts();
        if nat {
            let rules = ruleset();
            assert!(
                !rules.contains("10.95.0.0/24") && !rules.contains("masquerade"),
                "{rules}"
            );
        }
    });
}

/// `--net-pasta` as an unprivileged user: with `--net-host-loopback` the
/// sandbox reaches a TCP listener on the host's loopback through pasta's
/// gateway mapping; without it the same connection does not arrive (as
/// root the "host" is a namespace of the test's, so the refused attempt
/// goes nowhere).
#[test]
fn net_host_loopback_reaches_the_hosts_loopback_through_the_gateway() {
    const TEST: &str = "net_host_loopback_reaches_the_hosts_loopback_through_the_gateway";
    let root = voidbox_tests::is_root();
    in_pasta_host(TEST, move |vb| {
        // Bound from the test's host thread: on its loopback.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = format!(
            "gw=$(ip -4 route show default | cut -d' ' -f3); \
             timeout 3 bash -c 'echo hello > /dev/tcp/'$gw/{port}"
        );
        let connect = |extra: &[&str]| {
            let mut args = vec!["--rootfs", "/", "--net-pasta"];
            args.extend(extra);
            args.extend(["--", "bash", "-c", script.as_str()]);
            vb(&args).output().unwrap()
        };
        if root {
            // Closed by default: the attempt fails and nothing arrives.
            let closed = connect(&[]);
            assert!(!closed.status.success(), "{}", stdout(&closed));
            listener.set_nonblocking(true).unwrap();
            let nothing = listener.accept();
            assert!(
                nothing
                    .as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
                "{nothing:?}"
            );
            listener.set_nonblocking(false).unwrap();
        }
        let accepted = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
            text
        });
        let open = connect(&["--net-host-loopback"]);
        assert!(open.status.success(), "{}", stderr(&open));
        let received =
            voidbox_tests::with_watchdog(std::time::Duration::from_secs(20), move || {
                accepted.join().unwrap()
            });
        assert_eq!(received, "hello\n");
    });
}

/// `--net-keep-bridge`: the bridge stays after its last sandbox (also when
/// another bridge's teardown sweeps idle bridges); the next launch without
/// the option, as the bridge's last user, removes it.
#[test]
fn net_keep_bridge_keeps_the_bridge_after_the_last_sandbox() {
    const TEST: &str = "net_keep_bridge_keeps_the_bridge_after_the_last_sandbox";
    in_test_host(TEST, || {
        let launch = |extra: &[&str]| {
            let out = voidbox_tests::vb(
                [
                    "--rootfs",
                    "/",
                    "--net-bridge",
                    "vbt6",
                    "--net-subnet",
                    "10.96.0.0/24",
                ]
                .iter()
                .chain(extra)
                .chain(&["--", "true"]),
            )
            .output()
            .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        };
        launch(&["--net-keep-bridge"]);
        assert_eq!(links(), ["lo", "vbt6"]);
        // Another bridge's teardown sweeps idle bridges, not a kept one.
        launch(&["--net-bridge", "vbt8", "--net-subnet", "10.91.0.0/24"]);
        assert_eq!(links(), ["lo", "vbt6"]);
        launch(&[]);
        assert_eq!(links(), ["lo"]);
    });
}

/// `--net-subnet6`: dual stack — the sandbox gets an address from the IPv6
/// subnet beside its IPv4 one and a default IPv6 route through the
/// subnet's first address, and reaches a listener on the gateway's side.
#[test]
fn net_subnet6_gives_the_sandbox_ipv6_too() {
    const TEST: &str = "net_subnet6_gives_the_sandbox_ipv6_too";
    in_test_host(TEST, || {
        let listener = std::net::TcpListener::bind("[::]:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::thread::spawn(move || {
            let (mut stream, peer) = listener.accept().unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
            (peer.ip().to_string(), text)
        });
        let script = format!(
            "ip -6 -o addr show eth0 scope global; ip -6 route show default; \
             echo six > /dev/tcp/fd00:90::1/{port}"
        );
        let out = voidbox_tests::vb([
            "--rootfs",
            "/",
            "--dev",
            "/dev",
            "--net-bridge",
            "vbt7",
            "--net-subnet",
            "10.90.0.0/24",
            "--net-subnet6",
            "fd00:90::/64",
            "--",
            "bash",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
        let text = stdout(&out);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
        assert!(text.contains("inet6 fd00:90::2/64"), "{text}");
        assert!(text.contains("default via fd00:90::1 dev eth0"), "{text}");
        let (peer, received) = accepted.join().unwrap();
        assert_eq!((peer.as_str(), received.as_str()), ("fd00:90::2", "six\n"));
        assert_eq!(links(), ["lo"]);
    });
}
