//! Sample 07: a new PID namespace while the network stays the host's.
//!
//! ```text
//! cargo run -p voidbox --example sample_07_pid_namespace
//! ```
//!
//! The command reports its pid as the sandbox sees it and the namespaces it
//! is in; the sample compares them with its own and prints `pid=2` (voidbox
//! runs a reaper as pid 1 of a new PID namespace, see sample 21), then
//! `KIND=new` or `KIND=shared` for `mnt uts ipc net pid user`, then `exit=0`.
//! `pid` is new and `net` shared. `mnt` is new too, because a root directory
//! needs a mount namespace, and so is `user` for a caller that is not root
//! (voidbox implies it, as bubblewrap does).

use std::path::Path;

use voidbox::{Command, JailConfig, Namespaces, RootSource};

const KINDS: [&str; 6] = ["mnt", "uts", "ipc", "net", "pid", "user"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        // `echo $$` prints the shell's pid, then `readlink` prints one
        // `KIND:[inode]` line per namespace the sandbox is in.
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo \"pid=$$\"; cd /proc/self/ns && readlink mnt uts ipc net pid user".into(),
        ],
        isolation: Namespaces {
            pid: true,
            net: false,
            ..Namespaces::default()
        },
        ..JailConfig::default()
    };
    // `output` runs the sandbox to the end with stdout and stderr captured.
    let out = Command::from_config(config).output()?;
    let text = String::from_utf8(out.stdout)?;
    let mut lines = text.lines();
    println!("{}", lines.next().unwrap_or("pid=?"));
    for (kind, inside) in KINDS.iter().zip(lines) {
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
