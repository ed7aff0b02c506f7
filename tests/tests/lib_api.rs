//! Each public crate used as an outside user would: only public items, the
//! documented entry points, and what they visibly do. (The crates' READMEs
//! and opening examples compile as doctests; the cookbook examples cover
//! the facade in depth.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};

/// The facade: a command built in steps (`&mut self`), with every stream
/// piped, as with `std::process::Command`.
#[test]
fn voidbox_command_builds_conditionally_with_piped_streams() {
    let upper = true;
    let mut cmd = voidbox::Command::new("/bin/sh");
    cmd.arg("-c");
    if upper {
        cmd.arg("tr a-z A-Z; echo err >&2");
    } else {
        cmd.arg("cat");
    }
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(voidbox::Stdio::piped())
        .stdout(voidbox::Stdio::piped())
        .stderr(voidbox::Stdio::piped());
    let mut session = cmd.spawn().unwrap();
    session.stdin.take().unwrap().write_all(b"abc\n").unwrap();
    let mut out = String::new();
    session
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    session
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status: voidbox::ExitStatus = session.wait().unwrap();
    assert!(status.success());
    assert_eq!((out.as_str(), err.as_str()), ("ABC\n", "err\n"));
    assert_eq!(status.limit_events(), None);
    assert!(matches!(
        status.termination(),
        voidbox::Termination::Exited(0)
    ));
}

/// vb-proc on its own: a plan prepared from a spec, cloned without hooks,
/// released and waited for.
#[test]
fn vb_proc_runs_a_process_plan() {
    let spec = vb_proc::ProcessSpec {
        command: vec!["/bin/sh".into(), "-c".into(), "exit 7".into()],
        env: std::env::vars_os().collect(),
        ..vb_proc::ProcessSpec::default()
    };
    let plan = vb_proc::ProcessPlan::prepare(&spec).unwrap();
    let running = plan
        .clone_child(&vb_proc::ChildHooks::default(), None)
        .unwrap()
        .release()
        .unwrap();
    assert_eq!(running.wait().unwrap(), vb_proc::Termination::Exited(7));
}

/// vb-fs on its own: a specification compiles into a plan before any
/// clone; bad input is refused naming the action.
#[test]
fn vb_fs_compiles_a_plan_and_refuses_bad_actions() {
    let spec = |actions| vb_fs::FsSpec {
        root: vb_fs::RootSource::Tmpfs,
        actions,
        ..vb_fs::FsSpec::default()
    };
    let plan = vb_fs::MountPlan::compile(&spec(vec![
        vb_fs::FsAction::Tmpfs {
            dest: "/tmp".into(),
            perms: None,
            size: None,
        },
        vb_fs::FsAction::Dir {
            dest: "/work".into(),
            perms: Some(0o755),
        },
    ]));
    assert!(plan.is_ok(), "{:?}", plan.err());
    let err = vb_fs::MountPlan::compile(&spec(vec![vb_fs::FsAction::Chmod {
        path: "/x".into(),
        mode: 0o17777,
    }]))
    .unwrap_err();
    assert_eq!(err.to_string(), "FsAction::Chmod mode is above 0o7777");
}

/// vb-cgroup on its own: limits parsed from the reference's strings, and
/// the host's layout detected.
#[test]
fn vb_cgroup_parses_limits_and_detects_the_layout() {
    let mut limits = vb_cgroup::ResourceLimits::default();
    limits
        .set(vb_cgroup::LimitKind::MemoryMax, "256M")
        .unwrap()
        .set(vb_cgroup::LimitKind::PidsMax, "64")
        .unwrap();
    assert_eq!(limits.memory_max, Some(256 << 20));
    assert_eq!(limits.pids_max, Some(64));
    assert!(
        limits
            .set(vb_cgroup::LimitKind::CpuWeight, "banana")
            .is_err()
    );
    let layout = vb_cgroup::CgroupLayout::detect().unwrap();
    assert!(!layout.caller_dirs().is_empty());
}

/// vb-net on its own: a specification checked into a plan before the
/// clone, with its resolv.conf; bad input names the field.
#[test]
fn vb_net_plans_a_bridge_and_names_bad_fields() {
    let plan = vb_net::BridgePlan::new(&vb_net::NetworkSpec {
        dns: vec!["192.0.2.53".into()],
        ..vb_net::NetworkSpec::default()
    })
    .unwrap();
    assert!(
        plan.resolv_conf()
            .unwrap()
            .contains("nameserver 192.0.2.53")
    );
    let err = vb_net::BridgePlan::new(&vb_net::NetworkSpec {
        address: Some("10.88.0.1".into()),
        ..vb_net::NetworkSpec::default()
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            vb_net::Error::InvalidSpec {
                field: "address",
                ..
            }
        ),
        "{err}"
    );
}

/// vb-netlink on its own: the client lists this namespace's links.
#[test]
fn vb_netlink_lists_the_links() {
    let mut netlink = vb_netlink::Netlink::open().unwrap();
    let links = netlink.links().unwrap();
    assert!(links.iter().any(|l| l.name == "lo"), "{links:?}");
}
