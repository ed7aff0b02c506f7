//! The spawn pipeline of the facade: validate, prepare everything in the
//! parent, clone, hand over at the gate, emit events, wait, clean up.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::process::{ChildStderr, ChildStdin, ChildStdout};
use std::sync::Arc;

use vb_fs::{DataSource, FsAction};
use vb_fs::{MountPlan, RootSource};
use vb_proc::{
    ChildFailure, ExitStatus, JoinNamespaces, Origin, ProcError, ProcessPlan, ProcessSpec, Running,
    SecuritySpec, SecurityStep, Step, apply_env_ops,
};

use crate::config::{JailConfig, NamespaceFds, Namespaces, ShellConfig, Stdio};
use crate::error::Error;
use crate::event::{EventSink, NamespaceIds};
use crate::stages::ChildStages;
use crate::warning::Warning;
use crate::{cgroup_glue, fs_glue, net_glue};

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
    /// [`Stdio::Piped`]. [`wait`](Self::wait) closes it first, so a command
    /// reading its input to the end can finish.
    pub stdin: Option<ChildStdin>,
    /// The caller's end of the command's stdout, when it is [`Stdio::Piped`].
    pub stdout: Option<ChildStdout>,
    /// The caller's end of the command's stderr, when it is [`Stdio::Piped`].
    pub stderr: Option<ChildStderr>,
    running: Option<Running>,
    pid: i32,
    events: EventSink,
    warnings: Vec<Warning>,
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
/// for any and joins none (as bubblewrap implies `--unshare-user`).
pub(crate) fn effective_isolation(config: &JailConfig) -> Namespaces {
    let mut iso = config.isolation;
    if config.rootfs != RootSource::Host || !config.fs_actions.is_empty() {
        iso.mount = true;
    }
    // A joined user namespace stands in for the implied one (bubblewrap's
    // `--userns`).
    if iso.any() && !rustix::process::geteuid().is_root() && config.namespace_fds.user.is_none() {
        iso.user = true;
    }
    iso
}

pub(crate) fn reject_unsupported(config: &JailConfig) -> Result<(), Error> {
    if config.network.is_some() {
        return Err(Error::Unsupported("network"));
    }
    Ok(())
}

/// What the running kernel does not enforce of the Landlock request, as a
/// runtime warning — or the error, under `landlock_strict`.
pub(crate) fn landlock_warning(
    config: &JailConfig,
    security: &vb_proc::SecurityPlan,
) -> Result<Option<Warning>, Error> {
    let Some(enforcement) = security
        .landlock()
        .map(vb_proc::LandlockPlan::enforcement)
        .filter(|e| !e.is_full())
    else {
        return Ok(None);
    };
    if config.security.landlock_strict {
        return Err(Error::LandlockNotEnforced(enforcement.clone()));
    }
    Ok(Some(Warning::Landlock(enforcement.clone())))
}

/// Mark every descriptor of `config` that voidbox consumes close-on-exec, so
/// none reaches the command however the caller opened it. (vb-proc closes the
/// sync and block descriptors in the processes that must not keep them.)
pub(crate) fn seal_consumed_fds(config: &JailConfig) -> Result<(), Error> {
    let status = &config.status;
    let consumed = [
        &status.json_status_fd,
        &status.event_fd,
        &status.block_fd,
        &status.userns_block_fd,
        &status.sync_fd,
    ];
    let data = config.fs_actions.iter().filter_map(|a| match a {
        FsAction::File {
            source: DataSource::Fd(fd),
            ..
        }
        | FsAction::BindData {
            source: DataSource::Fd(fd),
            ..
        } => Some(fd),
        FsAction::BindFd { fd, .. } => Some(fd),
        _ => None,
    });
    let set = |fd: BorrowedFd<'_>| {
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC).map_err(|e| Error::ChildStep {
            what: "marking a consumed descriptor close-on-exec".into(),
            source: e.into(),
        })
    };
    for fd in consumed.into_iter().flatten().chain(data) {
        set(fd.as_fd())?;
    }
    Ok(())
}

/// Labels go into a mount option string (`context="..."`) and a `/proc`
/// file: a quote or a NUL would change what they say.
fn check_labels(config: &JailConfig) -> Result<(), Error> {
    for (field, label) in [
        ("security.exec_label", &config.security.exec_label),
        ("security.file_label", &config.security.file_label),
    ] {
        if let Some(label) = label
            && label.contains(['"', '\0'])
        {
            return Err(Error::InvalidConfig(format!(
                "{field} {label:?} contains a quote or a NUL byte"
            )));
        }
    }
    Ok(())
}

