//! Attacks on the filesystem: mounts, the root, staged data.
//!
//! Each test plays an attacker who controls some input — the content of a
//! `--rootfs` image, a directory in the shared temporary directory, the
//! seccomp profile `vb` runs under — and checks that the host is untouched
//! and the sandbox gets only what it was given.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use vb_fs::{BindMode, FsAction, FsSpec, MountPlan, RootSource};
use voidbox_tests::{is_root, skip, userns_available};

/// A scratch directory (0755, so a sandbox of the same user can use it),
/// removed on drop even where a test left mode-0 directories in it.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "vb-escape-{test}-{}-{}",
            std::process::id(),
            nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self(path)
    }

    fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        open_up(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default()
}

/// Give the owner access to every directory below `dir` (without following
/// symlinks), so the scratch directory can be removed.
fn open_up(dir: &Path) {
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let mode = meta.permissions().mode();
    if mode & 0o700 != 0o700 {
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o700));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            open_up(&e.path());
        }
    }
}

/// Every path below `dir` (symlinks not followed) with its type, mode and,
/// for files, content.
fn listing(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return out;
    };
    out.insert(format!(". {:o}", meta.permissions().mode() & 0o7777));
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            out.insert(format!("{} unreadable", d.display()));
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let rel = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                stack.push(p.clone());
                out.insert(format!("{rel} d {mode:o}"));
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap_or_default();
                out.insert(format!("{rel} l -> {}", target.display()));
            } else {
                let content = std::fs::read(&p).unwrap_or_default();
                out.insert(format!(
                    "{rel} f {mode:o} {}",
                    String::from_utf8_lossy(&content)
                ));
            }
        }
    }
    out
}

fn root_or_userns(test: &str) -> bool {
    is_root() || userns_available() || !skip(test, "neither root nor user namespaces")
}

/// What a sandbox needs to run `sh`, `cat` and `python3` from the host's
/// `/usr`.
pub(super) const SYSTEM: &[&str] = voidbox_tests::HOST_USR;

