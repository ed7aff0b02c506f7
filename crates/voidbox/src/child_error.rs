//! A child's failure report turned into the error it stands for, with the
//! configuration's words for what failed.

use std::os::unix::ffi::OsStrExt;

use vb_fs::MountPlan;
use vb_proc::{ChildFailure, Origin, ProcError, ProcessPlan, SecurityStep, Step};

use crate::error::Error;
use crate::net_glue;

/// Turn a child's failure report into the error it stands for.
pub(crate) fn describe_child_error(
    err: ProcError,
    plan: &ProcessPlan<'_>,
    lock_files: &[std::path::PathBuf],
    fs: Option<&MountPlan>,
) -> Error {
    let ProcError::Child(failure) = err else {
        return err.into();
    };
    let source = failure.io_error();
    match failure.origin {
        Origin::Filesystem => match fs {
            Some(fs) => fs
                .describe(vb_fs::FsFailure {
                    step: failure.step,
                    index: failure.index,
                    errno: failure.errno,
                })
                .into(),
            None => ProcError::Child(failure).into(),
        },
        Origin::Process => describe_process_step(failure, Some(plan), Some(lock_files), source),
        Origin::Network => net_glue::describe(failure.step, source),
        Origin::Security => describe_security_step(failure, source, plan.security().landlock()),
    }
}

/// The error a failure of the security context stands for, in bubblewrap's
/// words where it has them.
pub(crate) fn describe_security_step(
    failure: ChildFailure,
    source: std::io::Error,
    landlock: Option<&vb_proc::LandlockPlan>,
) -> Error {
    if let Some(step) = vb_proc::LandlockStep::of(&failure) {
        let what = describe_landlock_step(step, failure.index, failure.errno, landlock);
        return Error::ChildStep { what, source };
    }
    let what = match SecurityStep::of(&failure) {
        Some(SecurityStep::Seccomp) => {
            return Error::Seccomp {
                index: failure.index,
                source,
            };
        }
        Some(SecurityStep::UsernsNotDisabled) => return Error::UsernsNotDisabled,
        Some(SecurityStep::BoundingSet) => {
            format!("Dropping capability {} from bounds", failure.index)
        }
        Some(SecurityStep::CapSet) => "capset failed".to_owned(),
        Some(SecurityStep::Ambient) => format!("Adding ambient capability {}", failure.index),
        Some(SecurityStep::NoNewPrivs) => "prctl(PR_SET_NO_NEW_PRIVS) failed".to_owned(),
        Some(SecurityStep::DisableUserns) => match failure.index {
            0 => "cannot open /proc/sys/user/max_user_namespaces".to_owned(),
            1 => "sysctl user.max_user_namespaces = 1".to_owned(),
            2 => "unshare user ns".to_owned(),
            _ => "setting up uid map".to_owned(),
        },
        Some(SecurityStep::ExecLabel) => "setexeccon".to_owned(),
        Some(SecurityStep::Dumpable) => "prctl(PR_SET_DUMPABLE)".to_owned(),
        Some(SecurityStep::Rlimit) => match vb_proc::RlimitResource::from_index(failure.index) {
            Some(resource) => format!("setrlimit {resource}"),
            None => "setrlimit".to_owned(),
        },
        None => return ProcError::Child(failure).into(),
    };
    Error::ChildStep { what, source }
}

/// What a failed Landlock step was doing, naming the rule's path or port.
pub(crate) fn describe_landlock_step(
    step: vb_proc::LandlockStep,
    index: u32,
    errno: i32,
    plan: Option<&vb_proc::LandlockPlan>,
) -> String {
    use vb_proc::LandlockStep as S;
    let path = || {
        plan.and_then(|p| p.path(index))
            .map_or_else(|| format!("#{index}"), |p| p.display().to_string())
    };
    let port = || {
        plan.and_then(|p| p.port(step, index))
            .map_or_else(|| format!("#{index}"), |p| p.to_string())
    };
    match step {
        S::CreateRuleset => "landlock_create_ruleset".to_owned(),
        S::OpenPath if errno == libc::ELOOP => format!(
            "landlock path {} is or goes through a symbolic link, which a rule does not follow; \
             name the path it leads to",
            path()
        ),
        S::OpenPath | S::StatPath => format!("landlock path {}", path()),
        S::AddPathRule => format!("landlock rule for {}", path()),
        S::AddTcpBindRule => format!("landlock rule for TCP bind port {}", port()),
        S::AddTcpConnectRule => format!("landlock rule for TCP connect port {}", port()),
        S::RestrictSelf => "landlock_restrict_self".to_owned(),
    }
}

