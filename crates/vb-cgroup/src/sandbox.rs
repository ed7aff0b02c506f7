//! One sandbox's cgroup across every hierarchy it needs: creation, entry, kill, removal.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use crate::controller::Controller;
use crate::error::CgroupError;
use crate::hierarchy::{CgroupLayout, HierarchyMode};
use crate::kill;
use crate::limits::ResourceLimits;
use crate::owner::{DEFAULT_PREFIX, Owner, validate_prefix};
use crate::v1::V1Dir;
use crate::v2::{V2Dir, enable_controllers, limits_of};
use crate::warning::Warning;

/// What to create: the limits, and the prefix of the directory name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupSpec {
    /// The limits to apply.
    pub limits: ResourceLimits,
    /// The first component of the directory name, `<prefix>-<pidns>-<pid>-<starttime>-<seq>`
    /// ([`DEFAULT_PREFIX`] unless changed). [`sweep_stale`](crate::sweep_stale) only touches
    /// names with the prefix it is given. ASCII letters, digits, `_` and `.`; at most 64 bytes.
    pub prefix: String,
}

impl Default for CgroupSpec {
    fn default() -> Self {
        CgroupSpec {
            limits: ResourceLimits::default(),
            prefix: DEFAULT_PREFIX.to_owned(),
        }
    }
}

impl CgroupSpec {
    /// A spec with `limits` and the default prefix.
    pub fn new(limits: ResourceLimits) -> CgroupSpec {
        CgroupSpec {
            limits,
            ..CgroupSpec::default()
        }
    }
}

/// Where one of the sandbox's directories lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupDir<'a> {
    /// The directory.
    pub path: &'a Path,
    /// True for the unified (v2) hierarchy.
    pub v2: bool,
    /// The requested controllers it enforces (empty for a tracking-only directory).
    pub controllers: &'a [Controller],
}

/// A sandbox's cgroup: one directory in each hierarchy that enforces a requested limit, plus
/// on v2 and hybrid hosts one directory in the unified hierarchy.
///
/// The lifecycle, as a launcher uses it:
/// 1. **Before clone**, in the parent: [`SandboxCgroup::create`] (or
///    [`create_in`](SandboxCgroup::create_in) with a cached [`CgroupLayout`]).
/// 2. **At clone**: if [`clone_into_fd`](SandboxCgroup::clone_into_fd) is `Some`, pass it to
///    `clone3` with `CLONE_INTO_CGROUP` so the child starts inside.
/// 3. **During the handshake**, while the child waits: [`attach`](SandboxCgroup::attach) the
///    child's pid — required unless [`is_v2`](SandboxCgroup::is_v2) is true *and* the child
///    was cloned into the cgroup (after a fallback to plain `clone`, attach on v2 too).
/// 4. **After wait**: [`remove`](SandboxCgroup::remove), which kills anything left and
///    removes every directory. Dropping the value does the same, ignoring errors.
///
/// Only the parent touches this value; nothing here may run in a freshly cloned child.
#[derive(Debug)]
pub struct SandboxCgroup {
    name: String,
    mode: HierarchyMode,
    v1: Vec<V1Dir>,
    v2: Option<V2Dir>,
    removed: bool,
}

fn online_cpus() -> Option<u64> {
    // SAFETY: sysconf only reads a system value; _SC_NPROCESSORS_ONLN is a valid name.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u64::try_from(n).ok().filter(|&n| n > 0)
}

impl SandboxCgroup {
    /// Detects the hierarchy layout and creates the sandbox cgroup (see
    /// [`create_in`](SandboxCgroup::create_in)).
    ///
    /// # Errors
    /// Those of [`CgroupLayout::detect`] and [`create_in`](SandboxCgroup::create_in).
    pub fn create(spec: &CgroupSpec) -> Result<(SandboxCgroup, Vec<Warning>), CgroupError> {
        let layout = CgroupLayout::detect()?;
        SandboxCgroup::create_in(&layout, spec)
    }

