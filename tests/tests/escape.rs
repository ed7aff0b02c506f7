//! The adversarial suite: each test tries to undo a protection from inside the
//! sandbox — as root and as uid 65534, with and without `--uid 0` — and
//! asserts that the attempt fails. Every hole an adversarial review found has
//! its regression test here; `docs/security.md` names them.
//!
//! The tests are grouped by what they attack: the filesystem (mounts, the
//! root, staged data), the processes and descriptors of the sandbox
//! (capabilities, pid 1, inherited descriptors, seccomp), and what the
//! sandbox keeps apart (the old root, the host's processes, the operations
//! that need a capability).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "escape/fs.rs"]
mod fs;
#[path = "escape/isolation.rs"]
mod isolation;
#[path = "escape/landlock.rs"]
mod landlock;
#[path = "escape/proc.rs"]
mod proc;
