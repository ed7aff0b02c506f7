//! Landlock in the child: [`LandlockPlan::apply`] builds the ruleset from
//! the masks and C strings prepared in the parent and restricts the calling
//! thread (see [`crate::landlock`]), with the kernel's interface written out
//! here because the landlock crate keeps its bindings private and its
//! `Ruleset` API builds rule lists and errors on the heap.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use landlock::{AccessNet, BitFlags};
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::errno::last_errno;
use crate::frame::StepFailure;
use crate::landlock::{LandlockPlan, LandlockStep, RulesetAttr, fail};

impl LandlockPlan {
    /// Restrict the calling thread (and what it executes or forks from now
    /// on) to the plan.
    ///
    /// Runs in the sandbox child: system calls on prepared data only, no
    /// allocation, no lock; every descriptor it opens is closed before it
    /// returns. Call it after the last mount and the root switch, and after
    /// `no_new_privs` is set (see the [module docs](crate::landlock)). Does nothing when
    /// the plan restricts nothing ([`Enforcement::None`](crate::Enforcement::None), or an empty spec);
    /// otherwise either everything the plan handles is enforced or the first
    /// failing step is returned.
    pub fn apply(&self) -> Result<(), StepFailure> {
        if !self.restricts() {
            return Ok(());
        }
        let attr = RulesetAttr {
            handled_access_fs: self.handled_fs,
            handled_access_net: self.handled_net,
            scoped: 0,
        };
        // SAFETY: landlock_create_ruleset reads `size_of::<RulesetAttr>()`
        // bytes from `attr`, which lives for the call.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                &raw const attr,
                size_of::<RulesetAttr>(),
                0u32,
            )
        };
        let ruleset = owned_fd(ret).map_err(|e| fail(LandlockStep::CreateRuleset, 0, e))?;

        for (index, rule) in (0u32..).zip(&self.paths) {
            // Opened now, in the sandbox: the path resolves from the new root,
            // and through no symbolic link — a link planted by a `--rootfs`
            // image, or by an earlier run in a writable bind, would otherwise
            // move the grant wherever it points.
            let fd = match rustix::fs::openat2(
                rustix::fs::CWD,
                rule.c_path.as_c_str(),
                OFlags::PATH | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::NO_SYMLINKS,
            ) {
                Ok(fd) => fd,
                Err(Errno::NOENT | Errno::LOOP) if rule.optional => continue,
                Err(e) => return Err(fail(LandlockStep::OpenPath, index, e)),
            };
            let stat =
                rustix::fs::fstat(&fd).map_err(|e| fail(LandlockStep::StatPath, index, e))?;
            // The implicit `/dev/null` rule grants writes: only to the null
            // device itself.
            if rule.optional && !is_null_device(&stat) {
                continue;
            }
            let allowed_access = if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
                rule.dir_access
            } else {
                rule.file_access
            };
            let attr = PathBeneathAttr {
                allowed_access,
                parent_fd: fd.as_raw_fd(),
            };
            add_rule(&ruleset, &attr).map_err(|e| fail(LandlockStep::AddPathRule, index, e))?;
            // `fd` is closed here: the rule holds its own reference.
        }

        for (ports, right, step) in [
            (
                &self.tcp_bind,
                AccessNet::BindTcp,
                LandlockStep::AddTcpBindRule,
            ),
            (
                &self.tcp_connect,
                AccessNet::ConnectTcp,
                LandlockStep::AddTcpConnectRule,
            ),
        ] {
            for (index, &port) in (0u32..).zip(ports.iter()) {
                let attr = NetPortAttr {
                    allowed_access: BitFlags::from(right).bits(),
                    port: u64::from(port),
                };
                add_rule(&ruleset, &attr).map_err(|e| fail(step, index, e))?;
            }
        }

        // SAFETY: landlock_restrict_self takes a ruleset descriptor and
        // flags; it touches no memory of ours.
        let ret =
            unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset.as_raw_fd(), 0u32) };
        if ret != 0 {
            return Err(fail(LandlockStep::RestrictSelf, 0, last_errno()));
        }
        Ok(())
    }
}

/// Whether `stat` is the null device (character device 1:3).
fn is_null_device(stat: &rustix::fs::Stat) -> bool {
    FileType::from_raw_mode(stat.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(stat.st_rdev) == 1
        && rustix::fs::minor(stat.st_rdev) == 3
}

/// `LANDLOCK_RULE_PATH_BENEATH`.
const RULE_PATH_BENEATH: u32 = 1;
/// `LANDLOCK_RULE_NET_PORT`.
const RULE_NET_PORT: u32 = 2;

/// `struct landlock_path_beneath_attr` (packed in the kernel's header).
#[repr(C, packed)]
#[derive(Debug)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// `struct landlock_net_port_attr`.
#[repr(C)]
#[derive(Debug)]
struct NetPortAttr {
    allowed_access: u64,
    port: u64,
}

/// Take ownership of the descriptor a system call returned, or its errno.
fn owned_fd(ret: libc::c_long) -> Result<OwnedFd, Errno> {
    if ret < 0 {
        return Err(last_errno());
    }
    let fd = RawFd::try_from(ret).map_err(|_| Errno::BADF)?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else
    // owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A rule attribute struct and the rule type the kernel reads it as.
trait RuleAttr {
    const RULE_TYPE: u32;
}

impl RuleAttr for PathBeneathAttr {
    const RULE_TYPE: u32 = RULE_PATH_BENEATH;
}

impl RuleAttr for NetPortAttr {
    const RULE_TYPE: u32 = RULE_NET_PORT;
}

/// `landlock_add_rule(ruleset, A::RULE_TYPE, attr, 0)`.
fn add_rule<A: RuleAttr>(ruleset: &OwnedFd, attr: &A) -> Result<(), Errno> {
    // SAFETY: the kernel reads the struct `A::RULE_TYPE` names from `attr`;
    // the trait ties each rule type to its own `#[repr(C)]` layout, and the
    // reference keeps the struct alive for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            A::RULE_TYPE,
            std::ptr::from_ref(attr),
            0u32,
        )
    };
    if ret == 0 { Ok(()) } else { Err(last_errno()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_structs_have_the_kernel_layout() {
        assert_eq!(size_of::<PathBeneathAttr>(), 12);
        assert_eq!(size_of::<NetPortAttr>(), 16);
    }
}
