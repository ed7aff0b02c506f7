//! The command line, parsed as bubblewrap parses it: strictly left to right,
//! stopping at the first argument that does not start with `-` (the command)
//! or after `--`. Option values are the following arguments verbatim, even
//! when they start with `-`; there is no `--opt=value` and no clustering of
//! short options. That is not getopt's grammar, so the parser walks lexopt's
//! raw arguments instead of using its option iterator.
//!
//! The result is a [`voidbox::JailConfig`] plus the CLI-level cross-option
//! checks, with bubblewrap's messages.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use voidbox::{
    BindMode, BpfProgram, CapOp, CgroupError, DataSource, EnvOp, FsAction, IsolationOptions,
    JailConfig, LimitKind, RootFs,
};

use crate::numbers::{MAX_TMPFS_BYTES, SizeError, parse_fd, parse_id, parse_mode, parse_size};

/// bubblewrap's limit on argv plus everything read through `--args`.
pub(crate) const MAX_ARGS: usize = 9000;

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Invocation {
    /// Print the help text to stdout and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
    /// Run a sandbox.
    Run(Box<JailConfig>),
}

/// A command-line error: the message, printed as `vb: <message>`, exit 1.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CliError {
    /// No command was given: print usage to stderr and exit 1.
    Usage,
    /// Any other error.
    Message(String),
}

fn die<T>(msg: impl Into<String>) -> Result<T, CliError> {
    Err(CliError::Message(msg.into()))
}

/// Parser state: bubblewrap's `opt_*` variables.
#[derive(Default)]
struct State {
    config: JailConfig,
    warnings: Vec<String>,
    unshare_user: bool,
    unshare_user_try: bool,
    unshare_cgroup: bool,
    unshare_cgroup_try: bool,
    chdir_set: bool,
    uid: Option<u32>,
    gid: Option<u32>,
    hostname_set: bool,
    info_fd_set: bool,
    json_fd_set: bool,
    next_perms: Option<u32>,
    next_size: Option<u64>,
    overlay_srcs: Vec<OsString>,
    overlay_keys: usize,
    rootfs: Option<PathBuf>,
    swap_set: bool,
    total_args: usize,
    /// Descriptors taken over from the command line, one owner per number.
    fds: std::collections::HashMap<i32, Arc<OwnedFd>>,
    /// `--seccomp FD`, read after the cross-option checks as bubblewrap does.
    seccomp_fd: Option<i32>,
    /// `--userns-block-fd FD`, taken over after the cross-option checks.
    userns_block_fd: Option<i32>,
}

/// Host facts the parse depends on, injectable for tests.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Host {
    /// Whether the caller's real uid is 0.
    pub(crate) root: bool,
    /// Whether user namespaces can be created (`--unshare-user-try`).
    pub(crate) userns: bool,
    /// Whether the kernel has cgroup namespaces.
    pub(crate) cgroupns: bool,
    /// Whether the host has swap space enabled.
    pub(crate) swap: bool,
}

impl Host {
    /// Read the facts from this machine.
    pub(crate) fn detect() -> Self {
        let exists = |p: &str| std::fs::metadata(p).is_ok();
        let userns_disabled =
            std::fs::read_to_string("/sys/module/user_namespace/parameters/enable")
                .is_ok_and(|s| s.starts_with('N'))
                || std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
                    .is_ok_and(|s| s == "0\n");
        Self {
            root: rustix::process::getuid().is_root(),
            userns: exists("/proc/self/ns/user") && !userns_disabled,
            cgroupns: exists("/proc/self/ns/cgroup"),
            // /proc/swaps has a header line, then one line per swap area.
            swap: std::fs::read_to_string("/proc/swaps").is_ok_and(|s| s.lines().count() > 1),
        }
    }
}

/// A source of raw arguments (the real argv, or an `--args` file).
struct Args {
    parser: lexopt::Parser,
}

impl Args {
    fn new(args: Vec<OsString>) -> Self {
        Self {
            parser: lexopt::Parser::from_args(args),
        }
    }

    fn next(&mut self) -> Option<OsString> {
        self.parser.try_raw_args().and_then(|mut raw| raw.next())
    }

    fn rest(&mut self) -> Vec<OsString> {
        self.parser
            .try_raw_args()
            .map(|raw| raw.collect())
            .unwrap_or_default()
    }
}

/// Parse `args` (without the program name).
pub(crate) fn parse(
    args: Vec<OsString>,
    host: Host,
) -> (Result<Invocation, CliError>, Vec<String>) {
    let mut state = State::default();
    let result = parse_into(&mut state, args, host);
    (result, state.warnings)
}

fn parse_into(state: &mut State, args: Vec<OsString>, host: Host) -> Result<Invocation, CliError> {
    if args.is_empty() {
        return Err(CliError::Usage);
    }
    state.total_args = args.len() + 1;
    let mut argv = Args::new(args);
    if let Some(early) = parse_options(state, &mut argv, false)? {
        return Ok(early);
    }
    if !state.overlay_srcs.is_empty() {
        return die(OVERLAY_SRC_DANGLING);
    }
    let command = argv.rest();
    finish(state, command, host).map(|c| Invocation::Run(Box::new(c)))
}

