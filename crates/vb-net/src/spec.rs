//! What a caller asks for ([`NetworkSpec`], as a user would write it) and the checked
//! plan made of it ([`BridgePlan`]): every input error surfaces here, before anything
//! exists on the host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use ipnetwork::{Ipv4Network, Ipv6Network};
use vb_netlink::IfName;

use crate::error::Error;
use crate::nat::NatBackend;
use crate::pool::{GATEWAY_OFFSET, Pool, Pool6};
use crate::resolv::{MAX_NAME_SERVERS, resolv_conf};

/// The bridge used when none is named.
pub const DEFAULT_BRIDGE: &str = "voidbox0";
/// The subnet used when none is given; its first address is the gateway.
pub const DEFAULT_SUBNET: &str = "10.88.0.0/16";
/// The sandbox-side interface name used when none is given.
pub const DEFAULT_IFNAME: &str = "eth0";
/// Where bridge lock files live by default (a tmpfs, emptied at boot with the bridges).
pub const DEFAULT_STATE_DIR: &str = "/run/voidbox/net";

/// A sandbox's bridge networking, as a user would write it (strings are parsed by
/// [`BridgePlan::new`]).
///
/// ```
/// let spec = vb_net::NetworkSpec {
///     subnet: "10.89.0.0/24".into(),
///     dns: vec!["192.0.2.53".into()],
///     nat: true,
///     ..Default::default()
/// };
/// let plan = vb_net::BridgePlan::new(&spec)?;
/// assert_eq!(plan.gateway().to_string(), "10.89.0.1");
/// # Ok::<(), vb_net::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSpec {
    /// The host bridge (created if missing). Letters, digits, `_`, `.` and `-`, at most
    /// 15 bytes. Default [`DEFAULT_BRIDGE`].
    pub bridge: String,
    /// The IPv4 subnet in CIDR form, `/8` to `/30`, host bits zero. Its first address is
    /// the gateway (on the bridge); the others but the broadcast address form the pool.
    /// Default [`DEFAULT_SUBNET`].
    pub subnet: String,
    /// A fixed IPv4 address for the sandbox instead of one from the pool: inside the
    /// subnet, and neither its network, broadcast nor gateway address.
    pub address: Option<String>,
    /// The interface's name inside the sandbox. Default [`DEFAULT_IFNAME`].
    pub ifname: String,
    /// Name servers for the sandbox's `resolv.conf` (at most three); none means no
    /// `resolv.conf` is generated.
    pub dns: Vec<String>,
    /// Masquerade the subnet out of the host's outgoing interface and turn on forwarding.
    pub nat: bool,
    /// Which program writes the NAT rules.
    pub nat_backend: NatBackend,
    /// An IPv6 subnet too (e.g. `fd00:88::/64`): its first address is the IPv6 gateway;
    /// the sandbox gets the address at the same offset as its IPv4 one.
    pub ipv6_subnet: Option<String>,
    /// Keep the bridge and its NAT rules when the last sandbox using them ends.
    pub keep_bridge: bool,
    /// Where the per-bridge lock files live. Default [`DEFAULT_STATE_DIR`].
    pub state_dir: PathBuf,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        Self {
            bridge: DEFAULT_BRIDGE.into(),
            subnet: DEFAULT_SUBNET.into(),
            address: None,
            ifname: DEFAULT_IFNAME.into(),
            dns: Vec::new(),
            nat: false,
            nat_backend: NatBackend::Auto,
            ipv6_subnet: None,
            keep_bridge: false,
            state_dir: DEFAULT_STATE_DIR.into(),
        }
    }
}

/// A checked [`NetworkSpec`]: pure data, made before the sandbox is cloned, used after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgePlan {
    pub(crate) bridge: IfName,
    pub(crate) bridge_name: String,
    pub(crate) pool: Pool,
    pub(crate) pool6: Option<Pool6>,
    pub(crate) fixed: Option<u32>,
    pub(crate) ifname: IfName,
    pub(crate) dns: Vec<IpAddr>,
    pub(crate) nat: bool,
    pub(crate) nat_backend: NatBackend,
    pub(crate) keep_bridge: bool,
    pub(crate) state_dir: PathBuf,
}

