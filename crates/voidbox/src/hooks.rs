//! The child-side hooks of a sandbox, built from its prepared plans: the
//! mount plan (vb-fs) and, with a new network namespace, the loopback
//! bring-up (vb-netlink). Shared by `spawn` and `apply_isolation_in_child`.

use vb_fs::MountPlan;
use vb_proc::{ChildHook, ChildHooks};

use crate::fs_glue::FsHook;
use crate::net_glue::LoopbackHook;

/// Owns the hook adapters for as long as the child-side code runs.
pub(crate) struct ChildHookSet<'a> {
    filesystem: Option<FsHook<'a>>,
    network: Option<LoopbackHook>,
}

impl<'a> ChildHookSet<'a> {
    /// The hooks for a mount plan (if any) and a new network namespace.
    pub(crate) fn new(fs: Option<&'a MountPlan>, new_network: bool) -> Self {
        Self {
            filesystem: fs.map(FsHook),
            network: new_network.then(|| LoopbackHook(vb_net::LoopbackSetup::new())),
        }
    }

    /// The hooks as vb-proc runs them.
    pub(crate) fn hooks(&self) -> ChildHooks<'_> {
        ChildHooks {
            filesystem: self.filesystem.as_ref().map(|s| s as &dyn ChildHook),
            network: self.network.as_ref().map(|s| s as &dyn ChildHook),
        }
    }
}
