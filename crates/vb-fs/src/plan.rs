//! The mount plan: compiled in the parent from an [`FsSpec`] into a list of
//! primitive operations with every path already a C string, executed in the
//! child in order, and turned back into a readable error from the index of the
//! operation that failed.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use crate::action::FsAction;
use crate::error::FsError;
use crate::sys::Sys;

/// Where the sandbox's root filesystem comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RootSource {
    /// No root switch: the sandbox sees the host's tree (in its own mount
    /// namespace, with a fresh `/proc` when the PID namespace is new).
    #[default]
    Host,
    /// bubblewrap's root: an empty tmpfs, populated by filesystem actions.
    Tmpfs,
    /// This host directory, bound recursively, becomes `/`.
    Dir(PathBuf),
}

/// How the process enters its new root.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RootSwitch {
    /// `pivot_root`, then the old root is detached: nothing of it stays
    /// reachable. bubblewrap's behaviour and the default.
    #[default]
    PivotRoot,
    /// `chroot` into the new root; the old root stays reachable through open
    /// descriptors. A compatibility mode for hosts where `pivot_root` fails
    /// (a root on ramfs, some nested containers).
    Chroot,
}

/// What the sandbox's filesystem should look like.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsSpec {
    /// The root.
    pub root: RootSource,
    /// How to enter it.
    pub switch: RootSwitch,
    /// Mount a fresh procfs on `/proc` (when the PID namespace is new).
    pub mount_proc: bool,
    /// The actions that compose the tree, in order.
    pub actions: Vec<FsAction>,
}

/// Where the new root is staged before the switch: the first of these that is a
/// directory. The staging tmpfs lives only in the sandbox's mount namespace.
const STAGING_CANDIDATES: [&str; 4] = ["/tmp", "/run", "/mnt", "/var/tmp"];

/// One primitive operation of a plan.
#[derive(Debug)]
enum Op {
    Propagation {
        target: CString,
        flags: MountPropagationFlags,
    },
    MountFs {
        fstype: &'static CStr,
        target: CString,
        flags: MountFlags,
        data: Option<CString>,
        /// Skip silently when the target is not a directory (a rootfs may lack
        /// `/proc`).
        if_dir: bool,
    },
    Bind {
        source: CString,
        target: CString,
        recursive: bool,
    },
    Unmount {
        target: CString,
        flags: UnmountFlags,
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
}

impl Op {
    /// The step number reported in a failure (stable, for frames).
    fn step(&self) -> u32 {
        match self {
            Self::Propagation { .. } => 1,
            Self::MountFs { .. } => 2,
            Self::Bind { .. } => 3,
            Self::Unmount { .. } => 4,
            Self::Mkdir { .. } => 5,
            Self::Chdir { .. } => 6,
            Self::PivotRoot { .. } => 7,
            Self::Chroot { .. } => 8,
        }
    }

    fn run(&self, sys: &impl Sys) -> Result<(), Errno> {
        match self {
            Self::Propagation { target, flags } => sys.propagation(target, *flags),
            Self::MountFs {
                fstype,
                target,
                flags,
                data,
                if_dir,
            } => {
                if *if_dir && !sys.is_dir(target) {
                    return Ok(());
                }
                sys.mount_fs(fstype, target, *flags, data.as_deref())
            }
            Self::Bind {
                source,
                target,
                recursive,
            } => sys.bind(source, target, *recursive),
            Self::Unmount { target, flags } => sys.unmount(target, *flags),
            Self::Mkdir { path, mode } => sys.mkdir(path, *mode),
            Self::Chdir { path } => sys.chdir(path),
            Self::PivotRoot { new_root, put_old } => sys.pivot_root(new_root, put_old),
            Self::Chroot { path } => sys.chroot(path),
        }
    }
}

/// A failure of one operation, as the child reports it: the operation's step
/// number, its index in the plan, and the errno. `Copy` and allocation-free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsFailure {
    /// The operation kind.
    pub step: u32,
    /// The operation's index in the plan.
    pub index: u32,
    /// The positive errno.
    pub errno: i32,
}

