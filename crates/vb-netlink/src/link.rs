//! Links (network interfaces): the typed value parsed from `RTM_NEWLINK`, and the requests
//! that get, create, change and delete them.

use std::os::fd::{AsRawFd, BorrowedFd};

use crate::attr::Attrs;
use crate::error::Error;
use crate::header::read_u32;
use crate::ifname::IfName;
use crate::request::{Request, Writer};
use crate::uapi::{
    AF_UNSPEC, IFALIASZ, IFF_UP, IFINFOMSG_LEN, IFLA_ADDRESS, IFLA_IFALIAS, IFLA_IFNAME,
    IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINK, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU,
    IFLA_NET_NS_FD, IFLA_NET_NS_PID, IFLA_OPERSTATE, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP,
    NLM_F_EXCL, NLM_F_REQUEST, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, VETH_INFO_PEER,
};

/// A network interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The interface index (`ifi_index`).
    pub index: u32,
    /// The name (`IFLA_IFNAME`).
    pub name: IfName,
    /// The `IFF_*` flags (`ifi_flags`).
    pub flags: u32,
    /// The MTU (`IFLA_MTU`).
    pub mtu: Option<u32>,
    /// The index of the bridge or bond this link is enslaved to (`IFLA_MASTER`).
    pub master: Option<u32>,
    /// The index of the underlying or peer link (`IFLA_LINK`; a veth's peer).
    pub link: Option<u32>,
    /// The driver kind (`IFLA_INFO_KIND`: `"veth"`, `"bridge"`, …); absent for `lo`.
    pub kind: Option<String>,
    /// The hardware address (`IFLA_ADDRESS`) when it is six bytes long.
    pub mac: Option<[u8; 6]>,
    /// The RFC 2863 operational state (`IFLA_OPERSTATE`).
    pub operstate: Option<u8>,
    /// The free-form description set with [`Netlink::set_link_alias`](crate::Netlink::set_link_alias)
    /// (`IFLA_IFALIAS`).
    pub alias: Option<String>,
}

impl Link {
    /// Whether `IFF_UP` is set.
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }

    /// Parses the payload of an `RTM_NEWLINK` frame: `ifinfomsg` then attributes.
    pub(crate) fn parse(payload: &[u8]) -> Result<Self, Error> {
        if payload.len() < IFINFOMSG_LEN {
            return Err(Error::ShortPayload {
                what: "ifinfomsg",
                len: payload.len(),
                needed: IFINFOMSG_LEN,
            });
        }
        let short = Error::ShortPayload {
            what: "ifinfomsg",
            len: payload.len(),
            needed: 16,
        };
        let index = read_u32(payload, 4).ok_or(short)?;
        let flags = read_u32(payload, 8).ok_or(short)?;
        let mut link = Self {
            index,
            name: IfName::from_bytes(b"?")?,
            flags,
            mtu: None,
            master: None,
            link: None,
            kind: None,
            mac: None,
            operstate: None,
            alias: None,
        };
        let mut named = false;
        for attr in Attrs::new(payload.get(IFINFOMSG_LEN..).unwrap_or(&[])) {
            let attr = attr?;
            match attr.kind {
                IFLA_IFNAME => {
                    link.name = IfName::from_bytes(attr.c_string()?)?;
                    named = true;
                }
                IFLA_MTU => link.mtu = Some(attr.u32("IFLA_MTU")?),
                IFLA_MASTER => link.master = Some(attr.u32("IFLA_MASTER")?),
                IFLA_LINK => link.link = Some(attr.u32("IFLA_LINK")?),
                IFLA_OPERSTATE => link.operstate = Some(attr.u8("IFLA_OPERSTATE")?),
                IFLA_ADDRESS => link.mac = attr.payload.try_into().ok(),
                IFLA_IFALIAS => {
                    let alias = attr.c_string()?;
                    link.alias = Some(String::from_utf8_lossy(alias).into_owned());
                }
                IFLA_LINKINFO => {
                    for info in Attrs::new(attr.payload) {
                        let info = info?;
                        if info.kind == IFLA_INFO_KIND {
                            let kind = info.c_string()?;
                            link.kind = Some(String::from_utf8_lossy(kind).into_owned());
                        }
                    }
                }
                _ => {}
            }
        }
        if !named {
            return Err(Error::MissingAttribute {
                what: "IFLA_IFNAME",
            });
        }
        Ok(link)
    }
}

/// A network namespace to move an interface into.
#[derive(Debug, Clone, Copy)]
pub enum Netns<'fd> {
    /// The namespace of this process id (`IFLA_NET_NS_PID`).
    Pid(u32),
    /// The namespace this descriptor refers to, e.g. an open `/proc/PID/ns/net`
    /// (`IFLA_NET_NS_FD`). The descriptor is only read while the request is sent.
    Fd(BorrowedFd<'fd>),
}

impl Netns<'_> {
    fn write(self, w: &mut Writer<'_>) -> Result<(), Error> {
        match self {
            Self::Pid(pid) => w.attr_u32(IFLA_NET_NS_PID, pid),
            Self::Fd(fd) => {
                // A BorrowedFd is never negative; were it so, u32::MAX would make the
                // kernel refuse the request with EBADF rather than use another fd.
                let raw = u32::try_from(fd.as_raw_fd()).unwrap_or(u32::MAX);
                w.attr_u32(IFLA_NET_NS_FD, raw)
            }
        }
    }
}

