//! Sample 02: a shell with explicit arguments, through the shell helpers.
//!
//! ```text
//! cargo run -p voidbox --example sample_02_shell_command
//! ```
//!
//! `default_shell_config` gives `/bin/sh` over a root directory with new
//! PID, mount, UTS and IPC namespaces; `launch_shell` runs it with its
//! arguments. The shell prints `hi` on the caller's stdout, then the
//! sample prints `exit=0`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut shell = voidbox::default_shell_config("/");
    shell.shell_args = vec!["-c".into(), "echo hi".into()];
    // Anything else about the sandbox is in `shell.jail`, a `JailConfig`.
    let status = voidbox::launch_shell(&shell)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the shell failed: {status:?}").into());
    }
    Ok(())
}
