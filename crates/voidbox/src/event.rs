//! Status events and where they go: a callback, voidbox's JSON lines
//! (`docs/events.md`), and bubblewrap's `--info-fd` and `--json-status-fd`
//! formats, byte for byte.
//!
//! A successful launch emits, in order: `runtime_init_warnings` (only when
//! setup produced warnings), `spawned`, `setup_finished`, `exited`. Each
//! carries the `CLOCK_MONOTONIC` time it happened at, so events from several
//! sandboxes, and from other processes reading the same clock, order.

use std::fmt::Write as _;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use crate::status::ExitStatus;

use crate::config::{EventCallback, HandOff, StatusOptions};
use crate::json::json_string;
use crate::warning::Warning;

/// The kind of a [`StatusEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusEventKind {
    /// Setup produced warnings (emitted before `spawned`).
    RuntimeInitWarnings,
    /// The sandbox's first process exists.
    Spawned,
    /// Setup finished and the command was executed.
    SetupFinished,
    /// The command ended.
    Exited,
    /// A step of setup ended (only with [`StatusOptions::setup_steps`]).
    ///
    /// [`StatusOptions::setup_steps`]: crate::StatusOptions::setup_steps
    SetupStep,
}

/// A step of setup whose duration [`StatusEvent::SetupStep`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SetupStep {
    /// The filesystem plan compiled (sources resolved, data read).
    FilesystemPlan,
    /// The cgroup created (or planned) with its limits.
    Cgroup,
    /// The process plan prepared (identity, security context, seccomp
    /// programs, Landlock rules).
    ProcessPlan,
    /// The child cloned into its namespaces.
    Clone,
    /// The network attached to the child's namespace.
    Network,
    /// The child's own setup, from the gate to the command's `execve`:
    /// mounts, root switch, identity, security.
    ChildSetup,
}

impl SetupStep {
    /// The step's name in messages and in the JSON event stream.
    pub fn name(self) -> &'static str {
        match self {
            Self::FilesystemPlan => "filesystem plan",
            Self::Cgroup => "cgroup",
            Self::ProcessPlan => "process plan",
            Self::Clone => "clone",
            Self::Network => "network",
            Self::ChildSetup => "child setup",
        }
    }
}

/// One status event. More kinds may come: match with a wildcard arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusEvent {
    /// Setup produced warnings (a controller missing or refusing a limit...).
    RuntimeInitWarnings {
        /// When (`CLOCK_MONOTONIC`).
        at: Duration,
        /// How many warnings, clipped to `u16::MAX`.
        count: u16,
        /// The warnings, in the order they arose.
        warnings: Vec<Warning>,
    },
    /// The sandbox's first process was cloned.
    Spawned {
        /// When (`CLOCK_MONOTONIC`).
        at: Duration,
        /// Its pid, as seen by the caller.
        pid: i32,
    },
    /// The command is running.
    SetupFinished {
        /// When (`CLOCK_MONOTONIC`).
        at: Duration,
        /// The pid of the sandbox's first process.
        pid: i32,
        /// How long setup took: from the call to
        /// [`spawn`](crate::spawn) to the command's `execve`.
        setup: Duration,
    },
    /// A step of setup ended (only with
    /// [`StatusOptions::setup_steps`](crate::StatusOptions::setup_steps)),
    /// in the order they happen, before `setup_finished`.
    SetupStep {
        /// When (`CLOCK_MONOTONIC`): when the step ended.
        at: Duration,
        /// Which step.
        step: SetupStep,
        /// How long it took.
        took: Duration,
    },
    /// The command ended.
    Exited {
        /// When (`CLOCK_MONOTONIC`): when voidbox saw it end.
        at: Duration,
        /// The pid of the sandbox's first process.
        pid: i32,
        /// How it ended.
        status: ExitStatus,
    },
}

impl StatusEvent {
    /// The event's kind.
    pub fn kind(&self) -> StatusEventKind {
        match self {
            Self::RuntimeInitWarnings { .. } => StatusEventKind::RuntimeInitWarnings,
            Self::Spawned { .. } => StatusEventKind::Spawned,
            Self::SetupFinished { .. } => StatusEventKind::SetupFinished,
            Self::Exited { .. } => StatusEventKind::Exited,
            Self::SetupStep { .. } => StatusEventKind::SetupStep,
        }
    }

    /// When it happened (`CLOCK_MONOTONIC`).
    pub fn at(&self) -> Duration {
        match self {
            Self::RuntimeInitWarnings { at, .. }
            | Self::Spawned { at, .. }
            | Self::SetupFinished { at, .. }
            | Self::Exited { at, .. }
            | Self::SetupStep { at, .. } => *at,
        }
    }

