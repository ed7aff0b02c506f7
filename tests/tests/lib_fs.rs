//! vb-fs on its own, with the real kernel: a plan compiled in this
//! (multi-threaded) test process and executed in a forked child right before
//! it execs, as an embedder that forks itself would run it. Compares the new
//! mount API with the legacy `mount(2)` path the crate falls back to, and
//! checks the legacy walk that gives every submount its flags. Root runs use a
//! new mount namespace; unprivileged runs a new user namespace as well.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fs_support;

use std::sync::Arc;

use fs_support::{Scratch, is_root, skip};
use vb_fs::{BindMode, DataSource, FsAction, FsSpec, MountApi, MountPlan, RootSource};

fn userns_or_root(test: &str) -> bool {
    is_root()
        || voidbox_tests::userns_available()
        || !skip(test, "neither root nor user namespaces")
}

/// Execute `spec` in a forked child with its own mount namespace, then run
/// `script` there; stdout, or the failure.
fn run(spec: &FsSpec, script: &str) -> Result<String, String> {
    let plan = Arc::new(MountPlan::compile(spec).map_err(|e| e.to_string())?);
    voidbox_tests::run_plan_in_child(plan, script)
}

fn bind(src: &str, dest: &str, mode: BindMode) -> FsAction {
    FsAction::Bind {
        src: src.into(),
        dest: dest.into(),
        mode,
        optional: false,
    }
}

fn system() -> Vec<FsAction> {
    vec![
        bind("/usr", "/usr", BindMode::ReadOnly),
        FsAction::Symlink {
            target: "usr/bin".into(),
            link: "/bin".into(),
        },
        FsAction::Symlink {
            target: "usr/lib".into(),
            link: "/lib".into(),
        },
        FsAction::Symlink {
            target: "usr/lib64".into(),
            link: "/lib64".into(),
        },
        FsAction::Proc {
            dest: "/proc".into(),
        },
    ]
}

const INSPECT: &str = "find /t /m /x -printf '%p %m %y %s\\n' 2>&1 | LC_ALL=C sort; \
     grep -E ' /(d|t|m|x)[ /]' /proc/self/mountinfo | cut -d' ' -f5,6";

/// The mounts a path reaches: for a target listed more than once (a mount
/// and what covers it, in mount order), the last. The legacy path, like
/// bubblewrap, can only reach those by path.
fn reachable(out: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in out.lines() {
        let target = line.split(' ').next().unwrap_or_default();
        if line.split(' ').count() == 2 && target.starts_with('/') {
            lines.retain(|l| !(l.split(' ').count() == 2 && l.split(' ').next() == Some(target)));
        }
        lines.push(line.to_owned());
    }
    lines
}

#[test]
fn the_new_mount_api_and_the_legacy_path_build_the_same_tree() {
    let test = "the_new_mount_api_and_the_legacy_path_build_the_same_tree";
    if !userns_or_root(test) {
        return;
    }
    let s = Scratch::new(test);
    s.populate();
    let mut actions = system();
    actions.extend([
        bind("/dev", "/d", BindMode::ReadOnly),
        FsAction::Tmpfs {
            dest: "/t".into(),
            size: Some(1 << 20),
            perms: Some(0o700),
        },
        FsAction::Dir {
            dest: "/t/a/b".into(),
            perms: Some(0o750),
        },
        FsAction::File {
            source: DataSource::Bytes(b"content".to_vec()),
            dest: "/t/f".into(),
            perms: None,
        },
        FsAction::BindData {
            source: DataSource::Bytes(b"bound".to_vec()),
            dest: "/t/bd".into(),
            perms: Some(0o640),
            read_only: true,
        },
        bind(&s.s("src"), "/m/src", BindMode::ReadWrite),
        FsAction::RemountRo {
            dest: "/m/src".into(),
        },
        FsAction::Dev { dest: "/x".into() },
        FsAction::Chmod {
            path: "/t/a".into(),
            mode: 0o711,
        },
    ]);
    let spec = |api| FsSpec {
        root: RootSource::Tmpfs,
        actions: actions.clone(),
        mount_api: api,
        ..FsSpec::default()
    };
    let modern = run(&spec(MountApi::Auto), INSPECT).unwrap();
    let legacy = run(&spec(MountApi::Legacy), INSPECT).unwrap();
    assert_eq!(reachable(&modern), reachable(&legacy));
    assert!(modern.contains("/t/bd 640 f 5"), "{modern}");
    // /dev's submounts (pts, shm...) came along read-only, even the covered
    // ones with the new API.
    let under_d: Vec<&str> = modern.lines().filter(|l| l.starts_with("/d")).collect();
    assert!(under_d.len() > 1, "{modern}");
    for line in under_d {
        assert!(line.split(' ').nth(1).unwrap().starts_with("ro,"), "{line}");
    }
}

