//! Capabilities, bubblewrap's model: which sets the sandbox keeps, computed in
//! the parent, applied in the child with raw system calls.
//!
//! - A caller whose *real* uid is 0 starts from its own effective set; every
//!   other caller — including one that is uid 0 only inside a new user
//!   namespace — starts from nothing.
//! - [`CapOp`]s (`--cap-add`, `--cap-drop`, `ALL`) edit that set in order.
//! - In a new (or joined) user namespace the kernel hands the child a full
//!   bounding set; it is cut back to the requested set, so a uid-0 command
//!   cannot regain more on `execve`.
//! - When an operation was given, or the caller is not root, the requested set
//!   becomes the permitted, effective, inheritable and ambient sets (ambient,
//!   so a command that is not uid 0 keeps them across `execve`). A root caller
//!   without operations keeps its own sets untouched.
//! - `no_new_privs` is always set afterwards, so `execve` of a set-uid or
//!   file-capability binary never grants more than the permitted set.
//!
//! Without a user namespace a request beyond the caller's permitted set is an
//! error: the kernel would refuse it, and bubblewrap then silently keeps the
//! caller's whole set, which is not what was asked for.

use std::fmt;
use std::str::FromStr;

use rustix::io::Errno;

use crate::errno::last_errno;

/// One Linux capability, by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Capability(u8);

impl Capability {
    /// `CAP_NET_ADMIN`, the capability container networking needs.
    pub const NET_ADMIN: Self = Self(12);
    /// `CAP_SYS_ADMIN`.
    pub const SYS_ADMIN: Self = Self(21);

    /// The capability numbered `index` (`0..=63`).
    pub fn from_index(index: u8) -> Option<Self> {
        (index < 64).then_some(Self(index))
    }

    /// Its number.
    pub fn index(self) -> u8 {
        self.0
    }

    /// Its bit in a capability mask.
    pub fn bit(self) -> u64 {
        1u64 << self.0
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match caps::all().into_iter().find(|c| c.index() == self.0) {
            Some(known) => write!(f, "{known}"),
            None => write!(f, "CAP_{}", self.0),
        }
    }
}

/// A capability name that names no capability.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown cap: {0}")]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;

    /// A name with or without the `CAP_` prefix, in any case
    /// (`CAP_NET_ADMIN`, `net_admin`, `Cap_Net_Admin`).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        caps::Capability::from_str(&caps::to_canonical(name))
            .map(|c| Self(c.index()))
            .map_err(|_| UnknownCapability(name.to_owned()))
    }
}

/// One edit of the requested capability set, applied in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapOp {
    /// Keep this capability (`--cap-add CAP`).
    Add(Capability),
    /// Remove this capability (`--cap-drop CAP`).
    Drop(Capability),
    /// Keep every capability the kernel knows (`--cap-add ALL`).
    AddAll,
    /// Remove every capability (`--cap-drop ALL`).
    DropAll,
}

impl CapOp {
    /// Parse a `--cap-add` (`add == true`) or `--cap-drop` value: a
    /// capability name or `ALL` (any case).
    pub fn parse(value: &str, add: bool) -> Result<Self, UnknownCapability> {
        if value.eq_ignore_ascii_case("ALL") {
            return Ok(if add { Self::AddAll } else { Self::DropAll });
        }
        let cap = value.parse()?;
        Ok(if add { Self::Add(cap) } else { Self::Drop(cap) })
    }
}

/// The caller's facts the model starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallerCaps {
    /// Whether the real uid is 0.
    pub(crate) real_root: bool,
    /// The caller's effective set.
    pub(crate) effective: u64,
    /// The caller's permitted set.
    pub(crate) permitted: u64,
    /// Every capability the running kernel knows (`cap_last_cap`).
    pub(crate) all: u64,
}