/// Runtime warnings the configuration itself gives rise to.
pub(crate) fn config_warnings(config: &JailConfig) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if !vb_proc::selinux_enabled() {
        for (field, label) in [
            ("security.exec_label", &config.security.exec_label),
            ("security.file_label", &config.security.file_label),
        ] {
            if let Some(label) = label {
                warnings.push(Warning::LabelIgnored {
                    field,
                    label: label.clone(),
                });
            }
        }
    }
    warnings
}

/// The command's standard streams: the descriptors it gets (kept open until
/// it has executed) and the caller's ends of its pipes.
struct StdioFds {
    child: [Option<Arc<OwnedFd>>; 3],
    caller: [Option<OwnedFd>; 3],
}

fn stdio_fds(config: &JailConfig) -> Result<StdioFds, Error> {
    let p = &config.process;
    let mut fds = StdioFds {
        child: [None, None, None],
        caller: [None, None, None],
    };
    let streams = [&p.stdin, &p.stdout, &p.stderr];
    for (i, stdio) in streams.into_iter().enumerate() {
        fds.child[i] = match stdio {
            Stdio::Inherit => None,
            Stdio::Fd(fd) => Some(fd.clone()),
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
                Some(Arc::new(null))
            }
            Stdio::Piped => {
                // Both ends close on exec; the command gets its end as a
                // standard stream, which is not close-on-exec.
                let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                    .map_err(|e| Error::ChildStep {
                        what: "creating a pipe for a standard stream".into(),
                        source: e.into(),
                    })?;
                let (theirs, ours) = if i == 0 { (read, write) } else { (write, read) };
                fds.caller[i] = Some(ours);
                Some(Arc::new(theirs))
            }
        };
    }
    Ok(fds)
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
    check_labels(config)?;
    if config.cmd.is_empty() {
        return Err(Error::InvalidConfig("no command given".into()));
    }
    let iso = effective_isolation(config);
    let env = apply_env_ops(std::env::vars_os(), &config.process.env).map_err(ProcError::from)?;
    let StdioFds { child, caller } = stdio_fds(config)?;
    let mut host = HostResources {
        fs: None,
        cgroup: None,
    };
    let result = prepare_and_launch(config, &iso, env, child, &mut host, events);
    let [stdin, stdout, stderr] = caller;
    match result {
        Ok((running, pid, warnings)) => Ok(Session {
            stdin: stdin.map(ChildStdin::from),
            stdout: stdout.map(ChildStdout::from),
            stderr: stderr.map(ChildStderr::from),
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
    iso: &Namespaces,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    stdio: [Option<Arc<OwnedFd>>; 3],
    host: &mut HostResources,
    events: &mut EventSink,
) -> Result<(Running, i32, Vec<Warning>), Error> {
    if iso.mount {
        host.fs = Some(fs_glue::compile(config, iso)?);
    }
    seal_consumed_fds(config)?;
    let mut warnings = config_warnings(config);
    let mut join = None;
    // With --userns-block-fd the helper needs the namespace ids before the
    // child goes on, so a cgroup namespace must be made at once, in the
    // final cgroup: the cgroup is then placed before the gate.
    let place_early = config.status.userns_block_fd.is_some() && iso.cgroup;
    match cgroup_glue::place(&config.resources, place_early)? {
        cgroup_glue::Placement::None => {}
        cgroup_glue::Placement::Before(cgroup, created) => {
            host.cgroup = Some(cgroup);
            warnings.extend(created);
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
        stdio: [0, 1, 2].map(|i| stdio[i].as_deref().map(AsFd::as_fd)),
        join_cgroups: join
            .iter()
            .flat_map(vb_cgroup::JoinPlan::files)
            .map(|(dir, path)| (dir, path.to_owned()))
            .collect(),
        security: security_spec(config, iso),
        lock_files: config.status.lock_files.clone(),
        sync_fd: config.status.sync_fd.as_deref().map(AsFd::as_fd),
        block_fd: config.status.block_fd.as_deref().map(AsFd::as_fd),
        userns_block_fd: config.status.userns_block_fd.as_deref().map(AsFd::as_fd),
        report_namespaces: events.wants_namespace_ids(),
        // bubblewrap closes them in its child: a reader of the info object
        // sees end-of-file once it is written, not when the sandbox ends.
        close_in_child: events.descriptors(),
        join: join_namespaces(&config.namespace_fds),
        // bubblewrap mounts a devpts as uid 0 of the sandbox's user namespace,
        // then nests the command's ids: the same maps, seen from inside.
        setup_as_root: config
            .fs_actions
            .iter()
            .any(|a| matches!(a, FsAction::Dev { .. })),
    };
    let plan = ProcessPlan::prepare(&spec)?;
    warnings.extend(landlock_warning(config, plan.security())?);
    // `join` keeps the directories the child joins through open until the
    // command runs.
    clone_and_release(config, iso, &plan, host, join.as_ref(), warnings, events)
}

/// Whether one of the command's standard streams is a terminal.
fn stdio_is_a_terminal(config: &JailConfig) -> bool {
    let p = &config.process;
    [(&p.stdin, 0), (&p.stdout, 1), (&p.stderr, 2)]
        .into_iter()
        .any(|(stdio, inherited)| {
            let fd = match stdio {
                Stdio::Inherit => inherited,
                Stdio::Fd(fd) => std::os::fd::AsRawFd::as_raw_fd(&**fd),
                Stdio::Null | Stdio::Piped => return false,
            };
            // SAFETY: isatty only inspects the descriptor number; a closed
            // one is not a terminal.
            unsafe { libc::isatty(fd) == 1 }
        })
}

/// vb-proc's view of the namespaces to join.
fn join_namespaces(fds: &NamespaceFds) -> JoinNamespaces<'_> {
    fn fd(f: &Option<Arc<OwnedFd>>) -> Option<BorrowedFd<'_>> {
        f.as_deref().map(AsFd::as_fd)
    }
    JoinNamespaces {
        user: fd(&fds.user),
        user2: fd(&fds.user2),
        pid: fd(&fds.pid),
        net: fd(&fds.net),
        mount: fd(&fds.mount),
        uts: fd(&fds.uts),
        ipc: fd(&fds.ipc),
        cgroup: fd(&fds.cgroup),
    }
}

/// vb-proc's security request for `config`.
pub(crate) fn security_spec(config: &JailConfig, iso: &Namespaces) -> SecuritySpec {
    let sec = &config.security;
    SecuritySpec {
        capabilities: sec.capabilities.clone(),
        seccomp: sec.seccomp_programs.clone(),
        seccomp_deny: sec.seccomp_deny.clone(),
        seccomp_policy: sec.seccomp_policy.clone(),
        seccomp_default: sec.seccomp_default,
        rlimits: sec.rlimits.clone(),
        landlock: sec.landlock.clone(),
        // A sandbox reaches a terminal to inject into through the caller's
        // session (unless it leaves it) or a terminal among its standard
        // streams (which a new session may adopt when it has none).
        block_terminal_injection: !sec.allow_terminal_injection
            && ((!config.process.new_session && vb_proc::has_controlling_terminal())
                || stdio_is_a_terminal(config)),
        disable_userns: sec.disable_userns,
        assert_userns_disabled: sec.assert_userns_disabled,
        exec_label: sec
            .exec_label
            .clone()
            .filter(|_| iso.any() && vb_proc::selinux_enabled()),
    }
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
    iso: &Namespaces,
    plan: &ProcessPlan<'_>,
    host: &mut HostResources,
    join: Option<&vb_cgroup::JoinPlan>,
    mut warnings: Vec<Warning>,
    events: &mut EventSink,
) -> Result<(Running, i32, Vec<Warning>), Error> {
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
    let describe = |e| describe_child_error(e, plan, &config.status.lock_files, host.fs.as_ref());
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
    started.cgroups_ready().map_err(describe)?;
    // The child's report: the sandbox's first process (one fork further
    // after a PID namespace was joined or made after the clone) and its
    // namespaces.
    let report = started.report().map_err(describe)?;
    let pid = report
        .and_then(|r| r.first_pid)
        .map_or(pid, |p| p.as_raw_nonzero().get());
    let ids = report
        .map(|r| NamespaceIds::from_report(&r, iso))
        .unwrap_or_default();
    events.spawned(pid, &ids);
    if host.cgroup.is_some() {
        cgroup_glue::sweep_once();
    }
    let running = started.finish().map_err(describe)?;
    events.setup_finished(pid);
    Ok((running, pid, warnings))
}

/// Turn a child's failure report into the error it stands for.
fn describe_child_error(
    err: ProcError,
    plan: &ProcessPlan<'_>,
    lock_files: &[std::path::PathBuf],
    fs: Option<&MountPlan>,
) -> Error {
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
        Origin::Process => describe_process_step(failure, Some(plan), Some(lock_files), source),
        Origin::Network => net_glue::describe(failure.step, source),
        Origin::Security => describe_security_step(failure, source, plan.security().landlock()),
    }
}