/// [`SYSTEM`] as library actions.
fn system_actions() -> Vec<FsAction> {
    let mut actions = vec![FsAction::Bind {
        src: "/usr".into(),
        dest: "/usr".into(),
        mode: BindMode::ReadOnly,
        optional: false,
    }];
    for dir in ["bin", "lib", "lib64", "sbin"] {
        actions.push(FsAction::Symlink {
            target: format!("usr/{dir}").into(),
            link: format!("/{dir}").into(),
        });
    }
    actions
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run_plan(plan: Arc<MountPlan>, script: &str) -> Result<String, String> {
    voidbox_tests::run_plan_in_child(plan, script)
}

// ---------------------------------------------------------------------------
// Destinations stay inside the new root, whichever mount method is used.
// ---------------------------------------------------------------------------

use vb_fs::{DataSource, MountApi};
use voidbox_tests::bpf;

/// Run `vb args` from `/` under a seccomp filter (`bpf` bytes) that the
/// test loads in the child right before exec, as an outer container
/// runtime's profile would be.
fn vb_under_filter(filter: Vec<u8>, args: &[String]) -> Output {
    let mut cmd = voidbox_tests::vb(args);
    cmd.current_dir("/");
    // SAFETY: the closure makes two system calls on memory prepared before
    // the fork (the filter bytes and a stack struct pointing to them).
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: u16::try_from(filter.len() / 8).unwrap_or(0),
                filter: filter.as_ptr().cast_mut().cast(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let set = libc::SECCOMP_SET_MODE_FILTER;
            if libc::syscall(libc::SYS_seccomp, set, 0, &raw const prog) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("run vb")
}

/// A `--rootfs` image whose `evil` is an absolute symlink to a host
/// directory as setup sees it (under `/oldroot`), and whose `rel` reaches
/// the same place with `..`.
fn hostile_rootfs(s: &Scratch) -> (PathBuf, PathBuf) {
    let root = s.join("root");
    let host = s.join("host");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("keep"), "host file\n").unwrap();
    symlink(format!("/oldroot{}", host.display()), root.join("evil")).unwrap();
    symlink(format!("../oldroot{}", host.display()), root.join("rel")).unwrap();
    (root, host)
}

#[test]
fn the_legacy_mount_method_resolves_destinations_inside_the_root() {
    let test = "the_legacy_mount_method_resolves_destinations_inside_the_root";
    if !root_or_userns(test) {
        return;
    }
    let s = Scratch::new(test);
    let (root, host) = hostile_rootfs(&s);
    let before = listing(&host);
    let attacks = [
        FsAction::Dir {
            dest: "/evil/pwned".into(),
            perms: None,
        },
        FsAction::Dir {
            dest: "/rel/pwned".into(),
            perms: None,
        },
        FsAction::File {
            source: DataSource::Bytes(b"pwned\n".to_vec()),
            dest: "/evil/keep".into(),
            perms: None,
        },
        FsAction::Chmod {
            path: "/evil/keep".into(),
            mode: 0o777,
        },
        FsAction::Tmpfs {
            dest: "/evil".into(),
            size: None,
            perms: None,
        },
        FsAction::Symlink {
            target: "/etc/shadow".into(),
            link: "/rel/pwned-link".into(),
        },
    ];
    for api in [MountApi::Legacy, MountApi::Auto] {
        for attack in &attacks {
            let spec = FsSpec {
                root: RootSource::Dir(root.clone()),
                actions: vec![attack.clone()],
                mount_api: api,
                ..FsSpec::default()
            };
            let plan = Arc::new(MountPlan::compile(&spec).unwrap());
            // Whether setup fails (the target does not exist inside the
            // root) or succeeds (inside it), the host must not change.
            let _ = run_plan(plan, "true");
            assert_eq!(listing(&host), before, "{api:?} {attack:?}");
        }
        // The method itself works: a sandbox gets what it asks for.
        let mut actions = system_actions();
        actions.push(FsAction::Dir {
            dest: "/inside".into(),
            perms: None,
        });
        let spec = FsSpec {
            root: RootSource::Dir(root.clone()),
            actions,
            mount_api: api,
            ..FsSpec::default()
        };
        let plan = Arc::new(MountPlan::compile(&spec).unwrap());
        let out = run_plan(plan, "test -d /inside && echo ok");
        assert_eq!(out.as_deref(), Ok("ok\n"), "{api:?}");
    }
}

/// What `vb` does when an outer seccomp profile refuses `mount_setattr`:
/// it falls back to path-based `mount(2)`, and must still resolve
/// destinations inside the root.
#[test]
fn a_profile_refusing_mount_setattr_does_not_loosen_resolution() {
    let test = "a_profile_refusing_mount_setattr_does_not_loosen_resolution";
    if !root_or_userns(test) {
        return;
    }
    let s = Scratch::new(test);
    let (root, host) = hostile_rootfs(&s);
    let before = listing(&host);
    for errno in [libc::EPERM, libc::ENOSYS] {
        let filter = bpf::deny(&[(libc::SYS_mount_setattr, errno)]);
        for dest in ["/evil/pwned", "/rel/pwned"] {
            let mut args = words(&["--rootfs", &root.display().to_string()]);
            args.extend(words(&["--dir", dest, "/usr/bin/true"]));
            let out = vb_under_filter(filter.clone(), &args);
            assert_eq!(
                listing(&host),
                before,
                "errno {errno} {dest}: {}",
                text(&out)
            );
        }
        // The fallback itself works: a sandbox still runs.
        let mut args = words(&["--rootfs", &root.display().to_string()]);
        args.extend(words(SYSTEM));
        args.extend(words(&[
            "--dir",
            "/made",
            "sh",
            "-c",
            "test -d /made && echo ok",
        ]));
        let out = vb_under_filter(filter.clone(), &args);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "ok\n",
            "{}",
            text(&out)
        );
    }
}

