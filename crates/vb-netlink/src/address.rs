//! Interface addresses (IPv4 and IPv6): the typed value parsed from `RTM_NEWADDR`, and the
//! add, delete and dump requests.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::attr::Attrs;
use crate::error::Error;
use crate::family::{Family, ip_bytes, network};
use crate::header::read_u32;
use crate::request::{Request, Writer};
use crate::uapi::{
    IFA_ADDRESS, IFA_F_NODAD, IFA_FLAGS, IFA_LABEL, IFA_LOCAL, IFADDRMSG_LEN, NLM_F_ACK,
    NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, RT_SCOPE_HOST, RT_SCOPE_UNIVERSE,
    RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR,
};

/// An address assigned to an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The interface's index (`ifa_index`).
    pub index: u32,
    /// The local address with its prefix length (`IFA_LOCAL`, else `IFA_ADDRESS`).
    pub network: IpNetwork,
    /// The peer address when it differs from the local one (point-to-point links).
    pub peer: Option<IpAddr>,
    /// The label (`IFA_LABEL`, IPv4 only), e.g. `eth0:1`.
    pub label: Option<String>,
    /// The scope (`ifa_scope`: 0 universe, 253 link, 254 host).
    pub scope: u8,
    /// The `IFA_F_*` flags (`IFA_FLAGS` when present, else `ifa_flags`).
    pub flags: u32,
}

impl Address {
    /// The family of the address.
    #[must_use]
    pub fn family(&self) -> Family {
        Family::of_network(self.network)
    }

    /// Parses the payload of an `RTM_NEWADDR` frame: `ifaddrmsg` then attributes.
    pub(crate) fn parse(payload: &[u8]) -> Result<Self, Error> {
        let head = payload.get(..IFADDRMSG_LEN).ok_or(Error::ShortPayload {
            what: "ifaddrmsg",
            len: payload.len(),
            needed: IFADDRMSG_LEN,
        })?;
        let [family, prefix, flags8, scope, ..] = *head else {
            return Err(Error::ShortPayload {
                what: "ifaddrmsg",
                len: 0,
                needed: IFADDRMSG_LEN,
            });
        };
        let index = read_u32(head, 4).ok_or(Error::ShortPayload {
            what: "ifaddrmsg",
            len: head.len(),
            needed: IFADDRMSG_LEN,
        })?;
        let family = Family::from_raw(family, "ifaddrmsg")?;
        let (mut local, mut address, mut label, mut flags) = (None, None, None, None);
        for attr in Attrs::new(payload.get(IFADDRMSG_LEN..).unwrap_or(&[])) {
            let attr = attr?;
            match attr.kind {
                IFA_ADDRESS => address = Some(attr.ip(family.raw(), "IFA_ADDRESS")?),
                IFA_LOCAL => local = Some(attr.ip(family.raw(), "IFA_LOCAL")?),
                IFA_LABEL => {
                    label = Some(String::from_utf8_lossy(attr.c_string()?).into_owned());
                }
                IFA_FLAGS => flags = Some(attr.u32("IFA_FLAGS")?),
                _ => {}
            }
        }
        let ip = local.or(address).ok_or(Error::MissingAttribute {
            what: "IFA_ADDRESS",
        })?;
        let peer = match (local, address) {
            (Some(l), Some(a)) if l != a => Some(a),
            _ => None,
        };
        Ok(Self {
            index,
            network: network(ip, prefix, "ifaddrmsg")?,
            peer,
            label,
            scope,
            flags: flags.unwrap_or(u32::from(flags8)),
        })
    }
}

/// Options for adding an address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressOptions {
    /// Skip IPv6 duplicate address detection (`IFA_F_NODAD`), so that the address is
    /// usable at once instead of staying tentative for about a second.
    pub nodad: bool,
}

/// The scope the kernel's own tools pick: host for loopback addresses, else universe.
fn default_scope(ip: IpAddr) -> u8 {
    if ip.is_loopback() {
        RT_SCOPE_HOST
    } else {
        RT_SCOPE_UNIVERSE
    }
}

/// Writes `struct ifaddrmsg`.
pub(crate) fn ifaddrmsg(
    w: &mut Writer<'_>,
    family: u8,
    prefix: u8,
    flags: u8,
    scope: u8,
    index: u32,
) -> Result<(), Error> {
    let mut m = [0u8; IFADDRMSG_LEN];
    m[0] = family;
    m[1] = prefix;
    m[2] = flags;
    m[3] = scope;
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    w.bytes(&m)
}

fn write_address(w: &mut Writer<'_>, net: IpNetwork) -> Result<(), Error> {
    let ip = ip_bytes(&net.ip());
    // For IPv4 the kernel reads IFA_LOCAL as the interface address and IFA_ADDRESS as the
    // peer; both equal means "no peer". IPv6 takes IFA_ADDRESS alone.
    if Family::of_network(net) == Family::V4 {
        w.attr(IFA_LOCAL, ip.as_slice())?;
    }
    w.attr(IFA_ADDRESS, ip.as_slice())
}

pub(crate) fn add(index: u32, net: IpNetwork, options: AddressOptions) -> Result<Request, Error> {
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    Request::build("add address", RTM_NEWADDR, flags, |w| {
        let ifa_flags = if options.nodad { IFA_F_NODAD } else { 0 };
        let family = Family::of_network(net).raw();
        ifaddrmsg(
            w,
            family,
            net.prefix(),
            ifa_flags,
            default_scope(net.ip()),
            index,
        )?;
        write_address(w, net)
    })
}

pub(crate) fn delete(index: u32, net: IpNetwork) -> Result<Request, Error> {
    Request::build(
        "delete address",
        RTM_DELADDR,
        NLM_F_REQUEST | NLM_F_ACK,
        |w| {
            ifaddrmsg(w, Family::of_network(net).raw(), net.prefix(), 0, 0, index)?;
            write_address(w, net)
        },
    )
}

pub(crate) fn dump(family: Option<Family>) -> Result<Request, Error> {
    Request::build(
        "dump addresses",
        RTM_GETADDR,
        NLM_F_REQUEST | NLM_F_DUMP,
        |w| ifaddrmsg(w, family.map_or(0, Family::raw), 0, 0, 0, 0),
    )
}