const OVERLAY_SRC_DANGLING: &str = "--overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, or --ro-overlay";

/// Take `n` values for `opt`, or fail with bubblewrap's arity message.
fn values<const N: usize>(argv: &mut Args, arity_msg: &str) -> Result<[OsString; N], CliError> {
    let mut out: [OsString; N] = std::array::from_fn(|_| OsString::new());
    for slot in &mut out {
        *slot = match argv.next() {
            Some(v) => v,
            None => return die(arity_msg),
        };
    }
    Ok(out)
}

fn fd_value(v: &OsStr) -> Result<i32, CliError> {
    parse_fd(v).map_or_else(|| die(format!("Invalid fd: {}", v.to_string_lossy())), Ok)
}

fn warn_last(state: &mut State, opt: &str) {
    state
        .warnings
        .push(format!("Only the last {opt} option will take effect"));
}

/// Read an `--args` descriptor to its end and close it; split on NUL.
fn read_args_fd(fd: i32) -> Result<Vec<OsString>, CliError> {
    use std::os::unix::ffi::OsStringExt;
    // SAFETY: the command line hands this descriptor to us; bubblewrap reads
    // and closes it too, so taking ownership is the documented behaviour.
    let mut file = unsafe { File::from_raw_fd(fd) };
    let mut data = Vec::new();
    if let Err(e) = file.read_to_end(&mut data) {
        return die(format!("Can't read --args data: {e}"));
    }
    let mut parts: Vec<&[u8]> = data.split(|b| *b == 0).collect();
    // A trailing NUL does not make an extra empty argument; an empty file adds none.
    if parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    Ok(parts
        .into_iter()
        .map(|p| OsString::from_vec(p.to_vec()))
        .collect())
}

