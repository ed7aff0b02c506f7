//! Sample 04: an explicit working directory for the command.
//!
//! ```text
//! cargo run -p voidbox --example sample_04_chdir
//! ```
//!
//! `/bin/pwd` runs in `/tmp` of the sandbox and prints `/tmp`; the sample
//! then prints `exit=0`. Without `chdir`, the command starts in the caller's
//! working directory when it exists in the sandbox, else in `$HOME`, else
//! in `/`. `PWD` is set to the directory either way.

use voidbox::{JailConfig, ProcessOptions, RootSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/pwd".into()],
        process: ProcessOptions {
            chdir: Some("/tmp".into()),
            ..ProcessOptions::default()
        },
        ..JailConfig::default()
    };
    // A directory that does not exist in the sandbox fails the launch with
    // `Error::Chdir` ("Can't chdir to ...").
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
