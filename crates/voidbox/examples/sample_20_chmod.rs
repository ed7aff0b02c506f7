//! Sample 20: change the mode of an existing path.
//!
//! ```text
//! cargo run -p voidbox --example sample_20_chmod
//! ```
//!
//! The sample creates `x` with mode 0644 in its temporary directory;
//! `FsAction::Chmod` sets it to 0700 during setup (it creates nothing: the
//! path must exist). The command sees 0700, and since the host's `/` is the
//! root, so does the host afterwards. Prints `before: 644`, `inside: 700`,
//! `exit=0`, `after: 700`.

use std::os::unix::fs::PermissionsExt;
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

fn mode(path: &std::path::Path) -> std::io::Result<u32> {
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o7777)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-20")?;
    let path = scratch.0.join("x");
    std::fs::write(&path, "")?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
    println!("before: {:o}", mode(&path)?);
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo \"inside: $(stat -c %a \"$1\")\"".into(),
            "sh".into(),
            path.clone().into(),
        ],
        fs_actions: vec![FsAction::Chmod {
            path: path.clone(),
            mode: 0o700,
        }],
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    println!("after: {:o}", mode(&path)?);
    Ok(())
}
