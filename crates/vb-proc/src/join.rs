//! Joining existing namespaces (bubblewrap's `--userns`, `--userns2`,
//! `--pidns`, and the library's descriptors for every kind).
//!
//! A multi-threaded caller cannot `setns` its own process into a user or
//! mount namespace, and namespaces made by `clone` belong to the caller's
//! user namespace, so with anything to join the child is cloned without
//! namespace flags and, after the gate, does it all itself, in an order that
//! works:
//!
//! 1. `setns` into the user namespace, first: the others are joined and
//!    created with the capabilities it grants;
//! 2. `setns` into the PID, network, UTS, IPC and cgroup namespaces, then the
//!    mount namespace last (it changes the root and working directory; every
//!    other namespace is named by a descriptor opened before);
//! 3. `unshare` of the namespaces to create, which then belong to the
//!    joined user namespace — or to a new one made in the same call, whose
//!    id maps the child writes itself (one line for its own ids, which the
//!    kernel allows without help). A new cgroup namespace is not among them:
//!    it is made, as always, once the child is in its final cgroup, or the
//!    command could leave its limits through a cgroup namespace rooted
//!    above them;
//! 4. a PID namespace joined or created this way takes effect for children
//!    only: the child forks once more and stays outside as a waiter that
//!    forwards signals; a new PID namespace nested in a joined one takes a
//!    second fork (`unshare` refuses it once `setns` has chosen the
//!    children's). The sandbox's first process reports itself to the parent
//!    (see [`crate::report`]).
//!
//! `--userns2` is entered later, after setup and the bounding set, as
//! bubblewrap does.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use rustix::thread::UnshareFlags;

use crate::error::ProcError;
pub use crate::namespaces::NamespaceKind;
use crate::namespaces::Namespaces;

/// Existing namespaces to join, as open `/proc/<pid>/ns/*` descriptors.
#[derive(Clone, Copy, Debug, Default)]
pub struct JoinNamespaces<'fd> {
    /// A user namespace, entered first (`--userns`).
    pub user: Option<BorrowedFd<'fd>>,
    /// A user namespace (a descendant of the first) entered after setup
    /// (`--userns2`).
    pub user2: Option<BorrowedFd<'fd>>,
    /// A PID namespace: the sandbox's first process is born in it, or in a
    /// new one inside it when a PID namespace is also created (`--pidns`).
    pub pid: Option<BorrowedFd<'fd>>,
    /// A network namespace.
    pub net: Option<BorrowedFd<'fd>>,
    /// A mount namespace.
    pub mount: Option<BorrowedFd<'fd>>,
    /// A UTS namespace.
    pub uts: Option<BorrowedFd<'fd>>,
    /// An IPC namespace.
    pub ipc: Option<BorrowedFd<'fd>>,
    /// A cgroup namespace.
    pub cgroup: Option<BorrowedFd<'fd>>,
}

impl JoinNamespaces<'_> {
    /// Whether anything is to be joined before setup (`user2` is entered
    /// later and needs no special clone).
    pub fn any(&self) -> bool {
        self.user.is_some()
            || self.pid.is_some()
            || self.net.is_some()
            || self.mount.is_some()
            || self.uts.is_some()
            || self.ipc.is_some()
            || self.cgroup.is_some()
    }
}

