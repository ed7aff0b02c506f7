//! A sandbox's directory in the cgroup v2 (unified) hierarchy, written directly through
//! cgroupfs.
//!
//! cgroups-rs is not used here: it ignores errors while enabling controllers in
//! `cgroup.subtree_control` (so a missing limit would pass unnoticed) and it locates the
//! hierarchy at a fixed path.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::cgroupfs::{CgroupFs, read_control, words, write_control};
use crate::controller::Controller;
use crate::error::{CgroupError, errno_of};
use crate::resource_limits::{LimitKind, ResourceLimits, io_weight_to_bfq};
use crate::warning::Warning;

/// The sandbox's v2 directory and the fd that `clone3(CLONE_INTO_CGROUP)` takes.
#[derive(Debug)]
pub(crate) struct V2Dir {
    pub(crate) path: PathBuf,
    pub(crate) fd: OwnedFd,
    /// The requested controllers enabled for it.
    pub(crate) controllers: Vec<Controller>,
}

fn controllers_file_lists(dir: &Path, file: &str, controller: Controller) -> bool {
    read_control(&dir.join(file))
        .map(|text| words(&text).any(|w| w == controller.v2_name()))
        .unwrap_or(false)
}

/// Makes `wanted` available to children of `caller_dir`: each controller is enabled in the
/// `cgroup.subtree_control` of every directory from the nearest ancestor that offers it
/// down to `caller_dir` (never above `mount_point`). Returns the controllers that are now
/// enabled; the others have produced a warning.
pub(crate) fn enable_controllers(
    mount_point: &Path,
    caller_dir: &Path,
    wanted: &[Controller],
    limits: &ResourceLimits,
    warnings: &mut Vec<Warning>,
) -> Vec<Controller> {
    // The chain of directories from the caller's cgroup up to the hierarchy's root.
    let mut chain: Vec<&Path> = Vec::new();
    let mut dir = Some(caller_dir);
    while let Some(d) = dir {
        chain.push(d);
        if d == mount_point || !d.starts_with(mount_point) {
            break;
        }
        dir = d.parent();
    }

    // For each controller, how far up the chain it must be enabled (index into `chain`).
    let mut needs: Vec<(Controller, usize)> = Vec::new();
    let mut enabled: Vec<Controller> = Vec::new();
    for &controller in wanted {
        if controllers_file_lists(caller_dir, "cgroup.subtree_control", controller) {
            enabled.push(controller);
            continue;
        }
        match chain
            .iter()
            .position(|d| controllers_file_lists(d, "cgroup.controllers", controller))
        {
            Some(top) => needs.push((controller, top)),
            None => warnings.push(Warning::ControllerUnavailable {
                controller,
                limits: limits_of(limits, controller),
            }),
        }
    }

    // Enable top-down, one write per directory; if that write is refused, retry one
    // controller at a time so each refusal is reported and the rest still proceed.
    let top = needs.iter().map(|&(_, top)| top).max();
    if let Some(top) = top {
        for level in (0..=top).rev() {
            let Some(dir) = chain.get(level) else {
                continue;
            };
            let file = dir.join("cgroup.subtree_control");
            let here: Vec<Controller> = needs
                .iter()
                .filter(|&&(_, t)| t >= level)
                .map(|&(c, _)| c)
                .collect();
            if here.is_empty() {
                continue;
            }
            let all = here
                .iter()
                .map(|c| format!("+{}", c.v2_name()))
                .collect::<Vec<_>>()
                .join(" ");
            if write_control(&file, &all).is_ok() {
                continue;
            }
            for controller in here {
                if let Err(e) = write_control(&file, &format!("+{}", controller.v2_name())) {
                    warnings.push(Warning::ControllerNotEnabled {
                        controller,
                        file: file.clone(),
                        errno: errno_of(&e),
                    });
                    needs.retain(|&(c, _)| c != controller);
                }
            }
        }
    }
    enabled.extend(needs.into_iter().map(|(c, _)| c));
    enabled.sort();
    enabled
}

