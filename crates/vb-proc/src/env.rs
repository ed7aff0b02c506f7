//! The sandbox environment: the caller's environment with `--clearenv`,
//! `--setenv` and `--unsetenv` applied in the order given.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// One environment edit, applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvOp {
    /// Remove every variable (later `Set`s still apply).
    Clear,
    /// Set `key` to `value`, replacing an existing value in place.
    Set {
        /// The variable's name.
        key: OsString,
        /// Its value.
        value: OsString,
    },
    /// Remove `key` if present.
    Unset(OsString),
}

/// An environment edit the C library would refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// A `Set` whose name is empty or contains `=` or NUL, or a value with NUL.
    #[error("setenv failed")]
    Set(OsString),
    /// An `Unset` whose name is empty or contains `=` or NUL.
    #[error("unsetenv failed")]
    Unset(OsString),
}

fn valid_name(name: &OsStr) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty() && !bytes.contains(&b'=') && !bytes.contains(&0)
}

/// Apply `ops` to `base` and return the resulting environment, in order.
///
/// Names are validated as `setenv(3)`/`unsetenv(3)` validate them, so the same
/// input fails here with the messages those calls' callers print.
pub fn apply_env_ops(
    base: impl IntoIterator<Item = (OsString, OsString)>,
    ops: &[EnvOp],
) -> Result<Vec<(OsString, OsString)>, EnvError> {
    let mut env: Vec<(OsString, OsString)> = base.into_iter().collect();
    for op in ops {
        match op {
            EnvOp::Clear => env.clear(),
            EnvOp::Set { key, value } => {
                if !valid_name(key) || value.as_bytes().contains(&0) {
                    return Err(EnvError::Set(key.clone()));
                }
                match env.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1.clone_from(value),
                    None => env.push((key.clone(), value.clone())),
                }
            }
            EnvOp::Unset(key) => {
                if !valid_name(key) {
                    return Err(EnvError::Unset(key.clone()));
                }
                env.retain(|(k, _)| k != key);
            }
        }
    }
    Ok(env)
}

/// The value of `key` in an environment list.
pub fn lookup<'e>(env: &'e [(OsString, OsString)], key: &str) -> Option<&'e OsStr> {
    env.iter()
        .find(|(k, _)| k.as_bytes() == key.as_bytes())
        .map(|(_, v)| v.as_os_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> OsString {
        s.into()
    }

    fn set(k: &str, v: &str) -> EnvOp {
        EnvOp::Set {
            key: os(k),
            value: os(v),
        }
    }

    #[test]
    fn ops_apply_in_order() {
        let base = vec![(os("A"), os("1")), (os("B"), os("2"))];
        let env =
            apply_env_ops(base, &[set("A", "x"), EnvOp::Unset(os("B")), set("C", "3")]).unwrap();
        assert_eq!(env, vec![(os("A"), os("x")), (os("C"), os("3"))]);
    }

    #[test]
    fn clear_then_set_keeps_only_later_sets() {
        let base = vec![(os("HOME"), os("/root"))];
        let env = apply_env_ops(base, &[set("X", "1"), EnvOp::Clear, set("Y", "2")]).unwrap();
        assert_eq!(env, vec![(os("Y"), os("2"))]);
    }

    #[test]
    fn invalid_names_are_refused_like_libc() {
        assert_eq!(
            apply_env_ops(vec![], &[set("A=B", "C")]),
            Err(EnvError::Set(os("A=B")))
        );
        assert_eq!(
            apply_env_ops(vec![], &[set("", "C")]),
            Err(EnvError::Set(os("")))
        );
        assert_eq!(
            apply_env_ops(vec![], &[EnvOp::Unset(os("A=B"))]),
            Err(EnvError::Unset(os("A=B")))
        );
        assert_eq!(EnvError::Set(os("")).to_string(), "setenv failed");
    }

    #[test]
    fn lookup_finds_values() {
        let env = vec![(os("HOME"), os("/h"))];
        assert_eq!(lookup(&env, "HOME"), Some(OsStr::new("/h")));
        assert_eq!(lookup(&env, "PATH"), None);
    }
}
