//! voidbox: run a program in a Linux sandbox — new namespaces, a composed root
//! filesystem, resource limits, networking and a security policy — from Rust.
//!
//! ```no_run
//! use voidbox::{Namespaces, JailConfig, RootSource};
//!
//! let config = JailConfig {
//!     rootfs: RootSource::Dir("/".into()),
//!     cmd: vec!["/bin/sh".into(), "-c".into(), "echo hello from voidbox".into()],
//!     isolation: Namespaces::ALL,
//!     ..JailConfig::default()
//! };
//! let status = voidbox::launch(&config)?;
//! assert!(status.success());
//! # Ok::<(), voidbox::Error>(())
//! ```
//!
//! Or, closer to `std::process`:
//!
//! ```no_run
//! let out = voidbox::Command::new("hostname").hostname("box").output()?;
//! assert_eq!(out.stdout, b"box\n");
//! # Ok::<(), voidbox::Error>(())
//! ```
//!
//! [`spawn`] returns a [`Session`] once the command runs; [`Session::wait`]
//! (once) returns its [`ExitStatus`]. Status events go to
//! [`StatusOptions::on_event`] and to bubblewrap-format descriptors, in the
//! order `runtime_init_warnings` (if any), `spawned`, `setup_finished`,
//! `exited`.
//!
//! The subsystems are separate crates usable on their own: `vb-proc` (clone,
//! handshake, PID 1), `vb-fs` (mount plan), `vb-cgroup`, `vb-net` and
//! `vb-netlink`. See `docs/architecture.md` in the repository.

#![warn(missing_docs)]

mod cgroup_glue;
mod child_error;
mod command;
mod config;
mod error;
mod event;
mod fs_glue;
mod hooks;
mod host;
mod in_child;
mod json;
mod net_glue;
mod security_glue;
mod session;
mod shell;
mod spawn;
mod status;
mod validate;
mod warning;

pub use command::{Command, Output};
pub use config::{
    BindMode, DataSource, EnvOp, EventCallback, FsAction, HandOff, JailConfig, LimitKind,
    NamespaceFds, Namespaces, NatBackend, NetworkOptions, NetworkSpec, PastaSpec, ProcessOptions,
    ResourceLimits, RootSource, RuntimeOptions, SecurityOptions, ShellConfig, StatusOptions, Stdio,
};
pub use error::Error;
pub use event::{SetupStep, StatusEvent, StatusEventKind};
pub use host::{CgroupMode, HostReport, NamespaceSupport, check_host};
pub use in_child::{PreparedIsolation, apply_isolation_in_child};
pub use session::{Session, wait};
pub use shell::{default_shell_config, launch_shell};
pub use spawn::{launch, spawn};
pub use status::ExitStatus;
pub use vb_cgroup::CgroupError;
pub use vb_cgroup::LimitEvents;
pub use vb_proc::Termination;
pub use vb_proc::{
    BpfProgram, CapOp, Capability, ChildFailure, Enforcement, FilterError, LandlockSpec,
    PathAccess, PathRule, Rlimit, RlimitError, RlimitResource, SeccompPolicy, Signal, Syscall,
    UnknownCapability, UnknownSyscall, selinux_enabled,
};
pub use warning::Warning;

// The README's example is compiled with the doctests, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
