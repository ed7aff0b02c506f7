//! Plan-level tests through the recording fake: the order of operations, the
//! failure report at every step, rollback in reverse order, and cleanup.

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::fake::{Fake, Node};
use crate::{
    BindMode, DataSource, FsAction, FsError, FsFailure, FsSpec, MountApi, MountPlan, RootSource,
    RootSwitch,
};

/// Tests that create host artifact directories run one at a time, so a test
/// can check that a failed compile left none of this process's behind.
static HOST_ARTIFACTS: Mutex<()> = Mutex::new(());

fn tmpfs(actions: Vec<FsAction>) -> FsSpec {
    FsSpec {
        root: RootSource::Tmpfs,
        mount_proc: true,
        actions,
        ..FsSpec::default()
    }
}

/// A descriptor that cannot be read: the write end of a pipe (`read`
/// fails with EBADF, as on a descriptor that is not open).
fn unreadable() -> Arc<OwnedFd> {
    let (_, w) = rustix::pipe::pipe().unwrap();
    Arc::new(w)
}

fn bind(src: &str, dest: &str, mode: BindMode) -> FsAction {
    FsAction::Bind {
        src: src.into(),
        dest: dest.into(),
        mode,
        optional: false,
    }
}

fn dir(dest: &str, perms: Option<u32>) -> FsAction {
    FsAction::Dir {
        dest: dest.into(),
        perms,
    }
}

/// The calls that count for `fail_at` (everything but close and umask).
fn counted(calls: &[String]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| !c.starts_with("close ") && !c.starts_with("umask "))
        .cloned()
        .collect()
}

/// The index (for `fail_at`) of the first counted call starting with `prefix`.
fn index_of(plan: &MountPlan, setup: impl Fn(&Fake), prefix: &str) -> usize {
    let fake = Fake::default();
    setup(&fake);
    plan.execute(&fake).unwrap();
    counted(&fake.log())
        .iter()
        .position(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no call {prefix:?} in {:#?}", fake.log()))
}

fn fail(
    plan: &MountPlan,
    setup: impl Fn(&Fake),
    prefix: &str,
    errno: rustix::io::Errno,
) -> FsError {
    let at = index_of(plan, &setup, prefix);
    let fake = Fake {
        fail_errno: errno,
        ..Fake::failing_at(at)
    };
    setup(&fake);
    let failure = plan.execute(&fake).unwrap_err();
    plan.describe(failure)
}

fn host_files(fake: &Fake) {
    fake.dirs(&["/oldroot/usr", "/oldroot/etc", "/oldroot/dev"]);
    // What a compiled `--rootfs /usr` or `--rootfs /` expects to find.
    fake.same_as_host("/oldroot/usr", "/usr");
    fake.same_as_host("/oldroot", "/");
    for node in ["null", "zero", "full", "random", "urandom", "tty"] {
        fake.add(
            &format!("/oldroot/dev/{node}"),
            Node::File(0o666, Vec::new()),
        );
    }
}

#[test]
fn pivot_into_a_directory_assembles_under_newroot_then_detaches_the_old_root() {
    let spec = FsSpec {
        root: RootSource::Dir("/usr".into()),
        mount_proc: true,
        ..FsSpec::default()
    };
    let plan = MountPlan::compile(&spec).unwrap();
    let fake = Fake::default();
    host_files(&fake);
    fake.dirs(&["/newroot/proc"]);
    plan.execute(&fake).unwrap();
    assert_eq!(
        fake.log(),
        vec![
            "umask 0",
            "slave /",
            "mount tmpfs /tmp",
            "chdir /tmp",
            "mkdir /tmp/newroot 755",
            "mkdir /tmp/oldroot 755",
            "pivot . oldroot",
            "chdir /",
            // The rootfs: found without following a final symlink, checked,
            // bound from its descriptor, nosuid and nodev on every mount.
            "open /oldroot/usr",
            "fstat /oldroot/usr",
            "open /newroot",
            "open_tree /oldroot/usr",
            "setattr-r tree:/oldroot/usr MountFlags(NODEV | NOSUID)",
            "move_mount tree:/oldroot/usr /newroot",
            "close tree:/oldroot/usr",
            "close /oldroot/usr",
            // The new root, kept until a step moves or covers it.
            "close /newroot",
            // Its proc directory, found the same way.
            "open /newroot",
            "open /newroot/proc",
            "mount proc /newroot/proc",
            "close /newroot/proc",
            "close /newroot",
            "private /oldroot",
            "umount /oldroot",
            "chdir /newroot",
            "pivot . .",
            "umount /newroot",
            "chdir /",
            "umask 22",
        ]
    );
}

fn rootfs(dev: bool, suid: bool) -> FsSpec {
    FsSpec {
        root: RootSource::Dir("/usr".into()),
        mount_proc: true,
        rootfs_dev: dev,
        rootfs_suid: suid,
        ..FsSpec::default()
    }
}

#[test]
fn a_rootfs_keeps_devices_and_setuid_only_when_asked() {
    let cases = [
        (false, false, "MountFlags(NODEV | NOSUID)"),
        (true, false, "MountFlags(NOSUID)"),
        (false, true, "MountFlags(NODEV)"),
        (true, true, "MountFlags(0x0)"),
    ];
    for (dev, suid, flags) in cases {
        let plan = MountPlan::compile(&rootfs(dev, suid)).unwrap();
        let fake = Fake::default();
        host_files(&fake);
        plan.execute(&fake).unwrap();
        let want = format!("setattr-r tree:/oldroot/usr {flags}");
        assert!(fake.log().contains(&want), "{want}: {:#?}", fake.log());
        // The legacy method: bound through the descriptor's link, then the
        // new mount's top and its submounts get the flags.
        let fake = Fake {
            modern: false,
            ..Fake::default()
        };
        host_files(&fake);
        plan.execute(&fake).unwrap();
        let calls = counted(&fake.log());
        let start = calls
            .iter()
            .position(|c| c == "bind-r /oldroot/usr /newroot")
            .unwrap_or_else(|| panic!("{calls:#?}"));
        assert_eq!(
            calls[start + 1..start + 3],
            ["open /newroot", "statvfs /newroot"]
        );
        if dev && suid {
            assert_eq!(calls[start + 3], format!("remount-below /newroot {flags}"));
        } else {
            assert_eq!(calls[start + 3], format!("remount /newroot {flags}"));
            assert_eq!(calls[start + 4], format!("remount-below /newroot {flags}"));
        }
    }
}

#[test]
fn a_rootfs_swapped_since_compile_is_refused_before_anything_is_mounted() {
    let plan = MountPlan::compile(&rootfs(false, false)).unwrap();
    type Swap = fn(&Fake);
    let swaps: [(&str, Swap); 2] = [
        ("a symlink", |fake| {
            fake.add("/oldroot/usr", Node::Link("/oldroot/etc".into()));
        }),
        ("another directory", |fake| {
            fake.ids.borrow_mut().remove("/oldroot/usr");
        }),
    ];
    for (what, swap) in swaps {
        let fake = Fake::default();
        host_files(&fake);
        swap(&fake);
        let err = plan.describe(plan.execute(&fake).unwrap_err());
        let usr = std::fs::canonicalize("/usr").unwrap();
        assert!(
            matches!(&err, FsError::RootfsChanged { path } if *path == usr),
            "{what}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "Can't bind mount {} on /newroot: the directory changed since the plan was compiled",
                usr.display()
            )
        );
        let calls = counted(&fake.log());
        assert!(
            !calls.iter().any(|c| c.starts_with("open_tree /oldroot")),
            "{what}: {calls:#?}"
        );
        assert!(fake.open_fds().is_empty(), "{what}: {:?}", fake.open_fds());
    }
}

#[test]
fn a_rootfs_proc_symlink_gets_no_procfs() {
    let plan = MountPlan::compile(&rootfs(false, false)).unwrap();
    for proc in [Node::Link("data".into()), Node::Link("/oldroot/etc".into())] {
        let fake = Fake::default();
        host_files(&fake);
        fake.dirs(&["/newroot/data"]);
        fake.add("/newroot/proc", proc);
        plan.execute(&fake).unwrap();
        let calls = fake.log();
        assert!(
            !calls.iter().any(|c| c.starts_with("mount proc")),
            "{calls:#?}"
        );
    }
}

#[test]
fn rootfs_options_need_a_directory_root() {
    for (root, dev, suid, option) in [
        (RootSource::Tmpfs, true, false, "rootfs_dev"),
        (RootSource::Host, false, true, "rootfs_suid"),
    ] {
        let spec = FsSpec {
            root,
            rootfs_dev: dev,
            rootfs_suid: suid,
            ..FsSpec::default()
        };
        let err = MountPlan::compile(&spec).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{option} applies to a directory root only")
        );
    }
}

