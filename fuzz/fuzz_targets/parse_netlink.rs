//! Feeds arbitrary bytes to vb-netlink's packet parser: it must never panic, never loop
//! without end, and never return more messages than the frame cap allows.
//!
//! Without a nightly toolchain, `crates/vb-netlink/tests/corpus.rs` runs the same check
//! over the committed corpus.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vb_netlink::limits::MAX_FRAMES_PER_PACKET;

fuzz_target!(|data: &[u8]| {
    if let Ok(messages) = vb_netlink::parse_packet(data) {
        assert!(messages.len() <= MAX_FRAMES_PER_PACKET);
    }
});
