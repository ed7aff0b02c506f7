//! vb-net: container networking for voidbox — bridge, veth pairs, addresses,
//! routes and NAT — built on `vb-netlink`.
//!
//! Status: this crate is a placeholder until the networking issue lands; the facade
//! rejects network configuration with a "not supported yet" error meanwhile.