    /// Creates the sandbox cgroup under the caller's own cgroup in each hierarchy of
    /// `layout`, and applies the limits.
    ///
    /// Each requested controller is taken from the v1 hierarchy that carries it, else from
    /// the unified hierarchy (enabling it in `cgroup.subtree_control` from the nearest
    /// ancestor that offers it down to the caller's cgroup). On a unified or hybrid host the
    /// sandbox also gets a unified directory, even without limits there: it gives
    /// `CLONE_INTO_CGROUP` a target and `cgroup.kill` a scope. On a pure v1 host with no limit
    /// requested, no directory is created at all.
    ///
    /// A controller that is missing, cannot be enabled, or refuses a value is a [`Warning`].
    ///
    /// # Errors
    /// [`CgroupError::InvalidPrefix`], owner detection errors ([`CgroupError::ReadProc`]),
    /// and [`CgroupError::CreateDir`] / [`CgroupError::OpenDir`] — after which every directory
    /// already made for this sandbox has been removed again.
    pub fn create_in(
        layout: &CgroupLayout,
        spec: &CgroupSpec,
    ) -> Result<(SandboxCgroup, Vec<Warning>), CgroupError> {
        validate_prefix(&spec.prefix)?;
        let name = Owner::current()?.next_name(&spec.prefix);
        let limits = &spec.limits;
        let mut warnings = Vec::new();

        // Group the requested controllers by the v1 hierarchy that carries them; the rest go
        // to the unified hierarchy if there is one.
        let mut v1_plan: Vec<(usize, Vec<Controller>)> = Vec::new();
        let mut v2_wanted: Vec<Controller> = Vec::new();
        for controller in limits.controllers() {
            let index = layout
                .v1_hierarchies()
                .iter()
                .position(|h| h.has(controller));
            match (index, layout.unified()) {
                (Some(index), _) => match v1_plan.iter_mut().find(|(i, _)| *i == index) {
                    Some((_, list)) => list.push(controller),
                    None => v1_plan.push((index, vec![controller])),
                },
                (None, Some(_)) => v2_wanted.push(controller),
                (None, None) => warnings.push(Warning::ControllerUnavailable {
                    controller,
                    limits: limits_of(limits, controller),
                }),
            }
        }

        if let (Some(cpu_max), Some(cpus)) = (limits.cpu_max, online_cpus())
            && cpu_max.quota_us > cpu_max.period_us.saturating_mul(cpus)
        {
            warnings.push(Warning::CpuQuotaExceedsCpus {
                cpu_max,
                online_cpus: cpus,
            });
        }

        let mut cgroup = SandboxCgroup {
            name,
            mode: layout.mode(),
            v1: Vec::with_capacity(v1_plan.len()),
            v2: None,
            removed: false,
        };

        for (index, controllers) in v1_plan {
            let Some(hierarchy) = layout.v1_hierarchies().get(index) else {
                continue;
            };
            let dir = V1Dir::create(
                &hierarchy.caller_dir,
                &hierarchy.mount_point,
                &cgroup.name,
                controllers,
            );
            match dir {
                Ok(dir) => cgroup.v1.push(dir),
                Err(e) => return Err(cgroup.roll_back(e)),
            }
        }

        if let Some(unified) = layout.unified() {
            let enabled = enable_controllers(
                &unified.mount_point,
                &unified.caller_dir,
                &v2_wanted,
                limits,
                &mut warnings,
            );
            let tracking_only = enabled.is_empty() && layout.mode() == HierarchyMode::Hybrid;
            match V2Dir::create(&unified.caller_dir, &cgroup.name, enabled) {
                Ok(dir) => cgroup.v2 = Some(dir),
                Err(
                    CgroupError::CreateDir { path, errno } | CgroupError::OpenDir { path, errno },
                ) if tracking_only => {
                    warnings.push(Warning::TrackingUnavailable { path, errno });
                }
                Err(e) => return Err(cgroup.roll_back(e)),
            }
        }

        for dir in &cgroup.v1 {
            dir.apply_limits(limits, &mut warnings);
        }
        if let Some(dir) = &cgroup.v2 {
            dir.apply_limits(limits, &mut warnings);
        }
        Ok((cgroup, warnings))
    }

    /// Removes what was made so far and hands back the error that stopped creation.
    fn roll_back(mut self, error: CgroupError) -> CgroupError {
        self.removed = true;
        for path in self.paths() {
            let _ = kill::remove_dir(path);
        }
        error
    }

    fn paths(&self) -> Vec<&Path> {
        self.v1
            .iter()
            .map(|d| d.path.as_path())
            .chain(self.v2.iter().map(|d| d.path.as_path()))
            .collect()
    }

