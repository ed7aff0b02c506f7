//! The filesystem actions a sandbox is composed from, in the order they run.
//! Each mirrors a bubblewrap option (named in its doc) and the reference
//! document's `fs_actions`.
//!
//! Descriptors are owned: an `Arc<OwnedFd>`, so an action can be cloned (and
//! a plan compiled from it more than once) while the descriptor stays open;
//! it closes when the last holder — the caller's copies, or a [`MountPlan`]
//! compiled from them — is dropped, never earlier. Two actions are equal only
//! when they hold the *same* descriptor ([`Arc::ptr_eq`]); a `dup` of it is
//! another descriptor.
//!
//! [`MountPlan`]: crate::MountPlan

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

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
#[derive(Clone, Debug)]
pub enum DataSource {
    /// These bytes.
    Bytes(Vec<u8>),
    /// Everything readable from this descriptor, from its current offset to
    /// its end, read in the parent by [`MountPlan::compile`] before the
    /// sandbox is cloned. The offset is the descriptor's own: a plan compiled
    /// again from the same descriptor (a configuration spawned twice) reads
    /// on from where the last read stopped — nothing, for a file read to its
    /// end — unless the caller seeks it back first (`lseek(fd, 0, SEEK_SET)`
    /// on a file; a pipe cannot be re-read). The descriptor is not closed by
    /// reading; the sandboxed command does not inherit it.
    ///
    /// [`MountPlan::compile`]: crate::MountPlan::compile
    Fd(Arc<OwnedFd>),
}

impl PartialEq for DataSource {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Bytes(a), Self::Bytes(b)) => a == b,
            (Self::Fd(a), Self::Fd(b)) => Arc::ptr_eq(a, b),
            (Self::Bytes(_) | Self::Fd(_), _) => false,
        }
    }
}

impl Eq for DataSource {}

/// One filesystem action. Destinations are paths inside the sandbox; sources
/// are host paths.
#[derive(Clone, Debug)]
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
    /// refers to. Its path is resolved through `/proc/self/fd` at compile
    /// time and the mount is checked against the descriptor in the child;
    /// the sandboxed command does not inherit it.
    BindFd {
        /// The open descriptor (a directory or an `O_PATH` descriptor).
        fd: Arc<OwnedFd>,
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
    /// `--bind-data` / `--ro-bind-data`: write the content to a hidden file
    /// and bind it.
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

/// Field by field, as a derived equality would compare, except that a
/// descriptor is equal only to itself ([`Arc::ptr_eq`]).
impl PartialEq for FsAction {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Bind {
                    src,
                    dest,
                    mode,
                    optional,
                },
                Self::Bind {
                    src: src2,
                    dest: dest2,
                    mode: mode2,
                    optional: optional2,
                },
            ) => src == src2 && dest == dest2 && mode == mode2 && optional == optional2,
            (
                Self::BindFd {
                    fd,
                    dest,
                    read_only,
                },
                Self::BindFd {
                    fd: fd2,
                    dest: dest2,
                    read_only: read_only2,
                },
            ) => Arc::ptr_eq(fd, fd2) && dest == dest2 && read_only == read_only2,
            (Self::RemountRo { dest }, Self::RemountRo { dest: dest2 })
            | (Self::Proc { dest }, Self::Proc { dest: dest2 })
            | (Self::Dev { dest }, Self::Dev { dest: dest2 })
            | (Self::Mqueue { dest }, Self::Mqueue { dest: dest2 }) => dest == dest2,
            (
                Self::Tmpfs { dest, size, perms },
                Self::Tmpfs {
                    dest: dest2,
                    size: size2,
                    perms: perms2,
                },
            ) => dest == dest2 && size == size2 && perms == perms2,
            (
                Self::Dir { dest, perms },
                Self::Dir {
                    dest: dest2,
                    perms: perms2,
                },
            ) => dest == dest2 && perms == perms2,
            (
                Self::File {
                    source,
                    dest,
                    perms,
                },
                Self::File {
                    source: source2,
                    dest: dest2,
                    perms: perms2,
                },
            ) => source == source2 && dest == dest2 && perms == perms2,
            (
                Self::BindData {
                    source,
                    dest,
                    perms,
                    read_only,
                },
                Self::BindData {
                    source: source2,
                    dest: dest2,
                    perms: perms2,
                    read_only: read_only2,
                },
            ) => source == source2 && dest == dest2 && perms == perms2 && read_only == read_only2,
            (
                Self::Symlink { target, link },
                Self::Symlink {
                    target: target2,
                    link: link2,
                },
            ) => target == target2 && link == link2,
            (
                Self::Chmod { path, mode },
                Self::Chmod {
                    path: path2,
                    mode: mode2,
                },
            ) => path == path2 && mode == mode2,
            (
                Self::OverlaySrc { key, path },
                Self::OverlaySrc {
                    key: key2,
                    path: path2,
                },
            ) => key == key2 && path == path2,
            (
                Self::Overlay {
                    sources,
                    upper,
                    work,
                    dest,
                },
                Self::Overlay {
                    sources: sources2,
                    upper: upper2,
                    work: work2,
                    dest: dest2,
                },
            ) => sources == sources2 && upper == upper2 && work == work2 && dest == dest2,
            (
                Self::TmpOverlay { sources, dest },
                Self::TmpOverlay {
                    sources: sources2,
                    dest: dest2,
                },
            )
            | (
                Self::RoOverlay { sources, dest },
                Self::RoOverlay {
                    sources: sources2,
                    dest: dest2,
                },
            ) => sources == sources2 && dest == dest2,
            // Listed, not `_`, so that a new variant cannot be forgotten above.
            (
                Self::Bind { .. }
                | Self::BindFd { .. }
                | Self::RemountRo { .. }
                | Self::Proc { .. }
                | Self::Dev { .. }
                | Self::Tmpfs { .. }
                | Self::Mqueue { .. }
                | Self::Dir { .. }
                | Self::File { .. }
                | Self::BindData { .. }
                | Self::Symlink { .. }
                | Self::Chmod { .. }
                | Self::OverlaySrc { .. }
                | Self::Overlay { .. }
                | Self::TmpOverlay { .. }
                | Self::RoOverlay { .. },
                _,
            ) => false,
        }
    }
}

impl Eq for FsAction {}
