//! Sample 35: the session API — spawn now, wait later.
//!
//! ```text
//! cargo run -p voidbox --example sample_35_session_api
//! ```
//!
//! `spawn` returns a `Session` once the command runs (the caller may read
//! its pipes, signal it, look at its setup warnings); `wait` returns how it
//! ended and releases the sandbox's cgroup and files. `wait` may be called
//! once: a second call is `Error::SessionAlreadyWaited`. A session dropped
//! without `wait` kills and reaps its sandbox. Prints `spawned: pid > 0`,
//! `exit=0` and `second wait: this session was already waited for`.

use voidbox::{Error, JailConfig, RootSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        ..JailConfig::default()
    };
    let mut session = voidbox::spawn(&config)?;
    // The pid of the sandbox's first process, as the caller sees it.
    if session.pid() > 0 {
        println!("spawned: pid > 0");
    }
    // `voidbox::wait(&mut session)` is the same call as a free function.
    let status = session.wait()?;
    println!("exit={}", status.code());
    match session.wait() {
        Err(e @ Error::SessionAlreadyWaited) => println!("second wait: {e}"),
        other => return Err(format!("a second wait returned {other:?}").into()),
    }
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
