//! Joining existing namespaces through the library's `NamespaceFds`: the
//! sandbox's namespace of each kind is the one the descriptor names (inode
//! against inode), a joined user namespace comes first, and a joined PID
//! namespace holds the command.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use voidbox::{FsAction, JailConfig, NamespaceFds, Namespaces, RootSource};
use voidbox_tests::{NsHolder, needs_root, needs_userns};

fn inode(fd: &OwnedFd) -> u64 {
    std::fs::File::from(fd.try_clone().unwrap())
        .metadata()
        .unwrap()
        .ino()
}

/// Run `script` in `config` and return its stdout.
fn output(config: &JailConfig, script: &str) -> String {
    let mut config = config.clone();
    config.cmd = vec!["/bin/sh".into(), "-c".into(), script.into()];
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    config.process.stdout = voidbox::Stdio::Fd(Arc::new(write));
    let mut session = voidbox::spawn(&config).unwrap();
    drop(config);
    let mut out = String::new();
    std::io::Read::read_to_string(&mut std::fs::File::from(read), &mut out).unwrap();
    assert!(session.wait().unwrap().success(), "{out}");
    out
}

fn ns_inodes(out: &str) -> Vec<u64> {
    out.split_whitespace().map(|w| w.parse().unwrap()).collect()
}

#[test]
fn each_joined_namespace_is_the_descriptors() {
    if needs_root("each_joined_namespace_is_the_descriptors") {
        return;
    }
    let holder = NsHolder::start(&["--net", "--uts", "--ipc", "--cgroup", "--mount"]);
    let fds = NamespaceFds {
        net: Some(holder.ns("net")),
        uts: Some(holder.ns("uts")),
        ipc: Some(holder.ns("ipc")),
        cgroup: Some(holder.ns("cgroup")),
        mount: Some(holder.ns("mnt")),
        ..NamespaceFds::default()
    };
    let expected: Vec<u64> = [&fds.net, &fds.uts, &fds.ipc, &fds.cgroup, &fds.mount]
        .iter()
        .map(|fd| inode(fd.as_ref().unwrap()))
        .collect();
    let config = JailConfig {
        namespace_fds: fds,
        ..JailConfig::default()
    };
    let out = output(
        &config,
        "for n in net uts ipc cgroup mnt; do stat -L -c %i /proc/self/ns/$n; done",
    );
    assert_eq!(ns_inodes(&out), expected);
}

#[test]
fn a_joined_user_namespace_comes_first_and_owns_what_is_joined_after_it() {
    // What an unprivileged caller can join: a user namespace it made, and a
    // network namespace that namespace owns.
    if needs_userns("a_joined_user_namespace_comes_first") {
        return;
    }
    let holder = NsHolder::start(&["--map-root-user", "--net"]);
    let fds = NamespaceFds {
        user: Some(holder.ns("user")),
        net: Some(holder.ns("net")),
        ..NamespaceFds::default()
    };
    let expected = [
        inode(fds.user.as_ref().unwrap()),
        inode(fds.net.as_ref().unwrap()),
    ];
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        isolation: Namespaces {
            uts: true,
            ..Namespaces::default()
        },
        namespace_fds: fds,
        ..JailConfig::default()
    };
    let out = output(
        &config,
        "stat -L -c %i /proc/self/ns/user /proc/self/ns/net /proc/self/ns/uts; id -u",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0].parse::<u64>().unwrap(), expected[0], "{out}");
    assert_eq!(lines[1].parse::<u64>().unwrap(), expected[1], "{out}");
    // The UTS namespace made after the join is new, made with the joined
    // user namespace's capabilities (an unprivileged caller has no other).
    assert_ne!(
        lines[2].parse::<u64>().unwrap(),
        voidbox_tests::host_ns("uts"),
        "{out}"
    );
    assert_eq!(
        lines[3], "0",
        "the joined namespace maps the caller to 0: {out}"
    );
}

#[test]
fn a_joined_pid_namespace_holds_the_command_and_a_new_one_nests_in_it() {
    if needs_root("a_joined_pid_namespace_holds_the_command") {
        return;
    }
    let holder = NsHolder::start(&["--pid", "--fork"]);
    let pid_ns = holder.ns("pid_for_children");
    let joined = inode(&pid_ns);
    let base = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        fs_actions: vec![FsAction::Proc {
            dest: "/proc".into(),
        }],
        namespace_fds: NamespaceFds {
            pid: Some(pid_ns),
            ..NamespaceFds::default()
        },
        ..JailConfig::default()
    };
    // Joined: the holder's sleep is pid 1 there; the command comes after it.
    let out = output(
        &base,
        "echo $$; cat /proc/1/comm; stat -L -c %i /proc/self/ns/pid",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].parse::<u32>().unwrap() > 1, "{out}");
    assert_eq!(lines[1], "sleep", "{out}");
    assert_eq!(lines[2].parse::<u64>().unwrap(), joined, "{out}");
    // With a new PID namespace too: it nests in the joined one, under a
    // reaper.
    let nested = JailConfig {
        isolation: Namespaces {
            pid: true,
            ..Namespaces::default()
        },
        ..base
    };
    let out = output(&nested, "echo $$; stat -L -c %i /proc/self/ns/pid");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "2", "{out}");
    assert_ne!(lines[1].parse::<u64>().unwrap(), joined, "{out}");
}

#[test]
fn joining_and_creating_the_same_kind_is_refused() {
    let null: Arc<OwnedFd> = Arc::new(std::fs::File::open("/dev/null").unwrap().into());
    let config = JailConfig {
        cmd: vec!["/bin/true".into()],
        isolation: Namespaces {
            net: true,
            ..Namespaces::default()
        },
        namespace_fds: NamespaceFds {
            net: Some(null),
            ..NamespaceFds::default()
        },
        ..JailConfig::default()
    };
    let err = voidbox::launch(&config).unwrap_err();
    assert!(err.to_string().contains("join and create"), "{err}");
}
