//! Address arithmetic of a bridge's subnet: which addresses a sandbox may get, and the
//! order in which free ones are tried.
//!
//! Addresses are named by their *offset* in the subnet. Offset 0 is the network address,
//! offset 1 the gateway (the bridge's own address), the last offset the broadcast address;
//! everything between is the pool. Probing starts at a hint and wraps around, visiting
//! each pool offset exactly once, so it is deterministic and bounded by the pool's size.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnetwork::{Ipv4Network, Ipv6Network};

/// The shortest prefix accepted: a /8 has 16 M addresses, offsets fit six hex digits.
pub(crate) const MIN_PREFIX: u8 = 8;
/// The longest prefix accepted: a /30 leaves one address besides the gateway.
pub(crate) const MAX_PREFIX: u8 = 30;

/// The offset of the gateway.
pub(crate) const GATEWAY_OFFSET: u32 = 1;
/// The first offset handed to a sandbox.
const FIRST: u32 = 2;

/// An IPv4 subnet between [`MIN_PREFIX`] and [`MAX_PREFIX`], with its network address
/// canonical (host bits zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pool {
    subnet: Ipv4Network,
}

impl Pool {
    /// Checks `subnet`; the error says why it cannot be a pool.
    pub(crate) fn new(subnet: Ipv4Network) -> Result<Self, String> {
        let prefix = subnet.prefix();
        if !(MIN_PREFIX..=MAX_PREFIX).contains(&prefix) {
            return Err(format!(
                "the prefix length must be between /{MIN_PREFIX} and /{MAX_PREFIX} (a gateway \
                 and at least one sandbox address)"
            ));
        }
        if subnet.ip() != subnet.network() {
            return Err(format!(
                "host bits are set; the subnet is {}/{prefix}",
                subnet.network()
            ));
        }
        Ok(Self { subnet })
    }

    /// The subnet.
    pub(crate) fn subnet(&self) -> Ipv4Network {
        self.subnet
    }

    /// The number of offsets in the subnet, network and broadcast included.
    fn span(&self) -> u32 {
        // MIN_PREFIX..=MAX_PREFIX keeps the shift between 2 and 24.
        1u32 << (32 - u32::from(self.subnet.prefix()))
    }

    /// The last offset, the broadcast address's.
    fn broadcast_offset(&self) -> u32 {
        self.span() - 1
    }

    /// How many addresses sandboxes can get: the span minus network, gateway, broadcast.
    pub(crate) fn size(&self) -> u32 {
        self.span() - 3
    }

    /// The address at `offset` (which must be below the span).
    pub(crate) fn address(&self, offset: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.subnet.network()).wrapping_add(offset))
    }

    /// The gateway: the subnet's first address.
    pub(crate) fn gateway(&self) -> Ipv4Addr {
        self.address(GATEWAY_OFFSET)
    }

    /// The address at `offset` with the subnet's prefix length, as an interface carries it.
    pub(crate) fn network_at(&self, offset: u32) -> Ipv4Network {
        // The prefix was checked by `Pool::new`, so `new` cannot fail; the fallback is
        // there only to keep this path free of panics.
        Ipv4Network::new(self.address(offset), self.subnet.prefix()).unwrap_or(self.subnet)
    }

    /// The offset of `address` if it is inside the subnet.
    pub(crate) fn offset_of(&self, address: Ipv4Addr) -> Option<u32> {
        self.subnet
            .contains(address)
            .then(|| u32::from(address).wrapping_sub(u32::from(self.subnet.network())))
    }

    /// Whether `offset` may be handed to a sandbox.
    pub(crate) fn is_allocatable(&self, offset: u32) -> bool {
        (FIRST..self.broadcast_offset()).contains(&offset)
    }

    /// Every pool offset once, starting at `hint` (the pool's first offset when `hint` is
    /// outside it) and wrapping around.
    pub(crate) fn candidates(&self, hint: u32) -> impl Iterator<Item = u32> + use<> {
        let size = self.size();
        let start = if self.is_allocatable(hint) {
            hint - FIRST
        } else {
            0
        };
        (0..size).map(move |i| FIRST + (start + i) % size)
    }

    /// Tries the offsets `is_used` does not claim, in probing order from `hint`, until
    /// `take` takes one (`Ok(true)`; `Ok(false)` means it turned out taken after all);
    /// `Ok(None)` when the pool is exhausted. One pass at most: bounded by [`Pool::size`].
    ///
    /// # Errors
    /// The first error of `take`, which ends the search.
    pub(crate) fn allocate<E>(
        &self,
        hint: u32,
        is_used: impl Fn(u32) -> bool,
        mut take: impl FnMut(u32) -> Result<bool, E>,
    ) -> Result<Option<u32>, E> {
        for offset in self.candidates(hint) {
            if !is_used(offset) && take(offset)? {
                return Ok(Some(offset));
            }
        }
        Ok(None)
    }

    /// The probing hint after handing out `offset`: the next one, so that a freed
    /// address is not handed out again at once while others are free (peers may still
    /// have the old holder's MAC address cached).
    pub(crate) fn next_hint(&self, offset: u32) -> u32 {
        if offset + 1 >= self.broadcast_offset() {
            FIRST
        } else {
            offset + 1
        }
    }
}

