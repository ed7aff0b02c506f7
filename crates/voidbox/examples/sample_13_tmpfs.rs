//! Sample 13: a size-limited, private tmpfs.
//!
//! ```text
//! cargo run -p voidbox --example sample_13_tmpfs
//! ```
//!
//! A 1 MiB tmpfs with mode 0700 is mounted on a directory under the sample's
//! own temporary directory (removed at the end). Inside, the command reports
//! the filesystem type, its size and mode, and writes a file there; on the
//! host the directory stays empty. Prints `inside: type=tmpfs size=1048576
//! mode=700`, `inside: wrote scratch.txt`, `exit=0`, `after: directory empty
//! on the host`.

use std::path::PathBuf;

use voidbox::{FsAction, JailConfig, RootSource};

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

const SCRIPT: &str = r#"
echo "inside: type=$(stat -f -c %T "$1") size=$(( $(stat -f -c '%b * %S' "$1") )) mode=$(stat -c %a "$1")"
echo data > "$1/scratch.txt" && echo 'inside: wrote scratch.txt'
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-13")?;
    // A missing destination is created (here in the sample's own directory).
    let dest = scratch.0.join("sandbox");
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            SCRIPT.into(),
            "sh".into(),
            dest.clone().into(),
        ],
        fs_actions: vec![FsAction::Tmpfs {
            dest: dest.clone(),
            size: Some(1 << 20),
            perms: Some(0o700),
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
        "after: directory {} on the host",
        if empty { "empty" } else { "not empty" }
    );
    Ok(())
}
