//! vb-net: container networking for voidbox — the setup decisions, built on the wire
//! format and client of `vb-netlink`.
//!
//! For now it holds the loopback bring-up of a new network namespace
//! ([`LoopbackSetup`]), which the freshly cloned child applies without allocating.
//!
//! # Example
//!
//! ```no_run
//! // Built in the parent before the clone; applied in the child after it.
//! let setup = vb_net::LoopbackSetup::new();
//! setup.apply()?;
//! # Ok::<(), vb_net::LoopbackError>(())
//! ```

#![warn(missing_docs)]

mod loopback;
#[cfg(test)]
mod testns;

pub use loopback::{LoopbackError, LoopbackSetup, LoopbackStep};
