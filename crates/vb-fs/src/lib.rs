//! vb-fs: the sandbox's filesystem — bubblewrap's filesystem actions as a
//! mount plan, compiled in the parent and executed in the sandbox child with
//! raw system calls only.
//!
//! ```
//! use vb_fs::{BindMode, FsAction, FsSpec, MountPlan, RootSource};
//!
//! // bubblewrap's default root: an empty tmpfs, filled by the actions in order.
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
//! // In the sandbox child (a new mount namespace), after the id switch:
//! //     if let Err(failure) = plan.execute(&vb_fs::RealSys) { /* report it */ }
//! // and in the parent, for a reported failure: plan.describe(failure).
//! // Once the sandbox is over:
//! plan.finish()?;
//! # Ok::<(), vb_fs::FsError>(())
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
