//! The parent's descriptor count and resident memory stay flat over 1,000
//! launches. A test binary of its own, so no concurrent test opens
//! descriptors or allocates meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use voidbox::{JailConfig, Namespaces, RootSource};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// This process's resident set size in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn fd_count_and_rss_are_flat_over_1000_launches() {
    let mut isolation = Namespaces::ALL;
    if !voidbox_tests::userns_available() {
        voidbox_tests::skip(
            "fd_count (namespaces)",
            "user namespaces are disabled; launching without",
        );
        isolation = Namespaces::default();
    }
    let ok = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        isolation,
        ..JailConfig::default()
    };
    let failing = JailConfig {
        cmd: vec!["/nonexistent".into()],
        ..ok.clone()
    };
    // Warm up: the allocator's arenas and the lazily opened state settle.
    for _ in 0..50 {
        voidbox::launch(&ok).unwrap();
        let _ = voidbox::launch(&failing);
    }
    let before = open_fds();
    let rss_before = rss_kib();
    for _ in 0..1000 {
        assert!(voidbox::launch(&ok).unwrap().success());
        assert!(voidbox::launch(&failing).is_err());
    }
    assert_eq!(open_fds(), before);
    // Flat: a leak of even a page per launch would add 4000 KiB.
    let growth = rss_kib().saturating_sub(rss_before);
    assert!(growth <= 512, "RSS grew by {growth} KiB over 1000 launches");
}
