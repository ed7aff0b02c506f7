//! The sandbox configuration: the reference document's `JailConfig` with its
//! sections, as plain structs with `Default`.
//!
//! Fields that a later version implements already exist so configurations can
//! be written against the whole surface; until then a non-default value is
//! refused by [`spawn`](crate::spawn) with [`Error::Unsupported`](crate::Error)
//! — never silently ignored.
//!
//! # Descriptors
//!
//! Every descriptor in the configuration is owned: an `Arc<OwnedFd>`, so a
//! configuration can be cloned and spawned more than once, and the
//! descriptor is closed when the last configuration holding it is dropped —
//! never by voidbox behind the owner's back. A descriptor voidbox consumes
//! (status descriptors, data sources, bound directories, the block
//! descriptors) is marked close-on-exec and never reaches the command. A
//! [`DataSource::Fd`] is read from its current offset at each spawn: see
//! there.

use std::ffi::OsString;
use std::fmt;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use vb_cgroup::{LimitKind, ResourceLimits};
pub use vb_fs::{BindMode, DataSource, FsAction, RootSource};
pub use vb_net::{NatBackend, NetworkSpec, PastaSpec};
use vb_proc::{BpfProgram, CapOp, LandlockSpec, Rlimit, SeccompPolicy, Syscall};
pub use vb_proc::{EnvOp, Namespaces};

use crate::event::StatusEvent;

/// Everything about one sandbox.
#[derive(Clone, Debug, Default)]
pub struct JailConfig {
    /// The root filesystem: the host's ([`RootSource::Host`], the default), an
    /// empty tmpfs composed from `fs_actions` ([`RootSource::Tmpfs`], bubblewrap's
    /// root), or a host directory ([`RootSource::Dir`]).
    pub rootfs: RootSource,
    /// The command and its arguments. `cmd[0]` is looked up in the sandbox
    /// environment's `PATH` when it has no `/`.
    pub cmd: Vec<OsString>,
    /// Which namespaces are new. A root other than [`RootSource::Host`] and any
    /// filesystem action imply a mount namespace; when the effective uid is not
    /// 0 and any namespace is requested, a user namespace is implied, as
    /// bubblewrap does (an unprivileged process cannot create the others
    /// without one). The cgroup namespace is rooted at the sandbox's own cgroup.
    pub isolation: Namespaces,
    /// The command's process: identity, environment, working directory.
    pub process: ProcessOptions,
    /// Runtime behaviour: hostname, root switch, PID 1, warnings policy.
    pub runtime: RuntimeOptions,
    /// Capabilities, seccomp, landlock and user-namespace policy.
    pub security: SecurityOptions,
    /// cgroup resource limits (a cgroup is created only when one is set).
    /// [`ResourceLimits::from_reference`] takes the reference document's
    /// strings (`"268435456"`, `"50000 100000"`, `"256"`).
    pub resources: ResourceLimits,
    /// Where status events go.
    pub status: StatusOptions,
    /// Container networking (bridge, veth, addresses, NAT, or pasta); `None`
    /// leaves a new network namespace with `lo` only.
    pub network: Option<NetworkOptions>,
    /// Filesystem actions, run in order on top of the root.
    pub fs_actions: Vec<FsAction>,
    /// Existing namespaces to join instead of creating new ones.
    pub namespace_fds: NamespaceFds,
}

/// What a standard stream of the command is connected to, as with
/// `std::process::Stdio`.
///
/// ```
/// use voidbox::Stdio;
///
/// let out = Stdio::piped(); // read it from `Session::stdout`
/// let log = Stdio::from(std::fs::File::create("/dev/null")?);
/// # let _ = (out, log);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub enum Stdio {
    /// The caller's stream.
    #[default]
    Inherit,
    /// `/dev/null`.
    Null,
    /// A new pipe: the caller's end is on the spawned
    /// [`Session`](crate::Session)'s `stdin`, `stdout` or `stderr`.
    Piped,
    /// This descriptor (shared, so the configuration stays cloneable; the
    /// command gets a copy of it at each spawn).
    Fd(Arc<OwnedFd>),
}

impl Stdio {
    /// The caller's stream.
    pub fn inherit() -> Self {
        Self::Inherit
    }

