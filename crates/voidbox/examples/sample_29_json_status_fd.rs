//! Sample 29: bubblewrap's JSON status lines on stdout.
//!
//! ```text
//! cargo run -p voidbox --example sample_29_json_status_fd
//! ```
//!
//! `status.json_status_fd` receives bubblewrap's `--json-status-fd` lines:
//! `{ "child-pid": PID, "mnt-namespace": ID }` once the sandbox exists, then
//! `{ "exit-code": 0 }` once the command has ended. Here the descriptor is a
//! copy of the sample's stdout, so the lines come out between the sample's
//! own: voidbox marks the descriptors it consumes close-on-exec, and a copy
//! keeps that from touching the sample's own stdout. Prints the two lines,
//! then `exit=0`. (`status.event_fd` is the same idea with voidbox's own
//! event format, one JSON line per `StatusEvent`.)

use std::os::fd::AsFd;
use std::sync::Arc;

use voidbox::{JailConfig, RootSource, StatusOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdout = std::io::stdout().as_fd().try_clone_to_owned()?;
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        status: StatusOptions {
            json_status_fd: Some(Arc::new(stdout)),
            ..StatusOptions::default()
        },
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
