//! What the filesystem actions do inside a sandbox, checked from inside it:
//! the behaviour bubblewrap 0.8.0 lacks (the overlays, `--argv0`,
//! `--level-prefix`, idempotent symlinks) against the documented behaviour,
//! and where vb deliberately goes further (destinations resolved inside the
//! new root, read-only binds read-only even on covered submounts). Runs as
//! root and unprivileged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fs_support;

use fs_support::{Run, Scratch, Tool, args, base, run_with, skip};

fn vb(fs_args: &[String], fds: &[&std::path::Path], script: &str) -> Run {
    let mut full: Vec<String> = base();
    full.extend_from_slice(fs_args);
    run_with(Tool::Vb, &full, fds, &["sh", "-c", script])
}

fn ok(run: &Run) -> &str {
    assert_eq!(run.code, Some(0), "{run:#?}");
    &run.stdout
}

fn scratch(test: &str) -> Scratch {
    let s = Scratch::new(test);
    s.populate();
    s
}

fn userns_or_root(test: &str) -> bool {
    fs_support::is_root()
        || voidbox_tests::userns_available()
        || !skip(test, "neither root nor user namespaces")
}

#[test]
fn ro_bind_rejects_writes_in_the_sandbox_even_on_submounts() {
    let test = "ro_bind_rejects_writes_in_the_sandbox_even_on_submounts";
    if !userns_or_root(test) {
        return;
    }
    let s = scratch(test);
    // The host's /dev has submounts (shm, pts...); /dev/shm is writable to
    // everyone on the host.
    let fs = args(&[
        "--ro-bind",
        "/dev",
        "/d",
        "--ro-bind",
        &s.s("src"),
        "/b",
        "--bind",
        &s.s("src"),
        "/a",
    ]);
    let name = format!("vb-ro-test-{}", std::process::id());
    let out = vb(
        &fs,
        &[],
        &format!(
            "touch /d/shm/{name} 2>&1; touch /b/x 2>&1; touch /b/sub/x 2>&1; \
             touch /a/sub/ok && echo writable && rm /a/sub/ok"
        ),
    );
    let text = ok(&out);
    assert_eq!(text.matches("Read-only file system").count(), 3, "{text}");
    assert!(!s.join("src/x").exists() && !s.join("src/sub/ok").exists());
    assert!(text.contains("writable"), "{text}");
    assert!(!std::path::Path::new("/dev/shm").join(&name).exists());
    // Every mount below a read-only bind is read-only, covered or not.
    let out = vb(&fs, &[], "grep -E ' /(b|d)[ /]' /proc/self/mountinfo");
    assert!(ok(&out).lines().count() > 2, "{}", out.stdout);
    for line in ok(&out).lines() {
        let options = line.split(' ').nth(5).unwrap();
        assert!(options.starts_with("ro,"), "{line}");
        assert!(
            options.contains("nosuid") && options.contains("nodev"),
            "{line}"
        );
    }
}

#[test]
fn dev_bind_keeps_devices_usable_and_bind_does_not() {
    let test = "dev_bind_keeps_devices_usable_and_bind_does_not";
    if !userns_or_root(test) {
        return;
    }
    let fs = args(&[
        "--dev-bind",
        "/dev/null",
        "/dn",
        "--bind",
        "/dev/null",
        "/bn",
    ]);
    let out = vb(
        &fs,
        &[],
        "echo x > /dn && echo dev-ok; echo x > /bn 2>&1 || echo refused",
    );
    let text = ok(&out);
    assert!(text.contains("dev-ok"), "{text}");
    assert!(text.contains("refused"), "{text}");
}

#[test]
fn dev_nodes_work() {
    let test = "dev_nodes_work";
    if !userns_or_root(test) {
        return;
    }
    let out = vb(
        &args(&["--dev", "/dev"]),
        &[],
        "echo x > /dev/null && head -c 4 /dev/zero | od -An -tx1; \
         head -c 8 /dev/urandom | wc -c; (head -c 1 /dev/zero > /dev/full) 2>&1; \
         test -c /dev/pts/ptmx && readlink /dev/ptmx; readlink /dev/stdout /dev/fd /dev/core",
    );
    let text = ok(&out);
    assert!(text.contains("00 00 00 00"), "{text}");
    assert!(text.contains("No space left on device"), "{text}");
    assert!(text.contains("pts/ptmx"), "{text}");
    assert!(text.contains("/proc/self/fd/1"), "{text}");
    assert!(text.contains("/proc/kcore"), "{text}");
}

