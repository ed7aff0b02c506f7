//! The table of every option `vb` accepts. The parser dispatches through it
//! (an option without a row is `Unknown option`), and `--help`, the man page
//! and the shell completions are rendered from it, so they cannot disagree.
//!
//! A row names the option, its values (each with the name shown in the help
//! and how a shell completes it), a one-line help text, the section it is
//! documented under, whether it comes from bubblewrap, and the function in
//! [`crate::apply`] that maps its values into the configuration.
//!
//! Rows are in the order `--help` lists them: bubblewrap's options in the
//! order of bubblewrap's own help, then voidbox's.

use std::ffi::OsString;

use crate::apply::{self, Outcome};
use crate::state::State;

/// How a shell completes one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Complete {
    /// A file or directory name.
    Path,
    /// A directory name.
    Directory,
    /// An open file descriptor of the shell.
    Fd,
    /// A capability name (`CAP_SYS_ADMIN`) or `ALL`.
    Capability,
    /// A number: nothing to offer.
    Number,
    /// Free text: nothing to offer.
    None,
}

/// One value an option takes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Value {
    /// The name shown in the help (`SRC`, `FD`).
    pub(crate) name: &'static str,
    pub(crate) complete: Complete,
}

const fn val(name: &'static str, complete: Complete) -> Value {
    Value { name, complete }
}

/// Where an option is documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    General,
    Namespaces,
    Environment,
    Monitoring,
    Filesystem,
    Lockdown,
    /// voidbox's: the root and how it is entered.
    RootFilesystem,
    /// voidbox's: cgroup limits.
    Resources,
    /// voidbox's: security beyond bubblewrap's.
    Security,
    /// voidbox's: networking.
    Network,
    /// voidbox's: the event stream.
    Events,
}

impl Section {
    /// Every section, in the man page's order.
    pub(crate) const ALL: [Section; 11] = [
        Section::General,
        Section::Namespaces,
        Section::Environment,
        Section::Monitoring,
        Section::Filesystem,
        Section::Lockdown,
        Section::RootFilesystem,
        Section::Resources,
        Section::Security,
        Section::Network,
        Section::Events,
    ];

    /// The heading in the man page.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Section::General => "General",
            Section::Namespaces => "Namespaces",
            Section::Environment => "Environment",
            Section::Monitoring => "Monitoring",
            Section::Filesystem => "Filesystem",
            Section::Lockdown => "Lockdown",
            Section::RootFilesystem => "Root filesystem",
            Section::Resources => "Resource limits",
            Section::Security => "Security",
            Section::Network => "Network",
            Section::Events => "Events",
        }
    }

    /// Whose options the section holds: the man page puts voidbox's sections
    /// after bubblewrap's, under their own heading.
    pub(crate) fn origin(self) -> Origin {
        match self {
            Section::General
            | Section::Namespaces
            | Section::Environment
            | Section::Monitoring
            | Section::Filesystem
            | Section::Lockdown => Origin::Bubblewrap,
            Section::RootFilesystem
            | Section::Resources
            | Section::Security
            | Section::Network
            | Section::Events => Origin::Voidbox,
        }
    }
}

/// Where an option comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// bubblewrap's (0.11.1), with its semantics and messages.
    Bubblewrap,
    /// voidbox's own.
    Voidbox,
}

/// What the parser does with an option. The values an option takes are part
/// of its action, so the names in the help always match what the handler
/// receives.
#[derive(Clone, Copy)]
pub(crate) enum Action {
    /// Print the help text to stdout and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
    /// Report what this host offers a sandbox and exit (`--json` may follow).
    CheckHost,
    /// Read NUL-separated arguments from a descriptor and parse them in place.
    Args([Value; 1]),
    /// An option without a value.
    Flag(fn(&mut State) -> Outcome),
    One([Value; 1], fn(&mut State, OsString) -> Outcome),
    Two([Value; 2], fn(&mut State, OsString, OsString) -> Outcome),
    Three(
        [Value; 3],
        fn(&mut State, OsString, OsString, OsString) -> Outcome,
    ),
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Action").field(&self.values()).finish()
    }
}

impl Action {
    /// The values the option takes, in order.
    pub(crate) fn values(&self) -> &[Value] {
        match self {
            Action::Help | Action::Version | Action::CheckHost | Action::Flag(_) => &[],
            Action::Args(v) | Action::One(v, _) => v,
            Action::Two(v, _) => v,
            Action::Three(v, _) => v,
        }
    }
}

