//! `--unshare-net`: the sandbox gets its own network namespace whose `lo` is
//! up with 127.0.0.1/8, as with bubblewrap — as root and unprivileged — and
//! loopback traffic works inside it.

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
