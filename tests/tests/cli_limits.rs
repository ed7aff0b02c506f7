//! Resource limits through `vb`: enforced, read back, warned about, and
//! cleaned up — no cgroup directory is left after success, failure, or a
//! SIGKILL of vb (the next start sweeps it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use voidbox_tests::{
    MARK_VAR, Marked, eventually, needs_root, processes_with_env, run_vb, stderr, stdout, vb,
};

/// Every directory under /sys/fs/cgroup (to depth 6) whose name starts with
/// `voidbox-` and names `owner` as its creating pid (any owner when `None`).
fn sandbox_cgroups(owner: Option<u32>) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, owner: Option<u32>, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix("voidbox-") {
                // voidbox-<pidns>-<pid>-<starttime>-<seq>
                let pid = rest.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
                if owner.is_none() || pid == owner {
                    out.push(path.clone());
                }
            }
            if depth > 0 {
                walk(&path, depth - 1, owner, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), 6, owner, &mut out);
    out
}

/// Run vb with `args`; its output and its pid (the owner named in its cgroups).
fn run_owned(args: &[&str]) -> (std::process::Output, u32) {
    let child = vb(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    (child.wait_with_output().unwrap(), pid)
}

/// The lines vb itself wrote to stderr (the command's own, such as a
/// python launcher's complaints, are not vb's).
fn vb_lines(out: &std::process::Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("vb: ") || l.starts_with("bwrap: "))
        .map(str::to_owned)
        .collect()
}

/// Run `script` with python3 as the sandbox's pid 1 under `limits`; assert
/// that vb's cgroups are gone afterwards.
fn python(limits: &[&str], script: &str) -> std::process::Output {
    let mut args = vec!["--rootfs", "/", "--unshare-pid", "--as-pid-1"];
    args.extend_from_slice(limits);
    args.extend_from_slice(&["--", "python3", "-c", script]);
    let (out, pid) = run_owned(&args);
    assert!(
        sandbox_cgroups(Some(pid)).is_empty(),
        "cgroups left: {:?}",
        sandbox_cgroups(Some(pid))
    );
    out
}

const FORK_UNTIL_REFUSED: &str = "
import os, signal, time
kids = []
try:
    while len(kids) < 20:
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
    print('forks', len(kids), 'errno', 0)
except OSError as e:
    print('forks', len(kids), 'errno', e.errno)
for k in kids:
    os.kill(k, signal.SIGKILL)
    os.waitpid(k, 0)
";

#[test]
fn pids_max_8_refuses_the_eighth_process() {
    if needs_root("pids_max_8_refuses_the_eighth_process") {
        return;
    }
    // The command is the first task; under pids.max 8 it can fork 7 more, and
    // the fork that would make an eighth-plus-one fails with EAGAIN.
    let out = python(&["--pids-max", "8"], FORK_UNTIL_REFUSED);
    assert_eq!(
        stdout(&out),
        format!("forks 7 errno {}", libc::EAGAIN),
        "{}",
        stderr(&out)
    );
    // The command coped: vb adds nothing. When it fails after a refusal,
    // one line says which limit refused it.
    assert_eq!(vb_lines(&out), Vec::<String>::new());
    let failing = format!("{FORK_UNTIL_REFUSED}\nraise SystemExit(1)");
    let out = python(&["--pids-max", "8"], &failing);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        vb_lines(&out),
        ["vb: the command was refused new processes: process limit 8 reached"]
    );
    let out = python(&[], FORK_UNTIL_REFUSED);
    assert_eq!(
        stdout(&out),
        "forks 20 errno 0",
        "unlimited without the option"
    );
}

