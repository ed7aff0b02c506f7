//! seccomp filters written by name, compiled in the parent with seccompiler:
//! a list of calls to refuse, a policy in seccompiler's JSON format, and
//! voidbox's default profile.
//!
//! Every filter built here refuses, besides what it names:
//!
//! - calls under another ABI of the machine (i386 on x86-64, arm on
//!   aarch64): seccompiler's architecture check kills the process, so a rule
//!   on the native number cannot be dodged through a compat number;
//! - x32 calls (x86-64 numbers with bit 30 set, which share the native
//!   architecture value): seccompiler does not mask that bit, so a rule on
//!   `mkdir` would miss x32's `mkdir`. A prefix refuses them all with
//!   `EPERM` before seccompiler's program runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use seccompiler::{SeccompAction, SeccompFilter, SeccompRule, TargetArch};

use crate::seccomp::BpfProgram;
use crate::syscalls::SYSCALLS;

/// One system call of the native ABI, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Syscall {
    name: &'static str,
    nr: i64,
}

/// A system call name the native ABI does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown system call \"{0}\"")]
pub struct UnknownSyscall(pub String);

impl Syscall {
    /// The call named `name` (`mkdir`, `openat`...).
    pub fn by_name(name: &str) -> Result<Self, UnknownSyscall> {
        SYSCALLS
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .and_then(|i| SYSCALLS.get(i))
            .map(|(name, nr)| Self { name, nr: *nr })
            .ok_or_else(|| UnknownSyscall(name.to_owned()))
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its number on this machine.
    pub fn number(&self) -> i64 {
        self.nr
    }
}

impl fmt::Display for Syscall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Why a named filter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// seccompiler refused the rules or the policy (its message names the
    /// line, column or field).
    #[error("{0}")]
    Compile(String),
    /// A policy must hold exactly one filter.
    #[error("a policy holds one filter; this one holds {0}")]
    FilterCount(usize),
    /// A policy that seccompiler would compile into something weaker than
    /// what it says.
    #[error("{0}")]
    Weakened(String),
}

#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;

/// A seccompiler program, behind the x32 refusal, as a [`BpfProgram`].
fn from_seccompiler(program: seccompiler::BpfProgram) -> BpfProgram {
    crate::seccomp::with_x32_refusal(program.into_iter().map(|i| libc::sock_filter {
        code: i.code,
        jt: i.jt,
        jf: i.jf,
        k: i.k,
    }))
}

/// seccompiler's program for `filter`, with the x32 refusal.
fn finish(filter: SeccompFilter) -> Result<BpfProgram, FilterError> {
    let program: seccompiler::BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| FilterError::Compile(e.to_string()))?;
    Ok(from_seccompiler(program))
}

fn errno(e: i32) -> SeccompAction {
    SeccompAction::Errno(e.unsigned_abs())
}

/// A filter that fails each of `calls` with `EPERM` and allows the rest.
pub fn deny(calls: &[Syscall]) -> Result<BpfProgram, FilterError> {
    let rules: BTreeMap<i64, Vec<SeccompRule>> = calls.iter().map(|c| (c.nr, Vec::new())).collect();
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, errno(libc::EPERM), ARCH)
        .map_err(|e| FilterError::Compile(e.to_string()))?;
    finish(filter)
}

/// A seccomp policy in seccompiler's JSON format: one filter, with its
/// `mismatch_action` (what a call no rule matches gets), its
/// `match_action`, and rules by call name with optional argument
/// conditions. See `docs/security.md` for the accepted subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeccompPolicy {
    program: BpfProgram,
}

