//! The host bridge: created when missing, given the gateway address and brought up; and
//! removed, with the NAT rules, when no sandbox uses it any more.
//!
//! A bridge voidbox creates carries the alias [`MANAGED_ALIAS`] (`ip link` shows it).
//! Only such a bridge is ever deleted: a bridge the administrator made keeps existing
//! after its last sandbox, though its NAT rules (which are voidbox's) are removed. The
//! kernel takes no alias in the request that creates a link, so the lock file records
//! `creating` across the two requests: an unmarked bridge found while it is still
//! recorded was made by a creator killed in between, and is voidbox's too.
//!
//! The bridge's users are counted from the kernel, under the bridge's lock: the host-side
//! veths named with the bridge's lease prefix (see `lease.rs`). A sandbox whose namespace
//! died took its veth with it, so it no longer counts, whether or not its launcher lived
//! to tear down.

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use vb_netlink::{AddressOptions, Family, IfName, Link, Netlink};

use crate::command::Runner;
use crate::error::Error;
use crate::lease::LeasePrefix;
use crate::lock::{BridgeLock, BridgeState};
use crate::nat;
use crate::spec::BridgePlan;

/// The alias marking a bridge voidbox created (and may therefore delete).
pub const MANAGED_ALIAS: &str = "voidbox: removed with its last sandbox";

/// With the lock held and its `state` read: makes sure the plan's bridge exists, carries
/// the gateway address(es) and is up; returns its index. Sets `created` as soon as it has
/// created the bridge. A bridge whose creator was killed before marking it (the lock file
/// still says `creating`) is marked now. `state` stays what the file holds.
pub(crate) fn ensure(
    nl: &mut Netlink,
    lock: &mut BridgeLock,
    state: &mut BridgeState,
    plan: &BridgePlan,
    created: &mut bool,
) -> Result<u32, Error> {
    let name = &plan.bridge;
    let link = match nl.link_by_name(name) {
        Ok(link) => {
            if state.creating {
                if link.alias.is_none() && link.kind.as_deref() == Some("bridge") {
                    mark(nl, &link)?;
                }
                state.creating = false;
                lock.write_state(state)?;
            }
            link
        }
        Err(e) if e.is_not_found() => {
            state.creating = true;
            lock.write_state(state)?;
            let link = create(nl, name)?;
            *created = true;
            state.creating = false;
            lock.write_state(state)?;
            link
        }
        Err(e) => return Err(Error::netlink(format!("looking up bridge {name}"))(e)),
    };
    if link.kind.as_deref() != Some("bridge") {
        return Err(Error::NotABridge {
            name: name.to_string(),
            kind: link.kind.map_or_else(
                || "a device without a kind".to_owned(),
                |k| format!("a {k}"),
            ),
        });
    }
    let gateway = Ipv4Network::new(plan.gateway(), plan.subnet().prefix()).map_err(|e| {
        Error::InvalidSpec {
            field: "subnet",
            value: plan.subnet().to_string(),
            reason: e.to_string(),
        }
    })?;
    let present = addresses_of(nl, link.index, Family::V4)?;
    if present.is_empty() {
        add_address(nl, &link, gateway.into(), false)?;
    } else if !present.contains(&IpNetwork::V4(gateway)) {
        let found: Vec<String> = present.iter().map(ToString::to_string).collect();
        return Err(Error::SubnetMismatch {
            bridge: name.to_string(),
            found: found.join(", "),
            wanted: gateway.to_string(),
        });
    }
    if let (Some(gw6), Some(subnet6)) = (plan.ipv6_gateway(), plan.ipv6_subnet()) {
        let gateway6 = Ipv6Network::new(gw6, subnet6.prefix()).map_err(|e| Error::InvalidSpec {
            field: "ipv6_subnet",
            value: subnet6.to_string(),
            reason: e.to_string(),
        })?;
        if !addresses_of(nl, link.index, Family::V6)?.contains(&IpNetwork::V6(gateway6)) {
            add_address(nl, &link, gateway6.into(), true)?;
        }
    }
    if !link.is_up() {
        nl.set_link_up(link.index, true)
            .map_err(Error::privileged(format!("bringing bridge {name} up")))?;
    }
    Ok(link.index)
}

/// Creates the bridge and marks it as voidbox's; a bridge that cannot be marked is
/// deleted again, so an unmarked bridge of ours never stays behind.
fn create(nl: &mut Netlink, name: &IfName) -> Result<Link, Error> {
    nl.add_bridge(name)
        .map_err(Error::privileged(format!("creating bridge {name}")))?;
    let link = nl
        .link_by_name(name)
        .map_err(Error::netlink(format!("looking up the new bridge {name}")))?;
    if let Err(e) = mark(nl, &link) {
        let _ = nl.delete_link(link.index);
        return Err(e);
    }
    Ok(link)
}

/// Gives the bridge voidbox's alias.
fn mark(nl: &mut Netlink, link: &Link) -> Result<(), Error> {
    nl.set_link_alias(link.index, MANAGED_ALIAS)
        .map_err(Error::netlink(format!(
            "marking bridge {} as voidbox's",
            link.name
        )))
}