/// A compiled plan.
#[derive(Debug, Default)]
pub struct MountPlan {
    ops: Vec<Op>,
    /// Per operation, what it does in words, for error messages.
    what: Vec<String>,
}

fn cstring(path: &Path) -> Result<CString, FsError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| FsError::Nul(path.to_path_buf()))
}

fn lit(s: &CStr) -> CString {
    s.to_owned()
}

/// Mount options of a fresh procfs (those bubblewrap uses).
const PROC_FLAGS: MountFlags = MountFlags::NOSUID
    .union(MountFlags::NOEXEC)
    .union(MountFlags::NODEV);

impl MountPlan {
    /// Compile `spec`. Host paths are resolved to absolute, symlink-free paths
    /// here, so the plan never depends on the working directory of the child.
    pub fn compile(spec: &FsSpec) -> Result<Self, FsError> {
        if let Some(action) = spec.actions.first() {
            return Err(FsError::Unsupported(action.option_name()));
        }
        let mut plan = Self::default();
        plan.push(
            Op::Propagation {
                target: lit(c"/"),
                flags: MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
            },
            "Failed to make / private".into(),
        );
        let root_dir = match &spec.root {
            RootSource::Dir(dir) => Some(resolve_root(dir)?),
            _ => None,
        };
        match (&spec.root, spec.switch) {
            (RootSource::Host, _) => {
                if spec.mount_proc {
                    plan.mount_proc(c"/proc".to_owned(), "/proc");
                }
            }
            (RootSource::Dir(_) | RootSource::Tmpfs, RootSwitch::PivotRoot) => {
                plan.compile_pivot(root_dir.as_deref(), spec.mount_proc)?;
            }
            (RootSource::Dir(_), RootSwitch::Chroot) => {
                let dir = root_dir.unwrap_or_else(|| PathBuf::from("/"));
                let c_dir = cstring(&dir)?;
                if dir != Path::new("/") {
                    plan.push(
                        Op::Bind {
                            source: c_dir.clone(),
                            target: c_dir.clone(),
                            recursive: true,
                        },
                        format!("Can't bind mount {} on itself", dir.display()),
                    );
                }
                if spec.mount_proc {
                    let proc = dir.join("proc");
                    plan.mount_proc(cstring(&proc)?, &proc.display().to_string());
                }
                plan.push(
                    Op::Chroot { path: c_dir },
                    format!("chroot {}", dir.display()),
                );
                plan.push(Op::Chdir { path: lit(c"/") }, "chdir /".into());
            }
            (RootSource::Tmpfs, RootSwitch::Chroot) => {
                let base = staging_dir()?;
                let c_base = cstring(&base)?;
                plan.push(
                    Op::MountFs {
                        fstype: c"tmpfs",
                        target: c_base.clone(),
                        flags: MountFlags::NOSUID | MountFlags::NODEV,
                        data: Some(lit(c"mode=0755")),
                        if_dir: false,
                    },
                    format!("Failed to mount tmpfs on {}", base.display()),
                );
                plan.push(
                    Op::Chroot { path: c_base },
                    format!("chroot {}", base.display()),
                );
                plan.push(Op::Chdir { path: lit(c"/") }, "chdir /".into());
            }
        }
        Ok(plan)
    }

