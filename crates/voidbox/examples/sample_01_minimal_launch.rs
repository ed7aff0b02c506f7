//! Sample 01: the smallest launch — the host's `/` as the root, `/bin/true`
//! as the command, every other option at its default.
//!
//! ```text
//! cargo run -p voidbox --example sample_01_minimal_launch
//! ```
//!
//! Prints `exit=0`. A root other than the host's own tree implies a new
//! mount namespace; run by a user other than root, voidbox adds a user
//! namespace as well (as bubblewrap does), so no privilege is needed.

use voidbox::{JailConfig, RootSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        ..JailConfig::default()
    };
    // `launch` is `spawn` followed by `wait`.
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
