//! Attaching a sandbox to its bridge, and detaching it.
//!
//! Run in the parent after the clone, while the child waits at its gate (the child stays
//! allocation-free; it only brings `lo` up). In order:
//!
//! 1. Check the capabilities (before anything exists).
//! 2. Take the bridge's lock (`lock.rs`).
//! 3. Create the bridge if missing, give it the gateway address, bring it up (`bridge.rs`).
//! 4. With NAT: forwarding on, masquerade rules in place (`nat.rs`).
//! 5. Pick an address: the fixed one, or the first free pool offset from the probing hint
//!    (`pool.rs`), free meaning no host-side veth is named after it (`lease.rs`). Create
//!    the veth pair with the peer created directly inside the sandbox's namespace under
//!    its final name, so it never appears on the host; attach the host end to the bridge
//!    and bring it up.
//! 6. Release the lock.
//! 7. Inside the sandbox's namespace (a netlink socket opened there by a helper thread,
//!    see `netns.rs`): address(es) on the interface, up, default route(s) via the gateway.
//!
//! A failure at any step undoes what this attach made (under the lock again), keeping the
//! first error. A launcher killed at any point leaks nothing durable: its sandbox dies
//! when the launcher does (it waits at its gate), the namespace goes with it, and the veth
//! pair goes with the namespace. A bridge and NAT rules left without users by such a kill
//! (or by a launcher killed while its sandbox ran, once that sandbox ends) are removed by
//! the next teardown on this host namespace: on the same bridge as its last user, on any
//! other as a sweep of idle bridges. [`BridgePlan::prune`] does it on demand.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use vb_netlink::{AddressOptions, IfName, Netlink, Netns, RouteSpec};

use crate::bridge::{self, BridgeRef, Release, keep_first};
use crate::command::{Runner, SystemRunner};
use crate::error::Error;
use crate::lock::BridgeLock;
use crate::nat::{self, NatRules};
use crate::netns::{self, SandboxNetns};
use crate::privilege;
use crate::spec::BridgePlan;

/// `0.0.0.0/0`; a constant the compiler checks (a panic here would fail the build).
const DEFAULT_V4: Ipv4Network = match Ipv4Network::new_checked(Ipv4Addr::UNSPECIFIED, 0) {
    Some(n) => n,
    None => panic!("0.0.0.0/0 is a network"),
};
/// `::/0`, likewise.
const DEFAULT_V6: Ipv6Network = match Ipv6Network::new_checked(Ipv6Addr::UNSPECIFIED, 0) {
    Some(n) => n,
    None => panic!("::/0 is a network"),
};

/// A sandbox attached to its bridge. Call [`Attachment::teardown`] when the sandbox has
/// ended (or its launch failed); dropping an attachment that was not torn down does it,
/// ignoring errors.
#[derive(Debug)]
pub struct Attachment {
    bridge: BridgeRef,
    bridge_index: u32,
    host_veth: IfName,
    host_veth_index: u32,
    ifname: IfName,
    address: Ipv4Network,
    gateway: Ipv4Addr,
    address6: Option<Ipv6Network>,
    gateway6: Option<Ipv6Addr>,
    state_dir: PathBuf,
    host_netns: OwnedFd,
    host_netns_id: u64,
    torn_down: bool,
}

/// What an attach created, for its rollback.
#[derive(Debug, Default)]
struct Created {
    bridge: bool,
    nat: bool,
    /// The host end's name (under the lock, no other sandbox can take it meanwhile).
    veth: Option<IfName>,
}

/// The host side made by step 5.
struct HostSide {
    bridge_index: u32,
    offset: u32,
    host_veth: IfName,
    host_veth_index: u32,
}