/// The error a failure of the security context stands for, in bubblewrap's
/// words where it has them.
pub(crate) fn describe_security_step(
    failure: ChildFailure,
    source: std::io::Error,
    landlock: Option<&vb_proc::LandlockPlan>,
) -> Error {
    if let Some(step) = vb_proc::LandlockStep::of(&failure) {
        let what = describe_landlock_step(step, failure.index, failure.errno, landlock);
        return Error::ChildStep { what, source };
    }
    let what = match SecurityStep::of(&failure) {
        Some(SecurityStep::Seccomp) => {
            return Error::Seccomp {
                index: failure.index,
                source,
            };
        }
        Some(SecurityStep::UsernsNotDisabled) => return Error::UsernsNotDisabled,
        Some(SecurityStep::BoundingSet) => {
            format!("Dropping capability {} from bounds", failure.index)
        }
        Some(SecurityStep::CapSet) => "capset failed".to_owned(),
        Some(SecurityStep::Ambient) => format!("Adding ambient capability {}", failure.index),
        Some(SecurityStep::NoNewPrivs) => "prctl(PR_SET_NO_NEW_PRIVS) failed".to_owned(),
        Some(SecurityStep::DisableUserns) => match failure.index {
            0 => "cannot open /proc/sys/user/max_user_namespaces".to_owned(),
            1 => "sysctl user.max_user_namespaces = 1".to_owned(),
            2 => "unshare user ns".to_owned(),
            _ => "setting up uid map".to_owned(),
        },
        Some(SecurityStep::ExecLabel) => "setexeccon".to_owned(),
        Some(SecurityStep::Dumpable) => "prctl(PR_SET_DUMPABLE)".to_owned(),
        Some(SecurityStep::Rlimit) => match vb_proc::RlimitResource::from_index(failure.index) {
            Some(resource) => format!("setrlimit {resource}"),
            None => "setrlimit".to_owned(),
        },
        None => return ProcError::Child(failure).into(),
    };
    Error::ChildStep { what, source }
}

