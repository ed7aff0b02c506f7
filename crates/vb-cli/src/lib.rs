//! `vb`: a drop-in for bubblewrap's `bwrap`, on voidbox.
//!
//! Exit status: the command's (its code, or 128 + the signal that killed it);
//! 1 for vb's own errors, reported as `vb: <message>` on stderr (`bwrap:` when
//! the binary is invoked as `bwrap`).
//!
//! Every option is a row of one table, from which the parser dispatches and
//! `--help`, the man page and the bash and zsh completions are rendered. The
//! binary calls [`vb_main`]; `cargo xtask gen-cli-docs` writes
//! [`generated_files`] into the repository:
//!
//! ```
//! let files = vb_cli::generated_files();
//! let man = files.iter().find(|f| f.path == "docs/vb.1").unwrap();
//! assert!(man.contents.contains(r"\-\-ro\-bind"));
//! ```

#![warn(missing_docs)]

mod apply;
mod bash_completion;
mod check_host;
mod checks;
mod cli;
mod errno_text;
mod generated;
mod host;
mod man_page;
mod message;
mod numbers;
mod state;
mod table;
mod usage;
mod zsh_completion;

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use rustix::process::{Pid, Signal};
use voidbox::StatusEvent;

use cli::Invocation;
use host::Host;
use message::Reporter;
use state::CliError;

pub use generated::{GeneratedFile, generated_files};

/// What `--version` prints as the bubblewrap version this CLI follows.
const BWRAP_COMPAT_VERSION: &str = "0.11.1";

fn program_name(argv0: Option<&OsString>) -> String {
    let invoked = argv0
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned());
    match invoked.as_deref() {
        Some("bwrap") => "bwrap".into(),
        _ => "vb".into(),
    }
}

fn version_line(prog: &str) -> String {
    if prog == "bwrap" {
        format!("bubblewrap {BWRAP_COMPAT_VERSION}")
    } else {
        format!(
            "vb {} (bubblewrap {BWRAP_COMPAT_VERSION} compatible)",
            env!("CARGO_PKG_VERSION")
        )
    }
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}

/// A launcher may exec vb with SIGCHLD ignored, and an ignored SIGCHLD is
/// inherited across exec: the kernel would then reap the sandbox by itself
/// and waiting for it would fail with ECHILD. bubblewrap resets it too.
fn reset_sigchld() {
    // SAFETY: installs the default disposition (no handler runs), before any
    // other thread exists.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
}

/// `--die-with-parent` applies to vb itself as well as to the sandbox, as in
/// bubblewrap: vb is killed when its parent dies, and the sandbox's own death
/// signal follows from vb's death.
fn die_with_parent(parent_at_start: Option<Pid>) -> anyhow::Result<()> {
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(|e| anyhow::anyhow!("prctl: {e}"))?;
    // The parent may have died before the signal was armed, which would
    // leave vb reparented and never signalled: do what the kernel would have.
    if rustix::process::getppid() != parent_at_start {
        let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::KILL);
        anyhow::bail!("prctl: the parent process has already exited");
    }
    Ok(())
}

fn run(
    result: Result<Invocation, CliError>,
    argv0: &OsStr,
    parent_at_start: Option<Pid>,
    reporter: &Reporter,
) -> anyhow::Result<ExitCode> {
    let config = match result {
        Ok(Invocation::Help) => {
            usage::write_usage(&mut std::io::stdout().lock(), argv0)?;
            return Ok(ExitCode::SUCCESS);
        }
        Ok(Invocation::CheckHost { json }) => {
            let report = voidbox::check_host()?;
            let text = if json {
                report.to_json()
            } else {
                check_host::table(&report)
            };
            print!("{text}");
            return Ok(if report.problems().is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Ok(Invocation::Version) => {
            println!("{}", version_line(&reporter.prog));
            return Ok(ExitCode::SUCCESS);
        }
        Ok(Invocation::Run(mut config)) => {
            let printer = reporter.clone();
            let verbose = config.status.setup_steps;
            config.status.on_event = Some(Arc::new(move |event: &StatusEvent| {
                match event {
                    StatusEvent::RuntimeInitWarnings { warnings, .. } => {
                        for w in warnings {
                            eprintln!("{}", printer.warning(&w.to_string()));
                        }
                    }
                    // Only with --verbose, which asks for the steps.
                    StatusEvent::SetupStep { step, took, .. } => {
                        let line = format!("setup: {} took {}", step.name(), message::ms(*took));
                        eprintln!("{}", printer.info(&line));
                    }
                    StatusEvent::SetupFinished { setup, .. } if verbose => {
                        let line = format!("setup: finished in {}", message::ms(*setup));
                        eprintln!("{}", printer.info(&line));
                    }
                    _ => {}
                }
            }));
            config
        }
        Err(CliError::Usage) => {
            usage::write_usage(&mut std::io::stderr().lock(), argv0)?;
            return Ok(ExitCode::FAILURE);
        }
        Err(CliError::Message(m)) => anyhow::bail!(m),
    };
    if config.process.die_with_parent {
        die_with_parent(parent_at_start)?;
    }
    let status = voidbox::spawn(&config)?.wait()?;
    // Why the sandbox died, when a limit vb set ended it (bubblewrap has no
    // limits, so under its name nothing is added).
    if reporter.prog != "bwrap" {
        for line in message::limit_lines(&status, &config.resources) {
            eprintln!("{}", reporter.warning(&line));
        }
    }
    Ok(exit_code(status.code()))
}

/// The `vb` program: parse the command line, run the sandbox, return the
/// command's exit status.
pub fn vb_main() -> ExitCode {
    reset_sigchld();
    let parent_at_start = rustix::process::getppid();
    let mut argv = std::env::args_os();
    let argv0 = argv.next();
    let prog = program_name(argv0.as_ref());
    let argv0 = argv0.unwrap_or_else(|| OsString::from(&prog));
    let parsed = cli::parse(argv.collect(), Host::detect());
    // Each parse warning carries the prefix state of its moment; the error
    // that ended the parse, and everything after, use the final state.
    let reporter = Reporter {
        prog,
        level_prefix: parsed.level_prefix,
    };
    for warning in &parsed.warnings {
        eprintln!("{}", reporter.parse_warning(warning));
    }
    match run(parsed.result, &argv0, parent_at_start, &reporter) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", reporter.error(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}
