//! The child-side loopback setup allocates nothing: it runs in a freshly cloned child of
//! a multi-threaded process, where the allocator's lock may be held by a thread that no
//! longer exists. Measured with a per-thread counting allocator, in a throwaway network
//! namespace (as root; otherwise the test prints a SKIP line).

// Helpers outside #[test] functions fail the test by panicking, like the tests do.
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use vb_net::LoopbackSetup;

struct Counting;

thread_local! {
    // Const-initialised without a destructor: reading it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
}

// SAFETY: every method forwards to the system allocator unchanged; the counter is a
// thread-local cell that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn loopback_setup_allocates_nothing() {
    if !rustix::process::geteuid().is_root() {
        let line =
            "SKIP loopback_setup_allocates_nothing: needs root to unshare a network namespace\n";
        let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
        return;
    }
    // SAFETY: CLONE_NEWNET changes only this thread's network namespace.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }.unwrap();
    let setup = LoopbackSetup::new();
    let probe = allocations();
    drop(std::hint::black_box(vec![0u8; 8]));
    assert!(allocations() > probe, "the counter sees allocations");
    let start = allocations();
    let first = setup.apply();
    let second = setup.apply();
    let counted = allocations() - start;
    assert_eq!((first, second), (Ok(()), Ok(())));
    assert_eq!(
        counted, 0,
        "apply must not allocate: it runs in a freshly cloned child"
    );
}