    /// `/dev/null`.
    pub fn null() -> Self {
        Self::Null
    }

    /// A new pipe to the caller, on the spawned session.
    pub fn piped() -> Self {
        Self::Piped
    }
}

impl From<OwnedFd> for Stdio {
    fn from(fd: OwnedFd) -> Self {
        Self::Fd(Arc::new(fd))
    }
}

impl From<std::fs::File> for Stdio {
    fn from(file: std::fs::File) -> Self {
        Self::from(OwnedFd::from(file))
    }
}

/// Another process's pipe end, to chain commands as with `std::process`.
macro_rules! stdio_from_child_pipe {
    ($($pipe:ty),*) => {$(
        impl From<$pipe> for Stdio {
            fn from(pipe: $pipe) -> Self {
                Self::from(OwnedFd::from(pipe))
            }
        }
    )*};
}
stdio_from_child_pipe!(
    std::process::ChildStdin,
    std::process::ChildStdout,
    std::process::ChildStderr
);

impl PartialEq for Stdio {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Inherit, Self::Inherit)
            | (Self::Null, Self::Null)
            | (Self::Piped, Self::Piped) => true,
            (Self::Fd(a), Self::Fd(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Stdio {}

/// The command's process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct ProcessOptions {
    /// The working directory (default: the caller's if it exists in the
    /// sandbox, else `$HOME`, else `/`). `PWD` is set to it.
    pub chdir: Option<PathBuf>,
    /// argv\[0\] as the command sees it.
    pub argv0: Option<OsString>,
    /// Environment edits applied in order to the caller's environment.
    pub env: Vec<EnvOp>,
    /// `setsid()` before exec, detaching from the controlling terminal.
    pub new_session: bool,
    /// Kill the sandbox when the thread that spawned it dies.
    pub die_with_parent: bool,
    /// uid inside the sandbox (default: the caller's; others need a user
    /// namespace).
    pub uid: Option<u32>,
    /// gid inside the sandbox (default: the caller's).
    pub gid: Option<u32>,
    /// The command's stdin.
    pub stdin: Stdio,
    /// The command's stdout.
    pub stdout: Stdio,
    /// The command's stderr.
    pub stderr: Stdio,
}

/// Runtime behaviour.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct RuntimeOptions {
    /// The hostname (needs a new UTS namespace).
    pub hostname: Option<OsString>,
    /// Enter the root with `pivot_root` (default) rather than `chroot`.
    pub use_pivot_root: bool,
    /// With a new PID namespace, make the command pid 1 (no reaper).
    pub as_pid_1: bool,
    /// Refuse to run the command when setup produced runtime warnings.
    pub fail_on_runtime_warnings: bool,
    /// Keep the device nodes of a [`RootSource::Dir`](crate::RootSource) root usable.
    /// By default every mount of it is `nodev`: an image's device nodes are
    /// dead. Refused with another root.
    pub rootfs_dev: bool,
    /// Keep the setuid and setgid bits of a [`RootSource::Dir`](crate::RootSource)
    /// root effective. By default every mount of it is `nosuid`. Refused
    /// with another root.
    pub rootfs_suid: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            hostname: None,
            use_pivot_root: true,
            as_pid_1: false,
            fail_on_runtime_warnings: false,
            rootfs_dev: false,
            rootfs_suid: false,
        }
    }
}

