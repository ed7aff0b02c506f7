//! A running sandbox: [`Session`], what it holds on the host, and waiting
//! for it.

use std::process::{ChildStderr, ChildStdin, ChildStdout};

use vb_fs::MountPlan;
use vb_proc::Running;

use crate::status::ExitStatus;

use crate::error::Error;
use crate::event::EventSink;
use crate::warning::Warning;
use crate::{cgroup_glue, fs_glue};

/// A running sandbox, like `std::process::Child`. [`wait`](Self::wait) may
/// be called once; dropping an unwaited session kills the sandbox and reaps
/// it.
///
/// ```no_run
/// use std::io::Read;
/// use voidbox::{Command, Stdio};
///
/// let mut session = Command::new("/bin/echo").arg("hi").stdout(Stdio::piped()).spawn()?;
/// let mut text = String::new();
/// session.stdout.take().unwrap().read_to_string(&mut text)?;
/// assert!(session.wait()?.success());
/// assert_eq!(text, "hi\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Session {
    /// The caller's end of the command's stdin, when it is
    /// [`Stdio::Piped`](crate::Stdio::Piped). [`wait`](Self::wait) closes it first, so a command
    /// reading its input to the end can finish.
    pub stdin: Option<ChildStdin>,
    /// The caller's end of the command's stdout, when it is [`Stdio::Piped`](crate::Stdio::Piped).
    pub stdout: Option<ChildStdout>,
    /// The caller's end of the command's stderr, when it is [`Stdio::Piped`](crate::Stdio::Piped).
    pub stderr: Option<ChildStderr>,
    pub(crate) running: Option<Running>,
    pub(crate) pid: i32,
    pub(crate) events: EventSink,
    pub(crate) warnings: Vec<Warning>,
    /// The cgroup and filesystem artifacts, released when the sandbox ends.
    pub(crate) host: HostResources,
}

impl Session {
    /// The pid of the sandbox's first process, as seen by the caller (the PID-1
    /// reaper when the sandbox has its own PID namespace).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Warnings produced during setup.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Send `signal` to the sandbox's first process (the reaper forwards the
    /// usual termination and job-control signals to the command).
    pub fn signal(&self, signal: vb_proc::Signal) -> Result<(), Error> {
        match &self.running {
            Some(running) => Ok(running.signal(signal)?),
            None => Err(Error::SessionAlreadyWaited),
        }
    }

    /// Wait for the command and return how it ended. A second call returns
    /// [`Error::SessionAlreadyWaited`].
    pub fn wait(&mut self) -> Result<ExitStatus, Error> {
        drop(self.stdin.take());
        let running = self.running.take().ok_or(Error::SessionAlreadyWaited)?;
        let termination = running.wait();
        // What the limits did, read before the cgroup goes.
        let limits = self
            .host
            .cgroup
            .as_ref()
            .map(vb_cgroup::SandboxCgroup::limit_events);
        let cleaned = self.host.finish();
        let status = ExitStatus::new(termination?, limits);
        cleaned?;
        self.events.exited(self.pid, status);
        Ok(status)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // An unwaited sandbox is killed and reaped by dropping `running`
        // first; then its artifacts can go.
        drop(self.running.take());
        let _ = self.host.finish();
    }
}

/// What a sandbox holds on the host for its lifetime, released by [`finish`](Self::finish).
#[derive(Debug)]
pub(crate) struct HostResources {
    /// The filesystem plan, kept for the artifacts it must remove at the end.
    pub(crate) fs: Option<MountPlan>,
    /// The sandbox's cgroup.
    pub(crate) cgroup: Option<vb_cgroup::SandboxCgroup>,
    /// The sandbox's network on the host.
    pub(crate) net: Option<crate::net_glue::NetAttachment>,
}

impl HostResources {
    /// Release everything; the first error is returned after all was tried.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        let net = self.net.take().map_or(Ok(()), |mut net| net.teardown());
        let cgroup = cgroup_glue::finish(self.cgroup.take());
        let fs = fs_glue::finish(self.fs.take());
        net.and(cgroup).and(fs)
    }
}

/// Wait for `session` (the free-function form of [`Session::wait`]).
pub fn wait(session: &mut Session) -> Result<ExitStatus, Error> {
    session.wait()
}
