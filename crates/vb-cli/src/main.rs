//! `vb`: a drop-in for bubblewrap's `bwrap`, on voidbox.
//!
//! Exit status: the command's (its code, or 128 + the signal that killed it);
//! 1 for vb's own errors, reported as `vb: <message>` on stderr (`bwrap:` when
//! the binary is invoked as `bwrap`).

mod cli;
mod message;
mod numbers;
mod usage;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use voidbox::StatusEvent;

use cli::{CliError, Host, Invocation};
use message::Reporter;

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

fn run(args: Vec<OsString>, reporter: &Reporter) -> anyhow::Result<ExitCode> {
    let (parsed, warnings) = cli::parse(args, Host::detect());
    for w in &warnings {
        eprintln!("{}", reporter.warning(w));
    }
    let mut config = match parsed {
        Ok(Invocation::Help) => {
            let mut out = std::io::stdout().lock();
            out.write_all(usage::usage_text(&reporter.prog).as_bytes())?;
            return Ok(ExitCode::SUCCESS);
        }
        Ok(Invocation::Version) => {
            println!("{}", version_line(&reporter.prog));
            return Ok(ExitCode::SUCCESS);
        }
        Ok(Invocation::Run(mut config)) => {
            let printer = reporter.clone();
            config.status.on_event = Some(Arc::new(move |event: &StatusEvent| {
                if let StatusEvent::RuntimeInitWarnings { warnings, .. } = event {
                    for w in warnings {
                        eprintln!("{}", printer.warning(w));
                    }
                }
            }));
            config
        }
        Err(CliError::Usage) => {
            eprint!("{}", usage::usage_text(&reporter.prog));
            return Ok(ExitCode::FAILURE);
        }
        Err(CliError::Message(m)) => anyhow::bail!(m),
    };
    let mut session = voidbox::spawn(&config)?;
    // bubblewrap closes the info descriptor once written: its reader sees
    // end-of-file now, not when the sandbox ends.
    config.status.info_fd = None;
    let status = session.wait()?;
    Ok(exit_code(status.code()))
}

fn main() -> ExitCode {
    let mut argv = std::env::args_os();
    let prog = program_name(argv.next().as_ref());
    let args: Vec<OsString> = argv.collect();
    let reporter = Reporter {
        level_prefix: args
            .iter()
            .take_while(|a| a.to_str().is_some_and(|s| s.starts_with('-') && s != "--"))
            .any(|a| a == "--level-prefix"),
        prog,
    };
    match run(args, &reporter) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", reporter.error(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}
