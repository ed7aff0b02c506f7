//! What vb prints about itself: the usage text (`--help` on stdout, and on
//! stderr when there is no command) naming the program as it was invoked,
//! and `--level-prefix`, which marks the messages printed after it, as
//! bubblewrap 0.11 does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use voidbox_tests::{marker, run_vb, stderr, stdout, vb, vb_bin};

/// vb's options that bubblewrap lacks, listed after bubblewrap's.
const VOIDBOX_OPTIONS: &[&str] = &[
    "--rootfs",
    "--rootfs-dev",
    "--rootfs-suid",
    "--pivot-root",
    "--no-pivot-root",
    "--chroot",
    "--memory-max",
    "--memory-swap-max",
    "--cpu-max",
    "--cpu-weight",
    "--pids-max",
    "--io-weight",
    "--fail-on-warnings",
    "--seccomp-deny",
    "--seccomp-policy",
    "--seccomp-default",
    "--rlimit",
    "--landlock-ro",
    "--landlock-rw",
    "--landlock-exec",
    "--landlock-tcp-bind",
    "--landlock-tcp-connect",
    "--landlock-strict",
    "--allow-tiocsti",
    "--netns",
    "--net-bridge",
    "--net-subnet",
    "--net-ip",
    "--net-ifname",
    "--net-dns",
    "--net-nat",
    "--net-subnet6",
    "--net-pasta",
    "--net-host-loopback",
    "--net-keep-bridge",
    "--event-fd",
    "--verbose",
    "--check-host",
    "--json",
];

/// The option names of a help text, in order.
fn listed_options(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| l.strip_prefix("    --"))
        .map(|l| format!("--{}", l.split_whitespace().next().unwrap_or_default()))
        .collect()
}

#[test]
fn usage_names_the_program_as_invoked() {
    let out = run_vb(["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "usage: {} [OPTIONS...] [--] COMMAND [ARGS...]\n\n",
        vb_bin().display()
    );
    assert!(help.starts_with(&expected), "{help}");
    // Without a command: the same text on stderr, exit status 1.
    let out = run_vb(["--unshare-pid"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stderr).unwrap(), help);
    assert!(out.stdout.is_empty());

    // A relative name stays relative, under either name.
    let dir = std::env::temp_dir().join(marker("argv0"));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["vb", "bwrap"] {
        std::os::unix::fs::symlink(vb_bin(), dir.join(name)).unwrap();
        let out = Command::new(format!("./{name}"))
            .current_dir(&dir)
            .arg("--help")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with(&format!(
                "usage: ./{name} [OPTIONS...] [--] COMMAND [ARGS...]\n"
            )),
            "{text}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_lists_bubblewraps_options_then_voidboxs() {
    let help = String::from_utf8(run_vb(["--help"]).stdout).unwrap();
    let (bubblewrap_part, voidbox_part) = help.split_once("\nvoidbox options:\n").unwrap();
    let voidbox_listed = listed_options(voidbox_part);
    assert_eq!(voidbox_listed, VOIDBOX_OPTIONS);
    let listed = listed_options(bubblewrap_part);
    assert_eq!(listed.len(), 67, "bubblewrap 0.11.1's options");
    // Where bubblewrap is installed, each of its options is listed too.
    if let Ok(out) = Command::new("bwrap").arg("--help").output() {
        let theirs = listed_options(&String::from_utf8_lossy(&out.stdout));
        assert!(!theirs.is_empty());
        for option in theirs {
            assert!(listed.contains(&option), "{option} missing from vb --help");
        }
    } else {
        voidbox_tests::skip(
            "help_lists_bubblewraps_options_then_voidboxs",
            "bwrap is not installed to compare with",
        );
    }
}

/// Run vb with `args` and return (exit status, stderr lines).
fn messages(args: &[&str]) -> (Option<i32>, Vec<String>) {
    let out = run_vb(args);
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), text.lines().map(str::to_owned).collect())
}

