//! Sample 22: run the command in a new terminal session.
//!
//! ```text
//! cargo run -p voidbox --example sample_22_new_session
//! ```
//!
//! With `new_session` the command calls `setsid()` before it runs: it leads
//! a session of its own, detached from the caller's controlling terminal, so
//! it cannot push input into the caller's terminal (`TIOCSTI`). The command
//! reports its pid and session id from `/proc/self/stat`; the sample prints
//! `inside: session leader` and `inside: not in the caller's session`, then
//! `exit=0`.

use voidbox::{Command, JailConfig, ProcessOptions, RootSource};

/// Fields 1 and 6 of `/proc/self/stat`: the shell's pid and session id
/// (`read` runs in the shell itself, so `self` is the shell).
const SCRIPT: &str =
    "read -r pid comm state ppid pgrp sid rest < /proc/self/stat; echo \"$pid $sid\"";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/sh".into(), "-c".into(), SCRIPT.into()],
        process: ProcessOptions {
            new_session: true,
            ..ProcessOptions::default()
        },
        ..JailConfig::default()
    };
    let out = Command::from_config(config).output()?;
    let text = String::from_utf8(out.stdout)?;
    let ids: Vec<i32> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [pid, sid] = ids[..] else {
        return Err(format!("unexpected output {text:?}").into());
    };
    // getsid(0) answers 0 when our session leader is outside our PID
    // namespace, which rustix's `Pid` cannot represent: ask libc.
    // SAFETY: getsid(0) only reads the calling process's session id.
    let ours = unsafe { libc::getsid(0) };
    if pid == sid {
        println!("inside: session leader");
    } else {
        println!("inside: not a session leader");
    }
    if sid == ours {
        println!("inside: in the caller's session");
    } else {
        println!("inside: not in the caller's session");
    }
    let status = out.status;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
