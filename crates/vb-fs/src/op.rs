//! The compiled plan's operations: plain data, built by `compile` in the
//! parent, run by `child` in the sandbox, and turned back into messages by
//! `describe`. Every path, option string and byte an operation needs is here
//! already, so running one allocates nothing.
//!
//! This module imports nothing else of the crate: it is the leaf every side
//! of the plan builds on.

use std::ffi::{CStr, CString};
use std::os::fd::RawFd;

use rustix::mount::{MountFlags, MountPropagationFlags};

/// Where things are during setup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// The new root as a path from the setup root.
    pub(crate) new_root: &'static CStr,
    /// What host paths are found under during setup.
    pub(crate) old_prefix: &'static str,
    /// The directory of `/proc/self/fd` links during setup.
    pub(crate) fd_links: &'static str,
    /// This process's mount table during setup.
    pub(crate) mountinfo: &'static CStr,
    /// The host's procfs, as bubblewrap names it in its bind message.
    pub(crate) host_proc: &'static CStr,
}

impl Layout {
    /// Whether the new root is somewhere below the process's root during
    /// setup, so that lookups there must be confined to it.
    pub(crate) fn has_new_root(&self) -> bool {
        self.new_root.to_bytes() != b"/"
    }
}

/// bubblewrap's layout during a root switch: the setup root, a tmpfs, holds
/// `newroot` and `oldroot`.
pub(crate) const NEW_ROOT: Layout = Layout {
    new_root: c"/newroot",
    old_prefix: "/oldroot",
    fd_links: "/oldroot/proc/self/fd/",
    mountinfo: c"/oldroot/proc/self/mountinfo",
    host_proc: c"/oldroot/proc",
};

/// No root switch: the host's tree, in the sandbox's mount namespace.
pub(crate) const HOST: Layout = Layout {
    new_root: c"/",
    old_prefix: "",
    fd_links: "/proc/self/fd/",
    mountinfo: c"/proc/self/mountinfo",
    host_proc: c"/proc",
};

/// One operation of a plan.
#[derive(Debug)]
pub(crate) enum Op {
    /// A step before or after the actions: the root switch and what the
    /// root needs.
    RootStep(RootStep),
    /// `--bind` and friends, `--bind-fd`.
    Bind(BindOp),
    /// `--remount-ro`.
    RemountRo(RemountOp),
    /// `--proc`.
    Proc(ProcOp),
    /// `--dev`.
    Dev(DevOp),
    /// `--tmpfs`, `--mqueue` and the overlays.
    NewFs(NewFsOp),
    /// `--dir`.
    Dir(DirOp),
    /// `--file`.
    File(FileOp),
    /// `--bind-data`, `--ro-bind-data`.
    BindData(BindDataOp),
    /// `--symlink`.
    Symlink(SymlinkOp),
    /// `--chmod`.
    Chmod(ChmodOp),
    /// Close the caller's descriptors the actions consumed, so the command
    /// does not inherit them (bubblewrap closes them in its child too).
    CloseFds(Vec<RawFd>),
}

impl Op {
    /// The destination an action works on.
    pub(crate) fn dest(&self) -> Option<&Dest> {
        match self {
            Self::RootStep(_) | Self::CloseFds(_) => None,
            Self::Bind(op) => Some(&op.dest),
            Self::RemountRo(op) => Some(&op.dest),
            Self::Proc(op) => Some(&op.dest),
            Self::Dev(op) => Some(&op.dest),
            Self::NewFs(op) => Some(&op.dest),
            Self::Dir(op) => Some(&op.dest),
            Self::File(op) => Some(&op.dest),
            Self::BindData(op) => Some(&op.dest),
            Self::Symlink(op) => Some(&op.dest),
            Self::Chmod(op) => Some(&op.dest),
        }
    }

    /// The `--bind-data` data file an action creates.
    pub(crate) fn data_file(&self) -> Option<&CStr> {
        match self {
            Self::BindData(op) => Some(&op.data_file),
            _ => None,
        }
    }
}

/// A destination, in every form the child and the messages need.
#[derive(Debug, Clone)]
pub(crate) struct Dest {
    /// The destination as the caller wrote it, for messages (bubblewrap
    /// names `op->dest` in most of them).
    pub(crate) shown: String,
    /// Its path from the process root during setup (`/newroot/...`): the
    /// form bubblewrap's mount messages name, and the path the legacy mount
    /// API works on.
    pub(crate) abs: CString,
    /// Relative to the new root (`.` for the root itself).
    pub(crate) rel: CString,
    /// Where the last component (`.` for the root itself) starts in `rel`.
    pub(crate) name_at: usize,
    /// The parent directories to create, shallowest first.
    pub(crate) parents: Parents,
    /// The mode of parents created for it (see [`Dest::with_perms`]; 0700
    /// until a mode is given).
    pub(crate) parent_mode: u32,
    /// `rel` is one or more plain names (no `.` or `..`): a lookup of it
    /// that follows no symlink ends strictly below the new root, never on
    /// the root itself.
    pub(crate) plain: bool,
}

