//! `check_host`: what this kernel and this process can do, read without
//! changing anything, so an embedder can explain a failure before it happens.

use std::path::{Path, PathBuf};

use vb_net::NatBackend;

use crate::error::Error;
use crate::json::json_string;

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

/// Which namespace kinds the kernel has (`/proc/self/ns/<kind>` exists).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct NamespaceSupport {
    /// User namespaces.
    pub user: bool,
    /// Mount namespaces.
    pub mount: bool,
    /// PID namespaces.
    pub pid: bool,
    /// Network namespaces.
    pub net: bool,
    /// UTS namespaces.
    pub uts: bool,
    /// IPC namespaces.
    pub ipc: bool,
    /// cgroup namespaces.
    pub cgroup: bool,
}

impl NamespaceSupport {
    /// Each kind with its `/proc/self/ns` name.
    pub fn kinds(&self) -> [(&'static str, bool); 7] {
        [
            ("user", self.user),
            ("mnt", self.mount),
            ("pid", self.pid),
            ("net", self.net),
            ("uts", self.uts),
            ("ipc", self.ipc),
            ("cgroup", self.cgroup),
        ]
    }
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
    /// The cgroup layout.
    pub cgroups: CgroupMode,
    /// Whether overlayfs is available (listed in `/proc/filesystems`).
    pub overlayfs: bool,
    /// The Landlock ABI version, `None` when Landlock is unavailable.
    pub landlock_abi: Option<u32>,
    /// Whether seccomp filters are supported.
    pub seccomp: bool,
    /// The namespace kinds the kernel has.
    pub namespaces: NamespaceSupport,
    /// The cgroup controllers a sandbox's limits can use here: those of the
    /// caller's v2 cgroup (`cgroup.controllers`) and of the mounted v1
    /// hierarchies.
    pub cgroup_controllers: Vec<String>,
    /// Whether the kernel has veth pairs (built in, loaded, or a module).
    pub veth: bool,
    /// Whether the kernel has bridges (built in, loaded, or a module).
    pub bridge: bool,
    /// The NAT backend bridge networking would use, if one is installed.
    pub nat_backend: Option<NatBackend>,
    /// The `pasta` program rootless networking would run, if installed.
    pub pasta: Option<PathBuf>,
    /// Whether this process may open `/dev/net/tun`, which pasta needs.
    pub tun: bool,
}

impl CgroupMode {
    /// The layout's name: `v2`, `v1`, `hybrid` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Self::V2 => "v2",
            Self::V1 => "v1",
            Self::Hybrid => "hybrid",
            Self::None => "none",
        }
    }
}