/// The IPv6 side: the sandbox with IPv4 offset `n` gets offset `n` here too, so that
/// IPv4 leases cover both families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pool6 {
    subnet: Ipv6Network,
}

impl Pool6 {
    /// Checks `subnet` against the IPv4 pool: it must hold every IPv4 offset.
    pub(crate) fn new(subnet: Ipv6Network, v4: &Pool) -> Result<Self, String> {
        let host_bits = 32 - u32::from(v4.subnet.prefix());
        let max_prefix = 128 - host_bits;
        if u32::from(subnet.prefix()) > max_prefix {
            return Err(format!(
                "the prefix length must be at most /{max_prefix}, to hold every address of the \
                 IPv4 subnet"
            ));
        }
        if subnet.ip() != subnet.network() {
            return Err(format!(
                "host bits are set; the subnet is {}/{}",
                subnet.network(),
                subnet.prefix()
            ));
        }
        Ok(Self { subnet })
    }

    /// The subnet.
    pub(crate) fn subnet(&self) -> Ipv6Network {
        self.subnet
    }

    /// The address at `offset`.
    pub(crate) fn address(&self, offset: u32) -> Ipv6Addr {
        Ipv6Addr::from(u128::from(self.subnet.network()).wrapping_add(u128::from(offset)))
    }

    /// The gateway: the subnet's first address.
    pub(crate) fn gateway(&self) -> Ipv6Addr {
        self.address(GATEWAY_OFFSET)
    }