#[test]
fn a_failed_plan_in_a_host_directory_is_rolled_back() {
    let test = "a_failed_plan_in_a_host_directory_is_rolled_back";
    if !userns_or_root(test) {
        return;
    }
    let s = Scratch::new(test);
    s.populate();
    std::fs::create_dir_all(s.join("root/usr")).unwrap();
    let before = s.listing();
    for api in [MountApi::Auto, MountApi::Legacy] {
        let spec = FsSpec {
            root: RootSource::Dir(s.join("root")),
            actions: vec![
                FsAction::Dir {
                    dest: "/a/b/c".into(),
                    perms: None,
                },
                bind(&s.s("src"), "/a/b/c/m", BindMode::ReadOnly),
                FsAction::Symlink {
                    target: "x".into(),
                    link: "/a/l".into(),
                },
                FsAction::File {
                    source: DataSource::Bytes(b"x".to_vec()),
                    dest: "/f/g".into(),
                    perms: None,
                },
                FsAction::Chmod {
                    path: "/usr".into(),
                    mode: 0o700,
                },
                FsAction::Chmod {
                    path: "/missing".into(),
                    mode: 0o700,
                },
            ],
            mount_api: api,
            ..FsSpec::default()
        };
        let err = run(&spec, "true").unwrap_err();
        // The chmod of the missing path failed with ENOENT.
        assert!(err.contains("os error 2"), "{err}");
        assert_eq!(s.listing(), before, "{api:?}");
    }
}

#[test]
fn without_a_root_switch_actions_apply_to_host_paths_in_the_namespace() {
    let test = "without_a_root_switch_actions_apply_to_host_paths_in_the_namespace";
    if !userns_or_root(test) {
        return;
    }
    let s = Scratch::new(test);
    s.populate();
    let mut plan_dir = None;
    for api in [MountApi::Auto, MountApi::Legacy] {
        let spec = FsSpec {
            root: RootSource::Host,
            actions: vec![
                FsAction::Tmpfs {
                    dest: s.join("src/sub"),
                    size: None,
                    perms: None,
                },
                FsAction::BindData {
                    source: DataSource::Bytes(b"over".to_vec()),
                    dest: s.join("src/file"),
                    perms: None,
                    read_only: true,
                },
            ],
            mount_api: api,
            ..FsSpec::default()
        };
        let script = format!("ls {0}/src/sub | wc -l; cat {0}/src/file", s.path.display());
        let out = run(&spec, &script).unwrap();
        assert_eq!(out, "0\nover", "{api:?}");
        plan_dir = Some(());
    }
    assert!(plan_dir.is_some());
    assert_eq!(
        std::fs::read_to_string(s.join("src/file")).unwrap(),
        "hello\n"
    );
}

#[test]
fn a_new_dev_over_the_hosts_still_finds_the_host_nodes() {
    let test = "a_new_dev_over_the_hosts_still_finds_the_host_nodes";
    if !userns_or_root(test) {
        return;
    }
    // Without a root switch the new /dev covers the nodes it binds in: they
    // are opened before the tmpfs is mounted.
    for api in [MountApi::Auto, MountApi::Legacy] {
        let spec = FsSpec {
            root: RootSource::Host,
            actions: vec![FsAction::Dev {
                dest: "/dev".into(),
            }],
            mount_api: api,
            ..FsSpec::default()
        };
        let out = run(
            &spec,
            "echo x > /dev/null && head -c 2 /dev/zero | od -An -tx1 && ls /dev | wc -l",
        )
        .unwrap();
        assert_eq!(out, " 00 00\n14\n", "{api:?}");
    }
}
