//! Attacks on what the sandbox keeps apart: the host's tree it pivoted away
//! from, the host's processes, and the operations that need a capability.
//!
//! Every attack runs in each confined profile of [`confined_profiles`] — uid
//! 65534 with and without `--uid 0`; root with `--cap-drop ALL`, alone and
//! with `--unshare-user` (with and without `--uid 0`) — in a sandbox built of
//! the host's `/usr` only ([`SYSTEM`]), so nothing of the host's temporary
//! directory is bound in.
//!
//! The probes are small python3 programs that make the system calls
//! themselves and print the errno they got, so a refusal is told apart from
//! a probe that could not run: util-linux `mount`, for one, refuses a caller
//! whose uid is not 0 before calling mount(2) at all. Where the test runs as
//! root holding the capabilities an attack needs, a control runs the same
//! probe without `--cap-drop` and asserts that it succeeds: the attack is
//! real, and only the confinement stops it.

use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use voidbox_tests::{is_root, needs_userns, run_vb, skip, stderr, stdout, vb, with_fds};

use super::fs::SYSTEM;
use super::proc::confined_profiles;

const PYTHON: &str = "/usr/bin/python3";

/// A PID namespace with its own procfs.
const PID_NS: &[&str] = &["--unshare-pid", "--proc", "/proc"];

/// No PID namespace: `--proc` then shows the host's processes (a bind of the
/// host's procfs for an unprivileged caller, a procfs of the host's PID
/// namespace for root).
const HOST_PIDS: &[&str] = &["--proc", "/proc"];

/// `--disable-userns`, with the user namespace it needs: setup then holds a
/// descriptor of the host's `/proc` and runs the sandbox in a nested user
/// namespace.
const NESTED_USERNS: &[&str] = &["--unshare-user", "--disable-userns"];

fn needs_python(test: &str) -> bool {
    !Path::new(PYTHON).exists() && skip(test, "python3 is not installed in /usr/bin")
}

const CAP_CHOWN: u32 = 0;
const CAP_NET_RAW: u32 = 13;
const CAP_SYS_PTRACE: u32 = 19;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_MKNOD: u32 = 27;

/// Whether this process is root with each of `caps` effective, so that a
/// sandbox without `--cap-drop` holds them too.
fn holds(caps: &[u32]) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or_default();
    is_root() && caps.iter().all(|c| effective & (1 << c) != 0)
}

/// Whether the unconfined control of `test`, which needs `caps`, can run;
/// prints a SKIP line for it when not.
fn control_runs(test: &str, caps: &[u32]) -> bool {
    holds(caps)
        || !skip(
            &format!("{test} (unconfined control)"),
            "needs root holding the capabilities the attack needs",
        )
}

/// `vb` with [`SYSTEM`], `profile` and `extra`, running `command` from `/`.
fn sandbox_args<'a>(profile: &[&'a str], extra: &[&'a str], command: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = SYSTEM.to_vec();
    args.extend_from_slice(&["--chdir", "/"]);
    args.extend_from_slice(profile);
    args.extend_from_slice(extra);
    args.push("--");
    args.extend_from_slice(command);
    args
}

fn sandbox(profile: &[&str], extra: &[&str], command: &[&str]) -> Output {
    run_vb(sandbox_args(profile, extra, command))
}

