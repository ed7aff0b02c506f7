//! Sample 27: join the namespaces of another sandbox.
//!
//! ```text
//! cargo run -p voidbox --example sample_27_namespace_fds
//! ```
//!
//! `namespace_fds` takes open `/proc/PID/ns/*` descriptors: the sandbox
//! enters those namespaces instead of creating new ones. The sample starts
//! a first sandbox (the "holder") with new network and mount namespaces, a
//! tmpfs in its temporary directory and a file `marker` on it; it opens the
//! holder's namespaces and launches a second sandbox in them. The second
//! sees the holder's file, which exists in no other mount namespace, and is
//! in the same network and mount namespaces. Prints `inside: from the
//! holder`, `net: the holder's`, `mnt: the holder's`, `exit=0`,
//! `host: no marker`.
//!
//! An unprivileged caller's holder has a user namespace of its own (voidbox
//! implies one); the second sandbox must join it too, since only there does
//! it have the right to enter the others.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use voidbox::{
    Command, DataSource, FsAction, JailConfig, NamespaceFds, Namespaces, RootSource, Stdio,
};

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

/// Namespace `kind` of process `pid`, as a descriptor the configuration owns.
fn ns_fd(pid: i32, kind: &str) -> std::io::Result<Arc<std::os::fd::OwnedFd>> {
    Ok(Arc::new(
        File::open(format!("/proc/{pid}/ns/{kind}"))?.into(),
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = Scratch::new("sample-27")?;
    let shared = scratch.0.join("shared");
    let marker = shared.join("marker");

    // The holder: `cat` keeps it alive until the sample closes its stdin.
    let mut holder = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/cat".into()],
        isolation: Namespaces {
            net: true,
            mount: true,
            ..Namespaces::default()
        },
        fs_actions: vec![
            FsAction::Tmpfs {
                dest: shared.clone(),
                size: None,
                perms: None,
            },
            FsAction::File {
                source: DataSource::Bytes(b"from the holder\n".to_vec()),
                dest: marker.clone(),
                perms: None,
            },
        ],
        ..JailConfig::default()
    };
    holder.process.stdin = Stdio::piped();
    let mut holder = voidbox::spawn(&holder)?;
    let pid = holder.pid();
    // The holder's namespaces, to compare with what the second sandbox sees.
    let holders = ["net", "mnt"].map(|kind| std::fs::read_link(format!("/proc/{pid}/ns/{kind}")));

    let mut joined = NamespaceFds {
        net: Some(ns_fd(pid, "net")?),
        mount: Some(ns_fd(pid, "mnt")?),
        ..NamespaceFds::default()
    };
    if std::fs::read_link(format!("/proc/{pid}/ns/user"))?
        != std::fs::read_link("/proc/self/ns/user")?
    {
        joined.user = Some(ns_fd(pid, "user")?);
    }
    let config = JailConfig {
        // Joining a mount namespace brings its root: no root of its own here
        // (`RootSource::Host`, the default), which would need a new one.
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo \"inside: $(cat \"$1\")\"; readlink /proc/self/ns/net /proc/self/ns/mnt".into(),
            "sh".into(),
            marker.clone().into(),
        ],
        namespace_fds: joined,
        ..JailConfig::default()
    };
    let out = Command::from_config(config).output();
    drop(holder.stdin.take());
    let holder_status = holder.wait()?;
    let out = out?;
    let text = String::from_utf8(out.stdout)?;
    let mut lines = text.lines();
    println!("{}", lines.next().unwrap_or("inside: ?"));
    for ((kind, inside), theirs) in ["net", "mnt"].iter().zip(lines).zip(holders) {
        let same = std::path::Path::new(inside) == theirs?;
        println!("{kind}: {}", if same { "the holder's" } else { "another" });
    }
    let status = out.status;
    println!("exit={}", status.code());
    if !status.success() || !holder_status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("the command failed: {status:?}: {stderr}").into());
    }
    println!(
        "host: {}",
        if marker.exists() {
            "marker"
        } else {
            "no marker"
        }
    );
    Ok(())
}
