//! Sample 24: keep a capability in the sandbox.
//!
//! ```text
//! cargo run -p voidbox --example sample_24_cap_add
//! ```
//!
//! voidbox follows bubblewrap's capability model: a caller whose real uid is
//! 0 starts from its own effective set, any other caller from nothing; the
//! `CapOp`s edit that set in order. Run by root, the command keeps root's
//! set, which has `CAP_NET_ADMIN` already; run by another user, it has
//! `CAP_NET_ADMIN` alone — in the user namespace voidbox creates for it,
//! not over the host. The command prints its `/proc/self/status`; the sample
//! decodes `CapEff` and prints `has CAP_NET_ADMIN: yes`, `effective count:
//! N` and `exit=0`. Where the capability cannot be granted (no user
//! namespace for an unprivileged caller), it prints `refused: REASON`.

use voidbox::{CapOp, Capability, Command, JailConfig, RootSource, SecurityOptions};

/// The effective set in the text of `/proc/self/status`.
fn effective_set(status: &str) -> Option<u64> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/cat".into(), "/proc/self/status".into()],
        security: SecurityOptions {
            // `CapOp::parse("NET_ADMIN", true)` reads the CLI's spelling.
            capabilities: vec![CapOp::Add(Capability::NET_ADMIN)],
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
    let has = set & Capability::NET_ADMIN.bit() != 0;
    println!("has CAP_NET_ADMIN: {}", if has { "yes" } else { "no" });
    println!("effective count: {}", set.count_ones());
    let status = out.status;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
