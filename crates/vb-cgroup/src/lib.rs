//! vb-cgroup: one cgroup per sandbox, created under the caller's own cgroup, with resource
//! limits, a runtime-warning model and cleanup.
//!
//! # Example
//! Creating cgroups needs write access to the caller's cgroup directories (root, or a
//! delegated subtree), so this example is compiled but not run by the tests.
//!
//! ```no_run
//! use vb_cgroup::{CgroupSpec, LimitKind, ResourceLimits, SandboxCgroup, sweep_stale};
//! use vb_cgroup::{CgroupLayout, DEFAULT_PREFIX};
//!
//! let layout = CgroupLayout::detect()?;
//! sweep_stale(&layout, DEFAULT_PREFIX)?; // leftovers of a launcher that was SIGKILLed
//!
//! let mut limits = ResourceLimits::default();
//! limits.set(LimitKind::MemoryMax, "256M")?.set(LimitKind::PidsMax, "64")?;
//! let (cgroup, warnings) = SandboxCgroup::create_in(&layout, &CgroupSpec::new(limits))?;
//! for warning in &warnings {
//!     eprintln!("warning: {warning}");
//! }
//!
//! let mut child = std::process::Command::new("/bin/true").spawn()?;
//! cgroup.attach(i32::try_from(child.id())?)?; // a real launcher does this at its handshake
//! child.wait()?;
//! cgroup.remove()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it does
//! - **Detects the hierarchy** from `/proc/self/mountinfo` and `/proc/self/cgroup`
//!   ([`CgroupLayout`]): pure v2, pure v1, or hybrid (v1 controllers plus a unified v2
//!   mount). No path is assumed.
//! - **Creates a sandbox cgroup** ([`SandboxCgroup::create`]) under the caller's own cgroup
//!   in every hierarchy that enforces a requested limit (plus the unified one on v2 and
//!   hybrid hosts), named `<prefix>-<pidns>-<pid>-<starttime>-<seq>` so that it is unique
//!   and its owner can be recognised later. If making a directory fails, the ones already
//!   made are removed.
//! - **Applies limits** ([`ResourceLimits`]): memory and swap, CPU bandwidth and weight,
//!   pids, I/O weight. v1 values go through cgroups-rs's controller types; v2 values are
//!   written to cgroupfs directly (see "cgroups-rs, and where cgroupfs is written directly"
//!   below).
//! - **Reports degraded states as warnings** ([`Warning`]): a missing controller or a refused
//!   value does not fail creation; the caller decides ([`warning_count_clipped`],
//!   [`deny_warnings`]).
//! - **Places the child**: a directory fd for `clone3(CLONE_INTO_CGROUP)`
//!   ([`SandboxCgroup::clone_into_fd`]) and [`SandboxCgroup::attach`] for v1.
//! - **Cleans up**: [`SandboxCgroup::remove`] (and `Drop`) kill what is left — `cgroup.kill`
//!   on v2, bounded SIGKILL rounds on v1 — and remove every directory;
//!   [`sweep_stale`] removes the cgroups of owners that died without cleaning up.
//!
//! # When each call happens in a launch
//! 1. Before clone: [`SandboxCgroup::create`] / [`SandboxCgroup::create_in`].
//! 2. At clone: [`SandboxCgroup::clone_into_fd`] for `clone3(CLONE_INTO_CGROUP)`.
//! 3. During the parent/child handshake: [`SandboxCgroup::attach`] (unless
//!    [`SandboxCgroup::is_v2`] and the child was cloned into the cgroup).
//! 4. After wait: [`SandboxCgroup::remove`].
//!
//! Everything here runs in the parent. Nothing may be called in a freshly cloned child, which
//! must not allocate.
//!
//! # cgroups-rs, and where cgroupfs is written directly
//! v1 limit values and task attachment use cgroups-rs's controller types (`MemController`,
//! `PidController`, `CpuController`, `BlkIoController`) on directories this crate chose. The
//! rest is done directly, because cgroups-rs falls short there:
//! - `hierarchies::auto()` picks v1 on a hybrid host and ignores the unified mount, reads the
//!   host's mountinfo itself (no mock cgroupfs possible) and places cgroups at the hierarchy
//!   root rather than under the caller's cgroup;
//! - without an explicit controller list it creates directories in every mounted hierarchy,
//!   and it creates them with `create_dir_all`, which silently reuses an existing directory;
//! - its setters open with `File::create`: a missing control file reads as `EACCES` on
//!   cgroupfs (and is created on a mock), so this crate checks existence first;
//! - `Cgroup` has no `Drop`, `delete` sleeps up to 150 ms between retries and `procs` hides
//!   read errors, so removal and the kill loop are this crate's own;
//! - on v2 it ignores errors while enabling controllers in `cgroup.subtree_control`, so the v2
//!   side is written directly, each value with `write_all` and each failure typed;
//! - it has no setter for `blkio.bfq.weight`, the only I/O weight file under BFQ.
//!
//! The crate stays on cgroups-rs 0.3: from 0.4 on, cgroups-rs always links a systemd D-Bus
//! client (zbus with an async executor, about seventy crates) that no feature turns off,
//! while the v1 controller types used here are the same.

#![warn(missing_docs)]

mod cgroupfs;
mod controller;
mod error;
mod events;
mod hierarchy;
mod kill;
mod membership;
#[cfg(test)]
mod mockfs;
mod mountinfo;
mod owner;
mod resource_limits;
mod sandbox;
mod sweep;
mod v1;
mod v2;
mod warning;

pub use controller::Controller;
pub use error::CgroupError;
pub use events::LimitEvents;
pub use hierarchy::{CgroupLayout, HierarchyMode, UnifiedHierarchy, V1Hierarchy};
pub use owner::{DEFAULT_PREFIX, Owner, SandboxName};
pub use resource_limits::{
    CpuMax, DEFAULT_CPU_PERIOD_US, InvalidLimit, LimitKind, MAX_CPU_PERIOD_US, MIN_CPU_PERIOD_US,
    MIN_CPU_QUOTA_US, ResourceLimits, WEIGHT_RANGE, cpu_weight_to_shares, format_byte_size,
    io_weight_to_bfq, io_weight_to_blkio, parse_byte_size, parse_cpu_max, parse_memory_max,
    parse_memory_swap_max, parse_pids_max, parse_weight,
};
pub use sandbox::{CgroupDir, CgroupSpec, JoinPlan, SandboxCgroup};
pub use sweep::{SweepReport, sweep_stale};
pub use warning::{Warning, deny_warnings, warning_count_clipped};

// The README's example is compiled with the doctests, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
