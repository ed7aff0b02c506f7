//! Every bound the parser and the socket enforce, in one place, with the reason for its size.
//!
//! The caps exist so that no input — a hostile peer, a buggy kernel, a fuzzer — can make a
//! loop run without end or a collection grow without bound. Each is sized so that it never
//! rejects a reply the kernel really sends for the requests this crate makes, and the crate
//! docs repeat them.

/// Bytes in the receive buffer of a [`crate::Netlink`] connection: 32 KiB.
///
/// The kernel's netlink documentation recommends 32 KiB for dumps, and the kernel never
/// builds a dump packet larger than that (it caps its dump allocation at 32 KiB minus skb
/// overhead), so no dump packet is ever cut. A datagram larger than the buffer is detected
/// with `MSG_TRUNC` and reported, never silently truncated.
pub const RECV_BUFFER_LEN: usize = 32 * 1024;

/// Frames parsed from one packet: 2048.
///
/// A frame is at least a 16-byte header, so a [`RECV_BUFFER_LEN`] packet holds at most
/// 32768 / 16 = 2048 frames. The cap never rejects a packet that fits the receive buffer,
/// and bounds the loop for larger byte strings handed to the parser directly.
pub const MAX_FRAMES_PER_PACKET: usize = RECV_BUFFER_LEN / crate::uapi::NLMSG_HDRLEN;

/// Packets read for one dump before it is abandoned as endless: 4096.
///
/// Even at the smallest dump packet the kernel sends (one 4 KiB page), 4096 packets carry
/// 16 MiB: well over 100,000 routes, far beyond a sandbox host's tables. A peer that never
/// sends `NLMSG_DONE` is thus cut off after a bounded number of `recv` calls.
pub const MAX_PACKETS_PER_DUMP: usize = 4096;

/// Attributes read from one message (or one nested attribute): 256.
///
/// The largest attribute space parsed here, `IFLA_*`, has fewer than 70 types in Linux
/// 6.x and the kernel emits each top-level attribute once; 256 leaves room for new kernels
/// while bounding the walk over a hostile message.
pub const MAX_ATTRIBUTES_PER_MESSAGE: usize = 256;

/// Typed messages (links, addresses or routes) collected from one dump: 65,536.
///
/// Collected values live on the heap; at roughly 100 bytes each this bounds a dump's
/// memory to a few MiB. It admits the 10,000-route dump of the benchmark and any sandbox
/// host, and turns a pathological routing table into an error instead of unbounded growth.
/// Lookups that only need one message (such as the default route) stream the dump and are
/// bounded by [`MAX_PACKETS_PER_DUMP`] alone.
pub const MAX_MESSAGES_PER_DUMP: usize = 65_536;

/// Bytes in one request this crate builds: 1024.
///
/// The largest request, a veth pair with both names and a namespace, is under 200 bytes;
/// the builder refuses to write past this bound rather than grow.
pub const MAX_REQUEST_LEN: usize = 1024;

/// Receive attempts retried after `EINTR` before giving up: 64.
///
/// A signal storm must not turn a receive into an endless loop.
pub const MAX_EINTR_RETRIES: usize = 64;

/// Seconds a receive waits for the kernel before failing with `EAGAIN`: 5.
///
/// rtnetlink answers synchronously, so a silent socket means something is broken; the
/// timeout turns that into an error instead of a hang.
pub const RECV_TIMEOUT_SECS: u64 = 5;
