//! What the parser accumulates while it walks the command line: the
//! configuration being built, bubblewrap's `opt_*` variables that only the
//! post-parse checks read, and the diagnostics printed so far.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use voidbox::JailConfig;

/// A command-line error: the message, printed as `vb: <message>`, exit 1.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CliError {
    /// No command was given: print usage to stderr and exit 1.
    Usage,
    /// Any other error.
    Message(String),
}

/// Fail with `msg`.
pub(crate) fn die<T>(msg: impl Into<String>) -> Result<T, CliError> {
    Err(CliError::Message(msg.into()))
}

/// A warning emitted while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Warning {
    /// The text after `vb: `.
    pub(crate) message: String,
    /// Whether `--level-prefix` had been seen when the warning was emitted:
    /// bubblewrap prints each message as soon as it arises, so a warning
    /// from before the option carries no `<4>`.
    pub(crate) level_prefix: bool,
}

/// The networking options as given, checked together once parsing is done.
#[derive(Debug, Default)]
pub(crate) struct NetOptions {
    /// `--net-bridge` was given.
    pub(crate) bridge: bool,
    /// `--net-pasta` was given.
    pub(crate) pasta: bool,
    /// The bridge specification built by the options.
    pub(crate) spec: voidbox::NetworkSpec,
    /// `--net-host-loopback`, for pasta.
    pub(crate) host_loopback: bool,
    /// `--net-ifname`, for pasta.
    pub(crate) pasta_ifname: Option<String>,
    /// The bridge-only options given, in order (for the message when
    /// `--net-bridge` is missing).
    pub(crate) refined: Vec<&'static str>,
}

/// Parser state.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) config: JailConfig,
    pub(crate) warnings: Vec<Warning>,
    /// `--level-prefix` has been seen.
    pub(crate) level_prefix: bool,
    pub(crate) unshare_user: bool,
    pub(crate) unshare_user_try: bool,
    pub(crate) unshare_cgroup: bool,
    pub(crate) unshare_cgroup_try: bool,
    /// `--unshare-net` itself was given (not only through `--unshare-all`).
    pub(crate) unshare_net: bool,
    /// `--share-net` was given.
    pub(crate) share_net: bool,
    /// The networking options.
    pub(crate) net: NetOptions,
    pub(crate) chdir_set: bool,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
    pub(crate) hostname_set: bool,
    /// A `--perms` waiting for the option it applies to.
    pub(crate) next_perms: Option<u32>,
    /// A `--size` waiting for its `--tmpfs`.
    pub(crate) next_size: Option<u64>,
    /// `--overlay-src` paths waiting for their overlay.
    pub(crate) overlay_srcs: Vec<OsString>,
    /// How many overlay layers have been keyed so far.
    pub(crate) overlay_keys: usize,
    pub(crate) rootfs: Option<PathBuf>,
    pub(crate) swap_set: bool,
    /// Arguments seen, counting argv[0] and everything read by `--args`.
    pub(crate) total_args: usize,
    /// Descriptors taken over from the command line, one owner per number.
    pub(crate) fds: HashMap<i32, Arc<OwnedFd>>,
    /// The single-valued descriptor options: the last of each wins and is
    /// taken over after the cross-option checks; an earlier number is left
    /// alone, as bubblewrap leaves it (the command inherits it).
    pub(crate) fd_options: FdOptions,
    /// Descriptors `--file`, `--bind-data` and `--ro-bind-data` read to
    /// their end and closed, as bubblewrap does: naming one again finds it
    /// closed.
    pub(crate) consumed: Vec<i32>,
    /// A data descriptor that could not be read: reported after the
    /// cross-option checks, where bubblewrap's setup would report it.
    pub(crate) data_error: Option<String>,
}

/// The last value of each single-valued descriptor option.
#[derive(Default)]
pub(crate) struct FdOptions {
    pub(crate) info: Option<i32>,
    pub(crate) json_status: Option<i32>,
    pub(crate) sync: Option<i32>,
    pub(crate) block: Option<i32>,
    pub(crate) userns_block: Option<i32>,
    pub(crate) userns: Option<i32>,
    pub(crate) userns2: Option<i32>,
    pub(crate) pidns: Option<i32>,
    pub(crate) netns: Option<i32>,
    pub(crate) event: Option<i32>,
    pub(crate) seccomp: Option<i32>,
}

impl State {
    /// Record a warning with the `--level-prefix` state of this moment.
    pub(crate) fn warn(&mut self, message: String) {
        self.warnings.push(Warning {
            message,
            level_prefix: self.level_prefix,
        });
    }

    /// Take ownership of descriptor `fd` from the command line: one owner per
    /// number, so an fd named twice is closed once. `None` if it is not open.
    pub(crate) fn owned_fd(&mut self, fd: i32) -> Option<Arc<OwnedFd>> {
        if let Some(owned) = self.fds.get(&fd) {
            return Some(owned.clone());
        }
        // SAFETY: F_GETFD only inspects the descriptor number.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return None;
        }
        // SAFETY: the descriptor is open (checked above) and handed to vb by
        // its caller on the command line; from here on this is its only owner.
        let owned = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        self.fds.insert(fd, owned.clone());
        Some(owned)
    }

    /// bubblewrap's warning for a single-valued option given again.
    pub(crate) fn warn_last(&mut self, opt: &str) {
        self.warn(format!("Only the last {opt} option will take effect"));
    }
}
