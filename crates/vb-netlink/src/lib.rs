//! vb-netlink: a bounded, hand-rolled rtnetlink wire format and a single-threaded
//! NETLINK_ROUTE client for links, addresses and routes (IPv4 and IPv6).
//!
//! Role in voidbox: the only crate that speaks netlink. It holds the wire format and the
//! client, and makes no setup decisions: `vb-net` decides what to create (bridges, veth
//! pairs, addresses, routes, `lo` in a new namespace) and calls it. For code running in a
//! freshly cloned child, where nothing may allocate, [`FixedRequest`] encodes requests
//! ahead of time and [`AckSocket`] sends them and reads their ACKs on the stack.
//!
//! # Example
//!
//! Parsing a captured reply needs no privileges: here an ACK followed by the end of a
//! dump, then a NACK saying the object exists.
//!
//! ```
//! use vb_netlink::{Error, Message, parse_packet};
//!
//! // nlmsghdr { len 20, type NLMSG_ERROR (2) } + errno 0, then NLMSG_DONE (3) + 0.
//! let mut packet = Vec::new();
//! for kind in [2u16, 3] {
//!     packet.extend_from_slice(&20u32.to_ne_bytes());
//!     packet.extend_from_slice(&kind.to_ne_bytes());
//!     packet.extend_from_slice(&[0; 10]);
//!     packet.extend_from_slice(&0i32.to_ne_bytes());
//! }
//! assert_eq!(parse_packet(&packet)?, vec![Message::Ack, Message::Done]);
//!
//! // Errno -17 is EEXIST; a positive errno would be rejected as invalid.
//! packet[16..20].copy_from_slice(&(-17i32).to_ne_bytes());
//! assert!(matches!(parse_packet(&packet), Err(Error::Exists { .. })));
//! # Ok::<(), Error>(())
//! ```
//!
//! With `CAP_NET_ADMIN`, [`Netlink`] performs the operations:
//!
//! ```no_run
//! use vb_netlink::{AddressOptions, IfName, Netlink, RouteSpec};
//! let mut nl = Netlink::open()?;
//! nl.add_veth(&IfName::new("vb0")?, &IfName::new("vb1")?, None)?;
//! let vb0 = nl.link_by_name(&IfName::new("vb0")?)?;
//! nl.add_address(vb0.index, "10.0.0.1/24".parse().unwrap(), AddressOptions::default())?;
//! nl.set_link_up(vb0.index, true)?;
//! nl.add_route(&RouteSpec::new("0.0.0.0/0".parse().unwrap()).gateway("10.0.0.254".parse().unwrap()))?;
//! # Ok::<(), vb_netlink::Error>(())
//! ```
//!
//! # Bounds
//!
//! Malformed input is a typed [`Error`], never a panic and never an unbounded loop.
//! Every loop is capped ([`limits`] has the reasons in full):
//!
//! | cap | value | why this size |
//! | --- | --- | --- |
//! | [`limits::RECV_BUFFER_LEN`] | 32 KiB | the kernel never builds a dump packet larger; larger datagrams are detected with `MSG_TRUNC` |
//! | [`limits::MAX_FRAMES_PER_PACKET`] | 2048 | a 32 KiB packet of minimal 16-byte frames; never rejects a real packet |
//! | [`limits::MAX_PACKETS_PER_DUMP`] | 4096 | ≥ 16 MiB of dump even at one page per packet; cuts off a dump that never ends |
//! | [`limits::MAX_ATTRIBUTES_PER_MESSAGE`] | 256 | `IFLA_*`, the largest space, has < 70 types |
//! | [`limits::MAX_MESSAGES_PER_DUMP`] | 65,536 | bounds a collected dump to a few MiB, admits a 10,000-route table |
//! | [`limits::MAX_REQUEST_LEN`] | 1 KiB | the largest request (a veth pair in a namespace) is < 200 bytes |
//! | [`limits::MAX_EINTR_RETRIES`] | 64 | a signal storm cannot spin a send or receive forever |
//! | [`limits::RECV_TIMEOUT_SECS`] | 5 s | rtnetlink answers synchronously; silence means breakage |
//!
//! # Wire-format rules enforced
//!
//! Header and frame lengths are checked before any payload is read (a length of 0, below
//! 16, or past the buffer is an error); frames and attributes step by 4-byte alignment and
//! their padding must be zero; attribute lengths are bounded by their message; fixed-size
//! attributes (`RTA_OIF`, addresses of the message's family) must have exactly their size;
//! interface names must be NUL-terminated; message types a reply cannot carry are
//! [`Error::UnexpectedMessageType`]; families other than IPv4/IPv6 are
//! [`Error::UnsupportedFamily`]. ACKs need only their 4-byte errno: 0 is success, `EEXIST`
//! is [`Error::Exists`], `ENODEV`/`ENOENT`/`ESRCH`/`EADDRNOTAVAIL` are
//! [`Error::NotFound`], any other negative errno is [`Error::Kernel`], and positive values
//! or `i32::MIN` are [`Error::InvalidErrno`]. Replies must come from the kernel (port 0)
//! with the request's sequence number.
//!
//! Netlink uses the host's byte order; the golden vectors in the tests are little-endian.
//!
//! # Testing
//!
//! - Unit tests cover every check above with hand-written golden request vectors and
//!   hostile reply sequences; property tests tie the builders to the parser and throw
//!   arbitrary and mutated bytes at it.
//! - `tests/fixtures/` holds real kernel dumps (see its README), parsed back by
//!   `tests/fixtures.rs`; regenerate them as root with
//!   `cargo test -p vb-netlink --lib capture_fixtures -- --ignored`.
//! - The fuzz target `parse_netlink` lives in the workspace's `fuzz/` project; on a stable
//!   toolchain `cargo test -p vb-netlink --test corpus` runs its check over the committed
//!   corpus.
//! - Tests needing a kernel run as root, each in a network namespace of its own test
//!   thread, and print `SKIP <name>: <reason>` otherwise.
//! - `examples/bench_parse.rs` and `examples/bench_setup.rs` print `bench <name> <value>
//!   <unit>` lines.
//!
//! # Threads and namespaces
//!
//! [`Netlink`] runs no background thread. A socket belongs to the network namespace it was
//! opened in; namespaces are per thread, so open it on the thread that entered the
//! namespace. The socket keeps its namespace when it moves to another thread, so a
//! short-lived thread can enter a namespace, open a `Netlink` and hand it back.

#![warn(missing_docs)]

mod ack;
mod address;
mod attr;
#[cfg(test)]
mod capture;
mod client;
mod error;
mod exchange;
mod family;
mod fixed;
mod frame;
#[cfg(test)]
mod golden;
mod header;
mod ifname;
pub mod limits;
mod link;
mod message;
#[cfg(test)]
mod proptests;
mod request;
mod route;
mod socket;
#[cfg(test)]
mod testns;
mod uapi;

/// The `ipnetwork` crate, whose types this crate's API uses.
pub use ipnetwork;

pub use address::{Address, AddressOptions};
pub use client::Netlink;
pub use error::{Error, Result};
pub use family::Family;
pub use fixed::{AckSocket, FIXED_REQUEST_CAPACITY, FixedRequest};
pub use ifname::IfName;
pub use link::{Link, Netns};
pub use message::{Message, parse_packet};
pub use route::{DefaultRoute, MAIN_TABLE, Route, RouteSpec};

// The README's example is compiled with the doctests, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
