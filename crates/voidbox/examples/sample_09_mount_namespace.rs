//! Sample 09: only a mount namespace.
//!
//! ```text
//! cargo run -p voidbox --example sample_09_mount_namespace
//! ```
//!
//! The command reports the namespaces it is in; the sample compares them
//! with its own and prints `KIND=new` or `KIND=shared` for
//! `mnt uts ipc net pid user`, then `exit=0`. Only `mnt` is new — and `user`
//! for a caller that is not root, which cannot create a mount namespace
//! without one (voidbox implies it, as bubblewrap does).

use std::path::Path;

use voidbox::{Command, JailConfig, Namespaces, RootSource};

const KINDS: [&str; 6] = ["mnt", "uts", "ipc", "net", "pid", "user"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            "cd /proc/self/ns && readlink mnt uts ipc net pid user".into(),
        ],
        isolation: Namespaces {
            mount: true,
            ..Namespaces::default()
        },
        ..JailConfig::default()
    };
    let out = Command::from_config(config).output()?;
    let text = String::from_utf8(out.stdout)?;
    for (kind, inside) in KINDS.iter().zip(text.lines()) {
        let ours = std::fs::read_link(format!("/proc/self/ns/{kind}"))?;
        let verdict = if Path::new(inside) == ours {
            "shared"
        } else {
            "new"
        };
        println!("{kind}={verdict}");
    }
    let status = out.status;
    println!("exit={}", status.code());
    if !status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("the command failed: {status:?}: {stderr}").into());
    }
    Ok(())
}
