//! Sample 12: bind a host directory read-only.
//!
//! ```text
//! cargo run -p voidbox --example sample_12_ro_bind
//! ```
//!
//! The host's `/etc` is bound read-only on a directory the sample creates
//! under the temporary directory (and removes at the end). Inside, the
//! command reads `passwd` through it and fails to create a file there — for
//! root too: every mount of the bound tree is read-only. Prints
//! `inside: passwd readable`, `inside: write refused (Read-only file
//! system)`, `exit=0`.

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

/// Reads through the bind, then tries to write; `${err##*: }` keeps the
/// reason of `touch`'s message. (Under the host's `/` as the root, `/dev` is
/// `nodev`: a script cannot redirect to `/dev/null`.)
const SCRIPT: &str = r#"
test -r "$1/passwd" && echo 'inside: passwd readable'
if err=$(touch "$1/voidbox-probe" 2>&1); then
    echo 'inside: write allowed'
else
    echo "inside: write refused (${err##*: })"
fi
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-12")?;
    let dest = scratch.0.join("etc");
    std::fs::create_dir(&dest)?;
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            SCRIPT.into(),
            "sh".into(),
            dest.clone().into(),
        ],
        fs_actions: vec![FsAction::Bind {
            src: "/etc".into(),
            dest,
            mode: BindMode::ReadOnly,
            optional: false,
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