/// Without `openat2` (Linux before 5.6, or a profile refusing it) nothing
/// can resolve a destination inside the new root: `vb` refuses to set up a
/// root switch with actions, says why, and creates nothing.
#[test]
fn without_openat2_a_root_switch_is_refused_and_nothing_is_created() {
    let test = "without_openat2_a_root_switch_is_refused_and_nothing_is_created";
    if !root_or_userns(test) {
        return;
    }
    let s = Scratch::new(test);
    let (root, host) = hostile_rootfs(&s);
    let before_host = listing(&host);
    let before_root = listing(&root);
    for errno in [libc::ENOSYS, libc::EPERM] {
        let filter = bpf::deny(&[(libc::SYS_mount_setattr, errno), (libc::SYS_openat2, errno)]);
        let mut args = words(&["--rootfs", &root.display().to_string()]);
        args.extend(words(&[
            "--dir",
            "/fine/x",
            "--dir",
            "/evil/pwned",
            "/usr/bin/true",
        ]));
        let out = vb_under_filter(filter, &args);
        assert_ne!(out.status.code(), Some(0), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("openat2"), "{}", text(&out));
        assert_eq!(listing(&host), before_host, "{}", text(&out));
        assert_eq!(listing(&root), before_root, "{}", text(&out));
    }
}

// ---------------------------------------------------------------------------
// The root of a --rootfs image.
// ---------------------------------------------------------------------------

/// The options of the mount at `target` in a mountinfo text.
fn mount_options(mountinfo: &str, target: &str) -> Option<String> {
    mountinfo
        .lines()
        .rfind(|l| l.split(' ').nth(4) == Some(target))
        .and_then(|l| l.split(' ').nth(5).map(str::to_owned))
}

fn has_option(options: &str, name: &str) -> bool {
    options.split(',').any(|o| o == name)
}

