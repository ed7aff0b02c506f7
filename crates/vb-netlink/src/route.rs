//! Routes (IPv4 and IPv6): the typed value parsed from `RTM_NEWROUTE`, the specification
//! of a route to add or delete, and the requests (HC-063..HC-069).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;

use crate::attr::Attrs;
use crate::error::Error;
use crate::family::{Family, ip_bytes, network};
use crate::request::{Request, Writer};
use crate::uapi::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, RT_SCOPE_LINK,
    RT_SCOPE_NOWHERE, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, RT_TABLE_UNSPEC, RTA_DST, RTA_GATEWAY,
    RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE, RTM_DELROUTE, RTM_GETROUTE, RTM_NEWROUTE,
    RTMSG_LEN, RTN_UNICAST, RTPROT_BOOT,
};

/// The main routing table's id (`RT_TABLE_MAIN`), the one `ip route` uses by default.
pub const MAIN_TABLE: u32 = RT_TABLE_MAIN;

/// A route as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The destination network (`RTA_DST` / `rtm_dst_len`; `0.0.0.0/0` or `::/0` for a
    /// default route).
    pub destination: IpNetwork,
    /// The next hop (`RTA_GATEWAY`).
    pub gateway: Option<IpAddr>,
    /// The preferred source address (`RTA_PREFSRC`).
    pub prefsrc: Option<IpAddr>,
    /// The output interface's index (`RTA_OIF`).
    pub oif: Option<u32>,
    /// The table id (`RTA_TABLE`, else `rtm_table`).
    pub table: u32,
    /// The metric (`RTA_PRIORITY`).
    pub priority: Option<u32>,
    /// Who installed it (`rtm_protocol`: 2 kernel, 3 boot, 4 static, …).
    pub protocol: u8,
    /// The scope (`rtm_scope`).
    pub scope: u8,
    /// The route type (`rtm_type`: 1 unicast, 2 local, 3 broadcast, …).
    pub kind: u8,
}

impl Route {
    /// The family of the route.
    #[must_use]
    pub fn family(&self) -> Family {
        Family::of_network(self.destination)
    }

    /// Whether this is a unicast route to everything (prefix length 0).
    #[must_use]
    pub fn is_default(&self) -> bool {
        self.destination.prefix() == 0 && self.kind == RTN_UNICAST
    }

    /// Parses the payload of an `RTM_NEWROUTE` frame: `rtmsg` then attributes.
    pub(crate) fn parse(payload: &[u8]) -> Result<Self, Error> {
        let short = Error::ShortPayload {
            what: "rtmsg",
            len: payload.len(),
            needed: RTMSG_LEN,
        };
        let head = payload.get(..RTMSG_LEN).ok_or(short)?;
        let [
            family,
            dst_len,
            _src_len,
            _tos,
            table8,
            protocol,
            scope,
            kind,
            ..,
        ] = *head
        else {
            return Err(short);
        };
        let family = Family::from_raw(family, "rtmsg")?;
        let mut route = Self {
            destination: network(unspecified(family), 0, "rtmsg")?,
            gateway: None,
            prefsrc: None,
            oif: None,
            table: u32::from(table8),
            priority: None,
            protocol,
            scope,
            kind,
        };
        let mut dst = None;
        for attr in Attrs::new(payload.get(RTMSG_LEN..).unwrap_or(&[])) {
            let attr = attr?;
            match attr.kind {
                RTA_DST => dst = Some(attr.ip(family.raw(), "RTA_DST")?),
                RTA_GATEWAY => route.gateway = Some(attr.ip(family.raw(), "RTA_GATEWAY")?),
                RTA_PREFSRC => route.prefsrc = Some(attr.ip(family.raw(), "RTA_PREFSRC")?),
                RTA_OIF => route.oif = Some(attr.u32("RTA_OIF")?),
                RTA_TABLE => route.table = attr.u32("RTA_TABLE")?,
                RTA_PRIORITY => route.priority = Some(attr.u32("RTA_PRIORITY")?),
                _ => {}
            }
        }
        route.destination = network(dst.unwrap_or(unspecified(family)), dst_len, "rtmsg")?;
        Ok(route)
    }
}

fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// The default route of a family: gateway and output interface, taken from one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultRoute {
    /// The next hop; `None` for a device route (`default dev X`).
    pub gateway: Option<IpAddr>,
    /// The output interface's index.
    pub oif: u32,
    /// The metric; among several default routes the lowest wins.
    pub priority: u32,
}

impl DefaultRoute {
    /// The default route `route` describes, if it is a main-table default with an output
    /// interface.
    pub(crate) fn from_route(route: &Route) -> Option<Self> {
        if !route.is_default() || route.table != MAIN_TABLE {
            return None;
        }
        Some(Self {
            gateway: route.gateway,
            oif: route.oif?,
            priority: route.priority.unwrap_or(0),
        })
    }
}

/// A route to add or delete.
///
/// ```
/// use vb_netlink::RouteSpec;
/// let spec = RouteSpec::new("0.0.0.0/0".parse().unwrap())
///     .gateway("10.0.0.1".parse().unwrap())
///     .oif(2);
/// assert_eq!(spec.table, vb_netlink::MAIN_TABLE);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// The destination network; host bits are cleared when the request is built.
    pub destination: IpNetwork,
    /// The next hop.
    pub gateway: Option<IpAddr>,
    /// The preferred source address.
    pub prefsrc: Option<IpAddr>,
    /// The output interface's index.
    pub oif: Option<u32>,
    /// The table id ([`MAIN_TABLE`] by default).
    pub table: u32,
    /// The metric.
    pub priority: Option<u32>,
}

