//! vb-proc: the process core of voidbox — `clone3` into new namespaces, the
//! parent/child handshake, user and group id maps, the PID-1 reaper (the `vb-init`
//! program, built from `init/main.rs` by `build.rs` and carried in the library), and exec.
//!
//! ```
//! use vb_proc::{ChildHooks, ProcessPlan, ProcessSpec};
//!
//! let spec = ProcessSpec {
//!     command: vec!["/bin/sh".into(), "-c".into(), "exit 7".into()],
//!     env: std::env::vars_os().collect(),
//!     ..ProcessSpec::default()
//! };
//! let plan = ProcessPlan::prepare(&spec)?;
//! let pending = plan.clone_child(&ChildHooks::default(), None)?; // waits at the gate
//! let running = pending.release()?; // ids, gate, ack, exec
//! assert_eq!(running.wait()?.code(), 7);
//! # Ok::<(), vb_proc::ProcError>(())
//! ```
//!
//! # The pipeline
//!
//! 1. [`ProcessPlan::prepare`] builds every C string, the argument and
//!    environment arrays, the candidate executable paths and the working
//!    directory candidates in the parent.
//! 2. [`ProcessPlan::clone_child`] calls `clone3` with `CLONE_PIDFD`, the
//!    namespace flags and optionally `CLONE_INTO_CGROUP` (falling back to
//!    `clone` on `ENOSYS`). The child waits at a one-byte gate.
//! 3. [`Pending::release`] writes the id maps, opens the gate, then reads a
//!    one-byte acknowledgement (sent just before `execve`) and the failure
//!    pipe: a 16-byte [`ChildFailure`] frame, or end-of-file when `execve`
//!    succeeded. Each transfer is checked for length and value.
//! 4. [`Running::wait`] returns the command's [`Termination`].
//!
//! Other crates add child-side work through [`ChildHook`]s: the filesystem and
//! network hooks run before the PID-1 fork. vb-proc's own security context
//! comes last before exec, in the command's process only.
//!
//! [`InChildPlan`] applies the same isolation in a child the caller forked
//! itself, for embedders that need control of the fork.
//!
//! # Fork safety
//!
//! The child is a raw clone of a process that may have many threads. Until it
//! executes the command it runs only system calls on data prepared before the
//! clone: no allocation, no locks, no panics. Ids are switched with per-thread
//! raw system calls because glibc's `setresuid` would wait for the parent's
//! threads, which do not exist in the child. `ChildHook` implementations must
//! keep the same rule.
//!
//! All of the code that runs there lives in the private `child` module,
//! where clippy denies the allocating types and macros of the workspace's
//! `clippy.toml` (`Vec`, `String`, `Box`, `CString`, `format!`...); the
//! handshake functions and the frame encoder that both sides share deny
//! them item by item. The child makes its system calls through a small
//! trait, so the order of its steps and the failure frame of each are
//! unit-tested on a recording fake; the real implementation is a unit
//! struct whose methods are the calls themselves.
//!
//! # Module layering
//!
//! Modules import downward only, and no two import each other:
//!
//! 1. **Leaves**: data, wire formats and their parsers, importing nothing
//!    of the crate but other leaves — `status` ([`Termination`]),
//!    `namespaces`, `frame` (the failure frame), `errno`, `env`, `id_map`,
//!    [`rlimit`], [`seccomp`], [`report`], [`caps`], `command` (argv, envp,
//!    the search paths), [`filter`], [`landlock`], `hook` ([`ChildHook`]),
//!    `sync` (the handshake's bytes), `clone`.
//! 2. **Plans**, prepared in the parent: `security` ([`SecurityPlan`]),
//!    `error` ([`ProcError`]), [`join`], `caller_fork` ([`InChildPlan`]'s
//!    data), and `plan`, the `ChildPlan` the cloned child reads.
//! 3. **`child`**, the code between the clone and `execve`: it reads the
//!    plans and imports nothing above them. Inside it the real system calls
//!    (`sys`, with `fds`, `report`, `landlock` and the `reaper`) come first,
//!    then the shared `steps`, then the child's side of each plan
//!    (`security`, `join`, `command`), then the two sequences: `cloned`,
//!    the child vb-proc clones, and `caller_fork`, [`InChildPlan::apply`].
//! 4. **`spawn`**, the parent's side of a launch, on top: [`ProcessPlan`],
//!    the typestate [`Pending`] → [`Started`] → [`Running`].
//!
//! # Dying with the parent
//!
//! `die_with_parent` arms `PR_SET_PDEATHSIG`, which the kernel ties to the
//! *thread* that cloned the child: an embedder that spawns from a short-lived
//! thread should not use it.

#![warn(missing_docs)]

// The README's example, compiled with the doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("vb-proc supports x86_64 and aarch64 (raw clone argument order, seccomp ABIs)");

mod caller_fork;
pub mod caps;
mod child;
mod clone;
mod command;
mod env;
mod errno;
mod error;
pub mod filter;
mod frame;
mod hook;
mod id_map;
mod init;
pub mod join;
pub mod landlock;
mod namespaces;
mod plan;
pub mod report;
pub mod rlimit;
pub mod seccomp;
mod security;
mod spawn;
mod status;
mod sync;
mod syscalls;

pub use caller_fork::{InChildPlan, InChildSpec};
pub use caps::{CapOp, Capability, UnknownCapability};
pub use child::{FORWARDED_SIGNALS, is_forwarded, shell_code};
pub use clone::CLONE_INTO_CGROUP;
pub use command::{ExecError, ExecPlan};
pub use env::{EnvError, EnvOp, apply_env_ops, lookup};
pub use error::ProcError;
pub use filter::{FilterError, SeccompPolicy, Syscall, UnknownSyscall};
pub use frame::{ChildFailure, FRAME_LEN, FrameError, Origin, Step, StepFailure};
pub use hook::{ChildHook, ChildHooks};
pub use id_map::{IdMapError, IdMapping, write_id_maps};
pub use join::JoinNamespaces;
pub use landlock::{
    Enforcement, LandlockError, LandlockPlan, LandlockSpec, LandlockStep, PathAccess, PathRule,
};
pub use namespaces::{NamespaceKind, Namespaces};
pub use report::SandboxReport;
pub use rlimit::{Rlimit, RlimitError, RlimitResource};
pub use rustix::process::{Pid, Signal};
pub use seccomp::BpfProgram;
pub use security::{
    SandboxIds, SecurityError, SecurityPlan, SecuritySpec, SecurityStep, has_controlling_terminal,
    selinux_enabled,
};
pub use spawn::{MAX_LOCK_FILES, Pending, ProcessPlan, ProcessSpec, Running, Started};
pub use status::Termination;
pub use sync::{
    ACK_BYTE, ByteChannel, FdChannel, GATE_BYTE, READY_BYTE, SyncError, recv_failure, recv_token,
    send_token,
};
