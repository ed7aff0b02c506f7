//! Sample 06: remove selected variables from the inherited environment.
//!
//! ```text
//! cargo run -p voidbox --example sample_06_unset_env
//! ```
//!
//! `/usr/bin/env` prints the caller's environment without `PATH` and
//! `HOME`; then the sample prints `exit=0`. The command is given by its
//! absolute path: without `PATH` a bare name could not be looked up.

use voidbox::{EnvOp, JailConfig, ProcessOptions, RootSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/usr/bin/env".into()],
        process: ProcessOptions {
            env: vec![EnvOp::Unset("PATH".into()), EnvOp::Unset("HOME".into())],
            ..ProcessOptions::default()
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
