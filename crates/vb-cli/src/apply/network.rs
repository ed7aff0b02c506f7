//! Networking options: a bridge with a veth pair (`--net-bridge` and the
//! options that refine it), rootless pasta (`--net-pasta`) and joining an
//! existing namespace (`--netns`, with the namespace options). The values
//! are checked by the library before anything is created; the combinations
//! by [`crate::checks`].

use std::ffi::OsString;

use crate::state::{State, die};

use super::Outcome;

/// The option's value as text, or bubblewrap-style refusal of a non-UTF-8 one.
fn text(option: &str, v: OsString) -> Result<String, crate::state::CliError> {
    v.into_string()
        .or_else(|v| die(format!("Invalid {option} value {v:?}: not UTF-8")))
}

pub(crate) fn net_bridge(s: &mut State, v: OsString) -> Outcome {
    s.net.spec.bridge = text("--net-bridge", v)?;
    s.net.bridge = true;
    Ok(())
}

pub(crate) fn net_subnet(s: &mut State, v: OsString) -> Outcome {
    s.net.spec.subnet = text("--net-subnet", v)?;
    s.net.refined.push("--net-subnet");
    Ok(())
}

pub(crate) fn net_ip(s: &mut State, v: OsString) -> Outcome {
    s.net.spec.address = Some(text("--net-ip", v)?);
    s.net.refined.push("--net-ip");
    Ok(())
}

pub(crate) fn net_ifname(s: &mut State, v: OsString) -> Outcome {
    let name = text("--net-ifname", v)?;
    s.net.spec.ifname.clone_from(&name);
    s.net.pasta_ifname = Some(name);
    Ok(())
}

pub(crate) fn net_dns(s: &mut State, v: OsString) -> Outcome {
    let server = text("--net-dns", v)?;
    s.net.spec.dns.push(server);
    s.net.refined.push("--net-dns");
    Ok(())
}

pub(crate) fn net_nat(s: &mut State) -> Outcome {
    s.net.spec.nat = true;
    s.net.refined.push("--net-nat");
    Ok(())
}

pub(crate) fn net_subnet6(s: &mut State, v: OsString) -> Outcome {
    s.net.spec.ipv6_subnet = Some(text("--net-subnet6", v)?);
    s.net.refined.push("--net-subnet6");
    Ok(())
}

pub(crate) fn net_pasta(s: &mut State) -> Outcome {
    s.net.pasta = true;
    Ok(())
}

pub(crate) fn net_host_loopback(s: &mut State) -> Outcome {
    s.net.host_loopback = true;
    Ok(())
}

pub(crate) fn net_keep_bridge(s: &mut State) -> Outcome {
    s.net.spec.keep_bridge = true;
    s.net.refined.push("--net-keep-bridge");
    Ok(())
}
