//! Sample 17: bind bytes from the caller's memory as a read-only file.
//!
//! ```text
//! cargo run -p voidbox --example sample_17_ro_bind_data
//! ```
//!
//! As sample 16, but the bind is read-only: the command reads `abc` and its
//! append is refused, for root too. Prints `inside: abc`, `inside: append
//! refused (Read-only file system)`, `exit=0`.

use std::path::PathBuf;

use voidbox::{DataSource, FsAction, JailConfig, RootSource};

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

/// `${err##*: }` keeps the reason of the shell's message.
const SCRIPT: &str = r#"
echo "inside: $(cat "$1")"
if err=$( (echo def >> "$1") 2>&1 ); then
    echo 'inside: append ok'
else
    echo "inside: append refused (${err##*: })"
fi
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-17")?;
    let dest = scratch.0.join("file");
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            SCRIPT.into(),
            "sh".into(),
            dest.clone().into(),
        ],
        fs_actions: vec![FsAction::BindData {
            source: DataSource::Bytes(b"abc".to_vec()),
            dest,
            perms: None,
            read_only: true,
        }],
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
