//! Sample 15: an overlay whose writes vanish with the sandbox.
//!
//! ```text
//! cargo run -p voidbox --example sample_15_tmp_overlay
//! ```
//!
//! The sample makes `lower/` (holding `lower.txt`) under its temporary
//! directory. A temporary overlay of it on `merged/` takes the command's
//! writes in a tmpfs of the sandbox: the command reads `lower.txt`, writes
//! and reads back `new.txt`, and afterwards nothing of it is left on the
//! host. Prints `inside: from the lower layer`, `inside: new.txt = scratch`,
//! `exit=0`, `after: lower/ unchanged, new.txt gone`.

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
printf 'inside: '; cat "$1/lower.txt"
echo scratch > "$1/new.txt" && echo "inside: new.txt = $(cat "$1/new.txt")"
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-15")?;
    let lower = scratch.0.join("lower");
    let merged = scratch.0.join("merged");
    std::fs::create_dir(&lower)?;
    std::fs::create_dir(&merged)?;
    std::fs::write(lower.join("lower.txt"), "from the lower layer\n")?;
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            SCRIPT.into(),
            "sh".into(),
            merged.clone().into(),
        ],
        fs_actions: vec![
            FsAction::OverlaySrc {
                key: "base".into(),
                path: lower.clone(),
            },
            FsAction::TmpOverlay {
                sources: vec!["base".into()],
                dest: merged.clone(),
            },
        ],
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    let untouched = std::fs::read_dir(&lower)?.count() == 1;
    let gone = !merged.join("new.txt").exists();
    println!(
        "after: lower/ {}, new.txt {}",
        if untouched { "unchanged" } else { "changed" },
        if gone { "gone" } else { "still there" }
    );
    Ok(())
}
