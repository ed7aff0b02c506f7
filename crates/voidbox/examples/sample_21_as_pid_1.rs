//! Sample 21: the command as pid 1 of its PID namespace.
//!
//! ```text
//! cargo run -p voidbox --example sample_21_as_pid_1
//! ```
//!
//! By default voidbox runs a small reaper as pid 1 of a new PID namespace
//! (it forwards signals and reaps orphans) and the command is pid 2 (see
//! sample 07). With `as_pid_1` the command itself is pid 1 and takes on
//! that role. Prints `pid=1` and `exit=0`.

use voidbox::{JailConfig, Namespaces, RootSource, RuntimeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/sh".into(), "-c".into(), "echo \"pid=$$\"".into()],
        isolation: Namespaces {
            pid: true, // as_pid_1 needs a new PID namespace
            ..Namespaces::default()
        },
        runtime: RuntimeOptions {
            as_pid_1: true,
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
