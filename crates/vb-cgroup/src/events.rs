//! What the kernel's limit enforcement did to a sandbox: the event counters of
//! its cgroup, read before the cgroup is removed.

use std::path::Path;

use crate::controller::Controller;
use crate::sandbox::SandboxCgroup;

/// The limit events a sandbox's cgroup counted. A counter is `None` when the
/// sandbox's cgroup has no such controller or the kernel does not count it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitEvents {
    /// Processes the kernel's OOM killer killed because the memory limit was
    /// reached (cgroup v2 `memory.events`, v1 `memory.oom_control`, key
    /// `oom_kill`).
    pub oom_kills: Option<u64>,
    /// Forks refused at the `pids.max` limit (`pids.events`, key `max`).
    pub pids_max_refusals: Option<u64>,
}

impl LimitEvents {
    /// Whether the OOM killer killed a process of the sandbox.
    pub fn oom_killed(&self) -> bool {
        self.oom_kills.is_some_and(|n| n > 0)
    }

    /// Whether a fork was refused at the process-count limit.
    pub fn pids_max_reached(&self) -> bool {
        self.pids_max_refusals.is_some_and(|n| n > 0)
    }
}

/// The value of `key` in a flat-keyed cgroup file (`key value` lines).
pub(crate) fn counter(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn read_counter(dir: Option<&Path>, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(dir?.join(file)).ok()?;
    counter(&text, key)
}

impl SandboxCgroup {
    /// The limit events counted so far in the sandbox's cgroup (and its
    /// descendants). Read it after the sandbox ended and before
    /// [`remove`](Self::remove).
    pub fn limit_events(&self) -> LimitEvents {
        let memory = self.dir_of(Controller::Memory);
        let memory_file = if self.is_v1_dir(memory) {
            "memory.oom_control"
        } else {
            "memory.events"
        };
        LimitEvents {
            oom_kills: read_counter(memory, memory_file, "oom_kill"),
            pids_max_refusals: read_counter(self.dir_of(Controller::Pids), "pids.events", "max"),
        }
    }

    /// Whether `dir` is one of the sandbox's v1 directories.
    fn is_v1_dir(&self, dir: Option<&Path>) -> bool {
        dir.is_some_and(|dir| self.dirs().iter().any(|d| !d.v2 && d.path == dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_by_key() {
        let v2 = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
        assert_eq!(counter(v2, "oom_kill"), Some(2));
        assert_eq!(counter(v2, "max"), Some(12));
        assert_eq!(counter(v2, "oom"), Some(3));
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n";
        assert_eq!(counter(v1, "oom_kill"), Some(1));
        assert_eq!(counter("max 7\n", "oom_kill"), None);
        assert_eq!(counter("oom_kill many\n", "oom_kill"), None);
        assert_eq!(counter("", "max"), None);
    }

    #[test]
    fn a_counter_above_zero_is_an_event() {
        let none = LimitEvents::default();
        assert!(!none.oom_killed() && !none.pids_max_reached());
        let hit = LimitEvents {
            oom_kills: Some(1),
            pids_max_refusals: Some(0),
        };
        assert!(hit.oom_killed() && !hit.pids_max_reached());
    }
}