/// The limits of `limits` that `controller` enforces.
pub(crate) fn limits_of(limits: &ResourceLimits, controller: Controller) -> Vec<LimitKind> {
    LimitKind::ALL
        .into_iter()
        .filter(|kind| kind.controller() == controller)
        .filter(|kind| match kind {
            LimitKind::MemoryMax => limits.memory_max.is_some(),
            LimitKind::MemorySwapMax => limits.memory_swap_max.is_some(),
            LimitKind::CpuMax => limits.cpu_max.is_some(),
            LimitKind::CpuWeight => limits.cpu_weight.is_some(),
            LimitKind::PidsMax => limits.pids_max.is_some(),
            LimitKind::IoWeight => limits.io_weight.is_some(),
        })
        .collect()
}

fn set_limit(warnings: &mut Vec<Warning>, dir: &Path, limit: LimitKind, file: &str, value: &str) {
    let path = dir.join(file);
    match write_control(&path, value) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warnings.push(Warning::LimitFileMissing { limit, file: path });
        }
        Err(e) => warnings.push(Warning::LimitRefused {
            limit,
            file: path,
            value: value.to_owned(),
            errno: errno_of(&e),
        }),
    }
}

impl V2Dir {
    /// Makes `<caller_dir>/<name>` and opens it for `CLONE_INTO_CGROUP`. On failure to open,
    /// the directory is removed again.
    pub(crate) fn create(
        fs: &dyn CgroupFs,
        caller_dir: &Path,
        name: &str,
        controllers: Vec<Controller>,
    ) -> Result<V2Dir, CgroupError> {
        let path = caller_dir.join(name);
        fs.make_dir(&path).map_err(|e| CgroupError::CreateDir {
            path: path.clone(),
            errno: errno_of(&e),
        })?;
        // O_RDONLY|O_DIRECTORY|O_CLOEXEC: clone3 needs a real (not O_PATH) directory fd, and
        // it must not leak into the sandbox.
        match std::fs::File::open(&path) {
            Ok(file) => Ok(V2Dir {
                path,
                fd: OwnedFd::from(file),
                controllers,
            }),
            Err(e) => {
                let _ = fs.remove_dir(&path);
                Err(CgroupError::OpenDir {
                    path,
                    errno: errno_of(&e),
                })
            }
        }
    }

    fn has(&self, controller: Controller) -> bool {
        self.controllers.contains(&controller)
    }

    /// Writes every limit whose controller is enabled for this directory.
    pub(crate) fn apply_limits(&self, limits: &ResourceLimits, warnings: &mut Vec<Warning>) {
        let dir = self.path.as_path();
        if self.has(Controller::Memory) {
            if let Some(max) = limits.memory_max {
                set_limit(
                    warnings,
                    dir,
                    LimitKind::MemoryMax,
                    "memory.max",
                    &max.to_string(),
                );
            }
            if let Some(swap) = limits.memory_swap_max {
                set_limit(
                    warnings,
                    dir,
                    LimitKind::MemorySwapMax,
                    "memory.swap.max",
                    &swap.to_string(),
                );
            }
        }
        if self.has(Controller::Pids)
            && let Some(max) = limits.pids_max
        {
            set_limit(
                warnings,
                dir,
                LimitKind::PidsMax,
                "pids.max",
                &max.to_string(),
            );
        }
        if self.has(Controller::Cpu) {
            if let Some(max) = limits.cpu_max {
                let value = format!("{} {}", max.quota_us, max.period_us);
                set_limit(warnings, dir, LimitKind::CpuMax, "cpu.max", &value);
            }
            if let Some(weight) = limits.cpu_weight {
                set_limit(
                    warnings,
                    dir,
                    LimitKind::CpuWeight,
                    "cpu.weight",
                    &weight.to_string(),
                );
            }
        }
        if self.has(Controller::Io)
            && let Some(weight) = limits.io_weight
        {
            // io.weight comes from the iocost controller; with BFQ only io.bfq.weight exists.
            if dir.join("io.weight").exists() {
                set_limit(
                    warnings,
                    dir,
                    LimitKind::IoWeight,
                    "io.weight",
                    &format!("default {weight}"),
                );
            } else {
                set_limit(
                    warnings,
                    dir,
                    LimitKind::IoWeight,
                    "io.bfq.weight",
                    &io_weight_to_bfq(weight).to_string(),
                );
            }
        }
    }

    /// Moves the process `pid` into this directory.
    pub(crate) fn attach(&self, pid: i32) -> Result<(), CgroupError> {
        let file = self.path.join("cgroup.procs");
        write_control(&file, &pid.to_string()).map_err(|e| CgroupError::Attach {
            file,
            pid,
            errno: errno_of(&e),
        })
    }
}
