//! The child joins files the parent creates after the gate: `Started::cgroups_ready`
//! releases it, and without that signal it fails at the join step. Plain files
//! stand in for cgroup `tasks` files (the child writes `0` to each).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::{CString, OsString};
use std::os::fd::AsFd;

use vb_proc::{ChildHooks, ProcError, ProcessPlan, ProcessSpec, Step};

fn spec(dir: &std::fs::File) -> ProcessSpec<'_> {
    ProcessSpec {
        command: vec![OsString::from("/bin/true")],
        join_cgroups: vec![
            (dir.as_fd(), CString::new("a/tasks").unwrap()),
            (dir.as_fd(), CString::new("b/tasks").unwrap()),
        ],
        ..ProcessSpec::default()
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vb-proc-join-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_child_joins_what_the_parent_made_after_the_gate() {
    let root = scratch("ok");
    let dir = std::fs::File::open(&root).unwrap();
    let plan = ProcessPlan::prepare(&spec(&dir)).unwrap();
    let mut started = plan
        .clone_child(&ChildHooks::default(), None)
        .unwrap()
        .open_gate()
        .unwrap();
    // What the parent creates while the child sets itself up.
    for sub in ["a", "b"] {
        std::fs::create_dir(root.join(sub)).unwrap();
        std::fs::write(root.join(sub).join("tasks"), "").unwrap();
    }
    started.cgroups_ready().unwrap();
    let status = started.finish().unwrap().wait().unwrap();
    assert!(status.success());
    for sub in ["a", "b"] {
        assert_eq!(
            std::fs::read_to_string(root.join(sub).join("tasks")).unwrap(),
            "0"
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn without_the_signal_the_child_fails_at_the_join() {
    let root = scratch("nosignal");
    let dir = std::fs::File::open(&root).unwrap();
    let plan = ProcessPlan::prepare(&spec(&dir)).unwrap();
    let started = plan
        .clone_child(&ChildHooks::default(), None)
        .unwrap()
        .open_gate()
        .unwrap();
    match started.finish().unwrap_err() {
        ProcError::Child(failure) => {
            assert_eq!(Step::of(&failure), Some(Step::CgroupJoin));
            assert_eq!(failure.index, u32::MAX);
        }
        other => panic!("expected a join failure, got {other:?}"),
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_missing_file_fails_with_its_index() {
    let root = scratch("missing");
    let dir = std::fs::File::open(&root).unwrap();
    std::fs::create_dir(root.join("a")).unwrap();
    std::fs::write(root.join("a").join("tasks"), "").unwrap();
    let plan = ProcessPlan::prepare(&spec(&dir)).unwrap();
    // release() signals readiness itself; "b/tasks" was never made.
    match plan
        .clone_child(&ChildHooks::default(), None)
        .unwrap()
        .release()
        .unwrap_err()
    {
        ProcError::Child(failure) => {
            assert_eq!(Step::of(&failure), Some(Step::CgroupJoin));
            assert_eq!((failure.index, failure.errno), (1, libc::ENOENT));
        }
        other => panic!("expected a join failure, got {other:?}"),
    }
    std::fs::remove_dir_all(&root).unwrap();
}
