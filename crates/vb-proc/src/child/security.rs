//! The security context in the child, in the three places the
//! [`crate::security`] module docs give: before the PID-1 fork for every
//! process of the sandbox, in the reaper, and in the command's process last
//! before `execve`. Every failure is reported with [`Origin::Security`] and
//! a [`SecurityStep`].

use std::os::fd::AsRawFd;

use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::thread::UnshareFlags;

use crate::child::steps::{set_dumpable, write_file_at};
use crate::child::sys::ChildSys;
use crate::frame::{ChildFailure, Origin, StepFailure};
use crate::security::{NestedUserns, SecurityPlan, SecurityStep};

fn fail(step: SecurityStep, index: u32, errno: Errno) -> ChildFailure {
    ChildFailure::with_origin(
        Origin::Security,
        StepFailure::new(step as u32, index, errno.raw_os_error()),
    )
}

impl SecurityPlan {
    /// Child, before the PID-1 fork: the user-namespace policy, then the
    /// bounding set. `shares_memory`: the process shares the launcher's
    /// memory (a `CLONE_VM` launch), whose dumpable flag it must not touch.
    pub(crate) fn before_fork<S: ChildSys>(
        &self,
        sys: &mut S,
        shares_memory: bool,
    ) -> Result<(), ChildFailure> {
        if let Some(nested) = &self.nested {
            self.enter_nested_user_namespace(sys, nested, shares_memory)?;
        }
        if let Some(keep) = self.caps.bounding {
            cut_bounding_set(sys, keep, self.caps.all)?;
        }
        if self.assert_userns_disabled {
            // SAFETY: unshare in a single-threaded child; if it succeeds the
            // process is in a new user namespace, and it fails right away.
            let created = unsafe { sys.unshare(UnshareFlags::NEWUSER) };
            if created.is_ok() {
                return Err(fail(SecurityStep::UsernsNotDisabled, 0, Errno::PERM));
            }
        }
        Ok(())
    }

    /// Enter the nested user namespace. With `limit`, first cap the
    /// sandbox's user namespace at one nested user namespace, which entering
    /// this one uses up: none can be created from inside afterwards.
    ///
    /// Entering it changes no id and gains no capability the kernel counts
    /// (the new namespace's owner is this process's uid in its parent), so
    /// it leaves the memory's dumpable flag alone. The maps are written to
    /// the process's own `/proc` files, writable only while the memory is
    /// dumpable: a private copy is made dumpable for them and closed again;
    /// memory shared with the launcher is dumpable already (the launcher's
    /// own id maps were written the same way) and is left as it is.
    fn enter_nested_user_namespace<S: ChildSys>(
        &self,
        sys: &mut S,
        nested: &NestedUserns,
        shares_memory: bool,
    ) -> Result<(), ChildFailure> {
        let step = |index: u32| move |e: Errno| fail(SecurityStep::DisableUserns, index, e);
        let proc_dir = self
            .proc_dir
            .as_ref()
            .map(AsRawFd::as_raw_fd)
            .ok_or_else(|| fail(SecurityStep::DisableUserns, 0, Errno::BADF))?;
        if nested.limit {
            // Looked up now, from inside the sandbox's user namespace: the
            // user sysctls are per namespace, chosen at lookup.
            let limit = sys
                .open_at(
                    proc_dir,
                    c"sys/user/max_user_namespaces",
                    OFlags::WRONLY | OFlags::CLOEXEC,
                )
                .map_err(step(0))?;
            let written = sys.write(limit, b"1");
            sys.close(limit);
            match written {
                Ok(1) => {}
                Ok(_) => return Err(step(1)(Errno::IO)),
                Err(e) => return Err(step(1)(e)),
            }
        }
        // SAFETY: unshare of a namespace in a single-threaded child.
        unsafe { sys.unshare(UnshareFlags::NEWUSER) }.map_err(step(2))?;
        // setgroups stays denied: the new namespace inherits the setting.
        if !shares_memory {
            set_dumpable(sys, true)?;
        }
        write_file_at(sys, proc_dir, c"self/uid_map", &nested.uid_map).map_err(step(3))?;
        write_file_at(sys, proc_dir, c"self/gid_map", &nested.gid_map).map_err(step(4))?;
        if shares_memory {
            return Ok(());
        }
        set_dumpable(sys, false)
    }

