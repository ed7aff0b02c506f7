//! Sockets are closed on every path: the process's descriptor count is unchanged after
//! 1000 open/close cycles, and (as root, in a throwaway namespace) after 1000 exchanges
//! that succeed or fail and 1000 fixed-request exchanges.
//!
//! One test in this binary, so that no concurrent test opens descriptors meanwhile.

// Helpers outside #[test] functions fail the test by panicking, like the tests do.
#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use vb_netlink::{AckSocket, FixedRequest, IfName, Netlink};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn descriptor_count_is_unchanged_after_a_thousand_cycles() {
    let before = open_fds();
    for _ in 0..1000 {
        let nl = Netlink::open().unwrap();
        drop(nl);
    }
    assert_eq!(open_fds(), before, "open/close cycles");

    if !rustix::process::geteuid().is_root() {
        eprintln!(
            "SKIP descriptor_count_is_unchanged_after_a_thousand_cycles (exchange part): needs root to unshare a network namespace"
        );
        return;
    }
    // SAFETY: CLONE_NEWNET changes only this thread's network namespace.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }.unwrap();
    let before = open_fds();
    let missing = IfName::new("missing0").unwrap();
    let address = FixedRequest::add_ipv4_address(1, 1, Ipv4Addr::LOCALHOST, 8).unwrap();
    for _ in 0..1000 {
        let mut nl = Netlink::open().unwrap();
        assert_eq!(nl.links().unwrap().len(), 1);
        assert!(nl.link_by_name(&missing).unwrap_err().is_not_found());
        drop(nl);
        // Succeeds the first time, is refused (EEXIST) after: both paths close the socket.
        let _ = AckSocket::open().unwrap().exchange(&address);
    }
    assert_eq!(
        open_fds(),
        before,
        "exchanges, refusals and fixed-request exchanges"
    );
}
