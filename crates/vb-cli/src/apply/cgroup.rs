//! cgroup resource-limit options (`--memory-max` …) and the runtime
//! warnings policy (`--fail-on-warnings`).

use std::ffi::{OsStr, OsString};

use voidbox::{CgroupError, LimitKind};

use crate::state::{State, die};

use super::Outcome;

/// A resource-limit option: parsed now, so a bad value fails before anything
/// is created.
pub(super) fn set_limit(s: &mut State, opt: &str, kind: LimitKind, value: &OsStr) -> Outcome {
    let text = value.to_string_lossy();
    match s.config.resources.set(kind, &text) {
        Ok(_) => {
            if kind == LimitKind::MemorySwapMax {
                s.swap_set = true;
            }
            Ok(())
        }
        Err(CgroupError::InvalidLimit { reason, .. }) => die(format!(
            "Invalid {opt} value {text:?}: {reason}; expected {}",
            kind.expected()
        )),
        Err(other) => die(format!("{opt}: {other}")),
    }
}

pub(crate) fn memory_max(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--memory-max", LimitKind::MemoryMax, &v)
}

pub(crate) fn memory_swap_max(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--memory-swap-max", LimitKind::MemorySwapMax, &v)
}

pub(crate) fn cpu_max(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--cpu-max", LimitKind::CpuMax, &v)
}

pub(crate) fn cpu_weight(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--cpu-weight", LimitKind::CpuWeight, &v)
}

pub(crate) fn pids_max(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--pids-max", LimitKind::PidsMax, &v)
}

pub(crate) fn io_weight(s: &mut State, v: OsString) -> Outcome {
    set_limit(s, "--io-weight", LimitKind::IoWeight, &v)
}

pub(crate) fn fail_on_warnings(s: &mut State) -> Outcome {
    s.config.runtime.fail_on_runtime_warnings = true;
    Ok(())
}
