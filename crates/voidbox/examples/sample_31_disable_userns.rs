//! Sample 31: keep the sandbox from creating user namespaces.
//!
//! ```text
//! cargo run -p voidbox --example sample_31_disable_userns
//! ```
//!
//! A user namespace is where an unprivileged process gets capabilities, and
//! so much of the kernel's attack surface. `disable_userns` closes that
//! door for the command (bubblewrap's `--disable-userns`): it needs a new
//! user namespace of its own (`isolation.user`; a caller that is not root
//! gets one anyway). The command tries `unshare --user` (util-linux) and
//! reports the kernel's answer. Prints `inside: new user namespace refused
//! (No space left on device)`, `exit=0`. Where the host has user namespaces
//! disabled altogether, or `unshare` is missing, it says so instead.

use voidbox::{Error, JailConfig, Namespaces, RootSource, SecurityOptions};

/// `${err##*: }` keeps the reason of `unshare`'s message. (Outputs go to
/// variables: under the host's `/` as the root, `/dev` is `nodev` and
/// `/dev/null` cannot be opened.)
const SCRIPT: &str = r#"
if ! found=$(command -v unshare); then
    echo 'inside: unshare is not installed'
elif err=$(unshare --user /bin/true 2>&1); then
    echo 'inside: new user namespace created'
else
    echo "inside: new user namespace refused (${err##*: })"
fi
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/sh".into(), "-c".into(), SCRIPT.into()],
        isolation: Namespaces {
            user: true,
            ..Namespaces::default()
        },
        security: SecurityOptions {
            disable_userns: true,
            ..SecurityOptions::default()
        },
        ..JailConfig::default()
    };
    let status = match voidbox::launch(&config) {
        Ok(status) => status,
        // The sandbox itself needs a user namespace.
        Err(e @ (Error::Process(_) | Error::ChildStep { .. }))
            if !voidbox::check_host()?.user_namespaces =>
        {
            println!("refused: user namespaces are disabled on this host ({e})");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    println!("exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