impl BridgePlan {
    /// Attaches the sandbox whose network namespace is `sandbox` to the bridge, as the
    /// module documentation describes. The calling thread's network namespace is the
    /// host's.
    ///
    /// # Errors
    /// [`Error::MissingCapability`] without `CAP_NET_ADMIN`/`CAP_SYS_ADMIN`;
    /// [`Error::NotABridge`], [`Error::SubnetMismatch`] for an unusable bridge;
    /// [`Error::PoolExhausted`], [`Error::AddressInUse`]; [`Error::InterfaceExists`] when
    /// the sandbox already has an interface of that name; NAT errors; netlink, lock and
    /// namespace errors naming their step. Nothing this call created is left behind.
    pub fn attach(&self, sandbox: &SandboxNetns) -> Result<Attachment, Error> {
        privilege::check()?;
        let host_netns = netns::open_current()?;
        let host_netns_id = netns::namespace_id(host_netns.as_fd())?;
        let bridge = BridgeRef::of(self);
        let mut nl = Netlink::open().map_err(Error::netlink(
            "opening a netlink socket in the host's namespace",
        ))?;
        let mut lock = BridgeLock::acquire(&self.state_dir, host_netns_id, self.bridge())?;
        let mut runner = SystemRunner;
        let mut created = Created::default();
        let host = match self.attach_host(
            &mut nl,
            &mut lock,
            sandbox,
            host_netns_id,
            &mut runner,
            &mut created,
        ) {
            Ok(host) => host,
            Err(e) => {
                // Undo only what this call made: a bridge or rules that existed before
                // (kept, or another launch's) are not this failure's to remove.
                if let Some(name) = created.veth
                    && let Ok(link) = nl.link_by_name(&name)
                {
                    let _ = nl.delete_link(link.index);
                }
                let what = Release {
                    nat: created.nat || created.bridge,
                    bridge: created.bridge,
                };
                let _ = bridge::release_if_unused(&mut nl, lock, &bridge, &mut runner, what);
                return Err(e);
            }
        };
        drop(lock);
        let mut attachment = Attachment {
            bridge,
            bridge_index: host.bridge_index,
            host_veth: host.host_veth,
            host_veth_index: host.host_veth_index,
            ifname: self.ifname,
            address: self.pool.network_at(host.offset),
            gateway: self.pool.gateway(),
            address6: self.pool6.map(|p| p.network_at(host.offset)),
            gateway6: self.pool6.map(|p| p.gateway()),
            state_dir: self.state_dir.clone(),
            host_netns,
            host_netns_id,
            torn_down: false,
        };
        if let Err(e) = attachment.configure_sandbox(sandbox) {
            let _ = attachment.teardown();
            return Err(e);
        }
        Ok(attachment)
    }

    /// Steps 3 to 5, under the lock.
    fn attach_host(
        &self,
        nl: &mut Netlink,
        lock: &mut BridgeLock,
        sandbox: &SandboxNetns,
        host_netns_id: u64,
        runner: &mut dyn Runner,
        created: &mut Created,
    ) -> Result<HostSide, Error> {
        let mut state = lock.read_state()?;
        let bridge_index = bridge::ensure(nl, lock, &mut state, self, &mut created.bridge)?;
        if state.keep != self.keep_bridge {
            state.keep = self.keep_bridge;
            lock.write_state(&state)?;
        }
        if self.nat {
            let v6 = self.pool6.is_some();
            nat::check_no_legacy_tables(v6)?;
            nat::enable_forwarding(v6)?;
            let uplink = crate::uplink::current(nl, host_netns_id)?;
            let uplink = uplink.to_string();
            if !nat::is_rule_safe_name(&uplink) {
                return Err(Error::UnsupportedUplinkName { name: uplink });
            }
            let rules = NatRules {
                bridge: self.bridge_name.clone(),
                bridge_index,
                uplink,
                v4: self.pool.subnet(),
                v6: self.pool6.map(|p| p.subnet()),
            };
            let backend = nat::resolve(self.nat_backend, runner)?;
            let key = rules.key(backend);
            // The guard: the same rules for the same bridge are already installed.
            if state.nat.as_deref() != Some(key.as_str()) {
                if let Some(old) = state.nat.take() {
                    nat::remove(runner, &self.bridge_name, &old)?;
                }
                // Recorded before running: if the command half-applies, teardown still
                // knows what to remove; a failure is recorded as such, so the next
                // launch replaces the rules instead of trusting them.
                state.nat = Some(key);
                lock.write_state(&state)?;
                created.nat = true;
                if let Err(e) = nat::apply(runner, backend, &rules) {
                    state.nat = Some(rules.failed_key(backend));
                    lock.write_state(&state)?;
                    return Err(e);
                }
            }
        }

        let prefix = crate::lease::LeasePrefix::of(&self.bridge);
        let links = nl
            .links()
            .map_err(Error::netlink("listing the host's links"))?;
        let used: std::collections::BTreeSet<u32> = links
            .iter()
            .filter_map(|l| prefix.offset(&l.name))
            .collect();
        let mut try_take = |offset: u32| -> Result<bool, Error> {
            let name = prefix
                .name(offset)
                .map_err(Error::netlink("naming the host-side veth"))?;
            match nl.add_veth(&name, &self.ifname, Some(Netns::Fd(sandbox.as_fd()))) {
                Ok(()) => {
                    created.veth = Some(name);
                    Ok(true)
                }
                // Either a link outside voidbox's knowledge holds the host-side name (the
                // lease is taken: the next address may do), or the sandbox already has an
                // interface of that name (no address will help).
                Err(e) if e.is_exists() => match nl.link_by_name(&name) {
                    Ok(_) => Ok(false),
                    Err(_) => Err(Error::InterfaceExists {
                        name: self.ifname.to_string(),
                    }),
                },
                Err(e) => Err(Error::privileged(format!(
                    "creating the veth pair {name} / {} (in the sandbox)",
                    self.ifname
                ))(e)),
            }
        };
        let chosen = match self.fixed {
            Some(offset) if !used.contains(&offset) && try_take(offset)? => Some(offset),
            Some(_) => None,
            None => {
                let hint = state.next.unwrap_or(0);
                self.pool
                    .allocate(hint, |o| used.contains(&o), &mut try_take)?
            }
        };
        let Some(offset) = chosen else {
            return Err(match self.fixed {
                Some(offset) => Error::AddressInUse {
                    address: self.pool.address(offset),
                    bridge: self.bridge_name.clone(),
                },
                None => Error::PoolExhausted {
                    bridge: self.bridge_name.clone(),
                    subnet: self.pool.subnet(),
                    size: self.pool.size(),
                },
            });
        };
        let host_veth = prefix
            .name(offset)
            .map_err(Error::netlink("naming the host-side veth"))?;
        let link = nl.link_by_name(&host_veth).map_err(Error::netlink(format!(
            "looking up the new veth {host_veth}"
        )))?;
        nl.set_link_master(link.index, Some(bridge_index))
            .map_err(Error::netlink(format!(
                "attaching {host_veth} to bridge {}",
                self.bridge
            )))?;
        nl.set_link_up(link.index, true)
            .map_err(Error::netlink(format!("bringing {host_veth} up")))?;
        if self.fixed.is_none() {
            state.next = Some(self.pool.next_hint(offset));
            lock.write_state(&state)?;
        }
        Ok(HostSide {
            bridge_index,
            offset,
            host_veth,
            host_veth_index: link.index,
        })
    }

