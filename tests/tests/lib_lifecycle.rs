//! The library's session lifecycle: single-use wait, event order under
//! parallel launches, launches from many threads while others allocate, and
//! bubblewrap's status descriptors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use voidbox::{Error, JailConfig, Namespaces, RootSource, StatusEvent, StatusEventKind};
use voidbox_tests::{needs_userns, with_watchdog};

fn config(cmd: &[&str]) -> JailConfig {
    JailConfig {
        rootfs: RootSource::Dir("/".into()),
        cmd: cmd.iter().map(Into::into).collect(),
        isolation: Namespaces {
            pid: true,
            ipc: true,
            uts: true,
            ..Namespaces::default()
        },
        ..JailConfig::default()
    }
}

#[test]
fn wait_is_single_use() {
    if needs_userns("wait_is_single_use") {
        return;
    }
    let mut session = voidbox::spawn(&config(&["/bin/sh", "-c", "exit 5"])).unwrap();
    assert!(session.pid() > 0);
    assert_eq!(session.wait().unwrap().code(), 5);
    assert!(matches!(session.wait(), Err(Error::SessionAlreadyWaited)));
    assert!(matches!(
        voidbox::wait(&mut session),
        Err(Error::SessionAlreadyWaited)
    ));
}

fn recorded(cfg: &mut JailConfig) -> Arc<Mutex<Vec<StatusEvent>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    cfg.status.on_event = Some(Arc::new(move |e: &StatusEvent| {
        sink.lock().unwrap().push(e.clone())
    }));
    events
}