impl RouteSpec {
    /// A route to `destination` in the main table, with nothing else set.
    #[must_use]
    pub fn new(destination: IpNetwork) -> Self {
        Self {
            destination,
            gateway: None,
            prefsrc: None,
            oif: None,
            table: MAIN_TABLE,
            priority: None,
        }
    }

    /// Sets the next hop.
    #[must_use]
    pub fn gateway(mut self, gateway: IpAddr) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// Sets the preferred source address.
    #[must_use]
    pub fn prefsrc(mut self, prefsrc: IpAddr) -> Self {
        self.prefsrc = Some(prefsrc);
        self
    }

    /// Sets the output interface.
    #[must_use]
    pub fn oif(mut self, index: u32) -> Self {
        self.oif = Some(index);
        self
    }

    /// Sets the table.
    #[must_use]
    pub fn table(mut self, table: u32) -> Self {
        self.table = table;
        self
    }

    /// Sets the metric.
    #[must_use]
    pub fn priority(mut self, priority: u32) -> Self {
        self.priority = Some(priority);
        self
    }

    fn family(&self) -> Result<Family, Error> {
        let family = Family::of_network(self.destination);
        if self.gateway.is_some_and(|g| Family::of(g) != family) {
            return Err(Error::FamilyMismatch {
                what: "the gateway",
            });
        }
        if self.prefsrc.is_some_and(|p| Family::of(p) != family) {
            return Err(Error::FamilyMismatch {
                what: "the preferred source",
            });
        }
        Ok(family)
    }
}

/// The `rtmsg` fields a request sets.
struct RtMsg {
    family: Family,
    dst_len: u8,
    table: u32,
    protocol: u8,
    scope: u8,
    kind: u8,
}

fn rtmsg(w: &mut Writer<'_>, m: &RtMsg) -> Result<(), Error> {
    // Table ids above 255 do not fit rtm_table; RTA_TABLE carries them.
    let table8 = u8::try_from(m.table).unwrap_or(RT_TABLE_UNSPEC);
    w.bytes(&[
        m.family.raw(),
        m.dst_len,
        0,
        0,
        table8,
        m.protocol,
        m.scope,
        m.kind,
        0,
        0,
        0,
        0,
    ])
}

fn write_spec_attrs(w: &mut Writer<'_>, spec: &RouteSpec) -> Result<(), Error> {
    w.attr_u32(RTA_TABLE, spec.table)?;
    if spec.destination.prefix() > 0 {
        w.attr(RTA_DST, ip_bytes(&spec.destination.network()).as_slice())?;
    }
    if let Some(gateway) = spec.gateway {
        w.attr(RTA_GATEWAY, ip_bytes(&gateway).as_slice())?;
    }
    if let Some(prefsrc) = spec.prefsrc {
        w.attr(RTA_PREFSRC, ip_bytes(&prefsrc).as_slice())?;
    }
    if let Some(oif) = spec.oif {
        w.attr_u32(RTA_OIF, oif)?;
    }
    if let Some(priority) = spec.priority {
        w.attr_u32(RTA_PRIORITY, priority)?;
    }
    Ok(())
}

pub(crate) fn add(spec: &RouteSpec) -> Result<Request, Error> {
    let family = spec.family()?;
    // Without a gateway an IPv4 route reaches its destination directly on the link; the
    // kernel refuses universe scope for such a route only when a gateway is required.
    let scope = if spec.gateway.is_none() && family == Family::V4 {
        RT_SCOPE_LINK
    } else {
        RT_SCOPE_UNIVERSE
    };
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    Request::build("add route", RTM_NEWROUTE, flags, |w| {
        let m = RtMsg {
            family,
            dst_len: spec.destination.prefix(),
            table: spec.table,
            protocol: RTPROT_BOOT,
            scope,
            kind: RTN_UNICAST,
        };
        rtmsg(w, &m)?;
        write_spec_attrs(w, spec)
    })
}

pub(crate) fn delete(spec: &RouteSpec) -> Result<Request, Error> {
    let family = spec.family()?;
    Request::build(
        "delete route",
        RTM_DELROUTE,
        NLM_F_REQUEST | NLM_F_ACK,
        |w| {
            // Protocol and type 0 and scope "nowhere" match any route with these keys.
            let m = RtMsg {
                family,
                dst_len: spec.destination.prefix(),
                table: spec.table,
                protocol: 0,
                scope: RT_SCOPE_NOWHERE,
                kind: 0,
            };
            rtmsg(w, &m)?;
            write_spec_attrs(w, spec)
        },
    )
}

pub(crate) fn get(destination: IpAddr) -> Result<Request, Error> {
    let family = Family::of(destination);
    Request::build("get route", RTM_GETROUTE, NLM_F_REQUEST, |w| {
        let m = RtMsg {
            family,
            dst_len: family.max_prefix(),
            table: 0,
            protocol: 0,
            scope: 0,
            kind: 0,
        };
        rtmsg(w, &m)?;
        w.attr(RTA_DST, ip_bytes(&destination).as_slice())
    })
}

pub(crate) fn dump(family: Family) -> Result<Request, Error> {
    Request::build(
        "dump routes",
        RTM_GETROUTE,
        NLM_F_REQUEST | NLM_F_DUMP,
        |w| {
            let m = RtMsg {
                family,
                dst_len: 0,
                table: 0,
                protocol: 0,
                scope: 0,
                kind: 0,
            };
            rtmsg(w, &m)
        },
    )
}
