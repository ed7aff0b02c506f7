//! Everything that runs in the sandbox child, between the clone (or the
//! caller's own fork) and `execve`.
//!
//! The child is a copy of one thread of a process that may have many: a
//! lock another thread held — the allocator's, stdio's, the environment's —
//! stays held forever there. So the code here only makes system calls on
//! data the parent prepared ([`crate::plan`], and the plans of
//! [`crate::security`], [`crate::join`], [`crate::command`],
//! [`crate::landlock`]): no allocation, no lock, no panic. Clippy holds it
//! to that: the allocating types and macros of the workspace's
//! `clippy.toml` are denied in every module below.
//!
//! A module here that shares its name with one a level up is that plan's
//! child side: `security.rs` prepares a `SecurityPlan` in the parent and
//! `child/security.rs` applies it. `cloned.rs` is the child vb-proc clones,
//! in its fixed order; `caller_fork.rs` is
//! [`InChildPlan::apply`](crate::InChildPlan::apply), for a child the caller
//! forked; `reaper.rs` is the PID-1 reaper both fork; `steps.rs` holds the
//! steps they share. Every system call goes through the `ChildSys` trait of
//! `sys.rs`, whose recording fake (`fake.rs`) lets `tests.rs` check the
//! order of the steps and the failure each one reports.

#![deny(clippy::disallowed_types, clippy::disallowed_macros)]

mod caller_fork;
pub(crate) mod cloned;
mod command;
pub(crate) mod fds;
mod join;
mod landlock;
mod raw;
pub(crate) mod reaper;
mod report;
mod security;
mod steps;
mod sys;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub(crate) use cloned::child_main;
pub use reaper::{FORWARDED_SIGNALS, is_forwarded, shell_code};
