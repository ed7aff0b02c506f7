//! The spawn pipeline of the facade: prepare everything in the parent,
//! clone, hand over at the gate, emit events, and return the running
//! [`Session`](crate::Session).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::{ChildStderr, ChildStdin, ChildStdout};
use std::sync::Arc;

use vb_fs::FsAction;
use vb_proc::{JoinNamespaces, ProcError, ProcessPlan, ProcessSpec, Running, apply_env_ops};

use crate::child_error::describe_child_error;
use crate::config::{JailConfig, NamespaceFds, Namespaces, Stdio};
use crate::error::Error;
use crate::event::{EventSink, NamespaceIds, SetupStep};
use crate::hooks::ChildHookSet;
use crate::security_glue::security_spec;
use crate::session::{HostResources, Session};
use crate::status::ExitStatus;
use crate::validate::{
    check_labels, config_warnings, effective_isolation, landlock_warning, reject_unsupported,
    seal_consumed_fds,
};
use crate::warning::Warning;
use crate::{cgroup_glue, fs_glue, net_glue};

/// The command's standard streams: the descriptors it gets (kept open until
/// it has executed) and the caller's ends of its pipes.
pub(crate) struct StdioFds {
    child: [Option<Arc<OwnedFd>>; 3],
    caller: [Option<OwnedFd>; 3],
}

pub(crate) fn stdio_fds(config: &JailConfig) -> Result<StdioFds, Error> {
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

pub(crate) fn spawn_with(config: &JailConfig, events: &mut EventSink) -> Result<Session, Error> {
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
        net: None,
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
pub(crate) fn prepare_and_launch(
    config: &JailConfig,
    iso: &Namespaces,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    stdio: [Option<Arc<OwnedFd>>; 3],
    host: &mut HostResources,
    events: &mut EventSink,
) -> Result<(Running, i32, Vec<Warning>), Error> {
    let mut since = events.started();
    let net = net_glue::plan(config)?;
    if iso.mount {
        let extra = net
            .iter()
            .filter_map(net_glue::NetPlan::resolv_conf)
            .collect();
        host.fs = Some(fs_glue::compile(config, iso, extra)?);
        since = events.step(SetupStep::FilesystemPlan, since);
    }
    seal_consumed_fds(config)?;
    let mut warnings = config_warnings(config);
    let mut join = None;
    // With --userns-block-fd the helper needs the namespace ids before the
    // child goes on, so a cgroup namespace must be made at once, in the
    // final cgroup: the cgroup is then placed before the gate.
    let place_early = config.status.userns_block_fd.is_some() && iso.cgroup;
    let mut no_cgroup = false;
    match cgroup_glue::place(&config.resources, place_early)? {
        cgroup_glue::Placement::None => no_cgroup = true,
        cgroup_glue::Placement::Before(cgroup, created) => {
            host.cgroup = Some(cgroup);
            warnings.extend(created);
        }
        cgroup_glue::Placement::Join(plan) => join = Some(plan),
    }
    if !config.resources.is_empty() {
        since = events.step(SetupStep::Cgroup, since);
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
        // Nothing for this process to do between the clone and the
        // command's execve: the launch may share this process's memory
        // until then (vb-proc decides whether the rest allows it).
        flat: no_cgroup && net.is_none(),
    };
    let plan = ProcessPlan::prepare(&spec)?;
    warnings.extend(landlock_warning(config, plan.security())?);
    events.step(SetupStep::ProcessPlan, since);
    // `join` keeps the directories the child joins through open until the
    // command runs.
    let after = AfterClone {
        join: join.as_ref(),
        net: net.as_ref(),
    };
    clone_and_release(config, iso, &plan, host, &after, warnings, events)
}

/// Whether one of the command's standard streams is a terminal.
pub(crate) fn stdio_is_a_terminal(config: &JailConfig) -> bool {
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
pub(crate) fn join_namespaces(fds: &NamespaceFds) -> JoinNamespaces<'_> {
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

/// Clone the child, place it in its cgroup, report it, and release it.
///
/// With a cgroup `join` plan, the cgroup is created after the gate, while the
/// child sets itself up, and the child is told to join it once it exists.
/// What the parent does for the child once it is cloned.
pub(crate) struct AfterClone<'a> {
    /// The cgroup the child joins itself, created after the gate.
    join: Option<&'a vb_cgroup::JoinPlan>,
    /// The network, attached to the child's namespace before the gate.
    net: Option<&'a net_glue::NetPlan>,
}

pub(crate) fn clone_and_release(
    config: &JailConfig,
    iso: &Namespaces,
    plan: &ProcessPlan<'_>,
    host: &mut HostResources,
    after: &AfterClone<'_>,
    mut warnings: Vec<Warning>,
    events: &mut EventSink,
) -> Result<(Running, i32, Vec<Warning>), Error> {
    if !warnings.is_empty() && config.runtime.fail_on_runtime_warnings {
        events.warnings(&warnings);
        return Err(Error::RuntimeWarnings(warnings));
    }
    let child_hooks = ChildHookSet::new(host.fs.as_ref(), iso.net);
    let hooks = child_hooks.hooks();
    let cgroup_fd = host
        .cgroup
        .as_ref()
        .and_then(vb_cgroup::SandboxCgroup::clone_into_fd);
    let since = crate::event::monotonic_now();
    let describe = |e| describe_child_error(e, plan, &config.status.lock_files, host.fs.as_ref());
    let (mut started, pid, since) = if plan.is_flat() {
        // No gate and nothing to do here meanwhile: the child sets itself
        // up while this thread is suspended, and has executed (pid 1 or
        // the command) when launch_flat returns.
        let started = plan.launch_flat(&hooks).map_err(describe)?;
        let pid = started.pid().as_raw_nonzero().get();
        (started, pid, events.step(SetupStep::Clone, since))
    } else {
        let pending = plan.clone_child(&hooks, cgroup_fd)?;
        let pid = pending.pid().as_raw_nonzero().get();
        if let Some(cgroup) = &host.cgroup {
            warnings.extend(cgroup_glue::attach(cgroup, pid, pending.into_cgroup())?);
        }
        let mut since = events.step(SetupStep::Clone, since);
        // The network namespace exists (made by the clone); the child waits at
        // the gate, so the command never runs unconnected. On failure `pending`
        // is dropped, which kills and reaps the child.
        if let Some(net) = after.net {
            host.net = Some(net.attach(pid)?);
            since = events.step(SetupStep::Network, since);
        }
        let started = pending.open_gate().map_err(describe)?;
        if let Some(join) = after.join {
            let (cgroup, created) = cgroup_glue::create_planned(&config.resources, join)?;
            host.cgroup = Some(cgroup);
            warnings.extend(created);
        }
        (started, pid, since)
    };
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
    events.step(SetupStep::ChildSetup, since);
    events.setup_finished(pid);
    Ok((running, pid, warnings))
}

/// Spawn `config` and wait for it.
pub fn launch(config: &JailConfig) -> Result<ExitStatus, Error> {
    spawn(config)?.wait()
}