    /// bubblewrap's two-step pivot: a tmpfs becomes a temporary root holding
    /// `newroot` and the old root at `oldroot`; the new root is assembled under
    /// `/newroot` from sources under `/oldroot`; the old root is detached and
    /// `/newroot` becomes `/` with `pivot_root(".", ".")`, which leaves no
    /// directory behind in the new root.
    fn compile_pivot(&mut self, root_dir: Option<&Path>, mount_proc: bool) -> Result<(), FsError> {
        let base = staging_dir()?;
        let c_base = cstring(&base)?;
        self.push(
            Op::MountFs {
                fstype: c"tmpfs",
                target: c_base.clone(),
                flags: MountFlags::NOSUID | MountFlags::NODEV,
                data: Some(lit(c"mode=0755")),
                if_dir: false,
            },
            format!("Failed to mount tmpfs on {}", base.display()),
        );
        self.push(
            Op::Chdir { path: c_base },
            format!("chdir {}", base.display()),
        );
        self.push(
            Op::Mkdir {
                path: lit(c"newroot"),
                mode: 0o755,
            },
            "Creating newroot failed".into(),
        );
        self.push(
            Op::Mkdir {
                path: lit(c"oldroot"),
                mode: 0o755,
            },
            "Creating oldroot failed".into(),
        );
        if root_dir.is_none() {
            // An empty directory of the tmpfs becomes a mount point of its own.
            self.push(
                Op::Bind {
                    source: lit(c"newroot"),
                    target: lit(c"newroot"),
                    recursive: true,
                },
                "setting up newroot bind".into(),
            );
        }
        self.push(
            Op::PivotRoot {
                new_root: lit(c"."),
                put_old: lit(c"oldroot"),
            },
            "pivot_root".into(),
        );
        self.push(Op::Chdir { path: lit(c"/") }, "chdir /".into());
        if let Some(dir) = root_dir {
            let source = Path::new("/oldroot").join(dir.strip_prefix("/").unwrap_or(dir));
            self.push(
                Op::Bind {
                    source: cstring(&source)?,
                    target: lit(c"/newroot"),
                    recursive: true,
                },
                format!("Can't bind mount {} on /newroot", dir.display()),
            );
        }
        if mount_proc {
            // Before the old root goes: a fresh procfs needs a visible one.
            self.mount_proc(lit(c"/newroot/proc"), "/proc");
        }
        self.push(
            Op::Propagation {
                target: lit(c"/oldroot"),
                flags: MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
            },
            "Failed to make old root private".into(),
        );
        self.push(
            Op::Unmount {
                target: lit(c"/oldroot"),
                flags: UnmountFlags::DETACH,
            },
            "unmount old root".into(),
        );
        self.push(
            Op::Chdir {
                path: lit(c"/newroot"),
            },
            "chdir /newroot".into(),
        );
        self.push(
            Op::PivotRoot {
                new_root: lit(c"."),
                put_old: lit(c"."),
            },
            "pivot_root into the new root".into(),
        );
        self.push(
            Op::Unmount {
                target: lit(c"."),
                flags: UnmountFlags::DETACH,
            },
            "unmount the staging root".into(),
        );
        self.push(Op::Chdir { path: lit(c"/") }, "chdir /".into());
        Ok(())
    }

    fn mount_proc(&mut self, target: CString, shown: &str) {
        self.push(
            Op::MountFs {
                fstype: c"proc",
                target,
                flags: PROC_FLAGS,
                data: None,
                if_dir: true,
            },
            format!("Can't mount proc on {shown}"),
        );
    }

    fn push(&mut self, op: Op, what: String) {
        self.ops.push(op);
        self.what.push(what);
    }

    /// The number of primitive operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the plan does nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Child side: run every operation in order, stopping at the first failure.
    /// Allocation-free.
    pub fn execute(&self, sys: &impl Sys) -> Result<(), FsFailure> {
        for (index, op) in (0u32..).zip(self.ops.iter()) {
            op.run(sys).map_err(|errno| FsFailure {
                step: op.step(),
                index,
                errno: errno.raw_os_error(),
            })?;
        }
        Ok(())
    }

    /// Parent side: the error a child's failure report stands for.
    pub fn describe(&self, failure: FsFailure) -> FsError {
        let source = std::io::Error::from_raw_os_error(failure.errno);
        let found = usize::try_from(failure.index)
            .ok()
            .and_then(|i| self.what.get(i).zip(self.ops.get(i)))
            .filter(|(_, op)| op.step() == failure.step);
        match found {
            Some((what, _)) => FsError::Step {
                what: what.clone(),
                source,
            },
            None => FsError::UnknownStep {
                index: failure.index,
                source,
            },
        }
    }
}

