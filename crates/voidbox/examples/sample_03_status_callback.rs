//! Sample 03: status events delivered to a callback.
//!
//! ```text
//! cargo run -p voidbox --example sample_03_status_callback
//! ```
//!
//! The callback runs on the thread that spawns and waits, once per event, in
//! order: `runtime_init_warnings` (only when setup produced warnings),
//! `spawned`, `setup_finished`, `exited`. Each event carries the
//! `CLOCK_MONOTONIC` time it happened at (`StatusEvent::at`), and
//! `setup_finished` how long setup took (from `spawn` to the command's
//! `execve`). Prints one `event=KIND` line per event, then whether the
//! times were in order, then `exit=0`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use voidbox::{JailConfig, RootSource, StatusEvent, StatusEventKind, StatusOptions};

fn kind_name(kind: StatusEventKind) -> &'static str {
    match kind {
        StatusEventKind::RuntimeInitWarnings => "runtime_init_warnings",
        StatusEventKind::Spawned => "spawned",
        StatusEventKind::SetupFinished => "setup_finished",
        StatusEventKind::Exited => "exited",
        // More kinds may come in later versions.
        _ => "other",
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The callback must be `Send + Sync`: share what it records with a Mutex.
    let times: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let recorded = Arc::clone(&times);
    let on_event = move |event: &StatusEvent| {
        println!("event={}", kind_name(event.kind()));
        if let Ok(mut times) = recorded.lock() {
            times.push(event.at());
        }
    };
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        status: StatusOptions {
            on_event: Some(Arc::new(on_event)),
            ..StatusOptions::default()
        },
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    let times = times.lock().map_err(|_| "the callback panicked")?;
    let ordered = times.windows(2).all(|pair| pair[0] <= pair[1]);
    println!("monotonic={}", if ordered { "yes" } else { "no" });
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
