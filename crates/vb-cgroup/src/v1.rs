//! A sandbox's directory in one cgroup v1 hierarchy.
//!
//! Limit values and task attachment go through cgroups-rs's per-controller types
//! (`MemController`, `PidController`, `CpuController`, `BlkIoController`), built directly on
//! the directory this crate chose. The crate's `Cgroup`/`hierarchies::auto()` front is not
//! used: it reads the host's mountinfo itself (so it cannot be pointed at a mock cgroupfs),
//! places cgroups relative to the hierarchy root instead of the caller's own cgroup, and
//! creates directories in every mounted hierarchy unless told otherwise.
//!
//! Where cgroups-rs falls short, the files are handled directly, for these reasons:
//! - directories are made with a plain `mkdir` (cgroups-rs's `create` is `create_dir_all`,
//!   which would silently reuse an existing directory and create missing parents);
//! - a control file's existence is checked before a cgroups-rs setter runs, because those
//!   setters open with `File::create`: on cgroupfs a missing file then fails with a
//!   misleading `EACCES`, and on a mock it would be created;
//! - `blkio.bfq.weight` (the only weight file with the BFQ scheduler) has no setter;
//! - removal and the kill loop live in [`crate::kill`]: cgroups-rs's `delete` sleeps up to
//!   150 ms between retries and its `procs` hides read errors.

use std::error::Error as _;
use std::path::{Path, PathBuf};

use cgroups_rs::Controller as _;
use cgroups_rs::blkio::BlkIoController;
use cgroups_rs::cpu::CpuController;
use cgroups_rs::memory::MemController;
use cgroups_rs::pid::PidController;
use cgroups_rs::{CgroupPid, MaxValue};
use rustix::io::Errno;

use crate::cgroupfs::{CgroupFs, write_control};
use crate::controller::Controller;
use crate::error::{CgroupError, errno_of};
use crate::resource_limits::{
    LimitKind, ResourceLimits, cpu_weight_to_shares, io_weight_to_bfq, io_weight_to_blkio,
};
use crate::warning::Warning;

/// The errno inside a cgroups-rs error (its cause is the `io::Error` of the failed call).
fn errno_of_cgroups(error: &cgroups_rs::error::Error) -> Errno {
    error
        .source()
        .and_then(|cause| cause.downcast_ref::<std::io::Error>())
        .map_or(Errno::IO, errno_of)
}

/// One v1 directory of a sandbox.
#[derive(Debug)]
pub(crate) struct V1Dir {
    pub(crate) path: PathBuf,
    /// The requested controllers this hierarchy carries.
    pub(crate) controllers: Vec<Controller>,
}

/// Runs one limit write: a missing file or a refused value becomes a warning.
fn set_limit(
    warnings: &mut Vec<Warning>,
    dir: &Path,
    limit: LimitKind,
    file: &str,
    value: &str,
    write: impl FnOnce() -> Result<(), cgroups_rs::error::Error>,
) {
    let path = dir.join(file);
    if !path.exists() {
        warnings.push(Warning::LimitFileMissing { limit, file: path });
        return;
    }
    if let Err(e) = write() {
        warnings.push(Warning::LimitRefused {
            limit,
            file: path,
            value: value.to_owned(),
            errno: errno_of_cgroups(&e),
        });
    }
}

