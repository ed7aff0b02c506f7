//! Sample 05: start from an empty environment and set one variable.
//!
//! ```text
//! cargo run -p voidbox --example sample_05_clear_env
//! ```
//!
//! `/usr/bin/env` prints the whole environment it got: `HELLO=WORLD`, and
//! `PWD`, which voidbox always sets to the working directory. Then the
//! sample prints `exit=0`.

use voidbox::{EnvOp, JailConfig, ProcessOptions, RootSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/usr/bin/env".into()],
        process: ProcessOptions {
            // Edits apply in order to the caller's environment: clear it,
            // then set. (`voidbox::Command` has `env_clear` and `env`.)
            env: vec![
                EnvOp::Clear,
                EnvOp::Set {
                    key: "HELLO".into(),
                    value: "WORLD".into(),
                },
            ],
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
