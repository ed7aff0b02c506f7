//! The security context in the child, in the three places the
//! [`crate::security`] module docs give: before the PID-1 fork for every
//! process of the sandbox, in the reaper, and in the command's process last
//! before `execve`.

use std::os::fd::OwnedFd;

use rustix::io::Errno;

use crate::child::caps::{self, CapFailure};
use crate::errno::last_errno;
use crate::frame::{ChildFailure, Origin, StepFailure};
use crate::rlimit::Rlimit;
use crate::seccomp::BpfProgram;
use crate::security::{NestedUserns, SecurityPlan, SecurityStep};

fn fail(step: SecurityStep, index: u32, errno: Errno) -> ChildFailure {
    ChildFailure::with_origin(
        Origin::Security,
        StepFailure::new(step as u32, index, errno.raw_os_error()),
    )
}

fn cap_fail(failure: CapFailure) -> ChildFailure {
    match failure {
        CapFailure::Bounding(cap, e) => fail(SecurityStep::BoundingSet, cap, e),
        CapFailure::Set(e) => fail(SecurityStep::CapSet, 0, e),
        CapFailure::Ambient(cap, e) => fail(SecurityStep::Ambient, cap, e),
    }
}

impl SecurityPlan {
    /// Child, before the PID-1 fork: the user-namespace policy, then the
    /// bounding set.
    pub(crate) fn before_fork(&self) -> Result<(), ChildFailure> {
        if let Some(nested) = &self.nested {
            self.enter_nested_user_namespace(nested)?;
        }
        if let Some(keep) = self.caps.bounding {
            caps::cut_bounding_set(keep, self.caps.all).map_err(cap_fail)?;
        }
        if self.assert_userns_disabled {
            // SAFETY: unshare in a single-threaded child; if it succeeds the
            // process is in a new user namespace, and it fails right away.
            let created =
                unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWUSER) };
            if created.is_ok() {
                return Err(fail(SecurityStep::UsernsNotDisabled, 0, Errno::PERM));
            }
        }
        Ok(())
    }

    /// Enter the nested user namespace. With `limit`, first cap the
    /// sandbox's user namespace at one nested user namespace, which entering
    /// this one uses up: none can be created from inside afterwards.
    fn enter_nested_user_namespace(&self, nested: &NestedUserns) -> Result<(), ChildFailure> {
        let step = |index: u32| move |e: Errno| fail(SecurityStep::DisableUserns, index, e);
        let proc_dir = self
            .proc_dir
            .as_ref()
            .ok_or_else(|| fail(SecurityStep::DisableUserns, 0, Errno::BADF))?;
        if nested.limit {
            // Looked up now, from inside the sandbox's user namespace: the
            // user sysctls are per namespace, chosen at lookup.
            let limit = rustix::fs::openat(
                proc_dir,
                c"sys/user/max_user_namespaces",
                rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(step(0))?;
            write_all(&limit, b"1").map_err(step(1))?;
        }
        // SAFETY: unshare in a single-threaded child.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWUSER) }
            .map_err(step(2))?;
        // setgroups stays denied: the new namespace inherits the setting.
        // Its own maps are writable only while the process is dumpable.
        crate::child::steps::set_dumpable(true)?;
        write_at(proc_dir, c"self/uid_map", &nested.uid_map).map_err(step(3))?;
        write_at(proc_dir, c"self/gid_map", &nested.gid_map).map_err(step(4))?;
        crate::child::steps::set_dumpable(false)
    }

    /// Child, the reaper after the fork: no capabilities, `no_new_privs`,
    /// not dumpable. ([`load_seccomp`](Self::load_seccomp) follows once it has
    /// closed what it does not need.)
    pub(crate) fn reaper(&self) -> Result<(), ChildFailure> {
        caps::capset_all(0).map_err(|e| fail(SecurityStep::CapSet, 0, e))?;
        no_new_privs()?;
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong) } != 0 {
            return Err(fail(SecurityStep::Dumpable, 0, last_errno()));
        }
        Ok(())
    }

    /// Child, the command's process before `execve`: capabilities,
    /// `no_new_privs`, the label. [`load_seccomp`](Self::load_seccomp) comes
    /// last, right before `execve`.
    pub(crate) fn command(&self) -> Result<(), ChildFailure> {
        for limit in &self.rlimits {
            set_rlimit(limit).map_err(|e| fail(SecurityStep::Rlimit, limit.resource.index(), e))?;
        }
        if let Some(mask) = self.caps.set {
            caps::set_caps(mask).map_err(cap_fail)?;
        }
        no_new_privs()?;
        if let Some(label) = &self.exec_label {
            let proc_dir = self
                .proc_dir
                .as_ref()
                .ok_or_else(|| fail(SecurityStep::ExecLabel, 0, Errno::BADF))?;
            write_at(proc_dir, c"thread-self/attr/exec", label.as_bytes())
                .map_err(|e| fail(SecurityStep::ExecLabel, 0, e))?;
        }
        // After the root switch (the rule paths are the sandbox's) and
        // `no_new_privs`, before the seccomp programs (which may refuse the
        // landlock calls).
        if let Some(landlock) = &self.landlock {
            landlock
                .apply()
                .map_err(|f| ChildFailure::with_origin(Origin::Security, f))?;
        }
        Ok(())
    }

    /// Install the seccomp programs on the calling thread.
    pub(crate) fn load_seccomp(&self) -> Result<(), ChildFailure> {
        for (index, program) in (0u32..).zip(self.seccomp.iter()) {
            load_program(program).map_err(|e| fail(SecurityStep::Seccomp, index, e))?;
        }
        Ok(())
    }
}

fn no_new_privs() -> Result<(), ChildFailure> {
    rustix::thread::set_no_new_privs(true).map_err(|e| fail(SecurityStep::NoNewPrivs, 0, e))
}

fn write_all(fd: &OwnedFd, bytes: &[u8]) -> Result<(), Errno> {
    match rustix::io::write(fd, bytes) {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(_) => Err(Errno::IO),
        Err(e) => Err(e),
    }
}

fn write_at(dir: &OwnedFd, path: &std::ffi::CStr, bytes: &[u8]) -> Result<(), Errno> {
    let fd = rustix::fs::openat(
        dir,
        path,
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    write_all(&fd, bytes)
}

/// Set one resource limit. A system call on stack data.
fn set_rlimit(limit: &Rlimit) -> Result<(), Errno> {
    let value = rustix::process::Rlimit {
        current: limit.soft,
        maximum: limit.hard,
    };
    rustix::process::setrlimit(limit.resource.resource(), value)
}

/// Install `program` on the calling thread. Needs `no_new_privs` (or
/// `CAP_SYS_ADMIN`). A system call on prepared data.
fn load_program(program: &BpfProgram) -> Result<(), Errno> {
    let insns = program.instructions();
    let len = u16::try_from(insns.len()).map_err(|_| Errno::INVAL)?;
    let prog = libc::sock_fprog {
        len,
        filter: insns.as_ptr().cast_mut(),
    };
    // SAFETY: seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog) reads `len`
    // instructions from `filter`, which `program` holds for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0 as libc::c_uint,
            &raw const prog,
        )
    };
    if ret == 0 { Ok(()) } else { Err(last_errno()) }
}