#[test]
fn tmpfs_size_is_enforced() {
    let test = "tmpfs_size_is_enforced";
    if !userns_or_root(test) {
        return;
    }
    let out = vb(
        &args(&["--dev", "/dev", "--size", "65536", "--tmpfs", "/t"]),
        &[],
        "head -c 32768 /dev/zero > /t/a && echo fits; (head -c 131072 /dev/zero > /t/b) 2>&1; df -B1 /t | tail -1",
    );
    let text = ok(&out);
    assert!(text.contains("fits"), "{text}");
    assert!(text.contains("No space left on device"), "{text}");
    assert!(text.contains(" 65536 "), "{text}");
}

#[test]
fn overlays_layer_bottom_to_top_and_write_where_documented() {
    let test = "overlays_layer_bottom_to_top_and_write_where_documented";
    if !userns_or_root(test) {
        return;
    }
    let s = Scratch::new(test);
    for (dir, files) in [
        ("lower1", &[("a", "l1"), ("b", "l1b")]),
        ("lower2", &[("a", "l2"), ("c", "l2c")]),
    ] {
        std::fs::create_dir_all(s.join(dir)).unwrap();
        for (f, content) in files {
            std::fs::write(s.join(dir).join(f), content).unwrap();
        }
    }
    std::fs::create_dir_all(s.join("upper")).unwrap();
    std::fs::create_dir_all(s.join("work")).unwrap();
    let (l1, l2) = (s.s("lower1"), s.s("lower2"));

    // --ro-overlay: the later --overlay-src is on top; nothing is writable.
    let fs = args(&[
        "--overlay-src",
        &l1,
        "--overlay-src",
        &l2,
        "--ro-overlay",
        "/o",
    ]);
    let out = vb(
        &fs,
        &[],
        "cat /o/a /o/b /o/c; echo; touch /o/new 2>&1; true",
    );
    let text = ok(&out);
    assert!(text.starts_with("l2l1bl2c"), "{text}");
    assert!(text.contains("Read-only file system"), "{text}");

    // --tmp-overlay: writes land in the invisible staging tmpfs.
    let fs = args(&["--overlay-src", &l1, "--tmp-overlay", "/o"]);
    let out = vb(&fs, &[], "echo new > /o/new && cat /o/new /o/a");
    assert_eq!(ok(&out), "new\nl1");
    assert!(!s.join("lower1/new").exists());
    assert_eq!(fs_support::artifacts(), std::collections::BTreeSet::new());

    // --overlay: writes persist in the upper directory on the host.
    let fs = args(&[
        "--overlay-src",
        &l1,
        "--overlay",
        &s.s("upper"),
        &s.s("work"),
        "/o",
    ]);
    let out = vb(&fs, &[], "echo kept > /o/new && rm /o/b && ls /o");
    assert_eq!(ok(&out), "a\nnew\n");
    assert_eq!(
        std::fs::read_to_string(s.join("upper/new")).unwrap(),
        "kept\n"
    );
    assert!(s.join("lower1/b").exists(), "a lower layer was changed");
}

#[test]
fn overlay_paths_with_separators_are_escaped() {
    let test = "overlay_paths_with_separators_are_escaped";
    if !userns_or_root(test) {
        return;
    }
    let s = Scratch::new(test);
    let odd = s.join(r"a,b:c\d");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join("f"), "odd").unwrap();
    std::fs::create_dir_all(s.join("plain")).unwrap();
    let fs = args(&[
        "--overlay-src",
        odd.to_str().unwrap(),
        "--overlay-src",
        &s.s("plain"),
        "--ro-overlay",
        "/o",
    ]);
    assert_eq!(ok(&vb(&fs, &[], "cat /o/f")), "odd");
}

#[test]
fn overlay_misuse_is_refused() {
    let s = Scratch::new("overlay_misuse_is_refused");
    std::fs::create_dir_all(s.join("l")).unwrap();
    let l = s.s("l");
    for (fs, message) in [
        (
            args(&["--overlay", "/u", "/w", "/o"]),
            "--overlay requires at least one --overlay-src",
        ),
        (
            args(&["--overlay-src", &l, "--ro-overlay", "/o"]),
            "--ro-overlay requires at least two --overlay-src",
        ),
        (
            args(&["--tmp-overlay", "/o"]),
            "--tmp-overlay requires at least one --overlay-src",
        ),
        (
            args(&["--overlay-src", &l, "--dir", "/o"]),
            "--overlay-src must be followed by another --overlay-src or one of --overlay, --tmp-overlay, or --ro-overlay",
        ),
        (
            args(&["--overlay-src", "/nonexistent/l", "--tmp-overlay", "/o"]),
            "Can't find source path /nonexistent/l: No such file or directory",
        ),
        (
            args(&["--overlay-src", &l, "--overlay", "/nonexistent/u", &l, "/o"]),
            "Can't find source path /nonexistent/u: No such file or directory",
        ),
    ] {
        let out = vb(&fs, &[], "true");
        assert_eq!(out.code, Some(1), "{fs:?}: {out:?}");
        assert_eq!(out.stderr, message, "{fs:?}");
    }
}