/// What a failed Landlock step was doing, naming the rule's path or port.
fn describe_landlock_step(
    step: vb_proc::LandlockStep,
    index: u32,
    errno: i32,
    plan: Option<&vb_proc::LandlockPlan>,
) -> String {
    use vb_proc::LandlockStep as S;
    let path = || {
        plan.and_then(|p| p.path(index))
            .map_or_else(|| format!("#{index}"), |p| p.display().to_string())
    };
    let port = || {
        plan.and_then(|p| p.port(step, index))
            .map_or_else(|| format!("#{index}"), |p| p.to_string())
    };
    match step {
        S::CreateRuleset => "landlock_create_ruleset".to_owned(),
        S::OpenPath if errno == libc::ELOOP => format!(
            "landlock path {} is or goes through a symbolic link, which a rule does not follow; \
             name the path it leads to",
            path()
        ),
        S::OpenPath | S::StatPath => format!("landlock path {}", path()),
        S::AddPathRule => format!("landlock rule for {}", path()),
        S::AddTcpBindRule => format!("landlock rule for TCP bind port {}", port()),
        S::AddTcpConnectRule => format!("landlock rule for TCP connect port {}", port()),
        S::RestrictSelf => "landlock_restrict_self".to_owned(),
    }
}

/// The error a failure of one of vb-proc's own steps stands for; `plan` names
/// the command and working directory where there is one.
pub(crate) fn describe_process_step(
    failure: ChildFailure,
    plan: Option<&ProcessPlan<'_>>,
    lock_files: Option<&[std::path::PathBuf]>,
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
        Some(Step::SetGid) => format!("unable to switch to gid {}", failure.index),
        Some(Step::SetUid) => format!("unable to switch to uid {}", failure.index),
        Some(Step::JoinNamespace) => {
            use vb_proc::NamespaceKind as K;
            match K::from_index(failure.index) {
                // bubblewrap's words for the options it has.
                Some(K::User) if source.raw_os_error() == Some(libc::EINVAL) => {
                    return Error::InvalidConfig(
                        "Joining the specified user namespace failed, it might not be a descendant of the current user namespace.".into(),
                    );
                }
                Some(K::User) => "Joining specified user namespace failed".to_owned(),
                Some(K::User2) => "Setting userns2 failed".to_owned(),
                Some(K::Pid) => "Setting pidns failed".to_owned(),
                Some(kind) => format!("Joining the {kind:?} namespace failed"),
                None => "setns".to_owned(),
            }
        }
        Some(Step::Report) => "reporting the sandbox to the parent".to_owned(),
        Some(Step::Dumpable) => "prctl(PR_SET_DUMPABLE)".to_owned(),
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
        Some(Step::LockOpen | Step::LockTake) => {
            let open = Step::of(&failure) == Some(Step::LockOpen);
            let path = lock_files
                .and_then(|files| files.get(usize::try_from(failure.index).ok()?))
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Error::LockFile { path, open, source };
        }
        Some(Step::BlockFd) => "reading --block-fd".to_owned(),
        Some(Step::UsernsBlockFd) => "reading --userns-block-fd".to_owned(),
        Some(Step::SyncFd) => "keeping --sync-fd open".to_owned(),
        Some(Step::CloseFds) => "closing the reaper's descriptors".to_owned(),
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
            rootfs: RootSource::Dir(rootfs.into()),
            isolation: Namespaces {
                pid: true,
                mount: true,
                uts: true,
                ipc: true,
                ..Namespaces::default()
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
