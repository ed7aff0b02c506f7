//! The host's outgoing interface for NAT: the one its IPv4 default route leaves by.
//!
//! It is looked up once per process and host namespace (gateway and output interface come
//! from the same route message), then cached. Each use checks with one netlink request
//! that the cached interface still exists under the same name; when it has disappeared
//! (or was renamed) the cache is dropped and the route looked up again.

use std::sync::Mutex;

use vb_netlink::{Family, IfName, Netlink};

use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cached {
    netns: u64,
    index: u32,
    name: IfName,
}

static CACHE: Mutex<Option<Cached>> = Mutex::new(None);

/// The outgoing interface of the host namespace with inode `netns`, which `nl` is
/// connected to.
///
/// # Errors
/// [`Error::NoDefaultRoute`]; netlink errors.
pub(crate) fn current(nl: &mut Netlink, netns: u64) -> Result<IfName, Error> {
    // A panic elsewhere while holding the lock leaves a value that is still valid.
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(cached) = *cache
        && cached.netns == netns
    {
        match nl.link_by_index(cached.index) {
            Ok(link) if link.name == cached.name => return Ok(cached.name),
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(Error::netlink("checking the cached outgoing interface")(e)),
        }
        *cache = None;
    }
    let route = nl
        .default_route(Family::V4)
        .map_err(Error::netlink("looking up the host's default route"))?
        .ok_or(Error::NoDefaultRoute)?;
    let link = nl
        .link_by_index(route.oif)
        .map_err(Error::netlink("looking up the default route's interface"))?;
    *cache = Some(Cached {
        netns,
        index: link.index,
        name: link.name,
    });
    Ok(link.name)
}

#[cfg(test)]
mod tests {
    use vb_netlink::{AddressOptions, RouteSpec};

    use super::*;

    fn name(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    /// A veth pair whose first end carries a documentation address and the default route
    /// (nothing is ever sent through it).
    fn uplink(nl: &mut Netlink, a: &str, b: &str, third_octet: u8) {
        nl.add_veth(&name(a), &name(b), None).unwrap();
        let index = nl.link_by_name(&name(a)).unwrap().index;
        nl.set_link_up(index, true).unwrap();
        let peer = nl.link_by_name(&name(b)).unwrap().index;
        nl.set_link_up(peer, true).unwrap();
        let net = format!("198.51.{third_octet}.1/24").parse().unwrap();
        nl.add_address(index, net, AddressOptions::default())
            .unwrap();
        let gw = format!("198.51.{third_octet}.254").parse().unwrap();
        nl.add_route(&RouteSpec::new("0.0.0.0/0".parse().unwrap()).gateway(gw))
            .unwrap();
    }

    #[test]
    fn cache_follows_the_default_route_when_its_interface_disappears() {
        let test = "cache_follows_the_default_route_when_its_interface_disappears";
        if !crate::testns::enter_throwaway_netns(test) {
            return;
        }
        let netns = crate::netns::current_id().unwrap();
        let mut nl = Netlink::open().unwrap();
        assert!(matches!(
            current(&mut nl, netns),
            Err(Error::NoDefaultRoute)
        ));
        uplink(&mut nl, "upa0", "upa1", 100);
        assert_eq!(current(&mut nl, netns).unwrap(), "upa0");
        assert_eq!(
            current(&mut nl, netns).unwrap(),
            "upa0",
            "served from the cache"
        );
        let gone = nl.link_by_name(&name("upa0")).unwrap().index;
        nl.delete_link(gone).unwrap();
        uplink(&mut nl, "upb0", "upb1", 101);
        assert_eq!(
            current(&mut nl, netns).unwrap(),
            "upb0",
            "the stale entry was dropped"
        );
    }
}
