//! The facade's side of vb-cgroup: one cgroup per sandbox with limits, created
//! before the clone, entered at clone time (`CLONE_INTO_CGROUP`) or by the
//! parent during the handshake, and removed when the sandbox ends.

use std::sync::OnceLock;

use vb_cgroup::{
    CgroupLayout, CgroupSpec, DEFAULT_PREFIX, ResourceLimits, SandboxCgroup, sweep_stale,
};

use crate::error::Error;

/// The cgroup layout, detected once per process; the first detection also
/// sweeps cgroups left by launchers that died without cleaning up.
fn layout() -> Result<&'static CgroupLayout, Error> {
    static LAYOUT: OnceLock<Result<CgroupLayout, vb_cgroup::CgroupError>> = OnceLock::new();
    let detected = LAYOUT.get_or_init(|| {
        let layout = CgroupLayout::detect()?;
        // A failed sweep must not keep new sandboxes from starting.
        let _ = sweep_stale(&layout, DEFAULT_PREFIX);
        Ok(layout)
    });
    detected.as_ref().map_err(|e| Error::Cgroup(e.clone()))
}

/// Create the sandbox's cgroup when `limits` asks for any; return it with the
/// warnings creation produced.
pub(crate) fn create(
    limits: &ResourceLimits,
) -> Result<Option<(SandboxCgroup, Vec<String>)>, Error> {
    if limits.is_empty() {
        return Ok(None);
    }
    let (cgroup, warnings) = SandboxCgroup::create_in(layout()?, &CgroupSpec::new(*limits))?;
    Ok(Some((
        cgroup,
        warnings.iter().map(ToString::to_string).collect(),
    )))
}

/// Put the child in the cgroup unless the kernel already created it there.
pub(crate) fn attach(
    cgroup: &SandboxCgroup,
    pid: i32,
    cloned_into: bool,
) -> Result<Vec<String>, Error> {
    if cgroup.is_v2() && cloned_into {
        return Ok(Vec::new());
    }
    Ok(cgroup
        .attach(pid)?
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// Kill whatever is left in the cgroup and remove it.
pub(crate) fn finish(cgroup: Option<SandboxCgroup>) -> Result<(), Error> {
    match cgroup {
        Some(cgroup) => Ok(cgroup.remove()?),
        None => Ok(()),
    }
}