    /// The directory name shared by all of the sandbox's hierarchies.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's hierarchy arrangement this cgroup was created in.
    pub fn mode(&self) -> HierarchyMode {
        self.mode
    }

    /// True on a pure cgroup v2 host, where one directory holds everything and
    /// `CLONE_INTO_CGROUP` alone places the child.
    pub fn is_v2(&self) -> bool {
        self.mode == HierarchyMode::Unified
    }

    /// The unified-hierarchy directory fd for `clone3`'s `CLONE_INTO_CGROUP`
    /// (`cgroup` field of `struct clone_args`), when the sandbox has such a directory (pure
    /// v2, or hybrid). The fd is `O_CLOEXEC`.
    pub fn clone_into_fd(&self) -> Option<BorrowedFd<'_>> {
        self.v2.as_ref().map(|d| d.fd.as_fd())
    }

    /// Every directory of the sandbox, v1 ones first.
    pub fn dirs(&self) -> Vec<CgroupDir<'_>> {
        self.v1
            .iter()
            .map(|d| CgroupDir {
                path: &d.path,
                v2: false,
                controllers: &d.controllers,
            })
            .chain(self.v2.iter().map(|d| CgroupDir {
                path: &d.path,
                v2: true,
                controllers: &d.controllers,
            }))
            .collect()
    }

    /// The directory that enforces `controller`, if any.
    pub fn dir_of(&self, controller: Controller) -> Option<&Path> {
        self.dirs()
            .into_iter()
            .find(|d| d.controllers.contains(&controller))
            .map(|d| d.path)
    }

    /// Moves the process `pid` (with all its threads) into every directory of the sandbox.
    /// Writing a pid that already sits in a directory is a no-op, so this is safe to call
    /// after `CLONE_INTO_CGROUP` as well.
    ///
    /// Returns warnings for directories that only track (the unified one on a hybrid host).
    ///
    /// # Errors
    /// [`CgroupError::InvalidPid`] for a pid ≤ 0; [`CgroupError::Attach`] when a directory
    /// that enforces limits refuses the pid (`ESRCH`: the process is gone).
    pub fn attach(&self, pid: i32) -> Result<Vec<Warning>, CgroupError> {
        if pid <= 0 {
            return Err(CgroupError::InvalidPid { pid });
        }
        let mut warnings = Vec::new();
        for dir in &self.v1 {
            dir.attach(pid)?;
        }
        if let Some(dir) = &self.v2 {
            match dir.attach(pid) {
                Ok(()) => {}
                Err(CgroupError::Attach { file, errno, .. })
                    if self.mode == HierarchyMode::Hybrid && dir.controllers.is_empty() =>
                {
                    warnings.push(Warning::TrackingUnavailable { path: file, errno });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(warnings)
    }

    /// Kills every process in the sandbox: `cgroup.kill` in the unified directory (when there
    /// is one and the kernel has it), then SIGKILL rounds over each directory's
    /// `cgroup.procs` until all are empty (bounded: about one second at most). Killed
    /// processes still need reaping by their parent.
    ///
    /// # Errors
    /// [`CgroupError::Kill`], [`CgroupError::ReadControl`], [`CgroupError::Signal`], or
    /// [`CgroupError::KillTimeout`] when members remain.
    pub fn kill_all(&self) -> Result<(), CgroupError> {
        kill::kill_all(self.v2.as_ref().map(|d| d.path.as_path()), &self.paths())
    }

    /// Kills what is left and removes every directory. Directories that are already gone
    /// count as removed. After this call (successful or not) dropping the value does
    /// nothing more; a directory that could not be removed is left for
    /// [`sweep_stale`](crate::sweep_stale) once this process has exited.
    ///
    /// # Errors
    /// The first error of [`kill_all`](SandboxCgroup::kill_all) or
    /// [`CgroupError::RemoveDir`]; removal of the other directories is still attempted.
    pub fn remove(mut self) -> Result<(), CgroupError> {
        self.remove_now()
    }

    fn remove_now(&mut self) -> Result<(), CgroupError> {
        self.removed = true;
        kill::kill_and_remove(self.v2.as_ref().map(|d| d.path.as_path()), &self.paths())
    }
}

impl Drop for SandboxCgroup {
    fn drop(&mut self) {
        if !self.removed {
            let _ = self.remove_now();
        }
    }
}