#[test]
fn a_rootfs_is_mounted_nosuid_nodev_by_default() {
    let test = "a_rootfs_is_mounted_nosuid_nodev_by_default";
    if !root_or_userns(test) {
        return;
    }
    let s = Scratch::new(test);
    let root = s.join("root");
    std::fs::create_dir_all(&root).unwrap();
    if is_root() {
        // A device node shipped in the image: /dev/null's numbers.
        let node = CString::new(root.join("null").display().to_string()).unwrap();
        // SAFETY: mknod on a NUL-terminated path.
        let made =
            unsafe { libc::mknod(node.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
        assert_eq!(made, 0, "mknod: {}", std::io::Error::last_os_error());
    }
    let mut args = words(&["--rootfs", &root.display().to_string()]);
    args.extend(words(SYSTEM));
    args.extend(words(&[
        "--proc",
        "/proc",
        "sh",
        "-c",
        "cat /proc/self/mountinfo; if [ -e /null ]; then echo x > /null && echo NODE-LIVE; fi; true",
    ]));
    let out = voidbox_tests::run_vb(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let options = mount_options(&stdout, "/").unwrap_or_else(|| panic!("{}", text(&out)));
    assert!(
        has_option(&options, "nosuid"),
        "/ is {options}: {}",
        text(&out)
    );
    assert!(
        has_option(&options, "nodev"),
        "/ is {options}: {}",
        text(&out)
    );
    assert!(!stdout.contains("NODE-LIVE"), "{}", text(&out));
    if !is_root() {
        skip(test, "the device-node half needs root (mknod)");
    }
}

#[test]
fn a_rootfs_keeps_devices_and_setuid_only_when_asked() {
    let test = "a_rootfs_keeps_devices_and_setuid_only_when_asked";
    if !root_or_userns(test) {
        return;
    }
    let s = Scratch::new(test);
    let root = s.join("root");
    std::fs::create_dir_all(&root).unwrap();
    // What the host's own mount of the image has, a sandbox cannot drop.
    let host = rustix::fs::statvfs(&root).unwrap();
    let host_nosuid = host.f_flag.contains(rustix::fs::StatVfsMountFlags::NOSUID);
    let host_nodev = host.f_flag.contains(rustix::fs::StatVfsMountFlags::NODEV);
    for (dev, suid) in [(true, false), (false, true), (true, true)] {
        let mut actions = system_actions();
        actions.push(FsAction::Proc {
            dest: "/proc".into(),
        });
        let config = voidbox::JailConfig {
            rootfs: voidbox::RootSource::Dir(root.clone()),
            fs_actions: actions,
            runtime: voidbox::RuntimeOptions {
                rootfs_dev: dev,
                rootfs_suid: suid,
                ..voidbox::RuntimeOptions::default()
            },
            cmd: vec!["/bin/cat".into(), "/proc/self/mountinfo".into()],
            ..voidbox::JailConfig::default()
        };
        let out = voidbox::Command::from_config(config).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let options = mount_options(&stdout, "/")
            .unwrap_or_else(|| panic!("{stdout}{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(
            has_option(&options, "nodev"),
            !dev || host_nodev,
            "{options}"
        );
        assert_eq!(
            has_option(&options, "nosuid"),
            !suid || host_nosuid,
            "{options}"
        );
    }
}

/// An image whose `/proc` is a symlink must not steer the fresh procfs
/// elsewhere: it is mounted only on a real `/proc` directory.
#[test]
fn a_rootfs_proc_symlink_does_not_steer_the_proc_mount() {
    let test = "a_rootfs_proc_symlink_does_not_steer_the_proc_mount";
    if !root_or_userns(test) {
        return;
    }
    let s = Scratch::new(test);
    let root = s.join("root");
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(root.join("data/own"), "image file\n").unwrap();
    symlink("data", root.join("proc")).unwrap();
    let mut args = words(&["--rootfs", &root.display().to_string(), "--unshare-pid"]);
    args.extend(words(SYSTEM));
    args.extend(words(&["ls", "-A", "/data"]));
    let out = voidbox_tests::run_vb(&args);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "own\n",
        "{}",
        text(&out)
    );
}

/// The rootfs directory is swapped between compile and execute — for a
/// symlink to another tree, or for another directory renamed in its place.
/// The plan must refuse rather than bind what is now at that path.
#[test]
fn a_rootfs_swapped_after_compile_is_refused() {
    let test = "a_rootfs_swapped_after_compile_is_refused";
    if !root_or_userns(test) {
        return;
    }
    let s = Scratch::new(test);
    for swap in ["symlink", "rename"] {
        let root = s.join(&format!("root-{swap}"));
        let decoy = s.join(&format!("decoy-{swap}"));
        for (dir, marker) in [(&root, "real"), (&decoy, "decoy")] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("marker"), format!("{marker}\n")).unwrap();
        }
        let spec = FsSpec {
            root: RootSource::Dir(root.clone()),
            actions: system_actions(),
            ..FsSpec::default()
        };
        let plan = Arc::new(MountPlan::compile(&spec).unwrap());
        std::fs::rename(&root, s.join(&format!("moved-{swap}"))).unwrap();
        match swap {
            "symlink" => symlink(&decoy, &root).unwrap(),
            _ => std::fs::rename(&decoy, &root).unwrap(),
        }
        let out = run_plan(plan, "cat /marker");
        // Refused by the check of what was found (a symlink where the
        // directory was, or a directory with another identity), not by
        // some later failure.
        let refusal = match swap {
            "symlink" => [libc::ENOTDIR, libc::ELOOP],
            _ => [libc::ESTALE, libc::ESTALE],
        };
        let refused = out.as_ref().is_err_and(|e| {
            refusal
                .iter()
                .any(|errno| e.contains(&format!("(os error {errno})")))
        });
        assert!(refused, "{swap}: {out:?}");
    }
}

// ---------------------------------------------------------------------------
// The sweep of stale staging directories in the shared temporary directory.
// ---------------------------------------------------------------------------

use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// A name the sweep takes for a staging directory of a dead process: pids
/// never reach `u32::MAX - 1` (`pid_max` is at most 2^22).
fn stale_name(tag: &str, i: usize) -> String {
    format!(".vb-fs-{}-{tag}-{i}", u32::MAX - 1)
}

/// Compile a plan that needs a host staging directory: that sweeps.
fn sweep_now() {
    let spec = FsSpec {
        root: RootSource::Host,
        actions: vec![FsAction::BindData {
            source: DataSource::Bytes(b"x".to_vec()),
            dest: "/nonexistent-dest".into(),
            perms: None,
            read_only: true,
        }],
        ..FsSpec::default()
    };
    let mut plan = MountPlan::compile(&spec).unwrap();
    plan.finish().unwrap();
}

/// A local user plants a stale-looking staging tree in the shared temporary
/// directory and keeps swapping a directory inside it for a symlink to a
/// directory it wants destroyed (the pattern of CVE-2022-21658). The sweep
/// must never chmod, list or delete through the symlink.
#[test]
fn the_staging_sweep_never_follows_a_swapped_symlink() {
    let test = "the_staging_sweep_never_follows_a_swapped_symlink";
    let s = Scratch::new(test);
    let canary = s.join("canary");
    std::fs::create_dir_all(canary.join("sub")).unwrap();
    for name in ["a", "b", "c", "sub/d"] {
        std::fs::write(canary.join(name), "precious\n").unwrap();
    }
    std::fs::set_permissions(canary.join("sub"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(0o751)).unwrap();
    let before = listing(&canary);
    let tmp = std::fs::canonicalize(std::env::temp_dir()).unwrap();
    for i in 0..1000 {
        let tree = tmp.join(stale_name(&format!("swap{}", std::process::id()), i));
        let inner = tree.join("d");
        std::fs::create_dir_all(inner.join("sub")).unwrap();
        for n in 0..8 {
            std::fs::write(inner.join(format!("f{n}")), "x").unwrap();
        }
        // Mode 0: the sweep has to open it up before it can empty it.
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o0)).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (stop, tree, canary) = (Arc::clone(&stop), tree.clone(), canary.clone());
            std::thread::spawn(move || {
                let (d, held) = (tree.join("d"), tree.join("held"));
                while !stop.load(Ordering::Relaxed) {
                    if std::fs::rename(&d, &held).is_ok() {
                        let _ = symlink(&canary, &d);
                        std::thread::yield_now();
                        let _ = std::fs::remove_file(&d);
                        let _ = std::fs::rename(&held, &d);
                    } else {
                        std::thread::yield_now();
                    }
                }
            })
        };
        sweep_now();
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        open_up(&tree);
        let _ = std::fs::remove_dir_all(&tree);
        assert_eq!(
            listing(&canary),
            before,
            "the canary changed at iteration {i}"
        );
    }
}

