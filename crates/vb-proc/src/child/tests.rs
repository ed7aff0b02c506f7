//! The child's step order and failure frames, on the recording fake.
//!
//! Each scenario lists the calls a plan makes, in order, each with the frame
//! the parent receives when that call fails. One test runs the plan and
//! compares the calls; another fails each fallible call in turn and checks
//! that its frame — and nothing after it but closing descriptors — is what
//! the child leaves.
//!
//! The plans are built as the parent builds them. This module is under
//! `child/`, where naming the allocating types is denied, so the test data
//! is collected into the plans' fields rather than spelled out as vectors.

use std::ffi::{CStr, OsStr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::AtomicI32;

use rustix::io::Errno;
use rustix::process::Pid;
use rustix::thread::UnshareFlags;

use super::cloned::{Ending, SETUP_FAILED_EXIT, run};
use super::fake::{Call, FAKE_STEP, FIRST_FD, Fake, Text, pid, t};
use crate::caller_fork::{InChildPlan, InChildSpec};
use crate::caps::CapPlan;
use crate::command::ExecPlan;
use crate::frame::{ChildFailure, Origin, Step, StepFailure};
use crate::hook::{ChildHook, ChildHooks};
use crate::join::{JoinNamespaces, JoinPlan};
use crate::namespaces::{NamespaceKind, Namespaces};
use crate::plan::{ChildFds, ChildPlan, InitPlan, Monitor};
use crate::rlimit::{Rlimit, RlimitResource};
use crate::seccomp::BpfProgram;
use crate::security::{SandboxIds, SecurityPlan, SecuritySpec, SecurityStep};

/// The handshake descriptors of every scenario.
const FDS: ChildFds = ChildFds {
    gate_read: 10,
    gate_write: 11,
    ack_read: 12,
    ack_write: 13,
    fail_read: 14,
    fail_write: 15,
    status_read: Some(16),
    status_write: Some(17),
    ready_read: Some(18),
    ready_write: Some(19),
    nsid_read: Some(20),
    nsid_write: Some(21),
};

/// The handshake of a plan with no reaper, no cgroup to join and no report.
const BARE_FDS: ChildFds = ChildFds {
    status_read: None,
    status_write: None,
    ready_read: None,
    ready_write: None,
    nsid_read: None,
    nsid_write: None,
    ..FDS
};

const STDIN: RawFd = 30;
const CGROUP_DIR: RawFd = 31;
const SYNC_FD: RawFd = 32;
const BLOCK_FD: RawFd = 33;
const CALLERS_FD: RawFd = 35;

/// The errno every injected failure carries.
const INJECTED: Errno = Errno::PERM;

/// What the parent receives when a call fails: the frame's origin, step and
/// index, with the injected errno unless the step reports its own.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Proc(Step, u32),
    ProcErrno(Step, u32, i32),
    Sec(SecurityStep, u32),
    Hook(Origin),
}

impl Expect {
    fn frame(self) -> ChildFailure {
        let errno = INJECTED.raw_os_error();
        match self {
            Self::Proc(step, index) => ChildFailure::process(step, index, errno),
            Self::ProcErrno(step, index, errno) => ChildFailure::process(step, index, errno),
            Self::Sec(step, index) => ChildFailure::with_origin(
                Origin::Security,
                StepFailure::new(step as u32, index, errno),
            ),
            Self::Hook(origin) => ChildFailure::with_origin(
                origin,
                StepFailure::new(FAKE_STEP.step, FAKE_STEP.index, errno),
            ),
        }
    }
}

use Expect::{Hook, Proc, ProcErrno, Sec};

/// A hook that does nothing: the fake logs it and never runs it.
struct NoHook;

// SAFETY: `run` does nothing at all.
unsafe impl ChildHook for NoHook {
    fn run(&self) -> Result<(), StepFailure> {
        Ok(())
    }
}

const BOTH_HOOKS: ChildHooks<'static> = ChildHooks {
    filesystem: Some(&NoHook),
    network: Some(&NoHook),
};

/// An owned `OsStr`, as the specs hold them.
macro_rules! os {
    ($s:literal) => {
        OsStr::new($s).to_os_string()
    };
}

/// `/bin/true`, entered from `cwd`.
fn exec_plan(cwd: &str) -> ExecPlan {
    ExecPlan::new(&[os!("/bin/true")], None, &[], Some(Path::new(cwd)), None).unwrap()
}

/// A descriptor to stand for the host's `/proc` (the fake never uses it).
fn dummy_dir() -> OwnedFd {
    std::fs::File::open("/dev/null").unwrap().into()
}

/// A security plan that changes nothing, to add to.
fn no_security() -> SecurityPlan {
    let mut plan = SecurityPlan::prepare(&SecuritySpec::default(), false, None).unwrap();
    plan.caps = CapPlan {
        bounding: None,
        set: None,
        all: 0b111,
    };
    plan
}