#[test]
fn tmpfs_root_binds_newroot_onto_itself_and_never_mounts_proc_by_itself() {
    let plan = MountPlan::compile(&tmpfs(vec![])).unwrap();
    let fake = Fake::default();
    plan.execute(&fake).unwrap();
    let calls = fake.log();
    assert!(calls.contains(&"bind-r /tmp/newroot /tmp/newroot".to_string()));
    assert!(!calls.iter().any(|c| c.starts_with("mount proc")));
}

#[test]
fn chroot_mode_copies_the_host_tree_instead_of_pivoting() {
    let spec = FsSpec {
        root: RootSource::Dir("/usr".into()),
        switch: RootSwitch::Chroot,
        ..FsSpec::default()
    };
    let plan = MountPlan::compile(&spec).unwrap();
    let fake = Fake::default();
    host_files(&fake);
    plan.execute(&fake).unwrap();
    let calls = counted(&fake.log());
    assert!(!calls.iter().any(|c| c.starts_with("pivot")), "{calls:#?}");
    assert_eq!(calls[1], "open_tree /", "the host tree is copied first");
    let attach = calls
        .iter()
        .position(|c| c.starts_with("move_mount tree:/ /tmp/oldroot"));
    let chroot_setup_root = calls.iter().position(|c| c == "chroot .");
    assert!(attach.is_some() && attach < chroot_setup_root, "{calls:#?}");
    assert_eq!(calls.last().map(String::as_str), Some("chdir /"));
    assert!(fake.open_fds().is_empty(), "{:?}", fake.open_fds());
}