#[test]
fn memory_max_32m_oom_kills_a_64m_allocation() {
    if needs_root("memory_max_32m_oom_kills_a_64m_allocation") {
        return;
    }
    let alloc = "b = bytearray(64 << 20); print(len(b))";
    let out = python(&["--memory-max", "32M"], alloc);
    assert_eq!(
        out.status.code(),
        Some(137),
        "killed by SIGKILL: {}",
        stderr(&out)
    );
    // vb says why, in one line.
    assert_eq!(
        vb_lines(&out),
        ["vb: the command was killed: memory limit 32 MiB reached"]
    );
    // Killed by a signal of its own: no such line.
    // (Not as pid 1, which ignores a SIGKILL sent from inside.)
    let (out, _) = run_owned(&[
        "--rootfs",
        "/",
        "--unshare-pid",
        "--memory-max",
        "32M",
        "--",
        "sh",
        "-c",
        "kill -KILL $$",
    ]);
    assert_eq!(out.status.code(), Some(137));
    assert_eq!(vb_lines(&out), Vec::<String>::new());
    // Invoked as bwrap, vb adds nothing to bubblewrap's output.
    let dir = std::env::temp_dir().join(voidbox_tests::marker("bwrap-name"));
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(voidbox_tests::vb_bin(), dir.join("bwrap")).unwrap();
    let out = std::process::Command::new(dir.join("bwrap"))
        .args([
            "--rootfs",
            "/",
            "--unshare-pid",
            "--as-pid-1",
            "--memory-max",
            "32M",
        ])
        .args(["--", "python3", "-c", alloc])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(137));
    assert_eq!(vb_lines(&out), Vec::<String>::new());
    let out = python(&["--memory-max", "128M"], alloc);
    assert_eq!(
        stdout(&out),
        (64 << 20).to_string(),
        "fits under a larger limit"
    );
}

#[test]
fn cpu_max_half_gives_about_half_a_cpu() {
    if needs_root("cpu_max_half_gives_about_half_a_cpu") {
        return;
    }
    // CPU time of a 2 s busy loop over its wall time.
    let busy = "
import os, time
t = time.time()
while time.time() - t < 2:
    pass
c = os.times()
print((c.user + c.system) / (time.time() - t))
";
    let out = python(&["--cpu-max", "50000/100000"], busy);
    let share: f64 = stdout(&out).parse().unwrap();
    assert!((0.3..=0.7).contains(&share), "cpu share {share}");
}

#[test]
fn limits_read_back_from_the_cgroup_files() {
    if needs_root("limits_read_back_from_the_cgroup_files") {
        return;
    }
    // Each v1 controller's cgroup path from /proc/self/cgroup, then its file.
    let script = "path() { awk -F: -v c=\"$1\" '{n=split($2,a,\",\"); for(i=1;i<=n;i++) if(a[i]==c) print $3}' /proc/self/cgroup; }; \
                  cat /sys/fs/cgroup/pids$(path pids)/pids.max \
                      /sys/fs/cgroup/memory$(path memory)/memory.limit_in_bytes \
                      /sys/fs/cgroup/cpu$(path cpu)/cpu.cfs_quota_us \
                      /sys/fs/cgroup/cpu$(path cpu)/cpu.cfs_period_us";
    let (out, pid) = run_owned(&[
        "--rootfs",
        "/",
        "--pids-max",
        "42",
        "--memory-max",
        "64M",
        "--cpu-max",
        "25000/100000",
        "--",
        "/bin/sh",
        "-c",
        script,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        vec![
            "42".to_owned(),
            (64u64 << 20).to_string(),
            "25000".into(),
            "100000".into()
        ]
    );
    assert!(sandbox_cgroups(Some(pid)).is_empty());
}

#[test]
fn bad_limits_are_refused_with_nothing_created() {
    for (args, start) in [
        (
            &["--memory-max", "banana"][..],
            "vb: Invalid --memory-max value \"banana\": ",
        ),
        (
            &["--pids-max", "0"][..],
            "vb: Invalid --pids-max value \"0\": ",
        ),
        (
            &["--pids-max", "-1"][..],
            "vb: Invalid --pids-max value \"-1\": ",
        ),
        (
            &["--cpu-max", "200000/100000000"][..],
            "vb: Invalid --cpu-max value",
        ),
        (&["--cpu-weight", "0"][..], "vb: Invalid --cpu-weight value"),
    ] {
        let mut full = vec!["--rootfs", "/"];
        full.extend_from_slice(args);
        full.push("true");
        let (out, pid) = run_owned(&full);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).starts_with(start),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(sandbox_cgroups(Some(pid)).is_empty());
    }
}