impl SeccompPolicy {
    /// Compile a policy document.
    pub fn from_json(json: &[u8]) -> Result<Self, FilterError> {
        let map = seccompiler::compile_from_json(json, ARCH)
            .map_err(|e| FilterError::Compile(e.to_string()))?;
        if map.len() != 1 {
            return Err(FilterError::FilterCount(map.len()));
        }
        // seccompiler accepted it: check what its frontend would drop.
        let document: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| FilterError::Compile(e.to_string()))?;
        check_policy(&document)?;
        let Some(program) = map.into_values().next() else {
            return Err(FilterError::FilterCount(0));
        };
        Ok(Self {
            program: from_seccompiler(program),
        })
    }

    /// The compiled program.
    pub fn program(&self) -> &BpfProgram {
        &self.program
    }
}

/// Refuse what seccompiler's JSON frontend would compile into something
/// weaker than the policy says: a call listed both without conditions and
/// with some (the frontend keeps only the conditional rules, so the call
/// passes whenever no condition holds), and a `dword` value or mask wider
/// than 32 bits (the frontend cuts it to its low half).
fn check_policy(document: &serde_json::Value) -> Result<(), FilterError> {
    let rules = document
        .as_object()
        .and_then(|filters| filters.values().next())
        .and_then(|filter| filter.get("filter"))
        .and_then(serde_json::Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut unconditional = BTreeSet::new();
    let mut conditional = BTreeSet::new();
    for rule in rules {
        let Some(name) = rule.get("syscall").and_then(serde_json::Value::as_str) else {
            continue;
        };
        let conditions = rule
            .get("args")
            .and_then(serde_json::Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if conditions.is_empty() {
            unconditional.insert(name);
        } else {
            conditional.insert(name);
        }
        for condition in conditions {
            if condition.get("type").and_then(serde_json::Value::as_str) != Some("dword") {
                continue;
            }
            let op = condition.get("op");
            let mask = op
                .and_then(|op| op.get("masked_eq"))
                .and_then(serde_json::Value::as_u64);
            let val = condition.get("val").and_then(serde_json::Value::as_u64);
            for value in [val, mask].into_iter().flatten() {
                if value > u64::from(u32::MAX) {
                    return Err(FilterError::Weakened(format!(
                        "a dword condition on \"{name}\" compares {value}, which does not fit \
                         in 32 bits"
                    )));
                }
            }
        }
    }
    if let Some(name) = unconditional.intersection(&conditional).next() {
        return Err(FilterError::Weakened(format!(
            "\"{name}\" is listed both without and with argument conditions; seccompiler \
             would keep only the conditions, so the call would pass when none holds: list \
             it once"
        )));
    }
    Ok(())
}

/// The calls voidbox's default profile refuses outright, each with its
/// reason (`docs/security.md` lists them).
pub const DEFAULT_DENIED: &[(&str, &str)] = &[
    ("kexec_load", "replaces the running kernel"),
    ("kexec_file_load", "replaces the running kernel"),
    ("init_module", "loads kernel code"),
    ("finit_module", "loads kernel code"),
    ("delete_module", "unloads kernel code"),
    ("ptrace", "reads and rewrites other processes"),
    ("process_vm_readv", "reads other processes' memory"),
    ("process_vm_writev", "writes other processes' memory"),
    ("keyctl", "the kernel keyring is not namespaced"),
    ("add_key", "the kernel keyring is not namespaced"),
    ("request_key", "the kernel keyring is not namespaced"),
    (
        "userfaultfd",
        "pauses kernel accesses to memory: a staple of kernel exploits",
    ),
    (
        "perf_event_open",
        "a large kernel surface that can leak kernel addresses",
    ),
    ("bpf", "loads programs into the kernel"),
    ("mount", "changes the filesystem the sandbox was given"),
    ("umount2", "uncovers what a mount hides"),
    ("pivot_root", "changes the root"),
    ("open_tree", "the mount API"),
    ("move_mount", "the mount API"),
    ("fsopen", "the mount API"),
    ("fsconfig", "the mount API"),
    ("fsmount", "the mount API"),
    ("fspick", "the mount API"),
    (
        "mount_setattr",
        "the mount API: can make a read-only mount writable",
    ),
    ("setns", "enters other namespaces"),
    (
        "open_tree_attr",
        "the mount API: clones a mount with its read-only flag cleared",
    ),
    (
        "io_uring_setup",
        "io_uring opens, creates and connects without the system calls a filter sees",
    ),
    (
        "io_uring_enter",
        "io_uring opens, creates and connects without the system calls a filter sees",
    ),
    (
        "io_uring_register",
        "io_uring opens, creates and connects without the system calls a filter sees",
    ),
    (
        "open_by_handle_at",
        "opens a file by handle, around the mount tree the sandbox sees",
    ),
    ("pidfd_getfd", "takes descriptors out of other processes"),
    ("kcmp", "compares other processes' kernel objects"),
];

/// The namespace flags `clone` and `unshare` may not carry under the default
/// profile.
const NAMESPACE_FLAGS: [libc::c_int; 7] = [
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

/// `CLONE_NEWTIME`: a flag of `unshare` (and `clone3`); in `clone`'s first
/// argument the same bit belongs to the exit signal.
const CLONE_NEWTIME: u32 = 0x80;

/// `USERFAULTFD_IOC_NEW`: `/dev/userfaultfd`'s way to the refused
/// `userfaultfd` call.
const USERFAULTFD_IOC_NEW: u32 = 0xaa00;

fn native_number(nr: i64) -> Result<u32, FilterError> {
    u32::try_from(nr).map_err(|_| FilterError::Compile(format!("system call number {nr}")))
}

/// voidbox's default profile: [`DEFAULT_DENIED`], `clone` and `unshare` with
/// namespace flags, `ioctl` with `TIOCSTI`, `TIOCLINUX` or
/// `USERFAULTFD_IOC_NEW`, all with `EPERM`; `clone3`, whose flags a filter
/// cannot read, with `ENOSYS` (the C library then falls back to `clone`,
/// which the filter can read); every call newer than the table of names
/// with `ENOSYS`; every x32 call with `EPERM`; a call under another ABI
/// kills the process. One compact program, hand-assembled for a cheap
/// installation (see `default_profile_program` in `seccomp.rs`).
pub fn default_profile() -> Result<BpfProgram, FilterError> {
    let denied = DEFAULT_DENIED
        .iter()
        .map(|(name, _)| {
            let call = Syscall::by_name(name).map_err(|e| FilterError::Compile(e.to_string()))?;
            native_number(call.nr)
        })
        .collect::<Result<Vec<u32>, _>>()?;
    let namespace_flags = NAMESPACE_FLAGS
        .iter()
        .fold(0, |all, flag| all | flag.unsigned_abs());
    let calls = crate::seccomp::ProfileCalls {
        clone: native_number(libc::SYS_clone)?,
        clone_flags: namespace_flags,
        unshare: native_number(libc::SYS_unshare)?,
        unshare_flags: namespace_flags | CLONE_NEWTIME,
        ioctl: native_number(libc::SYS_ioctl)?,
        ioctl_requests: [0x5412, 0x541c, USERFAULTFD_IOC_NEW],
        clone3: native_number(libc::SYS_clone3)?,
        unknown_from: native_number(crate::syscalls::highest_number() + 1)?,
    };
    crate::seccomp::default_profile_program(&denied, calls)
        .map_err(|e| FilterError::Compile(e.to_string()))
}

/// The companion of Landlock's TCP port rules, installed with them: Landlock
/// checks `bind` and `connect` of TCP sockets, so this filter refuses the
/// other ways to a connection — a multipath TCP socket, a send with
/// `MSG_FASTOPEN`, io_uring (see `tcp_companion_program` in `seccomp.rs`).
pub fn tcp_companion() -> Result<BpfProgram, FilterError> {
    let calls = crate::seccomp::TcpCompanionCalls {
        socket: native_number(libc::SYS_socket)?,
        sendto: native_number(libc::SYS_sendto)?,
        sendmsg: native_number(libc::SYS_sendmsg)?,
        sendmmsg: native_number(libc::SYS_sendmmsg)?,
        io_uring: [
            native_number(libc::SYS_io_uring_setup)?,
            native_number(libc::SYS_io_uring_enter)?,
            native_number(libc::SYS_io_uring_register)?,
        ],
    };
    crate::seccomp::tcp_companion_program(calls).map_err(|e| FilterError::Compile(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_the_c_librarys_numbers() {
        assert_eq!(
            Syscall::by_name("openat").unwrap().number(),
            libc::SYS_openat
        );
        assert_eq!(Syscall::by_name("mkdirat").unwrap().to_string(), "mkdirat");
        assert_eq!(
            Syscall::by_name("no_such_call"),
            Err(UnknownSyscall("no_such_call".into()))
        );
        assert!(SYSCALLS.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
    }

    #[test]
    fn every_default_entry_is_a_call_of_this_machine() {
        for (name, _) in DEFAULT_DENIED {
            assert!(Syscall::by_name(name).is_ok(), "{name}");
        }
        assert!(!default_profile().unwrap().is_empty());
    }

    #[test]
    fn a_policy_seccompiler_would_weaken_is_refused() {
        let mixed = br#"{"main": {"mismatch_action": "allow", "match_action": {"errno": 1},
            "filter": [{"syscall": "mkdirat"},
                       {"syscall": "mkdirat", "args": [{"index": 2, "type": "dword",
                        "op": "eq", "val": 123}]}]}}"#;
        let err = SeccompPolicy::from_json(mixed).unwrap_err().to_string();
        assert!(
            err.contains("\"mkdirat\" is listed both without and with"),
            "{err}"
        );
        let wide = br#"{"main": {"mismatch_action": "allow", "match_action": {"errno": 1},
            "filter": [{"syscall": "mkdirat", "args": [{"index": 2, "type": "dword",
                        "op": "eq", "val": 4294967789}]}]}}"#;
        let err = SeccompPolicy::from_json(wide).unwrap_err().to_string();
        assert!(
            err.contains("4294967789, which does not fit in 32 bits"),
            "{err}"
        );
        let wide_mask = br#"{"main": {"mismatch_action": "allow", "match_action": {"errno": 1},
            "filter": [{"syscall": "mkdirat", "args": [{"index": 2, "type": "dword",
                        "op": {"masked_eq": 8589934592}, "val": 0}]}]}}"#;
        assert!(SeccompPolicy::from_json(wide_mask).is_err());
        // The same call twice with conditions, or a qword value: fine.
        let fine = br#"{"main": {"mismatch_action": "allow", "match_action": {"errno": 1},
            "filter": [{"syscall": "mkdirat", "args": [{"index": 2, "type": "qword",
                        "op": "eq", "val": 4294967789}]},
                       {"syscall": "mkdirat", "args": [{"index": 2, "type": "dword",
                        "op": "eq", "val": 1}]}]}}"#;
        assert!(SeccompPolicy::from_json(fine).is_ok());
    }

    #[test]
    fn a_policy_holds_one_filter_and_names_its_errors() {
        let one = br#"{"main": {"mismatch_action": "allow", "match_action": {"errno": 1},
            "filter": [{"syscall": "mkdirat"}]}}"#;
        assert!(SeccompPolicy::from_json(one).is_ok());
        let two =
            br#"{"a": {"mismatch_action": "allow", "match_action": {"errno": 1}, "filter": []},
            "b": {"mismatch_action": "allow", "match_action": {"errno": 1}, "filter": []}}"#;
        assert!(matches!(
            SeccompPolicy::from_json(two),
            Err(FilterError::FilterCount(2))
        ));
        let err = SeccompPolicy::from_json(b"{\n  \"main\": {\n    \"nope\": 1 } }")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line"), "{err}");
    }
}
