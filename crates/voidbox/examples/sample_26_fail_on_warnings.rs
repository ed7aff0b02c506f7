//! Sample 26: refuse to run when setup is degraded.
//!
//! ```text
//! cargo run -p voidbox --example sample_26_fail_on_warnings
//! ```
//!
//! Some requests degrade instead of failing: a cgroup limit whose
//! controller is missing, Landlock rules the kernel cannot enforce in full,
//! an SELinux label where SELinux is off. Each becomes a runtime warning
//! (`Session::warnings`, the `runtime_init_warnings` event) and the sandbox
//! runs anyway — unless `fail_on_runtime_warnings` is set: then `spawn`
//! fails with `Error::RuntimeWarnings` before the command runs.
//!
//! The sample runs `/bin/true` under the policy twice: as is, which raises
//! no warning and prints `plain: exit=0`; then with an exec label, which
//! raises one where SELinux is not enabled and prints `with a label:
//! refused (...)`. Where SELinux is enabled, a label is no warning and the
//! second run is skipped with `with a label: skipped (SELinux is enabled)`.

use voidbox::{Error, JailConfig, RootSource, RuntimeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        runtime: RuntimeOptions {
            fail_on_runtime_warnings: true,
            ..RuntimeOptions::default()
        },
        ..JailConfig::default()
    };
    let status = voidbox::launch(&config)?;
    println!("plain: exit={}", status.code());

    if voidbox::selinux_enabled() {
        println!("with a label: skipped (SELinux is enabled)");
        return Ok(());
    }
    let mut labelled = config.clone();
    labelled.security.exec_label = Some("system_u:system_r:container_t:s0".into());
    match voidbox::launch(&labelled) {
        Err(Error::RuntimeWarnings(warnings)) => {
            println!("with a label: refused ({} warning)", warnings.len());
            for warning in &warnings {
                println!("warning: {warning}");
            }
        }
        Err(e) => return Err(e.into()),
        Ok(status) => {
            println!("with a label: exit={}", status.code());
            return Err("the policy let a degraded sandbox run".into());
        }
    }
    Ok(())
}
