//! Landlock: filesystem and TCP-port restrictions for the sandboxed command,
//! prepared in the parent ([`LandlockPlan::prepare`]) and applied in the
//! child ([`LandlockPlan::apply`]) with the raw `landlock_*` system calls.
//!
//! ```no_run
//! use vb_proc::landlock::{LandlockPlan, LandlockSpec, PathRule};
//!
//! let spec = LandlockSpec {
//!     paths: vec![PathRule::read_only("/usr"), PathRule::read_write("/tmp")],
//!     tcp_connect: vec![443],
//!     ..LandlockSpec::default()
//! };
//! let plan = LandlockPlan::prepare(&spec)?;
//! println!("{}", plan.enforcement()); // warn (or refuse) before the clone
//! // In the child, after the root switch and `no_new_privs`: `plan.apply()`.
//! # Ok::<(), vb_proc::landlock::LandlockError>(())
//! ```
//!
//! # What the rules mean
//!
//! Paths are the paths *inside* the sandbox: the child opens them after the
//! mounts and the root switch, so a rule follows what the command sees, not
//! the host path a bind mount came from. A rule covers the path and
//! everything beneath it. A path that is, or goes through, a symbolic link
//! is refused (`ELOOP` at [`LandlockStep::OpenPath`]): whoever can place a
//! link there — the author of a `--rootfs` image, or an earlier run of the
//! command in a writable bind — would otherwise choose what the rule
//! grants. Name the link's target instead (`/usr/lib`, not `/lib`, where
//! `/lib` is a link).
//!
//! - [`PathAccess::ReadOnly`] (`--landlock-ro`): read files, list
//!   directories, **and execute files**. bubblewrap users mount `/usr` with
//!   `--ro-bind` and run what is in it; a read-only rule that could not run
//!   `/usr/bin/sh` would have to be doubled with an exec rule on every such
//!   tree. Withholding execute would not be a boundary anyway: a readable
//!   library can be mapped executable, or a readable program started through
//!   the dynamic loader, without Landlock's execute right.
//! - [`PathAccess::Execute`] (`--landlock-exec`): execute and read files, but
//!   not list directories: the narrowest grant that lets a dynamically linked
//!   program start (the kernel checks execute on the program and its
//!   interpreter, the loader reads the libraries).
//! - [`PathAccess::ReadWrite`] (`--landlock-rw`): every filesystem right the
//!   running kernel's Landlock ABI knows — write, create, remove, rename and
//!   link in and out, truncate, device ioctls (and execute, for the reason
//!   above).
//!
//! A rule on a file that is not a directory grants only the rights that
//! apply to files (the kernel refuses directory rights there).
//!
//! **Filesystem access is restricted as soon as one path rule is given**,
//! and then everything the running kernel's ABI can restrict is *handled*:
//! whatever no rule grants is denied. `/dev/null` is always granted read,
//! write, truncate and device ioctls, so the usual `>/dev/null` keeps
//! working; it is skipped quietly when the sandbox has no `/dev/null`
//! (granting nothing is never weaker). With no path rule, Landlock leaves the
//! filesystem alone.
//!
//! **TCP is restricted per direction**: binding is handled only when at least
//! one bind port is given (`--landlock-tcp-bind`), connecting only when at
//! least one connect port is given (`--landlock-tcp-connect`); then only the
//! listed ports are allowed in that direction. Without any port option
//! Landlock does not restrict networking at all (use a network namespace for
//! that). Bind port 0 allows binding to an ephemeral port; connect port 0
//! grants nothing useful, so `--landlock-tcp-connect 0` denies every TCP
//! connection. UDP and IPC scoping (abstract UNIX sockets, signals) are not
//! used.
//!
//! # Enforcement
//!
//! The parent detects the kernel's Landlock ABI and builds the access masks
//! for it. [`LandlockPlan::enforcement`] then says what of the request the
//! kernel cannot enforce — TCP rules before ABI 4, truncation before ABI 3,
//! device ioctls before ABI 5, moving files between directories before ABI 2
//! (always refused there, even under read-write rules), or no Landlock at
//! all — so the caller can warn, or refuse under `--landlock-strict`, before
//! the clone. Rights newer than ABI 5 (connecting to pathname UNIX sockets,
//! ABI 9) are handled when the kernel has them but are not part of what a
//! plan promises.
//!
//! The child then enforces exactly what the plan says: the masks go to the
//! kernel unchanged (it refuses an unknown bit with `EINVAL` instead of
//! dropping it) and every failing call is reported as a [`StepFailure`]
//! with a [`LandlockStep`], never skipped. There is no "best effort" path
//! that returns success with nothing enforced. When
//! [`Enforcement::None`] was reported, [`LandlockPlan::apply`] does nothing:
//! the caller has warned or refused by then.
//!
//! # In the child
//!
//! [`LandlockPlan::apply`] allocates nothing and takes no lock: it runs the
//! three Landlock system calls, `open(O_PATH)`, `fstat` and `close` on data
//! prepared in the parent, so it is safe in a raw clone of a multi-threaded
//! process. It must run after every mount and the root switch (rules are
//! made from descriptors opened then) and after `no_new_privs` is set
//! (`landlock_restrict_self` fails with `EPERM` otherwise, unless the caller
//! holds `CAP_SYS_ADMIN` in its user namespace). It restricts the calling
//! thread and what it executes or forks afterwards, not other threads.

