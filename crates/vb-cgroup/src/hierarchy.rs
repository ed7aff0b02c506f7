//! Which cgroup hierarchies the caller sees, and where the caller's own cgroup is in each.
//!
//! Detection reads two texts, `/proc/self/mountinfo` and `/proc/self/cgroup`, and assumes no
//! fixed path: a hierarchy is wherever a `cgroup` or `cgroup2` file system is mounted. For
//! each one, the caller's directory is the mount point joined with the caller's cgroup path
//! relative to the mount's root. Sandbox cgroups are created there, never at the
//! hierarchy's root, so a caller confined to a nested cgroup stays confined.

use std::path::{Path, PathBuf};

use crate::cgroupfs::FsHandle;
use crate::controller::Controller;
use crate::error::{CgroupError, errno_of};
use crate::membership::{Membership, parse_memberships};
use crate::mountinfo::{CgroupMount, MountKind, parse_cgroup_mounts};

/// How the host's cgroup hierarchies are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HierarchyMode {
    /// Pure cgroup v2: one unified hierarchy holds every controller.
    Unified,
    /// Pure cgroup v1: one hierarchy per controller (or co-mounted group of controllers).
    Legacy,
    /// v1 controller hierarchies plus a unified v2 hierarchy that holds the controllers no v1
    /// hierarchy took (often none): systemd's "hybrid" layout.
    Hybrid,
}

/// A mounted cgroup v1 hierarchy that carries at least one controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Hierarchy {
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// Its controllers as `/proc/self/cgroup` names them (`cpu`, `cpuacct`, ...).
    pub controllers: Vec<String>,
    /// The caller's own cgroup directory in it.
    pub caller_dir: PathBuf,
}

impl V1Hierarchy {
    /// True when this hierarchy carries `controller`.
    pub fn has(&self, controller: Controller) -> bool {
        self.controllers.iter().any(|c| c == controller.v1_name())
    }
}

/// The mounted cgroup v2 hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnifiedHierarchy {
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// The caller's own cgroup directory in it.
    pub caller_dir: PathBuf,
}

/// The cgroup hierarchies visible to the caller and the caller's place in each.
///
/// Detect it once with [`CgroupLayout::detect`] and reuse it for every sandbox: it does not
/// change while the process stays in its cgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupLayout {
    mode: HierarchyMode,
    v1: Vec<V1Hierarchy>,
    unified: Option<UnifiedHierarchy>,
    skipped: Vec<CgroupError>,
    /// What makes and removes cgroup directories here: the host's cgroupfs, or in unit tests
    /// a mock standing in for it.
    pub(crate) fs: FsHandle,
}

const MOUNTINFO: &str = "/proc/self/mountinfo";
const SELF_CGROUP: &str = "/proc/self/cgroup";

fn read_proc(path: &str) -> Result<String, CgroupError> {
    crate::cgroupfs::read_small_file(Path::new(path)).map_err(|e| CgroupError::ReadProc {
        path: PathBuf::from(path),
        errno: errno_of(&e),
    })
}

/// The caller's directory: the mount point joined with the cgroup path minus the mount root.
fn caller_dir(mount: &CgroupMount, cgroup: &Path) -> Result<PathBuf, CgroupError> {
    let relative =
        cgroup
            .strip_prefix(&mount.mount_root)
            .map_err(|_| CgroupError::CallerOutsideMount {
                mount_point: mount.mount_point.clone(),
                mount_root: mount.mount_root.clone(),
                cgroup: cgroup.to_path_buf(),
            })?;
    if relative.as_os_str().is_empty() {
        // `join("")` would add a trailing slash to every path built from this one.
        return Ok(mount.mount_point.clone());
    }
    Ok(mount.mount_point.join(relative))
}

impl CgroupLayout {
    /// Detects the layout from this process's `/proc/self/mountinfo` and `/proc/self/cgroup`.
    ///
    /// # Errors
    /// [`CgroupError::ReadProc`] when either file cannot be read, and the errors of
    /// [`CgroupLayout::from_proc_texts`].
    pub fn detect() -> Result<CgroupLayout, CgroupError> {
        let mountinfo = read_proc(MOUNTINFO)?;
        let self_cgroup = read_proc(SELF_CGROUP)?;
        CgroupLayout::from_proc_texts(&mountinfo, &self_cgroup)
    }

