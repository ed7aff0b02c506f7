//! The sandbox configuration: the reference document's `JailConfig` with its
//! sections, as plain structs with `Default`.
//!
//! Fields that a later version implements already exist so configurations can
//! be written against the whole surface; until then a non-default value is
//! refused by [`spawn`](crate::spawn) with [`Error::Unsupported`](crate::Error)
//! — never silently ignored.

use std::ffi::OsString;
use std::fmt;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::Arc;

pub use vb_cgroup::{LimitKind, ResourceLimits};
pub use vb_fs::{BindMode, DataSource, FsAction, RootSource as RootFs};
pub use vb_proc::{EnvOp, Namespaces as IsolationOptions};

use crate::event::StatusEvent;

/// Everything about one sandbox.
#[derive(Clone, Debug, Default)]
pub struct JailConfig {
    /// A label for messages and cgroup names.
    pub name: String,
    /// The root filesystem: the host's ([`RootFs::Host`], the default), an
    /// empty tmpfs composed from `fs_actions` ([`RootFs::Tmpfs`], bubblewrap's
    /// root), or a host directory ([`RootFs::Dir`]).
    pub rootfs: RootFs,
    /// The command and its arguments. `cmd[0]` is looked up in the sandbox
    /// environment's `PATH` when it has no `/`.
    pub cmd: Vec<OsString>,
    /// Which namespaces are new. A root other than [`RootFs::Host`] and any
    /// filesystem action imply a mount namespace; when the effective uid is not
    /// 0 and any namespace is requested, a user namespace is implied, as
    /// bubblewrap does (an unprivileged process cannot create the others
    /// without one). The cgroup namespace is rooted at the sandbox's own cgroup.
    pub isolation: IsolationOptions,
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
    /// Container networking (bridge, veth, addresses, NAT).
    pub network: Option<NetworkOptions>,
    /// Filesystem actions, run in order on top of the root.
    pub fs_actions: Vec<FsAction>,
    /// Existing namespaces to join instead of creating new ones.
    pub namespace_fds: NamespaceFds,
}

/// What a standard stream of the command is connected to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stdio {
    /// The caller's stream.
    #[default]
    Inherit,
    /// `/dev/null`.
    Null,
    /// This open descriptor (it must stay open until spawn returns).
    Fd(RawFd),
}

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
    /// Keep the device nodes of a [`RootFs::Dir`](crate::RootFs) root usable.
    /// By default every mount of it is `nodev`: an image's device nodes are
    /// dead. Refused with another root.
    pub rootfs_dev: bool,
    /// Keep the setuid and setgid bits of a [`RootFs::Dir`](crate::RootFs)
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

/// Security policy (not supported yet: any non-default value is refused).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct SecurityOptions {
    /// Capabilities to keep, by name (`CAP_NET_ADMIN`) or `ALL`.
    pub cap_add: Vec<String>,
    /// Capabilities to drop, by name or `ALL`.
    pub cap_drop: Vec<String>,
    /// Set `no_new_privs`.
    pub no_new_privs: bool,
    /// A compiled seccomp BPF program to load from this descriptor (`--seccomp`).
    pub seccomp_fd: Option<RawFd>,
    /// Further seccomp programs, loaded in order (`--add-seccomp-fd`).
    pub add_seccomp_fds: Vec<RawFd>,
    /// A named seccomp policy.
    pub seccomp_policy: Option<String>,
    /// Landlock: paths the sandbox may read.
    pub landlock_read: Vec<PathBuf>,
    /// Landlock: paths the sandbox may write.
    pub landlock_write: Vec<PathBuf>,
    /// Keep the sandbox from creating user namespaces (`--disable-userns`).
    pub disable_userns: bool,
    /// Fail unless user namespaces are disabled (`--assert-userns-disabled`).
    pub assert_userns_disabled: bool,
    /// SELinux exec label.
    pub exec_label: Option<String>,
    /// SELinux label for files the sandbox setup creates.
    pub file_label: Option<String>,
}

/// A status-event callback.
pub type EventCallback = Arc<dyn Fn(&StatusEvent) + Send + Sync>;

/// Where status events go.
#[derive(Clone, Default)]
pub struct StatusOptions {
    /// Called for every event, in order, on the thread that spawns and waits.
    pub on_event: Option<EventCallback>,
    /// bubblewrap's `--info-fd`: one JSON object with the child pid and
    /// namespace ids, written after clone; the descriptor is then closed.
    pub info_fd: Option<RawFd>,
    /// bubblewrap's `--json-status-fd`: JSON lines, the child pid and namespace
    /// ids, then `{ "exit-code": N }`; the descriptor is closed at the end.
    pub json_status_fd: Option<RawFd>,
    /// `--lock-file` paths (not supported yet).
    pub lock_files: Vec<PathBuf>,
    /// `--sync-fd` (not supported yet).
    pub sync_fd: Option<RawFd>,
    /// `--block-fd` (not supported yet).
    pub block_fd: Option<RawFd>,
    /// `--userns-block-fd` (not supported yet).
    pub userns_block_fd: Option<RawFd>,
}

impl fmt::Debug for StatusOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusOptions")
            .field("on_event", &self.on_event.as_ref().map(|_| "callback"))
            .field("info_fd", &self.info_fd)
            .field("json_status_fd", &self.json_status_fd)
            .field("lock_files", &self.lock_files)
            .field("sync_fd", &self.sync_fd)
            .field("block_fd", &self.block_fd)
            .field("userns_block_fd", &self.userns_block_fd)
            .finish()
    }
}

/// Container networking (not supported yet).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkOptions {
    /// The host bridge to attach the sandbox's veth to.
    pub bridge: Option<String>,
}

/// Existing namespaces to join, as open `/proc/<pid>/ns/*` descriptors (not
/// supported yet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NamespaceFds {
    /// A user namespace (`--userns`).
    pub user: Option<RawFd>,
    /// A user namespace to enter after setup (`--userns2`).
    pub user2: Option<RawFd>,
    /// A PID namespace (`--pidns`).
    pub pid: Option<RawFd>,
    /// A network namespace.
    pub net: Option<RawFd>,
    /// A mount namespace.
    pub mount: Option<RawFd>,
    /// A UTS namespace.
    pub uts: Option<RawFd>,
    /// An IPC namespace.
    pub ipc: Option<RawFd>,
    /// A cgroup namespace.
    pub cgroup: Option<RawFd>,
}

impl NamespaceFds {
    /// Whether no namespace is to be joined.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
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