    /// The event as one line of voidbox's JSON event stream, newline
    /// included (the schema is in `docs/events.md`).
    pub fn to_json_line(&self) -> String {
        let kind = match self.kind() {
            StatusEventKind::RuntimeInitWarnings => "runtime_init_warnings",
            StatusEventKind::Spawned => "spawned",
            StatusEventKind::SetupFinished => "setup_finished",
            StatusEventKind::Exited => "exited",
            StatusEventKind::SetupStep => "setup_step",
        };
        let mut out = format!("{{\"kind\":\"{kind}\",\"at_ns\":{}", self.at().as_nanos());
        match self {
            Self::RuntimeInitWarnings {
                count, warnings, ..
            } => {
                let _ = write!(out, ",\"count\":{count},\"warnings\":[");
                for (i, warning) in warnings.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(&mut out, &warning.to_string());
                }
                out.push(']');
            }
            Self::Spawned { pid, .. } => {
                let _ = write!(out, ",\"pid\":{pid}");
            }
            Self::SetupFinished { pid, setup, .. } => {
                let _ = write!(out, ",\"pid\":{pid},\"setup_ns\":{}", setup.as_nanos());
            }
            Self::SetupStep { step, took, .. } => {
                let _ = write!(out, ",\"step\":");
                json_string(&mut out, step.name());
                let _ = write!(out, ",\"took_ns\":{}", took.as_nanos());
            }
            Self::Exited { pid, status, .. } => {
                let _ = write!(out, ",\"pid\":{pid},\"exit_code\":{}", status.code());
                match status.signal() {
                    Some(signal) => {
                        let _ = write!(out, ",\"signal\":{signal}");
                    }
                    None => out.push_str(",\"signal\":null"),
                }
                if let Some(limits) = status.limit_events() {
                    let _ = write!(
                        out,
                        ",\"oom_killed\":{},\"pids_limit_reached\":{}",
                        status.killed_by_memory_limit(),
                        limits.pids_max_reached()
                    );
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

/// The `CLOCK_MONOTONIC` time now.
pub(crate) fn monotonic_now() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or_default(),
        u32::try_from(now.tv_nsec).unwrap_or_default(),
    )
}

/// Namespace ids of the sandbox's first process, in bubblewrap's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NamespaceIds(pub(crate) Vec<(&'static str, u64)>);

impl NamespaceIds {
    /// The ids of the namespaces that were created (the mount namespace
    /// always; never the user namespace, as bubblewrap lists them), from the
    /// child's report.
    pub(crate) fn from_report(
        report: &vb_proc::SandboxReport,
        created: &crate::config::Namespaces,
    ) -> Self {
        let wanted = [
            ("cgroup", "cgroup-namespace", created.cgroup),
            ("ipc", "ipc-namespace", created.ipc),
            ("mnt", "mnt-namespace", true),
            ("net", "net-namespace", created.net),
            ("pid", "pid-namespace", created.pid),
            ("uts", "uts-namespace", created.uts),
        ];
        Self(
            wanted
                .iter()
                .filter(|(_, _, on)| *on)
                .filter_map(|(name, key, _)| Some((*key, report.namespace_id(name)?)))
                .collect(),
        )
    }
}

/// bubblewrap's `--info-fd` object: pretty-printed, four-space indent.
pub(crate) fn info_json(pid: i32, ids: &NamespaceIds) -> String {
    let mut out = format!("{{\n    \"child-pid\": {pid}");
    for (key, ino) in &ids.0 {
        let _ = write!(out, ",\n    \"{key}\": {ino}");
    }
    out.push_str("\n}\n");
    out
}

/// bubblewrap's first `--json-status-fd` line.
pub(crate) fn status_json(pid: i32, ids: &NamespaceIds) -> String {
    let mut out = format!("{{ \"child-pid\": {pid}");
    for (key, ino) in &ids.0 {
        let _ = write!(out, ", \"{key}\": {ino}");
    }
    out.push_str(" }\n");
    out
}

/// bubblewrap's last `--json-status-fd` line.
pub(crate) fn exit_json(code: i32) -> String {
    format!("{{ \"exit-code\": {code} }}\n")
}

fn write_fd(fd: &OwnedFd, text: &str) {
    let fd = fd.as_fd();
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        match rustix::io::write(fd, rest) {
            Ok(0) => return,
            Ok(n) => rest = rest.get(n..).unwrap_or_default(),
            Err(rustix::io::Errno::INTR) => {}
            // A reader that went away must not fail the sandbox (bubblewrap
            // ignores these errors too).
            Err(_) => return,
        }
    }
}

/// Delivers events to the configured sinks.
#[derive(Clone, Default)]
pub(crate) struct EventSink {
    callback: Option<EventCallback>,
    info_fd: Option<Arc<OwnedFd>>,
    json_fd: Option<Arc<OwnedFd>>,
    /// voidbox's JSON lines.
    event_fd: Option<Arc<OwnedFd>>,
    /// Whether the configuration had an info descriptor (taken or not).
    wants_info: bool,
    /// When the spawn began (`CLOCK_MONOTONIC`).
    started: Duration,
    /// Whether setup steps are reported.
    steps: bool,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("callback", &self.callback.is_some())
            .field("info_fd", &self.info_fd)
            .field("json_fd", &self.json_fd)
            .field("event_fd", &self.event_fd)
            .finish()
    }
}