#[test]
fn the_staging_sweep_leaves_other_users_trees_alone() {
    let test = "the_staging_sweep_leaves_other_users_trees_alone";
    if !is_root() {
        skip(test, "needs root to plant a tree owned by another user");
        return;
    }
    let tmp = std::fs::canonicalize(std::env::temp_dir()).unwrap();
    let tree = tmp.join(stale_name(&format!("other{}", std::process::id()), 0));
    std::fs::create_dir_all(tree.join("d")).unwrap();
    std::fs::write(tree.join("d/f"), "theirs\n").unwrap();
    for p in [tree.join("d/f"), tree.join("d"), tree.clone()] {
        std::os::unix::fs::lchown(&p, Some(65534), Some(65534)).unwrap();
    }
    let before = listing(&tree);
    sweep_now();
    let after = listing(&tree);
    let owner = std::fs::symlink_metadata(&tree).map(|m| m.uid());
    let _ = std::fs::remove_dir_all(&tree);
    assert_eq!(after, before);
    assert_eq!(owner.ok(), Some(65534));
}

// ---------------------------------------------------------------------------
// --chroot.
// ---------------------------------------------------------------------------

/// The classic escape from a chroot: make a directory, chroot into it while
/// the working directory stays outside, walk `..` up to the real root, and
/// chroot there. In `--chroot` mode the mount namespace's root is the
/// host's tree, so a command that may call `chroot(2)` reaches it.
const ESCAPE: &str = r#"
import os, sys
marker = sys.argv[1]
print("attempted")
os.makedirs("/w/x", exist_ok=True)
try:
    os.chroot("/w/x")
except OSError as e:
    print("chroot refused:", e.errno)
    sys.exit(0)
for _ in range(256):
    os.chdir("..")
os.chroot(".")
if os.path.exists(marker):
    print("ESCAPED: the host's", marker, "is visible")
else:
    print("escaped somewhere without the marker:", sorted(os.listdir("/")))
"#;

/// A directory only the host has: `/var/tmp` is no staging candidate (the
/// staging tmpfs goes on `/tmp`), so the host's stays visible from the
/// mount namespace's root.
struct HostMarker(PathBuf);

