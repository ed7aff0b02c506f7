//! The kinds of namespace: which ones a sandbox creates ([`Namespaces`]) and
//! which one a join step is about ([`NamespaceKind`]).

/// The namespaces a sandbox gets fresh copies of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[allow(clippy::struct_excessive_bools)]
pub struct Namespaces {
    /// A new user namespace (`CLONE_NEWUSER`).
    pub user: bool,
    /// A new PID namespace (`CLONE_NEWPID`).
    pub pid: bool,
    /// A new mount namespace (`CLONE_NEWNS`).
    pub mount: bool,
    /// A new UTS namespace (`CLONE_NEWUTS`).
    pub uts: bool,
    /// A new IPC namespace (`CLONE_NEWIPC`).
    pub ipc: bool,
    /// A new network namespace (`CLONE_NEWNET`).
    pub net: bool,
    /// A new cgroup namespace (`CLONE_NEWCGROUP`). vb-proc creates it with
    /// `unshare` after the gate, so it is rooted at the cgroup the parent placed
    /// the child in, not at the caller's.
    pub cgroup: bool,
}

impl Namespaces {
    /// Every namespace.
    pub const ALL: Self = Self {
        user: true,
        pid: true,
        mount: true,
        uts: true,
        ipc: true,
        net: true,
        cgroup: true,
    };

    /// Whether any namespace is requested.
    pub fn any(&self) -> bool {
        self.user || self.pid || self.mount || self.uts || self.ipc || self.net || self.cgroup
    }

    /// The `unshare` flags for these namespaces, every kind included.
    pub(crate) fn unshare_flags(&self) -> rustix::thread::UnshareFlags {
        use rustix::thread::UnshareFlags as U;
        let mut flags = U::empty();
        for (on, flag) in [
            (self.user, U::NEWUSER),
            (self.pid, U::NEWPID),
            (self.mount, U::NEWNS),
            (self.uts, U::NEWUTS),
            (self.ipc, U::NEWIPC),
            (self.net, U::NEWNET),
            (self.cgroup, U::NEWCGROUP),
        ] {
            if on {
                flags |= flag;
            }
        }
        flags
    }

    /// The `clone` flags for the namespaces created at clone time (all but cgroup).
    pub fn clone_flags(&self) -> u64 {
        let mut flags = 0u64;
        let mut add = |on: bool, flag: libc::c_int| {
            if on {
                flags |= u64::from(flag.unsigned_abs());
            }
        };
        add(self.user, libc::CLONE_NEWUSER);
        add(self.pid, libc::CLONE_NEWPID);
        add(self.mount, libc::CLONE_NEWNS);
        add(self.uts, libc::CLONE_NEWUTS);
        add(self.ipc, libc::CLONE_NEWIPC);
        add(self.net, libc::CLONE_NEWNET);
        flags
    }
}

/// Which namespace a join step is about: the index of a
/// [`Step::JoinNamespace`](crate::Step::JoinNamespace) failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum NamespaceKind {
    /// The user namespace (`--userns`).
    User = 0,
    /// The PID namespace (`--pidns`).
    Pid = 1,
    /// The network namespace.
    Net = 2,
    /// The UTS namespace.
    Uts = 3,
    /// The IPC namespace.
    Ipc = 4,
    /// The cgroup namespace.
    Cgroup = 5,
    /// The mount namespace.
    Mount = 6,
    /// The second user namespace (`--userns2`).
    User2 = 7,
}

impl NamespaceKind {
    /// The kind a [`Step::JoinNamespace`](crate::Step::JoinNamespace) index names.
    pub fn from_index(index: u32) -> Option<Self> {
        Some(match index {
            0 => Self::User,
            1 => Self::Pid,
            2 => Self::Net,
            3 => Self::Uts,
            4 => Self::Ipc,
            5 => Self::Cgroup,
            6 => Self::Mount,
            7 => Self::User2,
            _ => return None,
        })
    }

    /// The `CLONE_NEW*` flag of this kind, as `setns(2)` takes it.
    pub(crate) fn flag(self) -> libc::c_int {
        match self {
            Self::User | Self::User2 => libc::CLONE_NEWUSER,
            Self::Pid => libc::CLONE_NEWPID,
            Self::Net => libc::CLONE_NEWNET,
            Self::Uts => libc::CLONE_NEWUTS,
            Self::Ipc => libc::CLONE_NEWIPC,
            Self::Cgroup => libc::CLONE_NEWCGROUP,
            Self::Mount => libc::CLONE_NEWNS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_flags_cover_each_namespace() {
        assert_eq!(Namespaces::default().clone_flags(), 0);
        let all = Namespaces::ALL.clone_flags();
        for flag in [
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWPID,
            libc::CLONE_NEWNS,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWNET,
        ] {
            assert_ne!(all & u64::from(flag.unsigned_abs()), 0);
        }
        // The cgroup namespace is created later, by unshare.
        assert_eq!(all & u64::from(libc::CLONE_NEWCGROUP.unsigned_abs()), 0);
    }
}
