//! Sample 33: SELinux labels for the command and for the files setup makes.
//!
//! ```text
//! cargo run -p voidbox --example sample_33_security_labels
//! ```
//!
//! `exec_label` is the SELinux context the command runs in, `file_label`
//! the label of the mounts and files setup creates. Where SELinux is not
//! enabled both are ignored with a runtime warning each, and the sandbox
//! runs (set `fail_on_runtime_warnings` to refuse instead, see sample 26):
//! the sample prints `warning: ...` for each, then `exit=0`. Where SELinux
//! is enabled the labels apply; if the policy lacks them the launch fails
//! and the sample prints `refused: REASON`.

use voidbox::{JailConfig, RootSource, SecurityOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let security = SecurityOptions {
        exec_label: Some("system_u:system_r:container_t:s0".into()),
        file_label: Some("system_u:object_r:container_file_t:s0".into()),
        ..SecurityOptions::default()
    };
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        security,
        ..JailConfig::default()
    };
    println!(
        "selinux: {}",
        if voidbox::selinux_enabled() {
            "enabled"
        } else {
            "not enabled"
        }
    );
    let mut session = match voidbox::spawn(&config) {
        Ok(session) => session,
        Err(e) => {
            println!("refused: {e}");
            return Ok(());
        }
    };
    for warning in session.warnings() {
        println!("warning: {warning}");
    }
    let status = session.wait()?;
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
