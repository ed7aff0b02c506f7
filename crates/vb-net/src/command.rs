//! Running external programs (`nft`, `iptables`, `pasta`) and judging how they ended.
//!
//! A program counts as successful only when it *exited* with status 0: a signal, a
//! non-zero status or a status the platform cannot classify are all failures, reported
//! with the command line and what it printed on standard error. The [`Runner`] seam lets
//! unit tests record the commands a step would run without running them.

use std::fmt;
use std::io::{self, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};

use crate::error::Error;

/// How an external program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// Neither (the platform reported a status that is neither).
    Unknown,
}

impl Termination {
    /// Classifies a wait status.
    #[must_use]
    pub fn of(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Self::Exited(code),
            (None, Some(signal)) => Self::Signaled(signal),
            (None, None) => Self::Unknown,
        }
    }

    /// Whether the program exited with status 0.
    #[must_use]
    pub fn success(self) -> bool {
        self == Self::Exited(0)
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Exited(code) => write!(f, "exited with status {code}"),
            Self::Signaled(signal) => match signal_name(signal) {
                Some(name) => write!(f, "was killed by signal {signal} ({name})"),
                None => write!(f, "was killed by signal {signal}"),
            },
            Self::Unknown => f.write_str("ended without an exit status or a signal"),
        }
    }
}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => return None,
    })
}

/// What a finished program produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Output {
    pub(crate) termination: Termination,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs programs; the real one is [`SystemRunner`], tests use a recording fake.
pub(crate) trait Runner {
    /// Runs `program` with `args`, feeding it `stdin`, and waits for it.
    ///
    /// # Errors
    /// [`Error::CommandSpawn`] when it cannot be started.
    fn run(&mut self, program: &str, args: &[&str], stdin: Option<&str>) -> Result<Output, Error>;
}

/// Runs `program` and requires it to exit with status 0; returns its standard output.
pub(crate) fn run_ok(
    runner: &mut dyn Runner,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, Error> {
    let out = runner.run(program, args, stdin)?;
    if out.termination.success() {
        Ok(out.stdout)
    } else {
        Err(failed(program, args, &out))
    }
}

/// The error for a program that ran and ended as `out` says.
pub(crate) fn failed(program: &str, args: &[&str], out: &Output) -> Error {
    Error::CommandFailed {
        command: command_line(program, args),
        termination: out.termination,
        stderr: out.stderr.trim().to_owned(),
    }
}

pub(crate) fn command_line(program: &str, args: &[&str]) -> String {
    let mut line = program.to_owned();
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    line
}

/// The Debian package that provides `program`, for the not-installed message.
fn package_of(program: &str) -> Option<&'static str> {
    match program {
        "nft" => Some("nftables"),
        "iptables" | "ip6tables" | "iptables-restore" | "ip6tables-restore" => Some("iptables"),
        "pasta" => Some("passt"),
        _ => None,
    }
}

/// Runs programs for real, from the calling thread (so in its network namespace), with
/// `LC_ALL=C` so that their messages are stable.
#[derive(Debug, Default)]
pub(crate) struct SystemRunner;

impl Runner for SystemRunner {
    fn run(&mut self, program: &str, args: &[&str], stdin: Option<&str>) -> Result<Output, Error> {
        let spawn_error = |source: io::Error| {
            let hint = match (source.kind(), package_of(program)) {
                (io::ErrorKind::NotFound, Some(package)) => {
                    format!(" (install the Debian package `{package}`)")
                }
                _ => String::new(),
            };
            Error::CommandSpawn {
                program: program.to_owned(),
                hint,
                source,
            }
        };
        let mut child = Command::new(program)
            .args(args)
            .env("LC_ALL", "C")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        let mut write_error = None;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A program that exits early closes its end: the status below then says why.
            if let Err(e) = pipe.write_all(text.as_bytes())
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                write_error = Some(e);
            }
        }
        let out = child.wait_with_output().map_err(spawn_error)?;
        if let Some(e) = write_error {
            return Err(spawn_error(e));
        }
        Ok(Output {
            termination: Termination::of(out.status),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termination_tells_exit_from_signal() {
        assert_eq!(
            Termination::of(ExitStatus::from_raw(0)),
            Termination::Exited(0)
        );
        assert_eq!(
            Termination::of(ExitStatus::from_raw(3 << 8)),
            Termination::Exited(3)
        );
        assert_eq!(
            Termination::of(ExitStatus::from_raw(libc::SIGKILL)),
            Termination::Signaled(libc::SIGKILL)
        );
        // A stopped child (0x7f in the low byte) is neither exited nor signalled.
        assert_eq!(
            Termination::of(ExitStatus::from_raw(0x137f)),
            Termination::Unknown
        );
        assert!(Termination::Exited(0).success());
        assert!(!Termination::Exited(1).success());
        assert!(!Termination::Signaled(9).success());
        assert_eq!(
            Termination::Signaled(9).to_string(),
            "was killed by signal 9 (SIGKILL)"
        );
        assert_eq!(Termination::Exited(2).to_string(), "exited with status 2");
    }

    #[test]
    fn real_runner_reports_status_signal_and_missing_program() {
        let mut r = SystemRunner;
        let out = r
            .run("/bin/sh", &["-c", "cat; echo oops >&2; exit 3"], Some("in"))
            .unwrap();
        assert_eq!(out.termination, Termination::Exited(3));
        assert_eq!(out.stdout, "in");
        assert_eq!(out.stderr, "oops\n");
        let err = run_ok(&mut r, "/bin/sh", &["-c", "exit 3"], None).unwrap_err();
        assert_eq!(err.to_string(), "`/bin/sh -c exit 3` exited with status 3");
        let out = r.run("/bin/sh", &["-c", "kill -9 $$"], None).unwrap();
        assert_eq!(out.termination, Termination::Signaled(libc::SIGKILL));
        let err = r.run("nft-does-not-exist", &[], None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot run nft-does-not-exist: "),
            "{err}"
        );
        let err = SystemRunner
            .run("/nonexistent/pasta", &[], None)
            .unwrap_err();
        assert!(matches!(err, Error::CommandSpawn { .. }));
    }

    #[test]
    fn missing_tool_names_its_package() {
        assert_eq!(package_of("nft"), Some("nftables"));
        assert_eq!(package_of("pasta"), Some("passt"));
        assert_eq!(package_of("iptables-restore"), Some("iptables"));
        assert_eq!(package_of("sh"), None);
    }
}
