//! Memory behaviour, measured with a per-thread counting allocator: repeated parse/drop
//! and dump/drop cycles do not grow live memory, and the fork-safe fixed requests and
//! their socket allocate nothing at all.

// Helpers outside #[test] functions fail the test by panicking, like the tests do.
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use std::net::Ipv4Addr;

use vb_netlink::{AckSocket, FixedRequest, Netlink, parse_packet};

struct Counting;

thread_local! {
    // Const-initialised without a destructor: reading it never allocates, so the
    // allocator may use it.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn track(delta: isize, count: bool) {
    let _ = LIVE.try_with(|l| l.set(l.get() + delta));
    if count {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    }
}

fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to the system allocator unchanged; the counters are
// thread-local cells that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(signed(layout.size()), true);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-signed(layout.size()), false);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(signed(new_size) - signed(layout.size()), true);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(path).unwrap()
}

fn netns(test: &str) -> bool {
    if !rustix::process::geteuid().is_root() {
        skip_line(test, "needs root to unshare a network namespace");
        return false;
    }
    // SAFETY: CLONE_NEWNET changes only this thread's network namespace.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }.unwrap();
    true
}

#[test]
fn repeated_parse_and_drop_does_not_grow_memory() {
    let packets: Vec<Vec<u8>> = [
        "links.bin",
        "addresses.bin",
        "routes_v4.bin",
        "routes_v6.bin",
    ]
    .map(fixture)
    .into();
    let mut garbage = fixture("links.bin");
    garbage[100] ^= 0xff;
    let before = live();
    let start = allocations();
    for _ in 0..2000 {
        for p in &packets {
            let msgs = parse_packet(p).unwrap();
            assert!(!msgs.is_empty());
        }
        let _ = parse_packet(&garbage);
        let _ = parse_packet(&packets[0][..777]);
    }
    assert!(
        allocations() > start,
        "the counter sees the parser's allocations"
    );
    assert_eq!(
        live(),
        before,
        "every parsed value was freed, on success and error paths"
    );
}

#[test]
fn repeated_dumps_do_not_grow_memory() {
    if !netns("repeated_dumps_do_not_grow_memory") {
        return;
    }
    let sock = AckSocket::open().unwrap();
    sock.exchange(&FixedRequest::add_ipv4_address(1, 1, Ipv4Addr::LOCALHOST, 8).unwrap())
        .unwrap();
    sock.exchange(&FixedRequest::set_link_up(2, 1, true).unwrap())
        .unwrap();
    drop(sock);
    let before = live();
    for _ in 0..500 {
        let mut nl = Netlink::open().unwrap();
        assert_eq!(nl.links().unwrap().len(), 1);
        assert!(!nl.addresses(None).unwrap().is_empty());
        assert!(!nl.routes(vb_netlink::Family::V4).unwrap().is_empty());
    }
    assert_eq!(live(), before);
}

#[test]
fn fixed_requests_and_their_socket_allocate_nothing() {
    if !netns("fixed_requests_and_their_socket_allocate_nothing") {
        return;
    }
    let address = FixedRequest::add_ipv4_address(1, 1, Ipv4Addr::LOCALHOST, 8).unwrap();
    let up = FixedRequest::set_link_up(2, 1, true).unwrap();
    let start = allocations();
    let results = {
        let sock = AckSocket::open();
        sock.map(|s| (s.exchange(&address), s.exchange(&up), s.exchange(&address)))
    };
    let counted = allocations() - start;
    let (added, raised, again) = results.unwrap();
    assert_eq!((added, raised), (Ok(()), Ok(())));
    assert!(again.unwrap_err().is_exists(), "a refusal is reported");
    assert_eq!(
        counted, 0,
        "opening, sending, receiving and refusals must not allocate: they run in a freshly cloned child"
    );
}

/// Print a SKIP line straight to file descriptor 2, past libtest's capture of
/// passing tests' output, so a skip is never silent.
fn skip_line(test: &str, reason: &str) {
    let line = format!("SKIP {test}: {reason}\n");
    let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
}