    /// Child, the reaper after the fork: no capabilities, `no_new_privs`,
    /// not dumpable. ([`load_seccomp`](Self::load_seccomp) follows once it has
    /// closed what it does not need.)
    pub(crate) fn reaper<S: ChildSys>(&self, sys: &mut S) -> Result<(), ChildFailure> {
        self.reaper_sharing_memory(sys)?;
        sys.set_dumpable(false)
            .map_err(|e| fail(SecurityStep::Dumpable, 0, e))
    }

    /// The reaper's lockdown in a process that shares the launcher's memory
    /// (a `CLONE_VM` launch): not dumpable is a flag of the memory, which
    /// the launcher keeps; vb-init sets it on its own once executed.
    pub(crate) fn reaper_sharing_memory<S: ChildSys>(
        &self,
        sys: &mut S,
    ) -> Result<(), ChildFailure> {
        sys.set_capabilities(0)
            .map_err(|e| fail(SecurityStep::CapSet, 0, e))?;
        no_new_privs(sys)
    }

    /// Child, the command's process before `execve`: resource limits,
    /// capabilities, `no_new_privs`, the label, Landlock.
    /// [`load_seccomp`](Self::load_seccomp) comes last, right before
    /// `execve`.
    pub(crate) fn command<S: ChildSys>(&self, sys: &mut S) -> Result<(), ChildFailure> {
        for limit in &self.rlimits {
            sys.set_rlimit(limit)
                .map_err(|e| fail(SecurityStep::Rlimit, limit.resource.index(), e))?;
        }
        if let Some(mask) = self.caps.set {
            set_caps(sys, mask)?;
        }
        no_new_privs(sys)?;
        if let Some(label) = &self.exec_label {
            let proc_dir = self
                .proc_dir
                .as_ref()
                .map(AsRawFd::as_raw_fd)
                .ok_or_else(|| fail(SecurityStep::ExecLabel, 0, Errno::BADF))?;
            write_file_at(sys, proc_dir, c"thread-self/attr/exec", label.as_bytes())
                .map_err(|e| fail(SecurityStep::ExecLabel, 0, e))?;
        }
        // After the root switch (the rule paths are the sandbox's) and
        // `no_new_privs`, before the seccomp programs (which may refuse the
        // landlock calls).
        if let Some(landlock) = &self.landlock {
            sys.restrict_landlock(landlock)
                .map_err(|f| ChildFailure::with_origin(Origin::Security, f))?;
        }
        Ok(())
    }

    /// Install the seccomp programs on the calling thread, in order.
    pub(crate) fn load_seccomp<S: ChildSys>(&self, sys: &mut S) -> Result<(), ChildFailure> {
        for (index, program) in (0u32..).zip(self.seccomp.iter()) {
            sys.load_seccomp(program)
                .map_err(|e| fail(SecurityStep::Seccomp, index, e))?;
        }
        Ok(())
    }
}

fn no_new_privs<S: ChildSys>(sys: &mut S) -> Result<(), ChildFailure> {
    sys.set_no_new_privs()
        .map_err(|e| fail(SecurityStep::NoNewPrivs, 0, e))
}

/// Drop every capability the kernel knows (`all`) outside `keep` from the
/// bounding set; the index of a failure is the capability.
fn cut_bounding_set<S: ChildSys>(sys: &mut S, keep: u64, all: u64) -> Result<(), ChildFailure> {
    for cap in 0..64u32 {
        let bit = 1u64 << cap;
        if bit & all == 0 || bit & keep != 0 {
            continue;
        }
        sys.drop_bounding(cap)
            .map_err(|e| fail(SecurityStep::BoundingSet, cap, e))?;
    }
    Ok(())
}

/// Set permitted, effective and inheritable to `mask` and raise each of its
/// capabilities in the ambient set.
fn set_caps<S: ChildSys>(sys: &mut S, mask: u64) -> Result<(), ChildFailure> {
    sys.set_capabilities(mask)
        .map_err(|e| fail(SecurityStep::CapSet, 0, e))?;
    for cap in 0..64u32 {
        if mask & (1u64 << cap) == 0 {
            continue;
        }
        sys.raise_ambient(cap)
            .map_err(|e| fail(SecurityStep::Ambient, cap, e))?;
    }
    Ok(())
}
