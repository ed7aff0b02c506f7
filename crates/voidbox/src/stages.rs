//! The child-side stages of a sandbox, built from its prepared plans: the
//! mount plan (vb-fs) and, with a new network namespace, the loopback
//! bring-up (vb-netlink). Shared by `spawn` and `apply_isolation_in_child`.

use vb_fs::MountPlan;
use vb_proc::{ChildStage, Stages};

use crate::fs_glue::FsStage;
use crate::net_glue::LoopbackStage;

/// Owns the stage adapters for as long as the child-side code runs.
pub(crate) struct ChildStages<'a> {
    filesystem: Option<FsStage<'a>>,
    network: Option<LoopbackStage>,
}

impl<'a> ChildStages<'a> {
    /// The stages for a mount plan (if any) and a new network namespace.
    pub(crate) fn new(fs: Option<&'a MountPlan>, new_network: bool) -> Self {
        Self {
            filesystem: fs.map(FsStage),
            network: new_network.then(|| LoopbackStage(vb_net::LoopbackSetup::new())),
        }
    }

    /// The stages as vb-proc runs them.
    pub(crate) fn stages(&self) -> Stages<'_> {
        Stages {
            filesystem: self.filesystem.as_ref().map(|s| s as &dyn ChildStage),
            network: self.network.as_ref().map(|s| s as &dyn ChildStage),
        }
    }
}
