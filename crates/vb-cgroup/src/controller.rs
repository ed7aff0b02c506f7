//! The resource controllers this crate drives, and their names in each hierarchy version.

use std::fmt;

/// A cgroup controller that [`ResourceLimits`](crate::ResourceLimits) can configure.
///
/// The same resource has different names (and different control files) in cgroup v1 and
/// cgroup v2: `blkio` in v1 is `io` in v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Controller {
    /// Memory and swap limits (`memory` in both versions).
    Memory,
    /// The number of tasks (`pids` in both versions).
    Pids,
    /// CPU bandwidth and weight (`cpu` in both versions).
    Cpu,
    /// Block I/O weight (`blkio` in v1, `io` in v2).
    Io,
}

impl Controller {
    /// Every controller, in the order the crate creates and configures them.
    pub const ALL: [Controller; 4] = [
        Controller::Memory,
        Controller::Pids,
        Controller::Cpu,
        Controller::Io,
    ];

    /// The controller's name in a cgroup v1 mount's options and in `/proc/<pid>/cgroup`.
    pub fn v1_name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
            Controller::Io => "blkio",
        }
    }

    /// The controller's name in cgroup v2's `cgroup.controllers` and `cgroup.subtree_control`.
    pub fn v2_name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
            Controller::Io => "io",
        }
    }
}

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.v2_name())
    }
}