    /// The address at `offset` with the subnet's prefix length.
    pub(crate) fn network_at(&self, offset: u32) -> Ipv6Network {
        // As for IPv4: the prefix is a parsed one, so `new` cannot fail.
        Ipv6Network::new(self.address(offset), self.subnet.prefix()).unwrap_or(self.subnet)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn pool(s: &str) -> Pool {
        Pool::new(s.parse().unwrap()).unwrap()
    }

    #[test]
    fn sizes_and_special_addresses() {
        let p = pool("10.88.0.0/16");
        assert_eq!(p.size(), 65_533);
        assert_eq!(p.gateway(), Ipv4Addr::new(10, 88, 0, 1));
        assert_eq!(p.address(2), Ipv4Addr::new(10, 88, 0, 2));
        assert_eq!(p.address(256), Ipv4Addr::new(10, 88, 1, 0));
        assert_eq!(p.offset_of(Ipv4Addr::new(10, 88, 255, 255)), Some(65_535));
        assert_eq!(p.offset_of(Ipv4Addr::new(10, 89, 0, 1)), None);
        assert!(!p.is_allocatable(0) && !p.is_allocatable(1) && !p.is_allocatable(65_535));
        assert!(p.is_allocatable(2) && p.is_allocatable(65_534));
        let tiny = pool("192.168.7.4/30");
        assert_eq!(tiny.size(), 1);
        assert_eq!(p.network_at(2).to_string(), "10.88.0.2/16");
        assert_eq!(tiny.candidates(0).collect::<Vec<_>>(), [2]);
        assert_eq!(pool("10.0.0.0/8").size(), (1 << 24) - 3);
    }

    #[test]
    fn bad_subnets_are_refused_with_the_reason() {
        for (s, want) in [
            ("10.0.0.0/31", "between /8 and /30"),
            ("10.0.0.0/7", "between /8 and /30"),
            ("10.88.0.5/16", "the subnet is 10.88.0.0/16"),
        ] {
            let err = Pool::new(s.parse().unwrap()).unwrap_err();
            assert!(err.contains(want), "{s}: {err}");
        }
        let v4 = pool("10.88.0.0/16");
        assert!(Pool6::new("fd00::/112".parse().unwrap(), &v4).is_ok());
        let err = Pool6::new("fd00::/120".parse().unwrap(), &v4).unwrap_err();
        assert!(err.contains("at most /112"), "{err}");
        let err = Pool6::new("fd00::1/64".parse().unwrap(), &v4).unwrap_err();
        assert!(err.contains("fd00::/64"), "{err}");
    }

    #[test]
    fn probing_wraps_around_deterministically() {
        let p = pool("10.0.0.0/29"); // offsets 2..=6
        assert_eq!(p.candidates(2).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
        assert_eq!(p.candidates(5).collect::<Vec<_>>(), [5, 6, 2, 3, 4]);
        // Hints outside the pool start at its beginning.
        assert_eq!(p.candidates(0).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
        assert_eq!(p.candidates(7).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
        assert_eq!(p.candidates(u32::MAX).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
        let free = |_| Ok::<_, ()>(true);
        assert_eq!(p.allocate(5, |o| o == 5 || o == 6, free), Ok(Some(2)));
        assert_eq!(p.allocate(3, |_| true, free), Ok(None));
        // An offset found taken while taking it is skipped; an error ends the search.
        let mut tried = Vec::new();
        let got = p.allocate(
            3,
            |_| false,
            |o| {
                tried.push(o);
                Ok::<_, ()>(o == 5)
            },
        );
        assert_eq!((got, tried), (Ok(Some(5)), vec![3, 4, 5]));
        assert_eq!(
            p.allocate(
                3,
                |_| false,
                |o| if o == 4 { Err("boom") } else { Ok(false) }
            ),
            Err("boom")
        );
        assert_eq!(p.next_hint(4), 5);
        assert_eq!(p.next_hint(6), 2, "the hint rotates back to the start");
    }

    #[test]
    fn ipv6_offsets_follow_ipv4_ones() {
        let v4 = pool("10.88.0.0/16");
        let v6 = Pool6::new("fd00:88::/64".parse().unwrap(), &v4).unwrap();
        assert_eq!(v6.gateway(), "fd00:88::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            v6.address(0x1234),
            "fd00:88::1234".parse::<Ipv6Addr>().unwrap()
        );
    }

    fn any_pool() -> impl Strategy<Value = Pool> {
        (any::<u32>(), MIN_PREFIX..=MAX_PREFIX).prop_map(|(ip, prefix)| {
            let net = Ipv4Network::new(Ipv4Addr::from(ip), prefix).unwrap();
            Pool::new(Ipv4Network::new(net.network(), prefix).unwrap()).unwrap()
        })
    }

    proptest! {
        #[test]
        fn candidates_visit_every_pool_offset_exactly_once(
            prefix in 22u8..=MAX_PREFIX,
            hint in any::<u32>(),
        ) {
            let p = Pool::new(Ipv4Network::new(Ipv4Addr::new(10, 0, 0, 0), prefix).unwrap()).unwrap();
            let seen: Vec<u32> = p.candidates(hint).collect();
            let unique: BTreeSet<u32> = seen.iter().copied().collect();
            prop_assert_eq!(seen.len(), p.size() as usize);
            prop_assert_eq!(unique.len(), seen.len());
            prop_assert!(seen.iter().all(|&o| p.is_allocatable(o)));
            prop_assert_ne!(p.address(seen[0]), p.gateway());
        }

        #[test]
        fn allocation_finds_a_free_address_iff_one_exists(
            p in any_pool(),
            hint in any::<u32>(),
            used in proptest::collection::btree_set(0u32..64, 0..64),
        ) {
            // Mark some offsets used; in small pools possibly all of them.
            let used: BTreeSet<u32> = used.into_iter().filter(|&o| o < p.size() + 3).collect();
            let asked = std::cell::Cell::new(0u64);
            let got = p
                .allocate(hint, |o| { asked.set(asked.get() + 1); used.contains(&o) }, |_| Ok::<_, ()>(true))
                .unwrap();
            prop_assert!(asked.get() <= u64::from(p.size()), "bounded by the pool's size");
            let free_exists = (2..p.size() + 2).any(|o| !used.contains(&o));
            match got {
                Some(o) => {
                    prop_assert!(p.is_allocatable(o));
                    prop_assert!(!used.contains(&o));
                    prop_assert!(p.subnet().contains(p.address(o)));
                    prop_assert_eq!(p.offset_of(p.address(o)), Some(o));
                }
                None => prop_assert!(!free_exists, "exhaustion only when nothing is free"),
            }
        }

        #[test]
        fn successive_allocations_never_repeat_until_the_pool_is_full(
            prefix in 24u8..=MAX_PREFIX,
            hint in any::<u32>(),
        ) {
            let p = Pool::new(Ipv4Network::new(Ipv4Addr::new(172, 16, 0, 0), prefix).unwrap()).unwrap();
            let mut taken = BTreeSet::new();
            let mut hint = hint;
            while let Some(o) = p.allocate(hint, |o| taken.contains(&o), |_| Ok::<_, ()>(true)).unwrap() {
                prop_assert!(taken.insert(o), "offset {} handed out twice", o);
                hint = p.next_hint(o);
            }
            prop_assert_eq!(taken.len(), p.size() as usize);
        }
    }
}