    /// Builds the layout from the texts of a mountinfo file and a `/proc/<pid>/cgroup` file.
    /// Mount points are taken as they are, so tests can point them at a mock cgroupfs.
    ///
    /// A hierarchy whose caller cgroup cannot be located is left out and recorded in
    /// [`CgroupLayout::skipped`]; a limit that needed it then becomes a
    /// [`Warning::ControllerUnavailable`](crate::Warning::ControllerUnavailable).
    ///
    /// # Errors
    /// [`CgroupError::ParseProc`] for a malformed `/proc/<pid>/cgroup` line,
    /// [`CgroupError::NoCgroupMounts`] when no usable hierarchy remains.
    pub fn from_proc_texts(
        mountinfo: &str,
        self_cgroup: &str,
    ) -> Result<CgroupLayout, CgroupError> {
        let memberships =
            parse_memberships(self_cgroup).map_err(|line| CgroupError::ParseProc {
                path: PathBuf::from(SELF_CGROUP),
                what: format!("line {line} is not ID:CONTROLLERS:/PATH"),
            })?;
        let mut v1: Vec<V1Hierarchy> = Vec::new();
        let mut unified: Option<UnifiedHierarchy> = None;
        let mut skipped = Vec::new();
        let mut any_v1_controller_mount = false;

        for mount in parse_cgroup_mounts(mountinfo) {
            let membership: Option<&Membership> = match &mount.kind {
                MountKind::V2 => memberships.iter().find(|m| m.is_unified()),
                MountKind::V1 { options } => memberships
                    .iter()
                    .find(|m| !m.is_unified() && m.controllers.iter().all(|c| options.contains(c))),
            };
            let Some(membership) = membership else {
                let carries_controller = match &mount.kind {
                    MountKind::V1 { options } => options
                        .iter()
                        .any(|o| Controller::ALL.iter().any(|c| c.v1_name() == o)),
                    MountKind::V2 => true,
                };
                if carries_controller {
                    skipped.push(CgroupError::CallerCgroupUnknown {
                        mount_point: mount.mount_point.clone(),
                    });
                }
                continue;
            };
            // Named hierarchies (name=systemd) carry no resource controller.
            let controllers: Vec<String> = membership
                .controllers
                .iter()
                .filter(|c| !c.starts_with("name="))
                .cloned()
                .collect();
            if matches!(mount.kind, MountKind::V1 { .. }) && controllers.is_empty() {
                continue;
            }
            if matches!(mount.kind, MountKind::V1 { .. }) {
                any_v1_controller_mount = true;
            }
            // A hierarchy mounted twice (bind mounts) is used once: the first mount that
            // shows the caller's cgroup wins.
            let already = match &mount.kind {
                MountKind::V2 => unified.is_some(),
                MountKind::V1 { .. } => v1.iter().any(|h| h.controllers == controllers),
            };
            if already {
                continue;
            }
            let dir = match caller_dir(&mount, &membership.path) {
                Ok(dir) => dir,
                Err(e) => {
                    skipped.push(e);
                    continue;
                }
            };
            match mount.kind {
                MountKind::V2 => {
                    unified = Some(UnifiedHierarchy {
                        mount_point: mount.mount_point,
                        caller_dir: dir,
                    });
                }
                MountKind::V1 { .. } => v1.push(V1Hierarchy {
                    mount_point: mount.mount_point,
                    controllers,
                    caller_dir: dir,
                }),
            }
        }

        let mode = match (any_v1_controller_mount, unified.is_some()) {
            (true, true) => HierarchyMode::Hybrid,
            (true, false) => HierarchyMode::Legacy,
            (false, true) => HierarchyMode::Unified,
            (false, false) => return Err(CgroupError::NoCgroupMounts),
        };
        if v1.is_empty() && unified.is_none() {
            return Err(CgroupError::NoCgroupMounts);
        }
        Ok(CgroupLayout {
            mode,
            v1,
            unified,
            skipped,
            fs: FsHandle::default(),
        })
    }

    /// The arrangement of hierarchies.
    pub fn mode(&self) -> HierarchyMode {
        self.mode
    }

    /// The v1 hierarchies that carry controllers, in mountinfo order.
    pub fn v1_hierarchies(&self) -> &[V1Hierarchy] {
        &self.v1
    }

    /// The unified (v2) hierarchy, if one is mounted.
    pub fn unified(&self) -> Option<&UnifiedHierarchy> {
        self.unified.as_ref()
    }

    /// The v1 hierarchy carrying `controller`, if any.
    pub fn v1_for(&self, controller: Controller) -> Option<&V1Hierarchy> {
        self.v1.iter().find(|h| h.has(controller))
    }

    /// Hierarchies left out because the caller's cgroup in them could not be located.
    pub fn skipped(&self) -> &[CgroupError] {
        &self.skipped
    }

    /// Every caller directory (v1 ones first, then the unified one): where this process's
    /// sandbox cgroups live and where [`sweep_stale`](crate::sweep_stale) looks.
    pub fn caller_dirs(&self) -> Vec<&Path> {
        self.v1
            .iter()
            .map(|h| h.caller_dir.as_path())
            .chain(self.unified.iter().map(|u| u.caller_dir.as_path()))
            .collect()
    }

