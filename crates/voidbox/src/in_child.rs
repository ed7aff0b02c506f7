//! `apply_isolation_in_child`: voidbox's isolation for embedders that fork
//! themselves (a pseudo-terminal set up first, their own descriptors) and
//! execute the command themselves.
//!
//! ```no_run
//! use voidbox::{Namespaces, JailConfig, PreparedIsolation, RootSource};
//!
//! let config = JailConfig {
//!     rootfs: RootSource::Dir("/".into()),
//!     isolation: Namespaces { pid: true, uts: true, ..Namespaces::default() },
//!     ..JailConfig::default()
//! };
//! let prepared = PreparedIsolation::new(&config)?; // before the fork: may allocate
//! let argv = [c"/bin/sh".as_ptr(), std::ptr::null()];
//! let envp = [std::ptr::null()];
//! // SAFETY: fork; the child only makes system calls on prepared data.
//! let pid = unsafe { libc::fork() };
//! if pid == 0 {
//!     // ... the embedder's own setup (login_tty, dup2 ...) ...
//!     // SAFETY: a single-threaded child of fork, before exec.
//!     if unsafe { voidbox::apply_isolation_in_child(&prepared) }.is_err() {
//!         unsafe { libc::_exit(127) };
//!     }
//!     unsafe { libc::execve(argv[0], argv.as_ptr(), envp.as_ptr()) };
//!     unsafe { libc::_exit(127) };
//! }
//! # Ok::<(), voidbox::Error>(())
//! ```

use vb_fs::MountPlan;
use vb_proc::{ChildFailure, InChildPlan, InChildSpec, Origin};

use crate::config::JailConfig;
use crate::error::Error;
use crate::hooks::ChildHookSet;
use crate::validate::effective_isolation;
use crate::warning::Warning;
use crate::{fs_glue, net_glue};

/// Everything [`apply_isolation_in_child`] needs, prepared before the fork.
///
/// Keep it alive until the sandbox has ended: without a root switch
/// ([`RootSource::Host`](crate::RootSource::Host)), data staged for `--bind-data`-style
/// actions lives in a private directory on the host, which dropping this
/// value removes.
#[derive(Debug)]
pub struct PreparedIsolation {
    plan: InChildPlan,
    fs: Option<MountPlan>,
    loopback: bool,
    warnings: Vec<Warning>,
}

impl PreparedIsolation {
    /// Prepare `config`'s isolation. The command, environment, working
    /// directory and standard streams are the caller's business in this mode
    /// and are ignored; options that need the launcher's cooperation (cgroup
    /// limits, status descriptors, networking) are refused.
    pub fn new(config: &JailConfig) -> Result<Self, Error> {
        crate::validate::reject_unsupported(config)?;
        if !config.namespace_fds.is_empty() {
            return Err(Error::Unsupported(
                "namespace_fds with apply_isolation_in_child",
            ));
        }
        if !config.resources.is_empty() {
            return Err(Error::Unsupported(
                "resources with apply_isolation_in_child",
            ));
        }
        if config.network.is_some() {
            return Err(Error::Unsupported("network with apply_isolation_in_child"));
        }
        if config.status.info_fd.is_some()
            || config.status.json_status_fd.is_some()
            || config.status.event_fd.is_some()
        {
            return Err(Error::Unsupported(
                "status descriptors with apply_isolation_in_child",
            ));
        }
        let iso = effective_isolation(config);
        let plan = InChildPlan::prepare(&InChildSpec {
            namespaces: iso,
            uid: config.process.uid,
            gid: config.process.gid,
            hostname: config.runtime.hostname.clone(),
            die_with_parent: config.process.die_with_parent,
            as_pid_1: config.runtime.as_pid_1,
            security: crate::security_glue::security_spec(config, &iso),
        })?;
        let mut warnings = crate::validate::config_warnings(config);
        warnings.extend(crate::validate::landlock_warning(config, plan.security())?);
        if !warnings.is_empty() && config.runtime.fail_on_runtime_warnings {
            return Err(Error::RuntimeWarnings(warnings));
        }
        let fs = if iso.mount {
            Some(fs_glue::compile(config, &iso, Vec::new())?)
        } else {
            None
        };
        Ok(Self {
            plan,
            fs,
            loopback: iso.net,
            warnings,
        })
    }

    /// The runtime warnings of this configuration: what it asks for that the
    /// host does not give (a label without SELinux, Landlock rules the
    /// kernel cannot enforce in full).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The error a failure returned by [`apply_isolation_in_child`] stands for
    /// (call it where allocating is allowed, e.g. in the parent after the
    /// child sent the failure over a pipe).
    pub fn describe(&self, failure: ChildFailure) -> Error {
        let source = failure.io_error();
        match failure.origin {
            Origin::Filesystem => match &self.fs {
                Some(fs) => fs
                    .describe(vb_fs::FsFailure {
                        step: failure.step,
                        index: failure.index,
                        errno: failure.errno,
                    })
                    .into(),
                None => vb_proc::ProcError::Child(failure).into(),
            },
            Origin::Network => net_glue::describe(failure.step, source),
            Origin::Process => {
                crate::child_error::describe_process_step(failure, None, None, source)
            }
            Origin::Security => crate::child_error::describe_security_step(
                failure,
                source,
                self.plan.security().landlock(),
            ),
        }
    }
}

/// Apply the prepared isolation in the calling process, a child the caller
/// forked; return where the caller must exec. See [`vb_proc::InChildPlan::apply`]
/// for the order of the steps and for what happens with a PID namespace (the
/// process the caller forked waits and exits with the sandbox's status).
///
/// # Safety
///
/// Call only in a single-threaded child created by `fork`/`clone` (its parent
/// may have had threads), before `execve`: it allocates nothing and must not
/// be interrupted by code that does.
pub unsafe fn apply_isolation_in_child(prepared: &PreparedIsolation) -> Result<(), ChildFailure> {
    let hooks = ChildHookSet::new(prepared.fs.as_ref(), prepared.loopback);
    // SAFETY: the caller upholds the single-threaded-child contract.
    unsafe { prepared.plan.apply(&hooks.hooks()) }
}
