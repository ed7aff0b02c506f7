//! vb-netlink: a bounded, hand-rolled rtnetlink wire format and a single-threaded
//! NETLINK_ROUTE client for links, addresses and routes.
//!
//! Role in voidbox: the only crate that speaks netlink. `vb-net` builds container
//! networking on top of it, and the facade uses it to bring up `lo` inside a new
//! network namespace.
