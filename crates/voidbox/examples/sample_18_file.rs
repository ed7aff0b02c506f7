//! Sample 18: create a file with given content.
//!
//! ```text
//! cargo run -p voidbox --example sample_18_file
//! ```
//!
//! Unlike a data bind (sample 16), `FsAction::File` writes a real file in
//! the sandbox's tree. With the host's `/` as the root that tree is the
//! host's, so the file is still there after the sandbox: the sample creates
//! it in its own temporary directory, reads it back, and removes it.
//! Prints `inside: hello`, `exit=0`, `after: host reads hello`.

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-18")?;
    let path = scratch.0.join("hello.txt");
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo \"inside: $(cat \"$1\")\"".into(),
            "sh".into(),
            path.clone().into(),
        ],
        fs_actions: vec![FsAction::File {
            source: DataSource::Bytes(b"hello".to_vec()),
            dest: path.clone(),
            perms: None, // 0666
        }],
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    println!("after: host reads {}", std::fs::read_to_string(&path)?);
    Ok(())
}