    /// Removes the bridge and its NAT rules if no sandbox uses them, as the last
    /// teardown would: for a bridge left behind by a launcher that was killed. A bridge
    /// voidbox did not create is never deleted; `keep_bridge` is ignored here.
    ///
    /// # Errors
    /// Lock, netlink and NAT errors.
    pub fn prune(&self) -> Result<(), Error> {
        let host_netns_id = netns::current_id()?;
        let mut nl = Netlink::open().map_err(Error::netlink(
            "opening a netlink socket in the host's namespace",
        ))?;
        let lock = BridgeLock::acquire(&self.state_dir, host_netns_id, self.bridge())?;
        let bridge = BridgeRef {
            keep: false,
            ..BridgeRef::of(self)
        };
        bridge::release_if_unused(&mut nl, lock, &bridge, &mut SystemRunner, Release::ALL)
    }
}

impl Attachment {
    /// Step 7: the sandbox's end, configured through a socket opened in its namespace.
    fn configure_sandbox(&self, sandbox: &SandboxNetns) -> Result<(), Error> {
        let mut nl = netns::in_netns(
            sandbox.as_fd(),
            "entering the sandbox's network namespace",
            Netlink::open,
        )?
        .map_err(Error::netlink(
            "opening a netlink socket in the sandbox's namespace",
        ))?;
        let ifname = self.ifname;
        let index = nl
            .link_by_name(&ifname)
            .map_err(Error::netlink(format!(
                "looking up {ifname} in the sandbox"
            )))?
            .index;
        nl.add_address(index, self.address.into(), AddressOptions::default())
            .map_err(Error::netlink(format!(
                "adding {} to {ifname} in the sandbox",
                self.address
            )))?;
        if let Some(a6) = self.address6 {
            // No duplicate address detection: the pool guarantees uniqueness, and the
            // address must be usable as soon as the command starts.
            nl.add_address(index, a6.into(), AddressOptions { nodad: true })
                .map_err(Error::netlink(format!(
                    "adding {a6} to {ifname} in the sandbox"
                )))?;
        }
        nl.set_link_up(index, true).map_err(Error::netlink(format!(
            "bringing {ifname} up in the sandbox"
        )))?;
        let mut routes = vec![(IpNetwork::V4(DEFAULT_V4), IpAddr::V4(self.gateway))];
        if let Some(gw6) = self.gateway6 {
            routes.push((IpNetwork::V6(DEFAULT_V6), IpAddr::V6(gw6)));
        }
        for (default, gateway) in routes {
            nl.add_route(&RouteSpec::new(default).gateway(gateway).oif(index))
                .map_err(Error::netlink(format!(
                    "adding the default route via {gateway} in the sandbox"
                )))?;
        }
        Ok(())
    }

