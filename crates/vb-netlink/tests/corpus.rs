//! Runs the fuzz target's check over every file of the committed fuzz corpus
//! (`fuzz/corpus/parse_netlink/`), so that the corpus guards the parser on stable
//! toolchains too: `cargo test -p vb-netlink --test corpus`.

// Helpers outside #[test] functions fail the test by panicking, like the tests do.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use vb_netlink::limits::MAX_FRAMES_PER_PACKET;
use vb_netlink::{Error, Message, parse_packet};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/parse_netlink");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_parses_without_panic_within_the_caps() {
    let files = corpus();
    assert!(
        files.len() >= 20,
        "the seed corpus is present ({} files)",
        files.len()
    );
    for (name, bytes) in &files {
        let outcome = std::panic::catch_unwind(|| parse_packet(bytes));
        let Ok(result) = outcome else {
            panic!("{name}: the parser panicked")
        };
        if let Ok(messages) = result {
            assert!(messages.len() <= MAX_FRAMES_PER_PACKET, "{name}");
        }
    }
}

#[test]
fn every_prefix_of_every_corpus_file_is_handled() {
    // Truncation at every byte is the commonest malformation; the parser must answer
    // each with a value, never a panic.
    for (_, bytes) in corpus() {
        for cut in 0..bytes.len().min(2048) {
            let _ = parse_packet(&bytes[..cut]);
        }
    }
}

#[test]
fn named_seeds_give_the_errors_they_are_named_for() {
    let files = corpus();
    let get = |n: &str| parse_packet(&files.iter().find(|(f, _)| f == n).unwrap().1);
    assert_eq!(get("ack"), Ok(vec![Message::Ack]));
    assert!(matches!(get("nack_eexist"), Err(Error::Exists { .. })));
    assert!(matches!(
        get("nack_enodev_with_echo"),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        get("ack_positive_errno"),
        Err(Error::InvalidErrno { errno: 17 })
    );
    assert_eq!(
        get("ack_min_errno"),
        Err(Error::InvalidErrno { errno: i32::MIN })
    );
    assert_eq!(
        get("zero_length_frame"),
        Err(Error::FrameTooShort { offset: 0, len: 0 })
    );
    assert!(matches!(
        get("frame_longer_than_buffer"),
        Err(Error::FrameOverrun { len: 4096, .. })
    ));
    assert!(matches!(
        get("truncated_header"),
        Err(Error::TruncatedHeader { .. })
    ));
    assert!(matches!(
        get("nonzero_padding"),
        Err(Error::NonZeroPadding { .. })
    ));
    assert!(matches!(
        get("link_attr_overrun"),
        Err(Error::AttributeOverrun { .. })
    ));
    assert_eq!(
        get("link_unterminated_name"),
        Err(Error::IfNameNotTerminated)
    );
    assert!(matches!(
        get("route_unsupported_family"),
        Err(Error::UnsupportedFamily { .. })
    ));
    assert!(matches!(
        get("unexpected_type"),
        Err(Error::UnexpectedMessageType { kind: 99, .. })
    ));
    for kernel in [
        "kernel_link_dump",
        "kernel_address_dump",
        "kernel_route_dump_v4",
    ] {
        assert_eq!(
            get(kernel).unwrap().last(),
            Some(&Message::Done),
            "{kernel}"
        );
    }
}