/// The error a failure of one of vb-proc's own steps stands for; `plan` names
/// the command and working directory where there is one.
pub(crate) fn describe_process_step(
    failure: ChildFailure,
    plan: Option<&ProcessPlan<'_>>,
    lock_files: Option<&[std::path::PathBuf]>,
    source: std::io::Error,
) -> Error {
    let what = match Step::of(&failure) {
        Some(Step::Exec) => {
            return Error::Exec {
                command: plan.map_or_else(String::new, |p| p.command_display().to_owned()),
                source,
            };
        }
        Some(Step::Chdir) => {
            if let Some(dir) = plan.and_then(|p| p.exec().explicit_chdir()) {
                return Error::Chdir {
                    dir: std::path::PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())),
                    source,
                };
            }
            "chdir".to_owned()
        }
        Some(Step::DeathSignal) => "prctl(PR_SET_PDEATHSIG)".to_owned(),
        Some(Step::ParentGone) => "the parent exited during setup".to_owned(),
        Some(Step::Gate) => "waiting for the parent at the gate".to_owned(),
        Some(Step::SetGid) => format!("unable to switch to gid {}", failure.index),
        Some(Step::SetUid) => format!("unable to switch to uid {}", failure.index),
        Some(Step::JoinNamespace) => {
            use vb_proc::NamespaceKind as K;
            match K::from_index(failure.index) {
                // bubblewrap's words for the options it has.
                Some(K::User) if source.raw_os_error() == Some(libc::EINVAL) => {
                    return Error::InvalidConfig(
                        "Joining the specified user namespace failed, it might not be a descendant of the current user namespace.".into(),
                    );
                }
                Some(K::User) => "Joining specified user namespace failed".to_owned(),
                Some(K::User2) => "Setting userns2 failed".to_owned(),
                Some(K::Pid) => "Setting pidns failed".to_owned(),
                Some(kind) => format!("Joining the {kind:?} namespace failed"),
                None => "setns".to_owned(),
            }
        }
        Some(Step::Report) => "reporting the sandbox to the parent".to_owned(),
        Some(Step::Dumpable) => "prctl(PR_SET_DUMPABLE)".to_owned(),
        Some(Step::CgroupNamespace) => "unshare(CLONE_NEWCGROUP)".to_owned(),
        Some(Step::Hostname) => "sethostname".to_owned(),
        Some(Step::Fork) => "Can't fork".to_owned(),
        Some(Step::NewSession) => "setsid".to_owned(),
        Some(Step::Signals) => "resetting signal dispositions".to_owned(),
        Some(Step::Ack) => "acknowledging setup".to_owned(),
        Some(Step::Stdio) => format!("installing standard stream {}", failure.index),
        Some(Step::Unshare) => "unshare".to_owned(),
        Some(Step::CgroupJoin) => {
            format!("joining the sandbox's cgroup (hierarchy {})", failure.index)
        }
        Some(Step::LockOpen | Step::LockTake) => {
            let open = Step::of(&failure) == Some(Step::LockOpen);
            let path = lock_files
                .and_then(|files| files.get(usize::try_from(failure.index).ok()?))
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Error::LockFile { path, open, source };
        }
        Some(Step::BlockFd) => "reading --block-fd".to_owned(),
        Some(Step::UsernsBlockFd) => "reading --userns-block-fd".to_owned(),
        Some(Step::SyncFd) => "keeping --sync-fd open".to_owned(),
        Some(Step::CloseFds) => "closing the reaper's descriptors".to_owned(),
        Some(Step::OwnIdMap) => match failure.index {
            0 => "writing /proc/self/setgroups".to_owned(),
            1 => "writing /proc/self/uid_map".to_owned(),
            _ => "writing /proc/self/gid_map".to_owned(),
        },
        None => return ProcError::Child(failure).into(),
    };
    Error::ChildStep { what, source }
}