/// Parse options until the command (or the end). Returns `Some` for `--help`
/// and `--version`.
#[allow(clippy::too_many_lines)]
fn parse_options(
    state: &mut State,
    argv: &mut Args,
    in_file: bool,
) -> Result<Option<Invocation>, CliError> {
    if state.total_args > MAX_ARGS {
        return die(format!("Exceeded maximum number of arguments {MAX_ARGS}"));
    }
    loop {
        let Some(arg) = argv
            .parser
            .try_raw_args()
            .and_then(|raw| raw.peek().map(OsStr::to_os_string))
        else {
            return Ok(None);
        };
        let opt = arg.to_string_lossy().into_owned();
        if !opt.starts_with('-') {
            return Ok(None);
        }
        argv.next();
        let mut consumed_perms = false;
        let mut consumed_size = false;
        let mut is_overlay_op = false;
        let cfg = &mut state.config;
        match opt.as_str() {
            "--help" => return Ok(Some(Invocation::Help)),
            "--version" => return Ok(Some(Invocation::Version)),
            "--" => return Ok(None),
            "--args" => {
                if in_file {
                    return die("--args not supported in arguments file");
                }
                let [fd] = values(argv, "--args takes an argument")?;
                let fd = fd_value(&fd)?;
                let file_args = read_args_fd(fd)?;
                state.total_args += file_args.len();
                if state.total_args > MAX_ARGS {
                    return die(format!("Exceeded maximum number of arguments {MAX_ARGS}"));
                }
                // Options only: the inner parse stops at a non-option and the
                // rest of the file is ignored, as bubblewrap does.
                let mut inner = Args::new(file_args);
                if let Some(early) = parse_options(state, &mut inner, true)? {
                    return Ok(Some(early));
                }
            }
            "--argv0" => {
                let [v] = values(argv, "--argv0 takes one argument")?;
                if cfg.process.argv0.is_some() {
                    return die("--argv0 used multiple times");
                }
                cfg.process.argv0 = Some(v);
            }
            "--level-prefix" => {}
            "--unshare-all" => {
                state.unshare_user_try = true;
                state.unshare_cgroup_try = true;
                cfg.isolation.ipc = true;
                cfg.isolation.pid = true;
                cfg.isolation.uts = true;
                cfg.isolation.net = true;
            }
            "--unshare-user" => state.unshare_user = true,
            "--unshare-user-try" => state.unshare_user_try = true,
            "--unshare-ipc" => cfg.isolation.ipc = true,
            "--unshare-pid" => cfg.isolation.pid = true,
            "--unshare-net" => cfg.isolation.net = true,
            "--unshare-uts" => cfg.isolation.uts = true,
            "--unshare-cgroup" => state.unshare_cgroup = true,
            "--unshare-cgroup-try" => state.unshare_cgroup_try = true,
            "--share-net" => cfg.isolation.net = false,
            "--chdir" => {
                let [v] = values(argv, "--chdir takes one argument")?;
                if state.chdir_set {
                    warn_last(state, "--chdir");
                }
                state.chdir_set = true;
                state.config.process.chdir = Some(v.into());
            }
            "--disable-userns" => cfg.security.disable_userns = true,
            "--assert-userns-disabled" => cfg.security.assert_userns_disabled = true,
            "--remount-ro" => {
                let [dest] = values(argv, "--remount-ro takes one argument")?;
                cfg.fs_actions
                    .push(FsAction::RemountRo { dest: dest.into() });
            }
            "--bind" | "--bind-try" | "--ro-bind" | "--ro-bind-try" | "--dev-bind"
            | "--dev-bind-try" => {
                let [src, dest] = values(argv, &format!("{opt} takes two arguments"))?;
                let mode = match opt.trim_end_matches("-try") {
                    "--ro-bind" => BindMode::ReadOnly,
                    "--dev-bind" => BindMode::Dev,
                    _ => BindMode::ReadWrite,
                };
                cfg.fs_actions.push(FsAction::Bind {
                    src: src.into(),
                    dest: dest.into(),
                    mode,
                    optional: opt.ends_with("-try"),
                });
            }
            "--bind-fd" | "--ro-bind-fd" => {
                // bubblewrap names --bind-fd in this message for both options.
                let [fd, dest] = values(argv, "--bind-fd takes two arguments")?;
                let fd = fd_value(&fd)?;
                cfg.fs_actions.push(FsAction::BindFd {
                    fd,
                    dest: dest.into(),
                    read_only: opt == "--ro-bind-fd",
                });
            }
            "--overlay-src" => {
                let [src] = values(argv, "--overlay-src takes an argument")?;
                state.overlay_srcs.push(src);
                is_overlay_op = true;
            }
            "--overlay" => {
                let [upper, work, dest] = values(argv, "--overlay takes three arguments")?;
                if state.overlay_srcs.is_empty() {
                    return die("--overlay requires at least one --overlay-src");
                }
                let sources = take_overlay_sources(state);
                state.config.fs_actions.push(FsAction::Overlay {
                    sources,
                    upper: upper.into(),
                    work: work.into(),
                    dest: dest.into(),
                });
            }
            "--tmp-overlay" => {
                let [dest] = values(argv, "--tmp-overlay takes an argument")?;
                if state.overlay_srcs.is_empty() {
                    return die("--tmp-overlay requires at least one --overlay-src");
                }
                let sources = take_overlay_sources(state);
                state.config.fs_actions.push(FsAction::TmpOverlay {
                    sources,
                    dest: dest.into(),
                });
            }
            "--ro-overlay" => {
                let [dest] = values(argv, "--ro-overlay takes an argument")?;
                if state.overlay_srcs.len() < 2 {
                    return die("--ro-overlay requires at least two --overlay-src");
                }
                let sources = take_overlay_sources(state);
                state.config.fs_actions.push(FsAction::RoOverlay {
                    sources,
                    dest: dest.into(),
                });
            }
            "--proc" => {
                let [dest] = values(argv, "--proc takes an argument")?;
                cfg.fs_actions.push(FsAction::Proc { dest: dest.into() });
            }
            "--exec-label" => {
                let [v] = values(argv, "--exec-label takes an argument")?;
                if cfg.security.exec_label.is_some() {
                    warn_last(state, "--exec-label");
                }
                state.config.security.exec_label = Some(v.to_string_lossy().into_owned());
            }
            "--file-label" => {
                let [v] = values(argv, "--file-label takes an argument")?;
                if cfg.security.file_label.is_some() {
                    warn_last(state, "--file-label");
                }
                state.config.security.file_label = Some(v.to_string_lossy().into_owned());
            }
            "--dev" => {
                let [dest] = values(argv, "--dev takes an argument")?;
                cfg.fs_actions.push(FsAction::Dev { dest: dest.into() });
            }
            "--tmpfs" => {
                let [dest] = values(argv, "--tmpfs takes an argument")?;
                cfg.fs_actions.push(FsAction::Tmpfs {
                    dest: dest.into(),
                    size: state.next_size.take(),
                    perms: state.next_perms.take(),
                });
                consumed_perms = true;
                consumed_size = true;
            }
            "--mqueue" => {
                let [dest] = values(argv, "--mqueue takes an argument")?;
                cfg.fs_actions.push(FsAction::Mqueue { dest: dest.into() });
            }
            "--dir" => {
                let [dest] = values(argv, "--dir takes an argument")?;
                cfg.fs_actions.push(FsAction::Dir {
                    dest: dest.into(),
                    perms: state.next_perms.take(),
                });
                consumed_perms = true;
            }
            "--file" | "--bind-data" | "--ro-bind-data" => {
                let [fd, dest] = values(argv, &format!("{opt} takes two arguments"))?;
                let fd = fd_value(&fd)?;
                let perms = state.next_perms.take();
                consumed_perms = true;
                let source = DataSource::Fd(fd);
                state.config.fs_actions.push(if opt == "--file" {
                    FsAction::File {
                        source,
                        dest: dest.into(),
                        perms,
                    }
                } else {
                    FsAction::BindData {
                        source,
                        dest: dest.into(),
                        perms,
                        read_only: opt == "--ro-bind-data",
                    }
                });
            }
            "--symlink" => {
                let [target, link] = values(argv, "--symlink takes two arguments")?;
                cfg.fs_actions.push(FsAction::Symlink {
                    target: target.into(),
                    link: link.into(),
                });
            }
            "--lock-file" => {
                let [dest] = values(argv, "--lock-file takes an argument")?;
                cfg.status.lock_files.push(dest.into());
            }
            "--sync-fd" | "--block-fd" | "--userns-block-fd" | "--info-fd" | "--json-status-fd"
            | "--seccomp" | "--add-seccomp-fd" | "--userns" | "--userns2" | "--pidns" => {
                let [v] = values(argv, &format!("{opt} takes an argument"))?;
                fd_option(state, &opt, &v)?;
            }
            "--clearenv" => cfg.process.env.push(EnvOp::Clear),
            "--setenv" => {
                let [key, value] = values(argv, "--setenv takes two arguments")?;
                cfg.process.env.push(EnvOp::Set { key, value });
            }
            "--unsetenv" => {
                let [key] = values(argv, "--unsetenv takes an argument")?;
                cfg.process.env.push(EnvOp::Unset(key));
            }
            "--uid" | "--gid" => {
                let [v] = values(argv, &format!("{opt} takes an argument"))?;
                let which = &opt[2..];
                let already = if which == "uid" {
                    state.uid.is_some()
                } else {
                    state.gid.is_some()
                };
                if already {
                    warn_last(state, &opt);
                }
                let Some(id) = parse_id(&v) else {
                    return die(format!("Invalid {which}: {}", v.to_string_lossy()));
                };
                if which == "uid" {
                    state.uid = Some(id);
                } else {
                    state.gid = Some(id);
                }
            }
            "--hostname" => {
                let [v] = values(argv, "--hostname takes an argument")?;
                if state.hostname_set {
                    warn_last(state, "--hostname");
                }
                state.hostname_set = true;
                state.config.runtime.hostname = Some(v);
            }
            "--new-session" => cfg.process.new_session = true,
            "--die-with-parent" => cfg.process.die_with_parent = true,
            "--as-pid-1" => cfg.runtime.as_pid_1 = true,
            "--cap-add" | "--cap-drop" => {
                let [cap] = values(argv, &format!("{opt} takes an argument"))?;
                match CapOp::parse(&cap.to_string_lossy(), opt == "--cap-add") {
                    Ok(op) => cfg.security.capabilities.push(op),
                    Err(unknown) => return die(unknown.to_string()),
                }
            }
            "--perms" => {
                let [v] = values(argv, "--perms takes an argument")?;
                if state.next_perms.is_some() {
                    return die("--perms given twice for the same action");
                }
                let Some(mode) = parse_mode(&v) else {
                    return die("--perms takes an octal argument <= 07777");
                };
                state.next_perms = Some(mode);
                consumed_perms = true;
                consumed_size = true;
            }
            "--size" => {
                let [v] = values(argv, "--size takes an argument")?;
                if state.next_size.is_some() {
                    return die("--size given twice for the same action");
                }
                match parse_size(&v) {
                    Ok(size) => state.next_size = Some(size),
                    Err(SizeError::Invalid) => {
                        return die("--size takes a non-zero number of bytes");
                    }
                    Err(SizeError::TooLarge) => {
                        return die(format!(
                            "--size (for tmpfs) is limited to {MAX_TMPFS_BYTES}"
                        ));
                    }
                }
                consumed_perms = true;
                consumed_size = true;
            }
            "--chmod" => {
                let [mode, path] = values(argv, "--chmod takes two arguments")?;
                let Some(mode) = parse_mode(&mode) else {
                    return die("--chmod takes an octal argument <= 07777");
                };
                cfg.fs_actions.push(FsAction::Chmod {
                    path: path.into(),
                    mode,
                });
            }
            // voidbox's own options.
            "--rootfs" => {
                let [dir] = values(argv, "--rootfs takes an argument")?;
                state.rootfs = Some(dir.into());
            }
            "--memory-max" | "--memory-swap-max" | "--cpu-max" | "--cpu-weight" | "--pids-max"
            | "--io-weight" => {
                let [v] = values(argv, &format!("{opt} takes an argument"))?;
                set_limit(state, &opt, &v)?;
            }
            "--fail-on-warnings" => cfg.runtime.fail_on_runtime_warnings = true,
            "--pivot-root" => cfg.runtime.use_pivot_root = true,
            "--no-pivot-root" | "--chroot" => cfg.runtime.use_pivot_root = false,
            _ => return die(format!("Unknown option {opt}")),
        }
        // A modifier applies only to the option right after it.
        if !consumed_perms && state.next_perms.is_some() {
            return die("--perms must be followed by an option that creates a file");
        }
        if !consumed_size && state.next_size.is_some() {
            return die("--size must be followed by --tmpfs");
        }
        if !is_overlay_op && !state.overlay_srcs.is_empty() {
            return die(OVERLAY_SRC_DANGLING);
        }
    }
}