impl EventSink {
    pub(crate) fn new(status: &StatusOptions) -> Self {
        Self {
            callback: status.on_event.clone(),
            // Taken now: written once, then closed (see HandOff); never
            // inherited by the sandbox.
            info_fd: status.info_fd.as_ref().and_then(HandOff::take).map(|fd| {
                let _ = rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC);
                Arc::new(fd)
            }),
            json_fd: status.json_status_fd.clone(),
            event_fd: status.event_fd.clone(),
            wants_info: status.info_fd.is_some(),
            started: monotonic_now(),
            steps: status.setup_steps,
        }
    }

    /// The status descriptors' numbers, which the sandbox closes at once.
    pub(crate) fn descriptors(&self) -> Vec<std::os::fd::RawFd> {
        [&self.info_fd, &self.json_fd, &self.event_fd]
            .into_iter()
            .flatten()
            .map(|fd| std::os::fd::AsRawFd::as_raw_fd(&**fd))
            .collect()
    }

    /// Whether namespace ids are needed (they cost a few system calls).
    pub(crate) fn wants_namespace_ids(&self) -> bool {
        self.wants_info || self.json_fd.is_some()
    }

    fn emit(&self, event: &StatusEvent) {
        if let Some(fd) = &self.event_fd {
            write_fd(fd, &event.to_json_line());
        }
        if let Some(cb) = &self.callback {
            cb(event);
        }
    }

    /// A setup step that began at `since` (`CLOCK_MONOTONIC`) just ended;
    /// returns now, when the next one begins.
    pub(crate) fn step(&self, step: SetupStep, since: Duration) -> Duration {
        let at = monotonic_now();
        if self.steps {
            self.emit(&StatusEvent::SetupStep {
                at,
                step,
                took: at.saturating_sub(since),
            });
        }
        at
    }

    /// When the spawn began.
    pub(crate) fn started(&self) -> Duration {
        self.started
    }

    pub(crate) fn warnings(&self, warnings: &[Warning]) {
        let count = u16::try_from(warnings.len()).unwrap_or(u16::MAX);
        self.emit(&StatusEvent::RuntimeInitWarnings {
            at: monotonic_now(),
            count,
            warnings: warnings.to_vec(),
        });
    }

    pub(crate) fn spawned(&mut self, pid: i32, ids: &NamespaceIds) {
        // The info descriptor is done with: it closes here.
        if let Some(fd) = self.info_fd.take() {
            write_fd(&fd, &info_json(pid, ids));
        }
        if let Some(fd) = &self.json_fd {
            write_fd(fd, &status_json(pid, ids));
        }
        self.emit(&StatusEvent::Spawned {
            at: monotonic_now(),
            pid,
        });
    }

    pub(crate) fn setup_finished(&self, pid: i32) {
        let at = monotonic_now();
        self.emit(&StatusEvent::SetupFinished {
            at,
            pid,
            setup: at.saturating_sub(self.started),
        });
    }

    pub(crate) fn exited(&mut self, pid: i32, status: ExitStatus) {
        if let Some(fd) = self.json_fd.take() {
            write_fd(&fd, &exit_json(status.code()));
        }
        self.emit(&StatusEvent::Exited {
            at: monotonic_now(),
            pid,
            status,
        });
    }

    /// Setup failed: let go of the status descriptors without an exit code,
    /// as bubblewrap does when exec fails.
    pub(crate) fn abandon(&mut self) {
        self.info_fd = None;
        self.json_fd = None;
        self.event_fd = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> NamespaceIds {
        NamespaceIds(vec![
            ("mnt-namespace", 4026532178),
            ("pid-namespace", 4026532181),
        ])
    }

    #[test]
    fn info_json_matches_bubblewrap() {
        assert_eq!(
            info_json(14164, &NamespaceIds(vec![("mnt-namespace", 4026532178)])),
            "{\n    \"child-pid\": 14164,\n    \"mnt-namespace\": 4026532178\n}\n"
        );
    }

    #[test]
    fn json_status_lines_match_bubblewrap() {
        assert_eq!(
            status_json(14159, &ids()),
            "{ \"child-pid\": 14159, \"mnt-namespace\": 4026532178, \"pid-namespace\": 4026532181 }\n"
        );
        assert_eq!(exit_json(7), "{ \"exit-code\": 7 }\n");
    }

    #[test]
    fn warning_count_is_clipped() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink_seen = seen.clone();
        let sink = EventSink {
            callback: Some(std::sync::Arc::new(move |e: &StatusEvent| {
                sink_seen.lock().unwrap().push(e.clone());
            })),
            ..EventSink::default()
        };
        let one = Warning::LabelIgnored {
            field: "security.exec_label",
            label: "l".into(),
        };
        let many = vec![one; 70_000];
        sink.warnings(&many);
        let seen = seen.lock().unwrap();
        assert!(matches!(
            seen.as_slice(),
            [StatusEvent::RuntimeInitWarnings { count: u16::MAX, warnings, .. }] if warnings.len() == 70_000
        ));
    }
}
