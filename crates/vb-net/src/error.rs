//! The crate's error type: one variant per failing step, each naming what failed.

use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use ipnetwork::Ipv4Network;

use crate::command::Termination;

/// Everything that can go wrong while planning, attaching or tearing down a sandbox's
/// network.
///
/// Variants are grouped by phase: [`Error::InvalidSpec`] comes from
/// [`BridgePlan::new`](crate::BridgePlan::new), before anything exists; the others from
/// [`BridgePlan::attach`](crate::BridgePlan::attach), [`Attachment::teardown`](crate::Attachment::teardown)
/// and the pasta helper.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field of the [`NetworkSpec`](crate::NetworkSpec) is malformed or contradicts
    /// another one.
    #[error("network option `{field}` = {value:?}: {reason}")]
    InvalidSpec {
        /// The field, as named in `NetworkSpec`.
        field: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The caller lacks a capability the step needs.
    #[error(
        "{what} needs {capability} in the host's network namespace: run as root or grant \
         {capability} (an unprivileged sandbox can use pasta instead)"
    )]
    MissingCapability {
        /// The step.
        what: String,
        /// The capability (`CAP_NET_ADMIN`, `CAP_SYS_ADMIN`).
        capability: &'static str,
    },
    /// A netlink request failed.
    #[error("{step}: {source}")]
    Netlink {
        /// What was being done, with the object's name.
        step: String,
        /// The netlink error.
        #[source]
        source: vb_netlink::Error,
    },
    /// The bridge's name is taken by a link of another kind.
    #[error("{name} exists in the host's network namespace but is {kind}, not a bridge")]
    NotABridge {
        /// The name.
        name: String,
        /// The link's kind (`"veth"`, `"a device without a kind"`, …).
        kind: String,
    },
    /// The bridge exists with IPv4 addresses, none of them the planned gateway.
    #[error(
        "bridge {bridge} carries {found} but not the gateway {wanted}: it serves another \
         subnet (choose another bridge name or that subnet)"
    )]
    SubnetMismatch {
        /// The bridge.
        bridge: String,
        /// The addresses it carries.
        found: String,
        /// The gateway address with its prefix.
        wanted: String,
    },
    /// Every address of the pool is leased.
    #[error(
        "the address pool of {subnet} on bridge {bridge} is exhausted: all {size} addresses \
         are in use"
    )]
    PoolExhausted {
        /// The bridge.
        bridge: String,
        /// The subnet.
        subnet: Ipv4Network,
        /// How many addresses the pool has.
        size: u32,
    },
    /// The fixed address asked for is leased to another sandbox.
    #[error("address {address} is already in use on bridge {bridge}")]
    AddressInUse {
        /// The address.
        address: Ipv4Addr,
        /// The bridge.
        bridge: String,
    },
    /// The sandbox's namespace already has an interface with the planned name.
    #[error("an interface named {name} already exists in the sandbox's network namespace")]
    InterfaceExists {
        /// The interface name.
        name: String,
    },
    /// A file operation failed (state directory, lock file, sysctl, namespace file).
    #[error("{step} {}: {source}", path.display())]
    Io {
        /// What was being done.
        step: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// Another process held the bridge's lock for too long.
    #[error("timed out after {secs} s waiting for the lock {}", path.display())]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long was waited.
        secs: u64,
    },
    /// Entering a network namespace (or starting the thread that does) failed.
    #[error("{step}: {source}")]
    Namespace {
        /// What was being done.
        step: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// NAT was asked for, but the host has no IPv4 default route to masquerade out of.
    #[error("NAT needs an outgoing interface, but the host has no IPv4 default route")]
    NoDefaultRoute,
    /// The outgoing interface's name has characters a firewall rule cannot quote safely.
    #[error("the outgoing interface's name {name:?} cannot be written into a firewall rule")]
    UnsupportedUplinkName {
        /// The name.
        name: String,
    },
    /// Neither nftables nor iptables-nft is installed.
    #[error(
        "NAT needs nftables (the `nft` command, Debian package `nftables`) or iptables-nft \
         (Debian package `iptables`); neither was found"
    )]
    NoNatBackend,
    /// The only iptables available is the legacy (x_tables) variant.
    #[error(
        "the installed iptables is the legacy variant ({version}); voidbox writes nftables \
         rules only: install nftables (`nft`) or switch iptables to iptables-nft"
    )]
    LegacyIptablesOnly {
        /// What `iptables --version` printed.
        version: String,
    },
    /// Legacy iptables tables are loaded in the host's namespace: adding nftables rules
    /// would mix the two.
    #[error(
        "legacy iptables tables are loaded in the host's network namespace ({tables}); \
         voidbox does not mix nftables rules with legacy iptables rules"
    )]
    LegacyIptablesInUse {
        /// The tables listed in `/proc/net/ip_tables_names`.
        tables: String,
    },
    /// An external program could not be started.
    #[error("cannot run {program}: {source}{hint}")]
    CommandSpawn {
        /// The program.
        program: String,
        /// A hint naming the package that provides it, or empty.
        hint: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// An external program ran and failed.
    #[error("`{command}` {termination}{}", stderr_suffix(stderr))]
    CommandFailed {
        /// The command line.
        command: String,
        /// How it ended.
        termination: Termination,
        /// What it printed on standard error (trimmed).
        stderr: String,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

impl Error {
    /// A netlink error with the step it failed in.
    pub(crate) fn netlink(step: impl Into<String>) -> impl FnOnce(vb_netlink::Error) -> Self {
        let step = step.into();
        move |source| Self::Netlink { step, source }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(
        step: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { step, path, source }
    }

    /// A netlink error with the step it failed in, where a refusal for lack of privilege
    /// (`EPERM`) becomes [`Error::MissingCapability`] naming `CAP_NET_ADMIN`.
    pub(crate) fn privileged(step: impl Into<String>) -> impl FnOnce(vb_netlink::Error) -> Self {
        let step = step.into();
        move |source| match source {
            vb_netlink::Error::Kernel { errno, .. } if errno == rustix::io::Errno::PERM => {
                Self::MissingCapability {
                    what: step,
                    capability: "CAP_NET_ADMIN",
                }
            }
            source => Self::Netlink { step, source },
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