/// Turn the pending `--overlay-src` paths into keyed `OverlaySrc` actions and
/// return their keys, bottom to top.
fn take_overlay_sources(state: &mut State) -> Vec<String> {
    let srcs = std::mem::take(&mut state.overlay_srcs);
    srcs.into_iter()
        .map(|path| {
            let key = format!("overlay-src-{}", state.overlay_keys);
            state.overlay_keys += 1;
            state.config.fs_actions.push(FsAction::OverlaySrc {
                key: key.clone(),
                path: path.into(),
            });
            key
        })
        .collect()
}

/// A resource-limit option: parsed now, so a bad value fails before anything
/// is created.
fn set_limit(state: &mut State, opt: &str, value: &OsStr) -> Result<(), CliError> {
    let kind = match opt {
        "--memory-max" => LimitKind::MemoryMax,
        "--memory-swap-max" => LimitKind::MemorySwapMax,
        "--cpu-max" => LimitKind::CpuMax,
        "--cpu-weight" => LimitKind::CpuWeight,
        "--pids-max" => LimitKind::PidsMax,
        _ => LimitKind::IoWeight,
    };
    let text = value.to_string_lossy();
    match state.config.resources.set(kind, &text) {
        Ok(_) => {
            if kind == LimitKind::MemorySwapMax {
                state.swap_set = true;
            }
            Ok(())
        }
        Err(CgroupError::InvalidLimit { reason, .. }) => die(format!(
            "Invalid {opt} value {text:?}: {reason}; expected {}",
            kind.expected()
        )),
        Err(other) => die(format!("{opt}: {other}")),
    }
}