fn resolve_root(dir: &Path) -> Result<PathBuf, FsError> {
    let err = |source| FsError::Rootfs {
        path: dir.to_path_buf(),
        source,
    };
    let resolved = std::fs::canonicalize(dir).map_err(err)?;
    if !resolved.is_dir() {
        return Err(err(std::io::Error::from_raw_os_error(libc::ENOTDIR)));
    }
    Ok(resolved)
}

fn staging_dir() -> Result<PathBuf, FsError> {
    STAGING_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .ok_or_else(|| FsError::NoStagingDir {
            tried: STAGING_CANDIDATES.join(", "),
        })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// Records every call as text and fails the call numbered `fail_at`.
    #[derive(Default)]
    struct Recorder {
        calls: RefCell<Vec<String>>,
        fail_at: Option<usize>,
        dirs: Vec<&'static str>,
    }

    impl Recorder {
        fn record(&self, call: String) -> Result<(), Errno> {
            let mut calls = self.calls.borrow_mut();
            calls.push(call);
            if self.fail_at == Some(calls.len() - 1) {
                return Err(Errno::PERM);
            }
            Ok(())
        }
    }

    fn s(c: &CStr) -> String {
        c.to_string_lossy().into_owned()
    }

    impl Sys for Recorder {
        fn mount_fs(
            &self,
            fstype: &CStr,
            target: &CStr,
            _: MountFlags,
            data: Option<&CStr>,
        ) -> Result<(), Errno> {
            self.record(format!(
                "mount {} {} {}",
                s(fstype),
                s(target),
                data.map(s).unwrap_or_default()
            ))
        }
        fn bind(&self, source: &CStr, target: &CStr, recursive: bool) -> Result<(), Errno> {
            self.record(format!(
                "bind{} {} {}",
                if recursive { "-r" } else { "" },
                s(source),
                s(target)
            ))
        }
        fn propagation(&self, target: &CStr, _: MountPropagationFlags) -> Result<(), Errno> {
            self.record(format!("private {}", s(target)))
        }
        fn unmount(&self, target: &CStr, _: UnmountFlags) -> Result<(), Errno> {
            self.record(format!("umount {}", s(target)))
        }
        fn mkdir(&self, path: &CStr, mode: u32) -> Result<(), Errno> {
            self.record(format!("mkdir {} {mode:o}", s(path)))
        }
        fn chdir(&self, path: &CStr) -> Result<(), Errno> {
            self.record(format!("chdir {}", s(path)))
        }
        fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> Result<(), Errno> {
            self.record(format!("pivot {} {}", s(new_root), s(put_old)))
        }
        fn chroot(&self, path: &CStr) -> Result<(), Errno> {
            self.record(format!("chroot {}", s(path)))
        }
        fn is_dir(&self, path: &CStr) -> bool {
            self.dirs.iter().any(|d| d.as_bytes() == path.to_bytes())
        }
    }

    fn staging() -> String {
        staging_dir().unwrap().display().to_string()
    }

    #[test]
    fn pivot_into_a_directory_assembles_under_newroot_then_detaches_the_old_root() {
        let spec = FsSpec {
            root: RootSource::Dir("/usr".into()),
            mount_proc: true,
            ..FsSpec::default()
        };
        let plan = MountPlan::compile(&spec).unwrap();
        let rec = Recorder {
            dirs: vec!["/newroot/proc"],
            ..Recorder::default()
        };
        plan.execute(&rec).unwrap();
        let base = staging();
        assert_eq!(
            *rec.calls.borrow(),
            vec![
                "private /".to_string(),
                format!("mount tmpfs {base} mode=0755"),
                format!("chdir {base}"),
                "mkdir newroot 755".into(),
                "mkdir oldroot 755".into(),
                "pivot . oldroot".into(),
                "chdir /".into(),
                "bind-r /oldroot/usr /newroot".into(),
                "mount proc /newroot/proc ".into(),
                "private /oldroot".into(),
                "umount /oldroot".into(),
                "chdir /newroot".into(),
                "pivot . .".into(),
                "umount .".into(),
                "chdir /".into(),
            ]
        );
    }

    #[test]
    fn tmpfs_root_binds_newroot_onto_itself_and_skips_a_missing_proc() {
        let spec = FsSpec {
            root: RootSource::Tmpfs,
            mount_proc: true,
            ..FsSpec::default()
        };
        let plan = MountPlan::compile(&spec).unwrap();
        let rec = Recorder::default();
        plan.execute(&rec).unwrap();
        let calls = rec.calls.borrow();
        assert!(calls.contains(&"bind-r newroot newroot".to_string()));
        assert!(!calls.iter().any(|c| c.starts_with("mount proc")));
    }

    #[test]
    fn chroot_mode_never_pivots() {
        let spec = FsSpec {
            root: RootSource::Dir("/usr".into()),
            switch: RootSwitch::Chroot,
            ..FsSpec::default()
        };
        let plan = MountPlan::compile(&spec).unwrap();
        let rec = Recorder::default();
        plan.execute(&rec).unwrap();
        assert_eq!(
            *rec.calls.borrow(),
            vec!["private /", "bind-r /usr /usr", "chroot /usr", "chdir /"]
        );
    }

    #[test]
    fn host_root_only_makes_mounts_private_and_mounts_proc() {
        let spec = FsSpec {
            mount_proc: true,
            ..FsSpec::default()
        };
        let rec = Recorder {
            dirs: vec!["/proc"],
            ..Recorder::default()
        };
        MountPlan::compile(&spec).unwrap().execute(&rec).unwrap();
        assert_eq!(*rec.calls.borrow(), vec!["private /", "mount proc /proc "]);
    }

    #[test]
    fn failure_at_each_step_stops_there_and_is_described() {
        let spec = FsSpec {
            root: RootSource::Dir("/usr".into()),
            mount_proc: true,
            ..FsSpec::default()
        };
        let plan = MountPlan::compile(&spec).unwrap();
        for fail_at in 0..plan.len() {
            let rec = Recorder {
                fail_at: Some(fail_at),
                dirs: vec!["/newroot/proc"],
                ..Recorder::default()
            };
            let failure = plan.execute(&rec).unwrap_err();
            assert_eq!(
                rec.calls.borrow().len(),
                fail_at + 1,
                "ran past the failure"
            );
            assert_eq!(failure.errno, libc::EPERM);
            let err = plan.describe(failure);
            assert!(matches!(err, FsError::Step { .. }), "{err}");
        }
    }

    #[test]
    fn rootfs_bind_failure_names_the_directory() {
        let spec = FsSpec {
            root: RootSource::Dir("/usr".into()),
            ..FsSpec::default()
        };
        let plan = MountPlan::compile(&spec).unwrap();
        let rec = Recorder {
            fail_at: Some(7),
            ..Recorder::default()
        };
        let err = plan.describe(plan.execute(&rec).unwrap_err());
        assert_eq!(
            err.to_string(),
            format!(
                "Can't bind mount /usr on /newroot: {}",
                std::io::Error::from_raw_os_error(libc::EPERM)
            )
        );
    }

    #[test]
    fn forged_failure_reports_are_unknown_steps() {
        let plan = MountPlan::compile(&FsSpec::default()).unwrap();
        let err = plan.describe(FsFailure {
            step: 3,
            index: 0,
            errno: libc::EIO,
        });
        assert!(matches!(err, FsError::UnknownStep { index: 0, .. }));
        let err = plan.describe(FsFailure {
            step: 1,
            index: 99,
            errno: libc::EIO,
        });
        assert!(matches!(err, FsError::UnknownStep { index: 99, .. }));
    }

    #[test]
    fn missing_rootfs_is_refused_at_compile_time() {
        let spec = FsSpec {
            root: RootSource::Dir("/nonexistent/root".into()),
            ..FsSpec::default()
        };
        let err = MountPlan::compile(&spec).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Can't find rootfs /nonexistent/root: No such file or directory (os error 2)"
        );
    }
}