/// Writes `struct ifinfomsg`.
fn ifinfomsg(w: &mut Writer<'_>, index: u32, flags: u32, change: u32) -> Result<(), Error> {
    let index = i32::try_from(index).map_err(|_| Error::InvalidIndex { index })?;
    let mut m = [0u8; IFINFOMSG_LEN];
    m[0] = AF_UNSPEC;
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    m[8..12].copy_from_slice(&flags.to_ne_bytes());
    m[12..16].copy_from_slice(&change.to_ne_bytes());
    w.bytes(&m)
}

const MODIFY: u16 = NLM_F_REQUEST | NLM_F_ACK;
const CREATE: u16 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

pub(crate) fn get_by_name(name: &IfName) -> Result<Request, Error> {
    Request::build("get link by name", RTM_GETLINK, NLM_F_REQUEST, |w| {
        ifinfomsg(w, 0, 0, 0)?;
        w.attr_c_string(IFLA_IFNAME, name.as_bytes())
    })
}

pub(crate) fn get_by_index(index: u32) -> Result<Request, Error> {
    Request::build("get link by index", RTM_GETLINK, NLM_F_REQUEST, |w| {
        ifinfomsg(w, index, 0, 0)
    })
}

pub(crate) fn dump() -> Result<Request, Error> {
    Request::build("dump links", RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, |w| {
        ifinfomsg(w, 0, 0, 0)
    })
}

pub(crate) fn add_bridge(name: &IfName) -> Result<Request, Error> {
    Request::build("add bridge", RTM_NEWLINK, CREATE, |w| {
        ifinfomsg(w, 0, 0, 0)?;
        w.attr_c_string(IFLA_IFNAME, name.as_bytes())?;
        let info = w.begin_nested(IFLA_LINKINFO)?;
        w.attr_c_string(IFLA_INFO_KIND, b"bridge")?;
        w.end_nested(info)
    })
}

pub(crate) fn add_veth(
    name: &IfName,
    peer: &IfName,
    peer_netns: Option<Netns<'_>>,
) -> Result<Request, Error> {
    Request::build("add veth pair", RTM_NEWLINK, CREATE, |w| {
        ifinfomsg(w, 0, 0, 0)?;
        w.attr_c_string(IFLA_IFNAME, name.as_bytes())?;
        let info = w.begin_nested(IFLA_LINKINFO)?;
        w.attr_c_string(IFLA_INFO_KIND, b"veth")?;
        let data = w.begin_nested(IFLA_INFO_DATA)?;
        // VETH_INFO_PEER holds a struct followed by attributes, not a pure attribute
        // list, so it goes without NLA_F_NESTED (as the kernel's own tools send it).
        let peer_start = w.begin_plain(VETH_INFO_PEER)?;
        ifinfomsg(w, 0, 0, 0)?;
        w.attr_c_string(IFLA_IFNAME, peer.as_bytes())?;
        if let Some(ns) = peer_netns {
            ns.write(w)?;
        }
        w.end_nested(peer_start)?;
        w.end_nested(data)?;
        w.end_nested(info)
    })
}

pub(crate) fn set_up(index: u32, up: bool) -> Result<Request, Error> {
    let op = if up { "set link up" } else { "set link down" };
    Request::build(op, RTM_NEWLINK, MODIFY, |w| {
        ifinfomsg(w, index, if up { IFF_UP } else { 0 }, IFF_UP)
    })
}

pub(crate) fn set_master(index: u32, master: Option<u32>) -> Result<Request, Error> {
    Request::build("set link master", RTM_NEWLINK, MODIFY, |w| {
        ifinfomsg(w, index, 0, 0)?;
        // Index 0 detaches the link from its master.
        w.attr_u32(IFLA_MASTER, master.unwrap_or(0))
    })
}

pub(crate) fn set_netns(index: u32, netns: Netns<'_>) -> Result<Request, Error> {
    Request::build("move link to namespace", RTM_NEWLINK, MODIFY, |w| {
        ifinfomsg(w, index, 0, 0)?;
        netns.write(w)
    })
}

pub(crate) fn set_name(index: u32, name: &IfName) -> Result<Request, Error> {
    Request::build("rename link", RTM_NEWLINK, MODIFY, |w| {
        ifinfomsg(w, index, 0, 0)?;
        w.attr_c_string(IFLA_IFNAME, name.as_bytes())
    })
}

pub(crate) fn set_alias(index: u32, alias: &[u8]) -> Result<Request, Error> {
    if alias.len() >= IFALIASZ {
        return Err(Error::InvalidAlias {
            reason: "longer than 255 bytes",
        });
    }
    if alias.contains(&0) {
        return Err(Error::InvalidAlias {
            reason: "contains a NUL byte",
        });
    }
    Request::build("set link alias", RTM_NEWLINK, MODIFY, |w| {
        ifinfomsg(w, index, 0, 0)?;
        // Sent without a terminator, as the kernel stores exactly the bytes given; an
        // empty payload removes the alias.
        w.attr(IFLA_IFALIAS, alias)
    })
}

pub(crate) fn delete(index: u32) -> Result<Request, Error> {
    Request::build("delete link", RTM_DELLINK, MODIFY, |w| {
        ifinfomsg(w, index, 0, 0)
    })
}
