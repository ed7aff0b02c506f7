//! The facade's side of vb-fs: the [`FsSpec`] a configuration stands for, and
//! the child stage that executes the compiled plan.

use vb_fs::{FsSpec, MountPlan, RealSys, RootSwitch};
use vb_proc::{ChildStage, StageFailure};

use crate::config::{IsolationOptions, JailConfig};
use crate::error::Error;

/// Compile the mount plan of `config` (with the namespaces actually created).
pub(crate) fn compile(config: &JailConfig, iso: &IsolationOptions) -> Result<MountPlan, Error> {
    Ok(MountPlan::compile(&FsSpec {
        root: config.rootfs.clone(),
        switch: if config.runtime.use_pivot_root {
            RootSwitch::PivotRoot
        } else {
            RootSwitch::Chroot
        },
        mount_proc: iso.pid,
        actions: config.fs_actions.clone(),
    })?)
}

/// The child-side adapter of a vb-fs plan.
pub(crate) struct FsStage<'a>(pub(crate) &'a MountPlan);

impl ChildStage for FsStage<'_> {
    fn run(&self) -> Result<(), StageFailure> {
        self.0
            .execute(&RealSys)
            .map_err(|f| StageFailure::new(f.step, f.index, f.errno))
    }
}

/// Remove what the plan left on the host for the sandbox's lifetime. Called
/// once the sandbox has ended (or failed to start), on every path.
pub(crate) fn finish(plan: Option<MountPlan>) -> Result<(), Error> {
    // The root switch alone leaves nothing outside the sandbox's mount
    // namespace; staged action artifacts add their removal here.
    drop(plan);
    Ok(())
}
