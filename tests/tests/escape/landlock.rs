//! Attacks on the Landlock rules: reads, writes, executions and TCP ports
//! outside what the rules grant, by a command that holds every capability
//! it can (real root keeps its own by default), and by one that tries to
//! move a mount around them.
//!
//! Landlock binds whatever the uid and capabilities: these tests run real
//! root with and without `--cap-drop ALL` and `--uid 0` in a user namespace,
//! and uid 65534 with and without `--uid 0`.

use std::path::Path;

use voidbox_tests::{is_root, needs_userns, run_vb, skip, stderr, stdout, vb_bin};

/// The ways in: each must be bound by the rules.
fn profiles() -> Vec<Vec<&'static str>> {
    if is_root() {
        vec![
            vec![],
            vec!["--cap-drop", "ALL"],
            vec!["--unshare-user", "--uid", "0"],
        ]
    } else {
        vec![vec![], vec!["--uid", "0"]]
    }
}

/// Whether the running kernel has Landlock with TCP rules (ABI 4).
fn landlock_abi() -> Option<u32> {
    // SAFETY: the version query reads no memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    u32::try_from(ret).ok().filter(|&abi| abi > 0)
}

fn needs_landlock(test: &str, abi: u32) -> bool {
    match landlock_abi() {
        Some(have) if have >= abi => false,
        Some(have) => skip(
            test,
            &format!("the kernel's Landlock ABI is {have}, the test needs {abi}"),
        ),
        None => skip(test, "the kernel has no Landlock"),
    }
}

/// The host directories a shell and python need to start, granted read-only
/// (those that are directories: a rule does not follow a symbolic link, and
/// on a merged-/usr system `/bin`, `/lib` ... are links into `/usr`).
fn system_ro() -> Vec<&'static str> {
    let mut args = Vec::new();
    for dir in ["/usr", "/etc", "/bin", "/lib", "/lib64", "/lib32", "/sbin"] {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            args.extend(["--landlock-ro", dir]);
        }
    }
    args
}

