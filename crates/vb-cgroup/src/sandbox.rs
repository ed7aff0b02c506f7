//! One sandbox's cgroup across every hierarchy it needs: creation, entry, kill, removal.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::cgroupfs::FsHandle;
use crate::controller::Controller;
use crate::error::CgroupError;
use crate::hierarchy::{CgroupLayout, HierarchyMode};
use crate::kill;
use crate::owner::{DEFAULT_PREFIX, Owner, validate_prefix};
use crate::resource_limits::ResourceLimits;
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
/// 3. **During the handshake**, while the child waits:
///    [`attach_after_clone`](SandboxCgroup::attach_after_clone) with whether
///    `CLONE_INTO_CGROUP` was honoured and whether the child joined the v1 directories
///    itself (a [`JoinPlan`]); it moves the child into
///    the directories it is not in yet ([`attach`](SandboxCgroup::attach) moves it into all).
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
    /// The layout's file system, which removes the directories it made.
    fs: FsHandle,
}

fn online_cpus() -> Option<u64> {
    // SAFETY: sysconf only reads a system value; _SC_NPROCESSORS_ONLN is a valid name.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u64::try_from(n).ok().filter(|&n| n > 0)
}

/// Which hierarchy each requested controller is taken from.
struct Placement {
    /// v1 hierarchy index → the controllers it enforces for the sandbox.
    v1: Vec<(usize, Vec<Controller>)>,
    /// Controllers only the unified hierarchy offers.
    v2_wanted: Vec<Controller>,
    /// Controllers no hierarchy offers, and a CPU quota no host CPU count meets.
    warnings: Vec<Warning>,
}

impl Placement {
    fn of(layout: &CgroupLayout, limits: &ResourceLimits) -> Placement {
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

        // Only a quota above one CPU can exceed the host; sysconf reads a sysfs file, so it is
        // not asked otherwise.
        if let Some(cpu_max) = limits.cpu_max
            && cpu_max.quota_us > cpu_max.period_us
            && let Some(cpus) = online_cpus()
            && cpu_max.quota_us > cpu_max.period_us.saturating_mul(cpus)
        {
            warnings.push(Warning::CpuQuotaExceedsCpus {
                cpu_max,
                online_cpus: cpus,
            });
        }
        Placement {
            v1: v1_plan,
            v2_wanted,
            warnings,
        }
    }
}

/// A sandbox cgroup decided but not yet created: see
/// [`SandboxCgroup::plan_join`].
#[derive(Debug)]
pub struct JoinPlan {
    name: String,
    files: Vec<(OwnedFd, CString)>,
}

