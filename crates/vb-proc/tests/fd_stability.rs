//! The parent's descriptor count is the same before and after many launches.
//! This is its own test binary so no concurrent test opens descriptors meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsString;

use vb_proc::{ChildHooks, ProcessPlan, ProcessSpec};

fn run(command: &str) {
    let spec = ProcessSpec {
        command: vec![OsString::from(command)],
        ..ProcessSpec::default()
    };
    let plan = ProcessPlan::prepare(&spec).unwrap();
    if let Ok(running) = plan
        .clone_child(&ChildHooks::default(), None)
        .unwrap()
        .release()
    {
        running.wait().unwrap();
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn fd_count_is_stable_across_100_launches() {
    // Warm up lazily opened descriptors before counting.
    run("/bin/true");
    let before = open_fds();
    for _ in 0..100 {
        run("/bin/true");
        run("/nonexistent");
    }
    assert_eq!(open_fds(), before);
}
