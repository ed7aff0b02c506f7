//! The configuration's security section as vb-proc's security request.

use vb_proc::SecuritySpec;

use crate::config::{JailConfig, Namespaces};
use crate::spawn::stdio_is_a_terminal;

/// vb-proc's security request for `config`.
pub(crate) fn security_spec(config: &JailConfig, iso: &Namespaces) -> SecuritySpec {
    let sec = &config.security;
    SecuritySpec {
        capabilities: sec.capabilities.clone(),
        seccomp: sec.seccomp_programs.clone(),
        seccomp_deny: sec.seccomp_deny.clone(),
        seccomp_policy: sec.seccomp_policy.clone(),
        seccomp_default: sec.seccomp_default,
        rlimits: sec.rlimits.clone(),
        landlock: sec.landlock.clone(),
        // A sandbox reaches a terminal to inject into through the caller's
        // session (unless it leaves it) or a terminal among its standard
        // streams (which a new session may adopt when it has none).
        block_terminal_injection: !sec.allow_terminal_injection
            && ((!config.process.new_session && vb_proc::has_controlling_terminal())
                || stdio_is_a_terminal(config)),
        disable_userns: sec.disable_userns,
        assert_userns_disabled: sec.assert_userns_disabled,
        exec_label: sec
            .exec_label
            .clone()
            .filter(|_| iso.any() && vb_proc::selinux_enabled()),
    }
}
