//! Sample 30: run a program under another `argv[0]`.
//!
//! ```text
//! cargo run -p voidbox --example sample_30_argv0
//! ```
//!
//! `cmd[0]` says which program runs; `process.argv0` is the name it is told
//! it runs under (multi-call binaries such as busybox choose their
//! behaviour by it). The command, `/bin/cat /proc/self/cmdline`, prints its
//! own argument vector; the sample prints it as `argv: custom-cat
//! /proc/self/cmdline`, then `exit=0`.

use voidbox::{Command, JailConfig, ProcessOptions, RootSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/cat".into(), "/proc/self/cmdline".into()],
        process: ProcessOptions {
            argv0: Some("custom-cat".into()),
            ..ProcessOptions::default()
        },
        ..JailConfig::default()
    };
    let out = Command::from_config(config).output()?;
    // The arguments are NUL-terminated.
    let argv: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    println!("argv: {}", argv.join(" "));
    let status = out.status;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
