//! vb-fs: the sandbox's filesystem — bubblewrap's filesystem actions as a
//! mount plan, compiled in the parent and executed in the sandbox child with
//! raw system calls only.
//!
//! ```
//! use vb_fs::{BindMode, FsAction, FsError, FsFailure, FsSpec, MountPlan, RealSys, RootSource};
//!
//! // In the parent. bubblewrap's default root: an empty tmpfs, filled by the
//! // actions in order. Everything bad input can make fail fails here.
//! let spec = FsSpec {
//!     root: RootSource::Tmpfs,
//!     mount_proc: true, // the sandbox has its own PID namespace
//!     actions: vec![
//!         FsAction::Bind { src: "/usr".into(), dest: "/usr".into(), mode: BindMode::ReadOnly, optional: false },
//!         FsAction::Symlink { target: "usr/bin".into(), link: "/bin".into() },
//!         FsAction::Proc { dest: "/proc".into() },
//!         FsAction::Dev { dest: "/dev".into() },
//!         FsAction::Tmpfs { dest: "/tmp".into(), size: Some(1 << 20), perms: Some(0o1777) },
//!     ],
//!     ..FsSpec::default()
//! };
//! let mut plan = MountPlan::compile(&spec)?;
//! assert!(!plan.is_empty());
//!
//! // In the sandbox child, in its new mount namespace, after the id switch:
//! // raw system calls on the prepared plan. A failure is three numbers,
//! // small enough to send to the parent in a fixed-size report.
//! fn in_child(plan: &MountPlan) -> Result<(), FsFailure> {
//!     plan.execute(&RealSys)
//! }
//!
//! // Back in the parent, a reported failure becomes bubblewrap's message.
//! fn reported(plan: &MountPlan, failure: FsFailure) -> FsError {
//!     plan.describe(failure)
//! }
//!
//! // Once the sandbox is over, whether it ran or failed to start:
//! plan.finish()?;
//! # Ok::<(), FsError>(())
//! ```
//!
//! # How it works
//!
//! [`MountPlan::compile`] does everything that can fail on bad input: it
//! canonicalises sources, reads `--file`/`--bind-data` descriptors from
//! their offset to their end, builds every path and mount option string, and
//! refuses what bubblewrap refuses, with bubblewrap's message; the plan holds
//! the caller's descriptors it names until it is dropped.
//! [`MountPlan::execute`] then runs the operations in order without
//! allocating or locking, so it is safe in a raw clone of a multi-threaded
//! process. A failure comes back as a
//! [`FsFailure`] (step code, operation index, errno) that
//! [`MountPlan::describe`] turns back into bubblewrap's message in the parent.
//!
//! The root switch is bubblewrap's two-step `pivot_root`: sources are read
//! from the old root at `/oldroot`, destinations are built under `/newroot`,
//! missing parents are created (0755, narrowed like `--perms`), and the old
//! root is detached at the end. Destinations resolve *inside* the new root
//! (`openat2` with `RESOLVE_IN_ROOT`): a symlink in a destination cannot lead
//! out of the sandbox. Binds use the new mount API (`open_tree`,
//! `mount_setattr(AT_RECURSIVE)`, `move_mount`), so a read-only bind is
//! read-only on every submount at a cost linear in the tree it copies; on
//! kernels without it the plan falls back to bubblewrap's `mount(2)` method,
//! still on the resolved descriptors. Without `openat2` (before Linux 5.6)
//! a plan that would resolve destinations below a new root is refused rather
//! than resolved unsafely.
//!
//! A failure undoes what the earlier operations changed on filesystems shared
//! with the host (directories created in a bound host directory or a
//! `--rootfs`, modes changed), last first, before it is reported. A
//! `--bind-data` file lives in the setup root, a tmpfs invisible outside the
//! sandbox; without a root switch it lives in a private host directory that
//! [`MountPlan::finish`] removes.
//!
//! The system calls go through the [`Sys`] trait: [`RealSys`] is the kernel;
//! tests substitute a recorder to check the order of operations, the rollback
//! and the cleanup on a failure at every step, without privileges.
//!
//! # Module layering
//!
//! Modules import downward only; the crate's import graph has no cycle. From
//! the bottom:
//!
//! 1. `action` and `spec` (the public input), `op` (the compiled operations:
//!    plain data that imports nothing else of the crate) and `failure` (the
//!    failure report and step codes both sides share).
//! 2. `error`: [`FsError`] and the helpers that word its messages.
//! 3. Three sides of the same operations, none of which imports another:
//!    `compile/` builds them in the parent (with `artifacts`, the host
//!    directory, and `detail`, the detail pipe); `child/` runs them between
//!    clone and exec, and denies clippy's allocating types and macros so the
//!    no-allocation rule is checked by the compiler; `describe` turns a
//!    child's failure report back into an [`FsError`] in the parent.
//! 4. `plan`: [`MountPlan`], which ties the three together.
//!
//! Inside `compile/` and `child/` the same holds; each folder's `mod.rs`
//! says its order.

#![warn(missing_docs)]

// The README's example, compiled with the crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctest;

mod action;
mod artifacts;
mod child;
mod compile;
mod describe;
mod detail;
mod error;
mod failure;
mod op;
mod plan;
mod spec;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub use action::{BindMode, DataSource, FsAction};
pub use child::sys::{AT_FDCWD, FileInfo, RealSys, Sys};
pub use error::FsError;
pub use failure::FsFailure;
pub use plan::MountPlan;
pub use spec::{FsSpec, MountApi, RootSource, RootSwitch};