/// Which pending modifier an option may follow: `--perms` and `--size` apply
/// to the very next option, and `--overlay-src` must be followed by another
/// one or by an overlay.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Follows {
    pub(crate) perms: bool,
    pub(crate) size: bool,
    pub(crate) overlay_src: bool,
}

const NOTHING: Follows = Follows {
    perms: false,
    size: false,
    overlay_src: false,
};

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OptionSpec {
    /// `--bind`.
    pub(crate) name: &'static str,
    pub(crate) action: Action,
    /// One line for `--help`, the man page and zsh's completion menu.
    pub(crate) help: &'static str,
    pub(crate) section: Section,
    pub(crate) origin: Origin,
    /// The message when the values are missing, where it is not bubblewrap's
    /// usual `--X takes an argument` / `two arguments` / `three arguments`.
    pub(crate) missing: Option<&'static str>,
    pub(crate) follows: Follows,
}

impl OptionSpec {
    /// The values the option takes.
    pub(crate) fn values(&self) -> &[Value] {
        self.action.values()
    }

    /// bubblewrap's message for this option's missing values.
    pub(crate) fn missing_message(&self) -> String {
        if let Some(message) = self.missing {
            return message.to_owned();
        }
        let takes = match self.values().len() {
            0 | 1 => "an argument",
            2 => "two arguments",
            _ => "three arguments",
        };
        format!("{} takes {takes}", self.name)
    }

    /// `--bind SRC DEST`.
    pub(crate) fn synopsis(&self) -> String {
        let mut out = self.name.to_owned();
        for value in self.values() {
            out.push(' ');
            out.push_str(value.name);
        }
        out
    }

    const fn missing(mut self, message: &'static str) -> Self {
        self.missing = Some(message);
        self
    }

    const fn follows(mut self, follows: Follows) -> Self {
        self.follows = follows;
        self
    }
}

/// A bubblewrap option.
const fn bwrap(
    section: Section,
    name: &'static str,
    action: Action,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        action,
        help,
        section,
        origin: Origin::Bubblewrap,
        missing: None,
        follows: NOTHING,
    }
}

/// One of voidbox's own options.
const fn voidbox(
    section: Section,
    name: &'static str,
    action: Action,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        origin: Origin::Voidbox,
        ..bwrap(section, name, action, help)
    }
}

/// The row for `name`, if `vb` has such an option.
pub(crate) fn find(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|spec| spec.name == name)
}

