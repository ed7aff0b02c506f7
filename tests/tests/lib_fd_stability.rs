//! The parent's descriptor count is the same before and after 100 launches.
//! A test binary of its own, so no concurrent test opens descriptors meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use voidbox::{JailConfig, Namespaces, RootSource};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn fd_count_is_unchanged_after_100_launches() {
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
    voidbox::launch(&ok).unwrap();
    let before = open_fds();
    for _ in 0..100 {
        assert!(voidbox::launch(&ok).unwrap().success());
        assert!(voidbox::launch(&failing).is_err());
    }
    assert_eq!(open_fds(), before);
}