/// A plan that runs nothing but the gate, the working directory and exec.
fn bare_plan() -> ChildPlan {
    ChildPlan {
        namespaces: Namespaces::default(),
        switch_ids: (None, None),
        hostname: None,
        die_with_parent: false,
        new_session: false,
        reaper: false,
        expected_parent: None,
        exec: exec_plan("/w"),
        stdio: [None; 3],
        join_cgroups: [].into_iter().collect(),
        security: no_security(),
        monitor: Monitor::default(),
        close_in_child: [].into_iter().collect(),
        cgroup_ns_early: true,
        proc_dir: None,
        join: None,
        user2: None,
        init: None,
        flat: None,
    }
}

/// Every option at once: new user, PID, UTS and cgroup namespaces, a cgroup
/// to join, both hooks, the report, a reaper holding a lock file and the
/// sync descriptor, `block_fd`, a new session, stdin, and a security context
/// with a bounding set, capabilities, a limit and a seccomp program.
fn full_plan() -> ChildPlan {
    let mut security = no_security();
    security.caps = CapPlan {
        bounding: Some(0b010),
        set: Some(0b010),
        all: 0b111,
    };
    security.rlimits.push(Rlimit::parse("nofile=64").unwrap());
    security
        .seccomp
        .push(BpfProgram::from_bytes(&[6, 0, 0, 0, 0, 0, 0xff, 0x7f]).unwrap());
    let mut monitor = Monitor {
        sync_fd: Some(SYNC_FD),
        block_fd: Some(BLOCK_FD),
        ..Monitor::default()
    };
    monitor.lock_paths.push(c"/run/lock".to_owned());
    monitor.lock_fds.push(AtomicI32::new(-1));
    ChildPlan {
        namespaces: Namespaces {
            user: true,
            pid: true,
            uts: true,
            cgroup: true,
            ..Namespaces::default()
        },
        switch_ids: (Some(1000), Some(1000)),
        hostname: Some(b"box".to_vec()),
        die_with_parent: true,
        new_session: true,
        reaper: true,
        expected_parent: None,
        stdio: [Some(STDIN), None, None],
        join_cgroups: [(CGROUP_DIR, c"tasks".to_owned())].into_iter().collect(),
        security,
        monitor,
        close_in_child: [CALLERS_FD].into_iter().collect(),
        cgroup_ns_early: false,
        proc_dir: Some(dummy_dir()),
        ..bare_plan()
    }
}

/// A fake for the full plan: the gate and the ready signal arrive, the
/// parent is outside the PID namespace, then (after the fork) pid 1.
fn full_fake() -> Fake {
    let mut fake = Fake::default();
    fake.token(FDS.gate_read, b'G')
        .token(FDS.ready_read.unwrap(), b'C')
        .parent(None)
        .parent(Some(Pid::INIT));
    fake
}

const LOCK_FD: RawFd = FIRST_FD + 1;

/// The full plan up to the PID-1 fork.
fn full_plan_setup() -> [(Call, Option<Expect>); 36] {
    [
        (Call::Close(FDS.gate_write), None),
        (Call::Close(FDS.ack_read), None),
        (Call::Close(FDS.fail_read), None),
        (Call::Close(16), None),
        (Call::Close(19), None),
        (Call::Close(20), None),
        (Call::Close(CALLERS_FD), None),
        (Call::DefaultSigchld, None),
        (Call::DeathSignal, Some(Proc(Step::DeathSignal, 0))),
        (Call::ParentPid, None),
        (
            Call::Read(FDS.gate_read),
            Some(ProcErrno(Step::Gate, 0, libc::EPIPE)),
        ),
        (Call::Close(FDS.gate_read), None),
        (Call::Dumpable(false), Some(Proc(Step::Dumpable, 0))),
        (Call::SetGid(1000), Some(Proc(Step::SetGid, 1000))),
        (Call::SetUid(1000), Some(Proc(Step::SetUid, 1000))),
        (Call::Hostname(t("box")), Some(Proc(Step::Hostname, 0))),
        (
            Call::Hook(Origin::Filesystem),
            Some(Hook(Origin::Filesystem)),
        ),
        (Call::Hook(Origin::Network), Some(Hook(Origin::Network))),
        (
            Call::Read(18),
            Some(ProcErrno(Step::CgroupJoin, u32::MAX, libc::EPIPE)),
        ),
        (Call::Close(18), None),
        (
            Call::OpenAt(CGROUP_DIR, t("tasks")),
            Some(Proc(Step::CgroupJoin, 0)),
        ),
        (
            Call::Write(FIRST_FD, t("0")),
            Some(Proc(Step::CgroupJoin, 0)),
        ),
        (Call::Close(FIRST_FD), None),
        (Call::Close(CGROUP_DIR), None),
        (
            Call::Unshare(UnshareFlags::NEWCGROUP),
            Some(Proc(Step::CgroupNamespace, 0)),
        ),
        (Call::SendReport(21), Some(Proc(Step::Report, 0))),
        (
            Call::DropBounding(0),
            Some(Sec(SecurityStep::BoundingSet, 0)),
        ),
        (
            Call::DropBounding(2),
            Some(Sec(SecurityStep::BoundingSet, 2)),
        ),
        (Call::Read(BLOCK_FD), Some(Proc(Step::BlockFd, 0))),
        (Call::Close(BLOCK_FD), None),
        (Call::Chdir(t("/w")), Some(Proc(Step::Chdir, 0))),
        (Call::Setsid, Some(Proc(Step::NewSession, 0))),
        (
            Call::OpenAt(libc::AT_FDCWD, t("/run/lock")),
            Some(Proc(Step::LockOpen, 0)),
        ),
        (Call::ReadLock(LOCK_FD), Some(Proc(Step::LockTake, 0))),
        (Call::OwnPid, None),
        (Call::Fork, Some(Proc(Step::Fork, 0))),
    ]
}