impl Dest {
    /// The setup-time path of the destination, for messages.
    pub(crate) fn abs_shown(&self) -> String {
        self.abs.to_string_lossy().into_owned()
    }

    /// The last component (`.` for the root itself).
    pub(crate) fn name(&self) -> &CStr {
        tail(&self.rel, self.name_at)
    }

    /// The relative path of the directory holding the destination.
    pub(crate) fn parent_rel(&self) -> &CStr {
        match self.parents.last() {
            Some((prefix, _)) if prefix.to_bytes() != self.rel.as_bytes() => prefix,
            Some(_) => {
                // With a trailing slash the destination is its own last parent.
                let n = self.parents.len();
                match n.checked_sub(2).and_then(|i| self.parents.get(i)) {
                    Some((prefix, _)) => prefix,
                    None => c".",
                }
            }
            None => c".",
        }
    }
}

/// The end of `s` from byte `at` (all of it if `at` is out of range).
fn tail(s: &CStr, at: usize) -> &CStr {
    s.to_bytes_with_nul()
        .get(at..)
        .and_then(|b| CStr::from_bytes_with_nul(b).ok())
        .unwrap_or(s)
}

/// The parent directories of a destination, shallowest first, each as a
/// path relative to the new root (`a`, `a/b`...): NUL-terminated, one after
/// the other in one buffer, so a destination costs one allocation for all
/// its parents. Read without allocating.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parents {
    buf: Box<[u8]>,
    len: usize,
}

impl Parents {
    /// Parents from their paths, shallowest first; each path must be free
    /// of NUL bytes (the caller checked).
    pub(crate) fn new<'p>(paths: impl Iterator<Item = &'p [u8]> + Clone) -> Self {
        let size = paths.clone().map(|p| p.len() + 1).sum();
        let mut buf = Vec::with_capacity(size);
        let mut len = 0;
        for path in paths {
            buf.extend_from_slice(path);
            buf.push(0);
            len += 1;
        }
        Self {
            buf: buf.into_boxed_slice(),
            len,
        }
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Each parent as its path and its last component.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&CStr, &CStr)> {
        let mut rest: &[u8] = &self.buf;
        std::iter::from_fn(move || {
            let path = CStr::from_bytes_until_nul(rest).ok()?;
            rest = rest.get(path.count_bytes() + 1..).unwrap_or_default();
            let name_at = path
                .to_bytes()
                .iter()
                .rposition(|b| *b == b'/')
                .map_or(0, |i| i + 1);
            Some((path, tail(path, name_at)))
        })
        .take(self.len)
    }

    /// The parent at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<(&CStr, &CStr)> {
        self.iter().nth(index)
    }

    /// The deepest parent.
    pub(crate) fn last(&self) -> Option<(&CStr, &CStr)> {
        self.iter().last()
    }
}

/// What a step around the actions does: one system call of the root switch
/// (or of the host root's preparation), or one of the few composite steps
/// below.
#[derive(Debug)]
pub(crate) enum RootStepKind {
    Propagation {
        target: CString,
        flags: MountPropagationFlags,
    },
    MountFs {
        fstype: &'static CStr,
        target: CString,
        flags: MountFlags,
        /// Skip silently when the target is not a directory (a rootfs may
        /// lack `/proc`).
        if_dir: bool,
    },
    Bind {
        source: CString,
        target: CString,
    },
    Unmount {
        target: CString,
    },
    Mkdir {
        path: CString,
        mode: u32,
    },
    Chdir {
        path: CString,
    },
    PivotRoot {
        new_root: CString,
        put_old: CString,
    },
    Chroot {
        path: CString,
    },
    /// Keep a detached copy of the host's mount tree for the chroot mode.
    CloneHostRoot,
    /// Attach that copy at `path` (a recursive bind of `/` without the new
    /// mount API).
    AttachHostRoot {
        path: CString,
    },
    /// Bind the `--rootfs` directory (`source`, under the old root) on the
    /// new root, with `set` added to every mount, once the directory found
    /// there is the one with this device and inode.
    BindRoot {
        source: CString,
        /// The canonical host path, for messages.
        shown: String,
        dev: u64,
        ino: u64,
        set: MountFlags,
    },
    /// A fresh procfs on the new root's `proc`, if that is a directory (not
    /// a symlink).
    MountRootProc,
}

/// A step before or after the actions that prepares, switches or tidies
/// the root, and its message (bubblewrap's, where it has one).
#[derive(Debug)]
pub(crate) struct RootStep {
    pub(crate) kind: RootStepKind,
    pub(crate) message: String,
}

/// Mount options of a fresh procfs (those bubblewrap uses).
pub(crate) const PROC_FLAGS: MountFlags = MountFlags::NOSUID
    .union(MountFlags::NOEXEC)
    .union(MountFlags::NODEV);

