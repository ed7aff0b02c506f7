//! What vb prints about itself: the `--help` text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use voidbox_tests::run_vb;

/// vb's options that bubblewrap lacks, listed after bubblewrap's.
const VOIDBOX_OPTIONS: &[&str] = &[
    "--rootfs",
    "--pivot-root",
    "--no-pivot-root",
    "--chroot",
    "--memory-max",
    "--memory-swap-max",
    "--cpu-max",
    "--cpu-weight",
    "--pids-max",
    "--io-weight",
    "--fail-on-warnings",
];

/// The option names of a help text, in order.
fn listed_options(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| l.strip_prefix("    --"))
        .map(|l| format!("--{}", l.split_whitespace().next().unwrap_or_default()))
        .collect()
}

#[test]
fn help_lists_bubblewraps_options_then_voidboxs() {
    let help = String::from_utf8(run_vb(["--help"]).stdout).unwrap();
    let (bubblewrap_part, voidbox_part) = help.split_once("\nvoidbox options:\n").unwrap();
    let voidbox_listed = listed_options(voidbox_part);
    assert_eq!(voidbox_listed, VOIDBOX_OPTIONS);
    let listed = listed_options(bubblewrap_part);
    assert_eq!(listed.len(), 67, "bubblewrap 0.11.1's options");
    // Where bubblewrap is installed, each of its options is listed too.
    if let Ok(out) = Command::new("bwrap").arg("--help").output() {
        let theirs = listed_options(&String::from_utf8_lossy(&out.stdout));
        assert!(!theirs.is_empty());
        for option in theirs {
            assert!(listed.contains(&option), "{option} missing from vb --help");
        }
    } else {
        voidbox_tests::skip(
            "help_lists_bubblewraps_options_then_voidboxs",
            "bwrap is not installed to compare with",
        );
    }
}