/// Whether descriptor `fd` is open in this process.
fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor number.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Take ownership of descriptor `fd` from the command line: one owner per
/// number, so an fd named twice is closed once. `None` if it is not open.
fn owned_fd(state: &mut State, fd: i32) -> Option<Arc<OwnedFd>> {
    if let Some(owned) = state.fds.get(&fd) {
        return Some(owned.clone());
    }
    if !fd_is_open(fd) {
        return None;
    }
    // SAFETY: the descriptor is open (checked above) and handed to vb by its
    // caller on the command line; from here on this is its only owner.
    let owned = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
    state.fds.insert(fd, owned.clone());
    Some(owned)
}

/// Read a seccomp program from `fd` to its end (bubblewrap's checks and
/// messages), then let go of the descriptor.
fn read_seccomp(state: &mut State, fd: i32) -> Result<BpfProgram, CliError> {
    let Some(owned) = owned_fd(state, fd) else {
        return die("Can't read seccomp data: Bad file descriptor");
    };
    state.fds.remove(&fd);
    let mut data = Vec::new();
    let copy = rustix::io::dup(&*owned);
    drop(owned);
    let read = copy
        .map_err(std::io::Error::from)
        .and_then(|fd| File::from(fd).read_to_end(&mut data));
    if let Err(e) = read {
        return die(format!("Can't read seccomp data: {e}"));
    }
    BpfProgram::from_bytes(&data).or_else(|e| die(e.to_string()))
}

/// The options that take one descriptor.
fn fd_option(state: &mut State, opt: &str, value: &OsStr) -> Result<(), CliError> {
    let sec_has_seccomp = state.seccomp_fd.is_some();
    let sec_has_added = !state.config.security.seccomp_programs.is_empty();
    if opt == "--seccomp" && sec_has_added {
        return die("--seccomp cannot be combined with --add-seccomp-fd");
    }
    if opt == "--add-seccomp-fd" && sec_has_seccomp {
        return die("--add-seccomp-fd cannot be combined with --seccomp");
    }
    let repeated = match opt {
        "--sync-fd" => state.config.status.sync_fd.is_some(),
        "--block-fd" => state.config.status.block_fd.is_some(),
        "--userns-block-fd" => state.userns_block_fd.is_some(),
        "--info-fd" => state.info_fd_set,
        "--json-status-fd" => state.json_fd_set,
        "--seccomp" => sec_has_seccomp,
        "--userns" => state.config.namespace_fds.user.is_some(),
        "--userns2" => state.config.namespace_fds.user2.is_some(),
        "--pidns" => state.config.namespace_fds.pid.is_some(),
        _ => false,
    };
    if repeated {
        warn_last(state, opt);
    }
    let fd = fd_value(value)?;
    match opt {
        // bubblewrap ignores a sync or block descriptor that is not open.
        "--sync-fd" => state.config.status.sync_fd = owned_fd(state, fd),
        "--block-fd" => state.config.status.block_fd = owned_fd(state, fd),
        "--userns-block-fd" => state.userns_block_fd = Some(fd),
        "--info-fd" | "--json-status-fd" => {
            let Some(owned) = owned_fd(state, fd) else {
                // bubblewrap's words for both descriptors.
                return die("Write to info_fd: Bad file descriptor");
            };
            if opt == "--info-fd" {
                state.info_fd_set = true;
                state.config.status.info_fd = Some(owned);
            } else {
                state.json_fd_set = true;
                state.config.status.json_status_fd = Some(owned);
            }
        }
        "--seccomp" => state.seccomp_fd = Some(fd),
        "--add-seccomp-fd" => {
            let program = read_seccomp(state, fd)?;
            state.config.security.seccomp_programs.push(program);
        }
        "--userns" | "--userns2" | "--pidns" => {
            let owned = owned_fd(state, fd);
            let ns = &mut state.config.namespace_fds;
            let slot = match opt {
                "--userns" => &mut ns.user,
                "--userns2" => &mut ns.user2,
                _ => &mut ns.pid,
            };
            *slot = owned;
        }
        _ => {}
    }
    Ok(())
}