    /// The caller's directories in the hierarchies sandbox cgroups can be made
    /// in: the v1 hierarchies carrying a controller of [`Controller::ALL`], and
    /// the unified one. The others (`devices`, `freezer`, ...) never hold one.
    pub fn sandbox_parent_dirs(&self) -> Vec<&Path> {
        self.v1
            .iter()
            .filter(|h| Controller::ALL.into_iter().any(|c| h.has(c)))
            .map(|h| h.caller_dir.as_path())
            .chain(self.unified.iter().map(|u| u.caller_dir.as_path()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This kind of machine: v1 controllers, an empty unified hierarchy, and the caller in a
    /// nested memory cgroup.
    const HYBRID_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_CGROUP: &str = "\
9:name=systemd:/
8:pids:/
7:blkio:/
4:memory:/process_api/7df3
2:cpuacct:/
1:cpu:/
0::/
";

    #[test]
    fn detects_hybrid_with_nested_memory_cgroup() {
        let layout = CgroupLayout::from_proc_texts(HYBRID_MOUNTINFO, HYBRID_CGROUP).unwrap();
        assert_eq!(layout.mode(), HierarchyMode::Hybrid);
        assert_eq!(
            layout.v1_for(Controller::Memory).unwrap().caller_dir,
            PathBuf::from("/sys/fs/cgroup/memory/process_api/7df3")
        );
        assert_eq!(
            layout.v1_for(Controller::Cpu).unwrap().caller_dir,
            PathBuf::from("/sys/fs/cgroup/cpu")
        );
        assert_eq!(
            layout.v1_for(Controller::Io).unwrap().mount_point,
            PathBuf::from("/sys/fs/cgroup/blkio")
        );
        assert_eq!(
            layout.unified().unwrap().caller_dir,
            PathBuf::from("/sys/fs/cgroup/unified")
        );
        // cpu, cpuacct, memory, blkio, pids; name=systemd carries no controller.
        assert_eq!(layout.v1_hierarchies().len(), 5);
        assert!(layout.skipped().is_empty());
    }

    #[test]
    fn detects_pure_v2_under_a_systemd_slice() {
        let mountinfo = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        let cgroup = "0::/user.slice/user-1000.slice/session-2.scope\n";
        let layout = CgroupLayout::from_proc_texts(mountinfo, cgroup).unwrap();
        assert_eq!(layout.mode(), HierarchyMode::Unified);
        assert!(layout.v1_hierarchies().is_empty());
        assert_eq!(
            layout.unified().unwrap().caller_dir,
            PathBuf::from("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope")
        );
    }

    #[test]
    fn detects_pure_v1_with_comounted_cpu_cpuacct() {
        let mountinfo = "\
25 24 0:22 / /cg/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
26 24 0:23 / /cg/memory rw - cgroup cgroup rw,memory
";
        let cgroup = "3:memory:/a\n2:cpu,cpuacct:/b\n";
        let layout = CgroupLayout::from_proc_texts(mountinfo, cgroup).unwrap();
        assert_eq!(layout.mode(), HierarchyMode::Legacy);
        assert!(layout.unified().is_none());
        let cpu = layout.v1_for(Controller::Cpu).unwrap();
        assert_eq!(cpu.caller_dir, PathBuf::from("/cg/cpu,cpuacct/b"));
        assert_eq!(
            cpu.controllers,
            vec!["cpu".to_owned(), "cpuacct".to_owned()]
        );
        assert!(layout.v1_for(Controller::Pids).is_none());
    }

    #[test]
    fn strips_the_mount_root_of_a_nested_mount() {
        // A container sees only its own subtree of the hierarchy, mounted at the usual place.
        let mountinfo = "40 31 0:38 /ctr/inner /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let cgroup = "0::/ctr/inner/app\n";
        let layout = CgroupLayout::from_proc_texts(mountinfo, cgroup).unwrap();
        assert_eq!(
            layout.unified().unwrap().caller_dir,
            PathBuf::from("/sys/fs/cgroup/app")
        );
    }

    #[test]
    fn records_a_hierarchy_whose_caller_cgroup_is_not_mounted() {
        let mountinfo = "\
26 24 0:23 /other /cg/memory rw - cgroup cgroup rw,memory
27 24 0:24 / /cg/pids rw - cgroup cgroup rw,pids
";
        let cgroup = "3:memory:/mine\n2:pids:/\n";
        let layout = CgroupLayout::from_proc_texts(mountinfo, cgroup).unwrap();
        assert!(layout.v1_for(Controller::Memory).is_none());
        assert!(layout.v1_for(Controller::Pids).is_some());
        assert!(matches!(
            layout.skipped(),
            [CgroupError::CallerOutsideMount { .. }]
        ));
    }

    #[test]
    fn no_cgroup_mount_is_an_error() {
        let mountinfo = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n";
        assert_eq!(
            CgroupLayout::from_proc_texts(mountinfo, "0::/\n"),
            Err(CgroupError::NoCgroupMounts)
        );
    }

    #[test]
    fn a_malformed_cgroup_line_is_named() {
        let err = CgroupLayout::from_proc_texts(HYBRID_MOUNTINFO, "0::/\nbogus\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
