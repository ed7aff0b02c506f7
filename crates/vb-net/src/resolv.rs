//! The sandbox's `/etc/resolv.conf`: its content, for the caller to bind into the
//! sandbox as data (vb-net writes no file).

use std::net::IpAddr;

/// The most name servers the C library reads (`MAXNS`); more would be ignored silently.
pub const MAX_NAME_SERVERS: usize = 3;

/// The text of a `resolv.conf` listing `servers` in order.
///
/// The servers must be reachable from inside the sandbox: with NAT any public resolver
/// is, but a resolver on the host's loopback (systemd-resolved's 127.0.0.53) is not.
#[must_use]
pub fn resolv_conf(servers: &[IpAddr]) -> String {
    let mut out = String::from("# Written by voidbox for this sandbox.\n");
    for server in servers {
        out.push_str("nameserver ");
        out.push_str(&server.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_servers_in_order_one_per_line() {
        let servers: Vec<IpAddr> = vec![
            "192.0.2.53".parse().unwrap(),
            "2001:db8::53".parse().unwrap(),
        ];
        assert_eq!(
            resolv_conf(&servers),
            "# Written by voidbox for this sandbox.\n\
             nameserver 192.0.2.53\n\
             nameserver 2001:db8::53\n"
        );
        assert_eq!(resolv_conf(&[]), "# Written by voidbox for this sandbox.\n");
    }
}
