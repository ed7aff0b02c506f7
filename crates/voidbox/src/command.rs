//! A `std::process::Command`-like front over [`JailConfig`].

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{ChildStderr, ChildStdout};

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;

use crate::status::ExitStatus;

use crate::config::{EnvOp, JailConfig, Namespaces, RootSource, Stdio};
use crate::error::Error;
use crate::session::Session;
use crate::spawn::spawn;

/// A sandboxed command, built like `std::process::Command`: the builder
/// methods take and return `&mut Self`, so a command can be built in steps.
///
/// ```no_run
/// let verbose = std::env::var_os("VERBOSE").is_some();
/// let mut cmd = voidbox::Command::new("/bin/echo");
/// cmd.arg("hi").rootfs("/").unshare_all();
/// if verbose {
///     cmd.env("DEBUG", "1");
/// }
/// let out = cmd.output()?;
/// assert_eq!(out.stdout, b"hi\n");
/// # Ok::<(), voidbox::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Command {
    config: JailConfig,
    /// Which of stdin, stdout and stderr the caller chose, so [`output`]
    /// captures only the others, as `std::process::Command::output` does.
    ///
    /// [`output`]: Self::output
    chosen: [bool; 3],
}

/// The result of [`Command::output`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How the command ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

impl Command {
    /// A command running `program` (looked up in the sandbox's `PATH`).
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self::from_config(JailConfig {
            cmd: vec![program.as_ref().to_os_string()],
            ..JailConfig::default()
        })
    }

    /// A command from a complete configuration.
    pub fn from_config(config: JailConfig) -> Self {
        Self {
            config,
            chosen: [false; 3],
        }
    }

    /// The configuration built so far.
    pub fn config(&self) -> &JailConfig {
        &self.config
    }

    /// Mutable access to the configuration, for options without a builder.
    pub fn config_mut(&mut self) -> &mut JailConfig {
        &mut self.config
    }

    /// Add an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.config.cmd.push(arg.as_ref().to_os_string());
        self
    }

    /// Add arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.config
            .cmd
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Use this host directory as the sandbox's root.
    pub fn rootfs(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.config.rootfs = RootSource::Dir(dir.into());
        self
    }

    /// Create every namespace.
    pub fn unshare_all(&mut self) -> &mut Self {
        self.config.isolation = Namespaces::ALL;
        self
    }

    /// Choose the namespaces.
    pub fn isolation(&mut self, isolation: Namespaces) -> &mut Self {
        self.config.isolation = isolation;
        self
    }

    /// Set an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.config.process.env.push(EnvOp::Set {
            key: key.as_ref().to_os_string(),
            value: value.as_ref().to_os_string(),
        });
        self
    }

    /// Remove an environment variable.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.config
            .process
            .env
            .push(EnvOp::Unset(key.as_ref().to_os_string()));
        self
    }

    /// Start from an empty environment.
    pub fn env_clear(&mut self) -> &mut Self {
        self.config.process.env.push(EnvOp::Clear);
        self
    }

    /// The working directory inside the sandbox.
    pub fn current_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.config.process.chdir = Some(dir.into());
        self
    }

    /// The hostname (creates a UTS namespace).
    pub fn hostname(&mut self, name: impl AsRef<OsStr>) -> &mut Self {
        self.config.isolation.uts = true;
        self.config.runtime.hostname = Some(name.as_ref().to_os_string());
        self
    }

    /// Connect the command's stdin (default: the caller's; `/dev/null` for
    /// [`output`](Self::output)).
    pub fn stdin(&mut self, stdio: impl Into<Stdio>) -> &mut Self {
        self.config.process.stdin = stdio.into();
        self.chosen[0] = true;
        self
    }

    /// Connect the command's stdout (default: the caller's; a pipe for
    /// [`output`](Self::output)).
    pub fn stdout(&mut self, stdio: impl Into<Stdio>) -> &mut Self {
        self.config.process.stdout = stdio.into();
        self.chosen[1] = true;
        self
    }

    /// Connect the command's stderr (default: the caller's; a pipe for
    /// [`output`](Self::output)).
    pub fn stderr(&mut self, stdio: impl Into<Stdio>) -> &mut Self {
        self.config.process.stderr = stdio.into();
        self.chosen[2] = true;
        self
    }

    /// Spawn the sandbox; the command runs when this returns. Streams set to
    /// [`Stdio::piped`] are on the session's `stdin`, `stdout` and `stderr`.
    pub fn spawn(&mut self) -> Result<Session, Error> {
        spawn(&self.config)
    }

    /// Run the sandbox to completion.
    pub fn status(&mut self) -> Result<ExitStatus, Error> {
        self.spawn()?.wait()
    }

    /// Run the sandbox to completion, capturing stdout and stderr unless
    /// they were set; stdin is `/dev/null` unless it was set.
    pub fn output(&mut self) -> Result<Output, Error> {
        let mut config = self.config.clone();
        let process = &mut config.process;
        for (chosen, (stream, default)) in self.chosen.iter().zip([
            (&mut process.stdin, Stdio::Null),
            (&mut process.stdout, Stdio::Piped),
            (&mut process.stderr, Stdio::Piped),
        ]) {
            if !chosen {
                *stream = default;
            }
        }
        let mut session = spawn(&config)?;
        drop(session.stdin.take());
        let (stdout, stderr) =
            read_both(session.stdout.take(), session.stderr.take()).map_err(|e| {
                Error::ChildStep {
                    what: "reading the command's output".into(),
                    source: e,
                }
            })?;
        let status = session.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

/// Read two pipes to their ends at once, so neither can fill and block the
/// command while the other is read.
fn read_both(
    out: Option<ChildStdout>,
    err: Option<ChildStderr>,
) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut pipes = [out.map(OwnedFd::from), err.map(OwnedFd::from)];
    let mut bufs = [Vec::new(), Vec::new()];
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(2);
        let mut which = Vec::with_capacity(2);
        for (i, pipe) in pipes.iter().enumerate() {
            if let Some(fd) = pipe {
                fds.push(PollFd::new(fd, PollFlags::IN));
                which.push(i);
            }
        }
        if fds.is_empty() {
            return Ok(bufs.into());
        }
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<usize> = fds
            .iter()
            .zip(&which)
            .filter(|(fd, _)| !fd.revents().is_empty())
            .map(|(_, i)| *i)
            .collect();
        drop(fds);
        for i in ready {
            let Some(fd) = &pipes[i] else { continue };
            match rustix::io::read(fd, &mut chunk) {
                Ok(0) => pipes[i] = None,
                Ok(n) => bufs[i].extend_from_slice(&chunk[..n]),
                Err(Errno::INTR | Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