impl CallerCaps {
    /// Read them from the calling thread and the kernel.
    pub(crate) fn read() -> Result<Self, Errno> {
        let (effective, permitted, _) = capget()?;
        // The kernel's capability count does not change while it runs: read
        // it once per process, not once per launch.
        static ALL: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let all = *ALL.get_or_init(|| {
            let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .unwrap_or(40)
                .min(63);
            if last == 63 {
                u64::MAX
            } else {
                (1u64 << (last + 1)) - 1
            }
        });
        Ok(Self {
            real_root: rustix::process::getuid().is_root(),
            effective,
            permitted,
            all,
        })
    }
}

/// What the child does with capabilities, as masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct CapPlan {
    /// Cut the bounding set to this mask (in a new or joined user namespace).
    pub(crate) bounding: Option<u64>,
    /// Set permitted, effective and inheritable to this mask and raise it in
    /// the ambient set.
    pub(crate) set: Option<u64>,
    /// Every capability the kernel knows.
    pub(crate) all: u64,
}

/// A capability request the caller cannot satisfy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    /// A capability outside the caller's permitted set was requested without a
    /// user namespace, where it could be granted.
    #[error(
        "cannot keep {0}: the caller does not hold it (it can only be added inside a new user namespace)"
    )]
    NotHeld(Capability),
    /// The caller's capabilities could not be read.
    #[error("reading the caller's capabilities: {0}")]
    Read(Errno),
}