#[test]
fn level_prefix_marks_the_messages_after_it() {
    let chdir_twice = "Only the last --chdir option will take effect";
    // After filesystem actions: still an option, so the warning is marked.
    let (code, lines) = messages(&[
        "--bind",
        "/",
        "/",
        "--tmpfs",
        "/tmp",
        "--level-prefix",
        "--chdir",
        "/",
        "--chdir",
        "/",
        "true",
    ]);
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(lines, [format!("<4>vb: {chdir_twice}")]);
    // A warning printed before the option is seen has no prefix.
    let (code, lines) = messages(&[
        "--ro-bind",
        "/",
        "/",
        "--chdir",
        "/",
        "--chdir",
        "/",
        "--level-prefix",
        "--chdir",
        "/",
        "true",
    ]);
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(
        lines,
        [
            format!("vb: {chdir_twice}"),
            format!("<4>vb: {chdir_twice}")
        ]
    );
    // Errors: marked only once the option has been parsed.
    let (code, lines) = messages(&["--level-prefix", "--bogus", "true"]);
    assert_eq!(
        (code, lines),
        (Some(1), vec!["<3>vb: Unknown option --bogus".into()])
    );
    let (code, lines) = messages(&["--bogus", "--level-prefix", "true"]);
    assert_eq!(
        (code, lines),
        (Some(1), vec!["vb: Unknown option --bogus".into()])
    );
    let (code, lines) = messages(&[
        "--hostname",
        "x",
        "--level-prefix",
        "--ro-bind",
        "/",
        "/",
        "true",
    ]);
    assert_eq!(
        (code, lines),
        (
            Some(1),
            vec!["<3>vb: Specifying --hostname requires --unshare-uts".into()]
        )
    );
    // An argument of the command is not an option.
    let (code, lines) = messages(&["--bogus-after", "true", "--level-prefix"]);
    assert_eq!(
        (code, lines),
        (Some(1), vec!["vb: Unknown option --bogus-after".into()])
    );
}

#[test]
fn level_prefix_from_an_args_file_counts_from_there() {
    let mut child = vb([
        "--args",
        "0",
        "--chdir",
        "/",
        "--chdir",
        "/",
        "--ro-bind",
        "/",
        "/",
        "true",
    ])
    .stdin(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"--level-prefix\0")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "<4>vb: Only the last --chdir option will take effect"
    );
}

/// `vb --check-host`: a table of what this host offers, the verdict as the
/// exit status; `--json` the same as one JSON object, which agrees with the
/// kernel's own view.
#[test]
fn check_host_reports_the_host_as_a_table_and_as_json() {
    let table = run_vb(["--check-host"]);
    let text = stdout(&table);
    let works = text.ends_with("the default sandbox works here");
    assert_eq!(table.status.success(), works, "{text}");
    for kind in ["user", "mnt", "pid", "net", "uts", "ipc", "cgroup"] {
        let has = std::path::Path::new("/proc/self/ns").join(kind).exists();
        let row = format!("{kind} namespaces");
        let line = text
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.ends_with(if has { "yes" } else { "no" }), "{line}");
    }
    let json = run_vb(["--check-host", "--json"]);
    assert_eq!(json.status.code(), table.status.code());
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["ok"], works);
    assert_eq!(
        value["kernel"],
        rustix::system::uname().release().to_str().unwrap()
    );
    assert_eq!(value["root"], voidbox_tests::is_root());
    assert_eq!(value["namespaces"]["mnt"], true);
    assert!(["v1", "v2", "hybrid", "none"].contains(&value["cgroup"]["layout"].as_str().unwrap()));
    let pasta_installed = std::process::Command::new("pasta")
        .arg("--version")
        .output()
        .is_ok();
    assert_eq!(value["pasta"].is_string(), pasta_installed, "{value}");
    let nft = std::process::Command::new("nft")
        .arg("--version")
        .output()
        .is_ok();
    if nft {
        assert_eq!(value["nat_backend"], "nftables", "{value}");
    }
    // Any other option, before or after it, is refused; --json needs it.
    for (args, message) in [
        (
            &["--check-host", "--yaml"][..],
            "vb: --check-host takes no other option than --json",
        ),
        (
            &["--unshare-all", "--check-host"],
            "vb: --check-host takes no other option than --json",
        ),
        (
            &["--json", "--check-host"],
            "vb: --json requires --check-host",
        ),
    ] {
        let out = run_vb(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&out).trim_end(), message, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