impl HostMarker {
    fn new(test: &str) -> Option<Self> {
        let path = PathBuf::from(format!(
            "/var/tmp/vb-escape-{test}-{}-{}",
            std::process::id(),
            nanos()
        ));
        std::fs::create_dir(&path).ok()?;
        Some(Self(path))
    }
}

impl Drop for HostMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn python3_available() -> bool {
    Path::new("/usr/bin/python3").exists()
}

/// Run the escape in `vb --chroot` with `extra` options; assert it fails.
///
/// Which `--chroot` sandboxes must hold: those whose command has no
/// CAP_SYS_CHROOT in its user namespace.
///
/// - An unprivileged caller (uid 65534 in the suites) keeps no capability in
///   the sandbox, as with bubblewrap, whether it stays uid 65534 inside
///   (with or without an explicit `--unshare-user`) or is mapped to uid 0
///   with `--uid 0`. These cases run in the unprivileged pass and SKIP as
///   root.
/// - Root mapped to another uid (`--unshare-user --uid 1000`) has none
///   either, and neither has an unprivileged caller mapped so: that case
///   runs in both passes.
/// - Root without a user namespace, and root with `--unshare-user` as uid
///   0, keep root's capabilities by design (bubblewrap does the same):
///   `--chroot` cannot contain them, no test claims it does, and
///   `docs/filesystem.md` says so.
fn chroot_escape_fails(test: &str, extra: &[&str]) {
    if !python3_available() {
        skip(test, "needs /usr/bin/python3");
        return;
    }
    let Some(marker) = HostMarker::new(test) else {
        skip(test, "cannot create a marker in /var/tmp");
        return;
    };
    let mut args = words(&["--chroot"]);
    args.extend(words(extra));
    args.extend(words(SYSTEM));
    args.extend(words(&[
        "--proc", "/proc", "--perms", "01777", "--tmpfs", "/w",
    ]));
    args.extend(words(&["/usr/bin/python3", "-c", ESCAPE]));
    args.push(marker.0.display().to_string());
    let out = voidbox_tests::run_vb(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("attempted"),
        "the sandbox did not run: {}",
        text(&out)
    );
    assert!(
        !stdout.contains("ESCAPED") && !stdout.contains("escaped somewhere"),
        "{extra:?}: {}",
        text(&out)
    );
}

/// `--chroot --unshare-user --uid 0` as uid 65534: uid 0 inside, but no
/// capability (see [`chroot_escape_fails`]).
#[test]
fn chroot_escape_fails_for_an_unprivileged_caller_mapped_to_uid_0() {
    let test = "chroot_escape_fails_for_an_unprivileged_caller_mapped_to_uid_0";
    if is_root() {
        skip(
            test,
            "root keeps its capabilities as uid 0; the uid 65534 pass runs this",
        );
        return;
    }
    if !userns_available() {
        skip(test, "user namespaces are disabled on this host");
        return;
    }
    chroot_escape_fails(test, &["--unshare-user", "--uid", "0"]);
}

/// `--chroot` and `--chroot --unshare-user` as uid 65534, which stays its
/// uid inside.
#[test]
fn chroot_escape_fails_for_an_unprivileged_caller() {
    let test = "chroot_escape_fails_for_an_unprivileged_caller";
    if is_root() {
        skip(
            test,
            "root keeps its capabilities; the uid 65534 pass runs this",
        );
        return;
    }
    if !userns_available() {
        skip(test, "user namespaces are disabled on this host");
        return;
    }
    chroot_escape_fails(test, &[]);
    chroot_escape_fails(test, &["--unshare-user"]);
}

/// `--chroot --unshare-user --uid 1000`, for root and for uid 65534.
#[test]
fn chroot_escape_fails_as_a_non_root_uid_in_a_user_namespace() {
    let test = "chroot_escape_fails_as_a_non_root_uid_in_a_user_namespace";
    if !userns_available() {
        skip(test, "user namespaces are disabled on this host");
        return;
    }
    chroot_escape_fails(test, &["--unshare-user", "--uid", "1000"]);
}