fn as_i64(value: u64) -> i64 {
    // The parsers refuse values above i64::MAX; saturating keeps this total anyway.
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl V1Dir {
    /// Makes the directory `<caller_dir>/<name>`.
    pub(crate) fn create(
        fs: &dyn CgroupFs,
        caller_dir: &Path,
        name: &str,
        controllers: Vec<Controller>,
    ) -> Result<V1Dir, CgroupError> {
        let path = caller_dir.join(name);
        fs.make_dir(&path).map_err(|e| CgroupError::CreateDir {
            path: path.clone(),
            errno: errno_of(&e),
        })?;
        Ok(V1Dir { path, controllers })
    }

    fn has(&self, controller: Controller) -> bool {
        self.controllers.contains(&controller)
    }

    /// Writes every limit whose controller lives in this hierarchy.
    pub(crate) fn apply_limits(&self, limits: &ResourceLimits, warnings: &mut Vec<Warning>) {
        let dir = self.path.as_path();
        if self.has(Controller::Memory) {
            // cgroups-rs 0.3's controllers take the cgroup's own directory; `false` selects
            // the v1 file names.
            let mem = MemController::new(self.path.clone(), false);
            // memory.limit_in_bytes first: the kernel refuses a memsw limit below it.
            if let Some(max) = limits.memory_max {
                let value = as_i64(max);
                set_limit(
                    warnings,
                    dir,
                    LimitKind::MemoryMax,
                    "memory.limit_in_bytes",
                    &value.to_string(),
                    || mem.set_limit(value),
                );
            }
            match (limits.memory_max, limits.memory_swap_max) {
                (Some(max), Some(swap)) => {
                    let value = as_i64(max.saturating_add(swap));
                    set_limit(
                        warnings,
                        dir,
                        LimitKind::MemorySwapMax,
                        "memory.memsw.limit_in_bytes",
                        &value.to_string(),
                        || mem.set_memswap_limit(value),
                    );
                }
                (None, Some(_)) => warnings.push(Warning::SwapLimitNeedsMemoryLimit),
                _ => {}
            }
        }
        if self.has(Controller::Pids)
            && let Some(max) = limits.pids_max
        {
            let pids = PidController::new(self.path.clone(), false);
            let value = as_i64(max);
            set_limit(
                warnings,
                dir,
                LimitKind::PidsMax,
                "pids.max",
                &value.to_string(),
                || pids.set_pid_max(MaxValue::Value(value)),
            );
        }
        if self.has(Controller::Cpu) {
            let cpu = CpuController::new(self.path.clone(), false);
            if let Some(max) = limits.cpu_max {
                // The period first: the kernel checks a new quota against the current period.
                set_limit(
                    warnings,
                    dir,
                    LimitKind::CpuMax,
                    "cpu.cfs_period_us",
                    &max.period_us.to_string(),
                    || cpu.set_cfs_period(max.period_us),
                );
                let quota = as_i64(max.quota_us);
                set_limit(
                    warnings,
                    dir,
                    LimitKind::CpuMax,
                    "cpu.cfs_quota_us",
                    &quota.to_string(),
                    || cpu.set_cfs_quota(quota),
                );
            }
            if let Some(weight) = limits.cpu_weight {
                let shares = cpu_weight_to_shares(weight);
                set_limit(
                    warnings,
                    dir,
                    LimitKind::CpuWeight,
                    "cpu.shares",
                    &shares.to_string(),
                    || cpu.set_shares(shares),
                );
            }
        }
        if self.has(Controller::Io)
            && let Some(weight) = limits.io_weight
        {
            self.apply_io_weight(weight, warnings);
        }
    }

    /// BFQ exposes `blkio.bfq.weight`, the legacy CFQ scheduler `blkio.weight`; whichever
    /// exists is used, each with its own range.
    fn apply_io_weight(&self, weight: u16, warnings: &mut Vec<Warning>) {
        let limit = LimitKind::IoWeight;
        let bfq = self.path.join("blkio.bfq.weight");
        if bfq.exists() {
            let value = io_weight_to_bfq(weight).to_string();
            if let Err(e) = write_control(&bfq, &value) {
                warnings.push(Warning::LimitRefused {
                    limit,
                    file: bfq,
                    value,
                    errno: errno_of(&e),
                });
            }
            return;
        }
        let blkio = BlkIoController::new(self.path.clone(), false);
        let value = io_weight_to_blkio(weight);
        set_limit(
            warnings,
            &self.path,
            limit,
            "blkio.weight",
            &value.to_string(),
            || blkio.set_weight(value),
        );
    }

    /// Moves the process `pid` (all its threads) into this directory.
    pub(crate) fn attach(&self, pid: i32) -> Result<(), CgroupError> {
        let file = self.path.join("cgroup.procs");
        let attach_error = |errno| CgroupError::Attach {
            file: file.clone(),
            pid,
            errno,
        };
        let raw = u64::try_from(pid).map_err(|_| CgroupError::InvalidPid { pid })?;
        let tgid = CgroupPid::from(raw);
        let path = self.path.clone();
        // Any of the hierarchy's controllers writes the same cgroup.procs file.
        let result = match self.controllers.first() {
            Some(Controller::Memory) | None => {
                MemController::new(path, false).add_task_by_tgid(&tgid)
            }
            Some(Controller::Pids) => PidController::new(path, false).add_task_by_tgid(&tgid),
            Some(Controller::Cpu) => CpuController::new(path, false).add_task_by_tgid(&tgid),
            Some(Controller::Io) => BlkIoController::new(path, false).add_task_by_tgid(&tgid),
        };
        result.map_err(|e| attach_error(errno_of_cgroups(&e)))
    }
}