impl CapPlan {
    /// Apply bubblewrap's model (see the module docs).
    pub(crate) fn compute(
        caller: &CallerCaps,
        ops: &[CapOp],
        user_namespace: bool,
    ) -> Result<Self, CapError> {
        let mut requested = if caller.real_root {
            caller.effective
        } else {
            0
        };
        for op in ops {
            match *op {
                CapOp::Add(cap) => requested |= cap.bit(),
                CapOp::Drop(cap) => requested &= !cap.bit(),
                CapOp::AddAll => requested = caller.all,
                CapOp::DropAll => requested = 0,
            }
        }
        requested &= caller.all;
        if !user_namespace {
            let missing = requested & !caller.permitted;
            if missing != 0 {
                let index = u8::try_from(missing.trailing_zeros()).unwrap_or(0);
                return Err(CapError::NotHeld(Capability(index)));
            }
        }
        Ok(Self {
            bounding: user_namespace.then_some(requested),
            set: (!ops.is_empty() || !caller.real_root).then_some(requested),
            all: caller.all,
        })
    }
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
pub(crate) struct CapHeader {
    pub(crate) version: u32,
    pub(crate) pid: i32,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct CapData {
    pub(crate) effective: u32,
    pub(crate) permitted: u32,
    pub(crate) inheritable: u32,
}

/// `_LINUX_CAPABILITY_VERSION_3`: two data structs, 64 capabilities.
pub(crate) const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// A mask's low and high 32-bit words, as the data structs hold them.
pub(crate) fn split(mask: u64) -> (u32, u32) {
    // Truncation is the point: the low and the high word.
    #[allow(clippy::cast_possible_truncation)]
    let low = mask as u32;
    #[allow(clippy::cast_possible_truncation)]
    let high = (mask >> 32) as u32;
    (low, high)
}

fn join(low: u32, high: u32) -> u64 {
    u64::from(low) | (u64::from(high) << 32)
}

/// The calling thread's (effective, permitted, inheritable) sets.
pub(crate) fn capget() -> Result<(u64, u64, u64), Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes two data structs for version 3, which `data` holds.
    let ret = unsafe { libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) };
    if ret != 0 {
        return Err(last_errno());
    }
    Ok((
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
        join(data[0].inheritable, data[1].inheritable),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: u64 = (1 << 41) - 1;
    // The machines here lack CAP_SYS_RESOURCE (24) in every set.
    const HOST: u64 = ALL & !(1 << 24);

    fn root() -> CallerCaps {
        CallerCaps {
            real_root: true,
            effective: HOST,
            permitted: HOST,
            all: ALL,
        }
    }

    fn user() -> CallerCaps {
        CallerCaps {
            real_root: false,
            effective: 0,
            permitted: 0,
            all: ALL,
        }
    }

    fn cap(name: &str) -> Capability {
        name.parse().unwrap()
    }

    #[test]
    fn names_parse_with_or_without_prefix_in_any_case() {
        assert_eq!(cap("CAP_NET_ADMIN"), Capability::NET_ADMIN);
        assert_eq!(cap("net_admin"), Capability::NET_ADMIN);
        assert_eq!(cap("Cap_Net_Admin"), Capability::NET_ADMIN);
        assert_eq!(cap("sys_admin"), Capability::SYS_ADMIN);
        assert_eq!(Capability::NET_ADMIN.to_string(), "CAP_NET_ADMIN");
        assert_eq!(
            "bogus".parse::<Capability>(),
            Err(UnknownCapability("bogus".into()))
        );
        assert_eq!(
            UnknownCapability("bogus".into()).to_string(),
            "unknown cap: bogus"
        );
        assert_eq!(CapOp::parse("all", true), Ok(CapOp::AddAll));
        assert_eq!(CapOp::parse("ALL", false), Ok(CapOp::DropAll));
    }

    #[test]
    fn root_without_options_keeps_its_own_sets_untouched() {
        let plan = CapPlan::compute(&root(), &[], false).unwrap();
        assert_eq!(plan.bounding, None);
        assert_eq!(plan.set, None);
    }

    #[test]
    fn root_in_a_user_namespace_is_cut_to_its_own_effective_set() {
        let plan = CapPlan::compute(&root(), &[], true).unwrap();
        assert_eq!(plan.bounding, Some(HOST));
        assert_eq!(plan.set, None);
    }

    #[test]
    fn unprivileged_callers_keep_nothing_by_default() {
        for userns in [true, false] {
            let plan = CapPlan::compute(&user(), &[], userns).unwrap();
            assert_eq!(plan.set, Some(0));
        }
        assert_eq!(
            CapPlan::compute(&user(), &[], true).unwrap().bounding,
            Some(0)
        );
    }

    #[test]
    fn operations_apply_in_order() {
        let na = Capability::NET_ADMIN;
        let plan = CapPlan::compute(&root(), &[CapOp::DropAll, CapOp::Add(na)], false).unwrap();
        assert_eq!(plan.set, Some(na.bit()));
        let plan = CapPlan::compute(&root(), &[CapOp::Add(na), CapOp::DropAll], false).unwrap();
        assert_eq!(plan.set, Some(0));
        let plan = CapPlan::compute(&root(), &[CapOp::Drop(Capability::SYS_ADMIN)], false).unwrap();
        assert_eq!(plan.set, Some(HOST & !Capability::SYS_ADMIN.bit()));
        assert_eq!(plan.bounding, None, "no user namespace: bounding untouched");
    }

    #[test]
    fn an_unprivileged_caller_may_add_inside_its_user_namespace() {
        let plan = CapPlan::compute(&user(), &[CapOp::Add(Capability::NET_ADMIN)], true).unwrap();
        assert_eq!(plan.set, Some(Capability::NET_ADMIN.bit()));
        assert_eq!(plan.bounding, Some(Capability::NET_ADMIN.bit()));
        let plan = CapPlan::compute(&user(), &[CapOp::AddAll], true).unwrap();
        assert_eq!(plan.set, Some(ALL));
    }

    #[test]
    fn a_capability_not_held_is_refused_without_a_user_namespace() {
        let resource = cap("sys_resource");
        assert_eq!(
            CapPlan::compute(&root(), &[CapOp::Add(resource)], false),
            Err(CapError::NotHeld(resource))
        );
        assert_eq!(
            CapPlan::compute(&user(), &[CapOp::Add(Capability::NET_ADMIN)], false),
            Err(CapError::NotHeld(Capability::NET_ADMIN))
        );
        assert_eq!(
            CapPlan::compute(&root(), &[CapOp::AddAll], false),
            Err(CapError::NotHeld(resource))
        );
        // Inside a new user namespace the kernel grants it.
        assert!(CapPlan::compute(&root(), &[CapOp::Add(resource)], true).is_ok());
    }

    #[test]
    fn the_callers_sets_read_back() {
        let caller = CallerCaps::read().unwrap();
        assert_ne!(caller.all, 0);
        assert_eq!(caller.effective & !caller.permitted, 0);
    }
}
