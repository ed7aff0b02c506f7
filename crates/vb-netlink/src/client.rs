//! [`Netlink`]: the typed operations on links, addresses and routes.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::address::{self, Address, AddressOptions};
use crate::error::Error;
use crate::exchange::Expect;
use crate::family::Family;
use crate::frame::Frame;
use crate::ifname::IfName;
use crate::limits::MAX_MESSAGES_PER_DUMP;
use crate::link::{self, Link, Netns};
use crate::request::Request;
use crate::route::{self, DefaultRoute, Route, RouteSpec};
use crate::socket::Socket;
use crate::uapi::{RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE};

/// A NETLINK_ROUTE connection to the kernel of the calling thread's network namespace.
///
/// Single-threaded: no background thread, one request in flight at a time (`&mut self`).
/// The socket is close-on-exec and closed on drop. A socket belongs to the namespace it
/// was opened in, so open a new `Netlink` after `setns`/`unshare`.
#[derive(Debug)]
pub struct Netlink {
    socket: Socket,
}

impl Netlink {
    /// Opens the socket.
    ///
    /// # Errors
    /// [`Error::Open`] or [`Error::SocketOption`].
    pub fn open() -> Result<Self, Error> {
        Ok(Self {
            socket: Socket::open()?,
        })
    }

    fn ack(&mut self, request: Result<Request, Error>) -> Result<(), Error> {
        self.socket.exchange(request?, Expect::Ack, &mut |_| Ok(()))
    }