fn invalid(field: &'static str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSpec {
        field,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

fn if_name(field: &'static str, value: &str) -> Result<IfName, Error> {
    IfName::new(value).map_err(|e| match e {
        vb_netlink::Error::InvalidIfName { reason } => invalid(
            field,
            value,
            format!("not a valid interface name: {reason}"),
        ),
        other => invalid(field, value, other.to_string()),
    })
}

impl BridgePlan {
    /// Checks `spec`. Touches nothing on the host.
    ///
    /// # Errors
    /// [`Error::InvalidSpec`] naming the field: an interface name that is empty, longer
    /// than 15 bytes (`IFNAMSIZ`) or has forbidden bytes; a bridge name outside
    /// `[A-Za-z0-9_.-]` (it names firewall tables); a malformed CIDR, a prefix outside
    /// `/8`..`/30`, host bits set; a fixed address outside the subnet or equal to its
    /// network, broadcast or gateway address; a malformed, unspecified or fourth name
    /// server; an IPv6 subnet too small to mirror the IPv4 one; a relative state directory.
    pub fn new(spec: &NetworkSpec) -> Result<Self, Error> {
        let bridge = if_name("bridge", &spec.bridge)?;
        if !spec
            .bridge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(invalid(
                "bridge",
                &spec.bridge,
                "only letters, digits, `_`, `.` and `-` are accepted (the name is used in \
                 firewall table names)",
            ));
        }
        let ifname = if_name("ifname", &spec.ifname)?;
        require_prefix("subnet", &spec.subnet)?;
        let subnet: Ipv4Network = spec
            .subnet
            .parse()
            .map_err(|e| invalid("subnet", &spec.subnet, format!("not an IPv4 CIDR: {e}")))?;
        let pool = Pool::new(subnet).map_err(|reason| invalid("subnet", &spec.subnet, reason))?;
        let fixed = match &spec.address {
            None => None,
            Some(text) => Some(fixed_offset(&pool, text)?),
        };
        let pool6 = match &spec.ipv6_subnet {
            None => None,
            Some(text) => {
                require_prefix("ipv6_subnet", text)?;
                let net: Ipv6Network = text
                    .parse()
                    .map_err(|e| invalid("ipv6_subnet", text, format!("not an IPv6 CIDR: {e}")))?;
                Some(
                    Pool6::new(net, &pool)
                        .map_err(|reason| invalid("ipv6_subnet", text, reason))?,
                )
            }
        };
        if spec.dns.len() > MAX_NAME_SERVERS {
            return Err(invalid(
                "dns",
                &spec.dns.join(" "),
                format!("at most {MAX_NAME_SERVERS} name servers are read by the C library"),
            ));
        }
        let dns = spec
            .dns
            .iter()
            .map(|text| {
                let ip: IpAddr = text
                    .parse()
                    .map_err(|e| invalid("dns", text, format!("not an IP address: {e}")))?;
                if ip.is_unspecified() {
                    return Err(invalid("dns", text, "the unspecified address is no server"));
                }
                Ok(ip)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !spec.state_dir.is_absolute() {
            return Err(invalid(
                "state_dir",
                &spec.state_dir.display().to_string(),
                "must be an absolute path",
            ));
        }
        Ok(Self {
            bridge,
            bridge_name: spec.bridge.clone(),
            pool,
            pool6,
            fixed,
            ifname,
            dns,
            nat: spec.nat,
            nat_backend: spec.nat_backend,
            keep_bridge: spec.keep_bridge,
            state_dir: spec.state_dir.clone(),
        })
    }

    /// The bridge's name.
    #[must_use]
    pub fn bridge(&self) -> &str {
        &self.bridge_name
    }

    /// The IPv4 subnet.
    #[must_use]
    pub fn subnet(&self) -> Ipv4Network {
        self.pool.subnet()
    }

    /// The IPv4 gateway: the subnet's first address, carried by the bridge.
    #[must_use]
    pub fn gateway(&self) -> Ipv4Addr {
        self.pool.gateway()
    }

    /// The IPv6 subnet, if any.
    #[must_use]
    pub fn ipv6_subnet(&self) -> Option<Ipv6Network> {
        self.pool6.map(|p| p.subnet())
    }

    /// The IPv6 gateway, if any.
    #[must_use]
    pub fn ipv6_gateway(&self) -> Option<Ipv6Addr> {
        self.pool6.map(|p| p.gateway())
    }

    /// The interface's name inside the sandbox.
    #[must_use]
    pub fn ifname(&self) -> &IfName {
        &self.ifname
    }

    /// The fixed address asked for, if any.
    #[must_use]
    pub fn fixed_address(&self) -> Option<Ipv4Addr> {
        self.fixed.map(|o| self.pool.address(o))
    }

    /// How many sandboxes the pool can hold at once.
    #[must_use]
    pub fn pool_size(&self) -> u32 {
        self.pool.size()
    }

    /// The name servers.
    #[must_use]
    pub fn dns(&self) -> &[IpAddr] {
        &self.dns
    }

    /// The content of the sandbox's `/etc/resolv.conf`, for the caller to bind in as data;
    /// `None` without name servers. Known before the clone: it depends only on the spec.
    #[must_use]
    pub fn resolv_conf(&self) -> Option<String> {
        (!self.dns.is_empty()).then(|| resolv_conf(&self.dns))
    }
}

/// A CIDR without `/len` would parse as a single host; say so instead.
fn require_prefix(field: &'static str, text: &str) -> Result<(), Error> {
    if text.contains('/') {
        Ok(())
    } else {
        Err(invalid(
            field,
            text,
            "not a CIDR: the prefix length (`/len`) is missing",
        ))
    }
}

fn fixed_offset(pool: &Pool, text: &str) -> Result<u32, Error> {
    let ip: Ipv4Addr = text
        .parse()
        .map_err(|e| invalid("address", text, format!("not an IPv4 address: {e}")))?;
    let subnet = pool.subnet();
    let offset = pool
        .offset_of(ip)
        .ok_or_else(|| invalid("address", text, format!("outside the subnet {subnet}")))?;
    if offset == GATEWAY_OFFSET {
        return Err(invalid("address", text, "is the gateway's address"));
    }
    if !pool.is_allocatable(offset) {
        return Err(invalid(
            "address",
            text,
            format!("is the network or broadcast address of {subnet}"),
        ));
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(spec: NetworkSpec) -> String {
        BridgePlan::new(&spec).unwrap_err().to_string()
    }

    #[test]
    fn defaults_plan_the_documented_network() {
        let plan = BridgePlan::new(&NetworkSpec::default()).unwrap();
        assert_eq!(plan.bridge(), "voidbox0");
        assert_eq!(plan.subnet().to_string(), "10.88.0.0/16");
        assert_eq!(plan.gateway(), Ipv4Addr::new(10, 88, 0, 1));
        assert_eq!(plan.ifname(), &"eth0");
        assert_eq!(plan.pool_size(), 65_533);
        assert_eq!(plan.resolv_conf(), None);
        assert_eq!(plan.fixed_address(), None);
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let cases: [(NetworkSpec, &str); 15] = [
            (
                NetworkSpec {
                    subnet: "10.88.0.0/abc".into(),
                    ..Default::default()
                },
                "not an IPv4 CIDR",
            ),
            (
                NetworkSpec {
                    subnet: "10.88.0.0".into(),
                    ..Default::default()
                },
                "network option `subnet` = \"10.88.0.0\": not a CIDR: the prefix length",
            ),
            (
                NetworkSpec {
                    subnet: "10.88.0.0/33".into(),
                    ..Default::default()
                },
                "`subnet`",
            ),
            (
                NetworkSpec {
                    subnet: "10.88.0.0/31".into(),
                    ..Default::default()
                },
                "between /8 and /30",
            ),
            (
                NetworkSpec {
                    subnet: "10.88.1.0/16".into(),
                    ..Default::default()
                },
                "host bits are set",
            ),
            (
                NetworkSpec {
                    address: Some("10.89.0.2".into()),
                    ..Default::default()
                },
                "outside the subnet 10.88.0.0/16",
            ),
            (
                NetworkSpec {
                    address: Some("10.88.0.1".into()),
                    ..Default::default()
                },
                "is the gateway's address",
            ),
            (
                NetworkSpec {
                    address: Some("10.88.255.255".into()),
                    ..Default::default()
                },
                "broadcast",
            ),
            (
                NetworkSpec {
                    address: Some("10.88.0.0".into()),
                    ..Default::default()
                },
                "network or broadcast",
            ),
            (
                NetworkSpec {
                    bridge: "a-bridge-name-too-long".into(),
                    ..Default::default()
                },
                "`bridge` = \"a-bridge-name-too-long\": not a valid interface name: longer than 15 bytes",
            ),
            (
                NetworkSpec {
                    bridge: "br\"0".into(),
                    ..Default::default()
                },
                "only letters, digits",
            ),
            (
                NetworkSpec {
                    ifname: "eth0-in-the-sandbox".into(),
                    ..Default::default()
                },
                "`ifname`",
            ),
            (
                NetworkSpec {
                    dns: vec!["one.one.one.one".into()],
                    ..Default::default()
                },
                "`dns` = \"one.one.one.one\": not an IP address",
            ),
            (
                NetworkSpec {
                    dns: vec![
                        "192.0.2.1".into(),
                        "192.0.2.2".into(),
                        "192.0.2.3".into(),
                        "192.0.2.4".into(),
                    ],
                    ..Default::default()
                },
                "at most 3 name servers",
            ),
            (
                NetworkSpec {
                    ipv6_subnet: Some("fd00::/120".into()),
                    ..Default::default()
                },
                "`ipv6_subnet`",
            ),
        ];
        for (spec, want) in cases {
            let got = err(spec.clone());
            assert!(got.contains(want), "{spec:?}\n  got: {got}\n  want: {want}");
        }
        assert!(
            err(NetworkSpec {
                state_dir: "run/x".into(),
                ..Default::default()
            })
            .contains("absolute")
        );
        assert!(
            err(NetworkSpec {
                dns: vec!["0.0.0.0".into()],
                ..Default::default()
            })
            .contains("unspecified")
        );
    }

    #[test]
    fn a_valid_fixed_address_and_ipv6_subnet_are_kept() {
        let plan = BridgePlan::new(&NetworkSpec {
            subnet: "192.168.50.0/24".into(),
            address: Some("192.168.50.77".into()),
            ipv6_subnet: Some("fd00:50::/64".into()),
            dns: vec!["192.0.2.53".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(plan.fixed_address(), Some(Ipv4Addr::new(192, 168, 50, 77)));
        assert_eq!(plan.ipv6_gateway(), Some("fd00:50::1".parse().unwrap()));
        assert_eq!(
            plan.resolv_conf().as_deref(),
            Some("# Written by voidbox for this sandbox.\nnameserver 192.0.2.53\n")
        );
    }
}