#[test]
fn chroot_mode_without_the_new_api_binds_the_host_root() {
    let spec = FsSpec {
        root: RootSource::Tmpfs,
        switch: RootSwitch::Chroot,
        ..FsSpec::default()
    };
    let plan = MountPlan::compile(&spec).unwrap();
    let fake = Fake {
        modern: false,
        ..Fake::default()
    };
    plan.execute(&fake).unwrap();
    let calls = fake.log();
    assert!(
        calls.contains(&"bind-r / /tmp/oldroot".to_string()),
        "{calls:#?}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("open_tree")));
}

#[test]
fn host_root_only_makes_mounts_slave_and_mounts_proc() {
    let spec = FsSpec {
        mount_proc: true,
        ..FsSpec::default()
    };
    let fake = Fake::default();
    fake.dirs(&["/proc"]);
    MountPlan::compile(&spec).unwrap().execute(&fake).unwrap();
    assert_eq!(counted(&fake.log()), vec!["slave /", "mount proc /proc"]);
}

#[test]
fn a_read_only_bind_clones_sets_flags_on_the_whole_tree_then_attaches() {
    let plan = MountPlan::compile(&tmpfs(vec![bind("/usr", "/usr", BindMode::ReadOnly)])).unwrap();
    let fake = Fake::default();
    host_files(&fake);
    plan.execute(&fake).unwrap();
    let calls = counted(&fake.log());
    let start = calls.iter().position(|c| c == "open /newroot").unwrap();
    assert_eq!(
        &calls[start..start + 8],
        &[
            "open /newroot",
            // Missing: the source's type decides what to create.
            "openat2-nosym /newroot/usr",
            "stat /oldroot/usr",
            "mkdir /newroot/usr 755",
            "openat2-nosym /newroot/usr",
            "open_tree /oldroot/usr",
            "setattr-r tree:/oldroot/usr MountFlags(NODEV | NOSUID | RDONLY)",
            "move_mount tree:/oldroot/usr /newroot/usr",
        ]
    );
    assert!(fake.open_fds().is_empty());
}

#[test]
fn a_bind_on_an_existing_destination_needs_no_stat_and_no_parent_walk() {
    let plan = MountPlan::compile(&tmpfs(vec![
        bind("/usr", "/a/b/usr", BindMode::ReadOnly),
        bind("/etc", "/a/b/etc", BindMode::ReadOnly),
    ]))
    .unwrap();
    let fake = Fake::default();
    host_files(&fake);
    fake.dirs(&[
        "/newroot/a",
        "/newroot/a/b",
        "/newroot/a/b/usr",
        "/newroot/a/b/etc",
    ]);
    plan.execute(&fake).unwrap();
    let calls = counted(&fake.log());
    let start = calls.iter().position(|c| c == "open /newroot").unwrap();
    assert_eq!(
        &calls[start..start + 9],
        &[
            // The new root is opened once for both.
            "open /newroot",
            "openat2-nosym /newroot/a/b/usr",
            "open_tree /oldroot/usr",
            "setattr-r tree:/oldroot/usr MountFlags(NODEV | NOSUID | RDONLY)",
            "move_mount tree:/oldroot/usr /newroot/a/b/usr",
            "openat2-nosym /newroot/a/b/etc",
            "open_tree /oldroot/etc",
            "setattr-r tree:/oldroot/etc MountFlags(NODEV | NOSUID | RDONLY)",
            "move_mount tree:/oldroot/etc /newroot/a/b/etc",
        ]
    );
    assert!(fake.open_fds().is_empty());
}

#[test]
fn a_missing_destination_with_its_parents_takes_one_parent_lookup() {
    let plan = MountPlan::compile(&tmpfs(vec![dir("/a/b/c/d", None)])).unwrap();
    let fake = Fake::default();
    fake.dirs(&["/newroot/a", "/newroot/a/b", "/newroot/a/b/c"]);
    plan.execute(&fake).unwrap();
    let calls = counted(&fake.log());
    let start = calls.iter().position(|c| c == "open /newroot").unwrap();
    assert_eq!(
        &calls[start..start + 5],
        &[
            "open /newroot",
            "openat2 /newroot/a/b/c",
            "openat2-nosym /newroot/a/b/c/d",
            "mkdir /newroot/a/b/c/d 755",
            "openat2-nosym /newroot/a/b/c/d",
        ]
    );
}

#[test]
fn the_new_root_is_opened_again_after_a_mount_that_may_cover_it() {
    // A mount on the new root itself (by its path, or through a symlink
    // that leads there) covers the kept descriptor: the next action must
    // look below the new mount, not in the directory it hides.
    for covering in [
        FsAction::Tmpfs {
            dest: "/".into(),
            size: None,
            perms: None,
        },
        FsAction::Tmpfs {
            dest: "/up".into(),
            size: None,
            perms: None,
        },
        bind("/usr", "/up", BindMode::ReadOnly),
    ] {
        let plan = MountPlan::compile(&tmpfs(vec![
            dir("/before", None),
            covering.clone(),
            dir("/after", None),
        ]))
        .unwrap();
        let fake = Fake::default();
        host_files(&fake);
        fake.add("/newroot/up", Node::Link("/".into()));
        plan.execute(&fake).unwrap();
        let calls = counted(&fake.log());
        let opens: Vec<usize> = calls
            .iter()
            .enumerate()
            .filter(|(_, c)| *c == "open /newroot")
            .map(|(i, _)| i)
            .collect();
        let mounted = calls
            .iter()
            .position(|c| c.starts_with("mount tmpfs /newroot") || c.starts_with("move_mount"))
            .unwrap();
        let after = calls
            .iter()
            .position(|c| c.starts_with("mkdir /newroot/after"))
            .unwrap();
        assert!(
            opens.iter().any(|i| (mounted..after).contains(i)),
            "{covering:?}: the new root was not opened again: {calls:#?}"
        );
        assert!(fake.open_fds().is_empty());
    }
    // A mount found without a symlink keeps it.
    let plan = MountPlan::compile(&tmpfs(vec![
        dir("/before", None),
        FsAction::Tmpfs {
            dest: "/t".into(),
            size: None,
            perms: None,
        },
        dir("/after", None),
    ]))
    .unwrap();
    let fake = Fake::default();
    plan.execute(&fake).unwrap();
    let opens = counted(&fake.log())
        .iter()
        .filter(|c| *c == "open /newroot")
        .count();
    assert_eq!(opens, 1, "{:#?}", fake.log());
}

#[test]
fn legacy_binds_remount_the_new_mounts_top_and_walk_its_submounts() {
    let spec = FsSpec {
        mount_api: MountApi::Legacy,
        ..tmpfs(vec![bind("/usr", "/usr", BindMode::Dev)])
    };
    let plan = MountPlan::compile(&spec).unwrap();
    let fake = Fake::default();
    host_files(&fake);
    plan.execute(&fake).unwrap();
    let calls = counted(&fake.log());
    let start = calls
        .iter()
        .position(|c| c.starts_with("bind-r /oldroot/usr"))
        .unwrap();
    // The mount point's descriptor names the directory under the new
    // mount: its top is found again, inside the new root, for the flags.
    assert_eq!(
        &calls[start..start + 5],
        &[
            "bind-r /oldroot/usr /newroot/usr",
            "openat2-nosym /newroot/usr",
            "statvfs /newroot/usr",
            "remount /newroot/usr MountFlags(NOSUID)",
            "remount-below /newroot/usr MountFlags(NOSUID)",
        ]
    );
    assert!(
        !calls.iter().any(|c| c == "open /newroot/usr"),
        "a destination was looked up without RESOLVE_IN_ROOT: {calls:#?}"
    );
    assert!(fake.open_fds().is_empty());
}

/// A new root holding an absolute symlink to a host directory as setup
/// sees it (`/oldroot/h`), and a relative one reaching it with `..`.
fn hostile_root(fake: &Fake) {
    fake.dirs(&["/oldroot/h"]);
    fake.add("/oldroot/h/f", Node::File(0o644, b"host".to_vec()));
    fake.add("/newroot/evil", Node::Link("/oldroot/h".into()));
    fake.add("/newroot/rel", Node::Link("../oldroot/h".into()));
}

#[test]
fn every_mount_method_resolves_destinations_inside_the_new_root() {
    let attacks = [
        dir("/evil/pwned", None),
        dir("/rel/pwned", None),
        FsAction::File {
            source: DataSource::Bytes(b"pwned".to_vec()),
            dest: "/evil/f".into(),
            perms: None,
        },
        FsAction::Chmod {
            path: "/rel/f".into(),
            mode: 0o777,
        },
        FsAction::Symlink {
            target: "/etc/shadow".into(),
            link: "/evil/l".into(),
        },
        FsAction::Tmpfs {
            dest: "/evil".into(),
            size: None,
            perms: None,
        },
        bind("/usr", "/rel/usr", BindMode::ReadOnly),
    ];
    for (api, modern) in [
        (MountApi::Auto, true),
        (MountApi::Auto, false),
        (MountApi::Legacy, true),
    ] {
        for attack in &attacks {
            let spec = FsSpec {
                mount_api: api,
                ..tmpfs(vec![attack.clone()])
            };
            let plan = MountPlan::compile(&spec).unwrap();
            let fake = Fake {
                modern,
                ..Fake::default()
            };
            host_files(&fake);
            hostile_root(&fake);
            let before: BTreeMap<String, Node> = fake
                .snapshot()
                .into_iter()
                .filter(|(k, _)| k.starts_with("/oldroot/h"))
                .collect();
            let _ = plan.execute(&fake);
            let after: BTreeMap<String, Node> = fake
                .snapshot()
                .into_iter()
                .filter(|(k, _)| k.starts_with("/oldroot/h"))
                .collect();
            assert_eq!(after, before, "{api:?} modern={modern} {attack:?}");
            let mounted: Vec<String> = fake.mounts.borrow().iter().map(|m| m.0.clone()).collect();
            assert!(
                !mounted.iter().any(|m| m.starts_with("/oldroot")),
                "{api:?} modern={modern} {attack:?} mounted on {mounted:?}"
            );
        }
    }
}

#[test]
fn without_openat2_a_plan_below_a_new_root_is_refused_before_it_starts() {
    use rustix::io::Errno;
    let spec = FsSpec {
        root: RootSource::Dir("/usr".into()),
        ..tmpfs(vec![
            FsAction::Tmpfs {
                dest: "/tmp".into(),
                size: None,
                perms: None,
            },
            dir("/evil/pwned", None),
        ])
    };
    let plan = MountPlan::compile(&spec).unwrap();
    for errno in [Errno::NOSYS, Errno::PERM] {
        let fake = Fake {
            modern: false,
            in_root: Err(errno),
            ..Fake::default()
        };
        hostile_root(&fake);
        let before = fake.snapshot();
        let failure = plan.execute(&fake).unwrap_err();
        assert!(fake.log().is_empty(), "it started: {:#?}", fake.log());
        assert_eq!(fake.snapshot(), before);
        let err = plan.describe(failure);
        assert!(
            matches!(&err, FsError::InRootUnavailable { dest, .. } if dest == Path::new("/tmp")),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with(
                "Can't resolve /tmp inside the new root: openat2(RESOLVE_IN_ROOT) is unavailable"
            ),
            "{message}"
        );
        assert!(
            message.ends_with(&format!(
                "{}",
                std::io::Error::from_raw_os_error(errno.raw_os_error())
            )),
            "{message}"
        );
    }
}

#[test]
fn without_openat2_plans_that_resolve_nothing_below_a_new_root_still_run() {
    use rustix::io::Errno;
    let no_openat2 = || Fake {
        in_root: Err(Errno::NOSYS),
        ..Fake::default()
    };
    // A tmpfs root without actions resolves nothing, nor does a bind on the
    // new root itself.
    MountPlan::compile(&tmpfs(vec![]))
        .unwrap()
        .execute(&no_openat2())
        .unwrap();
    let fake = no_openat2();
    host_files(&fake);
    MountPlan::compile(&tmpfs(vec![bind("/usr", "/", BindMode::ReadOnly)]))
        .unwrap()
        .execute(&fake)
        .unwrap();
    assert!(
        fake.log()
            .iter()
            .any(|c| c.starts_with("move_mount tree:/oldroot/usr /newroot"))
    );
    // Without a root switch the new root is the process's own: a plain
    // lookup from it is what RESOLVE_IN_ROOT would do.
    let spec = FsSpec {
        root: RootSource::Host,
        actions: vec![dir("/h/a", None)],
        ..FsSpec::default()
    };
    let fake = no_openat2();
    fake.dirs(&["/h"]);
    MountPlan::compile(&spec).unwrap().execute(&fake).unwrap();
    assert!(fake.exists("/h/a"));
    assert!(!fake.log().iter().any(|c| c.starts_with("openat2")));
}

#[test]
fn the_kernel_probe_picks_the_legacy_path_too() {
    let plan = MountPlan::compile(&tmpfs(vec![bind("/usr", "/usr", BindMode::ReadOnly)])).unwrap();
    let fake = Fake {
        modern: false,
        ..Fake::default()
    };
    host_files(&fake);
    plan.execute(&fake).unwrap();
    assert!(
        fake.log()
            .iter()
            .any(|c| c.starts_with("bind-r /oldroot/usr"))
    );
}

#[test]
fn missing_parents_get_the_perms_masking_rule() {
    let plan = MountPlan::compile(&tmpfs(vec![dir("/a/b/c", Some(0o700))])).unwrap();
    let fake = Fake::default();
    plan.execute(&fake).unwrap();
    assert_eq!(fake.node("/newroot/a"), Some(Node::Dir(0o700)));
    assert_eq!(fake.node("/newroot/a/b"), Some(Node::Dir(0o700)));
    assert_eq!(fake.node("/newroot/a/b/c"), Some(Node::Dir(0o700)));
    let plan = MountPlan::compile(&tmpfs(vec![FsAction::BindData {
        source: DataSource::Bytes(b"x".to_vec()),
        dest: "/p/q".into(),
        perms: Some(0o640),
        read_only: true,
    }]))
    .unwrap();
    let fake = Fake::default();
    plan.execute(&fake).unwrap();
    assert_eq!(fake.node("/newroot/p"), Some(Node::Dir(0o750)));
}

#[test]
fn an_existing_directory_keeps_its_mode() {
    let plan = MountPlan::compile(&tmpfs(vec![dir("/d", Some(0o700))])).unwrap();
    let fake = Fake::default();
    fake.add("/newroot/d", Node::Dir(0o711));
    plan.execute(&fake).unwrap();
    assert_eq!(fake.node("/newroot/d"), Some(Node::Dir(0o711)));
}

/// A plan touching every kind of action, on a tmpfs root.
fn everything() -> FsSpec {
    tmpfs(vec![
        dir("/a/b/c", Some(0o700)),
        bind("/usr", "/a/b/c/usr", BindMode::ReadOnly),
        FsAction::File {
            source: DataSource::Bytes(b"hello".to_vec()),
            dest: "/a/f.txt".into(),
            perms: None,
        },
        FsAction::BindData {
            source: DataSource::Bytes(b"data".to_vec()),
            dest: "/x/y/data".into(),
            perms: None,
            read_only: true,
        },
        FsAction::Symlink {
            target: "target".into(),
            link: "/a/link".into(),
        },
        FsAction::Chmod {
            path: "/a".into(),
            mode: 0o750,
        },
        FsAction::Tmpfs {
            dest: "/t".into(),
            size: Some(1 << 20),
            perms: Some(0o1777),
        },
        FsAction::Dev {
            dest: "/dev".into(),
        },
        FsAction::Proc {
            dest: "/proc".into(),
        },
        FsAction::Mqueue { dest: "/mq".into() },
        FsAction::RemountRo { dest: "/t".into() },
        bind("/etc", "/etc", BindMode::ReadWrite),
        // On a destination that exists by now.
        bind("/usr", "/a/b", BindMode::ReadOnly),
    ])
}

/// The model without what the root switch itself makes in the setup root
/// (or, without one, the tmp-overlay layers `finish` removes).
fn outside_setup_root(snapshot: BTreeMap<String, Node>) -> BTreeMap<String, Node> {
    snapshot
        .into_iter()
        .filter(|(k, _)| {
            !k.starts_with("/tmp/newroot")
                && !k.starts_with("/tmp/oldroot")
                && !k.contains("/tmp-overlay-")
        })
        .collect()
}

fn check_rollback_at_every_step(spec: &FsSpec, modern: bool) {
    let plan = MountPlan::compile(spec).unwrap();
    let artifact_dir = plan
        .artifact_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let host_files = |fake: &Fake| {
        host_files(fake);
        if !artifact_dir.is_empty() {
            fake.dirs(&[&artifact_dir, "/h", "/h/existing", "/etc"]);
        }
    };
    let clean = Fake {
        modern,
        ..Fake::default()
    };
    host_files(&clean);
    let before = outside_setup_root(clean.snapshot());
    plan.execute(&clean).unwrap();
    let total = clean.counted();
    let mounts = |fake: &Fake| -> Vec<String> {
        fake.mounts
            .borrow()
            .iter()
            .map(|(t, _)| t.clone())
            .collect()
    };
    let mut failures = 0;
    let mut worked_around = 0;
    for at in 0..total {
        let fake = Fake {
            modern,
            ..Fake::failing_at(at)
        };
        host_files(&fake);
        let Err(failure) = plan.execute(&fake) else {
            let calls = counted(&fake.log());
            let call = calls[at].clone();
            // The removal of a data file's name may fail quietly: the
            // mount holds the file, and the setup root goes with the
            // sandbox (without a root switch, `finish` removes the artifact
            // directory).
            if call.starts_with("unlink ") && call.contains("/bindfile") {
                continue;
            }
            // A lookup that only spares work (without symlinks, or of the
            // deepest parent first) may fail, and so may a step the plan
            // then makes again in its full sequence: the result must be
            // the same as without the failure.
            assert!(
                call.starts_with("openat2-nosym ") || calls[at + 1..].contains(&call),
                "failure at {at} ({call}) was ignored"
            );
            assert_eq!(
                fake.snapshot(),
                clean.snapshot(),
                "failure at {at} ({call}) worked around, differently"
            );
            assert_eq!(mounts(&fake), mounts(&clean), "failure at {at} ({call})");
            assert!(fake.open_fds().is_empty(), "failure at {at} ({call})");
            worked_around += 1;
            continue;
        };
        failures += 1;
        assert_eq!(failure.errno, libc::EPERM);
        let err = plan.describe(failure);
        assert!(
            !matches!(err, FsError::UnknownStep { .. }),
            "step {at}: {err}"
        );
        assert_eq!(
            outside_setup_root(fake.snapshot()),
            before,
            "failure at call {at} ({}) left changes behind; calls: {:#?}",
            counted(&fake.log())[at],
            fake.log()
        );
        let left: Vec<String> = fake
            .mounts
            .borrow()
            .iter()
            .map(|(t, _)| t.clone())
            .filter(|t| t.starts_with("/newroot/"))
            .collect();
        assert!(left.is_empty(), "failure at {at} left mounts {left:?}");
        assert!(
            fake.open_fds().is_empty(),
            "failure at {at} leaked {:?}",
            fake.open_fds()
        );
        assert_eq!(fake.log().last().map(String::as_str), Some("umask 22"));
    }
    assert!(
        failures + worked_around + 1 >= total,
        "{failures} of {total} failures reported, {worked_around} worked around"
    );
}

#[test]
fn a_failure_at_any_step_leaves_nothing_behind() {
    check_rollback_at_every_step(&everything(), true);
}

#[test]
fn a_failure_at_any_step_leaves_nothing_behind_with_the_legacy_api() {
    check_rollback_at_every_step(&everything(), false);
}

#[test]
fn a_failure_at_any_step_leaves_nothing_behind_in_a_rootfs() {
    let spec = FsSpec {
        root: RootSource::Dir("/".into()),
        ..everything()
    };
    check_rollback_at_every_step(&spec, true);
}

#[test]
fn a_failure_at_any_step_leaves_nothing_behind_without_a_root_switch() {
    let _serial = HOST_ARTIFACTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let spec = FsSpec {
        root: RootSource::Host,
        mount_proc: false,
        actions: vec![
            dir("/h/a/b", None),
            FsAction::BindData {
                source: DataSource::Bytes(b"data".to_vec()),
                dest: "/h/existing/data".into(),
                perms: None,
                read_only: false,
            },
            FsAction::OverlaySrc {
                key: "k".into(),
                path: "/usr".into(),
            },
            FsAction::TmpOverlay {
                sources: vec!["k".into()],
                dest: "/h/o".into(),
            },
            FsAction::Chmod {
                path: "/h/existing".into(),
                mode: 0o700,
            },
            bind("/etc", "/h/etc", BindMode::ReadOnly),
        ],
        ..FsSpec::default()
    };
    check_rollback_at_every_step(&spec, true);
    check_rollback_at_every_step(&spec, false);
}

#[test]
fn rollback_undoes_in_reverse_order_unmounting_before_removing() {
    let spec = tmpfs(vec![
        dir("/a/b", None),
        FsAction::File {
            source: DataSource::Bytes(Vec::new()),
            dest: "/a/f".into(),
            perms: None,
        },
        FsAction::Symlink {
            target: "f".into(),
            link: "/a/l".into(),
        },
        dir("/m", None),
        bind("/usr", "/m/usr", BindMode::ReadOnly),
        dir("/last", None),
    ]);
    let plan = MountPlan::compile(&spec).unwrap();
    let setup = |fake: &Fake| host_files(fake);
    let at = index_of(&plan, setup, "mkdir /newroot/last");
    let fake = Fake::failing_at(at);
    host_files(&fake);
    plan.execute(&fake).unwrap_err();
    let calls = counted(&fake.log());
    let undo: Vec<&str> = calls[at + 1..]
        .iter()
        .map(String::as_str)
        .filter(|c| c.starts_with("umount") || c.starts_with("rmdir") || c.starts_with("unlink"))
        .collect();
    assert_eq!(
        undo,
        vec![
            "umount /newroot/m/usr",
            "rmdir /newroot/m/usr",
            "rmdir /newroot/m",
            "unlink /newroot/a/l",
            "unlink /newroot/a/f",
            "rmdir /newroot/a/b",
            "rmdir /newroot/a",
        ]
    );
}

#[test]
fn chmod_is_undone_on_a_later_failure() {
    let spec = tmpfs(vec![
        FsAction::Chmod {
            path: "/d".into(),
            mode: 0o700,
        },
        dir("/later", None),
    ]);
    let plan = MountPlan::compile(&spec).unwrap();
    let setup = |fake: &Fake| fake.add("/newroot/d", Node::Dir(0o755));
    let at = index_of(&plan, setup, "mkdir /newroot/later");
    let fake = Fake::failing_at(at);
    setup(&fake);
    plan.execute(&fake).unwrap_err();
    assert_eq!(fake.node("/newroot/d"), Some(Node::Dir(0o755)));
}

#[test]
fn bind_data_is_written_bound_and_unlinked() {
    let spec = tmpfs(vec![FsAction::BindData {
        source: DataSource::Bytes(b"payload".to_vec()),
        dest: "/etc/passwd".into(),
        perms: Some(0o644),
        read_only: true,
    }]);
    let plan = MountPlan::compile(&spec).unwrap();
    let fake = Fake::default();
    plan.execute(&fake).unwrap();
    let calls = counted(&fake.log());
    let create = calls
        .iter()
        .position(|c| c.starts_with("create /bindfile"))
        .unwrap();
    let unlink = calls
        .iter()
        .position(|c| c.starts_with("unlink /bindfile"))
        .unwrap();
    let mount = calls
        .iter()
        .position(|c| c.starts_with("move_mount tree:/bindfile"))
        .unwrap();
    assert!(create < mount && mount < unlink, "{calls:#?}");
    let data_file = calls[create].split(' ').nth(1).unwrap().to_owned();
    assert!(
        calls.contains(&format!("write {data_file} 7")),
        "{calls:#?}"
    );
    assert!(!fake.exists(&data_file));
}

#[test]
fn messages_follow_bubblewrap() {
    use rustix::io::Errno;
    let spec = tmpfs(vec![
        dir("/a/b/c", None),
        bind("/usr", "/a/b/c/usr", BindMode::ReadOnly),
        FsAction::Tmpfs {
            dest: "/t".into(),
            size: None,
            perms: None,
        },
        FsAction::Chmod {
            path: "/a".into(),
            mode: 0o700,
        },
        FsAction::Dev {
            dest: "/dev".into(),
        },
        FsAction::RemountRo { dest: "/t".into() },
    ]);
    let plan = MountPlan::compile(&spec).unwrap();
    let setup = |fake: &Fake| host_files(fake);
    let cases = [
        (
            "mkdir /newroot/a 755",
            Errno::ACCESS,
            "Can't mkdir parents for /a/b/c: Permission denied (os error 13)",
        ),
        (
            "move_mount tree:/oldroot/usr",
            Errno::INVAL,
            "Can't bind mount /oldroot/usr on /newroot/a/b/c/usr: Unable to mount source on destination: Invalid argument (os error 22)",
        ),
        (
            "setattr-r tree:/oldroot/usr",
            Errno::PERM,
            "Can't bind mount /oldroot/usr on /newroot/a/b/c/usr: Unable to remount destination with correct flags: Operation not permitted (os error 1)",
        ),
        (
            "stat /oldroot/usr",
            Errno::ACCESS,
            "Can't get type of source /usr: Permission denied (os error 13)",
        ),
        (
            "mount tmpfs /newroot/t mode=0755",
            Errno::NOSPC,
            "Can't mount tmpfs on /newroot/t: No space left on device (os error 28)",
        ),
        (
            "chmod /newroot/a",
            Errno::PERM,
            "Can't chmod 0700 /a: Operation not permitted (os error 1)",
        ),
        (
            "create /newroot/dev/zero",
            Errno::ACCESS,
            "Can't create file /dev/zero: Permission denied (os error 13)",
        ),
        (
            "move_mount tree:/oldroot/dev/tty",
            Errno::PERM,
            "Can't bind mount /oldroot/dev/tty on /newroot/dev/tty: Unable to mount source on destination: Operation not permitted (os error 1)",
        ),
        (
            "symlink /newroot/dev/stdout",
            Errno::EXIST,
            "Can't create symlink /dev/stdout: File exists (os error 17)",
        ),
        (
            "mount devpts",
            Errno::INVAL,
            "Can't mount devpts on /newroot/dev/pts: Invalid argument (os error 22)",
        ),
        (
            "symlink /newroot/dev/ptmx",
            Errno::ACCESS,
            "Can't make symlink at /dev/ptmx: Permission denied (os error 13)",
        ),
        (
            "setattr /newroot/t",
            Errno::PERM,
            "Can't remount readonly on /newroot/t: Unable to remount destination with correct flags: Operation not permitted (os error 1)",
        ),
    ];
    for (call, errno, message) in cases {
        let err = fail(&plan, setup, call, errno);
        assert_eq!(err.to_string(), message, "failing {call}");
    }
}

#[test]
fn remount_ro_of_a_path_that_is_not_a_mount_point() {
    let plan = MountPlan::compile(&tmpfs(vec![
        dir("/d", None),
        FsAction::RemountRo { dest: "/d".into() },
    ]))
    .unwrap();
    let fake = Fake::default();
    let err = plan.describe(plan.execute(&fake).unwrap_err());
    assert_eq!(
        err.to_string(),
        "Can't remount readonly on /newroot/d: Unable to find destination in mount table"
    );
    let plan = MountPlan::compile(&tmpfs(vec![FsAction::RemountRo {
        dest: "/nope".into(),
    }]))
    .unwrap();
    let err = plan.describe(plan.execute(&Fake::default()).unwrap_err());
    assert_eq!(
        err.to_string(),
        "Can't remount readonly on /newroot/nope: realpath(destination): No such file or directory (os error 2)"
    );
}

#[test]
fn symlinks_are_idempotent_and_conflicts_name_the_existing_target() {
    let link = |target: &str| FsAction::Symlink {
        target: target.into(),
        link: "/l".into(),
    };
    let plan = MountPlan::compile(&tmpfs(vec![link("a"), link("a")])).unwrap();
    plan.execute(&Fake::default()).unwrap();
    let plan = MountPlan::compile(&tmpfs(vec![link("a"), link("b")])).unwrap();
    let fake = Fake::default();
    let err = plan.describe(plan.execute(&fake).unwrap_err());
    assert_eq!(
        err.to_string(),
        "Can't make symlink at /l: existing destination is a"
    );
    assert!(
        !fake.exists("/newroot/l"),
        "the first link was not rolled back"
    );
    let plan = MountPlan::compile(&tmpfs(vec![dir("/l", None), link("a")])).unwrap();
    let err = plan.describe(plan.execute(&Fake::default()).unwrap_err());
    assert_eq!(
        err.to_string(),
        "Can't make symlink at /l: destination exists and is not a symlink"
    );
}

#[test]
fn chmod_of_a_missing_path_creates_nothing() {
    let plan = MountPlan::compile(&tmpfs(vec![FsAction::Chmod {
        path: "/no/such".into(),
        mode: 0o700,
    }]))
    .unwrap();
    let fake = Fake::default();
    let err = plan.describe(plan.execute(&fake).unwrap_err());
    assert_eq!(
        err.to_string(),
        "Can't chmod 0700 /no/such: No such file or directory (os error 2)"
    );
    assert!(!fake.exists("/newroot/no"));
}

#[test]
fn forged_failure_reports_are_unknown_steps() {
    let plan = MountPlan::compile(&FsSpec::default()).unwrap();
    for failure in [
        FsFailure {
            step: 3,
            index: 0,
            errno: libc::EIO,
        },
        FsFailure {
            step: 1,
            index: 99,
            errno: libc::EIO,
        },
        FsFailure {
            step: 0xdead,
            index: 0,
            errno: libc::EIO,
        },
    ] {
        assert!(matches!(
            plan.describe(failure),
            FsError::UnknownStep { .. }
        ));
    }
}

#[test]
fn bad_input_is_refused_at_compile_time_naming_the_action() {
    let err = |actions: Vec<FsAction>| MountPlan::compile(&tmpfs(actions)).unwrap_err().to_string();
    assert_eq!(
        err(vec![bind("/nonexistent/src", "/x", BindMode::ReadWrite)]),
        "Can't find source path /nonexistent/src: No such file or directory (os error 2)"
    );
    // A pipe's /proc/self/fd link names no path: nothing to bind.
    let (pipe, _w) = rustix::pipe::pipe().unwrap();
    let raw = pipe.as_raw_fd();
    assert_eq!(
        err(vec![FsAction::BindFd {
            fd: Arc::new(pipe),
            dest: "/x".into(),
            read_only: false
        }]),
        format!(
            "Can't find source path /proc/self/fd/{raw}: No such file or directory (os error 2)"
        )
    );
    assert_eq!(
        err(vec![FsAction::File {
            source: DataSource::Fd(unreadable()),
            dest: "/f".into(),
            perms: None
        }]),
        "Can't write data to file /f: Bad file descriptor (os error 9)"
    );
    assert_eq!(
        err(vec![FsAction::RoOverlay {
            sources: vec!["k".into()],
            dest: "/o".into()
        }]),
        "FsAction::RoOverlay needs at least 2 FsAction::OverlaySrc layer(s) before it"
    );
    assert_eq!(
        err(vec![FsAction::TmpOverlay {
            sources: vec!["missing".into()],
            dest: "/o".into()
        }]),
        "FsAction::TmpOverlay: no FsAction::OverlaySrc with key \"missing\" was declared before it"
    );
    assert_eq!(
        err(vec![FsAction::Chmod {
            path: "/x".into(),
            mode: 0o17777
        }]),
        "FsAction::Chmod mode is above 0o7777"
    );
    assert_eq!(
        err(vec![FsAction::Tmpfs {
            dest: "/t".into(),
            size: Some(u64::MAX),
            perms: None
        }]),
        format!(
            "Specified tmpfs size too large ({} > {})",
            u64::MAX,
            u64::MAX / 2
        )
    );
    let missing_root = FsSpec {
        root: RootSource::Dir("/nonexistent/root".into()),
        ..FsSpec::default()
    };
    assert_eq!(
        MountPlan::compile(&missing_root).unwrap_err().to_string(),
        "Can't find rootfs /nonexistent/root: No such file or directory (os error 2)"
    );
}

#[test]
fn the_first_bad_source_is_reported_before_any_bad_data() {
    let actions = vec![
        FsAction::File {
            source: DataSource::Fd(unreadable()),
            dest: "/f".into(),
            perms: None,
        },
        bind("/nonexistent/src", "/x", BindMode::ReadWrite),
    ];
    let err = MountPlan::compile(&tmpfs(actions)).unwrap_err();
    assert!(matches!(err, FsError::SourcePath { .. }), "{err}");
}

#[test]
fn a_try_bind_of_a_missing_source_is_skipped_entirely() {
    let plan = MountPlan::compile(&tmpfs(vec![FsAction::Bind {
        src: "/nonexistent/src".into(),
        dest: "/x/y".into(),
        mode: BindMode::ReadOnly,
        optional: true,
    }]))
    .unwrap();
    let fake = Fake::default();
    plan.execute(&fake).unwrap();
    assert!(!fake.exists("/newroot/x"));
    assert!(!fake.log().iter().any(|c| c.contains("/x")));
}

#[test]
fn overlay_options_name_the_layers_under_the_old_root() {
    let spec = tmpfs(vec![
        FsAction::OverlaySrc {
            key: "low".into(),
            path: "/usr".into(),
        },
        FsAction::OverlaySrc {
            key: "high".into(),
            path: "/etc".into(),
        },
        FsAction::TmpOverlay {
            sources: vec!["low".into(), "high".into()],
            dest: "/o".into(),
        },
        FsAction::OverlaySrc {
            key: "base".into(),
            path: "/usr".into(),
        },
        FsAction::Overlay {
            sources: vec!["base".into()],
            upper: "/tmp".into(),
            work: "/var/tmp".into(),
            dest: "/rw".into(),
        },
    ]);
    let plan = MountPlan::compile(&spec).unwrap();
    let fake = Fake::default();
    plan.execute(&fake).unwrap();
    let calls = fake.log();
    assert!(calls.contains(&"mkdir /tmp/tmp-overlay-upper-0 755".to_string()));
    assert!(calls.contains(&"mkdir /tmp/tmp-overlay-work-0 755".to_string()));
    let etc = std::fs::canonicalize("/etc").unwrap();
    let usr = std::fs::canonicalize("/usr").unwrap();
    let tmp = std::fs::canonicalize("/tmp").unwrap();
    let var_tmp = std::fs::canonicalize("/var/tmp").unwrap();
    let expect_tmp = format!(
        "mount overlay /newroot/o upperdir=/tmp-overlay-upper-0,workdir=/tmp-overlay-work-0,lowerdir=/oldroot{}:/oldroot{},userxattr",
        etc.display(),
        usr.display()
    );
    assert!(calls.contains(&expect_tmp), "{calls:#?}");
    let expect_rw = format!(
        "mount overlay /newroot/rw upperdir=/oldroot{},workdir=/oldroot{},lowerdir=/oldroot{},userxattr",
        tmp.display(),
        var_tmp.display(),
        usr.display()
    );
    assert!(calls.contains(&expect_rw), "{calls:#?}");
}

/// A directory descriptor the fake need not know (compiling resolves it).
fn dir_fd() -> Arc<OwnedFd> {
    Arc::new(
        rustix::fs::open(
            "/",
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap(),
    )
}

#[test]
fn consumed_descriptors_are_closed_in_the_child() {
    let (r, w) = rustix::pipe::pipe().unwrap();
    rustix::io::write(&w, b"content").unwrap();
    drop(w);
    let fd = r.as_raw_fd();
    let plan = MountPlan::compile(&tmpfs(vec![FsAction::File {
        source: DataSource::Fd(Arc::new(r)),
        dest: "/f".into(),
        perms: Some(0o640),
    }]))
    .unwrap();
    let fake = Fake::default();
    plan.execute(&fake).unwrap();
    assert!(fake.log().contains(&format!("close fd{fd}")));
    assert_eq!(
        fake.node("/newroot/f"),
        Some(Node::File(0o640, b"content".to_vec()))
    );
}

#[test]
fn a_descriptor_named_twice_is_closed_once() {
    let (r, w) = rustix::pipe::pipe().unwrap();
    drop(w);
    let data = Arc::new(r);
    let dir = dir_fd();
    let plan = MountPlan::compile(&tmpfs(vec![
        FsAction::BindFd {
            fd: dir.clone(),
            dest: "/a".into(),
            read_only: true,
        },
        FsAction::File {
            source: DataSource::Fd(data.clone()),
            dest: "/f".into(),
            perms: None,
        },
        FsAction::BindFd {
            fd: dir.clone(),
            dest: "/b".into(),
            read_only: false,
        },
        FsAction::BindData {
            source: DataSource::Fd(data.clone()),
            dest: "/g".into(),
            perms: None,
            read_only: false,
        },
    ]))
    .unwrap();
    let closes: Vec<&Vec<i32>> = plan
        .ops
        .iter()
        .filter_map(|op| match op {
            crate::op::Op::CloseFds(fds) => Some(fds),
            _ => None,
        })
        .collect();
    assert_eq!(closes, [&vec![dir.as_raw_fd(), data.as_raw_fd()]]);
}

#[test]
fn the_plan_holds_the_descriptors_it_names_until_it_is_dropped() {
    let dir = dir_fd();
    let (r, w) = rustix::pipe::pipe().unwrap();
    drop(w);
    let data = Arc::new(r);
    let plan = MountPlan::compile(&tmpfs(vec![
        FsAction::BindFd {
            fd: dir.clone(),
            dest: "/a".into(),
            read_only: false,
        },
        FsAction::File {
            source: DataSource::Fd(data.clone()),
            dest: "/f".into(),
            perms: None,
        },
    ]))
    .unwrap();
    let weak = [Arc::downgrade(&dir), Arc::downgrade(&data)];
    drop((dir, data));
    // The caller's copies are gone: the plan's keep the numbers it will use.
    assert!(weak.iter().all(|fd| fd.upgrade().is_some()));
    drop(plan);
    assert!(weak.iter().all(|fd| fd.upgrade().is_none()));
}

#[test]
fn a_descriptor_source_is_read_from_its_offset_on_every_compile() {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = tempfile_in_tmp();
    file.write_all(b"0123456789").unwrap();
    file.seek(SeekFrom::Start(4)).unwrap();
    let fd = Arc::new(OwnedFd::from(file));
    let spec = tmpfs(vec![FsAction::File {
        source: DataSource::Fd(fd.clone()),
        dest: "/f".into(),
        perms: Some(0o600),
    }]);
    let content = |spec: &FsSpec| {
        let plan = MountPlan::compile(spec).unwrap();
        let fake = Fake::default();
        plan.execute(&fake).unwrap();
        match fake.node("/newroot/f") {
            Some(Node::File(_, data)) => data,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(content(&spec), b"456789");
    assert_eq!(content(&spec), b"");
    rustix::fs::seek(&*fd, rustix::fs::SeekFrom::Start(0)).unwrap();
    assert_eq!(content(&spec), b"0123456789");
    assert!(rustix::io::fcntl_getfd(&*fd).is_ok(), "reading closed it");
}

/// An anonymous regular file (unlinked at once).
fn tempfile_in_tmp() -> std::fs::File {
    let path = std::env::temp_dir().join(format!(
        "vb-fs-data-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    file
}

#[test]
fn equal_actions_hold_the_same_descriptor() {
    let (r, _w) = rustix::pipe::pipe().unwrap();
    let fd = Arc::new(r);
    let other = Arc::new(rustix::io::dup(&*fd).unwrap());
    let bind_fd = |fd: &Arc<OwnedFd>| FsAction::BindFd {
        fd: fd.clone(),
        dest: "/a".into(),
        read_only: false,
    };
    let file = |fd: &Arc<OwnedFd>| FsAction::File {
        source: DataSource::Fd(fd.clone()),
        dest: "/a".into(),
        perms: None,
    };
    assert_eq!(bind_fd(&fd), bind_fd(&fd));
    assert_eq!(bind_fd(&fd), bind_fd(&fd).clone());
    assert_ne!(bind_fd(&fd), bind_fd(&other), "a dup is another descriptor");
    assert_eq!(file(&fd), file(&fd));
    assert_ne!(file(&fd), file(&other));
    assert_ne!(bind_fd(&fd), file(&fd));
    assert_eq!(
        DataSource::Bytes(b"x".to_vec()),
        DataSource::Bytes(b"x".to_vec())
    );
    assert_ne!(DataSource::Bytes(Vec::new()), DataSource::Fd(fd.clone()));
    assert_eq!(dir("/d", None), dir("/d", None));
    assert_ne!(dir("/d", None), dir("/d", Some(0o700)));
    // Debug names the descriptor's number.
    let raw = fd.as_raw_fd();
    assert!(
        format!("{:?}", bind_fd(&fd)).contains(&format!("fd: {raw}")),
        "{:?}",
        bind_fd(&fd)
    );
    assert!(format!("{:?}", DataSource::Fd(fd.clone())).contains(&format!("fd: {raw}")));
}

#[test]
fn without_a_root_switch_bind_data_lives_in_a_private_host_directory() {
    let _serial = HOST_ARTIFACTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let spec = FsSpec {
        root: RootSource::Host,
        actions: vec![FsAction::BindData {
            source: DataSource::Bytes(b"x".to_vec()),
            dest: "/etc/motd".into(),
            perms: None,
            read_only: true,
        }],
        ..FsSpec::default()
    };
    let mut plan = MountPlan::compile(&spec).unwrap();
    let dir = plan.artifact_dir().unwrap().to_path_buf();
    assert!(dir.is_dir());
    let fake = Fake::default();
    fake.dirs(&[dir.to_str().unwrap(), "/etc"]);
    plan.execute(&fake).unwrap();
    let data_file = format!("{}/bindfile1", dir.display());
    assert!(
        fake.log()
            .iter()
            .any(|c| c.starts_with(&format!("create {data_file}"))),
        "{:#?}",
        fake.log()
    );
    plan.finish().unwrap();
    assert!(!dir.exists());
    plan.finish().unwrap();
}

fn own_artifact_dirs() -> Vec<PathBuf> {
    let base = std::fs::canonicalize(std::env::temp_dir()).unwrap();
    let prefix = format!(".vb-fs-{}-", std::process::id());
    std::fs::read_dir(&base)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

#[test]
fn a_read_failure_leaves_no_artifact_directory() {
    let _serial = HOST_ARTIFACTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = own_artifact_dirs();
    let spec = FsSpec {
        root: RootSource::Host,
        actions: vec![
            FsAction::TmpOverlay {
                sources: vec!["k".into()],
                dest: "/o".into(),
            },
            FsAction::BindData {
                source: DataSource::Fd(unreadable()),
                dest: "/etc/motd".into(),
                perms: None,
                read_only: true,
            },
        ],
        ..FsSpec::default()
    };
    let mut spec = spec;
    spec.actions.insert(
        0,
        FsAction::OverlaySrc {
            key: "k".into(),
            path: "/usr".into(),
        },
    );
    let err = MountPlan::compile(&spec).unwrap_err();
    assert!(matches!(err, FsError::ReadData { .. }), "{err}");
    assert_eq!(own_artifact_dirs(), before);
}

#[test]
fn a_host_tmp_overlay_prepares_its_layers_in_the_artifact_directory() {
    let _serial = HOST_ARTIFACTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let spec = FsSpec {
        root: RootSource::Host,
        actions: vec![
            FsAction::OverlaySrc {
                key: "k".into(),
                path: "/usr".into(),
            },
            FsAction::TmpOverlay {
                sources: vec!["k".into()],
                dest: "/o".into(),
            },
        ],
        ..FsSpec::default()
    };
    let mut plan = MountPlan::compile(&spec).unwrap();
    let dir = plan.artifact_dir().unwrap().display().to_string();
    let fake = Fake::default();
    fake.dirs(&[&dir]);
    plan.execute(&fake).unwrap();
    assert!(fake.exists(&format!("{dir}/tmp-overlay-upper-0")));
    let mount = fake
        .log()
        .into_iter()
        .find(|c| c.starts_with("mount overlay /o"))
        .unwrap();
    assert!(
        mount.contains(&format!("upperdir={dir}/tmp-overlay-upper-0")),
        "{mount}"
    );
    plan.finish().unwrap();
    assert!(!Path::new(&dir).exists());
}

#[test]
fn relative_sources_resolve_against_the_parents_working_directory() {
    // Compiled once, the plan no longer depends on any working directory.
    let cwd = std::env::current_dir().unwrap();
    let rel = Path::new("src");
    if !cwd.join(rel).exists() {
        return;
    }
    let plan = MountPlan::compile(&tmpfs(vec![bind("src", "/s", BindMode::ReadOnly)])).unwrap();
    let fake = Fake::default();
    let abs = std::fs::canonicalize(rel).unwrap();
    fake.dirs(&[&format!("/oldroot{}", abs.display())]);
    plan.execute(&fake).unwrap();
    assert!(
        fake.log()
            .contains(&format!("open_tree /oldroot{}", abs.display())),
        "{:#?}",
        fake.log()
    );
}

#[test]
fn a_file_label_becomes_the_context_of_the_tmpfs_mounts() {
    let label = "system_u:object_r:container_file_t:s0:c1,c2";
    let spec = FsSpec {
        mount_label: Some(label.into()),
        ..tmpfs(vec![
            FsAction::Tmpfs {
                dest: "/t".into(),
                size: None,
                perms: None,
            },
            FsAction::Dev {
                dest: "/dev".into(),
            },
        ])
    };
    let plan = MountPlan::compile(&spec).unwrap();
    let expected = format!("mode=0755,context=\"{label}\"");
    let mut seen = 0;
    for op in &plan.ops {
        let data = match op {
            crate::op::Op::NewFs(m) => m.data.as_deref().map(|d| d.to_string_lossy().into_owned()),
            crate::op::Op::Dev(d) => Some(d.data.to_string_lossy().into_owned()),
            _ => None,
        };
        if let Some(data) = data {
            assert_eq!(data, expected);
            seen += 1;
        }
    }
    assert_eq!(seen, 2, "the --tmpfs and the --dev tmpfs");
}
