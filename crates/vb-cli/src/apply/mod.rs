//! What each option does to the configuration: one small function per
//! option, named after it, which the table in [`crate::table`] points to.
//! The parser has already taken the option's values off the command line;
//! these functions check them with bubblewrap's messages and store them.
//!
//! The functions are grouped by what they configure; the table reaches them
//! all through this module.

mod cgroup;
mod descriptors;
mod mounts;
mod namespaces;
mod network;
mod process;
mod security;

pub(crate) use cgroup::*;
pub(crate) use descriptors::*;
pub(crate) use mounts::*;
pub(crate) use namespaces::*;
pub(crate) use network::*;
pub(crate) use process::*;
pub(crate) use security::*;

use std::ffi::OsStr;

use crate::numbers::parse_fd;
use crate::state::{CliError, State, die};

/// What an option's function returns.
pub(crate) type Outcome = Result<(), CliError>;

/// A descriptor value, or bubblewrap's `Invalid fd: %s`.
pub(crate) fn fd_value(v: &OsStr) -> Result<i32, CliError> {
    parse_fd(v).map_or_else(|| die(format!("Invalid fd: {}", v.to_string_lossy())), Ok)
}

/// A single-valued descriptor option: warn when it was given before, then
/// parse the value (bubblewrap's order).
pub(super) fn single_fd(
    s: &mut State,
    opt: &str,
    repeated: bool,
    v: &OsStr,
) -> Result<i32, CliError> {
    if repeated {
        s.warn_last(opt);
    }
    fd_value(v)
}

/// The `strerror` text of an I/O error, as bubblewrap prints it.
pub(super) fn strerror(e: &std::io::Error) -> String {
    crate::message::strip_os_error(&e.to_string())
}