fn tempdir(name: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("vb-landlock-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["", "rw", "other"] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::write(dir.join("secret"), "SECRET\n").unwrap();
    std::fs::set_permissions(dir.join("secret"), std::fs::Permissions::from_mode(0o644)).unwrap();
    dir
}

#[test]
fn paths_outside_the_rules_can_be_neither_read_nor_written() {
    let test = "paths_outside_the_rules_can_be_neither_read_nor_written";
    if needs_userns(test) || needs_landlock(test, 1) {
        return;
    }
    let dir = tempdir("paths");
    let bind = dir.to_str().unwrap();
    // Everything under /tmp (the test's directory) is outside the read-only
    // rules; only /tmp/rw is granted, read-write.
    let script = "cat /tmp/secret && echo READ-SECRET; \
         ls /tmp && echo LISTED-TMP; \
         echo x > /tmp/other/f && echo WROTE-OTHER; \
         mkdir /tmp/newdir && echo MADE-DIR; \
         echo y > /tmp/rw/f && echo WROTE-RW; \
         cat /tmp/rw/f; \
         mv /tmp/rw/f /tmp/other/f && echo MOVED-OUT; \
         ln -s /tmp/other /tmp/rw/link && echo y > /tmp/rw/link/g && echo WROTE-THROUGH-LINK; \
         mount --bind /tmp/rw /tmp/other && echo REMOUNTED; \
         exit 0";
    for profile in profiles() {
        let _ = std::fs::remove_file(dir.join("rw/f"));
        let _ = std::fs::remove_file(dir.join("rw/link"));
        let mut args: Vec<&str> = vec!["--ro-bind", "/", "/", "--bind", bind, "/tmp"];
        args.extend(&profile);
        args.extend(system_ro());
        args.extend(["--landlock-rw", "/tmp/rw", "--", "/bin/sh", "-c", script]);
        let out = run_vb(&args);
        let text = stdout(&out);
        assert!(out.status.success(), "{profile:?}: {}", stderr(&out));
        assert!(
            text.contains("WROTE-RW"),
            "{profile:?}: {text} {}",
            stderr(&out)
        );
        assert!(text.lines().any(|l| l == "y"), "{profile:?}: {text}");
        for escaped in [
            "READ-SECRET",
            "LISTED-TMP",
            "WROTE-OTHER",
            "MADE-DIR",
            "MOVED-OUT",
            "WROTE-THROUGH-LINK",
            "REMOUNTED",
        ] {
            assert!(
                !text.contains(escaped),
                "{profile:?}: {escaped} got through: {text}"
            );
        }
        assert!(!text.lines().any(|l| l == "SECRET"), "{profile:?}: {text}");
        assert!(!dir.join("other/f").exists(), "{profile:?}");
        assert!(!dir.join("other/g").exists(), "{profile:?}");
        assert!(!dir.join("newdir").exists(), "{profile:?}");
        assert!(dir.join("rw/f").exists(), "{profile:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_exec_rule_runs_programs_but_lists_nothing() {
    let test = "an_exec_rule_runs_programs_but_lists_nothing";
    if needs_userns(test) || needs_landlock(test, 1) {
        return;
    }
    for profile in profiles() {
        let mut args: Vec<&str> = vec!["--ro-bind", "/", "/"];
        args.extend(&profile);
        args.extend([
            "--landlock-exec",
            "/",
            "--",
            "/bin/sh",
            "-c",
            "cat /etc/hostname >&2 && echo READ-FILE; ls / && echo LISTED-ROOT; exit 0",
        ]);
        let out = run_vb(&args);
        let text = stdout(&out);
        assert!(out.status.success(), "{profile:?}: {}", stderr(&out));
        assert!(text.contains("READ-FILE"), "{profile:?}: {text}");
        assert!(!text.contains("LISTED-ROOT"), "{profile:?}: {text}");
    }
}

#[test]
fn tcp_ports_outside_the_rules_can_be_neither_bound_nor_reached() {
    let test = "tcp_ports_outside_the_rules_can_be_neither_bound_nor_reached";
    if needs_userns(test) || needs_landlock(test, 4) {
        return;
    }
    if !Path::new("/usr/bin/python3").exists() {
        skip(test, "/usr/bin/python3 is not installed");
        return;
    }
    // Loopback of the sandbox's own network namespace only.
    let script = "import socket\n\
        held = []\n\
        def listen(port):\n\
        \x20   s = socket.socket()\n\
        \x20   held.append(s)\n\
        \x20   try:\n\
        \x20       s.bind(('127.0.0.1', port)); s.listen(16); return 'bound'\n\
        \x20   except OSError as e:\n\
        \x20       return e.errno\n\
        def connect(port):\n\
        \x20   s = socket.socket()\n\
        \x20   try:\n\
        \x20       s.connect(('127.0.0.1', port)); return 'connected'\n\
        \x20   except OSError as e:\n\
        \x20       return e.errno\n\
        print('bind-a', listen(18081)); print('bind-b', listen(18082)); print('bind-c', listen(18083))\n\
        def mptcp(port):\n\
        \x20   try:\n\
        \x20       s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)\n\
        \x20       held.append(s)\n\
        \x20       s.settimeout(5)\n\
        \x20       s.connect(('127.0.0.1', port)); return 'connected'\n\
        \x20   except OSError as e:\n\
        \x20       return e.errno\n\
        def fastopen(port):\n\
        \x20   s = socket.socket()\n\
        \x20   held.append(s)\n\
        \x20   s.settimeout(5)\n\
        \x20   try:\n\
        \x20       s.sendto(b'x', socket.MSG_FASTOPEN, ('127.0.0.1', port)); return 'connected'\n\
        \x20   except BlockingIOError:\n\
        \x20       return 'connected'\n\
        \x20   except OSError as e:\n\
        \x20       return e.errno\n\
        print('bind-a', listen(18081)); print('bind-b', listen(18082)); print('bind-c', listen(18083))\n\
        print('connect-a', connect(18081)); print('connect-b', connect(18082))\n\
        print('mptcp-b', mptcp(18082)); print('fastopen-b', fastopen(18082))\n";
    for profile in profiles() {
        let mut args: Vec<&str> = vec!["--ro-bind", "/", "/", "--unshare-net"];
        args.extend(&profile);
        args.extend([
            "--landlock-tcp-bind",
            "18081",
            "--landlock-tcp-bind",
            "18082",
            "--landlock-tcp-connect",
            "18081",
            "--",
            "/usr/bin/python3",
            "-c",
            script,
        ]);
        let out = run_vb(&args);
        let text = stdout(&out);
        assert!(out.status.success(), "{profile:?}: {}", stderr(&out));
        let eacces = libc::EACCES.to_string();
        for (key, want) in [
            ("bind-a", "bound"),
            ("bind-b", "bound"),
            ("bind-c", eacces.as_str()),
            ("connect-a", "connected"),
            ("connect-b", eacces.as_str()),
        ] {
            assert!(
                text.lines().any(|l| l == format!("{key} {want}")),
                "{profile:?}: {key} should be {want}: {text}"
            );
        }
        // The ways around Landlock's TCP checks are refused by vb's filter.
        let eperm = libc::EPERM.to_string();
        for key in ["mptcp-b", "fastopen-b"] {
            assert!(
                text.lines().any(|l| l == format!("{key} {eperm}")),
                "{profile:?}: {key} should be refused: {text}"
            );
        }
    }
    // Not vacuous: without the rules the same probe connects both ways.
    let out = run_vb([
        "--ro-bind",
        "/",
        "/",
        "--unshare-net",
        "--",
        "/usr/bin/python3",
        "-c",
        script,
    ]);
    let text = stdout(&out);
    assert!(
        text.lines().any(|l| l == "fastopen-b connected"),
        "{text} {}",
        stderr(&out)
    );
    if !text.lines().any(|l| l == "mptcp-b connected") {
        skip(
            "tcp_ports_outside_the_rules_can_be_neither_bound_nor_reached",
            &format!("multipath TCP is not available here, so its refusal proves nothing: {text}"),
        );
    }
}

/// Run vb inside a vb whose seccomp policy makes every Landlock call fail
/// with `ENOSYS`, as on a kernel built without it.
fn under_a_kernel_without_landlock(extra: &[&str]) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("vb-landlock-enosys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("enosys.json");
    std::fs::write(
        &policy,
        r#"{"no_landlock": {"mismatch_action": "allow", "match_action": {"errno": 38},
            "filter": [{"syscall": "landlock_create_ruleset"},
                       {"syscall": "landlock_add_rule"},
                       {"syscall": "landlock_restrict_self"}]}}"#,
    )
    .unwrap();
    let vb = vb_bin();
    let mut args: Vec<&str> = vec![
        "--bind",
        "/",
        "/",
        "--seccomp-policy",
        policy.to_str().unwrap(),
        "--",
        vb.to_str().unwrap(),
        "--bind",
        "/",
        "/",
    ];
    args.extend(extra);
    args.extend(["--landlock-ro", "/", "--", "/bin/true"]);
    let out = run_vb(&args);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn a_kernel_without_landlock_is_a_warning_or_under_strict_an_error() {
    let test = "a_kernel_without_landlock_is_a_warning_or_under_strict_an_error";
    if needs_userns(test) {
        return;
    }
    let missing = "landlock is not supported by the running kernel: nothing is enforced";
    let out = under_a_kernel_without_landlock(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(missing), "{}", stderr(&out));
    let out = under_a_kernel_without_landlock(&["--landlock-strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("vb: refusing to run under a weaker landlock than asked for: {missing}")
    );
}

#[test]
fn strict_enforcement_runs_where_the_kernel_enforces_everything() {
    let test = "strict_enforcement_runs_where_the_kernel_enforces_everything";
    if needs_userns(test) || needs_landlock(test, 5) {
        return;
    }
    let out = run_vb([
        "--ro-bind",
        "/",
        "/",
        "--landlock-strict",
        "--landlock-ro",
        "/",
        "--landlock-tcp-connect",
        "1",
        "--",
        "/bin/true",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_rule_through_a_symbolic_link_is_refused() {
    let test = "a_rule_through_a_symbolic_link_is_refused";
    if needs_userns(test) || needs_landlock(test, 1) {
        return;
    }
    // A link placed where a rule points (by a --rootfs image, or an earlier
    // run in a writable bind) would choose what the rule grants.
    for rule in ["/tmp/link", "/tmp/link/bin"] {
        let out = run_vb([
            "--ro-bind",
            "/",
            "/",
            "--tmpfs",
            "/tmp",
            "--symlink",
            "/usr",
            "/tmp/link",
            "--landlock-ro",
            rule,
            "--",
            "/bin/true",
        ]);
        assert_eq!(out.status.code(), Some(1), "{rule}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "vb: landlock path {rule} is or goes through a symbolic link, which a rule does \
                 not follow; name the path it leads to: Too many levels of symbolic links"
            )
        );
    }
}

#[test]
fn a_planted_dev_null_link_grants_nothing() {
    let test = "a_planted_dev_null_link_grants_nothing";
    if needs_userns(test) || needs_landlock(test, 1) {
        return;
    }
    let dir = tempdir("devnull");
    let bind = dir.to_str().unwrap();
    for profile in profiles() {
        let mut args: Vec<&str> = vec![
            "--ro-bind",
            "/",
            "/",
            "--bind",
            bind,
            "/tmp",
            "--tmpfs",
            "/dev",
            "--symlink",
            "/",
            "/dev/null",
        ];
        args.extend(&profile);
        args.extend(system_ro());
        args.extend([
            "--",
            "/bin/sh",
            "-c",
            "echo x > /tmp/planted && echo WROTE; cat /tmp/secret; exit 0",
        ]);
        let out = run_vb(&args);
        assert!(out.status.success(), "{profile:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.contains("WROTE"), "{profile:?}: {text}");
        assert!(!text.contains("SECRET"), "{profile:?}: {text}");
        assert!(!dir.join("planted").exists(), "{profile:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
