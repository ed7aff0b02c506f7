//! vb against Debian's bubblewrap 0.8.0: the same filesystem options give the
//! same exit status, the same messages and the same visible tree (`find
//! -printf '%p %m %y %s'`, file contents, `findmnt -o TARGET,FSTYPE,OPTIONS`
//! of the sandbox's own mounts). Runs as root and unprivileged (where both
//! tools imply a user namespace). Behaviour 0.8.0 lacks or where vb
//! deliberately differs is checked in `fs_actions.rs` against the documented
//! behaviour instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fs_support;

use fs_support::{Run, Scratch, Tool, args, bwrap_available, run_inspect, run_with, skip};

/// Skip unless bubblewrap is there and works here (as this user).
fn usable(test: &str) -> bool {
    if !bwrap_available() {
        return !skip(
            test,
            "bwrap is not installed (apt-get install -y bubblewrap)",
        );
    }
    let probe = run_with(Tool::Bwrap, &args(&["--ro-bind", "/", "/"]), &[], &["true"]);
    if probe.code != Some(0) {
        return !skip(test, &format!("bwrap does not run here: {}", probe.stderr));
    }
    true
}

/// Findmnt lists a covered mount and the one covering it; bubblewrap leaves
/// covered submounts of a read-only bind writable (nothing can reach them),
/// vb makes them read-only too. Compare what is reachable: the last mount
/// listed at each target.
fn reachable(run: &Run) -> Run {
    let mut lines: Vec<String> = Vec::new();
    for line in run.stdout.lines() {
        let target = line.split(' ').next().unwrap_or_default();
        let mount_line = line.split(' ').count() == 3 && target.starts_with('/');
        if mount_line
            && let Some(i) = lines
                .iter()
                .position(|l| l.split(' ').count() == 3 && l.split(' ').next() == Some(target))
        {
            lines.remove(i);
        }
        lines.push(line.to_owned());
    }
    Run {
        code: run.code,
        stdout: lines.join("\n"),
        stderr: run.stderr.clone(),
    }
}

/// Run both tools and require the same outcome.
fn same(test: &str, scratch: &Scratch, fs_args: &[String], fds: &[&str], paths: &[&str]) {
    let fds: Vec<std::path::PathBuf> = fds.iter().map(|f| scratch.join(f)).collect();
    let fds: Vec<&std::path::Path> = fds.iter().map(std::path::PathBuf::as_path).collect();
    let bwrap = reachable(&run_inspect(Tool::Bwrap, fs_args, &fds, paths));
    let vb = reachable(&run_inspect(Tool::Vb, fs_args, &fds, paths));
    assert_eq!(
        vb.code, bwrap.code,
        "{test}: exit status\nvb: {vb:#?}\nbwrap: {bwrap:#?}"
    );
    assert_eq!(vb.stderr, bwrap.stderr, "{test}: messages");
    let (v, b): (Vec<&str>, Vec<&str>) =
        (vb.stdout.lines().collect(), bwrap.stdout.lines().collect());
    if v != b {
        let only_vb: Vec<&&str> = v.iter().filter(|l| !b.contains(l)).collect();
        let only_bwrap: Vec<&&str> = b.iter().filter(|l| !v.contains(l)).collect();
        panic!("{test}: trees differ\nonly vb: {only_vb:#?}\nonly bwrap: {only_bwrap:#?}");
    }
}

fn scratch(test: &str) -> Scratch {
    let s = Scratch::new(test);
    s.populate();
    s
}

#[test]
fn bind_ro_bind_dev_bind_and_their_parents() {
    let test = "bind_ro_bind_dev_bind_and_their_parents";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let src = s.s("src");
    same(test, &s, &args(&["--bind", &src, "/a"]), &[], &["/a"]);
    same(
        test,
        &s,
        &args(&["--ro-bind", &src, "/a/b/c"]),
        &[],
        &["/a"],
    );
    same(test, &s, &args(&["--dev-bind", &src, "/d"]), &[], &["/d"]);
    let file = s.s("src/file");
    same(
        test,
        &s,
        &args(&["--ro-bind", &file, "/etc/f"]),
        &[],
        &["/etc"],
    );
}

#[test]
fn try_binds_skip_missing_sources_and_create_nothing() {
    let test = "try_binds_skip_missing_sources_and_create_nothing";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let src = s.s("src");
    let fs = args(&[
        "--bind-try",
        "/nonexistent/a",
        "/x/y",
        "--ro-bind-try",
        &src,
        "/ro",
        "--dev-bind-try",
        "/nonexistent/b",
        "/z",
    ]);
    same(test, &s, &fs, &[], &["/"]);
}

