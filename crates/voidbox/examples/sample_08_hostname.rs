//! Sample 08: a UTS namespace with its own hostname.
//!
//! ```text
//! cargo run -p voidbox --example sample_08_hostname
//! ```
//!
//! `/bin/hostname` prints `voidbox-demo`; the host's name is unchanged. Then
//! the sample prints `exit=0`. A hostname needs a new UTS namespace
//! (`voidbox::Command::hostname` sets both).

use voidbox::{JailConfig, Namespaces, RootSource, RuntimeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/hostname".into()],
        isolation: Namespaces {
            uts: true,
            ..Namespaces::default()
        },
        runtime: RuntimeOptions {
            hostname: Some("voidbox-demo".into()),
            ..RuntimeOptions::default()
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
