//! Sample 25: drop a capability from the sandbox.
//!
//! ```text
//! cargo run -p voidbox --example sample_25_cap_drop
//! ```
//!
//! Run by root, the command keeps root's effective set minus `CAP_NET_RAW`
//! (no raw sockets, so no `ping` of its own making). Run by another user it
//! had no capability to begin with and has none. The command prints its
//! `/proc/self/status`; the sample decodes `CapEff` and prints
//! `has CAP_NET_RAW: no`, `effective count: N` and `exit=0`, or
//! `refused: REASON` when the sandbox cannot be set up as asked.

use voidbox::{CapOp, Capability, Command, JailConfig, RootSource, SecurityOptions};

/// `CAP_NET_RAW` by name (`Capability` also converts from an index).
fn net_raw() -> Result<Capability, voidbox::UnknownCapability> {
    "CAP_NET_RAW".parse()
}

/// The effective set in the text of `/proc/self/status`.
fn effective_set(status: &str) -> Option<u64> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let net_raw = net_raw()?;
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/cat".into(), "/proc/self/status".into()],
        security: SecurityOptions {
            capabilities: vec![CapOp::Drop(net_raw)],
            ..SecurityOptions::default()
        },
        ..JailConfig::default()
    };
    let out = match Command::from_config(config).output() {
        Ok(out) => out,
        Err(e) => {
            println!("refused: {e}");
            return Ok(());
        }
    };
    let set = effective_set(&String::from_utf8(out.stdout)?).ok_or("no CapEff line")?;
    let has = set & net_raw.bit() != 0;
    println!("has {net_raw}: {}", if has { "yes" } else { "no" });
    println!("effective count: {}", set.count_ones());
    let status = out.status;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
