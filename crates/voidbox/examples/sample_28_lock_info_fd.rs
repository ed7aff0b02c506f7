//! Sample 28: a lock file and bubblewrap's info descriptor together.
//!
//! ```text
//! cargo run -p voidbox --example sample_28_lock_info_fd
//! ```
//!
//! `status.info_fd` receives one JSON object once the sandbox exists — the
//! pid of its first process and the ids of the namespaces it created, in
//! bubblewrap's `--info-fd` format — and is then closed, so its reader sees
//! end-of-file. The descriptor is handed over (`HandOff`): the first spawn
//! takes it. The sample reads the object from a pipe while the sandbox,
//! which holds a read lock on the sample's lock file, still runs. Prints
//! `info keys: child-pid, mnt-namespace`, `info child-pid: the session's`,
//! `while running: locked`, `exit=0`, `after exit: free`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rustix::fs::FlockOperation;
use voidbox::{HandOff, JailConfig, RootSource, StatusOptions, Stdio};

/// A file of this run, removed on drop.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether another process holds a lock on `path` (see sample 10).
fn locked_by_someone(path: &Path) -> std::io::Result<bool> {
    let file = File::options().read(true).write(true).open(path)?;
    match rustix::fs::fcntl_lock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(false),
        Err(rustix::io::Errno::AGAIN) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// The keys of a flat JSON object, in order (enough for the info object,
/// whose values are numbers).
fn keys(json: &str) -> Vec<&str> {
    json.split('"').skip(1).step_by(2).collect()
}

/// The number after `"key":` in a flat JSON object.
fn number(json: &str, key: &str) -> Option<i64> {
    let rest = json.split(&format!("\"{key}\":")).nth(1)?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lock = TempFile(
        std::env::temp_dir().join(format!("voidbox-sample-28-{}.lock", std::process::id())),
    );
    File::create(&lock.0)?;
    let (info_read, info_write) = rustix::pipe::pipe()?;
    let mut config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/cat".into()],
        status: StatusOptions {
            lock_files: vec![lock.0.clone()],
            info_fd: Some(HandOff::new(info_write)),
            ..StatusOptions::default()
        },
        ..JailConfig::default()
    };
    config.process.stdin = Stdio::piped();
    let mut session = voidbox::spawn(&config)?;
    // The write end is closed once the object is written: read to the end.
    let mut info = String::new();
    File::from(info_read).read_to_string(&mut info)?;
    println!("info keys: {}", keys(&info).join(", "));
    let same = number(&info, "child-pid") == Some(i64::from(session.pid()));
    println!(
        "info child-pid: {}",
        if same { "the session's" } else { "another" }
    );
    let during = locked_by_someone(&lock.0)?;
    println!("while running: {}", if during { "locked" } else { "free" });
    drop(session.stdin.take());
    let status = session.wait()?;
    println!("exit={}", status.code());
    let after = locked_by_someone(&lock.0)?;
    println!("after exit: {}", if after { "locked" } else { "free" });
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