    fn one<T>(
        &mut self,
        request: Result<Request, Error>,
        kind: u16,
        parse: fn(&[u8]) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let request = request?;
        let op = request.op;
        let mut out = None;
        self.socket
            .exchange(request, Expect::One(kind), &mut |f: &Frame<'_>| {
                out = Some(parse(f.payload)?);
                Ok(())
            })?;
        out.ok_or(Error::MissingReply {
            op,
            what: "the requested object",
        })
    }

    fn collect<T>(
        &mut self,
        request: Result<Request, Error>,
        kind: u16,
        parse: fn(&[u8]) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        self.socket.exchange(
            request?,
            Expect::Dump(kind),
            &mut collector(&mut out, parse),
        )?;
        Ok(out)
    }

    /// Looks a link up by name.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no such link exists; socket and parse errors.
    pub fn link_by_name(&mut self, name: &IfName) -> Result<Link, Error> {
        self.one(link::get_by_name(name), RTM_NEWLINK, Link::parse)
    }

    /// Looks a link up by index.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no such link exists; socket and parse errors.
    pub fn link_by_index(&mut self, index: u32) -> Result<Link, Error> {
        self.one(link::get_by_index(index), RTM_NEWLINK, Link::parse)
    }

    /// Lists every link of the namespace.
    ///
    /// # Errors
    /// Socket and parse errors; [`Error::TooManyMessages`] past the cap.
    pub fn links(&mut self) -> Result<Vec<Link>, Error> {
        self.collect(link::dump(), RTM_NEWLINK, Link::parse)
    }

    /// Creates a bridge.
    ///
    /// # Errors
    /// [`Error::Exists`] when the name is taken; other kernel refusals.
    pub fn add_bridge(&mut self, name: &IfName) -> Result<(), Error> {
        self.ack(link::add_bridge(name))
    }

    /// Creates a veth pair `name` ↔ `peer`, with `peer` created directly in `peer_netns`
    /// when given (no window where it is visible in this namespace).
    ///
    /// # Errors
    /// [`Error::Exists`] when a name is taken; other kernel refusals.
    pub fn add_veth(
        &mut self,
        name: &IfName,
        peer: &IfName,
        peer_netns: Option<Netns<'_>>,
    ) -> Result<(), Error> {
        self.ack(link::add_veth(name, peer, peer_netns))
    }

    /// Sets `IFF_UP` on a link, or clears it.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown index; other kernel refusals.
    pub fn set_link_up(&mut self, index: u32, up: bool) -> Result<(), Error> {
        self.ack(link::set_up(index, up))
    }

    /// Enslaves a link to a bridge (`Some(master)`) or releases it (`None`).
    ///
    /// # Errors
    /// Kernel refusals.
    pub fn set_link_master(&mut self, index: u32, master: Option<u32>) -> Result<(), Error> {
        self.ack(link::set_master(index, master))
    }

    /// Moves a link into another network namespace.
    ///
    /// # Errors
    /// Kernel refusals.
    pub fn set_link_netns(&mut self, index: u32, netns: Netns<'_>) -> Result<(), Error> {
        self.ack(link::set_netns(index, netns))
    }

    /// Renames a link (the kernel requires it to be down).
    ///
    /// # Errors
    /// [`Error::Exists`] when the name is taken; other kernel refusals.
    pub fn set_link_name(&mut self, index: u32, name: &IfName) -> Result<(), Error> {
        self.ack(link::set_name(index, name))
    }

    /// Sets a link's alias, a free-form description of up to 255 bytes that the kernel
    /// stores and reports (`IFLA_IFALIAS`, `ip link set NAME alias TEXT`); an empty one
    /// removes it.
    ///
    /// # Errors
    /// [`Error::InvalidAlias`] before sending; kernel refusals.
    pub fn set_link_alias(&mut self, index: u32, alias: &str) -> Result<(), Error> {
        self.ack(link::set_alias(index, alias.as_bytes()))
    }

    /// Deletes a link (for a veth pair, both ends).
    ///
    /// # Errors
    /// [`Error::NotFound`] when it is already gone; other kernel refusals.
    pub fn delete_link(&mut self, index: u32) -> Result<(), Error> {
        self.ack(link::delete(index))
    }

    /// Adds an address to a link.
    ///
    /// # Errors
    /// [`Error::Exists`] when it is already assigned; other kernel refusals.
    pub fn add_address(
        &mut self,
        index: u32,
        network: IpNetwork,
        options: AddressOptions,
    ) -> Result<(), Error> {
        self.ack(address::add(index, network, options))
    }

    /// Removes an address from a link.
    ///
    /// # Errors
    /// [`Error::NotFound`] when it is not assigned; other kernel refusals.
    pub fn delete_address(&mut self, index: u32, network: IpNetwork) -> Result<(), Error> {
        self.ack(address::delete(index, network))
    }

    /// Lists addresses, of one family or of both.
    ///
    /// # Errors
    /// Socket and parse errors; [`Error::TooManyMessages`] past the cap.
    pub fn addresses(&mut self, family: Option<Family>) -> Result<Vec<Address>, Error> {
        self.collect(address::dump(family), RTM_NEWADDR, Address::parse)
    }

    /// Adds a route.
    ///
    /// # Errors
    /// [`Error::FamilyMismatch`] for mixed families; [`Error::Exists`]; other refusals.
    pub fn add_route(&mut self, spec: &RouteSpec) -> Result<(), Error> {
        self.ack(route::add(spec))
    }

    /// Deletes a route.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no route matches; other kernel refusals.
    pub fn delete_route(&mut self, spec: &RouteSpec) -> Result<(), Error> {
        self.ack(route::delete(spec))
    }

    /// Asks the kernel which route it would use to reach `destination`.
    ///
    /// # Errors
    /// Kernel refusals (`ENETUNREACH` as [`Error::Kernel`]); socket and parse errors.
    pub fn route_to(&mut self, destination: IpAddr) -> Result<Route, Error> {
        self.one(route::get(destination), RTM_NEWROUTE, Route::parse)
    }

    /// Lists the routes of one family, all tables.
    ///
    /// # Errors
    /// Socket and parse errors; [`Error::TooManyMessages`] past the cap.
    pub fn routes(&mut self, family: Family) -> Result<Vec<Route>, Error> {
        self.collect(route::dump(family), RTM_NEWROUTE, Route::parse)
    }

    /// The main table's default route of `family` with the lowest metric: its gateway and
    /// output interface come from the same message. The dump is streamed, not collected.
    ///
    /// # Errors
    /// Socket and parse errors.
    pub fn default_route(&mut self, family: Family) -> Result<Option<DefaultRoute>, Error> {
        let mut best: Option<DefaultRoute> = None;
        self.socket.exchange(
            route::dump(family)?,
            Expect::Dump(RTM_NEWROUTE),
            &mut |f: &Frame<'_>| {
                let route = Route::parse(f.payload)?;
                if let Some(found) = DefaultRoute::from_route(&route)
                    && best.is_none_or(|b| found.priority < b.priority)
                {
                    best = Some(found);
                }
                Ok(())
            },
        )?;
        Ok(best)
    }
}