    /// The sandbox's IPv4 address with the subnet's prefix length.
    #[must_use]
    pub fn address(&self) -> Ipv4Network {
        self.address
    }

    /// The IPv4 gateway (the bridge's address).
    #[must_use]
    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }

    /// The sandbox's IPv6 address, with an IPv6 subnet.
    #[must_use]
    pub fn address_v6(&self) -> Option<Ipv6Network> {
        self.address6
    }

    /// The IPv6 gateway, with an IPv6 subnet.
    #[must_use]
    pub fn gateway_v6(&self) -> Option<Ipv6Addr> {
        self.gateway6
    }

    /// The interface's name inside the sandbox.
    #[must_use]
    pub fn ifname(&self) -> &IfName {
        &self.ifname
    }

    /// The host-side veth's name.
    #[must_use]
    pub fn host_veth(&self) -> &IfName {
        &self.host_veth
    }

    /// The bridge's name.
    #[must_use]
    pub fn bridge(&self) -> &IfName {
        &self.bridge.name
    }

    /// The bridge's interface index in the host's namespace.
    #[must_use]
    pub fn bridge_index(&self) -> u32 {
        self.bridge_index
    }

    /// Whether [`Attachment::teardown`] has completed.
    #[must_use]
    pub fn is_torn_down(&self) -> bool {
        self.torn_down
    }

    /// Detaches the sandbox: deletes the host-side veth (already gone is fine: it goes
    /// with the sandbox's namespace), then, if no other sandbox uses the bridge and it is
    /// not to be kept, the NAT rules and the bridge (if voidbox created it).
    ///
    /// Runs in the host namespace the attachment was made in, from whatever thread calls
    /// it. Idempotent: once it has succeeded, further calls do nothing. After an error a
    /// later call tries again.
    ///
    /// # Errors
    /// The first error among the steps; every step is tried.
    pub fn teardown(&mut self) -> Result<(), Error> {
        if self.torn_down {
            return Ok(());
        }
        let result = if netns::current_id().ok() == Some(self.host_netns_id) {
            self.teardown_here()
        } else {
            let this = &*self;
            netns::in_netns(
                self.host_netns.as_fd(),
                "entering the host's network namespace for teardown",
                || this.teardown_here(),
            )
            .and_then(|r| r)
        };
        if result.is_ok() {
            self.torn_down = true;
        }
        result
    }

    fn teardown_here(&self) -> Result<(), Error> {
        let mut nl = Netlink::open().map_err(Error::netlink(
            "opening a netlink socket in the host's namespace",
        ))?;
        let lock = BridgeLock::acquire(
            &self.state_dir,
            self.host_netns_id,
            &self.bridge.name.to_string(),
        )?;
        let mut first = None;
        // By index, confirmed by name: indexes are not reused soon, names are (another
        // sandbox may get this address, hence this name, once this veth is gone).
        match nl.link_by_index(self.host_veth_index) {
            Ok(link) if link.name == self.host_veth => match nl.delete_link(link.index) {
                Err(e) if !e.is_not_found() => keep_first(
                    &mut first,
                    Err(Error::netlink(format!("deleting {}", self.host_veth))(e)),
                ),
                _ => {}
            },
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => keep_first(
                &mut first,
                Err(Error::netlink(format!("looking up {}", self.host_veth))(e)),
            ),
        }
        keep_first(
            &mut first,
            bridge::release_if_unused(&mut nl, lock, &self.bridge, &mut SystemRunner, Release::ALL),
        );
        bridge::sweep_idle(
            &mut nl,
            &self.state_dir,
            self.host_netns_id,
            &self.bridge.name,
            &mut SystemRunner,
        );
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let _ = self.teardown();
    }
}