#[test]
fn warnings_print_and_fail_on_warnings_makes_them_fatal() {
    if needs_root("warnings_print_and_fail_on_warnings_makes_them_fatal") {
        return;
    }
    // A quota of 50 CPUs on this machine never binds: a warning, not an error.
    let out = run_vb([
        "--rootfs",
        "/",
        "--cpu-max",
        "5000000",
        "--",
        "/bin/echo",
        "ran",
    ]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "ran");
    assert!(stderr(&out).starts_with("vb: cpu_max"), "{}", stderr(&out));
    let (out, pid) = run_owned(&[
        "--rootfs",
        "/",
        "--cpu-max",
        "5000000",
        "--fail-on-warnings",
        "--",
        "/bin/echo",
        "ran",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "", "the command must not run");
    assert!(
        stderr(&out).contains("refusing to run with 1 runtime warning"),
        "{}",
        stderr(&out)
    );
    assert!(sandbox_cgroups(Some(pid)).is_empty());
}

#[test]
fn no_cgroup_is_left_after_failure_or_a_sigkill_of_vb() {
    if needs_root("no_cgroup_is_left_after_failure_or_a_sigkill_of_vb") {
        return;
    }
    let (out, pid) = run_owned(&["--rootfs", "/", "--pids-max", "10", "/nonexistent/command"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        sandbox_cgroups(Some(pid)).is_empty(),
        "left after a failed exec"
    );

    let mark = Marked::new("cgkill");
    let mut child = vb([
        "--rootfs",
        "/",
        "--pids-max",
        "10",
        "--",
        "/bin/sleep",
        "1000",
    ])
    .env(MARK_VAR, &*mark)
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let vb_pid = child.id();
    assert!(eventually(Duration::from_secs(10), || processes_with_env(
        &mark
    )
    .len()
        >= 2));
    // The cloned child carries the mark before its cgroup exists (on a v1
    // host the cgroup is made while the child sets itself up).
    assert!(
        eventually(Duration::from_secs(10), || !sandbox_cgroups(Some(vb_pid))
            .is_empty()),
        "the sandbox has a cgroup"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // The next start sweeps the dead owner's cgroup and kills what it held.
    let out = run_vb(["--rootfs", "/", "--pids-max", "10", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        sandbox_cgroups(Some(vb_pid)).is_empty(),
        "the sweep removes it"
    );
    assert!(eventually(Duration::from_secs(5), || processes_with_env(
        &mark
    )
    .is_empty()));
}

#[test]
fn unshare_cgroup_roots_the_namespace_at_the_sandboxs_cgroup() {
    if needs_root("unshare_cgroup_roots_the_namespace_at_the_sandboxs_cgroup") {
        return;
    }
    let pids_line = |args: &[&str]| {
        let mut full = vec!["--rootfs", "/", "--pids-max", "10"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--", "/bin/sh", "-c", "grep ':pids:' /proc/self/cgroup"]);
        let (out, _) = run_owned(&full);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    assert!(
        pids_line(&[]).contains("/voidbox-"),
        "without a cgroup namespace the path shows"
    );
    let rooted = pids_line(&["--unshare-cgroup"]);
    assert!(
        rooted.ends_with(":pids:/"),
        "rooted at its own cgroup: {rooted}"
    );
}

#[test]
fn processes_left_in_the_cgroup_are_killed_when_the_sandbox_ends() {
    if needs_root("processes_left_in_the_cgroup_are_killed_when_the_sandbox_ends") {
        return;
    }
    // Without a PID namespace a background process outlives the command; the
    // sandbox's cgroup still holds it, and removing the cgroup kills it.
    let mark = Marked::new("cgleft");
    let out = vb([
        "--rootfs",
        "/",
        "--pids-max",
        "10",
        "--",
        "/bin/sh",
        "-c",
        "sleep 1000 & echo started",
    ])
    .env(MARK_VAR, &*mark)
    .output()
    .unwrap();
    assert_eq!(stdout(&out), "started", "{}", stderr(&out));
    assert!(eventually(Duration::from_secs(5), || processes_with_env(
        &mark
    )
    .is_empty()));
}
