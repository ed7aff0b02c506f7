//! The command line, parsed as bubblewrap parses it: strictly left to right,
//! stopping at the first argument that does not start with `-` (the command)
//! or after `--`. Option values are the following arguments verbatim, even
//! when they start with `-`; there is no `--opt=value` and no clustering of
//! short options. That is not getopt's grammar, so the parser walks lexopt's
//! raw arguments instead of using its option iterator.
//!
//! Every option is looked up in [`crate::table`]: a name without a row there
//! is `Unknown option`, whatever the rest of the code knows about it. `--` is
//! grammar, not an option. The result is a [`voidbox::JailConfig`] plus the
//! CLI-level cross-option checks, with bubblewrap's messages.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;

use voidbox::JailConfig;

use crate::apply::fd_value;
use crate::checks::finish;
use crate::host::Host;
use crate::state::{CliError, State, Warning, die};
use crate::table::{self, Action, OptionSpec};

/// bubblewrap's limit on argv plus everything read through `--args`.
pub(crate) const MAX_ARGS: usize = 9000;

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Invocation {
    /// Print the help text to stdout and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
    /// Report what the host offers, as a table or as JSON, and exit.
    CheckHost {
        /// `--json` followed.
        json: bool,
    },
    /// Run a sandbox.
    Run(Box<JailConfig>),
}

/// A source of raw arguments (the real argv, or an `--args` file).
struct Args {
    parser: lexopt::Parser,
    /// How many arguments were taken so far.
    taken: usize,
}

impl Args {
    fn new(args: Vec<OsString>) -> Self {
        Self {
            parser: lexopt::Parser::from_args(args),
            taken: 0,
        }
    }

    fn next(&mut self) -> Option<OsString> {
        let arg = self.parser.try_raw_args().and_then(|mut raw| raw.next());
        self.taken += usize::from(arg.is_some());
        arg
    }

    fn rest(&mut self) -> Vec<OsString> {
        self.parser
            .try_raw_args()
            .map(|raw| raw.collect())
            .unwrap_or_default()
    }
}

/// The outcome of parsing a command line.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) result: Result<Invocation, CliError>,
    /// Warnings, in the order they arose, each with its own prefix state.
    pub(crate) warnings: Vec<Warning>,
    /// Whether `--level-prefix` was seen before parsing ended: it applies to
    /// the error that ended the parse, if any, and to every later message.
    pub(crate) level_prefix: bool,
}