/// The join steps, prepared.
#[derive(Debug)]
pub(crate) struct JoinPlan {
    /// In the order they are entered (user first, mount last).
    pub(crate) setns: Vec<(RawFd, NamespaceKind)>,
    /// The namespaces the child creates itself afterwards.
    pub(crate) unshare: UnshareFlags,
    /// With a new user namespace among them: the child's own maps
    /// (setgroups, uid_map, gid_map).
    pub(crate) own_maps: Option<[(&'static CStr, Vec<u8>); 3]>,
    /// Whether the PID namespace changes, so the child must fork once more.
    pub(crate) intermediate: bool,
    /// Whether a new PID namespace nests in a joined one: made after the
    /// first fork, with a second one.
    pub(crate) nested_pid: bool,
}

impl JoinPlan {
    /// Validate and prepare: joining a namespace of a kind that is also
    /// created is a contradiction (but for PID, where the new one nests in
    /// the joined one).
    pub(crate) fn prepare(
        join: &JoinNamespaces<'_>,
        create: Namespaces,
        setup_ids: (u32, u32),
    ) -> Result<Option<Self>, ProcError> {
        let joined = [
            (join.user, NamespaceKind::User, create.user),
            (join.pid, NamespaceKind::Pid, false),
            (join.net, NamespaceKind::Net, create.net),
            (join.uts, NamespaceKind::Uts, create.uts),
            (join.ipc, NamespaceKind::Ipc, create.ipc),
            (join.cgroup, NamespaceKind::Cgroup, create.cgroup),
            (join.mount, NamespaceKind::Mount, create.mount),
        ];
        for (fd, kind, created) in joined {
            if fd.is_some() && created {
                return Err(ProcError::JoinAndCreate(kind));
            }
        }
        if !join.any() {
            return Ok(None);
        }
        let setns = joined
            .iter()
            .filter_map(|(fd, kind, _)| fd.map(|fd| (fd.as_raw_fd(), *kind)))
            .collect();
        let nested_pid = join.pid.is_some() && create.pid;
        // The cgroup namespace is made later, once the cgroup is final; a
        // PID namespace nested in a joined one, after the first fork.
        let unshare = Namespaces {
            pid: create.pid && !nested_pid,
            cgroup: false,
            ..create
        }
        .unshare_flags();
        let caller = (
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw(),
        );
        let own_maps = create.user.then(|| {
            let (uid, gid) = crate::id_map::onto_caller(setup_ids, caller);
            crate::id_map::own_map_writes(uid, gid)
        });
        Ok(Some(Self {
            setns,
            unshare,
            own_maps,
            intermediate: join.pid.is_some() || create.pid,
            nested_pid,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn joining_and_creating_one_kind_is_refused() {
        let file = std::fs::File::open("/dev/null").unwrap();
        let join = JoinNamespaces {
            net: Some(file.as_fd()),
            ..JoinNamespaces::default()
        };
        let create = Namespaces {
            net: true,
            ..Namespaces::default()
        };
        assert!(matches!(
            JoinPlan::prepare(&join, create, (0, 0)),
            Err(ProcError::JoinAndCreate(NamespaceKind::Net))
        ));
        // A PID namespace may be created inside the joined one.
        let join = JoinNamespaces {
            pid: Some(file.as_fd()),
            ..JoinNamespaces::default()
        };
        let create = Namespaces {
            pid: true,
            ..Namespaces::default()
        };
        let plan = JoinPlan::prepare(&join, create, (0, 0)).unwrap().unwrap();
        assert!(plan.intermediate && plan.nested_pid);
        assert!(plan.unshare.is_empty(), "made after the first fork");
    }

    #[test]
    fn the_user_namespace_is_joined_first_and_the_mount_namespace_last() {
        let file = std::fs::File::open("/dev/null").unwrap();
        let fd = file.as_fd();
        let join = JoinNamespaces {
            user: Some(fd),
            mount: Some(fd),
            net: Some(fd),
            pid: Some(fd),
            ..JoinNamespaces::default()
        };
        let plan = JoinPlan::prepare(&join, Namespaces::default(), (0, 0))
            .unwrap()
            .unwrap();
        let kinds: Vec<NamespaceKind> = plan.setns.iter().map(|(_, k)| *k).collect();
        assert_eq!(
            kinds,
            [
                NamespaceKind::User,
                NamespaceKind::Pid,
                NamespaceKind::Net,
                NamespaceKind::Mount
            ]
        );
        assert!(plan.own_maps.is_none());
        assert!(
            JoinPlan::prepare(&JoinNamespaces::default(), Namespaces::ALL, (0, 0))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_new_user_namespace_gets_the_childs_own_maps() {
        let file = std::fs::File::open("/dev/null").unwrap();
        let join = JoinNamespaces {
            net: Some(file.as_fd()),
            ..JoinNamespaces::default()
        };
        let create = Namespaces {
            user: true,
            ..Namespaces::default()
        };
        let plan = JoinPlan::prepare(&join, create, (0, 7)).unwrap().unwrap();
        let maps = plan.own_maps.unwrap();
        let uid = rustix::process::getuid().as_raw();
        assert_eq!(maps[1].1, format!("0 {uid} 1\n").into_bytes());
        assert!(String::from_utf8_lossy(&maps[2].1).starts_with("7 "));
        assert!(!plan.intermediate);
    }
}
