//! Sample 11: bind a host directory into the sandbox.
//!
//! ```text
//! cargo run -p voidbox --example sample_11_bind
//! ```
//!
//! The host's `/usr` is bound, read-write, on a directory the sample creates
//! under the temporary directory. With the host's `/` as the root, a missing
//! destination would be created on the host, so the sample makes its own
//! (and removes it at the end). Inside, the command finds `bin/sh` under the
//! destination; on the host, the destination stays empty: the mount lives in
//! the sandbox's mount namespace only. Prints `inside: bin/sh found under the
//! destination`, `exit=0`, `after: destination empty on the host`.

use std::path::PathBuf;

use voidbox::{BindMode, FsAction, JailConfig, RootSource};

/// A directory of this run, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("voidbox-{name}-{}", std::process::id()));
        std::fs::create_dir(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-11")?;
    let dest = scratch.0.join("usr");
    std::fs::create_dir(&dest)?;
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        // The destination is the script's `$1`.
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            "test -e \"$1/bin/sh\" && echo 'inside: bin/sh found under the destination'".into(),
            "sh".into(),
            dest.clone().into(),
        ],
        fs_actions: vec![FsAction::Bind {
            src: "/usr".into(),
            dest: dest.clone(),
            mode: BindMode::ReadWrite,
            // `true` skips the action when the source does not exist.
            optional: false,
        }],
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    let empty = std::fs::read_dir(&dest)?.next().is_none();
    println!(
        "after: destination {} on the host",
        if empty { "empty" } else { "not empty" }
    );
    Ok(())
}
