//! Runtime warnings: degraded states that do not stop a launch unless the caller says so.
//!
//! A limit that cannot be enforced — its controller is not available to the caller, or the
//! kernel refuses the value — does not fail [`SandboxCgroup::create`](crate::SandboxCgroup::create).
//! It becomes a [`Warning`], and warnings accumulate in the order they happened. The caller
//! decides: print them, report their number (clipped with [`warning_count_clipped`]), and
//! fail when its policy says warnings are fatal ([`deny_warnings`]).

use std::fmt;
use std::path::PathBuf;

use rustix::io::Errno;

use crate::controller::Controller;
use crate::error::CgroupError;
use crate::resource_limits::{CpuMax, LimitKind};

/// One degraded state found while setting up a sandbox cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// No mounted hierarchy offers the controller to the caller: neither a v1 mount nor the
    /// v2 `cgroup.controllers` of the caller's cgroup (or of any ancestor) lists it.
    ControllerUnavailable {
        /// The missing controller.
        controller: Controller,
        /// The limits that will therefore not be enforced.
        limits: Vec<LimitKind>,
    },
    /// Enabling a v2 controller in an ancestor's `cgroup.subtree_control` was refused
    /// (`EBUSY` there usually means the caller's own cgroup holds processes, which cgroup v2's
    /// no-internal-processes rule forbids for domain controllers).
    ControllerNotEnabled {
        /// The controller.
        controller: Controller,
        /// The `cgroup.subtree_control` file.
        file: PathBuf,
        /// The kernel's answer.
        errno: Errno,
    },
    /// The control file for a limit does not exist in the sandbox cgroup (for example
    /// `memory.memsw.limit_in_bytes` without swap accounting, or no I/O weight file with the
    /// current I/O scheduler).
    LimitFileMissing {
        /// The limit.
        limit: LimitKind,
        /// The file that was looked for (for I/O weight, the last candidate).
        file: PathBuf,
    },
    /// The kernel refused a limit value.
    LimitRefused {
        /// The limit.
        limit: LimitKind,
        /// The control file.
        file: PathBuf,
        /// The value written.
        value: String,
        /// The kernel's answer.
        errno: Errno,
    },
    /// A swap limit without a memory limit cannot be expressed on cgroup v1, whose
    /// `memory.memsw.limit_in_bytes` caps memory and swap together.
    SwapLimitNeedsMemoryLimit,
    /// The CPU quota grants more than every online CPU together, so it never binds (the
    /// kernel accepts it; this crate does not treat it as an error because the same
    /// configuration binds on a larger host).
    CpuQuotaExceedsCpus {
        /// The requested limit.
        cpu_max: CpuMax,
        /// Online CPUs on this host.
        online_cpus: u64,
    },
    /// On a hybrid host, the sandbox's directory in the (controller-less) unified hierarchy
    /// could not be created or entered. It only serves process tracking and `cgroup.kill`;
    /// limits still hold, and cleanup falls back to signalling the v1 members.
    TrackingUnavailable {
        /// The unified-hierarchy directory or file.
        path: PathBuf,
        /// The kernel's answer.
        errno: Errno,
    },
}

fn limit_list(limits: &[LimitKind]) -> String {
    limits
        .iter()
        .map(|l| l.key())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ControllerUnavailable { controller, limits } => write!(
                f,
                "cgroup controller {controller} is not available; not enforced: {}",
                limit_list(limits)
            ),
            Warning::ControllerNotEnabled {
                controller,
                file,
                errno,
            } => write!(
                f,
                "enabling cgroup controller {controller} in {} failed: {errno}",
                file.display()
            ),
            Warning::LimitFileMissing { limit, file } => write!(
                f,
                "{limit} not enforced: {} does not exist",
                file.display()
            ),
            Warning::LimitRefused {
                limit,
                file,
                value,
                errno,
            } => write!(
                f,
                "{limit} not enforced: writing {value:?} to {} failed: {errno}",
                file.display()
            ),
            Warning::SwapLimitNeedsMemoryLimit => f.write_str(
                "memory_swap_max not enforced: cgroup v1 can limit swap only together with memory_max",
            ),
            Warning::CpuQuotaExceedsCpus {
                cpu_max,
                online_cpus,
            } => write!(
                f,
                "cpu_max {cpu_max} grants {:.2} CPUs but only {online_cpus} are online: it never binds",
                cpu_max.cpus()
            ),
            Warning::TrackingUnavailable { path, errno } => write!(
                f,
                "unified-hierarchy tracking cgroup {} unavailable ({errno}); cleanup falls back to signalling",
                path.display()
            ),
        }
    }
}

/// The number of warnings for a status payload, clipped to `u16::MAX` so that a payload
/// field of bounded width can never overflow or wrap.
pub fn warning_count_clipped(warnings: &[Warning]) -> u16 {
    u16::try_from(warnings.len()).unwrap_or(u16::MAX)
}

/// The fail-on-warnings policy in one call: `Ok` when `warnings` is empty, otherwise
/// [`CgroupError::WarningsDenied`] carrying the count and the first warning.
///
/// # Errors
/// [`CgroupError::WarningsDenied`] when there is at least one warning.
pub fn deny_warnings(warnings: &[Warning]) -> Result<(), CgroupError> {
    match warnings.first() {
        None => Ok(()),
        Some(first) => Err(CgroupError::WarningsDenied {
            count: warnings.len(),
            first: Box::new(first.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_clipped_to_u16() {
        assert_eq!(warning_count_clipped(&[]), 0);
        let many = vec![Warning::SwapLimitNeedsMemoryLimit; 70_000];
        assert_eq!(warning_count_clipped(&many[..3]), 3);
        assert_eq!(warning_count_clipped(&many), u16::MAX);
    }

    #[test]
    fn deny_warnings_fails_only_when_there_are_some() {
        assert_eq!(deny_warnings(&[]), Ok(()));
        let warnings = [
            Warning::SwapLimitNeedsMemoryLimit,
            Warning::ControllerUnavailable {
                controller: Controller::Pids,
                limits: vec![LimitKind::PidsMax],
            },
        ];
        let err = deny_warnings(&warnings).unwrap_err();
        assert_eq!(
            err,
            CgroupError::WarningsDenied {
                count: 2,
                first: Box::new(Warning::SwapLimitNeedsMemoryLimit)
            }
        );
        assert!(err.to_string().starts_with("2 runtime warning(s)"));
    }

    #[test]
    fn messages_name_the_controller_and_the_limits() {
        let w = Warning::ControllerUnavailable {
            controller: Controller::Io,
            limits: vec![LimitKind::IoWeight],
        };
        assert_eq!(
            w.to_string(),
            "cgroup controller io is not available; not enforced: io_weight"
        );
    }
}
