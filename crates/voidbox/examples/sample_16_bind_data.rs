//! Sample 16: bind bytes from the caller's memory as a file.
//!
//! ```text
//! cargo run -p voidbox --example sample_16_bind_data
//! ```
//!
//! The bytes `abc` are staged in a hidden file of the sandbox and bound on
//! `file` in the sample's temporary directory (removed at the end). The
//! command reads them and appends to the file: the bind is writable. The
//! host sees only the empty mount point voidbox created. Prints
//! `inside: abc`, `inside: append ok`, `exit=0`, `after: host file is
//! empty`.

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

const SCRIPT: &str = r#"
echo "inside: $(cat "$1")"
echo def >> "$1" && echo 'inside: append ok'
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-16")?;
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
            // `DataSource::Fd` reads the content from a descriptor instead.
            source: DataSource::Bytes(b"abc".to_vec()),
            dest: dest.clone(),
            perms: None, // 0600
            read_only: false,
        }],
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    let len = std::fs::metadata(&dest)?.len();
    println!(
        "after: host file is {}",
        if len == 0 { "empty" } else { "not empty" }
    );
    Ok(())
}
