//! Sample 32: check that the sandbox cannot create user namespaces.
//!
//! ```text
//! cargo run -p voidbox --example sample_32_assert_userns_disabled
//! ```
//!
//! `assert_userns_disabled` changes nothing itself: it makes the launch
//! fail, before the command runs, unless creating a user namespace is
//! already refused inside the sandbox (bubblewrap's
//! `--assert-userns-disabled`) — a guard for a policy expected to come from
//! elsewhere (the host's sysctl, an outer sandbox) or from
//! `disable_userns`. The sample asserts twice: alone, which fails on a host
//! that allows user namespaces (`assert alone: refused (creation of new
//! user namespaces was not disabled as requested)`), then together with
//! `disable_userns` (`with disable_userns: exit=0`). On a host that forbids
//! user namespaces, the first passes (`assert alone: exit=0`) and the
//! second, which needs one, is refused (`with disable_userns: refused
//! (...)`); run by a user other than root there, neither can start.

use voidbox::{Error, JailConfig, Namespaces, RootSource, SecurityOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: vec!["/bin/true".into()],
        security: SecurityOptions {
            assert_userns_disabled: true,
            ..SecurityOptions::default()
        },
        ..JailConfig::default()
    };
    match voidbox::launch(&config) {
        Ok(status) => println!("assert alone: exit={}", status.code()),
        Err(e @ Error::UsernsNotDisabled) => println!("assert alone: refused ({e})"),
        Err(e) => return Err(e.into()),
    }

    let mut disabled = config;
    disabled.isolation = Namespaces {
        user: true, // disable_userns needs a user namespace of the sandbox's own
        ..Namespaces::default()
    };
    disabled.security.disable_userns = true;
    let status = match voidbox::launch(&disabled) {
        Ok(status) => status,
        Err(e) if !voidbox::check_host()?.user_namespaces => {
            println!(
                "with disable_userns: refused (user namespaces are disabled on this host: {e})"
            );
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    println!("with disable_userns: exit={}", status.code());
    if !status.success() {
        return Err(format!("the command failed: {status:?}").into());
    }
    Ok(())
}
