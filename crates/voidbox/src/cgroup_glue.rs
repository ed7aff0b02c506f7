//! The facade's side of vb-cgroup: one cgroup per sandbox with limits.
//!
//! Where every limit lives in a v1 hierarchy (v1 and hybrid hosts), the
//! cgroup is created after the gate, while the child sets itself up, and the
//! child joins it itself before its command starts (a
//! [`JoinPlan`](vb_cgroup::JoinPlan)): the creation costs the launch
//! nothing it would not spend waiting anyway. Where a v2 directory is needed,
//! it is created before the clone and the child starts inside it
//! (`CLONE_INTO_CGROUP`). Either way the cgroup is removed when the sandbox
//! ends.

use std::sync::{Once, OnceLock};

use vb_cgroup::{
    CgroupLayout, CgroupSpec, DEFAULT_PREFIX, JoinPlan, ResourceLimits, SandboxCgroup, sweep_stale,
};

use crate::error::Error;
use crate::warning::Warning;

/// The cgroup layout, detected once per process.
fn layout() -> Result<&'static CgroupLayout, Error> {
    static LAYOUT: OnceLock<Result<CgroupLayout, vb_cgroup::CgroupError>> = OnceLock::new();
    LAYOUT
        .get_or_init(CgroupLayout::detect)
        .as_ref()
        .map_err(|e| Error::Cgroup(e.clone()))
}

/// Remove, once per process, the cgroups of launchers that died without
/// cleaning up. Called while a child sets itself up, off the critical path; a
/// failed sweep must not keep a sandbox from starting.
pub(crate) fn sweep_once() {
    static SWEPT: Once = Once::new();
    SWEPT.call_once(|| {
        if let Ok(layout) = layout() {
            let _ = sweep_stale(layout, DEFAULT_PREFIX);
        }
    });
}

/// How a sandbox gets its cgroup.
#[derive(Debug)]
pub(crate) enum Placement {
    /// No limits: no cgroup.
    None,
    /// Created before the clone (a v2 directory is needed), with its warnings.
    Before(SandboxCgroup, Vec<Warning>),
    /// To be created after the gate and joined by the child.
    Join(JoinPlan),
}

fn typed(warnings: Vec<vb_cgroup::Warning>) -> Vec<Warning> {
    warnings.into_iter().map(Warning::Cgroup).collect()
}

/// Decide, before the clone, how the sandbox gets its cgroup. With `early`,
/// the child must be in it before the gate: it is created now.
pub(crate) fn place(limits: &ResourceLimits, early: bool) -> Result<Placement, Error> {
    if limits.is_empty() {
        return Ok(Placement::None);
    }
    let layout = layout()?;
    let spec = CgroupSpec::new(*limits);
    if !early && let Some(plan) = SandboxCgroup::plan_join(layout, &spec)? {
        return Ok(Placement::Join(plan));
    }
    let (cgroup, warnings) = SandboxCgroup::create_in(layout, &spec)?;
    Ok(Placement::Before(cgroup, typed(warnings)))
}

/// Create the cgroup a [`Placement::Join`] planned.
pub(crate) fn create_planned(
    limits: &ResourceLimits,
    plan: &JoinPlan,
) -> Result<(SandboxCgroup, Vec<Warning>), Error> {
    let (cgroup, warnings) =
        SandboxCgroup::create_planned(layout()?, &CgroupSpec::new(*limits), plan)?;
    Ok((cgroup, typed(warnings)))
}

/// Put a child cloned after its cgroup was made into the directories it is
/// not in yet (the kernel created it in the v2 one when `cloned_into`).
pub(crate) fn attach(
    cgroup: &SandboxCgroup,
    pid: i32,
    cloned_into: bool,
) -> Result<Vec<Warning>, Error> {
    Ok(typed(cgroup.attach_after_clone(pid, cloned_into, false)?))
}

/// Kill whatever is left in the cgroup and remove it.
pub(crate) fn finish(cgroup: Option<SandboxCgroup>) -> Result<(), Error> {
    match cgroup {
        Some(cgroup) => Ok(cgroup.remove()?),
        None => Ok(()),
    }
}
