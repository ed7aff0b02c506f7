//! Shared by the `fs_*` suites: running `vb` and `bwrap` on the same
//! filesystem options, what a sandbox sees of its tree, scratch directories,
//! and snapshots of everything a run could leave on the host.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A SKIP (or NOTE) line on the real stderr: libtest captures `eprintln!` of
/// passing tests, and a skip must show in a normal run.
pub(crate) fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Print `SKIP <test>: <reason>` and return `true`.
pub(crate) fn skip(test: &str, reason: &str) -> bool {
    say(&format!("SKIP {test}: {reason}"));
    true
}

/// Whether this run is root.
pub(crate) fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Whether Debian's bubblewrap is installed.
pub(crate) fn bwrap_available() -> bool {
    Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Which tool to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tool {
    Vb,
    Bwrap,
}

impl Tool {
    pub(crate) fn program(self) -> PathBuf {
        match self {
            Self::Vb => voidbox_tests::vb_bin(),
            Self::Bwrap => PathBuf::from("bwrap"),
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::Vb => "vb: ",
            Self::Bwrap => "bwrap: ",
        }
    }
}

/// The outcome of one run, with the tool's name taken out of its messages.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// A minimal system for the command inside: the host's /usr, the merged-/usr
/// links and a /proc (for findmnt).
pub(crate) fn base() -> Vec<String> {
    voidbox_tests::HOST_USR
        .iter()
        .chain(&["--proc", "/proc"])
        .map(|s| (*s).to_owned())
        .collect()
}

/// A shell script printing the visible tree below `paths`
/// (`find -printf '%p %m %y %s'`), the content of regular files there, and
/// the sandbox's mounts (`findmnt -o TARGET,FSTYPE,OPTIONS`) other than the
/// root, `/usr` and `/proc` of [`base`].
pub(crate) fn inspect(paths: &[&str]) -> String {
    let mut script = String::new();
    for p in paths {
        script.push_str(&format!(
            "find {p} -printf '%p %m %y %s\\n' 2>&1 | LC_ALL=C sort; \
             find {p} -type f -size -4k -exec sh -c '[ -c \"$1\" ] || {{ echo \"== $1\"; cat \"$1\"; }}' _ {{}} \\; 2>/dev/null | head -200; "
        ));
    }
    script.push_str(
        "findmnt -rn -o TARGET,FSTYPE,OPTIONS | grep -Ev '^(/|/usr[^ ]*|/proc[^ ]*) '; true",
    );
    script
}

/// Run `tool` with `args` then `command`, with the given files opened
/// read-only on descriptors 3, 4, 5... (a directory too), from `/`.
pub(crate) fn run_with(tool: Tool, args: &[String], fds: &[&Path], command: &[&str]) -> Run {
    let mut redirects = String::new();
    for (i, _) in fds.iter().enumerate() {
        redirects.push_str(&format!(" {}<\"$VBT_FD{}\"", i + 3, i + 3));
    }
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(format!("exec \"$@\"{redirects}"))
        .arg("sh")
        .arg(tool.program())
        .args(args)
        .args(command)
        .current_dir("/")
        .stdin(Stdio::null());
    for (i, f) in fds.iter().enumerate() {
        cmd.env(format!("VBT_FD{}", i + 3), f);
    }
    let out = cmd.output().expect("run the tool");
    let strip = |s: &[u8]| {
        String::from_utf8_lossy(s)
            .lines()
            .map(|l| l.strip_prefix(tool.prefix()).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: strip(&out.stderr),
    }
}

/// Run `tool` with [`base`], `args`, and a shell printing [`inspect`]`(paths)`.
pub(crate) fn run_inspect(tool: Tool, args: &[String], fds: &[&Path], paths: &[&str]) -> Run {
    let mut full: Vec<String> = base();
    full.extend_from_slice(args);
    let script = inspect(paths);
    run_with(tool, &full, fds, &["sh", "-c", &script])
}

/// Words to strings.
pub(crate) fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| (*s).to_owned()).collect()
}

/// A scratch directory, removed (even if sandboxes left read-only mounts
/// behind — they cannot: each run had its own mount namespace) on drop.
pub(crate) struct Scratch {
    pub(crate) path: PathBuf,
}

impl Scratch {
    pub(crate) fn new(test: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!(
            "vb-fs-test-{test}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { path }
    }

    pub(crate) fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    pub(crate) fn s(&self, rel: &str) -> String {
        self.join(rel).display().to_string()
    }

    /// A small tree: `file`, a `link` to it, `sub/` (0751) with `f2`, `sub/deeper/`.
    pub(crate) fn populate(&self) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(self.join("src/sub/deeper")).unwrap();
        std::fs::write(self.join("src/file"), "hello\n").unwrap();
        std::fs::write(self.join("src/sub/f2"), "inner\n").unwrap();
        let _ = std::os::unix::fs::symlink("file", self.join("src/link"));
        std::fs::set_permissions(self.join("src/sub"), std::fs::Permissions::from_mode(0o751))
            .unwrap();
        std::fs::write(self.join("data.txt"), "data from a descriptor\n").unwrap();
        std::fs::write(self.join("data2.txt"), "second payload\n").unwrap();
    }

    /// Every path below the directory with its type and mode, for comparing
    /// before and after a run.
    pub(crate) fn listing(&self) -> BTreeSet<String> {
        listing(&self.path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        open_up(&self.path);
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Give the owner access to every directory below `dir`: overlayfs leaves a
/// mode-0 `work/work` in an `--overlay` work directory, which an
/// unprivileged run could not otherwise remove.
fn open_up(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
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

/// Every path below `dir` with its type and mode.
pub(crate) fn listing(dir: &Path) -> BTreeSet<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let kind = if meta.is_dir() {
                stack.push(p.clone());
                "d"
            } else if meta.file_type().is_symlink() {
                "l"
            } else {
                "f"
            };
            out.insert(format!(
                "{} {kind} {:o}",
                p.display(),
                meta.permissions().mode() & 0o7777
            ));
        }
    }
    out
}

/// vb-fs artifacts anywhere they could be left: the staging candidates (a
/// root switch stages on the first that exists, inside the sandbox's own
/// mount namespace; nothing may show outside) and the temporary directory
/// (private staging directories without a root switch).
pub(crate) fn artifacts() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = ["/tmp", "/run", "/mnt", "/var/tmp"]
        .iter()
        .map(PathBuf::from)
        .collect();
    dirs.push(std::env::temp_dir());
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "newroot"
                || name == "oldroot"
                || name.starts_with("bindfile")
                || name.starts_with("tmp-overlay-")
                || name.starts_with(".vb-fs-")
            {
                out.insert(e.path().display().to_string());
            }
        }
    }
    out
}

/// The host's mount table as `mountpoint fstype options` lines.
pub(crate) fn mounts() -> BTreeSet<String> {
    voidbox_tests::mount_table()
}

/// `OsString`s for a command.
pub(crate) fn os(words: &[String]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}
