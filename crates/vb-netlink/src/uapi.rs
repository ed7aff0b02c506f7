//! Numeric constants of the rtnetlink wire format, as fixed by the Linux UAPI headers
//! (`linux/netlink.h`, `linux/rtnetlink.h`, `linux/if_link.h`, `linux/if_addr.h`,
//! `linux/veth.h`).
//!
//! They are spelled out here rather than taken from `libc` so that the wire format this
//! crate speaks is visible in one place and identical on every libc.

/// `NLMSG_ALIGNTO` and `NLA_ALIGNTO`: frames and attributes start on 4-byte boundaries.
pub(crate) const ALIGN_TO: usize = 4;
/// `NLMSG_HDRLEN`: size of `struct nlmsghdr`.
pub(crate) const NLMSG_HDRLEN: usize = 16;
/// `NLA_HDRLEN`: size of `struct nlattr` / `struct rtattr`.
pub(crate) const NLA_HDRLEN: usize = 4;

pub(crate) const NLMSG_NOOP: u16 = 1;
pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLMSG_OVERRUN: u16 = 4;

pub(crate) const NLM_F_REQUEST: u16 = 0x1;
pub(crate) const NLM_F_ACK: u16 = 0x4;
pub(crate) const NLM_F_DUMP_INTR: u16 = 0x10;
pub(crate) const NLM_F_DUMP: u16 = 0x300;
pub(crate) const NLM_F_EXCL: u16 = 0x200;
pub(crate) const NLM_F_CREATE: u16 = 0x400;

pub(crate) const RTM_NEWLINK: u16 = 16;
pub(crate) const RTM_DELLINK: u16 = 17;
pub(crate) const RTM_GETLINK: u16 = 18;
pub(crate) const RTM_NEWADDR: u16 = 20;
pub(crate) const RTM_DELADDR: u16 = 21;
pub(crate) const RTM_GETADDR: u16 = 22;
pub(crate) const RTM_NEWROUTE: u16 = 24;
pub(crate) const RTM_DELROUTE: u16 = 25;
pub(crate) const RTM_GETROUTE: u16 = 26;

pub(crate) const NLA_F_NESTED: u16 = 0x8000;
pub(crate) const NLA_F_NET_BYTEORDER: u16 = 0x4000;
pub(crate) const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

pub(crate) const AF_UNSPEC: u8 = 0;
pub(crate) const AF_INET: u8 = 2;
pub(crate) const AF_INET6: u8 = 10;

/// `sizeof(struct ifinfomsg)`.
pub(crate) const IFINFOMSG_LEN: usize = 16;
/// `sizeof(struct ifaddrmsg)`.
pub(crate) const IFADDRMSG_LEN: usize = 8;
/// `sizeof(struct rtmsg)`.
pub(crate) const RTMSG_LEN: usize = 12;

pub(crate) const IFLA_ADDRESS: u16 = 1;
pub(crate) const IFLA_IFNAME: u16 = 3;
pub(crate) const IFLA_MTU: u16 = 4;
pub(crate) const IFLA_LINK: u16 = 5;
pub(crate) const IFLA_MASTER: u16 = 10;
pub(crate) const IFLA_OPERSTATE: u16 = 16;
pub(crate) const IFLA_LINKINFO: u16 = 18;
pub(crate) const IFLA_IFALIAS: u16 = 20;
/// `IFALIASZ`: an alias is at most 255 bytes.
pub(crate) const IFALIASZ: usize = 256;
pub(crate) const IFLA_NET_NS_PID: u16 = 19;
pub(crate) const IFLA_NET_NS_FD: u16 = 28;
pub(crate) const IFLA_INFO_KIND: u16 = 1;
pub(crate) const IFLA_INFO_DATA: u16 = 2;
/// `VETH_INFO_PEER` from `linux/veth.h` (absent from most Rust crates).
pub(crate) const VETH_INFO_PEER: u16 = 1;

pub(crate) const IFF_UP: u32 = 0x1;

pub(crate) const IFA_ADDRESS: u16 = 1;
pub(crate) const IFA_LOCAL: u16 = 2;
pub(crate) const IFA_LABEL: u16 = 3;
pub(crate) const IFA_FLAGS: u16 = 8;
pub(crate) const IFA_F_NODAD: u8 = 0x02;

pub(crate) const RTA_DST: u16 = 1;
pub(crate) const RTA_OIF: u16 = 4;
pub(crate) const RTA_GATEWAY: u16 = 5;
pub(crate) const RTA_PRIORITY: u16 = 6;
pub(crate) const RTA_PREFSRC: u16 = 7;
pub(crate) const RTA_TABLE: u16 = 15;

pub(crate) const RT_SCOPE_UNIVERSE: u8 = 0;
pub(crate) const RT_SCOPE_LINK: u8 = 253;
pub(crate) const RT_SCOPE_HOST: u8 = 254;
pub(crate) const RT_SCOPE_NOWHERE: u8 = 255;

pub(crate) const RT_TABLE_UNSPEC: u8 = 0;
pub(crate) const RT_TABLE_MAIN: u32 = 254;

pub(crate) const RTPROT_BOOT: u8 = 3;
pub(crate) const RTN_UNICAST: u8 = 1;

/// Errno values the ACK parser gives a meaning of their own.
pub(crate) const EEXIST: i32 = 17;
pub(crate) const ENOENT: i32 = 2;
pub(crate) const ESRCH: i32 = 3;
pub(crate) const ENODEV: i32 = 19;
pub(crate) const EADDRNOTAVAIL: i32 = 99;
