//! The spawn pipeline of the facade: validate, prepare everything in the
//! parent, clone, hand over at the gate, emit events, wait, clean up.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use vb_fs::{MountPlan, RootSource};
use vb_proc::{
    ChildFailure, ExitStatus, Origin, ProcError, ProcessPlan, ProcessSpec, Running, Step,
    apply_env_ops,
};

use crate::config::{IsolationOptions, JailConfig, ShellConfig, Stdio};
use crate::error::Error;
use crate::event::{EventSink, NamespaceIds};
use crate::stages::ChildStages;
use crate::{cgroup_glue, fs_glue, net_glue};

/// A running sandbox. [`wait`](Self::wait) may be called once; dropping an
/// unwaited session kills the sandbox and reaps it.
#[derive(Debug)]
pub struct Session {
    running: Option<Running>,
    pid: i32,
    events: EventSink,
    warnings: Vec<String>,
    /// The cgroup and filesystem artifacts, released when the sandbox ends.
    host: HostResources,
}

impl Session {
    /// The pid of the sandbox's first process, as seen by the caller (the PID-1
    /// reaper when the sandbox has its own PID namespace).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Warnings produced during setup.
    pub fn warnings(&self) -> &[String] {
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
        let running = self.running.take().ok_or(Error::SessionAlreadyWaited)?;
        let status = running.wait();
        let cleaned = self.host.finish();
        let status = status?;
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

/// The namespaces actually created: as configured, plus the mount namespace a
/// root switch needs, plus a user namespace when an unprivileged caller asks
/// for any (as bubblewrap implies `--unshare-user`).
pub(crate) fn effective_isolation(config: &JailConfig) -> IsolationOptions {
    let mut iso = config.isolation;
    if config.rootfs != RootSource::Host || !config.fs_actions.is_empty() {
        iso.mount = true;
    }
    if iso.any() && !rustix::process::geteuid().is_root() {
        iso.user = true;
    }
    iso
}

pub(crate) fn reject_unsupported(config: &JailConfig) -> Result<(), Error> {
    let sec = &config.security;
    let checks: [(bool, &'static str); 17] = [
        (!sec.cap_add.is_empty(), "security.cap_add (--cap-add)"),
        (!sec.cap_drop.is_empty(), "security.cap_drop (--cap-drop)"),
        (sec.no_new_privs, "security.no_new_privs"),
        (sec.seccomp_fd.is_some(), "security.seccomp_fd (--seccomp)"),
        (
            !sec.add_seccomp_fds.is_empty(),
            "security.add_seccomp_fds (--add-seccomp-fd)",
        ),
        (sec.seccomp_policy.is_some(), "security.seccomp_policy"),
        (
            !sec.landlock_read.is_empty() || !sec.landlock_write.is_empty(),
            "security.landlock",
        ),
        (
            sec.disable_userns,
            "security.disable_userns (--disable-userns)",
        ),
        (
            sec.assert_userns_disabled,
            "security.assert_userns_disabled (--assert-userns-disabled)",
        ),
        (
            sec.exec_label.is_some(),
            "security.exec_label (--exec-label)",
        ),
        (
            sec.file_label.is_some(),
            "security.file_label (--file-label)",
        ),
        (config.network.is_some(), "network"),
        (
            !config.namespace_fds.is_empty(),
            "namespace_fds (--userns, --userns2, --pidns)",
        ),
        (
            !config.status.lock_files.is_empty(),
            "status.lock_files (--lock-file)",
        ),
        (
            config.status.sync_fd.is_some(),
            "status.sync_fd (--sync-fd)",
        ),
        (
            config.status.block_fd.is_some(),
            "status.block_fd (--block-fd)",
        ),
        (
            config.status.userns_block_fd.is_some(),
            "status.userns_block_fd (--userns-block-fd)",
        ),
    ];
    match checks.iter().find(|(set, _)| *set) {
        Some((_, what)) => Err(Error::Unsupported(what)),
        None => Ok(()),
    }
}

/// Descriptors opened for the command's standard streams, kept open until the
/// child has executed.
fn stdio_fds(config: &JailConfig) -> Result<([Option<i32>; 3], Vec<OwnedFd>), Error> {
    let mut keep = Vec::new();
    let mut fds = [None; 3];
    let p = &config.process;
    for (slot, stdio) in fds.iter_mut().zip([p.stdin, p.stdout, p.stderr]) {
        *slot = match stdio {
            Stdio::Inherit => None,
            Stdio::Fd(fd) => Some(fd),
            Stdio::Null => {
                let null = rustix::fs::open(
                    c"/dev/null",
                    rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .map_err(|e| Error::ChildStep {
                    what: "open /dev/null".into(),
                    source: e.into(),
                })?;
                let raw = null.as_raw_fd();
                keep.push(null);
                Some(raw)
            }
        };
    }
    Ok((fds, keep))
}

/// Spawn the sandbox described by `config` and return once the command runs.
pub fn spawn(config: &JailConfig) -> Result<Session, Error> {
    let mut events = EventSink::new(&config.status);
    let result = spawn_with(config, &mut events);
    if result.is_err() {
        events.abandon();
    }
    result
}

fn spawn_with(config: &JailConfig, events: &mut EventSink) -> Result<Session, Error> {
    reject_unsupported(config)?;
    if config.cmd.is_empty() {
        return Err(Error::InvalidConfig("no command given".into()));
    }
    let iso = effective_isolation(config);
    let env = apply_env_ops(std::env::vars_os(), &config.process.env).map_err(ProcError::from)?;
    let (stdio, _stdio_keep) = stdio_fds(config)?;
    let mut host = HostResources {
        fs: None,
        cgroup: None,
    };
    let result = prepare_and_launch(config, &iso, env, stdio, &mut host, events);
    match result {
        Ok((running, pid, warnings)) => Ok(Session {
            running: Some(running),
            pid,
            events: events.clone(),
            warnings,
            host,
        }),
        Err(err) => {
            // The child, if any, is reaped by now; its cgroup and artifacts go.
            let _ = host.finish();
            Err(err)
        }
    }
}

/// Create what the sandbox holds on the host (recorded in `host`, so the
/// caller releases it on every path), prepare the process, and launch it.
fn prepare_and_launch(
    config: &JailConfig,
    iso: &IsolationOptions,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    stdio: [Option<i32>; 3],
    host: &mut HostResources,
    events: &mut EventSink,
) -> Result<(Running, i32, Vec<String>), Error> {
    if iso.mount {
        host.fs = Some(fs_glue::compile(config, iso)?);
    }
    let mut warnings = Vec::new();
    let mut join = None;
    match cgroup_glue::place(&config.resources)? {
        cgroup_glue::Placement::None => {}
        cgroup_glue::Placement::Before(cgroup, created) => {
            host.cgroup = Some(cgroup);
            warnings = created;
        }
        cgroup_glue::Placement::Join(plan) => join = Some(plan),
    }
    let spec = ProcessSpec {
        namespaces: *iso,
        uid: config.process.uid,
        gid: config.process.gid,
        hostname: config.runtime.hostname.clone(),
        die_with_parent: config.process.die_with_parent,
        new_session: config.process.new_session,
        as_pid_1: config.runtime.as_pid_1,
        command: config.cmd.clone(),
        argv0: config.process.argv0.clone(),
        env,
        chdir: config.process.chdir.clone(),
        stdio,
        join_cgroups: join
            .iter()
            .flat_map(vb_cgroup::JoinPlan::files)
            .map(|(dir, path)| (dir.as_raw_fd(), path.to_owned()))
            .collect(),
    };
    let plan = ProcessPlan::prepare(&spec)?;
    // `join` keeps the directories the child joins through open until the
    // command runs.
    clone_and_release(config, iso, &plan, host, join.as_ref(), warnings, events)
}

/// What a sandbox holds on the host for its lifetime, released by [`finish`](Self::finish).
#[derive(Debug)]
struct HostResources {
    /// The filesystem plan, kept for the artifacts it must remove at the end.
    fs: Option<MountPlan>,
    /// The sandbox's cgroup.
    cgroup: Option<vb_cgroup::SandboxCgroup>,
}

impl HostResources {
    /// Release everything; the first error is returned after all was tried.
    fn finish(&mut self) -> Result<(), Error> {
        let cgroup = cgroup_glue::finish(self.cgroup.take());
        let fs = fs_glue::finish(self.fs.take());
        cgroup.and(fs)
    }
}

/// Clone the child, place it in its cgroup, report it, and release it.
///
/// With a cgroup `join` plan, the cgroup is created after the gate, while the
/// child sets itself up, and the child is told to join it once it exists.
fn clone_and_release(
    config: &JailConfig,
    iso: &IsolationOptions,
    plan: &ProcessPlan,
    host: &mut HostResources,
    join: Option<&vb_cgroup::JoinPlan>,
    mut warnings: Vec<String>,
    events: &mut EventSink,
) -> Result<(Running, i32, Vec<String>), Error> {
    if !warnings.is_empty() && config.runtime.fail_on_runtime_warnings {
        events.warnings(&warnings);
        return Err(Error::RuntimeWarnings(warnings));
    }
    let child_stages = ChildStages::new(host.fs.as_ref(), iso.net);
    let stages = child_stages.stages();
    let cgroup_fd = host
        .cgroup
        .as_ref()
        .and_then(vb_cgroup::SandboxCgroup::clone_into_fd);
    let pending = plan.clone_child(&stages, cgroup_fd)?;
    let pid = pending.pid().as_raw_nonzero().get();
    if let Some(cgroup) = &host.cgroup {
        warnings.extend(cgroup_glue::attach(cgroup, pid, pending.into_cgroup())?);
    }
    let describe = |e| describe_child_error(e, plan, host.fs.as_ref());
    let mut started = pending.open_gate().map_err(describe)?;
    if let Some(join) = join {
        let (cgroup, created) = cgroup_glue::create_planned(&config.resources, join)?;
        host.cgroup = Some(cgroup);
        warnings.extend(created);
    }
    if !warnings.is_empty() {
        events.warnings(&warnings);
        if config.runtime.fail_on_runtime_warnings {
            return Err(Error::RuntimeWarnings(warnings));
        }
    }
    let ids = if events.wants_namespace_ids() {
        NamespaceIds::read(pid, iso)
    } else {
        NamespaceIds::default()
    };
    events.spawned(pid, &ids);
    started.cgroups_ready().map_err(describe)?;
    if host.cgroup.is_some() {
        cgroup_glue::sweep_once();
    }
    let running = started.finish().map_err(describe)?;
    events.setup_finished(pid);
    Ok((running, pid, warnings))
}

/// Turn a child's failure report into the error it stands for.
fn describe_child_error(err: ProcError, plan: &ProcessPlan, fs: Option<&MountPlan>) -> Error {
    let ProcError::Child(failure) = err else {
        return err.into();
    };
    let source = failure.io_error();
    match failure.origin {
        Origin::Filesystem => match fs {
            Some(fs) => fs
                .describe(vb_fs::FsFailure {
                    step: failure.step,
                    index: failure.index,
                    errno: failure.errno,
                })
                .into(),
            None => ProcError::Child(failure).into(),
        },
        Origin::Process => describe_process_step(failure, Some(plan), source),
        Origin::Network => net_glue::describe(failure.step, source),
        Origin::Security => ProcError::Child(failure).into(),
    }
}

/// The error a failure of one of vb-proc's own steps stands for; `plan` names
/// the command and working directory where there is one.
pub(crate) fn describe_process_step(
    failure: ChildFailure,
    plan: Option<&ProcessPlan>,
    source: std::io::Error,
) -> Error {
    let what = match Step::of(&failure) {
        Some(Step::Exec) => {
            return Error::Exec {
                command: plan.map_or_else(String::new, |p| p.command_display().to_owned()),
                source,
            };
        }
        Some(Step::Chdir) => {
            if let Some(dir) = plan.and_then(|p| p.exec().explicit_chdir()) {
                return Error::Chdir {
                    dir: std::path::PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())),
                    source,
                };
            }
            "chdir".to_owned()
        }
        Some(Step::DeathSignal) => "prctl(PR_SET_PDEATHSIG)".to_owned(),
        Some(Step::ParentGone) => "the parent exited during setup".to_owned(),
        Some(Step::Gate) => "waiting for the parent at the gate".to_owned(),
        Some(Step::SetGid) => "setresgid".to_owned(),
        Some(Step::SetUid) => "setresuid".to_owned(),
        Some(Step::CgroupNamespace) => "unshare(CLONE_NEWCGROUP)".to_owned(),
        Some(Step::Hostname) => "sethostname".to_owned(),
        Some(Step::Fork) => "Can't fork".to_owned(),
        Some(Step::NewSession) => "setsid".to_owned(),
        Some(Step::Signals) => "resetting signal dispositions".to_owned(),
        Some(Step::Ack) => "acknowledging setup".to_owned(),
        Some(Step::Stdio) => format!("installing standard stream {}", failure.index),
        Some(Step::Unshare) => "unshare".to_owned(),
        Some(Step::CgroupJoin) => {
            format!("joining the sandbox's cgroup (hierarchy {})", failure.index)
        }
        Some(Step::OwnIdMap) => match failure.index {
            0 => "writing /proc/self/setgroups".to_owned(),
            1 => "writing /proc/self/uid_map".to_owned(),
            _ => "writing /proc/self/gid_map".to_owned(),
        },
        None => return ProcError::Child(failure).into(),
    };
    Error::ChildStep { what, source }
}

/// Wait for `session` (the free-function form of [`Session::wait`]).
pub fn wait(session: &mut Session) -> Result<ExitStatus, Error> {
    session.wait()
}

/// Spawn `config` and wait for it.
pub fn launch(config: &JailConfig) -> Result<ExitStatus, Error> {
    spawn(config)?.wait()
}

/// A shell configuration over `rootfs` (a host directory; `/` for the host's
/// own tree) with new PID, mount, UTS and IPC namespaces, running `/bin/sh`.
pub fn default_shell_config(rootfs: impl Into<std::path::PathBuf>) -> ShellConfig {
    ShellConfig {
        jail: JailConfig {
            name: "shell".into(),
            rootfs: RootSource::Dir(rootfs.into()),
            isolation: IsolationOptions {
                pid: true,
                mount: true,
                uts: true,
                ipc: true,
                ..IsolationOptions::default()
            },
            ..JailConfig::default()
        },
        shell_path: "/bin/sh".into(),
        shell_args: Vec::new(),
    }
}

/// Launch the shell of `shell` with its arguments and wait for it.
pub fn launch_shell(shell: &ShellConfig) -> Result<ExitStatus, Error> {
    let mut jail = shell.jail.clone();
    jail.cmd = std::iter::once(shell.shell_path.clone().into_os_string())
        .chain(shell.shell_args.iter().cloned())
        .collect();
    launch(&jail)
}