/// Security policy. `no_new_privs` is always set; capabilities follow
/// bubblewrap's model (see [`vb_proc::caps`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct SecurityOptions {
    /// Capability edits, applied in order to the starting set: the caller's
    /// effective set when its real uid is 0, else none (`--cap-add`,
    /// `--cap-drop`).
    pub capabilities: Vec<CapOp>,
    /// Compiled seccomp programs, installed in order on the command and on
    /// the PID-1 reaper (`--seccomp`, `--add-seccomp-fd`).
    pub seccomp_programs: Vec<BpfProgram>,
    /// System calls to fail with `EPERM`, by name (`--seccomp-deny`).
    pub seccomp_deny: Vec<Syscall>,
    /// A seccomp policy in seccompiler's JSON format (`--seccomp-policy`).
    pub seccomp_policy: Option<SeccompPolicy>,
    /// voidbox's default seccomp profile (`--seccomp-default`; the list and
    /// its reasons are in `docs/security.md`).
    pub seccomp_default: bool,
    /// Resource limits for the command (`--rlimit`).
    pub rlimits: Vec<Rlimit>,
    /// Landlock rules for the command: paths as seen inside the sandbox
    /// with what each grants, and TCP ports it may bind or connect to
    /// (`--landlock-ro`, `--landlock-rw`, `--landlock-exec`,
    /// `--landlock-tcp-bind`, `--landlock-tcp-connect`; see
    /// [`vb_proc::landlock`] for what each grants). Where the running kernel
    /// enforces less than asked, a runtime warning says what is missing.
    pub landlock: LandlockSpec,
    /// Make anything less than full Landlock enforcement an error
    /// (`--landlock-strict`) instead of a runtime warning.
    pub landlock_strict: bool,
    /// Keep the sandbox from creating user namespaces (`--disable-userns`;
    /// needs a new user namespace).
    pub disable_userns: bool,
    /// Fail unless creating a user namespace is refused inside the sandbox
    /// (`--assert-userns-disabled`).
    pub assert_userns_disabled: bool,
    /// SELinux context the command runs in. Where SELinux is not enabled it
    /// is ignored with a runtime warning.
    pub exec_label: Option<String>,
    /// SELinux label for the files and mounts setup creates. Where SELinux is
    /// not enabled it is ignored with a runtime warning.
    pub file_label: Option<String>,
    /// Let the command use `ioctl(TIOCSTI)` and `ioctl(TIOCLINUX)` on a
    /// terminal it shares with the caller. By default, when the sandbox stays
    /// in the caller's session (no `new_session`) and the caller has a
    /// controlling terminal, a seccomp filter refuses them with `EPERM`, so
    /// the command cannot type into the caller's shell.
    pub allow_terminal_injection: bool,
}

/// A descriptor handed over for one use: the first spawn that needs it takes
/// it out and closes it when done with it (bubblewrap's `--info-fd`, which
/// is closed once written). Clones of a configuration share it, so only one
/// of their spawns gets it.
#[derive(Clone, Debug, Default)]
pub struct HandOff(Arc<Mutex<Option<OwnedFd>>>);

impl HandOff {
    /// Hand `fd` over.
    pub fn new(fd: impl Into<OwnedFd>) -> Self {
        Self(Arc::new(Mutex::new(Some(fd.into()))))
    }

    /// Take the descriptor, if no spawn took it yet.
    pub fn take(&self) -> Option<OwnedFd> {
        // A poisoned lock only means another thread panicked while taking:
        // the value is still consistent.
        match self.0.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

impl From<OwnedFd> for HandOff {
    fn from(fd: OwnedFd) -> Self {
        Self::new(fd)
    }
}

/// A status-event callback.
pub type EventCallback = Arc<dyn Fn(&StatusEvent) + Send + Sync>;

/// Where status events go.
#[derive(Clone, Default)]
pub struct StatusOptions {
    /// Called for every event, in order, on the thread that spawns and waits.
    pub on_event: Option<EventCallback>,
    /// bubblewrap's `--info-fd`: one JSON object with the child pid and
    /// namespace ids, written after clone; then the descriptor is closed, so
    /// its reader sees end-of-file (a `--userns-block-fd` helper waits for
    /// it). Handed over for one use: the first spawn takes it.
    pub info_fd: Option<HandOff>,
    /// bubblewrap's `--json-status-fd`: JSON lines, the child pid and namespace
    /// ids, then `{ "exit-code": N }` once the command has ended.
    pub json_status_fd: Option<Arc<OwnedFd>>,
    /// Report each step of setup with its duration, as
    /// [`StatusEvent::SetupStep`] events before `setup_finished` (`vb
    /// --verbose`).
    pub setup_steps: bool,
    /// voidbox's event stream: every [`StatusEvent`] as one JSON line
    /// ([`StatusEvent::to_json_line`]; the schema is in `docs/events.md`),
    /// written as it happens (`--event-fd`).
    pub event_fd: Option<Arc<OwnedFd>>,
    /// Files (paths inside the sandbox) the sandbox holds a read lock on for
    /// its whole life (`--lock-file`); not with `runtime.as_pid_1`.
    pub lock_files: Vec<PathBuf>,
    /// Kept open by the sandbox for its whole life: the caller sees
    /// end-of-file when it ends (`--sync-fd`).
    pub sync_fd: Option<Arc<OwnedFd>>,
    /// After setup, the command waits until a byte (or end-of-file) can be
    /// read from it (`--block-fd`).
    pub block_fd: Option<Arc<OwnedFd>>,
    /// With a new user namespace, voidbox writes no id maps: the child waits
    /// until a byte (or end-of-file) can be read from it, by which time the
    /// caller has written them, for example with `newuidmap` after reading
    /// the pid from `info_fd` (`--userns-block-fd`).
    pub userns_block_fd: Option<Arc<OwnedFd>>,
}

impl fmt::Debug for StatusOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusOptions")
            .field("on_event", &self.on_event.as_ref().map(|_| "callback"))
            .field("info_fd", &self.info_fd)
            .field("json_status_fd", &self.json_status_fd)
            .field("event_fd", &self.event_fd)
            .field("setup_steps", &self.setup_steps)
            .field("lock_files", &self.lock_files)
            .field("sync_fd", &self.sync_fd)
            .field("block_fd", &self.block_fd)
            .field("userns_block_fd", &self.userns_block_fd)
            .finish()
    }
}

