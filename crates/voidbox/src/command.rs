//! A `std::process::Command`-like front over [`JailConfig`].

use std::ffi::OsStr;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use vb_proc::ExitStatus;

use crate::config::{EnvOp, IsolationOptions, JailConfig, RootFs, Stdio};
use crate::error::Error;
use crate::session::{Session, spawn};

/// A sandboxed command, built like `std::process::Command`.
///
/// ```no_run
/// let out = voidbox::Command::new("/bin/echo")
///     .arg("hi")
///     .rootfs("/")
///     .unshare_all()
///     .output()?;
/// assert_eq!(out.stdout, b"hi\n");
/// # Ok::<(), voidbox::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Command {
    config: JailConfig,
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
        Self { config }
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
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.config.cmd.push(arg.as_ref().to_os_string());
        self
    }

    /// Add arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
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
    pub fn rootfs(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.rootfs = RootFs::Dir(dir.into());
        self
    }

    /// Create every namespace.
    pub fn unshare_all(mut self) -> Self {
        self.config.isolation = IsolationOptions::ALL;
        self
    }

    /// Choose the namespaces.
    pub fn isolation(mut self, isolation: IsolationOptions) -> Self {
        self.config.isolation = isolation;
        self
    }

    /// Set an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.config.process.env.push(EnvOp::Set {
            key: key.as_ref().to_os_string(),
            value: value.as_ref().to_os_string(),
        });
        self
    }

    /// Remove an environment variable.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.config
            .process
            .env
            .push(EnvOp::Unset(key.as_ref().to_os_string()));
        self
    }

    /// Start from an empty environment.
    pub fn env_clear(mut self) -> Self {
        self.config.process.env.push(EnvOp::Clear);
        self
    }

    /// The working directory inside the sandbox.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.process.chdir = Some(dir.into());
        self
    }

    /// The hostname (creates a UTS namespace).
    pub fn hostname(mut self, name: impl AsRef<OsStr>) -> Self {
        self.config.isolation.uts = true;
        self.config.runtime.hostname = Some(name.as_ref().to_os_string());
        self
    }

    /// Connect the command's stdin.
    pub fn stdin(mut self, stdio: Stdio) -> Self {
        self.config.process.stdin = stdio;
        self
    }

    /// Connect the command's stdout.
    pub fn stdout(mut self, stdio: Stdio) -> Self {
        self.config.process.stdout = stdio;
        self
    }

    /// Connect the command's stderr.
    pub fn stderr(mut self, stdio: Stdio) -> Self {
        self.config.process.stderr = stdio;
        self
    }

    /// Spawn the sandbox.
    pub fn spawn(&self) -> Result<Session, Error> {
        spawn(&self.config)
    }

    /// Run the sandbox to completion.
    pub fn status(&self) -> Result<ExitStatus, Error> {
        self.spawn()?.wait()
    }

    /// Run the sandbox with stdout and stderr captured (stdin is `/dev/null`).
    pub fn output(&self) -> Result<Output, Error> {
        let pipe = || {
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| {
                Error::ChildStep {
                    what: "creating an output pipe".into(),
                    source: e.into(),
                }
            })
        };
        let (out_read, out_write) = pipe()?;
        let (err_read, err_write) = pipe()?;
        let mut config = self.config.clone();
        config.process.stdin = Stdio::Null;
        config.process.stdout = Stdio::Fd(Arc::new(out_write));
        config.process.stderr = Stdio::Fd(Arc::new(err_write));
        let spawned = spawn(&config);
        // The child holds its own copies now; ours (in the configuration)
        // must go so reads see EOF.
        drop(config);
        let mut session = spawned?;
        // Read stderr on a second thread so neither pipe can fill and block.
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = std::fs::File::from(err_read).read_to_end(&mut buf);
            buf
        });
        let mut stdout = Vec::new();
        let _ = std::fs::File::from(out_read).read_to_end(&mut stdout);
        let stderr = stderr_reader.join().unwrap_or_default();
        let status = session.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}