#[test]
fn symlinks_are_idempotent_and_conflicts_are_refused() {
    let test = "symlinks_are_idempotent_and_conflicts_are_refused";
    if !userns_or_root(test) {
        return;
    }
    let same = args(&["--symlink", "usr/bin", "/b", "--symlink", "usr/bin", "/b"]);
    assert_eq!(ok(&vb(&same, &[], "readlink /b")), "usr/bin\n");
    let conflict = args(&["--symlink", "a", "/l", "--symlink", "b", "/l"]);
    let out = vb(&conflict, &[], "true");
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "Can't make symlink at /l: existing destination is a"
    );
    let not_link = args(&["--dir", "/d", "--symlink", "a", "/d"]);
    let out = vb(&not_link, &[], "true");
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "Can't make symlink at /d: destination exists and is not a symlink"
    );
}

#[test]
fn remount_ro_of_a_non_mount_point_names_it() {
    let test = "remount_ro_of_a_non_mount_point_names_it";
    if !userns_or_root(test) {
        return;
    }
    let out = vb(&args(&["--dir", "/d", "--remount-ro", "/d"]), &[], "true");
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "Can't remount readonly on /newroot/d: Unable to find destination in mount table"
    );
}

#[test]
fn destinations_cannot_escape_the_new_root_through_symlinks() {
    let test = "destinations_cannot_escape_the_new_root_through_symlinks";
    if !userns_or_root(test) {
        return;
    }
    let s = scratch(test);
    let before = s.listing();
    // From the setup root, ../../oldroot/<scratch> is the host directory;
    // bubblewrap follows it and creates there. Inside the new root `..`
    // stops at `/`.
    let up = format!("../../oldroot{}", s.path.display());
    for fs in [
        args(&[
            "--tmpfs",
            "/t",
            "--symlink",
            &up,
            "/t/l",
            "--dir",
            "/t/l/escaped",
        ]),
        args(&[
            "--tmpfs",
            "/t",
            "--symlink",
            &up,
            "/t/l",
            "--file",
            "3",
            "/t/l/escaped",
        ]),
        args(&[
            "--tmpfs",
            "/t",
            "--symlink",
            &up,
            "/t/l",
            "--bind",
            &s.s("src"),
            "/t/l/escaped",
        ]),
    ] {
        let out = vb(&fs, &[&s.join("data.txt")], "true");
        assert_eq!(out.code, Some(1), "{fs:?}: {out:?}");
        assert!(
            out.stderr.ends_with("No such file or directory") || out.stderr.contains("execvp"),
            "{fs:?}: {}",
            out.stderr
        );
        assert_eq!(s.listing(), before, "{fs:?} wrote to the host");
    }
    // `..` in a destination stops at the new root too: this creates
    // /oldroot/... inside the sandbox, nothing on the host.
    let fs = args(&[
        "--dir",
        &format!("/../../oldroot{}/escaped", s.path.display()),
    ]);
    let out = vb(&fs, &[], "test -d /oldroot && echo inside");
    assert_eq!(ok(&out), "inside\n");
    assert_eq!(s.listing(), before);
    // An absolute symlink in a destination means what it means inside.
    let fs = args(&[
        "--dir",
        "/real",
        "--symlink",
        "/real",
        "/abs",
        "--tmpfs",
        "/abs/t",
    ]);
    let out = vb(&fs, &[], "grep -c ' /real/t ' /proc/self/mountinfo");
    assert_eq!(ok(&out), "1\n");
}

#[test]
fn actions_after_a_mount_on_the_root_land_on_what_covers_it() {
    // A mount on the new root's top directory, named directly or reached
    // through a symlink, covers every descriptor of the root opened before
    // it: each later action must land in the new mount, where the sandbox
    // sees it, and nothing may land in the covered tree.
    let test = "actions_after_a_mount_on_the_root_land_on_what_covers_it";
    if !userns_or_root(test) {
        return;
    }
    for cover in [
        args(&["--tmpfs", "/"]),
        args(&[
            "--dir",
            "/x",
            "--symlink",
            "/",
            "/x/rootlink",
            "--tmpfs",
            "/x/rootlink",
        ]),
    ] {
        let mut fs = cover.clone();
        // What the covering mount hid: the shell and /proc again.
        fs.extend(base());
        fs.extend(args(&["--dir", "/newdir", "--symlink", "newdir", "/nd"]));
        let out = vb(
            &fs,
            &[],
            "test -d /newdir && test -L /nd && test ! -e /x && echo covered",
        );
        assert_eq!(ok(&out), "covered\n", "{cover:?}");
    }
}

