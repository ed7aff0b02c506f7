//! bubblewrap's monitoring descriptors and lock files through `vb`: a lock
//! held for the sandbox's life and released when it ends (also when vb is
//! killed under `--die-with-parent`), `--sync-fd` end-of-file, `--block-fd`
//! holding the command back, and `--userns-block-fd` with id maps written by
//! the caller; voidbox's own `--event-fd` stream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use voidbox_tests::{
    MARK_VAR, Marked, eventually, is_root, needs_userns, processes_with_env, skip, vb, with_fds,
    with_watchdog,
};

/// The pid holding a lock on `path` that conflicts with a write lock, if any
/// (`F_GETLK` from this process).
fn lock_holder(path: &std::path::Path) -> Option<i32> {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    // SAFETY: an all-zero flock is valid; the fields are set below.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::c_short::try_from(libc::F_WRLCK).unwrap();
    lock.l_whence = libc::c_short::try_from(libc::SEEK_SET).unwrap();
    // SAFETY: F_GETLK fills `lock` for an open descriptor.
    let ret = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &raw mut lock) };
    assert_eq!(ret, 0);
    (i32::from(lock.l_type) != libc::F_UNLCK).then_some(lock.l_pid)
}

fn scratch(name: &str) -> std::path::PathBuf {
    voidbox_tests::shared_tempdir("monitoring", name)
}

