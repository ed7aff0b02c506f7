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
