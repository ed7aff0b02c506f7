//! Sample 10: a lock file that tells other processes the sandbox is alive.
//!
//! ```text
//! cargo run -p voidbox --example sample_10_lock_file
//! ```
//!
//! The sandbox holds a read lock (`fcntl(F_SETLK, F_RDLCK)`) on each of
//! `status.lock_files` for its whole life, so another process can watch for
//! it: a write lock on the file is refused while the sandbox runs and
//! granted once it has ended. The sample creates the lock file under the
//! temporary directory, runs a command that waits for its stdin to close,
//! tries a write lock while it runs and again after, and removes the file.
//! Prints `while running: locked`, `after exit: free` and `exit=0`.

use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fs::FlockOperation;
use voidbox::{JailConfig, RootSource, StatusOptions, Stdio};

/// A file of this run, removed on drop.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether another process holds a lock on `path`: try a write lock without
/// waiting (an open-file-description lock, which conflicts with the
/// sandbox's `fcntl` lock), and let go of it at once.
fn locked_by_someone(path: &Path) -> std::io::Result<bool> {
    let file = File::options().read(true).write(true).open(path)?;
    match rustix::fs::fcntl_lock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(false), // closing the file releases it
        Err(rustix::io::Errno::AGAIN) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lock = TempFile(
        std::env::temp_dir().join(format!("voidbox-sample-10-{}.lock", std::process::id())),
    );
    // The sandbox opens the file read-only: it must exist. With the host's
    // `/` as the root, the path inside the sandbox is the same.
    File::create(&lock.0)?;
    let mut config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        // `cat` runs until the sample closes the command's stdin.
        cmd: vec!["/bin/cat".into()],
        status: StatusOptions {
            lock_files: vec![lock.0.clone()],
            ..StatusOptions::default()
        },
        ..JailConfig::default()
    };
    config.process.stdin = Stdio::piped();
    let mut session = voidbox::spawn(&config)?; // returns once setup is done
    let during = locked_by_someone(&lock.0)?;
    println!("while running: {}", if during { "locked" } else { "free" });
    drop(session.stdin.take()); // end-of-file for `cat`
    let status = session.wait()?;
    let after = locked_by_someone(&lock.0)?;
    println!("after exit: {}", if after { "locked" } else { "free" });
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