/// A compiled bind.
#[derive(Debug)]
pub(crate) struct BindOp {
    /// The canonical host path, as bubblewrap names it in messages.
    pub(crate) source_shown: String,
    /// The source during setup (under the old root).
    pub(crate) source: CString,
    pub(crate) dest: Dest,
    pub(crate) set: MountFlags,
    /// `-try`: a source that vanished since compile time is skipped.
    pub(crate) optional: bool,
    /// `--bind-fd`: the descriptor the mounted tree must be.
    pub(crate) fd: Option<RawFd>,
}

/// `--remount-ro`: read-only (and nosuid, nodev, as bubblewrap's remount
/// adds them) on the mount at the destination, not recursively.
#[derive(Debug)]
pub(crate) struct RemountOp {
    pub(crate) dest: Dest,
}

pub(crate) const REMOUNT_FLAGS: MountFlags = MountFlags::RDONLY
    .union(MountFlags::NOSUID)
    .union(MountFlags::NODEV);

/// The entries covered read-only, in bubblewrap's order.
pub(crate) const COVERED: [&CStr; 4] = [c"sys", c"sysrq-trigger", c"irq", c"bus"];

/// A compiled `--proc`.
#[derive(Debug)]
pub(crate) struct ProcOp {
    pub(crate) dest: Dest,
    /// Mount a new procfs (own PID namespace) rather than bind the host's.
    pub(crate) fresh: bool,
    /// The host's procfs during setup.
    pub(crate) host: &'static CStr,
    /// `dest/<entry>` from the setup root, per covered entry (for messages).
    pub(crate) covered_abs: Vec<CString>,
}

/// The host device nodes bound in, in bubblewrap's order.
pub(crate) const NODES: [&CStr; 6] = [c"null", c"zero", c"full", c"random", c"urandom", c"tty"];

/// The standard-stream symlinks.
pub(crate) const STDIO: [(&CStr, &CStr); 3] = [
    (c"stdin", c"/proc/self/fd/0"),
    (c"stdout", c"/proc/self/fd/1"),
    (c"stderr", c"/proc/self/fd/2"),
];

/// A host file bound into the new `/dev`.
#[derive(Debug)]
pub(crate) struct DevBind {
    /// The host file during setup.
    pub(crate) source: CString,
    /// Its place in the new `/dev`, from the setup root (for messages).
    pub(crate) abs: CString,
}

/// A compiled `--dev`.
#[derive(Debug)]
pub(crate) struct DevOp {
    pub(crate) dest: Dest,
    pub(crate) nodes: Vec<DevBind>,
    pub(crate) console: Option<DevBind>,
    /// The tmpfs options (with `--file-label`'s context).
    pub(crate) data: CString,
}

/// Which filesystem, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FsKind {
    Tmpfs,
    Mqueue,
    Overlay,
}

/// A compiled filesystem mount.
#[derive(Debug)]
pub(crate) struct NewFsOp {
    pub(crate) dest: Dest,
    pub(crate) kind: FsKind,
    pub(crate) flags: MountFlags,
    pub(crate) data: Option<CString>,
}

impl NewFsOp {
    pub(crate) fn fstype(&self) -> &'static CStr {
        match self.kind {
            FsKind::Tmpfs => c"tmpfs",
            FsKind::Mqueue => c"mqueue",
            FsKind::Overlay => c"overlay",
        }
    }
}

/// `--dir`: the directory and its parents; an existing directory keeps its
/// mode.
#[derive(Debug)]
pub(crate) struct DirOp {
    pub(crate) dest: Dest,
    pub(crate) mode: u32,
}

/// `--file`: a file with the given content (created with `mode`, or
/// truncated and rewritten if it exists, as `creat(2)` does).
#[derive(Debug)]
pub(crate) struct FileOp {
    pub(crate) dest: Dest,
    pub(crate) mode: u32,
    pub(crate) data: Vec<u8>,
}

/// `--symlink`: a symlink to `target`; an identical existing link is fine.
#[derive(Debug)]
pub(crate) struct SymlinkOp {
    pub(crate) target: CString,
    pub(crate) dest: Dest,
}

/// `--chmod`: the mode of an existing path (its parents are not created).
#[derive(Debug)]
pub(crate) struct ChmodOp {
    pub(crate) dest: Dest,
    pub(crate) mode: u32,
}

/// A compiled `--bind-data` / `--ro-bind-data`.
#[derive(Debug)]
pub(crate) struct BindDataOp {
    pub(crate) dest: Dest,
    pub(crate) mode: u32,
    pub(crate) data: Vec<u8>,
    pub(crate) set: MountFlags,
    /// The hidden file the data is written to before it is bound
    /// (bubblewrap's `/bindfileXXXXXX`).
    pub(crate) data_file: CString,
}
