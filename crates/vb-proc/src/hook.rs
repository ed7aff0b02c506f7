//! Hooks: child-side work that other crates prepare in the parent and vb-proc
//! runs in the sandbox child at a fixed point, between the id switch and the
//! cgroup join — the mounts and root switch of vb-fs, the loopback bring-up of
//! vb-netlink. vb-proc knows them only through [`ChildHook`], so it depends
//! on neither crate.

use crate::frame::StepFailure;

/// Work another crate prepared in the parent that runs in the sandbox child
/// (see [`ChildHooks`] for when).
///
/// # Safety
///
/// `run` executes in a child created by a raw `clone3` from a possibly
/// multi-threaded process, whose other threads do not exist there: a lock
/// they held stays held forever. An implementation must not allocate, take a
/// lock, touch Rust's standard streams or environment, or panic: only system
/// calls on data that was prepared before the clone. The soundness of
/// [`ProcessPlan::clone_child`](crate::ProcessPlan::clone_child) depends on
/// it, so implementing the trait is `unsafe`.
pub unsafe trait ChildHook {
    /// Run the hook; report the first failing step in the hook's own
    /// numbering.
    fn run(&self) -> Result<(), StepFailure>;
}

/// The hooks of one sandbox, run in this order after the id switch and the
/// hostname, before the cgroup join and the security context. See
/// [`ChildHook`] for the contract.
#[derive(Clone, Copy, Default)]
pub struct ChildHooks<'a> {
    /// Mounts and the root switch; runs before the PID-1 fork, so the reaper
    /// lives in the sandbox's filesystem too. A failure is reported with
    /// [`Origin::Filesystem`](crate::Origin::Filesystem).
    pub filesystem: Option<&'a dyn ChildHook>,
    /// Network configuration inside the new network namespace; a failure is
    /// reported with [`Origin::Network`](crate::Origin::Network).
    pub network: Option<&'a dyn ChildHook>,
}

impl std::fmt::Debug for ChildHooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildHooks")
            .field("filesystem", &self.filesystem.is_some())
            .field("network", &self.network.is_some())
            .finish()
    }
}