/// A dump visitor that parses each message into `out`, refusing to grow it past
/// [`MAX_MESSAGES_PER_DUMP`] (HC-060, HC-061).
fn collector<'o, T>(
    out: &'o mut Vec<T>,
    parse: fn(&[u8]) -> Result<T, Error>,
) -> impl FnMut(&Frame<'_>) -> Result<(), Error> + 'o {
    move |f| {
        if out.len() >= MAX_MESSAGES_PER_DUMP {
            return Err(Error::TooManyMessages {
                cap: MAX_MESSAGES_PER_DUMP,
            });
        }
        out.push(parse(f.payload)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{Exchange, Progress};
    use crate::header::Header;
    use crate::limits::RECV_BUFFER_LEN;

    /// A minimal `RTM_NEWLINK` frame for `lo`.
    fn link_frame() -> Vec<u8> {
        let mut v = Header {
            len: 40,
            kind: RTM_NEWLINK,
            flags: 2,
            seq: 1,
            port: 0,
        }
        .encode()
        .to_vec();
        v.extend_from_slice(&[0; 16]);
        v.extend_from_slice(&[7, 0, 3, 0, b'l', b'o', 0, 0]);
        v
    }

    #[test]
    fn collected_dump_stops_at_the_message_cap() {
        let frame = link_frame();
        let packet = frame.repeat(RECV_BUFFER_LEN / frame.len());
        let mut out = Vec::new();
        let result = {
            let mut visit = collector(&mut out, Link::parse);
            let mut ex = Exchange::new("dump links", 1, Expect::Dump(RTM_NEWLINK));
            loop {
                match ex.feed(&packet, &mut visit) {
                    Ok(Progress::More) => {}
                    other => break other,
                }
            }
        };
        assert_eq!(
            result,
            Err(Error::TooManyMessages {
                cap: MAX_MESSAGES_PER_DUMP
            })
        );
        assert_eq!(out.len(), MAX_MESSAGES_PER_DUMP);
    }

    #[test]
    fn aborted_exchange_leaves_the_connection_usable() {
        if !crate::testns::enter_throwaway_netns("aborted_exchange_leaves_the_connection_usable") {
            return;
        }
        let mut nl = Netlink::open().unwrap();
        nl.add_veth(
            &IfName::new("ab0").unwrap(),
            &IfName::new("ab1").unwrap(),
            None,
        )
        .unwrap();
        // Stop a dump after its first message, leaving the rest unread in the socket.
        let stopped = nl.socket.exchange(
            link::dump().unwrap(),
            Expect::Dump(RTM_NEWLINK),
            &mut |_| Err(Error::MissingAttribute { what: "stop" }),
        );
        assert_eq!(stopped, Err(Error::MissingAttribute { what: "stop" }));
        assert_eq!(
            nl.links().unwrap().len(),
            3,
            "the next exchange is not confused by leftovers"
        );
        assert_eq!(nl.link_by_index(1).unwrap().name, "lo");
    }

    #[test]
    fn link_alias_is_set_reported_and_removed() {
        if !crate::testns::enter_throwaway_netns("link_alias_is_set_reported_and_removed") {
            return;
        }
        let mut nl = Netlink::open().unwrap();
        let br = IfName::new("al0").unwrap();
        nl.add_bridge(&br).unwrap();
        let index = nl.link_by_name(&br).unwrap().index;
        assert_eq!(nl.link_by_index(index).unwrap().alias, None);
        nl.set_link_alias(index, "made by a test").unwrap();
        assert_eq!(
            nl.link_by_index(index).unwrap().alias.as_deref(),
            Some("made by a test")
        );
        let dumped = nl.links().unwrap();
        let found = dumped.iter().find(|l| l.index == index).unwrap();
        assert_eq!(found.alias.as_deref(), Some("made by a test"));
        nl.set_link_alias(index, "").unwrap();
        assert_eq!(nl.link_by_index(index).unwrap().alias, None);
        assert_eq!(
            nl.set_link_alias(index, &"a".repeat(256)),
            Err(Error::InvalidAlias {
                reason: "longer than 255 bytes"
            })
        );
        assert_eq!(
            nl.set_link_alias(index, "a\0b"),
            Err(Error::InvalidAlias {
                reason: "contains a NUL byte"
            })
        );
    }
}
