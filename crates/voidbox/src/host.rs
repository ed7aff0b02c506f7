//! `check_host`: what this kernel and this process can do, read without
//! changing anything, so an embedder can explain a failure before it happens.

use std::path::Path;

use crate::error::Error;

/// The cgroup layout seen by this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupMode {
    /// Only the unified (v2) hierarchy.
    V2,
    /// Only v1 controller hierarchies.
    V1,
    /// v1 controllers plus a unified hierarchy.
    Hybrid,
    /// No cgroup filesystem found.
    None,
}

/// What the host offers a sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct HostReport {
    /// `uname -r`.
    pub kernel: String,
    /// Whether this process runs with effective uid 0.
    pub root: bool,
    /// Whether new user namespaces may be created (`user.max_user_namespaces`
    /// is not 0 and, where the knob exists, unprivileged ones are enabled).
    pub user_namespaces: bool,
    /// Whether the kernel has cgroup namespaces.
    pub cgroup_namespaces: bool,
    /// The cgroup layout.
    pub cgroups: CgroupMode,
    /// Whether overlayfs is available (listed in `/proc/filesystems`).
    pub overlayfs: bool,
    /// The Landlock ABI version, `None` when Landlock is unavailable.
    pub landlock_abi: Option<u32>,
    /// Whether seccomp filters are supported.
    pub seccomp: bool,
}

impl HostReport {
    /// What a default sandbox would miss here, in words; empty when nothing.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.root && !self.user_namespaces {
            out.push(
                "user namespaces are disabled and this process is not root: no namespace can be created"
                    .to_owned(),
            );
        }
        if self.cgroups == CgroupMode::None {
            out.push("no cgroup filesystem is mounted: resource limits are unavailable".to_owned());
        }
        out
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn landlock_abi() -> Option<u32> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag the
    // call only returns the ABI version; it creates nothing.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(ret).ok().filter(|v| *v > 0)
}

fn cgroup_mode(mountinfo: &str) -> CgroupMode {
    let fstypes: Vec<&str> = mountinfo
        .lines()
        .filter_map(|l| l.split(" - ").nth(1))
        .filter_map(|rest| rest.split(' ').next())
        .collect();
    let v1 = fstypes.contains(&"cgroup");
    let v2 = fstypes.contains(&"cgroup2");
    match (v1, v2) {
        (true, true) => CgroupMode::Hybrid,
        (true, false) => CgroupMode::V1,
        (false, true) => CgroupMode::V2,
        (false, false) => CgroupMode::None,
    }
}

/// Report what this host offers a sandbox.
pub fn check_host() -> Result<HostReport, Error> {
    let kernel = rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned();
    let max_userns =
        read("/proc/sys/user/max_user_namespaces").map_or(0, |s| s.trim().parse().unwrap_or(0u64));
    let unprivileged_knob =
        read("/proc/sys/kernel/unprivileged_userns_clone").map(|s| s.trim() != "0");
    let root = rustix::process::geteuid().is_root();
    let user_namespaces = Path::new("/proc/self/ns/user").exists()
        && max_userns > 0
        && (root || unprivileged_knob.unwrap_or(true));
    let mountinfo = read("/proc/self/mountinfo").ok_or_else(|| {
        Error::InvalidConfig("cannot read /proc/self/mountinfo: is /proc mounted?".into())
    })?;
    let seccomp =
        read("/proc/self/status").is_some_and(|s| s.lines().any(|l| l.starts_with("Seccomp:")));
    Ok(HostReport {
        kernel,
        root,
        user_namespaces,
        cgroup_namespaces: Path::new("/proc/self/ns/cgroup").exists(),
        cgroups: cgroup_mode(&mountinfo),
        overlayfs: read("/proc/filesystems")
            .is_some_and(|s| s.lines().any(|l| l.ends_with("\toverlay"))),
        landlock_abi: landlock_abi(),
        seccomp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_mode_follows_the_mounted_filesystems() {
        let v1 = "30 25 0:26 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
        let v2 = "31 25 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(cgroup_mode(v1), CgroupMode::V1);
        assert_eq!(cgroup_mode(v2), CgroupMode::V2);
        assert_eq!(cgroup_mode(&format!("{v1}{v2}")), CgroupMode::Hybrid);
        assert_eq!(cgroup_mode(""), CgroupMode::None);
    }

    #[test]
    fn this_host_reports_what_it_has() {
        let report = check_host().unwrap();
        assert!(!report.kernel.is_empty());
        assert_eq!(report.root, rustix::process::geteuid().is_root());
        // Linux has had cgroup namespaces since 4.6 and seccomp filters since 3.5.
        assert!(report.seccomp);
    }
}
