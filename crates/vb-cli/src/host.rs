//! The facts about this machine that the command line's meaning depends on.

/// One fact: known, or read from the machine when the command line asks
/// about it (most command lines ask about none, and a launch should not pay
/// for reading `/proc/swaps` or the user-namespace sysctls it never needed).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fact {
    /// Known (tests inject facts this way).
    #[cfg_attr(not(test), expect(dead_code, reason = "made by the parse tests"))]
    Is(bool),
    /// Read when asked.
    Probe(fn() -> bool),
}

impl Fact {
    pub(crate) fn get(self) -> bool {
        match self {
            Self::Is(known) => known,
            Self::Probe(read) => read(),
        }
    }
}

/// Host facts the parse depends on, injectable for tests.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Host {
    /// Whether the caller's real uid is 0.
    pub(crate) root: bool,
    /// Whether user namespaces can be created (`--unshare-user-try`).
    pub(crate) userns: Fact,
    /// Whether the kernel has cgroup namespaces.
    pub(crate) cgroupns: Fact,
    /// Whether the host has swap space enabled.
    pub(crate) swap: Fact,
}

impl Host {
    /// This machine: its facts are read when the parse needs them.
    pub(crate) fn detect() -> Self {
        Self {
            root: rustix::process::getuid().is_root(),
            userns: Fact::Probe(userns_available),
            cgroupns: Fact::Probe(|| exists("/proc/self/ns/cgroup")),
            // /proc/swaps has a header line, then one line per swap area.
            swap: Fact::Probe(|| {
                std::fs::read_to_string("/proc/swaps").is_ok_and(|s| s.lines().count() > 1)
            }),
        }
    }
}

fn exists(path: &str) -> bool {
    std::fs::metadata(path).is_ok()
}

fn userns_available() -> bool {
    if !exists("/proc/self/ns/user") {
        return false;
    }
    let disabled = std::fs::read_to_string("/sys/module/user_namespace/parameters/enable")
        .is_ok_and(|s| s.starts_with('N'))
        || std::fs::read_to_string("/proc/sys/user/max_user_namespaces").is_ok_and(|s| s == "0\n");
    !disabled
}