#[test]
fn read_only_binds_are_read_only_on_every_submount() {
    let test = "read_only_binds_are_read_only_on_every_submount";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    // Host trees with submounts: /sys (cgroup hierarchies below) and /dev.
    same(test, &s, &args(&["--ro-bind", "/sys", "/s"]), &[], &[]);
    same(
        test,
        &s,
        &args(&["--ro-bind", "/dev", "/d", "--bind", "/dev", "/w"]),
        &[],
        &[],
    );
}

#[test]
fn bind_fd_and_ro_bind_fd() {
    let test = "bind_fd_and_ro_bind_fd";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let fs = args(&["--bind-fd", "3", "/fd", "--ro-bind-fd", "4", "/deep/rofd"]);
    same(test, &s, &fs, &["src", "src/sub"], &["/fd", "/deep"]);
}

#[test]
fn remount_ro_is_not_recursive() {
    let test = "remount_ro_is_not_recursive";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let src = s.s("src");
    let fs = args(&[
        "--bind",
        &src,
        "/a",
        "--tmpfs",
        "/a/sub",
        "--remount-ro",
        "/a",
    ]);
    same(test, &s, &fs, &[], &["/a"]);
}

#[test]
fn proc_shared_and_own_pid_namespace() {
    let test = "proc_shared_and_own_pid_namespace";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    same(test, &s, &args(&["--proc", "/p/q"]), &[], &[]);
    same(
        test,
        &s,
        &args(&["--unshare-pid", "--proc", "/p/q"]),
        &[],
        &[],
    );
}

#[test]
fn dev_is_bubblewraps_minimal_dev() {
    let test = "dev_is_bubblewraps_minimal_dev";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    same(test, &s, &args(&["--dev", "/dev"]), &[], &["/dev"]);
    same(test, &s, &args(&["--dev", "/x/dev"]), &[], &["/x"]);
}

#[test]
fn tmpfs_with_size_and_perms() {
    let test = "tmpfs_with_size_and_perms";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let fs = args(&[
        "--size", "1048576", "--perms", "0700", "--tmpfs", "/t", "--tmpfs", "/t2", "--perms",
        "01777", "--tmpfs", "/deep/t3", "--size", "0x100000", "--tmpfs", "/t4",
    ]);
    same(test, &s, &fs, &[], &["/t", "/t2", "/deep", "/t4"]);
}

#[test]
fn mqueue() {
    let test = "mqueue";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    same(
        test,
        &s,
        &args(&["--unshare-ipc", "--mqueue", "/mq"]),
        &[],
        &["/mq"],
    );
    // Without an IPC namespace of its own an unprivileged sandbox may not
    // mount one: both fail the same way.
    same(
        test,
        &s,
        &args(&["--mqueue", "/dev/mqueue"]),
        &[],
        &["/dev"],
    );
}

#[test]
fn dir_with_perms_and_masked_parents() {
    let test = "dir_with_perms_and_masked_parents";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let fs = args(&[
        "--perms", "0700", "--dir", "/a/b/c", "--dir", "/d", "--perms", "0750", "--dir", "/e/f",
        "--perms", "0705", "--dir", "/g/h", "--dir", "/d", "--dir", "/i/j/",
    ]);
    same(test, &s, &fs, &[], &["/a", "/d", "/e", "/g", "/i"]);
}

#[test]
fn file_bind_data_and_ro_bind_data() {
    let test = "file_bind_data_and_ro_bind_data";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let fs = args(&[
        "--file", "3", "/etc/f", "--perms", "0640", "--file", "4", "/x/y/f",
    ]);
    same(test, &s, &fs, &["data.txt", "data2.txt"], &["/etc", "/x"]);
    let fs = args(&[
        "--bind-data",
        "3",
        "/etc/f",
        "--perms",
        "0644",
        "--ro-bind-data",
        "4",
        "/x/y/f",
    ]);
    same(test, &s, &fs, &["data.txt", "data2.txt"], &["/etc", "/x"]);
}

#[test]
fn symlinks_and_chmod() {
    let test = "symlinks_and_chmod";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let fs = args(&[
        "--symlink",
        "../x",
        "/a/l",
        "--symlink",
        "/abs",
        "/b",
        "--dir",
        "/c",
        "--chmod",
        "0700",
        "/c",
        "--file",
        "3",
        "/f",
        "--chmod",
        "04755",
        "/f",
    ]);
    same(test, &s, &fs, &["data.txt"], &["/a", "/b", "/c", "/f"]);
}