/// The full plan's command side, after the fork.
fn full_plan_command() -> [(Call, Option<Expect>); 18] {
    [
        (Call::Close(17), None),
        (Call::Close(LOCK_FD), None),
        (Call::Close(SYNC_FD), None),
        (Call::DeathSignal, Some(Proc(Step::DeathSignal, 0))),
        (Call::ParentPid, None),
        (Call::DupAboveStdio(STDIN), Some(Proc(Step::Stdio, 0))),
        (Call::DupOnto(LOCK_FD + 1, 0), Some(Proc(Step::Stdio, 0))),
        (Call::Close(LOCK_FD + 1), None),
        (
            Call::Rlimit(RlimitResource::Nofile),
            Some(Sec(SecurityStep::Rlimit, 0)),
        ),
        (
            Call::SetCapabilities(0b010),
            Some(Sec(SecurityStep::CapSet, 0)),
        ),
        (Call::RaiseAmbient(1), Some(Sec(SecurityStep::Ambient, 1))),
        (Call::NoNewPrivs, Some(Sec(SecurityStep::NoNewPrivs, 0))),
        (
            Call::Write(FDS.ack_write, t("A")),
            Some(ProcErrno(Step::Ack, 0, libc::EPIPE)),
        ),
        (Call::Close(FDS.ack_write), None),
        (Call::ResetSignals, Some(Proc(Step::Signals, 0))),
        (Call::Seccomp(1), Some(Sec(SecurityStep::Seccomp, 0))),
        (Call::Execve(t("/bin/true")), Some(Proc(Step::Exec, 0))),
        // Nothing is recorded after a successful execve.
        (Call::ParentPid, None),
    ]
}

const COMMAND: i32 = 3;

/// The full plan's reaper side, after the fork.
fn full_plan_reaper() -> [(Call, Option<Expect>); 7] {
    [
        (Call::Close(FDS.ack_write), None),
        (Call::SetCapabilities(0), Some(Sec(SecurityStep::CapSet, 0))),
        (Call::NoNewPrivs, Some(Sec(SecurityStep::NoNewPrivs, 0))),
        (Call::Dumpable(false), Some(Sec(SecurityStep::Dumpable, 0))),
        (
            Call::CloseAllExcept([FDS.fail_write, 17, SYNC_FD, LOCK_FD]),
            Some(Proc(Step::CloseFds, 0)),
        ),
        (Call::Seccomp(1), Some(Sec(SecurityStep::Seccomp, 0))),
        (Call::Close(FDS.fail_write), None),
    ]
}

