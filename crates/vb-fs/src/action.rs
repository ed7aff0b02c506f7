//! The filesystem actions a sandbox is composed from, in the order they run.
//! Each mirrors a bubblewrap option (named in its doc) and the reference
//! document's `fs_actions`.

use std::os::fd::RawFd;
use std::path::PathBuf;

/// How a bind mount treats writes and device nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BindMode {
    /// Read-write, `nodev` on every submount (`--bind`).
    #[default]
    ReadWrite,
    /// Read-only on every submount (`--ro-bind`).
    ReadOnly,
    /// Read-write with device nodes usable (`--dev-bind`).
    Dev,
}

/// Where the content of a created file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// These bytes.
    Bytes(Vec<u8>),
    /// Everything readable from this descriptor (read to end-of-file, in the
    /// parent, before the sandbox is cloned).
    Fd(RawFd),
}

/// One filesystem action. Destinations are paths inside the sandbox; sources
/// are host paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsAction {
    /// `--bind`, `--ro-bind`, `--dev-bind` and their `-try` forms.
    Bind {
        /// Host path.
        src: PathBuf,
        /// Sandbox path.
        dest: PathBuf,
        /// Read-write, read-only or device-capable.
        mode: BindMode,
        /// Skip the action when `src` does not exist (`-try`).
        optional: bool,
    },
    /// `--bind-fd` / `--ro-bind-fd`: bind the directory an open descriptor
    /// refers to.
    BindFd {
        /// The open descriptor (a directory or an `O_PATH` descriptor).
        fd: RawFd,
        /// Sandbox path.
        dest: PathBuf,
        /// Bind read-only.
        read_only: bool,
    },
    /// `--remount-ro`: make an existing mount read-only (not recursively).
    RemountRo {
        /// Sandbox path.
        dest: PathBuf,
    },
    /// `--proc`: a procfs (a fresh one when the PID namespace is new).
    Proc {
        /// Sandbox path.
        dest: PathBuf,
    },
    /// `--dev`: a minimal `/dev`.
    Dev {
        /// Sandbox path.
        dest: PathBuf,
    },
    /// `--tmpfs` (with `--size` and `--perms`).
    Tmpfs {
        /// Sandbox path.
        dest: PathBuf,
        /// Size limit in bytes.
        size: Option<u64>,
        /// Mode of the tmpfs root (default 0755).
        perms: Option<u32>,
    },
    /// `--mqueue`: a POSIX message-queue filesystem.
    Mqueue {
        /// Sandbox path.
        dest: PathBuf,
    },
    /// `--dir`: create a directory (and its parents).
    Dir {
        /// Sandbox path.
        dest: PathBuf,
        /// Mode (default 0755; an existing directory keeps its mode).
        perms: Option<u32>,
    },
    /// `--file`: create a file with the given content.
    File {
        /// The content.
        source: DataSource,
        /// Sandbox path.
        dest: PathBuf,
        /// Mode (default 0666).
        perms: Option<u32>,
    },
    /// `--bind-data` / `--ro-bind-data`: stage the content in a hidden file and
    /// bind it.
    BindData {
        /// The content.
        source: DataSource,
        /// Sandbox path.
        dest: PathBuf,
        /// Mode (default 0600).
        perms: Option<u32>,
        /// Bind read-only.
        read_only: bool,
    },
    /// `--symlink`: create a symbolic link at `link` pointing to `target`.
    Symlink {
        /// What the link points to (not resolved).
        target: PathBuf,
        /// Sandbox path of the link.
        link: PathBuf,
    },
    /// `--chmod`: change the mode of an existing path.
    Chmod {
        /// Sandbox path.
        path: PathBuf,
        /// The new mode (at most 07777).
        mode: u32,
    },
    /// `--overlay-src`: declare a lower layer under a key; overlays name the
    /// keys of their lower layers, bottom to top.
    OverlaySrc {
        /// The key overlays refer to.
        key: String,
        /// Host path of the layer.
        path: PathBuf,
    },
    /// `--overlay`: an overlayfs with a host upper and work directory.
    Overlay {
        /// Lower layers, bottom to top, by key.
        sources: Vec<String>,
        /// Host upper directory (receives writes).
        upper: PathBuf,
        /// Host work directory (empty, same filesystem as `upper`).
        work: PathBuf,
        /// Sandbox path.
        dest: PathBuf,
    },
    /// `--tmp-overlay`: an overlayfs whose writes go to a throwaway tmpfs.
    TmpOverlay {
        /// Lower layers, bottom to top, by key.
        sources: Vec<String>,
        /// Sandbox path.
        dest: PathBuf,
    },
    /// `--ro-overlay`: a read-only overlayfs of two or more lower layers.
    RoOverlay {
        /// Lower layers, bottom to top, by key.
        sources: Vec<String>,
        /// Sandbox path.
        dest: PathBuf,
    },
}

impl FsAction {
    /// The bubblewrap option this action corresponds to, for messages.
    pub fn option_name(&self) -> &'static str {
        match self {
            Self::Bind { mode, optional, .. } => match (mode, optional) {
                (BindMode::ReadWrite, false) => "--bind",
                (BindMode::ReadWrite, true) => "--bind-try",
                (BindMode::ReadOnly, false) => "--ro-bind",
                (BindMode::ReadOnly, true) => "--ro-bind-try",
                (BindMode::Dev, false) => "--dev-bind",
                (BindMode::Dev, true) => "--dev-bind-try",
            },
            Self::BindFd { read_only, .. } => {
                if *read_only {
                    "--ro-bind-fd"
                } else {
                    "--bind-fd"
                }
            }
            Self::RemountRo { .. } => "--remount-ro",
            Self::Proc { .. } => "--proc",
            Self::Dev { .. } => "--dev",
            Self::Tmpfs { .. } => "--tmpfs",
            Self::Mqueue { .. } => "--mqueue",
            Self::Dir { .. } => "--dir",
            Self::File { .. } => "--file",
            Self::BindData { read_only, .. } => {
                if *read_only {
                    "--ro-bind-data"
                } else {
                    "--bind-data"
                }
            }
            Self::Symlink { .. } => "--symlink",
            Self::Chmod { .. } => "--chmod",
            Self::OverlaySrc { .. } => "--overlay-src",
            Self::Overlay { .. } => "--overlay",
            Self::TmpOverlay { .. } => "--tmp-overlay",
            Self::RoOverlay { .. } => "--ro-overlay",
        }
    }
}