fn report(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

/// A directory of the host that no sandbox here binds, holding `marker`, a
/// file whose content is a token no other file has. Removed on drop.
struct HostOnly {
    dir: PathBuf,
    token: String,
}

impl HostOnly {
    fn new(test: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("vb-escape-{test}-{}-{nanos}", std::process::id());
        let dir = std::env::temp_dir().join(&name);
        assert!(
            !dir.starts_with("/usr") && !dir.starts_with("/proc"),
            "the temporary directory {} is inside the sandbox",
            dir.display()
        );
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let token = format!("host-only {name}");
        let marker = dir.join("marker");
        std::fs::write(&marker, &token).unwrap();
        std::fs::set_permissions(&marker, std::fs::Permissions::from_mode(0o644)).unwrap();
        Self { dir, token }
    }

    fn dir(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// The marker's host path without its leading `/`, to append to a root.
    fn relative_marker(&self) -> String {
        let marker = self.dir.join("marker");
        marker.to_str().unwrap().trim_start_matches('/').to_owned()
    }
}

impl Drop for HostOnly {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Looks for the marker (argv 1: its host path without the leading `/`;
/// argv 2: its content) from inside. By path: from `/`, from `..` above it,
/// through the `root` and `cwd` links of itself, of pid 1 and of its parent,
/// and below every mount point of the sandbox (with each tail of the
/// marker's path, for a host directory mounted anywhere). By descriptor:
/// every descriptor of those processes whose list is readable — its link
/// must not name the marker's directory, and climbing `..` from it (a
/// directory outside the root is not stopped at the root) must not reach a
/// directory where the marker's path opens. Prints `REACHED how` for every
/// way that worked, then `done`.
const REACH_PROBE: &str = r#"
import os, sys
rel, token = sys.argv[1], sys.argv[2]
name = rel.split("/")[-2]
hits = []

def reads(path, at=None):
    try:
        fd = os.open(path, os.O_RDONLY, dir_fd=at)
    except OSError:
        return False
    try:
        return os.read(fd, 4096).decode(errors="replace") == token
    finally:
        os.close(fd)

def climb(start, how):
    try:
        d = os.open(start, os.O_PATH | os.O_DIRECTORY)
    except OSError:
        return
    seen = set()
    while len(seen) < 64:
        st = os.fstat(d)
        if (st.st_dev, st.st_ino) in seen:
            break
        seen.add((st.st_dev, st.st_ino))
        if reads(rel, d):
            hits.append(how)
            break
        up = os.open("..", os.O_PATH | os.O_DIRECTORY, dir_fd=d)
        os.close(d)
        d = up
    os.close(d)

ppid = os.getppid()
print("parent", ppid)
pids = ["self", "1"] + ([str(ppid)] if ppid not in (0, 1) else [])
for base in ["/", "/../", "/../../../../"] + [f"/proc/{p}/{l}/" for p in pids for l in ("root", "cwd")]:
    if reads(base + rel):
        hits.append("path " + base + rel)
parts = rel.split("/")
with open("/proc/self/mountinfo") as f:
    mounts = [l.split(" ")[4].encode().decode("unicode_escape") for l in f]
for mount in mounts:
    for i in range(len(parts)):
        path = mount.rstrip("/") + "/" + "/".join(parts[i:])
        if reads(path):
            hits.append("path " + path)
for pid in pids:
    for link in ("root", "cwd"):
        climb(f"/proc/{pid}/{link}", f"climb from /proc/{pid}/{link}")
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError as e:
        print(f"descriptors of {pid}: {e.strerror}")
        continue
    print(f"descriptors of {pid}: {' '.join(sorted(fds, key=int))}")
    for n in fds:
        link = f"/proc/{pid}/fd/{n}"
        try:
            target = os.readlink(link)
        except OSError:
            continue
        if name in target:
            hits.append(f"link {link} -> {target}")
        climb(link, f"climb from {link} -> {target}")
for how in hits:
    print("REACHED", how)
print("done")
"#;

fn reach(host: &HostOnly, profile: &[&str], extra: &[&str]) -> Output {
    let rel = host.relative_marker();
    sandbox(
        profile,
        extra,
        &[PYTHON, "-c", REACH_PROBE, &rel, &host.token],
    )
}

/// The `REACHED` lines of a probe that ran to its end.
fn reached(out: &Output, what: &str) -> Vec<String> {
    let text = stdout(out);
    assert_eq!(text.lines().last(), Some("done"), "{what}: {}", report(out));
    text.lines()
        .filter(|l| l.starts_with("REACHED"))
        .map(str::to_owned)
        .collect()
}

/// After `pivot_root` the host's tree the sandbox left is unreachable: no
/// path leads to a file of the host that is not bound in — from `/`, `..`
/// above it, `/proc/self/root`, `/proc/self/cwd`, `/proc/1/root`, the
/// parent's `root`, any mount point of the sandbox — and no descriptor of
/// the command, of pid 1 or of the parent is a directory of the host's tree
/// or lies below one.
///
/// All confined profiles apply: the old root is detached whoever the caller
/// is. Each runs with and without a PID namespace, and each of those again
/// with `--disable-userns`, for which vb holds a descriptor of the host's
/// `/proc` during setup. With `--unshare-pid --proc /proc`, pid 1 and the
/// parent are the sandbox's reaper: it is not dumpable, so a command whose
/// uid owns its `/proc` entry (uid 0, inside or outside a user namespace)
/// may list its descriptor numbers, but no command can follow them.
/// Without a PID namespace, `/proc` shows the host's processes: pid 1 is the
/// host's init and the parent is vb itself, whose pids, command lines and
/// status are visible by design (and, to a command of their uid, their
/// descriptor numbers), but whose `root`, `cwd` and descriptors cannot be
/// followed: an unprivileged command lives in a child user namespace and
/// holds no `CAP_SYS_PTRACE` over them, and root with `--cap-drop ALL` has
/// an empty permitted set, not a superset of theirs. The command's own
/// descriptors are readable in every case: its standard streams (the
/// caller's `/dev/null` and pipes) must be all it has.
///
/// Controls: the probe finds the marker when its directory is bound in,
/// when the host's `/` is bound at `/oldroot` (as an old root left mounted
/// would be), and through a descriptor of its directory inherited from the
/// caller (which the command gets by design); root with `CAP_SYS_PTRACE`
/// and no `--cap-drop` reaches it through vb's `/proc/PID/root` without a
/// PID namespace (vb rather than init: some hosts guard init even from
/// root).
#[test]
fn no_path_or_descriptor_reaches_the_old_root() {
    let test = "no_path_or_descriptor_reaches_the_old_root";
    if needs_userns(test) || needs_python(test) {
        return;
    }
    let host = HostOnly::new(test);
    for profile in confined_profiles() {
        for pids in [PID_NS, HOST_PIDS] {
            for nested in [&[][..], NESTED_USERNS] {
                let mut extra = pids.to_vec();
                extra.extend_from_slice(nested);
                let out = reach(&host, &profile, &extra);
                let what = format!("{profile:?} {extra:?}");
                assert_eq!(reached(&out, &what), Vec::<String>::new(), "{what}");
                // The command's descriptors were listed: stdin, stdout, stderr
                // and the probe's own listing.
                assert!(
                    stdout(&out).contains("descriptors of self: 0 1 2"),
                    "{what}: {}",
                    report(&out)
                );
            }
        }
    }

    let profile = &confined_profiles()[0];
    let mut extra = PID_NS.to_vec();
    extra.extend_from_slice(&["--ro-bind", host.dir(), host.dir()]);
    let bound = reach(&host, profile, &extra);
    let hits = reached(&bound, "bound in");
    assert!(
        hits.iter()
            .any(|h| h.starts_with("REACHED path /proc/self/root/")),
        "{hits:?}"
    );
    let mut extra = PID_NS.to_vec();
    extra.extend_from_slice(&["--ro-bind", "/", "/oldroot"]);
    let left_mounted = reach(&host, profile, &extra);
    let hits = reached(&left_mounted, "old root left mounted");
    assert!(
        hits.iter().any(|h| h.starts_with("REACHED path /oldroot/")),
        "{hits:?}"
    );
    let dir = std::fs::File::open(&host.dir).unwrap();
    let rel = host.relative_marker();
    let mut cmd = vb(sandbox_args(
        profile,
        PID_NS,
        &[PYTHON, "-c", REACH_PROBE, &rel, &host.token],
    ));
    let inherited = with_fds(&mut cmd, &[(7, dir.as_raw_fd())])
        .output()
        .unwrap();
    let hits = reached(&inherited, "inherited descriptor");
    assert!(
        hits.iter()
            .any(|h| h.starts_with("REACHED link /proc/self/fd/7")),
        "{hits:?}"
    );
    assert!(
        hits.iter()
            .any(|h| h.starts_with("REACHED climb from /proc/self/fd/7")),
        "{hits:?}"
    );

    if control_runs(test, &[CAP_SYS_PTRACE]) {
        let out = reach(&host, &[], HOST_PIDS);
        let hits = reached(&out, "unconfined root");
        let ppid = stdout(&out)
            .lines()
            .find_map(|l| l.strip_prefix("parent ").map(str::to_owned))
            .unwrap_or_default();
        let parent = format!("REACHED path /proc/{ppid}/root/");
        assert!(hits.iter().any(|h| h.starts_with(&parent)), "{hits:?}");
    }
}

/// Opens argv 1 below the `root` of pid 1 and of its parent, and prints for
/// each `read` or the errno's name.
const ROOT_PROBE: &str = r#"
import errno, os, sys
for who, pid in (("init", 1), ("parent", os.getppid())):
    try:
        os.close(os.open(f"/proc/{pid}/root/{sys.argv[1]}", os.O_RDONLY))
        print(who, "read")
    except OSError as e:
        print(who, errno.errorcode.get(e.errno, e.errno))
"#;

/// Without a PID namespace the host's init is the command's `/proc/1` and vb
/// itself its parent; their `root` links lead to the host's tree. Opening a
/// host file through `/proc/1/root/<its path>` (or vb's) must fail with
/// `EACCES`.
///
/// All confined profiles apply: an unprivileged command (uid 65534 or uid 0
/// of its user namespace) is in a child user namespace without
/// `CAP_SYS_PTRACE` over theirs; root with `--cap-drop ALL`, with or without
/// a user namespace, has an empty permitted set, and the kernel lets a
/// process of their uid follow their links only with a permitted set that
/// covers theirs. What stays visible by design is what any process of the
/// host may read of them: pid, command line, status.
///
/// Control: root with `CAP_SYS_PTRACE` and no `--cap-drop` opens the file
/// through vb's link (init's is not asserted: some hosts guard init even
/// from root).
#[test]
fn the_hosts_proc_1_root_is_refused_without_a_pid_namespace() {
    let test = "the_hosts_proc_1_root_is_refused_without_a_pid_namespace";
    if needs_userns(test) || needs_python(test) {
        return;
    }
    let host = HostOnly::new(test);
    let rel = host.relative_marker();
    for profile in confined_profiles() {
        let out = sandbox(&profile, HOST_PIDS, &[PYTHON, "-c", ROOT_PROBE, &rel]);
        assert_eq!(
            stdout(&out),
            "init EACCES\nparent EACCES",
            "{profile:?}: {}",
            report(&out)
        );
    }
    if control_runs(test, &[CAP_SYS_PTRACE]) {
        let out = sandbox(&[], HOST_PIDS, &[PYTHON, "-c", ROOT_PROBE, &rel]);
        assert!(stdout(&out).ends_with("\nparent read"), "{}", report(&out));
    }
}

/// Prints the numeric entries of `/proc`, sorted, then its own pid.
const PIDS_PROBE: &str = r#"
import os
print(" ".join(sorted((e for e in os.listdir("/proc") if e.isdigit()), key=int)))
print(os.getpid())
"#;

/// With `--unshare-pid --proc /proc` the command's `/proc` lists the
/// sandbox's processes only: pid 1 (the reaper) and the command itself.
///
/// All confined profiles apply; the PID namespace hides the host's
/// processes whoever runs the sandbox. Control, in every profile: without a
/// PID namespace the same probe lists the host's processes too (at least vb
/// and the test above it).
#[test]
fn proc_lists_only_the_sandboxs_processes_in_a_pid_namespace() {
    let test = "proc_lists_only_the_sandboxs_processes_in_a_pid_namespace";
    if needs_userns(test) || needs_python(test) {
        return;
    }
    for profile in confined_profiles() {
        let out = sandbox(&profile, PID_NS, &[PYTHON, "-c", PIDS_PROBE]);
        let text = stdout(&out);
        let mut lines = text.lines();
        let listed = lines.next().unwrap_or_default();
        let own = lines.next().unwrap_or_default();
        assert!(!own.is_empty(), "{profile:?}: {}", report(&out));
        assert_eq!(listed, format!("1 {own}"), "{profile:?}: {}", report(&out));

        let out = sandbox(&profile, HOST_PIDS, &[PYTHON, "-c", PIDS_PROBE]);
        let listed = stdout(&out).lines().next().unwrap_or_default().to_owned();
        assert!(
            listed.split(' ').count() > 2,
            "{profile:?}: {}",
            report(&out)
        );
    }
}

/// Reads the environment of pid 1 and of its parent, and prints for each
/// `read` or the errno's name.
const ENVIRON_PROBE: &str = r#"
import errno, os
for who, pid in (("init", 1), ("parent", os.getppid())):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            f.read()
        print(who, "read")
    except OSError as e:
        print(who, errno.errorcode.get(e.errno, e.errno))
"#;

/// Where the host's `/proc` is shown (no PID namespace), the environments of
/// the host's init and of vb itself, the command's parent, stay unreadable:
/// they may hold secrets the caller never passed to the sandbox (vb's keeps
/// what `--unsetenv` and `--clearenv` kept from the command).
///
/// All confined profiles apply, for the reasons given for `/proc/1/root`
/// above (reading `environ` takes the same access check as following
/// `root`). Control: root with `CAP_SYS_PTRACE` and no `--cap-drop` reads
/// vb's (init's is not asserted: some hosts guard init even from root).
#[test]
fn the_hosts_environments_are_unreadable_through_a_shared_proc() {
    let test = "the_hosts_environments_are_unreadable_through_a_shared_proc";
    if needs_userns(test) || needs_python(test) {
        return;
    }
    for profile in confined_profiles() {
        let out = sandbox(&profile, HOST_PIDS, &[PYTHON, "-c", ENVIRON_PROBE]);
        assert_eq!(
            stdout(&out),
            "init EACCES\nparent EACCES",
            "{profile:?}: {}",
            report(&out)
        );
    }
    if control_runs(test, &[CAP_SYS_PTRACE]) {
        let out = sandbox(&[], HOST_PIDS, &[PYTHON, "-c", ENVIRON_PROBE]);
        assert!(stdout(&out).ends_with("\nparent read"), "{}", report(&out));
    }
}

/// Runs each attack named in argv in a forked child, so one that succeeds
/// does not change the next one's conditions, and prints `name ok` or
/// `name ERRNO`. `mount`: a tmpfs on /mnt. `chown`: a file of the command's
/// own given to another uid. `raw-socket`: an ICMP raw socket. `unshare-net`:
/// a network namespace (`unshare -n`). `mknod`: a character device.
/// `unshare-user-net`: a user and a network namespace (`unshare -rn`).
const PRIVILEGED_PROBE: &str = r#"
import ctypes, errno, os, socket, stat, sys
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000

def check(rc):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def chown():
    path = "/tmp/owned"
    open(path, "w").close()
    os.chown(path, 1 if os.getuid() == 0 else 0, -1)

attacks = {
    "mount": lambda: check(libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)),
    "chown": chown,
    "raw-socket": lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close(),
    "unshare-net": lambda: check(libc.unshare(CLONE_NEWNET)),
    "mknod": lambda: os.mknod("/tmp/null", stat.S_IFCHR | 0o600, os.makedev(1, 3)),
    "unshare-user-net": lambda: check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNET)),
}
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            attacks[name]()
            code = 0
        except OSError as e:
            code = e.errno
        except BaseException:
            code = 255
        os._exit(code)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    print(name, "ok" if code == 0 else errno.errorcode.get(code, code))
"#;

const PRIVILEGED: &[&str] = &["mount", "chown", "raw-socket", "unshare-net", "mknod"];

fn attack(profile: &[&str], extra: &[&str], attacks: &[&str]) -> Output {
    let mut extra = extra.to_vec();
    extra.extend_from_slice(&["--tmpfs", "/mnt", "--tmpfs", "/tmp"]);
    let mut command = vec![PYTHON, "-c", PRIVILEGED_PROBE];
    command.extend_from_slice(attacks);
    sandbox(profile, &extra, &command)
}

/// A command without capabilities can neither mount a tmpfs, give a file to
/// another uid, open a raw socket, create a network namespace (`unshare -n`:
/// `CAP_SYS_ADMIN` in its current user namespace), nor create a device node.
/// Each is refused with `EPERM`, but `chown` in a user namespace: there the
/// only uid mapped is the command's own, and the kernel refuses an unmapped
/// one with `EINVAL` before it looks at capabilities; root with
/// `--cap-drop ALL` and no user namespace is the profile where the
/// capability alone decides it.
///
/// All confined profiles apply, each with the host's network and with
/// `--unshare-net`. The second matters in a user namespace: it owns the new
/// network namespace, so a capability kept there would be enough for the raw
/// socket. Whether the command may create a user namespace of its own is not
/// asserted here (it may, by design, unless `--disable-userns`).
///
/// Control: root holding `CAP_SYS_ADMIN`, `CAP_CHOWN`, `CAP_NET_RAW` and
/// `CAP_MKNOD`, without `--cap-drop` or a user namespace, succeeds at all
/// five.
#[test]
fn privileged_operations_are_refused_without_capabilities() {
    let test = "privileged_operations_are_refused_without_capabilities";
    if needs_userns(test) || needs_python(test) {
        return;
    }
    for profile in confined_profiles() {
        let in_userns = !is_root() || profile.contains(&"--unshare-user");
        for net in [&[][..], &["--unshare-net"][..]] {
            let out = attack(&profile, net, PRIVILEGED);
            let chown = if in_userns { "EINVAL" } else { "EPERM" };
            let expected = format!(
                "mount EPERM\nchown {chown}\nraw-socket EPERM\nunshare-net EPERM\nmknod EPERM"
            );
            assert_eq!(
                stdout(&out),
                expected,
                "{profile:?} {net:?}: {}",
                report(&out)
            );
        }
    }
    if control_runs(test, &[CAP_SYS_ADMIN, CAP_CHOWN, CAP_NET_RAW, CAP_MKNOD]) {
        let out = attack(&[], &[], PRIVILEGED);
        assert_eq!(
            stdout(&out),
            "mount ok\nchown ok\nraw-socket ok\nunshare-net ok\nmknod ok",
            "{}",
            report(&out)
        );
    }
}

/// Under `--disable-userns` the command cannot create a user namespace (and
/// so cannot reach a network namespace of its own through one, as
/// `unshare -rn` does): the attack fails with an errno.
///
/// All confined profiles apply, each given `--unshare-user` where it has no
/// explicit one (`--disable-userns` needs a user namespace vb made). Without
/// the option the attack may succeed, by design, and is not asserted on.
#[test]
fn a_user_namespace_is_refused_under_disable_userns() {
    let test = "a_user_namespace_is_refused_under_disable_userns";
    if needs_userns(test) || needs_python(test) {
        return;
    }
    let mut profiles = Vec::new();
    for mut profile in confined_profiles() {
        if !profile.contains(&"--unshare-user") {
            profile.push("--unshare-user");
        }
        if !profiles.contains(&profile) {
            profiles.push(profile);
        }
    }
    for profile in profiles {
        let out = attack(&profile, &["--disable-userns"], &["unshare-user-net"]);
        let text = stdout(&out);
        let result = text.strip_prefix("unshare-user-net ").unwrap_or_default();
        assert!(result.starts_with('E'), "{profile:?}: {}", report(&out));
    }
}
