//! vb-fs: the sandbox's filesystem — a mount plan compiled in the parent and
//! executed in the sandbox child with raw system calls only.
//!
//! ```
//! use vb_fs::{FsSpec, MountPlan, RootSource};
//!
//! // bubblewrap's two-step pivot into a directory, with a fresh /proc.
//! let spec = FsSpec { root: RootSource::Dir("/".into()), mount_proc: true, ..FsSpec::default() };
//! let plan = MountPlan::compile(&spec)?;
//! assert!(!plan.is_empty());
//! // In the sandbox child (a new mount namespace): plan.execute(&vb_fs::RealSys)
//! # Ok::<(), vb_fs::FsError>(())
//! ```
//!
//! The plan is a list of primitive operations (mount, bind, propagation change,
//! unmount, mkdir, chdir, pivot_root, chroot) whose paths are all prepared C
//! strings, so [`MountPlan::execute`] neither allocates nor locks and is safe in
//! a raw clone of a multi-threaded process. A failure is reported as a
//! [`FsFailure`] (operation kind, index, errno) that [`MountPlan::describe`]
//! turns back into a message in the parent.
//!
//! The system calls go through the [`Sys`] trait: [`RealSys`] is the kernel;
//! tests substitute a recorder to check the order of operations and the
//! behaviour on a failure at every step without privileges.

mod action;
mod error;
mod plan;
mod sys;

pub use action::{BindMode, DataSource, FsAction};
pub use error::FsError;
pub use plan::{FsFailure, FsSpec, MountPlan, RootSource, RootSwitch};
pub use sys::{RealSys, Sys};