#[test]
fn a_lock_file_is_held_while_the_sandbox_runs_and_released_after_sigkill() {
    let dir = scratch("lock");
    let lock = dir.join("lock");
    std::fs::write(&lock, b"").unwrap();
    let lock_str = lock.to_str().unwrap();
    for extra in [&[][..], &["--unshare-pid"][..]] {
        if !extra.is_empty() && needs_userns("a_lock_file_is_held_while_the_sandbox_runs") {
            break;
        }
        let mark = Marked::new("lock");
        let mut args = vec!["--ro-bind", "/", "/", "--die-with-parent"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--lock-file", lock_str, "--", "/bin/sleep", "1000"]);
        let mut child = vb(&args)
            .env(MARK_VAR, &*mark)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(
            eventually(Duration::from_secs(10), || lock_holder(&lock).is_some()),
            "no lock taken ({extra:?})"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            eventually(Duration::from_secs(5), || lock_holder(&lock).is_none()
                && processes_with_env(&mark).is_empty()),
            "lock still held after SIGKILL of vb ({extra:?}): {:?}",
            lock_holder(&lock)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_sync_fd_sees_end_of_file_only_when_the_sandbox_ends() {
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let mut cmd = vb([
        "--ro-bind",
        "/",
        "/",
        "--sync-fd",
        "3",
        "--",
        "/bin/sh",
        "-c",
        "sleep 0.3",
    ]);
    cmd.stdout(Stdio::null());
    let started = Instant::now();
    let mut child = with_fds(&mut cmd, &[(3, write.as_raw_fd())])
        .spawn()
        .unwrap();
    drop(write);
    let waited = with_watchdog(Duration::from_secs(20), move || {
        let mut buf = [0u8; 1];
        let n = rustix::io::read(&read, &mut buf).unwrap();
        (n, started.elapsed())
    });
    assert_eq!(waited.0, 0, "end-of-file");
    assert!(
        waited.1 >= Duration::from_millis(250),
        "end-of-file came before the sandbox ended: {:?}",
        waited.1
    );
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_command_waits_for_the_block_fd() {
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let dir = scratch("block");
    let flag = dir.join("ran");
    let script = format!("touch {}", flag.display());
    let mut cmd = vb([
        "--bind",
        "/",
        "/",
        "--block-fd",
        "3",
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]);
    let mut child = with_fds(&mut cmd, &[(3, read.as_raw_fd())])
        .spawn()
        .unwrap();
    drop(read);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !flag.exists(),
        "the command ran before the block descriptor allowed it"
    );
    rustix::io::write(&write, b"x").unwrap();
    assert!(child.wait().unwrap().success());
    assert!(flag.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn userns_block_fd_lets_the_caller_write_the_id_maps() {
    // The caller (as newuidmap would) reads the child's pid from --info-fd,
    // writes its maps, then releases it.
    if !is_root() {
        skip(
            "userns_block_fd_lets_the_caller_write_the_id_maps",
            "writing another process's id maps with a range needs root",
        );
        return;
    }
    let (info_r, info_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let (block_r, block_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
    let mut cmd = vb([
        "--ro-bind",
        "/",
        "/",
        "--unshare-user",
        "--info-fd",
        "3",
        "--userns-block-fd",
        "4",
        "--",
        "/bin/sh",
        "-c",
        "cat /proc/self/uid_map; id -u",
    ]);
    cmd.stdout(Stdio::piped());
    let child = with_fds(
        &mut cmd,
        &[(3, info_w.as_raw_fd()), (4, block_r.as_raw_fd())],
    )
    .spawn()
    .unwrap();
    drop((info_w, block_r));
    let mut info = String::new();
    std::fs::File::from(info_r)
        .read_to_string(&mut info)
        .unwrap();
    let pid: i32 = info
        .split("\"child-pid\": ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("child-pid in the info");
    // A map only a privileged helper may write: a range, besides the caller.
    std::fs::write(format!("/proc/{pid}/uid_map"), "0 0 1\n1 100000 999\n").unwrap();
    std::fs::write(format!("/proc/{pid}/gid_map"), "0 0 1\n1 100000 999\n").unwrap();
    rustix::io::write(&block_w, b"x").unwrap();
    drop(block_w);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields, ["0", "0", "1", "1", "100000", "999", "0"], "{text}");
}

#[test]
fn a_fifo_at_a_lock_file_path_does_not_hang_setup() {
    // A previous sandbox could plant a FIFO where the lock file should be;
    // opening it must not wait for a writer.
    let dir = scratch("fifo");
    let fifo = dir.join("lock");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o666) }, 0);
    let lock = fifo.to_str().unwrap().to_owned();
    let status = with_watchdog(Duration::from_secs(20), move || {
        vb([
            "--ro-bind",
            "/",
            "/",
            "--lock-file",
            &lock,
            "--",
            "/bin/true",
        ])
        .status()
        .unwrap()
    });
    assert!(status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--event-fd FD`: voidbox's events as JSON lines, in order, with monotonic
/// times, the setup duration and the exit status. The descriptor never
/// reaches the command. (The library suite covers `runtime_init_warnings`.)
#[test]
fn event_fd_streams_the_events_as_json_lines() {
    let (read, write) = rustix::pipe::pipe().unwrap();
    let mut cmd = vb([
        "--rootfs",
        "/",
        "--event-fd",
        "7",
        "--",
        "/bin/sh",
        "-c",
        "echo forged >&7 || exit 3",
    ]);
    with_fds(&mut cmd, &[(7, write.as_raw_fd())]);
    let out = cmd.output().unwrap();
    drop(write);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        voidbox_tests::stderr(&out)
    );
    let mut text = String::new();
    std::fs::File::from(read).read_to_string(&mut text).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["spawned", "setup_finished", "exited"], "{text}");
    let at: Vec<u64> = events
        .iter()
        .map(|e| e["at_ns"].as_u64().unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{text}");
    let (finished, exited) = (&events[1], &events[2]);
    let setup = finished["setup_ns"].as_u64().unwrap();
    assert!(
        setup > 0 && setup <= finished["at_ns"].as_u64().unwrap(),
        "{text}"
    );
    assert_eq!(exited["exit_code"], 3, "{text}");
    assert!(exited["signal"].is_null(), "{text}");
    let pid = events[0]["pid"].as_i64().unwrap();
    assert!(
        pid > 0 && finished["pid"] == pid && exited["pid"] == pid,
        "{text}"
    );
    assert!(!text.contains("forged"), "{text}");
}

/// A bad `--event-fd` is refused before anything runs.
#[test]
fn event_fd_refuses_a_closed_descriptor() {
    let out = vb(["--rootfs", "/", "--event-fd", "57", "--", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        voidbox_tests::stderr(&out).trim_end(),
        "vb: --event-fd: Bad file descriptor"
    );
}

/// `--verbose`: each setup step on stderr as it ends, with its duration,
/// then the whole setup's; on the event stream as `setup_step` events in
/// the order they happen, the child's setup last before `setup_finished`.
#[test]
fn verbose_reports_each_setup_step_with_its_duration() {
    let (read, write) = rustix::pipe::pipe().unwrap();
    let mut cmd = vb([
        "--verbose",
        "--rootfs",
        "/",
        "--tmpfs",
        "/tmp",
        "--event-fd",
        "7",
        "--",
        "/bin/true",
    ]);
    with_fds(&mut cmd, &[(7, write.as_raw_fd())]);
    let out = cmd.output().unwrap();
    drop(write);
    let err = voidbox_tests::stderr(&out);
    assert!(out.status.success(), "{err}");
    let steps: Vec<(&str, f64)> = err
        .lines()
        .filter_map(|l| l.strip_prefix("vb: setup: "))
        .filter_map(|l| {
            let (name, rest) = l
                .split_once(" took ")
                .or_else(|| l.split_once("finished in "))?;
            Some((name, rest.strip_suffix(" ms")?.parse().ok()?))
        })
        .collect();
    let names: Vec<&str> = steps.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "filesystem plan",
            "process plan",
            "clone",
            "child setup",
            ""
        ],
        "{err}"
    );
    assert!(
        steps.iter().all(|(_, ms)| *ms >= 0.0 && *ms < 60_000.0),
        "{err}"
    );
    let total = steps.last().unwrap().1;
    assert!(
        steps[..4].iter().map(|(_, ms)| ms).sum::<f64>() <= total + 0.01,
        "{err}"
    );
    let mut text = String::new();
    std::fs::File::from(read).read_to_string(&mut text).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            match v["step"].as_str() {
                Some(step) => format!("step:{step}"),
                None => v["kind"].as_str().unwrap().to_owned(),
            }
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "step:filesystem plan",
            "step:process plan",
            "step:clone",
            "spawned",
            "step:child setup",
            "setup_finished",
            "exited"
        ],
        "{text}"
    );
    // Without --verbose, nothing of it.
    let quiet = vb(["--rootfs", "/", "--", "/bin/true"]).output().unwrap();
    assert_eq!(voidbox_tests::stderr(&quiet), "");
}
