//! Each requested namespace is new (its `/proc/self/ns/*` inode differs from
//! the host's) and each unrequested one is shared — through `vb` and through
//! the library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use voidbox_tests::{host_ns, is_root, needs_userns, run_vb, stderr, stdout};

const NAMESPACES: [&str; 7] = ["user", "ipc", "pid", "net", "uts", "cgroup", "mnt"];

/// The inode of every namespace as seen inside a sandbox started with `flags`.
fn inside(flags: &[&str]) -> Vec<(String, u64)> {
    let script = NAMESPACES
        .iter()
        .map(|n| format!("stat -L -c '{n} %i' /proc/self/ns/{n}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut args = vec!["--rootfs", "/"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "/bin/sh", "-c", &script]);
    let out = run_vb(&args);
    assert!(
        out.status.success(),
        "vb {flags:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
        .lines()
        .map(|l| {
            let (name, ino) = l.split_once(' ').unwrap();
            (name.to_owned(), ino.parse().unwrap())
        })
        .collect()
}

fn check(flags: &[&str], expect_new: &[&str]) {
    for (name, ino) in inside(flags) {
        // vb always creates a mount namespace, and an unprivileged caller
        // always gets a user namespace (as with bubblewrap).
        let new =
            expect_new.contains(&name.as_str()) || name == "mnt" || (name == "user" && !is_root());
        if new {
            assert_ne!(ino, host_ns(&name), "{name} should be new with {flags:?}");
        } else {
            assert_eq!(
                ino,
                host_ns(&name),
                "{name} should be shared with {flags:?}"
            );
        }
    }
}

#[test]
fn each_unshare_option_creates_only_its_namespace() {
    if needs_userns("each_unshare_option_creates_only_its_namespace") {
        return;
    }
    check(&[], &[]);
    check(&["--unshare-user"], &["user"]);
    check(&["--unshare-ipc"], &["ipc"]);
    check(&["--unshare-pid"], &["pid"]);
    check(&["--unshare-net"], &["net"]);
    check(&["--unshare-uts"], &["uts"]);
    check(&["--unshare-cgroup"], &["cgroup"]);
}

#[test]
fn unshare_all_creates_every_namespace_and_share_net_keeps_the_network() {
    if needs_userns("unshare_all_creates_every_namespace_and_share_net_keeps_the_network") {
        return;
    }
    check(
        &["--unshare-all"],
        &["user", "ipc", "pid", "net", "uts", "cgroup"],
    );
    check(
        &["--unshare-all", "--share-net"],
        &["user", "ipc", "pid", "uts", "cgroup"],
    );
}

#[test]
fn library_isolation_options_map_to_namespaces() {
    if needs_userns("library_isolation_options_map_to_namespaces") {
        return;
    }
    let script = NAMESPACES
        .iter()
        .map(|n| format!("stat -L -c '{n} %i' /proc/self/ns/{n}"))
        .collect::<Vec<_>>()
        .join("; ");
    let iso = voidbox::Namespaces {
        pid: true,
        uts: true,
        ..voidbox::Namespaces::default()
    };
    let out = voidbox::Command::new("/bin/sh")
        .args(["-c", &script])
        .isolation(iso)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (name, ino) = line.split_once(' ').unwrap();
        let ino: u64 = ino.parse().unwrap();
        // The library creates a mount namespace only when asked or when the
        // root changes; a new PID namespace with the host root keeps it shared.
        let new = matches!(name, "pid" | "uts") || (name == "user" && !is_root());
        assert_eq!(ino != host_ns(name), new, "namespace {name}");
    }
}
