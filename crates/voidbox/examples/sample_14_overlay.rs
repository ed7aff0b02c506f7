//! Sample 14: an overlay of a lower layer whose writes go to a host
//! directory.
//!
//! ```text
//! cargo run -p voidbox --example sample_14_overlay
//! ```
//!
//! The sample makes `lower/` (holding `lower.txt`), an empty `upper/` and
//! `work/` under its temporary directory. The overlay on `merged/` shows the
//! lower layer; the command reads `lower.txt` and writes `new.txt`, which
//! lands in `upper/` and stays there after the sandbox, while `lower/` is
//! untouched. Prints `inside: from the lower layer`, `exit=0`,
//! `after: upper/new.txt = written in the sandbox`, `after: lower/ unchanged`.
//!
//! `work/` must be empty and on the same filesystem as `upper/`. voidbox
//! mounts with `userxattr`, so an unprivileged caller's overlay works where
//! the kernel allows overlays in a user namespace (Linux 5.11 and later).

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
        // overlayfs leaves a mode-0 `work/work` that must be opened up before
        // it can be listed and removed.
        use std::os::unix::fs::PermissionsExt;
        let inner = self.0.join("work/work");
        let _ = std::fs::set_permissions(inner, std::fs::Permissions::from_mode(0o700));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-14")?;
    let [lower, upper, work, merged] =
        ["lower", "upper", "work", "merged"].map(|d| scratch.0.join(d));
    for dir in [&lower, &upper, &work, &merged] {
        std::fs::create_dir(dir)?;
    }
    std::fs::write(lower.join("lower.txt"), "from the lower layer\n")?;
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            "printf 'inside: '; cat \"$1/lower.txt\"; echo 'written in the sandbox' > \"$1/new.txt\""
                .into(),
            "sh".into(),
            merged.clone().into(),
        ],
        fs_actions: vec![
            // Declare the layer under a key; overlays name their layers by key,
            // bottom to top.
            FsAction::OverlaySrc {
                key: "base".into(),
                path: lower.clone(),
            },
            FsAction::Overlay {
                sources: vec!["base".into()],
                upper: upper.clone(),
                work,
                dest: merged,
            },
        ],
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    let kept = std::fs::read_to_string(upper.join("new.txt"))?;
    println!("after: upper/new.txt = {}", kept.trim_end());
    let lower_files = std::fs::read_dir(&lower)?.count();
    println!(
        "after: lower/ {}",
        if lower_files == 1 {
            "unchanged"
        } else {
            "changed"
        }
    );
    Ok(())
}