fn addresses_of(nl: &mut Netlink, index: u32, family: Family) -> Result<Vec<IpNetwork>, Error> {
    Ok(nl
        .addresses(Some(family))
        .map_err(Error::netlink("listing the host's addresses"))?
        .into_iter()
        // Link-local IPv6 addresses come with every interface; they say nothing of the subnet.
        .filter(|a| a.index == index && !is_link_local(a.network))
        .map(|a| a.network)
        .collect())
}

fn is_link_local(net: IpNetwork) -> bool {
    match net {
        IpNetwork::V4(_) => false,
        IpNetwork::V6(n) => n.ip().segments()[0] & 0xffc0 == 0xfe80,
    }
}

fn add_address(
    nl: &mut Netlink,
    link: &Link,
    network: IpNetwork,
    nodad: bool,
) -> Result<(), Error> {
    match nl.add_address(link.index, network, AddressOptions { nodad }) {
        Ok(()) => Ok(()),
        Err(e) if e.is_exists() => Ok(()),
        Err(e) => Err(Error::privileged(format!(
            "adding the gateway address {network} to bridge {}",
            link.name
        ))(e)),
    }
}

/// What teardown needs to know about a bridge.
#[derive(Clone, Debug)]
pub(crate) struct BridgeRef {
    pub(crate) name: IfName,
    pub(crate) prefix: LeasePrefix,
    pub(crate) keep: bool,
}

impl BridgeRef {
    pub(crate) fn of(plan: &BridgePlan) -> Self {
        Self {
            name: plan.bridge,
            prefix: LeasePrefix::of(&plan.bridge),
            keep: plan.keep_bridge,
        }
    }
}

/// What [`release_if_unused`] may remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Release {
    /// The bridge's NAT rules.
    pub(crate) nat: bool,
    /// The bridge itself (only ever one voidbox created).
    pub(crate) bridge: bool,
}

impl Release {
    /// Everything: what the last teardown does.
    pub(crate) const ALL: Self = Self {
        nat: true,
        bridge: true,
    };
}

/// With the lock held: when no sandbox uses the bridge any more (and it is not to be
/// kept), removes what `what` allows of its NAT rules and itself (if voidbox made it),
/// then the lock file once it has nothing left to remember. Every step is tried; the
/// first error is returned.
pub(crate) fn release_if_unused(
    nl: &mut Netlink,
    mut lock: BridgeLock,
    bridge: &BridgeRef,
    runner: &mut dyn Runner,
    what: Release,
) -> Result<(), Error> {
    if bridge.keep {
        return Ok(());
    }
    let links = nl
        .links()
        .map_err(Error::netlink("listing the host's links"))?;
    if links
        .iter()
        .any(|l| bridge.prefix.offset(&l.name).is_some())
    {
        return Ok(());
    }
    let mut first: Option<Error> = None;
    let mut state = lock.read_state()?;
    if what.nat
        && let Some(key) = state.nat.clone()
    {
        let name = bridge.name.to_string();
        match nat::remove(runner, &name, &key) {
            Ok(()) => {
                state.nat = None;
                keep_first(&mut first, lock.write_state(&state));
            }
            Err(e) => keep_first(&mut first, Err(e)),
        }
    }
    if what.bridge
        && let Some(link) = links.iter().find(|l| l.name == bridge.name)
        && (link.alias.as_deref() == Some(MANAGED_ALIAS)
            || (state.creating && link.alias.is_none() && link.kind.as_deref() == Some("bridge")))
    {
        match nl.delete_link(link.index) {
            Err(e) if !e.is_not_found() => keep_first(
                &mut first,
                Err(Error::netlink(format!("deleting bridge {}", bridge.name))(
                    e,
                )),
            ),
            _ => {}
        }
    }
    match first {
        // The probing hint alone is not worth keeping a file for.
        None if state.nat.is_none() => lock.remove(),
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Releases, as [`release_if_unused`] would, every other bridge of this host namespace
/// that has a lock file but no sandbox any more and was not kept: what a launcher killed
/// after its sandbox started leaves behind once that sandbox has ended (its namespace
/// took the veth, nobody was left to count the bridge's users). A bridge whose lock is
/// busy is skipped: its holder is at work on it. Best effort: an error leaves that bridge
/// for the next sweep.
pub(crate) fn sweep_idle(
    nl: &mut Netlink,
    state_dir: &std::path::Path,
    netns: u64,
    except: &IfName,
    runner: &mut dyn Runner,
) {
    for name in BridgeLock::bridges(state_dir, netns) {
        let Ok(ifname) = IfName::new(&name) else {
            continue;
        };
        if ifname == *except {
            continue;
        }
        let Ok(Some(mut lock)) = BridgeLock::try_acquire(state_dir, netns, &name) else {
            continue;
        };
        if lock.read_state().is_ok_and(|s| s.keep) {
            continue;
        }
        let bridge = BridgeRef {
            name: ifname,
            prefix: LeasePrefix::of(&ifname),
            keep: false,
        };
        let _ = release_if_unused(nl, lock, &bridge, runner, Release::ALL);
    }
}

/// Records `result`'s error unless an earlier one is already recorded.
pub(crate) fn keep_first(first: &mut Option<Error>, result: Result<(), Error>) {
    if let Err(e) = result
        && first.is_none()
    {
        *first = Some(e);
    }
}