use std::ffi::CString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use landlock::{ABI, Access, AccessFs, AccessNet, BitFlags};
use rustix::io::Errno;

use crate::errno::last_errno;
use crate::frame::{ChildFailure, Origin, StepFailure};

/// What a path rule grants beneath its path. See the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathAccess {
    /// Read files, list directories, execute files (`--landlock-ro`).
    ReadOnly,
    /// Everything the kernel's ABI can grant on files and directories
    /// (`--landlock-rw`).
    ReadWrite,
    /// Execute and read files, without listing directories
    /// (`--landlock-exec`).
    Execute,
}

/// One path rule: `access` beneath `path` (absolute, as seen in the sandbox).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRule {
    /// The path inside the sandbox.
    pub path: PathBuf,
    /// What the rule grants.
    pub access: PathAccess,
}

impl PathRule {
    /// A [`PathAccess::ReadOnly`] rule.
    pub fn read_only(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            access: PathAccess::ReadOnly,
        }
    }

    /// A [`PathAccess::ReadWrite`] rule.
    pub fn read_write(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            access: PathAccess::ReadWrite,
        }
    }

    /// A [`PathAccess::Execute`] rule.
    pub fn execute(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            access: PathAccess::Execute,
        }
    }
}

/// The Landlock restrictions the caller asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LandlockSpec {
    /// Path rules, in the caller's order (failures name a rule by its index
    /// here).
    pub paths: Vec<PathRule>,
    /// TCP ports the sandbox may bind; binding is restricted when non-empty.
    pub tcp_bind: Vec<u16>,
    /// TCP ports the sandbox may connect to; connecting is restricted when
    /// non-empty.
    pub tcp_connect: Vec<u16>,
}

impl LandlockSpec {
    /// Whether the spec asks for nothing (a plan for it restricts nothing).
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.tcp_bind.is_empty() && self.tcp_connect.is_empty()
    }
}

/// Why a [`LandlockSpec`] cannot be prepared.
#[derive(Debug, thiserror::Error)]
pub enum LandlockError {
    /// A rule's path is not absolute.
    #[error("landlock path {}: not an absolute path", .0.display())]
    RelativePath(PathBuf),
    /// A rule's path contains a NUL byte.
    #[error("landlock path {}: contains a NUL byte", .0.display())]
    NulByte(PathBuf),
    /// Asking the kernel for its Landlock ABI failed in an unexpected way
    /// (not `ENOSYS` or `EOPNOTSUPP`, which mean no Landlock), for example
    /// because a seccomp filter refuses the call.
    #[error("detecting the landlock ABI: {0}")]
    Detect(Errno),
}

/// Something the request needs that the running kernel's ABI lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Gap {
    /// Moving (renaming or linking) files between directories (ABI 2): on
    /// ABI 1 such moves are always refused, even under read-write rules.
    Refer,
    /// Restricting `truncate(2)` and `O_TRUNC` (ABI 3): before it files
    /// outside the read-write rules can be truncated.
    Truncate,
    /// TCP bind port rules (ABI 4).
    TcpBind,
    /// TCP connect port rules (ABI 4).
    TcpConnect,
    /// Restricting `ioctl(2)` on device files (ABI 5).
    IoctlDev,
}

impl Gap {
    /// The first Landlock ABI that covers it.
    pub const fn min_abi(self) -> u32 {
        match self {
            Self::Refer => 2,
            Self::Truncate => 3,
            Self::TcpBind | Self::TcpConnect => 4,
            Self::IoctlDev => 5,
        }
    }

