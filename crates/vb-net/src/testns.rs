//! Test support: a throwaway network namespace for the calling test thread.
//!
//! Namespaces are per thread and libtest runs each test on a thread of its own, so a test
//! that unshares its network namespace never touches the host's network or another test's.

use rustix::thread::UnshareFlags;

/// Moves the calling thread into a new, empty network namespace. Returns `false` after
/// printing `SKIP <test>: <reason>` when that is not possible here.
pub(crate) fn enter_throwaway_netns(test: &str) -> bool {
    if !rustix::process::geteuid().is_root() {
        skip_line(test, "needs root to unshare a network namespace");
        return false;
    }
    // SAFETY: CLONE_NEWNET changes only this thread's network namespace; the fd table and
    // memory stay shared, so no other thread can observe anything inconsistent.
    match unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNET) } {
        Ok(()) => true,
        Err(errno) => {
            skip_line(test, &format!("unshare(CLONE_NEWNET) failed: {errno}"));
            false
        }
    }
}

/// Print a SKIP line straight to file descriptor 2, past libtest's capture of
/// passing tests' output, so a skip is never silent.
pub(crate) fn skip_line(test: &str, reason: &str) {
    let line = format!("SKIP {test}: {reason}\n");
    let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
}

/// The inode of a namespace link, which identifies the namespace.
pub(crate) fn ns_inode(path: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| m.ino()).unwrap_or(0)
}

#[test]
fn unshare_moves_only_the_test_thread() {
    let before = ns_inode("/proc/thread-self/ns/net");
    if !enter_throwaway_netns("unshare_moves_only_the_test_thread") {
        return;
    }
    let after = ns_inode("/proc/thread-self/ns/net");
    assert_ne!(before, after, "the test thread is in a new namespace");
    assert_eq!(
        ns_inode("/proc/self/ns/net"),
        before,
        "the process's main thread stays in the original namespace"
    );
}