/// The checks bubblewrap makes after parsing, in its order, then the config.
fn finish(state: &mut State, command: Vec<OsString>, host: Host) -> Result<JailConfig, CliError> {
    let userns_fd = state.config.namespace_fds.user.is_some();
    let userns_block = state.userns_block_fd.is_some();
    if userns_block && !state.unshare_user {
        return die("--userns-block-fd requires --unshare-user");
    }
    if userns_block && state.config.status.info_fd.is_none() {
        return die("--userns-block-fd requires --info-fd");
    }
    if userns_fd && state.unshare_user {
        return die("--userns not compatible --unshare-user");
    }
    if userns_fd && state.unshare_user_try {
        return die("--userns not compatible --unshare-user-try");
    }
    if state.config.security.disable_userns && !state.unshare_user {
        return die("--disable-userns requires --unshare-user");
    }
    if state.config.security.disable_userns && userns_block {
        return die("--disable-userns is not compatible with  --userns-block-fd");
    }
    // An unprivileged caller needs a user namespace for everything else.
    if !host.root && !userns_fd {
        state.unshare_user = true;
    }
    if state.unshare_user_try && host.userns {
        state.unshare_user = true;
    }
    if command.is_empty() {
        return Err(CliError::Usage);
    }
    let real_uid = rustix::process::getuid().as_raw();
    let real_gid = rustix::process::getgid().as_raw();
    let no_userns = !state.unshare_user && !userns_fd;
    if no_userns && state.uid.is_some_and(|u| u != real_uid) {
        return die("Specifying --uid requires --unshare-user or --userns");
    }
    if no_userns && state.gid.is_some_and(|g| g != real_gid) {
        return die("Specifying --gid requires --unshare-user or --userns");
    }
    let cfg = &mut state.config;
    if !cfg.isolation.uts && cfg.runtime.hostname.is_some() {
        return die("Specifying --hostname requires --unshare-uts");
    }
    if cfg.runtime.as_pid_1 && !cfg.isolation.pid {
        return die("Specifying --as-pid-1 requires --unshare-pid");
    }
    if cfg.runtime.as_pid_1 && !cfg.status.lock_files.is_empty() {
        return die("Specifying --as-pid-1 and --lock-file is not permitted");
    }
    if state.unshare_cgroup && !host.cgroupns {
        return die("Cannot create new cgroup namespace because the kernel does not support it");
    }
    let cgroup = state.unshare_cgroup || (state.unshare_cgroup_try && host.cgroupns);
    cfg.isolation = IsolationOptions {
        user: state.unshare_user,
        mount: true,
        cgroup,
        ..cfg.isolation
    };
    // `--memory-max` is a hard limit: where the host could swap, swap is
    // forbidden unless `--memory-swap-max` allows some.
    if cfg.resources.memory_max.is_some() && !state.swap_set && host.swap {
        cfg.resources.memory_swap_max = Some(0);
    }
    cfg.process.uid = state.uid;
    cfg.process.gid = state.gid;
    cfg.rootfs = match state.rootfs.take() {
        Some(dir) => RootFs::Dir(dir),
        None => RootFs::Tmpfs,
    };
    cfg.cmd = command;
    cfg.name = "vb".into();
    if let Some(fd) = state.seccomp_fd.take() {
        let program = read_seccomp(state, fd)?;
        state.config.security.seccomp_programs.push(program);
    }
    if let Some(fd) = state.userns_block_fd.take() {
        match owned_fd(state, fd) {
            Some(owned) => state.config.status.userns_block_fd = Some(owned),
            None => return die("--userns-block-fd: Bad file descriptor"),
        }
    }
    Ok(std::mem::take(&mut state.config))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: Host = Host {
        root: true,
        userns: true,
        cgroupns: true,
        swap: false,
    };

    fn run(args: &[&str]) -> Result<JailConfig, CliError> {
        let (res, _) = parse(args.iter().map(OsString::from).collect(), ROOT);
        match res? {
            Invocation::Run(cfg) => Ok(*cfg),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match run(args) {
            Err(CliError::Message(m)) => m,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn parsing_stops_at_the_command() {
        let cfg = run(&["--unshare-pid", "sh", "--unshare-net", "-c"]).unwrap();
        assert_eq!(cfg.cmd, vec!["sh", "--unshare-net", "-c"]);
        assert!(cfg.isolation.pid && !cfg.isolation.net);
        let cfg = run(&["--", "--weird-command"]).unwrap();
        assert_eq!(cfg.cmd, vec!["--weird-command"]);
    }

    #[test]
    fn values_may_start_with_a_dash() {
        let cfg = run(&["--setenv", "X", "-y", "--chdir", "-d", "true"]).unwrap();
        assert_eq!(cfg.process.chdir, Some(PathBuf::from("-d")));
        assert_eq!(
            cfg.process.env,
            vec![EnvOp::Set {
                key: "X".into(),
                value: "-y".into()
            }]
        );
    }

    #[test]
    fn unknown_and_glued_options_are_refused_whole() {
        assert_eq!(err(&["--bogus", "true"]), "Unknown option --bogus");
        assert_eq!(
            err(&["--chdir=/tmp", "true"]),
            "Unknown option --chdir=/tmp"
        );
        assert_eq!(err(&["-abc", "true"]), "Unknown option -abc");
        assert_eq!(err(&["-", "true"]), "Unknown option -");
    }

    #[test]
    fn arity_messages_match_bubblewrap() {
        assert_eq!(err(&["--uid"]), "--uid takes an argument");
        assert_eq!(err(&["--chdir"]), "--chdir takes one argument");
        assert_eq!(err(&["--setenv", "A"]), "--setenv takes two arguments");
        assert_eq!(err(&["--ro-bind-fd", "3"]), "--bind-fd takes two arguments");
        assert_eq!(
            err(&["--overlay", "a", "b"]),
            "--overlay takes three arguments"
        );
    }

    #[test]
    fn numeric_values_are_checked() {
        assert_eq!(err(&["--uid", "abc", "true"]), "Invalid uid: abc");
        assert_eq!(err(&["--gid", "-1", "true"]), "Invalid gid: -1");
        assert_eq!(err(&["--info-fd", "x", "true"]), "Invalid fd: x");
        assert_eq!(
            err(&["--perms", "8", "--tmpfs", "/t", "true"]),
            "--perms takes an octal argument <= 07777"
        );
        assert_eq!(
            err(&["--size", "0", "--tmpfs", "/t", "true"]),
            "--size takes a non-zero number of bytes"
        );
    }

    #[test]
    fn modifiers_must_precede_a_user() {
        assert_eq!(
            err(&["--perms", "0700", "--dev-bind", "/", "/", "true"]),
            "--perms must be followed by an option that creates a file"
        );
        assert_eq!(
            err(&["--size", "10", "--dir", "/x", "true"]),
            "--size must be followed by --tmpfs"
        );
        assert_eq!(
            err(&["--perms", "1", "--perms", "1", "true"]),
            "--perms given twice for the same action"
        );
        let cfg = run(&["--perms", "0700", "--size", "16", "--tmpfs", "/t", "true"]).unwrap();
        assert_eq!(
            cfg.fs_actions,
            vec![FsAction::Tmpfs {
                dest: "/t".into(),
                size: Some(16),
                perms: Some(0o700)
            }]
        );
        // A modifier right before the command is accepted and unused.
        assert!(run(&["--perms", "0700", "true"]).is_ok());
    }

    #[test]
    fn overlay_sources_become_keyed_layers_in_order() {
        let cfg = run(&[
            "--overlay-src",
            "/a",
            "--overlay-src",
            "/b",
            "--ro-overlay",
            "/m",
            "true",
        ])
        .unwrap();
        assert_eq!(
            cfg.fs_actions,
            vec![
                FsAction::OverlaySrc {
                    key: "overlay-src-0".into(),
                    path: "/a".into()
                },
                FsAction::OverlaySrc {
                    key: "overlay-src-1".into(),
                    path: "/b".into()
                },
                FsAction::RoOverlay {
                    sources: vec!["overlay-src-0".into(), "overlay-src-1".into()],
                    dest: "/m".into()
                },
            ]
        );
        assert_eq!(
            err(&["--overlay-src", "/a", "--ro-overlay", "/m", "true"]),
            "--ro-overlay requires at least two --overlay-src"
        );
        assert_eq!(
            err(&["--tmp-overlay", "/m", "true"]),
            "--tmp-overlay requires at least one --overlay-src"
        );
        assert_eq!(
            err(&["--overlay-src", "/a", "--dir", "/m", "true"]),
            OVERLAY_SRC_DANGLING
        );
        assert_eq!(err(&["--overlay-src", "/a", "true"]), OVERLAY_SRC_DANGLING);
    }

    #[test]
    fn cross_option_checks_in_bubblewrap_order() {
        assert_eq!(
            err(&["--hostname", "h", "true"]),
            "Specifying --hostname requires --unshare-uts"
        );
        assert_eq!(
            err(&["--as-pid-1", "true"]),
            "Specifying --as-pid-1 requires --unshare-pid"
        );
        assert_eq!(
            err(&["--uid", "5", "true"]),
            "Specifying --uid requires --unshare-user or --userns"
        );
        assert!(run(&["--uid", "0", "true"]).is_ok());
        assert_eq!(
            err(&["--argv0", "a", "--argv0", "b", "true"]),
            "--argv0 used multiple times"
        );
        assert_eq!(
            err(&["--seccomp", "3", "--add-seccomp-fd", "4", "true"]),
            "--add-seccomp-fd cannot be combined with --seccomp"
        );
        assert_eq!(
            err(&["--unshare-pid", "--as-pid-1", "--lock-file", "/x", "true"]),
            "Specifying --as-pid-1 and --lock-file is not permitted"
        );
    }

    #[test]
    fn repeated_single_options_warn_and_last_wins() {
        let (res, warnings) = parse(
            ["--chdir", "/a", "--chdir", "/b", "true"]
                .iter()
                .map(OsString::from)
                .collect(),
            ROOT,
        );
        let Ok(Invocation::Run(cfg)) = res else {
            panic!("parse failed")
        };
        assert_eq!(cfg.process.chdir, Some(PathBuf::from("/b")));
        assert_eq!(
            warnings,
            vec!["Only the last --chdir option will take effect"]
        );
    }

    #[test]
    fn no_command_is_a_usage_error() {
        let (res, _) = parse(vec![], ROOT);
        assert_eq!(res.unwrap_err(), CliError::Usage);
        let (res, _) = parse(vec!["--unshare-pid".into()], ROOT);
        assert_eq!(res.unwrap_err(), CliError::Usage);
    }

    #[test]
    fn unprivileged_callers_get_a_user_namespace() {
        let host = Host {
            root: false,
            ..ROOT
        };
        let (res, _) = parse(vec!["true".into()], host);
        let Ok(Invocation::Run(cfg)) = res else {
            panic!("parse failed")
        };
        assert!(cfg.isolation.user && cfg.isolation.mount);
        let cfg = run(&["true"]).unwrap();
        assert!(
            !cfg.isolation.user,
            "root gets no user namespace unless asked"
        );
    }

    #[test]
    fn unshare_all_and_share_net_follow_order() {
        let cfg = run(&["--unshare-all", "--share-net", "true"]).unwrap();
        assert!(
            cfg.isolation.pid && cfg.isolation.user && cfg.isolation.cgroup && !cfg.isolation.net
        );
        let cfg = run(&["--share-net", "--unshare-all", "true"]).unwrap();
        assert!(cfg.isolation.net);
    }

    #[test]
    fn resource_limits_parse_up_front() {
        let cfg = run(&[
            "--memory-max",
            "256M",
            "--pids-max",
            "8",
            "--cpu-max",
            "50000/100000",
            "true",
        ])
        .unwrap();
        assert_eq!(cfg.resources.memory_max, Some(256 << 20));
        assert_eq!(cfg.resources.pids_max, Some(8));
        assert!(cfg.resources.cpu_max.is_some());
        assert_eq!(
            cfg.resources.memory_swap_max, None,
            "no swap on the host: left alone"
        );
        let (res, _) = parse(
            ["--memory-max", "1G", "true"]
                .iter()
                .map(OsString::from)
                .collect(),
            Host { swap: true, ..ROOT },
        );
        let Ok(Invocation::Run(cfg)) = res else {
            panic!("parse failed")
        };
        assert_eq!(
            cfg.resources.memory_swap_max,
            Some(0),
            "a hard limit where swap exists"
        );
        assert!(
            err(&["--memory-max", "banana", "true"])
                .starts_with("Invalid --memory-max value \"banana\": ")
        );
        assert!(err(&["--pids-max", "0", "true"]).starts_with("Invalid --pids-max value \"0\": "));
        assert!(
            err(&["--pids-max", "-3", "true"]).starts_with("Invalid --pids-max value \"-3\": ")
        );
        assert!(err(&["--cpu-max", "50000/10", "true"]).starts_with("Invalid --cpu-max value"));
        assert!(
            run(&["--fail-on-warnings", "true"])
                .unwrap()
                .runtime
                .fail_on_runtime_warnings
        );
    }

    #[test]
    fn rootfs_and_root_switch_options() {
        let cfg = run(&["--rootfs", "/srv/root", "--chroot", "true"]).unwrap();
        assert_eq!(cfg.rootfs, RootFs::Dir("/srv/root".into()));
        assert!(!cfg.runtime.use_pivot_root);
        let cfg = run(&["true"]).unwrap();
        assert_eq!(cfg.rootfs, RootFs::Tmpfs);
        assert!(cfg.runtime.use_pivot_root);
    }
}