/// The calls of a scenario, in order.
fn calls_of<'a>(steps: &'a [&'a [(Call, Option<Expect>)]]) -> impl Iterator<Item = Call> + 'a {
    steps
        .iter()
        .flat_map(|part| part.iter().map(|(call, _)| *call))
}

/// Assert that `fake` made exactly `want`, naming the first difference.
fn assert_calls(fake: &Fake, want: impl Iterator<Item = Call>) {
    let got = fake.calls();
    let mut n = 0;
    for want in want {
        assert_eq!(got.get(n), Some(&want), "call {n} of {got:#?}");
        n += 1;
    }
    assert_eq!(got.len(), n, "calls after the last expected one: {got:#?}");
}

#[test]
fn a_full_plan_runs_every_step_in_order_up_to_exec() {
    let plan = full_plan();
    let mut fake = full_fake();
    fake.fork_as_child();
    run(&mut fake, &plan, &BOTH_HOOKS, &FDS);
    assert!(fake.executed());
    let command = full_plan_command();
    assert_calls(
        &fake,
        calls_of(&[&full_plan_setup(), &command[..command.len() - 1]]),
    );
}

#[test]
fn the_reaper_locks_itself_down_then_supervises_the_command() {
    let plan = full_plan();
    let mut fake = full_fake();
    fake.fork_as_parent_of(pid(COMMAND));
    let ending = run(&mut fake, &plan, &BOTH_HOOKS, &FDS);
    assert_eq!(
        ending,
        Ending::Supervise {
            child: pid(COMMAND),
            status_fd: FDS.status_write,
        }
    );
    assert!(!fake.executed());
    assert_calls(&fake, calls_of(&[&full_plan_setup(), &full_plan_reaper()]));
}

#[test]
fn with_vb_init_the_reaper_keeps_what_pid_1_holds_and_supervises_itself_when_it_cannot_execute() {
    // The fake refuses the execveat of vb-init: the reaper must have kept
    // the status pipe, the sync descriptor and the lock across the exec,
    // and then fall back to supervising in-process with its seccomp
    // programs loaded, the failure pipe closed last.
    let mut plan = full_plan();
    plan.init = Some(InitPlan {
        program: dummy_dir(),
        seccomp: None,
    });
    let mut fake = full_fake();
    fake.fork_as_parent_of(pid(COMMAND));
    let ending = run(&mut fake, &plan, &BOTH_HOOKS, &FDS);
    assert_eq!(
        ending,
        Ending::Supervise {
            child: pid(COMMAND),
            status_fd: FDS.status_write,
        }
    );
    assert!(!fake.executed());
    let calls = fake.calls();
    let at = |call: Call| calls.iter().position(|c| *c == call);
    let kept = [FDS.status_write.unwrap(), SYNC_FD, LOCK_FD].map(|fd| at(Call::KeepAcrossExec(fd)));
    let seccomp = at(Call::Seccomp(1));
    assert!(kept.iter().all(Option::is_some), "{calls:#?}");
    assert!(kept.iter().all(|k| *k < seccomp), "{calls:#?}");
    assert_eq!(
        calls.last(),
        Some(&Call::Close(FDS.fail_write)),
        "{calls:#?}"
    );
}

#[test]
fn with_vb_init_the_command_still_executes() {
    let mut plan = full_plan();
    plan.init = Some(InitPlan {
        program: dummy_dir(),
        seccomp: None,
    });
    let mut fake = full_fake();
    fake.fork_as_child();
    run(&mut fake, &plan, &BOTH_HOOKS, &FDS);
    assert!(fake.executed());
}

/// Fail each fallible call of a scenario in turn: the frame on the failure
/// pipe names its step, the process exits with 127 (after killing the
/// command, when the failing call comes after the fork on the reaper's
/// side), and no step after it ran.
fn check_every_failure(
    parts: &[&[(Call, Option<Expect>)]],
    setup_fake: impl Fn() -> Fake,
    kill_after_fork: Option<Pid>,
) {
    let plan = full_plan();
    let before_fork = full_plan_setup().len();
    let scenario = parts.iter().flat_map(|part| part.iter());
    let mut fallible = 0;
    let mut checked = 0;
    for (position, (call, expect)) in scenario.enumerate() {
        let Some(expect) = expect else { continue };
        let mut fake = setup_fake();
        fake.fail_call(fallible, INJECTED);
        fallible += 1;
        let ending = run(&mut fake, &plan, &BOTH_HOOKS, &FDS);
        assert_eq!(ending, Ending::Exit(SETUP_FAILED_EXIT), "{call:?}");
        let got = fake.calls();
        for (n, want) in calls_of(parts).take(position + 1).enumerate() {
            assert_eq!(got.get(n), Some(&want), "failing {call:?}: {got:#?}");
        }
        let mut rest = got
            .get(position + 1..)
            .unwrap_or_default()
            .iter()
            .filter(|c| !matches!(c, Call::Close(_)));
        let frame = expect.frame();
        assert_eq!(
            rest.next(),
            Some(&Call::Write(FDS.fail_write, Text::new(&frame.encode()))),
            "{call:?} must report {frame:?}: {got:#?}"
        );
        assert_eq!(fake.frames_on(FDS.fail_write).next(), Some(frame));
        if let Some(command) = kill_after_fork.filter(|_| position >= before_fork) {
            assert_eq!(rest.next(), Some(&Call::Kill(command)), "{call:?}");
        }
        assert_eq!(
            rest.next(),
            None,
            "failing {call:?}, a later step ran: {got:#?}"
        );
        checked += 1;
    }
    assert!(checked > 20, "only {checked} failures checked");
}

#[test]
fn every_failing_step_of_the_command_side_reports_its_frame_and_stops() {
    let command = full_plan_command();
    check_every_failure(
        &[&full_plan_setup(), &command[..command.len() - 1]],
        || {
            let mut fake = full_fake();
            fake.fork_as_child();
            fake
        },
        None,
    );
}

#[test]
fn every_failing_step_of_the_reaper_reports_its_frame_and_kills_the_command() {
    check_every_failure(
        &[&full_plan_setup(), &full_plan_reaper()],
        || {
            let mut fake = full_fake();
            fake.fork_as_parent_of(pid(COMMAND));
            fake
        },
        Some(pid(COMMAND)),
    );
}

#[test]
fn a_bare_plan_waits_at_the_gate_enters_its_directory_and_executes() {
    let plan = bare_plan();
    let mut fake = Fake::default();
    fake.token(FDS.gate_read, b'G');
    run(&mut fake, &plan, &ChildHooks::default(), &BARE_FDS);
    assert!(fake.executed());
    assert_calls(
        &fake,
        [
            Call::Close(FDS.gate_write),
            Call::Close(FDS.ack_read),
            Call::Close(FDS.fail_read),
            Call::DefaultSigchld,
            Call::Read(FDS.gate_read),
            Call::Close(FDS.gate_read),
            Call::Dumpable(false),
            Call::Chdir(t("/w")),
            Call::NoNewPrivs,
            Call::Write(FDS.ack_write, t("A")),
            Call::Close(FDS.ack_write),
            Call::ResetSignals,
            Call::Execve(t("/bin/true")),
        ]
        .into_iter(),
    );
}

#[test]
fn end_of_file_at_the_gate_means_the_parent_is_gone() {
    let plan = bare_plan();
    // No gate byte: the read sees end-of-file.
    let mut fake = Fake::default();
    let ending = run(&mut fake, &plan, &ChildHooks::default(), &BARE_FDS);
    assert_eq!(ending, Ending::Exit(SETUP_FAILED_EXIT));
    let frame = ChildFailure::process(Step::Gate, 0, libc::EPIPE);
    assert_eq!(fake.frames_on(FDS.fail_write).next(), Some(frame));
    assert_eq!(
        fake.calls().last(),
        Some(&Call::Write(FDS.fail_write, Text::new(&frame.encode())))
    );
}

#[test]
fn a_parent_that_died_before_the_death_signal_is_reported_before_the_gate() {
    let mut plan = bare_plan();
    plan.die_with_parent = true;
    plan.expected_parent = Some(pid(40));
    let mut fake = Fake::default();
    fake.token(FDS.gate_read, b'G').parent(Some(Pid::INIT));
    run(&mut fake, &plan, &ChildHooks::default(), &BARE_FDS);
    let frame = ChildFailure::process(Step::ParentGone, 0, libc::ESRCH);
    assert_eq!(fake.frames_on(FDS.fail_write).next(), Some(frame));
    assert!(!fake.calls().contains(&Call::Read(FDS.gate_read)));
}

#[test]
fn without_a_reaper_the_command_keeps_the_sync_descriptor_across_exec() {
    let mut plan = bare_plan();
    plan.monitor.sync_fd = Some(SYNC_FD);
    let mut fake = Fake::default();
    fake.token(FDS.gate_read, b'G');
    run(&mut fake, &plan, &ChildHooks::default(), &BARE_FDS);
    let calls = fake.calls();
    let chdir = calls.iter().position(|c| *c == Call::Chdir(t("/w")));
    let keep = calls
        .iter()
        .position(|c| *c == Call::KeepAcrossExec(SYNC_FD));
    assert!(chdir.is_some() && keep > chdir, "{calls:#?}");
    assert!(!calls.contains(&Call::Fork));
}

#[test]
fn a_userns_block_fd_is_waited_on_before_the_id_switch() {
    let mut plan = bare_plan();
    plan.monitor.userns_block_fd = Some(BLOCK_FD);
    plan.switch_ids = (Some(0), Some(0));
    let mut fake = Fake::default();
    fake.token(FDS.gate_read, b'G');
    run(&mut fake, &plan, &ChildHooks::default(), &BARE_FDS);
    let calls = fake.calls();
    let dumpable = calls
        .iter()
        .position(|c| *c == Call::Dumpable(false))
        .unwrap();
    assert_eq!(
        calls[dumpable + 1..dumpable + 5],
        [
            Call::Read(BLOCK_FD),
            Call::Close(BLOCK_FD),
            Call::SetGid(0),
            Call::SetUid(0)
        ]
    );
}

/// A plan that joins a PID and a network namespace and makes a new PID
/// namespace inside the joined one.
fn joining_plan(pid_ns: &OwnedFd, net_ns: &OwnedFd) -> ChildPlan {
    let join = JoinNamespaces {
        pid: Some(pid_ns.as_fd()),
        net: Some(net_ns.as_fd()),
        ..JoinNamespaces::default()
    };
    let create = Namespaces {
        pid: true,
        ..Namespaces::default()
    };
    ChildPlan {
        namespaces: create,
        reaper: true,
        join: JoinPlan::prepare(&join, create, (0, 0)).unwrap(),
        proc_dir: Some(dummy_dir()),
        ..bare_plan()
    }
}

#[test]
fn a_joined_pid_namespace_leaves_a_waiter_above_the_first_process() {
    let (pid_ns, net_ns) = (dummy_dir(), dummy_dir());
    let plan = joining_plan(&pid_ns, &net_ns);
    let first = pid(7);
    let mut fake = Fake::default();
    fake.token(FDS.gate_read, b'G').fork_as_parent_of(first);
    let ending = run(&mut fake, &plan, &ChildHooks::default(), &FDS);
    // With a reaper below, the waiter leaves the command's status to it.
    assert_eq!(
        ending,
        Ending::Supervise {
            child: first,
            status_fd: None
        }
    );
    let calls = fake.calls();
    let setns = calls
        .iter()
        .position(|c| *c == Call::Setns(pid_ns.as_raw_fd(), NamespaceKind::Pid))
        .unwrap();
    assert_eq!(
        calls[setns..],
        [
            Call::Setns(pid_ns.as_raw_fd(), NamespaceKind::Pid),
            Call::Setns(net_ns.as_raw_fd(), NamespaceKind::Net),
            Call::Fork,
            Call::Close(FDS.ack_write),
            Call::Close(21),
            Call::Close(17),
            Call::SetCapabilities(0),
            Call::NoNewPrivs,
            Call::Dumpable(false),
            Call::CloseAllExcept([FDS.fail_write, -1, -1, -1]),
            Call::Close(FDS.fail_write),
        ]
    );
}

#[test]
fn a_pid_namespace_nested_in_a_joined_one_takes_a_second_fork() {
    let (pid_ns, net_ns) = (dummy_dir(), dummy_dir());
    let plan = joining_plan(&pid_ns, &net_ns);
    let mut fake = Fake::default();
    fake.token(FDS.gate_read, b'G')
        .fork_as_child()
        .fork_as_parent_of(pid(8));
    let ending = run(&mut fake, &plan, &ChildHooks::default(), &FDS);
    assert!(matches!(ending, Ending::Supervise { child, .. } if child == pid(8)));
    let calls = fake.calls();
    let first_fork = calls.iter().position(|c| *c == Call::Fork).unwrap();
    assert_eq!(
        calls[first_fork..first_fork + 3],
        [Call::Fork, Call::Unshare(UnshareFlags::NEWPID), Call::Fork]
    );
}

/// `/proc/self/<file>`, as the caller-forked child opens it.
fn self_file(file: &str) -> Text {
    let mut buf = [0u8; 40];
    let mut out = &mut buf[..];
    std::io::Write::write_fmt(&mut out, format_args!("/proc/self/{file}")).unwrap();
    let len = 40 - out.len();
    Text::new(&buf[..len])
}

/// The one-line map of the caller's own id, as the kernel takes it.
fn own_map_line(id: u32) -> Text {
    let mut buf = [0u8; 40];
    let mut out = &mut buf[..];
    std::io::Write::write_fmt(&mut out, format_args!("{id} {id} 1\n")).unwrap();
    let len = 40 - out.len();
    Text::new(&buf[..len])
}

/// A caller-forked child with new user, PID and UTS namespaces, a hostname
/// and a reaper; its capability plan fixed so the calls do not depend on
/// who runs the test.
fn caller_fork_plan() -> InChildPlan {
    let spec = InChildSpec {
        namespaces: Namespaces {
            user: true,
            pid: true,
            uts: true,
            ..Namespaces::default()
        },
        hostname: Some(os!("box")),
        die_with_parent: true,
        ..InChildSpec::default()
    };
    let mut plan = InChildPlan::prepare(&spec).unwrap();
    plan.security.caps = CapPlan {
        bounding: Some(0b011),
        set: Some(0),
        all: 0b111,
    };
    plan
}

fn caller_fork_setup() -> [Call; 16] {
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    [
        Call::DeathSignal,
        Call::Unshare(UnshareFlags::NEWUSER | UnshareFlags::NEWPID | UnshareFlags::NEWUTS),
        Call::OpenAt(libc::AT_FDCWD, self_file("setgroups")),
        Call::Write(FIRST_FD, t("deny")),
        Call::Close(FIRST_FD),
        Call::OpenAt(libc::AT_FDCWD, self_file("uid_map")),
        Call::Write(FIRST_FD + 1, own_map_line(uid)),
        Call::Close(FIRST_FD + 1),
        Call::OpenAt(libc::AT_FDCWD, self_file("gid_map")),
        Call::Write(FIRST_FD + 2, own_map_line(gid)),
        Call::Close(FIRST_FD + 2),
        Call::SetGid(gid),
        Call::SetUid(uid),
        Call::Hostname(t("box")),
        Call::DefaultSigchld,
        Call::BlockForwarded,
    ]
}

#[test]
fn a_caller_forked_child_applies_every_step_in_order() {
    let plan = caller_fork_plan();
    let mut fake = Fake::default();
    fake.fork_as_child().fork_as_child();
    let result = plan.apply_with(&mut fake, &BOTH_HOOKS);
    assert_eq!(result, Ok(None), "the command's process goes on to exec");
    assert_calls(
        &fake,
        caller_fork_setup().into_iter().chain([
            Call::Fork,
            Call::SetMask,
            Call::RestoreSigchld,
            Call::DeathSignal,
            Call::Hook(Origin::Filesystem),
            Call::Hook(Origin::Network),
            Call::DropBounding(2),
            Call::DefaultSigchld,
            Call::BlockForwarded,
            Call::Fork,
            Call::SetMask,
            Call::RestoreSigchld,
            Call::SetCapabilities(0),
            Call::NoNewPrivs,
        ]),
    );
}

#[test]
fn the_process_the_caller_forked_waits_above_pid_1() {
    let plan = caller_fork_plan();
    let mut fake = Fake::default();
    fake.fork_as_parent_of(pid(9));
    let result = plan.apply_with(&mut fake, &BOTH_HOOKS);
    assert_eq!(result, Ok(Some(pid(9))), "it supervises pid 1");
    assert_calls(
        &fake,
        caller_fork_setup().into_iter().chain([
            Call::Fork,
            Call::SetCapabilities(0),
            Call::NoNewPrivs,
            Call::Dumpable(false),
            Call::CloseAllExcept([-1; 4]),
        ]),
    );
}

#[test]
fn a_caller_forked_child_that_cannot_fork_gets_its_mask_back() {
    let plan = caller_fork_plan();
    let mut fake = Fake::default();
    // The fork is the fallible call after the setup's eleven (death
    // signal, unshare, three opens and writes, gid, uid, hostname).
    fake.fail_call(11, INJECTED);
    let result = plan.apply_with(&mut fake, &BOTH_HOOKS);
    assert_eq!(
        result,
        Err(ChildFailure::process(
            Step::Fork,
            0,
            INJECTED.raw_os_error()
        ))
    );
    assert_eq!(fake.calls().last(), Some(&Call::SetMask));
}

#[test]
fn a_reaper_that_cannot_drop_its_capabilities_kills_the_command() {
    let plan = caller_fork_plan();
    let mut fake = Fake::default();
    fake.fork_as_child().fork_as_parent_of(pid(11));
    let calls_before = {
        let mut dry = Fake::default();
        dry.fork_as_child().fork_as_parent_of(pid(11));
        let _ = plan.apply_with(&mut dry, &BOTH_HOOKS);
        dry.fallible_calls()
    };
    // The reaper's first lockdown step is the fallible call before the
    // last four (capset, no_new_privs, dumpable, close).
    fake.fail_call(calls_before - 4, INJECTED);
    let result = plan.apply_with(&mut fake, &BOTH_HOOKS);
    assert_eq!(
        result,
        Err(ChildFailure::with_origin(
            Origin::Security,
            StepFailure::new(SecurityStep::CapSet as u32, 0, INJECTED.raw_os_error())
        ))
    );
    assert_eq!(fake.calls().last(), Some(&Call::Kill(pid(11))));
}

/// A security plan for `--disable-userns` with setup and command ids 5/6.
fn disable_userns_plan() -> SecurityPlan {
    let spec = SecuritySpec {
        disable_userns: true,
        ..SecuritySpec::default()
    };
    let ids = SandboxIds {
        setup: (5, 6),
        command: (5, 6),
    };
    let mut plan = SecurityPlan::prepare(&spec, true, Some(ids)).unwrap();
    plan.caps = CapPlan {
        bounding: None,
        set: None,
        all: 0b1,
    };
    plan
}

/// The calls of `before_fork` for [`disable_userns_plan`]: the cap on
/// user namespaces, the nested namespace and its maps (wrapped in
/// `PR_SET_DUMPABLE` 1/0 unless the memory is the launcher's), then the
/// check that no further one can be made.
fn disable_userns_calls(proc_dir: RawFd, shares_memory: bool) -> impl Iterator<Item = Call> {
    let dumpable = |on| (!shares_memory).then_some(Call::Dumpable(on));
    [
        Some(Call::OpenAt(proc_dir, t("sys/user/max_user_namespaces"))),
        Some(Call::Write(FIRST_FD, t("1"))),
        Some(Call::Close(FIRST_FD)),
        Some(Call::Unshare(UnshareFlags::NEWUSER)),
        dumpable(true),
        Some(Call::OpenAt(proc_dir, t("self/uid_map"))),
        Some(Call::Write(FIRST_FD + 1, t("5 5 1\n"))),
        Some(Call::Close(FIRST_FD + 1)),
        Some(Call::OpenAt(proc_dir, t("self/gid_map"))),
        Some(Call::Write(FIRST_FD + 2, t("6 6 1\n"))),
        Some(Call::Close(FIRST_FD + 2)),
        dumpable(false),
        Some(Call::Unshare(UnshareFlags::NEWUSER)),
    ]
    .into_iter()
    .flatten()
}

#[test]
fn disable_userns_caps_the_count_then_nests_and_checks() {
    let plan = disable_userns_plan();
    let proc_dir = plan.proc_dir.as_ref().unwrap().as_raw_fd();
    let mut fake = Fake::default();
    // The check's unshare (the tenth fallible call) fails, as the limit
    // makes it.
    fake.fail_call(9, INJECTED);
    assert_eq!(plan.before_fork(&mut fake, false), Ok(()));
    assert_calls(&fake, disable_userns_calls(proc_dir, false));
}

#[test]
fn sharing_the_launchers_memory_the_nested_namespace_leaves_dumpable_alone() {
    let plan = disable_userns_plan();
    let proc_dir = plan.proc_dir.as_ref().unwrap().as_raw_fd();
    let mut fake = Fake::default();
    // Without the two dumpable calls the check's unshare is the eighth.
    fake.fail_call(7, INJECTED);
    assert_eq!(plan.before_fork(&mut fake, true), Ok(()));
    assert_calls(&fake, disable_userns_calls(proc_dir, true));
}

#[test]
fn a_user_namespace_still_creatable_fails_the_check() {
    let plan = disable_userns_plan();
    let mut fake = Fake::default();
    assert_eq!(
        plan.before_fork(&mut fake, false),
        Err(ChildFailure::with_origin(
            Origin::Security,
            StepFailure::new(SecurityStep::UsernsNotDisabled as u32, 0, libc::EPERM)
        ))
    );
}

#[test]
fn each_nested_user_namespace_step_has_its_index() {
    let plan = disable_userns_plan();
    // Fallible calls: open 0, write 1, unshare 2, dumpable 3, uid_map open
    // 4 and write 5, gid_map open 6 and write 7.
    for (call, index) in [(0, 0), (1, 1), (2, 2), (4, 3), (5, 3), (6, 4), (7, 4)] {
        let mut fake = Fake::default();
        fake.fail_call(call, INJECTED);
        let failure = plan.before_fork(&mut fake, false).unwrap_err();
        assert_eq!(
            failure,
            ChildFailure::with_origin(
                Origin::Security,
                StepFailure::new(
                    SecurityStep::DisableUserns as u32,
                    index,
                    INJECTED.raw_os_error()
                )
            ),
            "call {call}"
        );
    }
}

/// `ls` searched in `/a:/b:/c`, entered from the old working directory,
/// `$HOME` or `/`.
fn search_plan() -> ExecPlan {
    let env = [
        (os!("PATH"), os!("/a:/b:/c")),
        (os!("HOME"), os!("/home/u")),
    ];
    ExecPlan::new(&[os!("ls")], None, &env, None, Some(Path::new("/gone"))).unwrap()
}

#[test]
fn the_search_skips_missing_paths_and_reports_a_denied_one() {
    let plan = search_plan();
    let mut fake = Fake::default();
    fake.fail_call(0, Errno::ACCESS)
        .fail_call(1, Errno::NOENT)
        .fail_call(2, Errno::NOTDIR);
    assert_eq!(plan.exec(&mut fake), Errno::ACCESS);
    assert_calls(
        &fake,
        [
            Call::Execve(t("/a/ls")),
            Call::Execve(t("/b/ls")),
            Call::Execve(t("/c/ls")),
        ]
        .into_iter(),
    );
}

#[test]
fn the_search_stops_at_an_error_execvp_does_not_skip() {
    let plan = search_plan();
    let mut fake = Fake::default();
    fake.fail_call(0, Errno::NOENT).fail_call(1, Errno::TOOBIG);
    assert_eq!(plan.exec(&mut fake), Errno::TOOBIG);
    assert_eq!(fake.calls().len(), 2);
}

#[test]
fn a_script_without_a_shebang_runs_through_the_shell() {
    let plan = search_plan();
    let mut fake = Fake::default();
    fake.fail_call(0, Errno::NOENT).fail_call(1, Errno::NOEXEC);
    plan.exec(&mut fake);
    assert!(fake.executed());
    assert_eq!(
        fake.calls()[1..],
        [Call::Execve(t("/b/ls")), Call::Execve(t("/bin/sh"))]
    );
    // SAFETY: the slot points into the plan's own candidate path.
    let script = unsafe { CStr::from_ptr(plan.sh_argv[1].get()) };
    assert_eq!(script, c"/b/ls");
}

#[test]
fn the_working_directory_falls_back_and_pwd_follows() {
    let plan = search_plan();
    let mut fake = Fake::default();
    fake.fail_call(0, Errno::NOENT);
    assert_eq!(plan.enter_cwd(&mut fake), Ok(()));
    assert_calls(
        &fake,
        [Call::Chdir(t("/gone")), Call::Chdir(t("/home/u"))].into_iter(),
    );
    // SAFETY: the slot points into the plan's own PWD entry.
    let pwd = unsafe { CStr::from_ptr(plan.envp[plan.pwd_slot].get()) };
    assert_eq!(pwd, c"PWD=/home/u");
}

#[test]
fn an_explicit_working_directory_has_no_fallback() {
    let plan = exec_plan("/missing");
    let mut fake = Fake::default();
    fake.fail_call(0, Errno::NOENT);
    assert_eq!(plan.enter_cwd(&mut fake), Err(Errno::NOENT));
    assert_eq!(fake.calls(), [Call::Chdir(t("/missing"))]);
}