impl JoinPlan {
    /// The sandbox cgroup's directory name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// For each v1 directory-to-be: the caller's directory (an `O_PATH`
    /// descriptor, valid in a child after its root switch) and the `tasks`
    /// file's path relative to it. A child joins by opening each for writing
    /// and writing `0` — moving itself, which the kernel does without the
    /// global lock that moving another process takes.
    pub fn files(&self) -> impl Iterator<Item = (BorrowedFd<'_>, &CStr)> {
        self.files
            .iter()
            .map(|(fd, path)| (fd.as_fd(), path.as_c_str()))
    }
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
        SandboxCgroup::create_named(layout, spec, name)
    }

    /// Plans a sandbox cgroup that a child cloned *before* it exists joins
    /// itself, so its creation can overlap the child's own setup.
    ///
    /// Possible when every requested controller lives in a v1 hierarchy (v1
    /// and hybrid hosts): the plan fixes the name and opens the caller's
    /// directory in each of those hierarchies (`O_PATH`), which the child
    /// keeps across its root switch; once [`create_planned`](Self::create_planned)
    /// has made the directories, the child opens `<name>/tasks` under each and
    /// writes `0` to join (see [`JoinPlan::files`]). `None` when the sandbox
    /// needs a v2 directory (pure v2, or a controller only v2 has): then
    /// [`create_in`](Self::create_in) before the clone and `CLONE_INTO_CGROUP`
    /// are the way.
    ///
    /// # Errors
    /// [`CgroupError::InvalidPrefix`], owner detection errors, and
    /// [`CgroupError::OpenDir`] for a caller directory that cannot be opened.
    pub fn plan_join(
        layout: &CgroupLayout,
        spec: &CgroupSpec,
    ) -> Result<Option<JoinPlan>, CgroupError> {
        validate_prefix(&spec.prefix)?;
        let placement = Placement::of(layout, &spec.limits);
        if placement.v1.is_empty() || !placement.v2_wanted.is_empty() {
            return Ok(None);
        }
        if layout.mode() == HierarchyMode::Unified {
            return Ok(None);
        }
        let name = Owner::current()?.next_name(&spec.prefix);
        let tasks =
            CString::new(format!("{name}/tasks")).map_err(|_| CgroupError::InvalidPrefix {
                prefix: spec.prefix.clone(),
                reason: "contains a NUL byte",
            })?;
        let mut files = Vec::with_capacity(placement.v1.len());
        for (index, _) in &placement.v1 {
            let Some(hierarchy) = layout.v1_hierarchies().get(*index) else {
                continue;
            };
            let dir = rustix::fs::open(
                &hierarchy.caller_dir,
                rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| CgroupError::OpenDir {
                path: hierarchy.caller_dir.clone(),
                errno: e,
            })?;
            files.push((dir, tasks.clone()));
        }
        Ok(Some(JoinPlan { name, files }))
    }

    /// Creates the cgroup `plan` names (otherwise exactly as
    /// [`create_in`](Self::create_in)).
    ///
    /// # Errors
    /// As [`create_in`](Self::create_in).
    pub fn create_planned(
        layout: &CgroupLayout,
        spec: &CgroupSpec,
        plan: &JoinPlan,
    ) -> Result<(SandboxCgroup, Vec<Warning>), CgroupError> {
        SandboxCgroup::create_named(layout, spec, plan.name.clone())
    }

    fn create_named(
        layout: &CgroupLayout,
        spec: &CgroupSpec,
        name: String,
    ) -> Result<(SandboxCgroup, Vec<Warning>), CgroupError> {
        let limits = &spec.limits;
        let Placement {
            v1: v1_plan,
            v2_wanted,
            mut warnings,
        } = Placement::of(layout, limits);

        let mut cgroup = SandboxCgroup {
            name,
            mode: layout.mode(),
            v1: Vec::with_capacity(v1_plan.len()),
            v2: None,
            removed: false,
            fs: layout.fs.clone(),
        };

        for (index, controllers) in v1_plan {
            let Some(hierarchy) = layout.v1_hierarchies().get(index) else {
                continue;
            };
            let dir = V1Dir::create(
                &*cgroup.fs,
                &hierarchy.caller_dir,
                &cgroup.name,
                controllers,
            );
            match dir {
                Ok(dir) => cgroup.v1.push(dir),
                Err(e) => return Err(cgroup.roll_back(e)),
            }
        }

        // On a hybrid host the unified directory only tracks the sandbox's
        // processes when no v2 controller is wanted; the v1 directories
        // already track them, so it is made only when there is none. It would
        // cost a mkdir, an rmdir and CLONE_INTO_CGROUP's work on every launch.
        let unified = layout.unified().filter(|_| {
            layout.mode() != HierarchyMode::Hybrid || !v2_wanted.is_empty() || cgroup.v1.is_empty()
        });
        if let Some(unified) = unified {
            let enabled = enable_controllers(
                &unified.mount_point,
                &unified.caller_dir,
                &v2_wanted,
                limits,
                &mut warnings,
            );
            let tracking_only = enabled.is_empty() && layout.mode() == HierarchyMode::Hybrid;
            match V2Dir::create(&*cgroup.fs, &unified.caller_dir, &cgroup.name, enabled) {
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
            let _ = kill::remove_dir(&*self.fs, path);
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

    /// Put a child that `clone3` created into every directory it is not in
    /// yet: `cloned_into` says `CLONE_INTO_CGROUP` placed it in the v2
    /// directory, `v1_joined` that it joined the v1 directories itself through
    /// a [`JoinPlan`]. On a pure v2 host with
    /// `cloned_into` that is nothing.
    ///
    /// # Errors
    /// As [`attach`](Self::attach).
    pub fn attach_after_clone(
        &self,
        pid: i32,
        cloned_into: bool,
        v1_joined: bool,
    ) -> Result<Vec<Warning>, CgroupError> {
        if pid <= 0 {
            return Err(CgroupError::InvalidPid { pid });
        }
        if !v1_joined {
            for dir in &self.v1 {
                dir.attach(pid)?;
            }
        }
        match &self.v2 {
            Some(dir) if !cloned_into => self.attach_v2(dir, pid),
            _ => Ok(Vec::new()),
        }
    }

    fn attach_v2(&self, dir: &V2Dir, pid: i32) -> Result<Vec<Warning>, CgroupError> {
        match dir.attach(pid) {
            Ok(()) => Ok(Vec::new()),
            Err(CgroupError::Attach { file, errno, .. })
                if self.mode == HierarchyMode::Hybrid && dir.controllers.is_empty() =>
            {
                Ok(vec![Warning::TrackingUnavailable { path: file, errno }])
            }
            Err(e) => Err(e),
        }
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
        self.attach_after_clone(pid, false, false)
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
        kill::kill_and_remove(
            &*self.fs,
            self.v2.as_ref().map(|d| d.path.as_path()),
            &self.paths(),
        )
    }
}

impl Drop for SandboxCgroup {
    fn drop(&mut self) {
        if !self.removed {
            let _ = self.remove_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mockfs::MockHost;
    use crate::resource_limits::CpuMax;
    use crate::resource_limits::LimitKind;
    use rustix::io::Errno;

    fn full_limits() -> ResourceLimits {
        ResourceLimits {
            memory_max: Some(32 << 20),
            memory_swap_max: Some(0),
            cpu_max: Some(CpuMax {
                quota_us: 50_000,
                period_us: 100_000,
            }),
            cpu_weight: Some(200),
            pids_max: Some(8),
            io_weight: Some(300),
        }
    }

    fn create(host: &MockHost, limits: ResourceLimits) -> (SandboxCgroup, Vec<Warning>) {
        SandboxCgroup::create_in(&host.layout, &CgroupSpec::new(limits)).unwrap()
    }

    #[test]
    fn hybrid_writes_v1_limits_without_a_unified_directory() {
        let host = MockHost::hybrid();
        let (cgroup, warnings) = create(&host, full_limits());
        assert_eq!(warnings, vec![]);
        let name = cgroup.name().to_owned();
        assert!(name.starts_with("voidbox-"));
        let f = |rel: &str| host.read(&rel.replace("NAME", &name));
        assert_eq!(
            f("memory/process_api/abc/NAME/memory.limit_in_bytes"),
            "33554432"
        );
        // Swap 0 on v1: memory + swap together may not exceed memory alone.
        assert_eq!(
            f("memory/process_api/abc/NAME/memory.memsw.limit_in_bytes"),
            "33554432"
        );
        assert_eq!(f("pids/NAME/pids.max"), "8");
        assert_eq!(f("cpu/NAME/cpu.cfs_quota_us"), "50000");
        assert_eq!(f("cpu/NAME/cpu.cfs_period_us"), "100000");
        assert_eq!(f("cpu/NAME/cpu.shares"), "2048");
        assert_eq!(f("blkio/NAME/blkio.bfq.weight"), "300");
        // The v1 directories track the sandbox; the unified one would only
        // add a mkdir and an rmdir to every launch.
        assert!(!host.path("unified").join(&name).exists());
        assert!(!cgroup.is_v2());
        assert_eq!(cgroup.mode(), HierarchyMode::Hybrid);
        assert!(cgroup.clone_into_fd().is_none());
        assert_eq!(
            cgroup.dir_of(Controller::Memory),
            Some(host.path("memory/process_api/abc").join(&name).as_path())
        );
        assert_eq!(cgroup.dirs().len(), 4);
        cgroup.remove().unwrap();
        assert_eq!(host.sandbox_dirs(), Vec::<std::path::PathBuf>::new());
    }

    #[test]
    fn a_refused_write_is_a_warning_and_other_limits_still_apply() {
        let host = MockHost::hybrid();
        host.refuse("pids.max");
        let (cgroup, warnings) = create(&host, full_limits());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        match &warnings[0] {
            Warning::LimitRefused {
                limit,
                file,
                value,
                errno,
            } => {
                assert_eq!(*limit, LimitKind::PidsMax);
                assert!(file.ends_with(format!("{}/pids.max", cgroup.name())));
                assert_eq!(value, "8");
                assert_eq!(*errno, Errno::ISDIR);
            }
            other => panic!("unexpected warning {other:?}"),
        }
        assert!(warnings[0].to_string().contains("pids_max not enforced"));
        let memory = cgroup.dir_of(Controller::Memory).unwrap();
        assert_eq!(
            std::fs::read_to_string(memory.join("memory.limit_in_bytes")).unwrap(),
            "33554432"
        );
        cgroup.remove().unwrap();
        assert!(host.sandbox_dirs().is_empty());
    }

    #[test]
    fn a_missing_swap_accounting_file_is_a_warning() {
        let host = MockHost::hybrid();
        host.omit("memory.memsw.limit_in_bytes");
        let (_cgroup, warnings) = create(&host, full_limits());
        assert!(
            matches!(
                warnings.as_slice(),
                [Warning::LimitFileMissing { limit: LimitKind::MemorySwapMax, file }]
                    if file.ends_with("memory.memsw.limit_in_bytes")
            ),
            "{warnings:?}"
        );
    }

    #[test]
    fn limits_without_a_controller_are_warnings_on_legacy() {
        let host = MockHost::legacy();
        let limits = ResourceLimits {
            memory_swap_max: Some(1 << 20),
            ..full_limits()
        };
        let (cgroup, warnings) = create(&host, limits);
        assert!(warnings.contains(&Warning::ControllerUnavailable {
            controller: Controller::Pids,
            limits: vec![LimitKind::PidsMax],
        }));
        assert!(warnings.contains(&Warning::ControllerUnavailable {
            controller: Controller::Io,
            limits: vec![LimitKind::IoWeight],
        }));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!(cgroup.mode(), HierarchyMode::Legacy);
        assert!(cgroup.clone_into_fd().is_none());
        let name = cgroup.name().to_owned();
        // memsw = memory + swap.
        assert_eq!(
            host.read(&format!("memory/user/{name}/memory.memsw.limit_in_bytes")),
            (33_554_432u64 + 1_048_576).to_string()
        );
        assert_eq!(
            host.read(&format!("cpu,cpuacct/{name}/cpu.cfs_quota_us")),
            "50000"
        );
        drop(cgroup);
        assert!(
            host.sandbox_dirs().is_empty(),
            "Drop removes the directories"
        );
    }

    #[test]
    fn a_swap_limit_alone_cannot_be_expressed_on_v1() {
        let host = MockHost::legacy();
        let limits = ResourceLimits {
            memory_swap_max: Some(0),
            ..ResourceLimits::default()
        };
        let (_cgroup, warnings) = create(&host, limits);
        assert_eq!(warnings, vec![Warning::SwapLimitNeedsMemoryLimit]);
    }

    #[test]
    fn a_failed_mkdir_removes_the_directories_made_before_it() {
        let host = MockHost::hybrid();
        // memory and pids come first; the cpu hierarchy's caller directory vanishes.
        std::fs::remove_dir_all(host.path("cpu")).unwrap();
        let err =
            SandboxCgroup::create_in(&host.layout, &CgroupSpec::new(full_limits())).unwrap_err();
        match err {
            CgroupError::CreateDir { path, errno } => {
                assert!(path.starts_with(host.path("cpu")));
                assert_eq!(errno, Errno::NOENT);
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(host.sandbox_dirs().is_empty(), "{:?}", host.sandbox_dirs());
    }

    #[test]
    fn hybrid_with_v1_directories_does_not_touch_the_unified_hierarchy() {
        let host = MockHost::hybrid();
        // Even a missing unified hierarchy is no concern: nothing is made there.
        std::fs::remove_dir_all(host.path("unified")).unwrap();
        let limits = ResourceLimits {
            pids_max: Some(8),
            ..ResourceLimits::default()
        };
        let (cgroup, warnings) = create(&host, limits);
        assert_eq!(warnings, vec![]);
        assert!(cgroup.clone_into_fd().is_none());
        assert_eq!(cgroup.dirs().len(), 1);
    }

    #[test]
    fn a_join_plan_names_the_cgroup_and_its_tasks_files_before_it_exists() {
        let host = MockHost::hybrid();
        let spec = CgroupSpec::new(full_limits());
        let plan = SandboxCgroup::plan_join(&host.layout, &spec)
            .unwrap()
            .expect("every controller is on v1 here");
        assert!(plan.name().starts_with("voidbox-"));
        let files: Vec<String> = plan
            .files()
            .map(|(_, path)| path.to_string_lossy().into_owned())
            .collect();
        // memory, pids, cpu and blkio: four hierarchies, one tasks file each.
        assert_eq!(files.len(), 4);
        assert!(files.iter().all(|f| *f == format!("{}/tasks", plan.name())));
        assert!(
            host.sandbox_dirs().is_empty(),
            "nothing is created by planning"
        );
        let (cgroup, _) = SandboxCgroup::create_planned(&host.layout, &spec, &plan).unwrap();
        assert_eq!(cgroup.name(), plan.name());
        // The child joined the v1 directories itself: nothing is moved by pid.
        assert_eq!(
            cgroup.attach_after_clone(4244, false, true).unwrap(),
            vec![]
        );
        for dir in cgroup.dirs() {
            let procs = std::fs::read_to_string(dir.path.join("cgroup.procs")).unwrap();
            assert_eq!(procs.trim(), "", "{}", dir.path.display());
        }
        cgroup.remove().unwrap();
        // On a pure v2 host the child must be cloned into its cgroup instead.
        let v2 = MockHost::unified("memory pids");
        let limits = ResourceLimits {
            pids_max: Some(8),
            ..ResourceLimits::default()
        };
        assert!(
            SandboxCgroup::plan_join(&v2.layout, &CgroupSpec::new(limits))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn attach_after_clone_skips_the_directory_the_child_was_cloned_into() {
        let host = MockHost::unified("memory pids");
        let limits = ResourceLimits {
            pids_max: Some(8),
            ..ResourceLimits::default()
        };
        let (cgroup, _) = create(&host, limits);
        let v2 = cgroup
            .dirs()
            .into_iter()
            .find(|d| d.v2)
            .map(|d| d.path.to_path_buf())
            .unwrap();
        let procs = || std::fs::read_to_string(v2.join("cgroup.procs")).unwrap();
        // CLONE_INTO_CGROUP already placed the child: nothing to move.
        assert_eq!(
            cgroup.attach_after_clone(4242, true, false).unwrap(),
            vec![]
        );
        assert_eq!(procs().trim(), "");
        // After the plain-clone fallback the child is moved by pid.
        assert_eq!(
            cgroup.attach_after_clone(4243, false, false).unwrap(),
            vec![]
        );
        assert_eq!(procs().trim(), "4243");
        cgroup.remove().unwrap();
    }

    #[test]
    fn attach_writes_the_pid_into_every_directory() {
        let host = MockHost::hybrid();
        let (cgroup, _) = create(&host, full_limits());
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        assert_eq!(cgroup.attach(pid).unwrap(), vec![]);
        for dir in cgroup.dirs() {
            let procs = std::fs::read_to_string(dir.path.join("cgroup.procs")).unwrap();
            assert_eq!(procs.trim(), pid.to_string(), "{}", dir.path.display());
        }
        assert_eq!(
            cgroup.attach(0).unwrap_err(),
            CgroupError::InvalidPid { pid: 0 }
        );
        assert_eq!(
            cgroup.attach(-3).unwrap_err(),
            CgroupError::InvalidPid { pid: -3 }
        );
        // The mock kernel does not drop exited members; kill_all does its part on the real
        // one: the listed process gets SIGKILLed.
        let killer = std::thread::spawn({
            let dirs: Vec<_> = cgroup.dirs().iter().map(|d| d.path.to_path_buf()).collect();
            move || {
                // Once the child is dead, empty the lists as the kernel would.
                std::thread::sleep(std::time::Duration::from_millis(50));
                for dir in dirs {
                    std::fs::write(dir.join("cgroup.procs"), "").unwrap();
                }
            }
        });
        cgroup.kill_all().unwrap();
        killer.join().unwrap();
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        cgroup.remove().unwrap();
        assert!(host.sandbox_dirs().is_empty());
    }

    #[test]
    fn unified_enables_controllers_top_down_and_writes_v2_files() {
        let host = MockHost::unified("cpuset cpu io memory pids");
        let (cgroup, warnings) = create(&host, full_limits());
        assert_eq!(warnings, vec![]);
        for dir in ["v2", "v2/a", "v2/a/b"] {
            assert_eq!(
                host.read(&format!("{dir}/cgroup.subtree_control")),
                "+memory +pids +cpu +io",
                "{dir}"
            );
        }
        let name = cgroup.name().to_owned();
        let f = |file: &str| host.read(&format!("v2/a/b/{name}/{file}"));
        assert_eq!(f("memory.max"), "33554432");
        assert_eq!(f("memory.swap.max"), "0");
        assert_eq!(f("pids.max"), "8");
        assert_eq!(f("cpu.max"), "50000 100000");
        assert_eq!(f("cpu.weight"), "200");
        assert_eq!(f("io.weight"), "default 300");
        assert!(cgroup.is_v2());
        assert!(cgroup.clone_into_fd().is_some());
        assert_eq!(cgroup.dirs().len(), 1);
        cgroup.remove().unwrap();
        assert!(host.sandbox_dirs().is_empty());
    }

    #[test]
    fn unified_skips_the_write_when_the_controller_is_already_enabled() {
        let host = MockHost::unified("memory pids");
        std::fs::write(host.path("v2/a/b/cgroup.subtree_control"), "memory\n").unwrap();
        let limits = ResourceLimits {
            memory_max: Some(1 << 30),
            ..ResourceLimits::default()
        };
        let (cgroup, warnings) = create(&host, limits);
        assert_eq!(warnings, vec![]);
        assert_eq!(host.read("v2/a/b/cgroup.subtree_control"), "memory");
        assert_eq!(host.read("v2/cgroup.subtree_control"), "");
        assert_eq!(
            host.read(&format!("v2/a/b/{}/memory.max", cgroup.name())),
            "1073741824"
        );
    }

    #[test]
    fn unified_warns_for_a_controller_no_ancestor_offers() {
        let host = MockHost::unified("memory");
        let (cgroup, warnings) = create(&host, full_limits());
        assert!(warnings.contains(&Warning::ControllerUnavailable {
            controller: Controller::Pids,
            limits: vec![LimitKind::PidsMax],
        }));
        assert!(warnings.contains(&Warning::ControllerUnavailable {
            controller: Controller::Cpu,
            limits: vec![LimitKind::CpuMax, LimitKind::CpuWeight],
        }));
        assert_eq!(host.read("v2/cgroup.subtree_control"), "+memory");
        assert_eq!(
            host.read(&format!("v2/a/b/{}/memory.max", cgroup.name())),
            "33554432"
        );
    }

    #[test]
    fn unified_refused_subtree_control_write_is_a_warning() {
        let host = MockHost::unified("memory pids");
        let file = host.path("v2/a/b/cgroup.subtree_control");
        std::fs::remove_file(&file).unwrap();
        std::fs::create_dir(&file).unwrap();
        let limits = ResourceLimits {
            memory_max: Some(1 << 30),
            pids_max: Some(10),
            ..ResourceLimits::default()
        };
        let (cgroup, warnings) = create(&host, limits);
        assert_eq!(
            warnings,
            vec![
                Warning::ControllerNotEnabled {
                    controller: Controller::Memory,
                    file: file.clone(),
                    errno: Errno::ISDIR,
                },
                Warning::ControllerNotEnabled {
                    controller: Controller::Pids,
                    file: file.clone(),
                    errno: Errno::ISDIR,
                },
            ]
        );
        // The ancestors above were enabled; the sandbox exists without the controllers.
        assert_eq!(host.read("v2/cgroup.subtree_control"), "+memory +pids");
        assert!(cgroup.dirs()[0].controllers.is_empty());
        assert!(!cgroup.dirs()[0].path.join("memory.max").exists());
    }

    #[test]
    fn a_quota_beyond_every_online_cpu_is_a_warning() {
        let host = MockHost::hybrid();
        let cpus = online_cpus().unwrap();
        let cpu_max = CpuMax {
            quota_us: 100_000 * (cpus + 1),
            period_us: 100_000,
        };
        let limits = ResourceLimits {
            cpu_max: Some(cpu_max),
            ..ResourceLimits::default()
        };
        let (_cgroup, warnings) = create(&host, limits);
        assert_eq!(
            warnings,
            vec![Warning::CpuQuotaExceedsCpus {
                cpu_max,
                online_cpus: cpus
            }]
        );
    }

    #[test]
    fn an_invalid_prefix_is_refused_before_anything_is_made() {
        let host = MockHost::hybrid();
        let spec = CgroupSpec {
            prefix: "../escape".to_owned(),
            ..CgroupSpec::new(full_limits())
        };
        assert!(matches!(
            SandboxCgroup::create_in(&host.layout, &spec),
            Err(CgroupError::InvalidPrefix { .. })
        ));
        assert!(host.sandbox_dirs().is_empty());
    }

    #[test]
    fn a_sandbox_cgroup_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SandboxCgroup>();
        assert_send_sync::<CgroupError>();
        assert_send_sync::<Warning>();
    }

    #[test]
    fn parallel_creations_get_distinct_directories() {
        let host = MockHost::hybrid();
        let layout = host.layout.clone();
        let spec = CgroupSpec::default();
        let cgroups: Vec<SandboxCgroup> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        (0..25)
                            .map(|_| SandboxCgroup::create_in(&layout, &spec).unwrap().0)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(host.sandbox_dirs().len(), 200);
        // The mock cgroupfs travels with the layout, so other threads' mkdirs fill in
        // control files too.
        for cgroup in &cgroups {
            for dir in cgroup.dirs() {
                assert!(dir.path.join("cgroup.procs").exists(), "{:?}", dir.path);
            }
        }
        for cgroup in cgroups {
            cgroup.remove().unwrap();
        }
        assert!(host.sandbox_dirs().is_empty());
    }
}