#[test]
fn rootfs_gets_the_actions_on_top_and_keeps_only_their_mount_points() {
    let test = "rootfs_gets_the_actions_on_top_and_keeps_only_their_mount_points";
    if !userns_or_root(test) {
        return;
    }
    let s = Scratch::new(test);
    let root = s.join("root");
    for d in ["usr", "proc", "etc"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("etc/hostname"), "image\n").unwrap();
    let _ = std::os::unix::fs::symlink("usr/bin", root.join("bin"));
    let _ = std::os::unix::fs::symlink("usr/lib", root.join("lib"));
    let _ = std::os::unix::fs::symlink("usr/lib64", root.join("lib64"));
    for switch in [None, Some("--chroot")] {
        let mut full = args(&["--rootfs", root.to_str().unwrap()]);
        full.extend(switch.map(str::to_owned));
        full.extend(args(&[
            "--ro-bind",
            "/usr",
            "/usr",
            "--tmpfs",
            "/tmp",
            "--dir",
            "/var/new",
        ]));
        let out = run_with(
            Tool::Vb,
            &full,
            &[],
            &[
                "sh",
                "-c",
                "cat /etc/hostname; echo x > /tmp/f && cat /tmp/f; ls -d /var/new",
            ],
        );
        assert_eq!(ok(&out), "image\nx\n/var/new\n", "{switch:?}");
    }
    // The mount points created in the image stay, as bubblewrap leaves
    // them; nothing else does.
    assert!(root.join("tmp").is_dir() && root.join("var/new").is_dir());
    assert!(!root.join("tmp/f").exists());
}

#[test]
fn argv0_and_level_prefix_behave_as_documented() {
    let test = "argv0_and_level_prefix_behave_as_documented";
    if !userns_or_root(test) {
        return;
    }
    let out = vb(&args(&["--argv0", "renamed"]), &[], "echo $0");
    assert_eq!(ok(&out), "renamed\n");
    let out = run_with(
        Tool::Vb,
        &args(&["--level-prefix", "--bind", "/nonexistent/x", "/x"]),
        &[],
        &["true"],
    );
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "<3>vb: Can't find source path /nonexistent/x: No such file or directory"
    );
}

/// Through the library: a configuration that holds descriptors can be
/// spawned again. `DataSource::Fd` is read at each spawn from the
/// descriptor's current offset to its end — a file read once reads empty
/// until the caller seeks it back — and `BindFd` binds the same directory
/// each time. voidbox closes neither; both close when the last configuration
/// holding them is dropped.
#[test]
fn descriptors_in_a_configuration_outlive_its_spawns_and_close_with_it() {
    use std::io::{Seek, SeekFrom, Write};
    use std::os::fd::OwnedFd;
    use std::sync::Arc;
    use voidbox::{BindMode, DataSource, FsAction, JailConfig, RootSource};

    let test = "descriptors_in_a_configuration_outlive_its_spawns_and_close_with_it";
    if !userns_or_root(test) {
        return;
    }
    let s = scratch(test);
    let mut data = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(s.join("data"))
        .unwrap();
    data.write_all(b"0123456789").unwrap();
    data.seek(SeekFrom::Start(4)).unwrap();
    let data = Arc::new(OwnedFd::from(data));
    let dir = Arc::new(OwnedFd::from(std::fs::File::open(s.join("src")).unwrap()));
    let mut command = voidbox::Command::from_config(JailConfig {
        rootfs: RootSource::Tmpfs,
        fs_actions: vec![
            FsAction::Bind {
                src: "/".into(),
                dest: "/".into(),
                mode: BindMode::ReadOnly,
                optional: false,
            },
            FsAction::Tmpfs {
                dest: "/tmp".into(),
                size: None,
                perms: None,
            },
            FsAction::File {
                source: DataSource::Fd(data.clone()),
                dest: "/tmp/data".into(),
                perms: None,
            },
            FsAction::BindFd {
                fd: dir.clone(),
                dest: "/mnt".into(),
                read_only: true,
            },
        ],
        cmd: ["/bin/sh", "-c", "cat /tmp/data; echo; cat /mnt/file"]
            .map(Into::into)
            .to_vec(),
        ..JailConfig::default()
    });
    let mut run = || {
        let out = command.output().unwrap();
        assert_eq!(
            out.status.code(),
            0,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(), "456789\nhello\n");
    assert_eq!(
        run(),
        "\nhello\n",
        "read on from where the first spawn stopped"
    );
    rustix::fs::seek(&*data, rustix::fs::SeekFrom::Start(0)).unwrap();
    assert_eq!(run(), "0123456789\nhello\n");

    let held = [Arc::downgrade(&data), Arc::downgrade(&dir)];
    drop((data, dir));
    assert!(
        held.iter().all(|fd| fd.upgrade().is_some()),
        "the configuration no longer holds its descriptors"
    );
    drop(command);
    assert!(
        held.iter().all(|fd| fd.upgrade().is_none()),
        "a descriptor outlived the configuration"
    );
}