/// Container networking beyond the empty network namespace: how the
/// sandbox's new network namespace is connected (see `docs/networking.md`).
/// It implies a new network namespace; it does not combine with joined
/// namespaces (`namespace_fds`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkOptions {
    /// A veth pair from a host bridge (created if missing), an address from
    /// the subnet's pool, a default route through the gateway, optional NAT
    /// and a generated `/etc/resolv.conf`. Needs `CAP_NET_ADMIN` in the
    /// host's network namespace.
    Bridge(NetworkSpec),
    /// Rootless: `pasta` (Debian package `passt`) relays the sandbox's
    /// traffic through the caller's own sockets. It implies a new user
    /// namespace (pasta enters the sandbox through it), and needs
    /// `/dev/net/tun` to be usable by the caller.
    Pasta(PastaSpec),
}

/// Existing namespaces to join, as open `/proc/<pid>/ns/*` descriptors (not
/// supported yet).
#[derive(Clone, Debug, Default)]
pub struct NamespaceFds {
    /// A user namespace (`--userns`).
    pub user: Option<Arc<OwnedFd>>,
    /// A user namespace to enter after setup (`--userns2`).
    pub user2: Option<Arc<OwnedFd>>,
    /// A PID namespace (`--pidns`).
    pub pid: Option<Arc<OwnedFd>>,
    /// A network namespace.
    pub net: Option<Arc<OwnedFd>>,
    /// A mount namespace.
    pub mount: Option<Arc<OwnedFd>>,
    /// A UTS namespace.
    pub uts: Option<Arc<OwnedFd>>,
    /// An IPC namespace.
    pub ipc: Option<Arc<OwnedFd>>,
    /// A cgroup namespace.
    pub cgroup: Option<Arc<OwnedFd>>,
}

impl NamespaceFds {
    /// Whether no namespace is to be joined.
    pub fn is_empty(&self) -> bool {
        [
            &self.user,
            &self.user2,
            &self.pid,
            &self.net,
            &self.mount,
            &self.uts,
            &self.ipc,
            &self.cgroup,
        ]
        .iter()
        .all(|fd| fd.is_none())
    }
}

/// A shell to launch in a sandbox: [`default_shell_config`](crate::default_shell_config)
/// and [`launch_shell`](crate::launch_shell).
#[derive(Clone, Debug)]
pub struct ShellConfig {
    /// The sandbox (its `cmd` is replaced by the shell and its arguments).
    pub jail: JailConfig,
    /// The shell's path inside the sandbox.
    pub shell_path: PathBuf,
    /// The shell's arguments (for example `["-c", "echo hi"]`).
    pub shell_args: Vec<OsString>,
}