#[test]
fn events_arrive_in_order_under_16_parallel_launches() {
    if needs_userns("events_arrive_in_order_under_16_parallel_launches") {
        return;
    }
    with_watchdog(Duration::from_secs(120), || {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut cfg = config(&["/bin/sh", "-c", &format!("exit {}", i % 3)]);
                    let events = recorded(&mut cfg);
                    let status = voidbox::launch(&cfg).unwrap();
                    assert_eq!(status.code(), i % 3);
                    let events = events.lock().unwrap().clone();
                    let kinds: Vec<StatusEventKind> =
                        events.iter().map(StatusEvent::kind).collect();
                    assert_eq!(
                        kinds,
                        vec![
                            StatusEventKind::Spawned,
                            StatusEventKind::SetupFinished,
                            StatusEventKind::Exited
                        ]
                    );
                    let pids: Vec<i32> = events
                        .iter()
                        .map(|e| match e {
                            StatusEvent::Spawned { pid, .. }
                            | StatusEvent::SetupFinished { pid, .. }
                            | StatusEvent::Exited { pid, .. } => *pid,
                            _ => 0,
                        })
                        .collect();
                    assert!(pids.iter().all(|p| *p == pids[0] && *p > 0));
                    // Monotonic times, in order; setup ended at its event.
                    let times: Vec<Duration> = events.iter().map(StatusEvent::at).collect();
                    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
                    let Some(StatusEvent::SetupFinished { at, setup, .. }) = events.get(1) else {
                        panic!("{events:?}");
                    };
                    assert!(!setup.is_zero() && *setup <= *at, "{setup:?} {at:?}");
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn ten_thousand_launches_from_32_threads_while_4_threads_allocate() {
    // An embedder's shape: many threads launching, others allocating; no
    // launch may hang or fail (a child inheriting a lock another thread
    // held at the clone would hang here).
    if needs_userns("ten_thousand_launches_from_32_threads_while_4_threads_allocate") {
        return;
    }
    with_watchdog(Duration::from_secs(900), || {
        let stop = Arc::new(AtomicBool::new(false));
        let allocations = Arc::new(AtomicUsize::new(0));
        let allocators: Vec<_> = (0..4)
            .map(|i| {
                let stop = stop.clone();
                let count = allocations.clone();
                std::thread::spawn(move || {
                    let mut keep: Vec<Vec<u8>> = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        keep.push(vec![i; 1 + keep.len() % 4096]);
                        if keep.len() > 256 {
                            keep.clear();
                        }
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let launchers: Vec<_> = (0..32)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..313 {
                        let status = voidbox::launch(&config(&["/bin/true"])).unwrap();
                        assert!(status.success());
                    }
                })
            })
            .collect();
        for l in launchers {
            l.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        for a in allocators {
            a.join().unwrap();
        }
        assert!(allocations.load(Ordering::Relaxed) > 1000, "allocators ran");
    });
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap()
}

fn read_all(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

#[test]
fn info_and_json_status_descriptors_use_bubblewraps_formats() {
    if needs_userns("info_and_json_status_descriptors_use_bubblewraps_formats") {
        return;
    }
    let (info_r, info_w) = pipe();
    let (json_r, json_w) = pipe();
    let mut cfg = config(&["/bin/sh", "-c", "exit 7"]);
    // The configuration owns the descriptors; voidbox lets go of its
    // references when it is done with them.
    cfg.status.info_fd = Some(voidbox::HandOff::new(info_w));
    cfg.status.json_status_fd = Some(Arc::new(json_w));
    let mut session = voidbox::spawn(&cfg).unwrap();
    let pid = session.pid();
    assert_eq!(session.wait().unwrap().code(), 7);
    drop(cfg);
    let info = read_all(info_r);
    assert!(
        info.starts_with(&format!("{{\n    \"child-pid\": {pid},\n")),
        "{info}"
    );
    for key in [
        "ipc-namespace",
        "mnt-namespace",
        "pid-namespace",
        "uts-namespace",
    ] {
        assert!(
            info.contains(&format!("\n    \"{key}\": ")),
            "{key} missing: {info}"
        );
    }
    assert!(
        !info.contains("net-namespace") && !info.contains("user"),
        "{info}"
    );
    assert!(info.ends_with("\n}\n"));
    let json = read_all(json_r);
    let lines: Vec<&str> = json.lines().collect();
    assert_eq!(lines.len(), 2, "{json}");
    assert!(lines[0].starts_with(&format!("{{ \"child-pid\": {pid}, \"ipc-namespace\": ")));
    assert_eq!(lines[1], "{ \"exit-code\": 7 }");
}

#[test]
fn json_status_has_no_exit_code_when_exec_fails() {
    let (json_r, json_w) = pipe();
    let mut cfg = config(&["/nonexistent/command"]);
    cfg.isolation = Namespaces::default();
    cfg.status.json_status_fd = Some(Arc::new(json_w));
    let err = voidbox::spawn(&cfg).unwrap_err();
    assert!(matches!(err, Error::Exec { .. }), "{err}");
    drop(cfg);
    let json = read_all(json_r);
    assert_eq!(json.lines().count(), 1, "{json}");
    assert!(!json.contains("exit-code"));
}

#[test]
fn launch_shell_runs_the_default_shell_config() {
    if needs_userns("launch_shell_runs_the_default_shell_config") {
        return;
    }
    let mut shell = voidbox::default_shell_config("/");
    shell.shell_args = vec!["-c".into(), "test $$ = 2 && exit 9".into()];
    assert_eq!(voidbox::launch_shell(&shell).unwrap().code(), 9);
}

#[test]
fn dropping_an_unwaited_session_kills_the_sandbox() {
    if needs_userns("dropping_an_unwaited_session_kills_the_sandbox") {
        return;
    }
    let mark = voidbox_tests::marker("drop");
    let session = voidbox::spawn(&config(&["/bin/sleep", "1000", &mark])).unwrap();
    drop(session);
    assert!(voidbox_tests::processes_with(&mark).is_empty());
}

#[test]
fn output_captures_both_streams() {
    let out = voidbox::Command::new("/bin/sh")
        .args(["-c", "echo out; echo err >&2; exit 4"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    assert_eq!(out.status.code(), 4);
}

#[test]
fn output_leaves_a_chosen_stream_alone_and_reads_large_streams_without_blocking() {
    // 1 MiB on each stream: far beyond a pipe's buffer, so reading one
    // stream to its end before the other would hang.
    let script = "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2";
    let out = voidbox::Command::new("/bin/sh")
        .args(["-c", script])
        .output()
        .unwrap();
    assert_eq!((out.stdout.len(), out.stderr.len()), (1 << 20, 1 << 20));
    let out = voidbox::Command::new("/bin/sh")
        .args(["-c", "echo out; echo err >&2"])
        .stdout(voidbox::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        (&out.stdout[..], &out.stderr[..]),
        (&b""[..], &b"err\n"[..])
    );
}

#[test]
fn piped_streams_are_on_the_session_as_on_a_std_child() {
    use std::io::Write;
    let mut cmd = voidbox::Command::new("/bin/sh");
    // Built in steps, as with std::process::Command.
    cmd.arg("-c");
    if std::env::var_os("VB_TEST_NEVER_SET").is_none() {
        cmd.arg(
            "tr a-z A-Z; echo done >&2; \
             for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\" >&2; done",
        );
    }
    cmd.stdin(voidbox::Stdio::piped())
        .stdout(voidbox::Stdio::piped())
        .stderr(voidbox::Stdio::piped());
    let mut session = cmd.spawn().unwrap();
    let pipe_of = |fd: std::os::fd::BorrowedFd<'_>| {
        format!("pipe:[{}]", rustix::fs::fstat(fd).unwrap().st_ino)
    };
    use std::os::fd::AsFd;
    let pipes = [
        pipe_of(session.stdin.as_ref().unwrap().as_fd()),
        pipe_of(session.stdout.as_ref().unwrap().as_fd()),
        pipe_of(session.stderr.as_ref().unwrap().as_fd()),
    ];
    let mut stdin = session.stdin.take().unwrap();
    stdin.write_all(b"piped text\n").unwrap();
    drop(stdin);
    let mut out = String::new();
    session
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    session
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(session.wait().unwrap().success());
    assert_eq!(out, "PIPED TEXT\n");
    assert!(err.starts_with("done\n"), "{err}");
    // The pipes reach the command as its three streams, and no other end of
    // them does (a descriptor the suite merely inherits may pass through).
    assert!(err.lines().count() > 3, "{err}");
    for line in err.lines().skip(1) {
        let (fd, target) = line.split_once(' ').unwrap();
        match fd.parse::<usize>().unwrap() {
            n @ 0..=2 => assert_eq!(target, pipes[n], "{err}"),
            _ => assert!(!pipes.iter().any(|p| p == target), "{err}"),
        }
    }
}

#[test]
fn wait_closes_a_piped_stdin_so_a_reader_ends() {
    let mut session = voidbox::Command::new("/bin/cat")
        .stdin(voidbox::Stdio::piped())
        .stdout(voidbox::Stdio::null())
        .spawn()
        .unwrap();
    assert!(session.stdin.is_some());
    let ended = with_watchdog(Duration::from_secs(10), move || session.wait().unwrap());
    assert!(ended.success());
}

#[test]
fn a_configuration_spawned_twice_keeps_its_descriptors() {
    if needs_userns("a_configuration_spawned_twice_keeps_its_descriptors") {
        return;
    }
    let (json_r, json_w) = pipe();
    let mut cfg = config(&["/bin/sh", "-c", "exit 3"]);
    cfg.status.json_status_fd = Some(Arc::new(json_w));
    let copy = cfg.clone();
    for config in [&cfg, &copy] {
        assert_eq!(voidbox::launch(config).unwrap().code(), 3);
    }
    drop((cfg, copy));
    let json = read_all(json_r);
    let exits = json
        .lines()
        .filter(|l| *l == "{ \"exit-code\": 3 }")
        .count();
    assert_eq!(
        exits, 2,
        "both launches wrote to the same open descriptor: {json}"
    );
}

#[test]
fn bad_network_options_are_refused_before_anything_runs() {
    let mark = voidbox_tests::marker("badnet");
    let mut cfg = config(&["/bin/sleep", "1000", &mark]);
    cfg.network = Some(voidbox::NetworkOptions::Bridge(voidbox::NetworkSpec {
        subnet: "10.88.0.0/33".into(),
        ..voidbox::NetworkSpec::default()
    }));
    let err = voidbox::launch(&cfg).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Network(vb_net::Error::InvalidSpec {
                field: "subnet",
                ..
            })
        ),
        "{err}"
    );
    // Joined namespaces are made after the clone: no network for them.
    cfg.network = Some(voidbox::NetworkOptions::Bridge(
        voidbox::NetworkSpec::default(),
    ));
    let holder = voidbox_tests::NsHolder::start(&["-U"]);
    cfg.namespace_fds.user = Some(holder.ns("user"));
    let err = voidbox::launch(&cfg).unwrap_err();
    assert_eq!(
        err.to_string(),
        "network does not combine with namespace_fds"
    );
    assert!(voidbox_tests::processes_with(&mark).is_empty());
}

#[test]
fn labels_without_selinux_are_a_runtime_warning() {
    if vb_proc::selinux_enabled() {
        voidbox_tests::skip(
            "labels_without_selinux_are_a_runtime_warning",
            "SELinux is enabled on this host",
        );
        return;
    }
    let mut cfg = config(&["/bin/true"]);
    cfg.isolation = Namespaces::default();
    cfg.security.exec_label = Some("system_u:system_r:container_t:s0".into());
    let mut session = voidbox::spawn(&cfg).unwrap();
    assert!(session.wait().unwrap().success());
    // Typed for the caller, one sentence for a reader.
    let warnings = session.warnings();
    assert!(
        warnings.iter().any(|w| matches!(
            w,
            voidbox::Warning::LabelIgnored {
                field: "security.exec_label",
                label,
            } if label == "system_u:system_r:container_t:s0"
        )),
        "{warnings:?}"
    );
    assert!(
        warnings[0]
            .to_string()
            .starts_with("security.exec_label \"system_u"),
        "{warnings:?}"
    );
    // On the event stream: one JSON line, the warning's sentence escaped.
    let (read, write) = pipe();
    cfg.status.event_fd = Some(Arc::new(write));
    // Its sentence holds quotes and (Debug-escaped) backslashes.
    cfg.security.exec_label = Some("tab\there\\".into());
    let mut session = voidbox::spawn(&cfg).unwrap();
    assert!(session.wait().unwrap().success());
    let sentence = session.warnings()[0].to_string();
    assert!(sentence.contains(r#""tab\there\\""#), "{sentence}");
    drop(session);
    cfg.status.event_fd = None;
    let stream = read_all(read);
    let first: serde_json::Value = serde_json::from_str(stream.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "runtime_init_warnings", "{stream}");
    assert_eq!(first["count"], 1, "{stream}");
    assert_eq!(first["warnings"][0], sentence, "{stream}");
    cfg.runtime.fail_on_runtime_warnings = true;
    let err = voidbox::launch(&cfg).unwrap_err();
    assert!(matches!(err, Error::RuntimeWarnings(_)), "{err}");
}

/// A command the memory limit ends says so on its exit status and on the
/// `exited` event; one that ends by itself does not.
#[test]
fn the_exit_status_says_when_the_memory_limit_ended_the_command() {
    if voidbox_tests::needs_root("the_exit_status_says_when_the_memory_limit_ended_the_command") {
        return;
    }
    // tail keeps the current line, and /dev/zero has no newline: it grows
    // until the limit's OOM kill.
    // (The host's root, whose /dev is usable; a --rootfs is nodev.)
    let mut cfg = JailConfig {
        cmd: ["/bin/sh", "-c", "exec tail -n 1 /dev/zero"]
            .iter()
            .map(Into::into)
            .collect(),
        ..JailConfig::default()
    };
    cfg.resources.memory_max = Some(32 << 20);
    cfg.resources.memory_swap_max = Some(0);
    let (read, write) = pipe();
    cfg.status.event_fd = Some(Arc::new(write));
    let status = voidbox::launch(&cfg).unwrap();
    cfg.status.event_fd = None;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    assert!(status.killed_by_memory_limit(), "{status:?}");
    assert!(status.limit_events().unwrap().oom_kills.unwrap() >= 1);
    assert_eq!(
        status.to_string(),
        "killed by signal 9 (memory limit reached)"
    );
    let stream = read_all(read);
    let exited: serde_json::Value = serde_json::from_str(stream.lines().last().unwrap()).unwrap();
    assert_eq!(exited["kind"], "exited", "{stream}");
    assert_eq!(exited["oom_killed"], true, "{stream}");
    assert_eq!(exited["pids_limit_reached"], false, "{stream}");

    cfg.cmd = ["/bin/sh", "-c", "exit 3"].iter().map(Into::into).collect();
    let status = voidbox::launch(&cfg).unwrap();
    assert_eq!(status.code(), 3);
    assert!(!status.killed_by_memory_limit(), "{status:?}");
    assert_eq!(status.limit_events().unwrap().oom_kills, Some(0));
    // Without limits there is no cgroup to ask.
    cfg.resources = voidbox::ResourceLimits::default();
    assert_eq!(voidbox::launch(&cfg).unwrap().limit_events(), None);
}

/// The library's PID 1 under the same storm as the CLI's: 1000 mixed
/// signals while children and orphans come and go; no zombie, the right
/// exit code, no hang.
#[test]
fn the_library_sandbox_survives_a_signal_storm() {
    if needs_userns("the_library_sandbox_survives_a_signal_storm") {
        return;
    }
    use std::io::BufRead;
    let mut cfg = config(&["/bin/sh", "-c", voidbox_tests::STORM_SCRIPT]);
    cfg.fs_actions = vec![
        voidbox::FsAction::Proc {
            dest: "/proc".into(),
        },
        voidbox::FsAction::Dev {
            dest: "/dev".into(),
        },
    ];
    cfg.process.stdout = voidbox::Stdio::piped();
    let mut session = voidbox::spawn(&cfg).unwrap();
    let mut lines = std::io::BufReader::new(session.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    voidbox_tests::signal_storm(session.pid());
    let (rest, status) = with_watchdog(Duration::from_secs(60), move || {
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        (rest, session.wait().unwrap())
    });
    assert_eq!(rest, ["zombies=0"]);
    assert_eq!(status.code(), 3);
}

/// The children of thread `tid` of this process (other tests' threads
/// launch meanwhile).
fn children_of_thread(tid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/children"))
        .map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_launch_shares_the_launchers_memory_instead_of_copying_it() {
    // A launch whose parent has nothing to do after the clone does not copy
    // the launcher's memory (its cost would grow with the launcher's size):
    // held at --block-fd during setup, the sandbox's first process shares
    // this process's memory. A launch that does need the parent (here a
    // cgroup limit, which the parent sets up after the clone) copies it.
    if needs_userns("a_launch_shares_the_launchers_memory_instead_of_copying_it") {
        return;
    }
    let mut dev = config(&["/bin/true"]);
    dev.isolation.user = true;
    dev.fs_actions = vec![voidbox::FsAction::Dev {
        dest: "/dev".into(),
    }];
    // A devpts mount: setup as uid 0, the command in a nested user namespace.
    let mut cases = vec![(config(&["/bin/true"]), true), (dev, true)];
    if voidbox_tests::is_root() {
        let mut limited = config(&["/bin/true"]);
        limited.resources.pids_max = Some(64);
        cases.push((limited, false));
    }
    for (case, (mut cfg, shared)) in cases.into_iter().enumerate() {
        let (block_r, block_w) = rustix::pipe::pipe().unwrap();
        cfg.status.block_fd = Some(Arc::new(block_r));
        let tid = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let launcher_tid = Arc::clone(&tid);
        let launcher = std::thread::spawn(move || {
            launcher_tid.store(
                rustix::thread::gettid().as_raw_nonzero().get(),
                Ordering::SeqCst,
            );
            voidbox::launch(&cfg).map(|s| s.code())
        });
        let mut child = None;
        assert!(voidbox_tests::eventually(Duration::from_secs(10), || {
            let tid = tid.load(Ordering::SeqCst);
            child = (tid != 0)
                .then(|| children_of_thread(tid).into_iter().next())
                .flatten();
            child.is_some()
        }));
        // Past the clone: blocked on the descriptor (give it time to get there).
        std::thread::sleep(Duration::from_millis(100));
        let own = i32::try_from(std::process::id()).unwrap();
        let seen = voidbox_tests::share_memory(own, child.unwrap());
        rustix::io::write(&block_w, b"x").unwrap();
        assert_eq!(launcher.join().unwrap().unwrap(), 0);
        assert_eq!(seen, shared, "case {case}");
    }
}

/// Whether this process's memory is dumpable, and whether its own
/// `/proc/self/setgroups` belongs to it (the kernel gives the files of a
/// not-dumpable process to root, which is how a wrongly cleared flag shows).
fn launcher_dumpable() -> (i32, bool) {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: PR_GET_DUMPABLE reads a flag.
    let flag = unsafe { libc::prctl(libc::PR_GET_DUMPABLE) };
    let owner = std::fs::metadata("/proc/self/setgroups").unwrap().uid();
    (flag, owner == rustix::process::geteuid().as_raw())
}

#[test]
fn a_launch_never_clears_the_launchers_dumpable_flag() {
    // A launch that shares this process's memory must never change the
    // memory's dumpable flag: not when the command gets a nested user
    // namespace (disable_userns; a devpts mount, which runs setup as uid 0),
    // and not through a credential change. A cleared flag would hand this
    // process's /proc files to root and fail every later launch.
    if needs_userns("a_launch_never_clears_the_launchers_dumpable_flag") {
        return;
    }
    let before = launcher_dumpable();
    assert_eq!(before, (1, true), "the test starts dumpable");
    let mut nested = config(&["/bin/true"]);
    nested.isolation.user = true;
    nested.security.disable_userns = true;
    let mut dev = config(&["/bin/sh", "-c", "test -c /dev/null && test -d /dev/pts"]);
    dev.isolation.user = true;
    dev.fs_actions = vec![voidbox::FsAction::Dev {
        dest: "/dev".into(),
    }];
    for (name, cfg) in [
        ("plain", config(&["/bin/true"])),
        ("disable_userns", nested),
        ("dev", dev),
    ] {
        for round in 0..3 {
            assert_eq!(
                voidbox::launch(&cfg).map(|s| s.code()).unwrap(),
                0,
                "{name} round {round}"
            );
            assert_eq!(launcher_dumpable(), before, "after {name} round {round}");
        }
    }
}