impl HostReport {
    /// The NAT backend's name (`nftables`, `iptables-nft`), if there is one.
    pub fn nat_backend_name(&self) -> Option<&'static str> {
        match self.nat_backend? {
            NatBackend::Nftables => Some("nftables"),
            NatBackend::IptablesNft => Some("iptables-nft"),
            _ => None,
        }
    }

    /// The report as one JSON object and a newline (`vb --check-host
    /// --json`), with `problems` and `ok` (no problem); readers ignore
    /// members they do not know.
    pub fn to_json(&self) -> String {
        let string = |text: &str| {
            let mut out = String::new();
            json_string(&mut out, text);
            out
        };
        let list = |items: &[String]| {
            items
                .iter()
                .map(|item| string(item))
                .collect::<Vec<_>>()
                .join(",")
        };
        let namespaces: Vec<String> = self
            .namespaces
            .kinds()
            .iter()
            .map(|(kind, on)| format!("{}:{on}", string(kind)))
            .collect();
        let problems = self.problems();
        format!(
            "{{\"kernel\":{},\"root\":{},\"namespaces\":{{{}}},\"user_namespaces\":{},\
             \"overlayfs\":{},\"cgroup\":{{\"layout\":{},\"controllers\":[{}]}},\
             \"landlock_abi\":{},\"seccomp\":{},\"veth\":{},\"bridge\":{},\"nat_backend\":{},\
             \"pasta\":{},\"tun\":{},\"problems\":[{}],\"ok\":{}}}\n",
            string(&self.kernel),
            self.root,
            namespaces.join(","),
            self.user_namespaces,
            self.overlayfs,
            string(self.cgroups.name()),
            list(&self.cgroup_controllers),
            self.landlock_abi
                .map_or_else(|| "null".to_owned(), |abi| abi.to_string()),
            self.seccomp,
            self.veth,
            self.bridge,
            self.nat_backend_name()
                .map_or_else(|| "null".to_owned(), string),
            self.pasta
                .as_ref()
                .map_or_else(|| "null".to_owned(), |p| string(&p.display().to_string())),
            self.tun,
            list(&problems),
            problems.is_empty(),
        )
    }

    /// What a default sandbox would miss here, in words; empty when nothing.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.root && !self.user_namespaces {
            out.push(
                "user namespaces are disabled and this process is not root: no namespace can be created"
                    .to_owned(),
            );
        }
        if !self.namespaces.mount {
            out.push("the kernel has no mount namespaces: no sandbox can be composed".to_owned());
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

/// Whether the kernel has module `name`: loaded (or built in with
/// parameters) under `/sys/module`, or listed in the running kernel's
/// `modules.builtin` or `modules.dep`.
fn kernel_has(name: &str, release: &str) -> bool {
    if Path::new("/sys/module").join(name).exists() {
        return true;
    }
    let file = format!("/{name}.ko");
    ["modules.builtin", "modules.dep"].iter().any(|list| {
        read(&format!("/lib/modules/{release}/{list}")).is_some_and(|text| {
            text.lines().any(|line| {
                let path = line.split(':').next().unwrap_or_default();
                path.ends_with(&file) || path.contains(&format!("{file}."))
            })
        })
    })
}

/// Whether veth pairs and bridges can be made, tried in a network namespace
/// of a short-lived thread's own (nothing on the host changes; it vanishes
/// with the thread). Needs `CAP_SYS_ADMIN` for the namespace: `None` without
/// it. For kernels whose drivers are built in without a trace in
/// `/sys/module` or `/lib/modules`.
fn probe_link_kinds() -> Option<(bool, bool)> {
    use vb_net::vb_netlink::{IfName, Netlink};
    std::thread::spawn(|| {
        // SAFETY: CLONE_NEWNET changes only this thread's network namespace,
        // and the thread ends right after.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }.ok()?;
        let mut netlink = Netlink::open().ok()?;
        let name = |n: &str| IfName::new(n).ok();
        let veth = netlink
            .add_veth(&name("vbprobe0")?, &name("vbprobe1")?, None)
            .is_ok();
        let bridge = netlink.add_bridge(&name("vbprobe2")?).is_ok();
        Some((veth, bridge))
    })
    .join()
    .ok()
    .flatten()
}

/// The controllers available to a sandbox's cgroup here.
fn cgroup_controllers() -> Vec<String> {
    let Ok(layout) = vb_cgroup::CgroupLayout::detect() else {
        return Vec::new();
    };
    let mut out: Vec<String> = layout
        .unified()
        .and_then(|u| std::fs::read_to_string(u.caller_dir.join("cgroup.controllers")).ok())
        .map(|text| text.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    for hierarchy in layout.v1_hierarchies() {
        out.extend(hierarchy.controllers.iter().cloned());
    }
    out.sort();
    out.dedup();
    out
}

/// `program` in `PATH`, if it is there and executable.
fn in_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
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
    let ns = |kind: &str| Path::new("/proc/self/ns").join(kind).exists();
    let (mut veth, mut bridge) = (kernel_has("veth", &kernel), kernel_has("bridge", &kernel));
    if (!veth || !bridge)
        && root
        && let Some((probed_veth, probed_bridge)) = probe_link_kinds()
    {
        veth |= probed_veth;
        bridge |= probed_bridge;
    }
    let seccomp =
        read("/proc/self/status").is_some_and(|s| s.lines().any(|l| l.starts_with("Seccomp:")));
    Ok(HostReport {
        kernel,
        root,
        user_namespaces,
        cgroups: cgroup_mode(&mountinfo),
        overlayfs: read("/proc/filesystems")
            .is_some_and(|s| s.lines().any(|l| l.ends_with("\toverlay"))),
        landlock_abi: landlock_abi(),
        seccomp,
        namespaces: NamespaceSupport {
            user: ns("user"),
            mount: ns("mnt"),
            pid: ns("pid"),
            net: ns("net"),
            uts: ns("uts"),
            ipc: ns("ipc"),
            cgroup: ns("cgroup"),
        },
        cgroup_controllers: cgroup_controllers(),
        veth,
        bridge,
        nat_backend: vb_net::available_nat_backend(),
        pasta: in_path("pasta"),
        tun: std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .is_ok(),
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