/// Parse `args` (without the program name).
pub(crate) fn parse(args: Vec<OsString>, host: Host) -> Parsed {
    let mut state = State::default();
    let result = parse_into(&mut state, args, host);
    Parsed {
        result,
        warnings: std::mem::take(&mut state.warnings),
        level_prefix: state.level_prefix,
    }
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

/// Take `N` values for `spec`, or fail with bubblewrap's arity message.
fn values<const N: usize>(argv: &mut Args, spec: &OptionSpec) -> Result<[OsString; N], CliError> {
    let mut out: [OsString; N] = std::array::from_fn(|_| OsString::new());
    for slot in &mut out {
        *slot = match argv.next() {
            Some(v) => v,
            None => return die(spec.missing_message()),
        };
    }
    Ok(out)
}

/// Read an `--args` descriptor to its end and close it; split on NUL.
fn read_args_fd(state: &mut State, fd: i32) -> Result<Vec<OsString>, CliError> {
    use std::os::unix::ffi::OsStringExt;
    // bubblewrap reads the descriptor to its end and closes it.
    let Some(owned) = state.owned_fd(fd) else {
        return die("Can't read --args data: Bad file descriptor");
    };
    crate::apply::release_fd(state, fd);
    let copy = rustix::io::fcntl_dupfd_cloexec(&*owned, 0);
    drop(owned);
    let mut data = Vec::new();
    let read = copy
        .map_err(std::io::Error::from)
        .and_then(|fd| File::from(fd).read_to_end(&mut data));
    if let Err(e) = read {
        return die(format!(
            "Can't read --args data: {}",
            crate::message::strip_os_error(&e.to_string())
        ));
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
        if opt == "--" {
            return Ok(None);
        }
        let Some(spec) = table::find(&opt) else {
            return die(format!("Unknown option {opt}"));
        };
        match spec.action {
            Action::Help => return Ok(Some(Invocation::Help)),
            Action::Version => return Ok(Some(Invocation::Version)),
            Action::CheckHost => {
                const ALONE: &str = "--check-host takes no other option than --json";
                if in_file || argv.taken > 1 {
                    return die(ALONE);
                }
                let rest = argv.rest();
                return match rest.as_slice() {
                    [] => Ok(Some(Invocation::CheckHost { json: false })),
                    [json] if json == "--json" => Ok(Some(Invocation::CheckHost { json: true })),
                    _ => die(ALONE),
                };
            }
            Action::Args(_) => {
                if in_file {
                    return die("--args not supported in arguments file");
                }
                let [fd] = values(argv, spec)?;
                if let Some(early) = args_file(state, &fd)? {
                    return Ok(Some(early));
                }
            }
            Action::Flag(apply) => apply(state)?,
            Action::One(_, apply) => {
                let [a] = values(argv, spec)?;
                apply(state, a)?;
            }
            Action::Two(_, apply) => {
                let [a, b] = values(argv, spec)?;
                apply(state, a, b)?;
            }
            Action::Three(_, apply) => {
                let [a, b, c] = values(argv, spec)?;
                apply(state, a, b, c)?;
            }
        }
        // A modifier applies only to the option right after it.
        if !spec.follows.perms && state.next_perms.is_some() {
            return die("--perms must be followed by an option that creates a file");
        }
        if !spec.follows.size && state.next_size.is_some() {
            return die("--size must be followed by --tmpfs");
        }
        if !spec.follows.overlay_src && !state.overlay_srcs.is_empty() {
            return die(OVERLAY_SRC_DANGLING);
        }
    }
}

/// `--args FD`: read the arguments and parse them in place. Options only:
/// the inner parse stops at a non-option and the rest of the file is
/// ignored, as bubblewrap does.
fn args_file(state: &mut State, fd: &OsStr) -> Result<Option<Invocation>, CliError> {
    let fd = fd_value(fd)?;
    let file_args = read_args_fd(state, fd)?;
    state.total_args += file_args.len();
    if state.total_args > MAX_ARGS {
        return die(format!("Exceeded maximum number of arguments {MAX_ARGS}"));
    }
    let mut inner = Args::new(file_args);
    parse_options(state, &mut inner, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Fact;
    use std::path::PathBuf;
    use voidbox::{EnvOp, FsAction, RootSource};

    const ROOT: Host = Host {
        root: true,
        userns: Fact::Is(true),
        cgroupns: Fact::Is(true),
        swap: Fact::Is(false),
    };

    fn run(args: &[&str]) -> Result<JailConfig, CliError> {
        let res = parse(args.iter().map(OsString::from).collect(), ROOT).result;
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
        let parsed = parse(
            ["--chdir", "/a", "--chdir", "/b", "true"]
                .iter()
                .map(OsString::from)
                .collect(),
            ROOT,
        );
        let Ok(Invocation::Run(cfg)) = parsed.result else {
            panic!("parse failed")
        };
        assert_eq!(cfg.process.chdir, Some(PathBuf::from("/b")));
        assert_eq!(
            parsed.warnings,
            vec![Warning {
                message: "Only the last --chdir option will take effect".into(),
                level_prefix: false
            }]
        );
    }

    fn parse_strs(args: &[&str]) -> Parsed {
        parse(args.iter().map(OsString::from).collect(), ROOT)
    }

    #[test]
    fn level_prefix_applies_from_where_it_appears() {
        // Warnings before the option have no prefix, those after it do.
        let parsed = parse_strs(&[
            "--chdir",
            "/",
            "--chdir",
            "/",
            "--level-prefix",
            "--chdir",
            "/",
            "true",
        ]);
        assert!(parsed.result.is_ok());
        let prefixes: Vec<bool> = parsed.warnings.iter().map(|w| w.level_prefix).collect();
        assert_eq!(prefixes, vec![false, true]);
        assert!(parsed.level_prefix);
        // An error that ends the parse before the option: no prefix.
        let parsed = parse_strs(&["--bogus", "--level-prefix", "true"]);
        assert!(parsed.result.is_err() && !parsed.level_prefix);
        let parsed = parse_strs(&["--level-prefix", "--bogus", "true"]);
        assert!(parsed.result.is_err() && parsed.level_prefix);
        // Well after the options, even behind filesystem actions.
        let parsed = parse_strs(&[
            "--bind",
            "/",
            "/",
            "--tmpfs",
            "/tmp",
            "--level-prefix",
            "--chdir",
            "/",
            "--chdir",
            "/",
            "true",
        ]);
        assert_eq!(
            parsed.warnings,
            vec![Warning {
                message: "Only the last --chdir option will take effect".into(),
                level_prefix: true
            }]
        );
        // Not an option once the command has started.
        let parsed = parse_strs(&["true", "--level-prefix"]);
        assert!(!parsed.level_prefix);
    }

    #[test]
    fn every_row_of_the_table_parses_and_nothing_else_does() {
        // A descriptor number that is not open: parsing takes ownership of
        // open ones, which must not be the test harness's.
        let sample = |c: table::Complete| match c {
            table::Complete::Fd => "999",
            table::Complete::Number => "1",
            table::Complete::Capability => "ALL",
            _ => "/",
        };
        for spec in table::OPTIONS {
            if matches!(spec.action, Action::Args(_)) {
                // Reads its descriptor: covered by the suites.
                continue;
            }
            let mut args = vec![spec.name];
            args.extend(spec.values().iter().map(|v| sample(v.complete)));
            args.push("true");
            if let Err(CliError::Message(m)) = parse_strs(&args).result {
                assert!(!m.starts_with("Unknown option"), "{}: {m}", spec.name);
            }
        }
        for unknown in [
            "--bogus",
            "--Bind",
            "--bind ",
            "--rootfs=/",
            "--no-such-option",
        ] {
            assert_eq!(
                err(&[unknown, "/", "/", "true"]),
                format!("Unknown option {unknown}")
            );
        }
    }

    #[test]
    fn no_command_is_a_usage_error() {
        let res = parse(vec![], ROOT).result;
        assert_eq!(res.unwrap_err(), CliError::Usage);
        let res = parse(vec!["--unshare-pid".into()], ROOT).result;
        assert_eq!(res.unwrap_err(), CliError::Usage);
    }

    #[test]
    fn unprivileged_callers_get_a_user_namespace() {
        let host = Host {
            root: false,
            ..ROOT
        };
        let res = parse(vec!["true".into()], host).result;
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
        let res = parse(
            ["--memory-max", "1G", "true"]
                .iter()
                .map(OsString::from)
                .collect(),
            Host {
                swap: Fact::Is(true),
                ..ROOT
            },
        )
        .result;
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
        assert_eq!(cfg.rootfs, RootSource::Dir("/srv/root".into()));
        assert!(!cfg.runtime.use_pivot_root);
        let cfg = run(&["true"]).unwrap();
        assert_eq!(cfg.rootfs, RootSource::Tmpfs);
        assert!(cfg.runtime.use_pivot_root);
    }

    /// A descriptor handed to vb on the command line: this test's copy is
    /// given up, as a caller's is across exec.
    fn handed_over(fd: std::os::fd::OwnedFd) -> String {
        std::os::fd::IntoRawFd::into_raw_fd(fd).to_string()
    }

    #[test]
    fn bind_fd_takes_the_descriptor_and_one_number_is_one_descriptor() {
        use std::os::fd::AsRawFd;
        let dir = rustix::fs::open(
            "/",
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        let n = handed_over(dir);
        let cfg = run(&["--bind-fd", &n, "/a", "--ro-bind-fd", &n, "/b", "true"]).unwrap();
        let [
            FsAction::BindFd {
                fd: a,
                read_only: false,
                ..
            },
            FsAction::BindFd {
                fd: b,
                read_only: true,
                ..
            },
        ] = cfg.fs_actions.as_slice()
        else {
            panic!("{:?}", cfg.fs_actions);
        };
        assert!(std::sync::Arc::ptr_eq(a, b));
        assert_eq!(a.as_raw_fd().to_string(), n);
    }

    #[test]
    fn bind_fd_of_a_number_not_open_binds_its_proc_path_as_bubblewrap_does() {
        // Descriptors are allocated lowest first: this one is never open.
        let cfg = run(&["--ro-bind-fd", "987654", "/a", "true"]).unwrap();
        assert_eq!(
            cfg.fs_actions,
            [FsAction::Bind {
                src: "/proc/self/fd/987654".into(),
                dest: "/a".into(),
                mode: voidbox::BindMode::ReadOnly,
                optional: false,
            }]
        );
    }

    #[test]
    fn a_data_option_closes_the_descriptor_an_earlier_bind_fd_named() {
        use rustix::net::{AddressFamily, Shutdown, SocketFlags, SocketType};
        let (r, w) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        rustix::io::write(&w, b"data").unwrap();
        rustix::net::shutdown(&w, Shutdown::Write).unwrap();
        let n = handed_over(r);
        let cfg = run(&["--bind-fd", &n, "/a", "--file", &n, "/f", "true"]).unwrap();
        let [FsAction::Bind { src, .. }, FsAction::File { .. }] = cfg.fs_actions.as_slice() else {
            panic!("{:?}", cfg.fs_actions);
        };
        assert_eq!(src, &PathBuf::from(format!("/proc/self/fd/{n}")));
        // vb's end is closed already: this end reads end-of-file, where an
        // open peer would have it wait (EAGAIN). A process another test
        // thread forks holds a copy of every descriptor until it executes,
        // so end-of-file may take a moment.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut buf = [0u8; 1];
        loop {
            let got =
                rustix::net::recv(&w, &mut buf, rustix::net::RecvFlags::DONTWAIT).map(|(n, _)| n);
            if got == Ok(0) {
                break;
            }
            assert_eq!(got, Err(rustix::io::Errno::AGAIN));
            assert!(
                std::time::Instant::now() < deadline,
                "the descriptor stays open"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
