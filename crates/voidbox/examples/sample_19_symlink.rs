//! Sample 19: create a symbolic link.
//!
//! ```text
//! cargo run -p voidbox --example sample_19_symlink
//! ```
//!
//! A link `sh` pointing to `/bin/sh` is created in the sample's temporary
//! directory; the command reads it and runs a shell through it. The target
//! is not resolved when the link is made: it means what it means inside the
//! sandbox. With the host's `/` as the root the link stays on the host
//! afterwards; the sample reads it there and removes it. Prints
//! `inside: link -> /bin/sh`, `inside: ran through the link`, `exit=0`,
//! `after: host link -> /bin/sh`.

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
echo "inside: link -> $(readlink "$1")"
"$1" -c "echo 'inside: ran through the link'"
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-19")?;
    let link = scratch.0.join("sh");
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            SCRIPT.into(),
            "sh".into(),
            link.clone().into(),
        ],
        fs_actions: vec![FsAction::Symlink {
            target: "/bin/sh".into(),
            link: link.clone(),
        }],
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    println!(
        "after: host link -> {}",
        std::fs::read_link(&link)?.display()
    );
    Ok(())
}
