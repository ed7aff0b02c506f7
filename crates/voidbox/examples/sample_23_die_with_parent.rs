//! Sample 23: the sandbox dies with the thread that spawned it.
//!
//! ```text
//! cargo run -p voidbox --example sample_23_die_with_parent
//! ```
//!
//! `die_with_parent` asks the kernel to SIGKILL the sandbox when its parent
//! goes away (`PR_SET_PDEATHSIG`), so a crashed embedder leaves no sandbox
//! behind. The parent the kernel watches is the *thread* that spawned it:
//! here a helper thread spawns a sandbox running `sleep 30` and ends at
//! once, and the main thread, waiting for the session, sees it killed.
//! Prints `exit=137 (signal 9)`. (In an embedder with a thread pool, spawn
//! such sandboxes from a thread that lives as long as they should.)

use voidbox::{JailConfig, ProcessOptions, RootSource, Termination};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/sleep".into(), "30".into()],
        process: ProcessOptions {
            die_with_parent: true,
            ..ProcessOptions::default()
        },
        ..JailConfig::default()
    };
    // The helper thread spawns the sandbox and hands the session over; its
    // end is the "parent death" the sandbox was tied to.
    let spawner = std::thread::spawn(move || voidbox::spawn(&config));
    let mut session = spawner
        .join()
        .map_err(|_| "the spawning thread panicked")??;
    let status = session.wait()?;
    match status.termination() {
        Termination::Signaled(signal) => println!("exit={} (signal {signal})", status.code()),
        Termination::Exited(code) => {
            println!("exit={code}");
            return Err("the sandbox outlived the thread that spawned it".into());
        }
    }
    Ok(())
}
