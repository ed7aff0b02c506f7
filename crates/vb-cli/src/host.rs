//! The facts about this machine that the command line's meaning depends on.

/// Host facts the parse depends on, injectable for tests.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Host {
    /// Whether the caller's real uid is 0.
    pub(crate) root: bool,
    /// Whether user namespaces can be created (`--unshare-user-try`).
    pub(crate) userns: bool,
    /// Whether the kernel has cgroup namespaces.
    pub(crate) cgroupns: bool,
    /// Whether the host has swap space enabled.
    pub(crate) swap: bool,
}

impl Host {
    /// Read the facts from this machine.
    pub(crate) fn detect() -> Self {
        let exists = |p: &str| std::fs::metadata(p).is_ok();
        let userns_disabled =
            std::fs::read_to_string("/sys/module/user_namespace/parameters/enable")
                .is_ok_and(|s| s.starts_with('N'))
                || std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
                    .is_ok_and(|s| s == "0\n");
        Self {
            root: rustix::process::getuid().is_root(),
            userns: exists("/proc/self/ns/user") && !userns_disabled,
            cgroupns: exists("/proc/self/ns/cgroup"),
            // /proc/swaps has a header line, then one line per swap area.
            swap: std::fs::read_to_string("/proc/swaps").is_ok_and(|s| s.lines().count() > 1),
        }
    }
}