    /// What the kernel cannot do, in words.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Refer => {
                "moving files between directories (always refused, even under read-write paths)"
            }
            Self::Truncate => "restricting truncation of files",
            Self::TcpBind => "TCP bind port rules",
            Self::TcpConnect => "TCP connect port rules",
            Self::IoctlDev => "restricting ioctls on device files",
        }
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (needs ABI {})", self.describe(), self.min_abi())
    }
}

/// Why nothing of a request is enforced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotEnforced {
    /// The kernel has no Landlock (`ENOSYS`).
    NotBuilt,
    /// Landlock is built but not enabled at boot (`EOPNOTSUPP`; see the
    /// `lsm=` kernel parameter).
    Disabled,
    /// The kernel's ABI can enforce none of the requested restrictions (TCP
    /// rules alone before ABI 4).
    TooOld {
        /// The kernel's ABI.
        abi: u32,
        /// What it lacks.
        missing: Vec<Gap>,
    },
}

/// What the running kernel enforces of a request, as computed by
/// [`LandlockPlan::prepare`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enforcement {
    /// Everything requested is enforced (trivially so for an empty request).
    Full,
    /// Some is enforced; `missing` is not.
    Partial {
        /// The kernel's ABI.
        abi: u32,
        /// What the ABI lacks, in [`Gap`] order.
        missing: Vec<Gap>,
    },
    /// Nothing is enforced; [`LandlockPlan::apply`] does nothing.
    None {
        /// Why.
        reason: NotEnforced,
    },
}

impl Enforcement {
    /// Whether every requested restriction is enforced.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full)
    }

    /// A sentence for a warning (or an error under `--landlock-strict`);
    /// `None` when everything is enforced.
    pub fn reason(&self) -> Option<String> {
        (!self.is_full()).then(|| self.to_string())
    }
}

fn write_gaps(f: &mut fmt::Formatter<'_>, missing: &[Gap]) -> fmt::Result {
    for (i, gap) in missing.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{gap}")?;
    }
    Ok(())
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("landlock: every requested restriction is enforced"),
            Self::Partial { abi, missing } => {
                write!(f, "landlock ABI {abi} of the running kernel lacks ")?;
                write_gaps(f, missing)?;
                f.write_str("; the other restrictions are enforced")
            }
            Self::None { reason } => match reason {
                NotEnforced::NotBuilt => f.write_str(
                    "landlock is not supported by the running kernel: nothing is enforced",
                ),
                NotEnforced::Disabled => f.write_str(
                    "landlock is not enabled in the running kernel (lsm= boot parameter): \
                     nothing is enforced",
                ),
                NotEnforced::TooOld { abi, missing } => {
                    write!(f, "landlock ABI {abi} of the running kernel lacks ")?;
                    write_gaps(f, missing)?;
                    f.write_str(": nothing is enforced")
                }
            },
        }
    }
}

/// The Landlock steps of the child, in the order they run.
///
/// The numbers are stable and start at 20 so that they do not overlap
/// [`SecurityStep`](crate::SecurityStep)'s: a failure can travel in a frame
/// with [`Origin::Security`] and still be told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum LandlockStep {
    /// `landlock_create_ruleset`.
    CreateRuleset = 20,
    /// Opening a rule's path with `O_PATH` (the index is the rule's; see
    /// [`LandlockPlan::path`]). `ENOENT`: the path does not exist in the
    /// sandbox.
    OpenPath = 21,
    /// `fstat` of a rule's path (the index is the rule's).
    StatPath = 22,
    /// `landlock_add_rule` for a path (the index is the rule's).
    AddPathRule = 23,
    /// `landlock_add_rule` for a TCP bind port (the index is the port's in
    /// [`LandlockSpec::tcp_bind`]).
    AddTcpBindRule = 24,
    /// `landlock_add_rule` for a TCP connect port (the index is the port's
    /// in [`LandlockSpec::tcp_connect`]).
    AddTcpConnectRule = 25,
    /// `landlock_restrict_self`. `EPERM`: `no_new_privs` was not set.
    RestrictSelf = 26,
}

impl LandlockStep {
    /// The step with this number.
    pub const fn from_u32(raw: u32) -> Option<Self> {
        Some(match raw {
            20 => Self::CreateRuleset,
            21 => Self::OpenPath,
            22 => Self::StatPath,
            23 => Self::AddPathRule,
            24 => Self::AddTcpBindRule,
            25 => Self::AddTcpConnectRule,
            26 => Self::RestrictSelf,
            _ => return None,
        })
    }

    /// The step named by a failure carried with [`Origin::Security`].
    pub fn of(failure: &ChildFailure) -> Option<Self> {
        match failure.origin {
            Origin::Security => Self::from_u32(failure.step),
            _ => None,
        }
    }
}