#[test]
fn consumed_descriptors_are_closed_before_the_command() {
    let test = "consumed_descriptors_are_closed_before_the_command";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let mut full: Vec<String> = fs_support::base();
    full.extend(args(&[
        "--file",
        "3",
        "/f",
        "--bind-data",
        "4",
        "/g",
        "--ro-bind-fd",
        "5",
        "/h",
    ]));
    let fds = [
        s.join("data.txt"),
        s.join("data2.txt"),
        s.join("src"),
        s.join("src"),
    ];
    let fds: Vec<&std::path::Path> = fds.iter().map(std::path::PathBuf::as_path).collect();
    let ls = [
        "sh",
        "-c",
        "ls /proc/self/fd | LC_ALL=C sort | tr '\\n' ' '",
    ];
    let vb = run_with(Tool::Vb, &full, &fds, &ls);
    let bwrap = run_with(Tool::Bwrap, &full, &fds, &ls);
    assert_eq!(vb, bwrap);
    assert_eq!(vb.code, Some(0), "{vb:?}");
}

#[test]
fn stacked_mounts_and_creation_inside_them() {
    let test = "stacked_mounts_and_creation_inside_them";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let src = s.s("src");
    let fs = args(&[
        "--tmpfs",
        "/m",
        "--tmpfs",
        "/m",
        "--dir",
        "/m/x",
        "--bind",
        &src,
        "/m/x/src",
        "--symlink",
        "x/src/file",
        "/m/f",
    ]);
    same(test, &s, &fs, &[], &["/m"]);
}

#[test]
fn bad_input_gives_bubblewraps_message_and_status() {
    let test = "bad_input_gives_bubblewraps_message_and_status";
    if !usable(test) {
        return;
    }
    let s = scratch(test);
    let src = s.s("src");
    let cases: Vec<Vec<String>> = vec![
        args(&["--bind", "/nonexistent/src", "/x"]),
        args(&["--ro-bind", "/nonexistent/src", "/x"]),
        args(&["--chmod", "0700", "/nope"]),
        args(&["--file", "55", "/f"]),
        args(&["--bind-data", "55", "/f"]),
        args(&["--bind-fd", "55", "/f"]),
        args(&["--remount-ro", "/nope"]),
        // An absolute symlink leading out of the new root: bubblewrap
        // resolves it against its setup root, vb inside the new root; both
        // find nothing there.
        args(&[
            "--tmpfs",
            "/t",
            "--symlink",
            "/etc",
            "/t/l",
            "--dir",
            "/t/l/x",
        ]),
        args(&["--file", "3", "/f", "--dir", "/f/x"]),
        args(&["--file", "3", "/f", "--bind", &src, "/f/x"]),
        args(&["--dir", "/d", "--ro-bind", &s.s("data.txt"), "/d"]),
        args(&["--size", "0", "--tmpfs", "/t"]),
        args(&["--size", "1k", "--tmpfs", "/t"]),
        args(&["--size", "10", "--size", "10", "--tmpfs", "/t"]),
        args(&["--perms", "0700", "--perms", "0700", "--dir", "/t"]),
        args(&["--perms", "0700", "--bind", "/", "/x"]),
        args(&["--size", "10", "--dir", "/t"]),
        args(&["--perms", "8", "--dir", "/t"]),
        args(&["--chmod", "8", "/t"]),
        args(&["--size", "9223372036854775808", "--tmpfs", "/t"]),
    ];
    for fs in cases {
        same(test, &s, &fs, &["data.txt"], &["/"]);
    }
}

#[test]
fn console_is_bound_when_stdout_is_a_terminal() {
    let test = "console_is_bound_when_stdout_is_a_terminal";
    if !usable(test) {
        return;
    }
    if !std::path::Path::new("/usr/bin/script").exists() {
        skip(test, "script(1) is not installed (util-linux)");
        return;
    }
    // script(1) gives the tool a pseudo-terminal as stdout.
    let inner = "find /dev -printf '%p %m %y %s\\n' | LC_ALL=C sort; \
                 findmnt -rn -o TARGET,FSTYPE /dev/console; tty";
    let run = |tool: Tool| {
        let mut words = vec![tool.program().display().to_string()];
        words.extend(fs_support::base());
        words.extend(args(&["--dev", "/dev", "sh", "-c"]));
        let quoted: Vec<String> = words
            .iter()
            .map(|w| format!("'{w}'"))
            .chain([format!("\"{inner}\"")])
            .collect();
        let out = std::process::Command::new("/usr/bin/script")
            .args(["-qec", &quoted.join(" "), "/dev/null"])
            .current_dir("/")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    };
    let vb = run(Tool::Vb);
    assert_eq!(vb, run(Tool::Bwrap));
    assert!(vb.contains("/dev/console devpts"), "{vb}");
}
