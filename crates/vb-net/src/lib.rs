//! vb-net: container networking for voidbox — every setup decision, built on the wire
//! format and client of `vb-netlink`.
//!
//! Three ways to give a sandbox a network, each usable without the rest of voidbox:
//!
//! - **Loopback only** ([`LoopbackSetup`]): `lo` up with 127.0.0.1/8 in a new network
//!   namespace, from the freshly cloned child, allocation-free.
//! - **Bridge** ([`NetworkSpec`] → [`BridgePlan`] → [`Attachment`]): a veth pair from a
//!   host bridge into the sandbox, an address from the bridge's pool, a default route via
//!   the gateway, optional NAT, a `resolv.conf` to bind in. Needs `CAP_NET_ADMIN`.
//! - **Rootless** ([`Pasta`]): `pasta` relays the sandbox's traffic through the caller's
//!   own sockets.
//!
//! # Example
//!
//! The order relative to the sandbox's clone: plan before it, attach after it (while the
//! child waits), tear down after the wait.
//!
//! ```no_run
//! use std::os::fd::AsFd;
//! use vb_net::{BridgePlan, NetworkSpec, SandboxNetns};
//!
//! // Before the clone: check the input; nothing is created yet.
//! let plan = BridgePlan::new(&NetworkSpec {
//!     nat: true,
//!     dns: vec!["192.0.2.53".into()],
//!     ..NetworkSpec::default()
//! })?;
//! let resolv_conf = plan.resolv_conf(); // bind it at /etc/resolv.conf in the sandbox
//!
//! // ... clone the child with CLONE_NEWNET and CLONE_PIDFD; it waits at its gate ...
//! # let pidfd: std::os::fd::OwnedFd = unimplemented!();
//!
//! // After the clone, in the parent: the host side and the sandbox's end.
//! let sandbox = SandboxNetns::from_pidfd(pidfd.as_fd())?;
//! let mut attachment = plan.attach(&sandbox)?;
//! println!("sandbox address {}", attachment.address());
//!
//! // ... open the gate; the child brings `lo` up and executes the command; wait ...
//!
//! attachment.teardown()?;
//! # Ok::<(), vb_net::Error>(())
//! ```
//!
//! # What is created and removed
//!
//! See `docs/networking.md` in the repository for the topology, the defaults and the NAT
//! backend choice. In short: the bridge (created if missing, marked with the alias
//! [`MANAGED_ALIAS`]) carries the gateway; each sandbox gets a veth pair whose host end,
//! named after the sandbox's address, is the address's lease; the bridge's NAT rules live
//! in a table or chain of their own. Teardown removes the veth, and with the last sandbox
//! of a bridge the NAT rules and the bridge (only a bridge voidbox created). All
//! decisions that read and then change the host's state run under a per-bridge lock file,
//! so concurrent launches from any number of processes see each other's results.
//!
//! # Testing
//!
//! Unit tests cover the pool arithmetic (with property tests over allocation), lease
//! names, NAT rule text and command sequences (with a recording fake runner), the
//! `resolv.conf` text, input validation and the lock. As root, tests run in throwaway
//! network namespaces of their own test threads; without root they print
//! `SKIP <name>: <reason>`. The workspace's `tests/tests/lib_net.rs` exercises the whole
//! setup as root against real sandboxes and TCP traffic inside test-made namespaces.

#![warn(missing_docs)]

mod attach;
mod bridge;
mod command;
mod error;
mod lease;
mod lock;
mod loopback;
mod nat;
mod netns;
mod pasta;
mod pool;
mod privilege;
mod resolv;
mod spec;
#[cfg(test)]
mod testns;
mod uplink;

/// The `vb-netlink` crate, whose types ([`vb_netlink::IfName`]) this crate's API uses.
pub use vb_netlink;

pub use attach::Attachment;
pub use bridge::MANAGED_ALIAS;
pub use command::Termination;
pub use error::{Error, Result};
pub use loopback::{LoopbackError, LoopbackSetup, LoopbackStep};
pub use nat::{NatBackend, available_nat_backend};
pub use netns::SandboxNetns;
pub use pasta::{Pasta, PastaSpec};
pub use resolv::{MAX_NAME_SERVERS, resolv_conf};
pub use spec::{
    BridgePlan, DEFAULT_BRIDGE, DEFAULT_IFNAME, DEFAULT_STATE_DIR, DEFAULT_SUBNET, NetworkSpec,
};

// The README's example is compiled with the doctests, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