/// Capability names offered by the completions (`cap_from_name` also takes
/// them in lower case and without the `CAP_` prefix).
pub(crate) const CAPABILITIES: &[&str] = &[
    "ALL",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

use Action::{Flag, One, Three, Two};
use Complete::{Capability, Directory, Fd, Number, Path};
use Section::{
    Environment, Events, Filesystem, General, Lockdown, Monitoring, Namespaces, Network, Resources,
    RootFilesystem, Security,
};

const FD: Value = val("FD", Fd);
const SRC: Value = val("SRC", Path);
const DEST: Value = val("DEST", Path);
/// A mount point.
const MOUNT: Value = val("DEST", Directory);
const OCTAL: Value = val("OCTAL", Number);
const TEXT_VALUE: Value = val("VALUE", Complete::None);
const VAR: Value = val("VAR", Complete::None);
const LABEL: Value = val("LABEL", Complete::None);
const CAP: Value = val("CAP", Capability);
const SIZE: Value = val("SIZE", Number);
const COUNT: Value = val("N", Number);
const NAME: Value = val("NAME", Complete::None);
const CIDR: Value = val("CIDR", Complete::None);
const ADDR: Value = val("ADDR", Complete::None);

const PERMS: Follows = Follows {
    perms: true,
    ..NOTHING
};
const PERMS_AND_SIZE: Follows = Follows {
    perms: true,
    size: true,
    ..NOTHING
};
const OVERLAY_SRC: Follows = Follows {
    overlay_src: true,
    ..NOTHING
};

/// Every option.
pub(crate) static OPTIONS: &[OptionSpec] = &[
    // bubblewrap's, in the order of its help.
    bwrap(General, "--help", Action::Help, "Show this help and exit"),
    bwrap(
        General,
        "--version",
        Action::Version,
        "Show the version and exit",
    ),
    bwrap(
        General,
        "--args",
        Action::Args([FD]),
        "Read more options from FD, separated by NUL bytes",
    ),
    bwrap(
        General,
        "--argv0",
        One([TEXT_VALUE], apply::argv0),
        "Run COMMAND with VALUE as its argv[0]",
    )
    .missing("--argv0 takes one argument"),
    bwrap(
        General,
        "--level-prefix",
        Flag(apply::level_prefix),
        "Start each later message with its syslog level, like <3>",
    ),
    bwrap(
        Namespaces,
        "--unshare-all",
        Flag(apply::unshare_all),
        "Create new user and cgroup namespaces where possible, and IPC, PID, network and UTS ones",
    ),
    bwrap(
        Namespaces,
        "--share-net",
        Flag(apply::share_net),
        "Stay in the host's network namespace despite an earlier --unshare-all",
    ),
    bwrap(
        Namespaces,
        "--unshare-user",
        Flag(apply::unshare_user),
        "Create a new user namespace (implied when not run by root)",
    ),
    bwrap(
        Namespaces,
        "--unshare-user-try",
        Flag(apply::unshare_user_try),
        "Create a new user namespace if the kernel allows it, else go on without",
    ),
    bwrap(
        Namespaces,
        "--unshare-ipc",
        Flag(apply::unshare_ipc),
        "Create a new IPC namespace",
    ),
    bwrap(
        Namespaces,
        "--unshare-pid",
        Flag(apply::unshare_pid),
        "Create a new PID namespace",
    ),
    bwrap(
        Namespaces,
        "--unshare-net",
        Flag(apply::unshare_net),
        "Create a new network namespace, with only lo",
    ),
    bwrap(
        Namespaces,
        "--unshare-uts",
        Flag(apply::unshare_uts),
        "Create a new UTS namespace",
    ),
    bwrap(
        Namespaces,
        "--unshare-cgroup",
        Flag(apply::unshare_cgroup),
        "Create a new cgroup namespace",
    ),
    bwrap(
        Namespaces,
        "--unshare-cgroup-try",
        Flag(apply::unshare_cgroup_try),
        "Create a new cgroup namespace if the kernel has them, else go on without",
    ),
    bwrap(
        Namespaces,
        "--userns",
        One([FD], apply::userns),
        "Enter the user namespace open on FD (not with --unshare-user)",
    ),
    bwrap(
        Namespaces,
        "--userns2",
        One([FD], apply::userns2),
        "Switch to the user namespace open on FD once set up (with --userns)",
    ),
    bwrap(
        Namespaces,
        "--disable-userns",
        Flag(apply::disable_userns),
        "Stop the sandbox from creating further user namespaces",
    ),
    bwrap(
        Namespaces,
        "--assert-userns-disabled",
        Flag(apply::assert_userns_disabled),
        "Fail unless the sandbox already cannot create user namespaces",
    ),
    bwrap(
        Namespaces,
        "--pidns",
        One([FD], apply::pidns),
        "Enter the PID namespace open on FD (the parent of a new one with --unshare-pid)",
    ),
    bwrap(
        Namespaces,
        "--uid",
        One([val("UID", Number)], apply::uid),
        "Run as UID in the sandbox (needs --unshare-user or --userns)",
    ),
    bwrap(
        Namespaces,
        "--gid",
        One([val("GID", Number)], apply::gid),
        "Run with GID as group in the sandbox (needs --unshare-user or --userns)",
    ),
    bwrap(
        Namespaces,
        "--hostname",
        One([val("NAME", Complete::None)], apply::hostname),
        "Name the sandbox's host NAME (needs --unshare-uts)",
    ),
    bwrap(
        Environment,
        "--chdir",
        One([val("DIR", Directory)], apply::chdir),
        "Start COMMAND in the directory DIR",
    )
    .missing("--chdir takes one argument"),
    bwrap(
        Environment,
        "--clearenv",
        Flag(apply::clearenv),
        "Empty the environment (PWD is still set)",
    ),
    bwrap(
        Environment,
        "--setenv",
        Two([VAR, TEXT_VALUE], apply::setenv),
        "Set the environment variable VAR to VALUE",
    ),
    bwrap(
        Environment,
        "--unsetenv",
        One([VAR], apply::unsetenv),
        "Remove the environment variable VAR",
    ),
    bwrap(
        Monitoring,
        "--lock-file",
        One([DEST], apply::lock_file),
        "Hold a lock on DEST for as long as the sandbox runs",
    ),
    bwrap(
        Monitoring,
        "--sync-fd",
        One([FD], apply::sync_fd),
        "Keep FD open for as long as the sandbox runs",
    ),
    bwrap(
        Filesystem,
        "--bind",
        Two([SRC, DEST], apply::bind),
        "Mount the host path SRC on DEST, writable",
    ),
    bwrap(
        Filesystem,
        "--bind-try",
        Two([SRC, DEST], apply::bind_try),
        "As --bind, skipped when SRC does not exist",
    ),
    bwrap(
        Filesystem,
        "--dev-bind",
        Two([SRC, DEST], apply::dev_bind),
        "As --bind, with device nodes under it usable",
    ),
    bwrap(
        Filesystem,
        "--dev-bind-try",
        Two([SRC, DEST], apply::dev_bind_try),
        "As --dev-bind, skipped when SRC does not exist",
    ),
    bwrap(
        Filesystem,
        "--ro-bind",
        Two([SRC, DEST], apply::ro_bind),
        "Mount the host path SRC on DEST, read-only",
    ),
    bwrap(
        Filesystem,
        "--ro-bind-try",
        Two([SRC, DEST], apply::ro_bind_try),
        "As --ro-bind, skipped when SRC does not exist",
    ),
    bwrap(
        Filesystem,
        "--bind-fd",
        Two([FD, DEST], apply::bind_fd),
        "Mount the directory (or O_PATH descriptor) open on FD on DEST",
    ),
    bwrap(
        Filesystem,
        "--ro-bind-fd",
        Two([FD, DEST], apply::ro_bind_fd),
        "As --bind-fd, read-only",
    )
    // bubblewrap names --bind-fd in this message for both options.
    .missing("--bind-fd takes two arguments"),
    bwrap(
        Filesystem,
        "--remount-ro",
        One([DEST], apply::remount_ro),
        "Make the mount at DEST read-only (not the mounts below it)",
    )
    .missing("--remount-ro takes one argument"),
    bwrap(
        Filesystem,
        "--overlay-src",
        One([val("SRC", Directory)], apply::overlay_src),
        "Add SRC as a lower layer of the overlay that follows",
    )
    .follows(OVERLAY_SRC),
    bwrap(
        Filesystem,
        "--overlay",
        Three(
            [val("RWSRC", Directory), val("WORKDIR", Directory), MOUNT],
            apply::overlay,
        ),
        "Mount an overlay on DEST whose changes go to the host directory RWSRC; \
         WORKDIR is an empty directory on RWSRC's filesystem",
    ),
    bwrap(
        Filesystem,
        "--tmp-overlay",
        One([MOUNT], apply::tmp_overlay),
        "Mount an overlay on DEST whose changes go to an invisible tmpfs",
    ),
    bwrap(
        Filesystem,
        "--ro-overlay",
        One([MOUNT], apply::ro_overlay),
        "Mount a read-only overlay on DEST",
    ),
    bwrap(
        Lockdown,
        "--exec-label",
        One([LABEL], apply::exec_label),
        "Run COMMAND with the SELinux exec label LABEL",
    ),
    bwrap(
        Lockdown,
        "--file-label",
        One([LABEL], apply::file_label),
        "Give the files vb creates for the sandbox the SELinux label LABEL",
    ),
    bwrap(
        Filesystem,
        "--proc",
        One([MOUNT], apply::proc),
        "Mount a procfs on DEST",
    ),
    bwrap(
        Filesystem,
        "--dev",
        One([MOUNT], apply::dev),
        "Mount a minimal /dev on DEST",
    ),
    bwrap(
        Filesystem,
        "--tmpfs",
        One([MOUNT], apply::tmpfs),
        "Mount an empty tmpfs on DEST",
    )
    .follows(PERMS_AND_SIZE),
    bwrap(
        Filesystem,
        "--mqueue",
        One([MOUNT], apply::mqueue),
        "Mount a POSIX message queue filesystem on DEST",
    ),
    bwrap(
        Filesystem,
        "--dir",
        One([MOUNT], apply::dir),
        "Create the directory DEST",
    )
    .follows(PERMS),
    bwrap(
        Filesystem,
        "--file",
        Two([FD, DEST], apply::file),
        "Create the file DEST holding what is read from FD",
    )
    .follows(PERMS),
    bwrap(
        Filesystem,
        "--bind-data",
        Two([FD, DEST], apply::bind_data),
        "Mount a file holding what is read from FD on DEST",
    )
    .follows(PERMS),
    bwrap(
        Filesystem,
        "--ro-bind-data",
        Two([FD, DEST], apply::ro_bind_data),
        "As --bind-data, read-only",
    )
    .follows(PERMS),
    bwrap(
        Filesystem,
        "--symlink",
        Two([SRC, DEST], apply::symlink),
        "Create DEST as a symbolic link to SRC",
    ),
    bwrap(
        Lockdown,
        "--seccomp",
        One([FD], apply::seccomp),
        "Apply the seccomp filter read from FD (only one)",
    ),
    bwrap(
        Lockdown,
        "--add-seccomp-fd",
        One([FD], apply::add_seccomp_fd),
        "Add the seccomp filter read from FD (repeatable)",
    ),
    bwrap(
        Monitoring,
        "--block-fd",
        One([FD], apply::block_fd),
        "Wait until FD has data (or ends) before running COMMAND",
    ),
    bwrap(
        Monitoring,
        "--userns-block-fd",
        One([FD], apply::userns_block_fd),
        "Wait until FD has data (or ends) while the user namespace is set up",
    ),
    bwrap(
        Monitoring,
        "--info-fd",
        One([FD], apply::info_fd),
        "Write the sandbox's pid and namespaces to FD as JSON",
    ),
    bwrap(
        Monitoring,
        "--json-status-fd",
        One([FD], apply::json_status_fd),
        "Write the sandbox's status to FD as JSON lines, ending with its exit code",
    ),
    bwrap(
        Lockdown,
        "--new-session",
        Flag(apply::new_session),
        "Run COMMAND in a new terminal session",
    ),
    bwrap(
        Lockdown,
        "--die-with-parent",
        Flag(apply::die_with_parent),
        "Kill vb and the sandbox with SIGKILL when vb's parent dies",
    ),
    bwrap(
        Lockdown,
        "--as-pid-1",
        Flag(apply::as_pid_1),
        "Run COMMAND as PID 1, without a reaper (needs --unshare-pid)",
    ),
    bwrap(
        Lockdown,
        "--cap-add",
        One([CAP], apply::cap_add),
        "Keep the capability CAP (or ALL) in the sandbox",
    ),
    bwrap(
        Lockdown,
        "--cap-drop",
        One([CAP], apply::cap_drop),
        "Drop the capability CAP (or ALL) in the sandbox",
    ),
    bwrap(
        Filesystem,
        "--perms",
        One([OCTAL], apply::perms),
        "Give what the next option creates (--tmpfs, --dir, --file, ...) the mode OCTAL",
    )
    .follows(PERMS_AND_SIZE),
    bwrap(
        Filesystem,
        "--size",
        One([val("BYTES", Number)], apply::size),
        "Make the next --tmpfs BYTES large",
    )
    .follows(PERMS_AND_SIZE),
    bwrap(
        Filesystem,
        "--chmod",
        Two([OCTAL, val("PATH", Path)], apply::chmod),
        "Set the mode of the existing PATH to OCTAL",
    ),
    // voidbox's own.
    voidbox(
        RootFilesystem,
        "--rootfs",
        One([val("DIR", Directory)], apply::rootfs),
        "Use the host directory DIR as the sandbox's root",
    ),
    voidbox(
        RootFilesystem,
        "--rootfs-dev",
        Flag(apply::rootfs_dev),
        "Keep device nodes of the --rootfs usable (it is mounted nodev by default)",
    ),
    voidbox(
        RootFilesystem,
        "--rootfs-suid",
        Flag(apply::rootfs_suid),
        "Keep set-uid and file capabilities of the --rootfs (it is mounted nosuid by default)",
    ),
    voidbox(
        RootFilesystem,
        "--pivot-root",
        Flag(apply::pivot_root),
        "Enter the root with pivot_root and detach the old one (the default)",
    ),
    voidbox(
        RootFilesystem,
        "--no-pivot-root",
        Flag(apply::no_pivot_root),
        "Enter the root with chroot instead",
    ),
    voidbox(
        RootFilesystem,
        "--chroot",
        Flag(apply::no_pivot_root),
        "Same as --no-pivot-root",
    ),
    voidbox(
        Resources,
        "--memory-max",
        One([SIZE], apply::memory_max),
        "Limit memory to SIZE bytes (suffixes K, M, G, T; or max)",
    ),
    voidbox(
        Resources,
        "--memory-swap-max",
        One([SIZE], apply::memory_swap_max),
        "Limit swap to SIZE bytes (0 forbids swapping)",
    ),
    voidbox(
        Resources,
        "--cpu-max",
        One([val("QUOTA[/PERIOD]", Number)], apply::cpu_max),
        "Allow QUOTA microseconds of CPU time per PERIOD (100000 by default)",
    ),
    voidbox(
        Resources,
        "--cpu-weight",
        One([COUNT], apply::cpu_weight),
        "Set the CPU weight, 1 to 10000",
    ),
    voidbox(
        Resources,
        "--pids-max",
        One([COUNT], apply::pids_max),
        "Allow at most N processes",
    ),
    voidbox(
        Resources,
        "--io-weight",
        One([COUNT], apply::io_weight),
        "Set the I/O weight, 1 to 10000",
    ),
    voidbox(
        Resources,
        "--fail-on-warnings",
        Flag(apply::fail_on_warnings),
        "Refuse to run when a limit cannot be applied as asked",
    ),
    voidbox(
        Security,
        "--seccomp-deny",
        One(
            [val("SYSCALL[,SYSCALL...]", Complete::None)],
            apply::seccomp_deny,
        ),
        "Fail these system calls with EPERM (repeatable)",
    ),
    voidbox(
        Security,
        "--seccomp-policy",
        One([val("FILE", Path)], apply::seccomp_policy),
        "Install the seccomp policy in FILE (seccompiler's JSON format)",
    ),
    voidbox(
        Security,
        "--seccomp-default",
        Flag(apply::seccomp_default),
        "Install voidbox's default seccomp profile (docs/security.md lists it)",
    ),
    voidbox(
        Security,
        "--rlimit",
        One([val("NAME=SOFT[:HARD]", Complete::None)], apply::rlimit),
        "Set a resource limit of the command (nofile, nproc, as, core, cpu, ...; repeatable)",
    ),
    voidbox(
        Security,
        "--landlock-ro",
        One([val("PATH", Path)], apply::landlock_ro),
        "Landlock: let the command read and execute beneath PATH (repeatable)",
    ),
    voidbox(
        Security,
        "--landlock-rw",
        One([val("PATH", Path)], apply::landlock_rw),
        "Landlock: let the command read, write and execute beneath PATH (repeatable)",
    ),
    voidbox(
        Security,
        "--landlock-exec",
        One([val("PATH", Path)], apply::landlock_exec),
        "Landlock: let the command execute and read files beneath PATH (repeatable)",
    ),
    voidbox(
        Security,
        "--landlock-tcp-bind",
        One([val("PORT", Complete::None)], apply::landlock_tcp_bind),
        "Landlock: let the command bind TCP port PORT, and no other (repeatable)",
    ),
    voidbox(
        Security,
        "--landlock-tcp-connect",
        One([val("PORT", Complete::None)], apply::landlock_tcp_connect),
        "Landlock: let the command connect to TCP port PORT, and no other (repeatable)",
    ),
    voidbox(
        Security,
        "--landlock-strict",
        Flag(apply::landlock_strict),
        "Fail unless the kernel enforces every Landlock rule asked for",
    ),
    voidbox(
        Security,
        "--allow-tiocsti",
        Flag(apply::allow_tiocsti),
        "Let the command push input into a terminal it shares with the caller (refused by default)",
    ),
    voidbox(
        Network,
        "--netns",
        One([FD], apply::netns),
        "Enter the network namespace open on FD instead of creating one",
    ),
    voidbox(
        Network,
        "--net-bridge",
        One([NAME], apply::net_bridge),
        "Connect a new network namespace to host bridge NAME (created if missing) with a veth pair; needs CAP_NET_ADMIN",
    ),
    voidbox(
        Network,
        "--net-subnet",
        One([CIDR], apply::net_subnet),
        "The bridge's IPv4 subnet (default 10.88.0.0/16); its first address is the gateway",
    ),
    voidbox(
        Network,
        "--net-ip",
        One([ADDR], apply::net_ip),
        "A fixed IPv4 address in the subnet instead of one from the pool",
    ),
    voidbox(
        Network,
        "--net-ifname",
        One([NAME], apply::net_ifname),
        "The interface's name inside the sandbox (default eth0)",
    ),
    voidbox(
        Network,
        "--net-dns",
        One([ADDR], apply::net_dns),
        "A name server for the sandbox's /etc/resolv.conf (repeatable, at most three)",
    ),
    voidbox(
        Network,
        "--net-nat",
        Flag(apply::net_nat),
        "Masquerade the subnet out of the host's default interface (nftables, or iptables-nft)",
    ),
    voidbox(
        Network,
        "--net-subnet6",
        One([CIDR], apply::net_subnet6),
        "An IPv6 subnet too (dual stack): the same steps for IPv6",
    ),
    voidbox(
        Network,
        "--net-pasta",
        Flag(apply::net_pasta),
        "Rootless networking: pasta (Debian package passt) relays the sandbox's traffic",
    ),
    voidbox(
        Network,
        "--net-host-loopback",
        Flag(apply::net_host_loopback),
        "With --net-pasta: connections to the gateway's address reach the host's loopback services",
    ),
    voidbox(
        Network,
        "--net-keep-bridge",
        Flag(apply::net_keep_bridge),
        "With --net-bridge: keep the bridge and its NAT rules when the last sandbox on it ends",
    ),
    voidbox(
        Events,
        "--event-fd",
        One([FD], apply::event_fd),
        "Write voidbox's status events to FD as JSON lines",
    ),
    voidbox(
        Events,
        "--verbose",
        Flag(apply::verbose),
        "Report each setup step with its duration on stderr as it ends",
    ),
    voidbox(
        Events,
        "--check-host",
        Action::CheckHost,
        "Report what this host offers a sandbox (--check-host --json: as JSON) and exit: 0 when the default sandbox works here, 1 otherwise",
    ),
    voidbox(
        Events,
        "--json",
        Flag(apply::json),
        "After --check-host: the report as one JSON object",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_long_options() {
        for (i, spec) in OPTIONS.iter().enumerate() {
            assert!(
                spec.name.starts_with("--") && spec.name.len() > 2,
                "{}",
                spec.name
            );
            assert!(
                OPTIONS[..i].iter().all(|o| o.name != spec.name),
                "{} twice",
                spec.name
            );
            assert!(!spec.help.is_empty() && !spec.help.contains('\n'));
        }
    }

    #[test]
    fn bubblewrap_options_come_first_and_are_all_there() {
        // 0.11.1 has 67 options besides `--`.
        let bwrap = OPTIONS
            .iter()
            .take_while(|o| o.origin == Origin::Bubblewrap)
            .count();
        assert_eq!(bwrap, 67);
        assert!(OPTIONS[bwrap..].iter().all(|o| o.origin == Origin::Voidbox));
        for spec in OPTIONS {
            assert_eq!(
                spec.section.origin(),
                spec.origin,
                "{} is documented under another origin's section",
                spec.name
            );
        }
        // The man page lists bubblewrap's sections first.
        let origins: Vec<Origin> = Section::ALL.iter().map(|s| s.origin()).collect();
        assert!(origins.is_sorted_by_key(|o| *o == Origin::Voidbox));
    }

    #[test]
    fn missing_values_use_bubblewraps_wording() {
        let msg = |name| find(name).map(OptionSpec::missing_message);
        assert_eq!(msg("--uid").as_deref(), Some("--uid takes an argument"));
        assert_eq!(
            msg("--chdir").as_deref(),
            Some("--chdir takes one argument")
        );
        assert_eq!(
            msg("--setenv").as_deref(),
            Some("--setenv takes two arguments")
        );
        assert_eq!(
            msg("--ro-bind-fd").as_deref(),
            Some("--bind-fd takes two arguments")
        );
        assert_eq!(
            msg("--overlay").as_deref(),
            Some("--overlay takes three arguments")
        );
    }

    #[test]
    fn synopsis_names_the_values() {
        let synopsis = |name| find(name).map(OptionSpec::synopsis);
        assert_eq!(
            synopsis("--overlay").as_deref(),
            Some("--overlay RWSRC WORKDIR DEST")
        );
        assert_eq!(synopsis("--new-session").as_deref(), Some("--new-session"));
        assert_eq!(find("--nope").map(|o| o.name), None);
    }
}