/// A failure of `step` at `index`, as the child reports it.
pub(crate) fn fail(step: LandlockStep, index: u32, errno: Errno) -> StepFailure {
    StepFailure::new(step as u32, index, errno.raw_os_error())
}

/// What the version probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Support {
    /// The kernel's ABI number (positive).
    Abi(u32),
    NotBuilt,
    Disabled,
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`.
fn detect() -> Result<Support, LandlockError> {
    // SAFETY: with a null attribute pointer, size 0 and the version flag the
    // call reads no memory and returns the ABI number or an error.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if ret >= 0 {
        return u32::try_from(ret)
            .ok()
            .filter(|&abi| abi > 0)
            .map(Support::Abi)
            .ok_or(LandlockError::Detect(Errno::INVAL));
    }
    match last_errno() {
        Errno::NOSYS => Ok(Support::NotBuilt),
        Errno::OPNOTSUPP => Ok(Support::Disabled),
        e => Err(LandlockError::Detect(e)),
    }
}

/// A path rule ready for the child.
#[derive(Debug)]
pub(crate) struct PreparedPath {
    pub(crate) path: PathBuf,
    /// The path, as the child opens it.
    pub(crate) c_path: CString,
    /// Granted when the path is a directory.
    pub(crate) dir_access: u64,
    /// Granted otherwise (only rights that apply to files).
    pub(crate) file_access: u64,
    /// A missing path is skipped rather than an error (`/dev/null`).
    pub(crate) optional: bool,
}

/// A [`LandlockSpec`] turned into masks for the running kernel and C strings:
/// what [`apply`](Self::apply) needs in the child, without allocating.
#[derive(Debug)]
pub struct LandlockPlan {
    support: Support,
    /// The filesystem rights the ruleset handles.
    pub(crate) handled_fs: u64,
    /// The network rights the ruleset handles.
    pub(crate) handled_net: u64,
    /// The caller's rules in order, then `/dev/null` when the filesystem is
    /// handled.
    pub(crate) paths: Vec<PreparedPath>,
    /// The TCP ports that may be bound.
    pub(crate) tcp_bind: Vec<u16>,
    /// The TCP ports that may be connected to.
    pub(crate) tcp_connect: Vec<u16>,
    enforcement: Enforcement,
}

/// The rights a rule grants for `abi`, before narrowing to files.
fn rule_access(access: PathAccess, abi: ABI) -> BitFlags<AccessFs> {
    let wanted = match access {
        PathAccess::ReadOnly => AccessFs::from_read(abi),
        PathAccess::Execute => AccessFs::Execute | AccessFs::ReadFile,
        PathAccess::ReadWrite => AccessFs::from_all(abi),
    };
    wanted & AccessFs::from_all(abi)
}

/// What `/dev/null` is granted: read, write, truncate (the shell opens
/// `>/dev/null` with `O_TRUNC`) and device ioctls (`isatty` on it should see
/// `ENOTTY`, not `EACCES`), as far as `abi` handles them.
fn dev_null_access(abi: ABI) -> BitFlags<AccessFs> {
    (AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev)
        & AccessFs::from_file(abi)
}

impl LandlockPlan {
    /// Check `spec`, detect the running kernel's Landlock ABI and build the
    /// masks and C strings [`apply`](Self::apply) uses in the child.
    ///
    /// Fails on a relative path or one with a NUL byte, and when the ABI
    /// probe fails other than by saying that there is no Landlock. A kernel
    /// without Landlock is not an error: see [`enforcement`](Self::enforcement).
    pub fn prepare(spec: &LandlockSpec) -> Result<Self, LandlockError> {
        let c_paths = check_paths(spec)?;
        Ok(Self::build(spec, c_paths, detect()?))
    }

    /// The plan for `spec` on a kernel with `support`; `c_paths` are the
    /// rules' checked paths.
    fn build(spec: &LandlockSpec, c_paths: Vec<CString>, support: Support) -> Self {
        let raw_abi = match support {
            Support::Abi(abi) => abi,
            Support::NotBuilt | Support::Disabled => {
                let enforcement = if spec.is_empty() {
                    Enforcement::Full
                } else {
                    Enforcement::None {
                        reason: if support == Support::Disabled {
                            NotEnforced::Disabled
                        } else {
                            NotEnforced::NotBuilt
                        },
                    }
                };
                return Self::inert(support, enforcement);
            }
        };
        // The crate turns an ABI number into its access-right sets, and caps
        // numbers newer than it knows at its newest ABI, so the masks hold
        // only bits that both it and the kernel know. (It advises against
        // building an `ABI` from the running kernel's number because its own
        // best-effort rulesets should decide; here the exact number is the
        // point: it says what will be enforced, and the masks go to the
        // kernel unchanged.)
        let abi = ABI::from(i32::try_from(raw_abi).unwrap_or(i32::MAX));
        let mut missing = Vec::new();

        let want_fs = !spec.paths.is_empty();
        let handled_fs = if want_fs {
            for (gap, since) in [
                (Gap::Refer, ABI::V2),
                (Gap::Truncate, ABI::V3),
                (Gap::IoctlDev, ABI::V5),
            ] {
                if abi < since {
                    missing.push(gap);
                }
            }
            AccessFs::from_all(abi)
        } else {
            BitFlags::EMPTY
        };

        let tcp = abi >= ABI::V4;
        let mut handled_net = BitFlags::<AccessNet>::EMPTY;
        for (ports, right, gap) in [
            (&spec.tcp_bind, AccessNet::BindTcp, Gap::TcpBind),
            (&spec.tcp_connect, AccessNet::ConnectTcp, Gap::TcpConnect),
        ] {
            if ports.is_empty() {
                continue;
            }
            if tcp {
                handled_net |= right;
            } else {
                missing.push(gap);
            }
        }
        missing.sort_unstable();

        let mut paths = Vec::with_capacity(c_paths.len() + 1);
        for (rule, c_path) in spec.paths.iter().zip(c_paths) {
            let access = rule_access(rule.access, abi);
            paths.push(PreparedPath {
                path: rule.path.clone(),
                c_path,
                dir_access: access.bits(),
                file_access: (access & AccessFs::from_file(abi)).bits(),
                optional: false,
            });
        }
        if want_fs {
            let access = dev_null_access(abi).bits();
            paths.push(PreparedPath {
                path: PathBuf::from("/dev/null"),
                c_path: c"/dev/null".to_owned(),
                dir_access: access,
                file_access: access,
                optional: true,
            });
        }

        let restricts = !handled_fs.is_empty() || !handled_net.is_empty();
        let enforcement = match (missing.is_empty(), restricts) {
            (true, _) => Enforcement::Full,
            (false, true) => Enforcement::Partial {
                abi: raw_abi,
                missing,
            },
            (false, false) => Enforcement::None {
                reason: NotEnforced::TooOld {
                    abi: raw_abi,
                    missing,
                },
            },
        };
        let ports = |ports: &[u16], right: AccessNet| {
            if handled_net.contains(right) {
                ports.to_vec()
            } else {
                Vec::new()
            }
        };
        Self {
            support,
            handled_fs: handled_fs.bits(),
            handled_net: handled_net.bits(),
            paths,
            tcp_bind: ports(&spec.tcp_bind, AccessNet::BindTcp),
            tcp_connect: ports(&spec.tcp_connect, AccessNet::ConnectTcp),
            enforcement,
        }
    }

    /// A plan that restricts nothing.
    fn inert(support: Support, enforcement: Enforcement) -> Self {
        Self {
            support,
            handled_fs: 0,
            handled_net: 0,
            paths: Vec::new(),
            tcp_bind: Vec::new(),
            tcp_connect: Vec::new(),
            enforcement,
        }
    }

    /// What the running kernel enforces of the request; check it before the
    /// clone and warn, or refuse, unless it is [`Enforcement::Full`].
    pub fn enforcement(&self) -> &Enforcement {
        &self.enforcement
    }

    /// The running kernel's Landlock ABI; `None` without Landlock.
    pub fn abi(&self) -> Option<u32> {
        match self.support {
            Support::Abi(abi) => Some(abi),
            Support::NotBuilt | Support::Disabled => None,
        }
    }

    /// Whether [`apply`](Self::apply) restricts anything.
    pub fn restricts(&self) -> bool {
        self.handled_fs != 0 || self.handled_net != 0
    }

    /// Whether [`apply`](Self::apply) restricts TCP ports (binding or
    /// connecting). Landlock checks `bind` and `connect` on TCP sockets
    /// only: the caller must also keep the command from connecting another
    /// way (see [`crate::filter::tcp_companion`]).
    pub fn restricts_tcp(&self) -> bool {
        self.handled_net != 0
    }

    /// The path of the rule a [`LandlockStep::OpenPath`],
    /// [`StatPath`](LandlockStep::StatPath) or
    /// [`AddPathRule`](LandlockStep::AddPathRule) failure names by `index`:
    /// the caller's rules in order, then `/dev/null`.
    pub fn path(&self, index: u32) -> Option<&Path> {
        let index = usize::try_from(index).ok()?;
        self.paths.get(index).map(|p| p.path.as_path())
    }

    /// The port a [`LandlockStep::AddTcpBindRule`] or
    /// [`AddTcpConnectRule`](LandlockStep::AddTcpConnectRule) failure names
    /// by `index`.
    pub fn port(&self, step: LandlockStep, index: u32) -> Option<u16> {
        let index = usize::try_from(index).ok()?;
        match step {
            LandlockStep::AddTcpBindRule => self.tcp_bind.get(index).copied(),
            LandlockStep::AddTcpConnectRule => self.tcp_connect.get(index).copied(),
            _ => None,
        }
    }
}

/// Validate every rule's path and build its C string.
fn check_paths(spec: &LandlockSpec) -> Result<Vec<CString>, LandlockError> {
    spec.paths
        .iter()
        .map(|rule| {
            if !rule.path.is_absolute() {
                return Err(LandlockError::RelativePath(rule.path.clone()));
            }
            CString::new(rule.path.as_os_str().as_bytes())
                .map_err(|_| LandlockError::NulByte(rule.path.clone()))
        })
        .collect()
}

// The kernel's Landlock interface (include/uapi/linux/landlock.h), written
// out here because the landlock crate keeps its bindings private and its
// `Ruleset` API cannot run in the child: it builds rule lists and errors on
// the heap and makes compatibility decisions of its own. The layouts are
// fixed by the kernel ABI.

/// `LANDLOCK_CREATE_RULESET_VERSION`.
const CREATE_RULESET_VERSION: u32 = 1;
/// `struct landlock_ruleset_attr` up to `scoped` (ABI 6). Older kernels
/// accept the longer struct because the fields they do not know are zero;
/// newer ones read the fields after it as zero.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct RulesetAttr {
    pub(crate) handled_access_fs: u64,
    pub(crate) handled_access_net: u64,
    pub(crate) scoped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    // Access-right bits from the kernel's header, to pin the masks on.
    const EXECUTE: u64 = 1;
    const WRITE_FILE: u64 = 1 << 1;
    const READ_FILE: u64 = 1 << 2;
    const READ_DIR: u64 = 1 << 3;
    const REFER: u64 = 1 << 13;
    const TRUNCATE: u64 = 1 << 14;
    const IOCTL_DEV: u64 = 1 << 15;
    const RESOLVE_UNIX: u64 = 1 << 16;
    /// ABI 1: execute through make_sym, bits 0 to 12.
    const FS_V1: u64 = (1 << 13) - 1;
    const BIND_TCP: u64 = 1;
    const CONNECT_TCP: u64 = 2;

    fn plan_for(spec: &LandlockSpec, support: Support) -> LandlockPlan {
        LandlockPlan::build(spec, check_paths(spec).unwrap(), support)
    }

    fn everything() -> LandlockSpec {
        LandlockSpec {
            paths: vec![
                PathRule::read_only("/usr"),
                PathRule::read_write("/tmp"),
                PathRule::execute("/opt/bin"),
            ],
            tcp_bind: vec![8080],
            tcp_connect: vec![443, 80],
        }
    }

    #[test]
    fn steps_are_stable_and_clear_of_the_security_steps() {
        for raw in 20..=26 {
            assert_eq!(LandlockStep::from_u32(raw).unwrap() as u32, raw);
            assert_eq!(crate::SecurityStep::of(&security_frame(raw)), None);
        }
        assert_eq!(LandlockStep::from_u32(19), None);
        assert_eq!(LandlockStep::from_u32(27), None);
        assert_eq!(
            LandlockStep::of(&security_frame(21)),
            Some(LandlockStep::OpenPath)
        );
        let other = ChildFailure::with_origin(Origin::Filesystem, StepFailure::new(21, 0, 2));
        assert_eq!(LandlockStep::of(&other), None);
    }

    fn security_frame(step: u32) -> ChildFailure {
        ChildFailure::with_origin(Origin::Security, StepFailure::new(step, 0, libc::ENOENT))
    }

    #[test]
    fn relative_paths_and_nul_bytes_are_refused() {
        for bad in ["usr", "./usr", ""] {
            let spec = LandlockSpec {
                paths: vec![PathRule::read_only("/etc"), PathRule::read_only(bad)],
                ..LandlockSpec::default()
            };
            let err = LandlockPlan::prepare(&spec).unwrap_err();
            assert!(
                matches!(&err, LandlockError::RelativePath(p) if p.as_os_str() == bad),
                "{err:?}"
            );
        }
        let spec = LandlockSpec {
            paths: vec![PathRule::read_write("/tmp/a\0b")],
            ..LandlockSpec::default()
        };
        let err = LandlockPlan::prepare(&spec).unwrap_err();
        assert!(matches!(err, LandlockError::NulByte(_)), "{err:?}");
        assert_eq!(
            LandlockError::RelativePath("usr".into()).to_string(),
            "landlock path usr: not an absolute path"
        );
    }

    #[test]
    fn the_kernel_structs_have_the_kernel_layout() {
        assert_eq!(size_of::<RulesetAttr>(), 24);
    }

    #[test]
    fn handled_filesystem_rights_grow_with_the_abi() {
        let spec = everything();
        for (abi, fs) in [
            (1, FS_V1),
            (2, FS_V1 | REFER),
            (3, FS_V1 | REFER | TRUNCATE),
            (4, FS_V1 | REFER | TRUNCATE),
            (5, FS_V1 | REFER | TRUNCATE | IOCTL_DEV),
            (7, FS_V1 | REFER | TRUNCATE | IOCTL_DEV),
            (9, FS_V1 | REFER | TRUNCATE | IOCTL_DEV | RESOLVE_UNIX),
        ] {
            let plan = plan_for(&spec, Support::Abi(abi));
            assert_eq!(plan.handled_fs, fs, "ABI {abi}");
            // Read-write grants everything handled; on a file, only file rights.
            let rw = &plan.paths[1];
            assert_eq!(rw.dir_access, fs, "ABI {abi}");
            let file_rights =
                EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV | RESOLVE_UNIX;
            assert_eq!(rw.file_access, fs & file_rights, "ABI {abi}");
            for p in &plan.paths {
                assert_eq!(
                    p.dir_access & !plan.handled_fs,
                    0,
                    "granted but not handled"
                );
                assert_eq!(p.file_access & !p.dir_access, 0);
            }
        }
    }

    #[test]
    fn read_only_executes_and_execute_does_not_list() {
        let plan = plan_for(&everything(), Support::Abi(7));
        let ro = &plan.paths[0];
        assert_eq!(ro.dir_access, EXECUTE | READ_FILE | READ_DIR);
        assert_eq!(ro.file_access, EXECUTE | READ_FILE);
        let exec = &plan.paths[2];
        assert_eq!(exec.dir_access, EXECUTE | READ_FILE);
        assert_eq!(exec.file_access, EXECUTE | READ_FILE);
    }

    #[test]
    fn dev_null_comes_last_and_may_be_missing() {
        for (abi, access) in [
            (1, READ_FILE | WRITE_FILE),
            (3, READ_FILE | WRITE_FILE | TRUNCATE),
            (7, READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV),
        ] {
            let plan = plan_for(&everything(), Support::Abi(abi));
            assert_eq!(plan.paths.len(), 4);
            let null = &plan.paths[3];
            assert_eq!(null.c_path.as_c_str(), c"/dev/null");
            assert!(null.optional);
            assert_eq!((null.dir_access, null.file_access), (access, access));
            assert!(plan.paths[..3].iter().all(|p| !p.optional));
        }
        let plan = plan_for(&everything(), Support::Abi(7));
        assert_eq!(plan.path(0), Some(Path::new("/usr")));
        assert_eq!(plan.path(3), Some(Path::new("/dev/null")));
        assert_eq!(plan.path(4), None);
    }

    #[test]
    fn without_path_rules_the_filesystem_is_left_alone() {
        let spec = LandlockSpec {
            tcp_connect: vec![443],
            ..LandlockSpec::default()
        };
        let plan = plan_for(&spec, Support::Abi(7));
        assert_eq!(plan.handled_fs, 0);
        assert!(plan.paths.is_empty(), "no /dev/null rule either");
        assert_eq!(plan.handled_net, CONNECT_TCP);
        assert!(plan.restricts());
        assert!(plan.enforcement().is_full());
    }

    #[test]
    fn tcp_is_handled_per_direction() {
        let bind_only = LandlockSpec {
            paths: vec![PathRule::read_only("/")],
            tcp_bind: vec![0, 8080],
            ..LandlockSpec::default()
        };
        let plan = plan_for(&bind_only, Support::Abi(4));
        assert_eq!(plan.handled_net, BIND_TCP);
        assert_eq!(plan.tcp_bind, [0, 8080]);
        assert!(plan.tcp_connect.is_empty());
        assert_eq!(plan.port(LandlockStep::AddTcpBindRule, 1), Some(8080));
        assert_eq!(plan.port(LandlockStep::AddTcpConnectRule, 0), None);
        assert_eq!(plan.port(LandlockStep::OpenPath, 0), None);

        let both = plan_for(&everything(), Support::Abi(7));
        assert_eq!(both.handled_net, BIND_TCP | CONNECT_TCP);
        assert_eq!(both.tcp_connect, [443, 80]);
        assert_eq!(both.port(LandlockStep::AddTcpConnectRule, 1), Some(80));

        let none = plan_for(
            &LandlockSpec {
                paths: vec![PathRule::read_only("/")],
                ..LandlockSpec::default()
            },
            Support::Abi(7),
        );
        assert_eq!(none.handled_net, 0, "no port option: networking untouched");
    }

    #[test]
    fn enforcement_says_what_the_abi_lacks() {
        let spec = everything();
        let partial = |abi: u32, missing: &[Gap]| Enforcement::Partial {
            abi,
            missing: missing.to_vec(),
        };
        use Gap::*;
        assert_eq!(
            plan_for(&spec, Support::Abi(1)).enforcement,
            partial(1, &[Refer, Truncate, TcpBind, TcpConnect, IoctlDev])
        );
        assert_eq!(
            plan_for(&spec, Support::Abi(3)).enforcement,
            partial(3, &[TcpBind, TcpConnect, IoctlDev])
        );
        assert_eq!(
            plan_for(&spec, Support::Abi(4)).enforcement,
            partial(4, &[IoctlDev])
        );
        for abi in [5, 6, 7, 8, 9, 10, 42] {
            assert_eq!(
                plan_for(&spec, Support::Abi(abi)).enforcement,
                Enforcement::Full
            );
        }
        // On ABI 3 the TCP rules are not handled, so none is added in the child.
        let old = plan_for(&spec, Support::Abi(3));
        assert_eq!(old.handled_net, 0);
        assert!(old.tcp_bind.is_empty() && old.tcp_connect.is_empty());
        assert!(old.restricts());
    }

    #[test]
    fn nothing_enforceable_is_none() {
        let tcp_only = LandlockSpec {
            tcp_connect: vec![443],
            ..LandlockSpec::default()
        };
        let plan3 = plan_for(&tcp_only, Support::Abi(3));
        assert_eq!(
            plan3.enforcement,
            Enforcement::None {
                reason: NotEnforced::TooOld {
                    abi: 3,
                    missing: vec![Gap::TcpConnect]
                }
            }
        );
        assert!(!plan3.restricts());
        assert_eq!(
            plan3.apply(),
            Ok(()),
            "a plan that restricts nothing is a no-op"
        );

        for (support, reason) in [
            (Support::NotBuilt, NotEnforced::NotBuilt),
            (Support::Disabled, NotEnforced::Disabled),
        ] {
            let p = plan_for(&everything(), support);
            assert_eq!(p.enforcement, Enforcement::None { reason });
            assert!(!p.restricts());
            assert_eq!(p.abi(), None);
            // An empty request is fully met even without Landlock.
            let empty = plan_for(&LandlockSpec::default(), support);
            assert!(empty.enforcement().is_full());
        }
    }

    #[test]
    fn an_abi_newer_than_known_gets_the_newest_known_masks() {
        let plan = plan_for(&everything(), Support::Abi(42));
        assert_eq!(plan.abi(), Some(42));
        assert_eq!(
            plan.handled_fs,
            AccessFs::from_all(ABI::from(i32::MAX)).bits()
        );
    }

    #[test]
    fn enforcement_reads_as_a_warning() {
        assert_eq!(Enforcement::Full.reason(), None);
        let partial = plan_for(&everything(), Support::Abi(3)).enforcement;
        assert_eq!(
            partial.reason().unwrap(),
            "landlock ABI 3 of the running kernel lacks TCP bind port rules (needs ABI 4), \
             TCP connect port rules (needs ABI 4), restricting ioctls on device files \
             (needs ABI 5); the other restrictions are enforced"
        );
        let none = plan_for(&everything(), Support::NotBuilt).enforcement;
        assert_eq!(
            none.reason().unwrap(),
            "landlock is not supported by the running kernel: nothing is enforced"
        );
    }

    #[test]
    fn detection_works_on_this_kernel() {
        // Whatever the kernel has, the probe answers without an error.
        let support = detect().unwrap();
        if let Support::Abi(abi) = support {
            assert!(abi >= 1);
        }
    }
}
