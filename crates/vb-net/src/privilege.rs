//! Checking the capabilities bridge networking needs before anything is created, so that
//! an unprivileged caller gets one clear message instead of a kernel `EPERM` halfway.

use crate::error::Error;

const STATUS: &str = "/proc/thread-self/status";
const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

/// The effective capability set of the calling thread (`CapEff` in procfs).
fn effective_caps() -> Result<u64, Error> {
    let text = std::fs::read_to_string(STATUS).map_err(Error::io("reading", STATUS))?;
    Ok(parse_cap_eff(&text).unwrap_or(0))
}

fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(line.trim(), 16).ok()
}

/// Requires what [`BridgePlan::attach`](crate::BridgePlan::attach) needs: `CAP_NET_ADMIN`
/// (bridge, veth, addresses, NAT) and `CAP_SYS_ADMIN` (entering the sandbox's network
/// namespace to configure its end).
///
/// The capabilities are those of the calling thread's user namespace: for the host's own
/// network namespace, that means real root (or the capabilities granted to the process).
pub(crate) fn check() -> Result<(), Error> {
    let caps = effective_caps()?;
    for (bit, capability) in [
        (CAP_NET_ADMIN, "CAP_NET_ADMIN"),
        (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
    ] {
        if caps & (1 << bit) == 0 {
            return Err(Error::MissingCapability {
                what: "bridge networking".to_owned(),
                capability,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_eff_is_read_from_the_status_text() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_cap_eff(status), Some(0x1ff_ffff_ffff));
        assert_eq!(parse_cap_eff("CapEff:\t0000000000001000\n"), Some(1 << 12));
        assert_eq!(parse_cap_eff("Name:\tx\n"), None);
    }

    #[test]
    fn check_agrees_with_being_root() {
        let root = rustix::process::geteuid().is_root();
        match check() {
            Ok(()) => assert!(root || effective_caps().unwrap() != 0),
            Err(e) => {
                assert!(!root, "root has every capability: {e}");
                assert!(e.to_string().contains("CAP_"), "{e}");
            }
        }
    }
}
