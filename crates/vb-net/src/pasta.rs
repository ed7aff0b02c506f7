//! Rootless networking through `pasta` (from passt): no bridge, no privilege. pasta joins
//! the sandbox's user and network namespaces, creates a tap interface there, copies the
//! host's addresses and routes onto it and relays the sandbox's traffic through ordinary
//! sockets of the caller.
//!
//! Started in the parent after the clone, like [`BridgePlan::attach`](crate::BridgePlan::attach).
//! pasta forks into the background once the namespace is configured, so when
//! [`Pasta::attach`] returns the interface is ready; the background process is tracked
//! by a pidfd and stopped by [`Pasta::teardown`] (it does not always notice the sandbox's
//! end by itself).
//!
//! The defaults are chosen for a sandbox: no port of the sandbox is published on the
//! host (`-t none -u none`), the sandbox cannot reach the host's loopback services
//! (`-T none -U none`, `--no-map-gw`) unless [`PastaSpec::map_host_loopback`] opens them
//! through the gateway's address.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::process::{Pid, PidfdFlags, Signal};

use crate::command::{Runner, SystemRunner, run_ok};
use crate::error::Error;

/// How to start pasta.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastaSpec {
    /// The tap interface's name inside the sandbox. Default `eth0`.
    pub ifname: String,
    /// The program. Default `pasta`, looked up in `PATH` (Debian package `passt`).
    pub program: PathBuf,
    /// Let the sandbox reach the host's loopback services: connections to the
    /// gateway's address arrive at the host's `127.0.0.1` (pasta's gateway
    /// mapping). Off by default, so the host's loopback stays closed.
    pub map_host_loopback: bool,
}

impl Default for PastaSpec {
    fn default() -> Self {
        Self {
            ifname: crate::spec::DEFAULT_IFNAME.into(),
            program: "pasta".into(),
            map_host_loopback: false,
        }
    }
}

/// A running pasta serving one sandbox.
#[derive(Debug)]
pub struct Pasta {
    pidfd: Option<OwnedFd>,
    pid: i32,
}

static PID_FILES: AtomicU64 = AtomicU64::new(0);

/// The arguments for a sandbox whose first process is `pid`.
pub(crate) fn arguments(
    spec: &PastaSpec,
    pid: u32,
    pid_file: &str,
    uid: u32,
    gid: u32,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--config-net",
        "--quiet",
        "-t",
        "none",
        "-u",
        "none",
        "-T",
        "none",
        "-U",
        "none",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if !spec.map_host_loopback {
        args.push("--no-map-gw".into());
    }
    args.push("-I".into());
    args.push(spec.ifname.clone());
    // pasta started as root switches to nobody unless told otherwise; the caller's own
    // identity is the one that can enter the sandbox's user namespace.
    args.push("--runas".into());
    args.push(format!("{uid}:{gid}"));
    args.push("-P".into());
    args.push(pid_file.into());
    args.push(pid.to_string());
    args
}

impl Pasta {
    /// Starts pasta for the sandbox whose first process is `pid` (pasta joins that
    /// process's user and network namespaces) and waits until it has configured the
    /// interface.
    ///
    /// # Errors
    /// [`Error::InvalidSpec`] for a bad interface name; [`Error::CommandSpawn`] naming the
    /// Debian package `passt` when pasta is not installed; [`Error::CommandFailed`] with
    /// pasta's message when it fails; [`Error::Io`] for its pid file.
    pub fn attach(pid: u32, spec: &PastaSpec) -> Result<Self, Error> {
        Self::attach_with(pid, spec, &mut SystemRunner)
    }

    pub(crate) fn attach_with(
        pid: u32,
        spec: &PastaSpec,
        runner: &mut dyn Runner,
    ) -> Result<Self, Error> {
        vb_netlink::IfName::new(&spec.ifname).map_err(|e| Error::InvalidSpec {
            field: "ifname",
            value: spec.ifname.clone(),
            reason: e.to_string(),
        })?;
        let pid_file = std::env::temp_dir().join(format!(
            "vb-pasta-{}-{}.pid",
            std::process::id(),
            PID_FILES.fetch_add(1, Ordering::Relaxed)
        ));
        let program = spec.program.to_string_lossy().into_owned();
        let args = arguments(
            spec,
            pid,
            &pid_file.to_string_lossy(),
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw(),
        );
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = run_ok(runner, &program, &argv, None);
        let text = std::fs::read_to_string(&pid_file);
        let _ = std::fs::remove_file(&pid_file);
        ran?;
        let text = text.map_err(Error::io("reading pasta's pid file", &pid_file))?;
        let daemon = text
            .trim()
            .parse::<i32>()
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| {
                Error::io("reading pasta's pid file", &pid_file)(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("not a pid: {:?}", text.trim()),
                ))
            })?;
        // Taken at once, while the process certainly is pasta: the pidfd keeps naming it
        // even if its pid is reused later.
        let pidfd = rustix::process::pidfd_open(daemon, PidfdFlags::empty()).ok();
        Ok(Self {
            pidfd,
            pid: daemon.as_raw_nonzero().get(),
        })
    }

    /// The background pasta process's pid.
    #[must_use]
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Stops pasta (SIGTERM through its pidfd). Idempotent; a pasta that already exited
    /// is not an error.
    ///
    /// # Errors
    /// [`Error::Io`] when the signal cannot be sent for another reason than the process
    /// being gone.
    pub fn teardown(&mut self) -> Result<(), Error> {
        let Some(pidfd) = self.pidfd.take() else {
            return Ok(());
        };
        match rustix::process::pidfd_send_signal(pidfd.as_fd(), Signal::TERM) {
            Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
            Err(errno) => Err(Error::Io {
                step: "stopping pasta",
                path: format!("pid {}", self.pid).into(),
                source: errno.into(),
            }),
        }
    }
}

impl Drop for Pasta {
    fn drop(&mut self) {
        let _ = self.teardown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nat::tests::{FakeRunner, missing};

    #[test]
    fn arguments_keep_the_host_closed_and_name_the_interface() {
        let args = arguments(&PastaSpec::default(), 42, "/tmp/p.pid", 1000, 1000);
        assert_eq!(
            args.join(" "),
            "--config-net --quiet -t none -u none -T none -U none --no-map-gw -I eth0 \
             --runas 1000:1000 -P /tmp/p.pid 42"
        );
        let open = PastaSpec {
            map_host_loopback: true,
            ..PastaSpec::default()
        };
        assert!(!arguments(&open, 42, "/p", 0, 0).contains(&"--no-map-gw".to_owned()));
    }

    #[test]
    fn missing_pasta_names_the_passt_package() {
        let err = Pasta::attach(
            1,
            &PastaSpec {
                program: "pasta-is-not-installed-here".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::CommandSpawn { .. }), "{err}");
        let mut r = FakeRunner::answering([missing("pasta")]);
        let err = Pasta::attach_with(1, &PastaSpec::default(), &mut r).unwrap_err();
        assert!(matches!(err, Error::CommandSpawn { .. }), "{err}");
        let bad = PastaSpec {
            ifname: "no/slash".into(),
            ..Default::default()
        };
        assert!(matches!(
            Pasta::attach(1, &bad),
            Err(Error::InvalidSpec {
                field: "ifname",
                ..
            })
        ));
    }
}
