//! A mock cgroupfs in a temporary directory, for unit tests.
//!
//! Plain directories stand for the hierarchies, and a small mock "kernel" ([`MockFs`], the
//! [`CgroupFs`] of the mock host's layout) does what cgroupfs does on `mkdir` and `rmdir`: it
//! fills a new cgroup with the control files of its hierarchy's controllers (on v2, those
//! enabled in the parent's `cgroup.subtree_control`) and drops them on removal. Tests can make
//! a control file refuse writes (it becomes a directory, so writing fails with `EISDIR`) or be
//! missing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::cgroupfs::{CgroupFs, FsHandle};
use crate::hierarchy::CgroupLayout;

#[derive(Debug, Clone, Default)]
struct Kernel {
    v1: Vec<(PathBuf, Vec<&'static str>)>,
    v2: Option<PathBuf>,
    refuse: Vec<String>,
    missing: Vec<String>,
}

/// The mock kernel's side of `mkdir` and `rmdir`, shared by every thread of a test.
#[derive(Debug)]
struct MockFs {
    kernel: Mutex<Kernel>,
}

impl MockFs {
    fn kernel(&self) -> std::sync::MutexGuard<'_, Kernel> {
        self.kernel.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CgroupFs for MockFs {
    fn make_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir(path)?;
        let kernel = self.kernel().clone();
        kernel_after_mkdir(&kernel, path);
        Ok(())
    }

    fn remove_dir(&self, path: &Path) -> std::io::Result<()> {
        kernel_before_rmdir(path);
        std::fs::remove_dir(path)
    }
}

fn v1_files(controller: &str) -> &'static [(&'static str, &'static str)] {
    match controller {
        "memory" => &[
            ("memory.limit_in_bytes", "9223372036854771712\n"),
            ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
            ("memory.usage_in_bytes", "0\n"),
        ],
        "pids" => &[("pids.max", "max\n"), ("pids.current", "0\n")],
        "cpu" => &[
            ("cpu.cfs_period_us", "100000\n"),
            ("cpu.cfs_quota_us", "-1\n"),
            ("cpu.shares", "1024\n"),
        ],
        "blkio" => &[("blkio.bfq.weight", "100\n")],
        _ => &[],
    }
}

fn v2_files(controller: &str) -> &'static [(&'static str, &'static str)] {
    match controller {
        "memory" => &[("memory.max", "max\n"), ("memory.swap.max", "max\n")],
        "pids" => &[("pids.max", "max\n")],
        "cpu" => &[("cpu.max", "max 100000\n"), ("cpu.weight", "100\n")],
        "io" => &[("io.weight", "default 100\n")],
        _ => &[],
    }
}

fn write(path: &Path, content: &str) {
    std::fs::write(path, content).unwrap();
}

/// The mock kernel's part of `mkdir`.
fn kernel_after_mkdir(kernel: &Kernel, path: &Path) {
    let mut files: Vec<(&str, String)> = vec![("cgroup.procs", String::new())];
    if let Some((_, controllers)) = kernel.v1.iter().find(|(m, _)| path.starts_with(m)) {
        files.push(("tasks", String::new()));
        for controller in controllers {
            files.extend(v1_files(controller).iter().map(|&(f, c)| (f, c.to_owned())));
        }
    } else if kernel.v2.as_ref().is_some_and(|m| path.starts_with(m)) {
        let parent = path.parent().unwrap();
        // A parent whose subtree_control cannot be read enables nothing.
        let enabled =
            std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
        let enabled: Vec<&str> = enabled
            .split_ascii_whitespace()
            .map(|w| w.trim_start_matches('+'))
            .collect();
        files.push(("cgroup.controllers", enabled.join(" ")));
        files.push(("cgroup.subtree_control", String::new()));
        files.push(("cgroup.kill", String::new()));
        for controller in &enabled {
            files.extend(v2_files(controller).iter().map(|&(f, c)| (f, c.to_owned())));
        }
    }
    for (file, content) in files {
        if kernel.missing.iter().any(|m| m == file) {
            continue;
        }
        if kernel.refuse.iter().any(|r| r == file) {
            std::fs::create_dir(path.join(file)).unwrap();
        } else {
            write(&path.join(file), &content);
        }
    }
}

/// The mock kernel's part of `rmdir`: control files go away with the directory (child
/// cgroups, which hold files, still make it fail).
fn kernel_before_rmdir(path: &Path) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            let _ = std::fs::remove_dir(&p);
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// A mock host: a temporary tree laid out like a cgroupfs, and its layout, served by the
/// mock kernel. Dropping it removes the tree.
#[derive(Debug)]
pub(crate) struct MockHost {
    pub(crate) root: PathBuf,
    pub(crate) layout: CgroupLayout,
    fs: Arc<MockFs>,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn temp_root() -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "vb-cgroup-mock-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&root).unwrap();
    root
}

impl MockHost {
    fn build(root: PathBuf, kernel: Kernel, mountinfo: &str, self_cgroup: &str) -> MockHost {
        let mut layout = CgroupLayout::from_proc_texts(mountinfo, self_cgroup).unwrap();
        let fs = Arc::new(MockFs {
            kernel: Mutex::new(kernel),
        });
        layout.fs = FsHandle::from(Arc::clone(&fs) as Arc<dyn CgroupFs>);
        MockHost { root, layout, fs }
    }

    /// This kind of machine: v1 memory (caller nested in `/process_api/abc`), pids, cpu and
    /// blkio hierarchies, and a unified hierarchy with no controllers.
    pub(crate) fn hybrid() -> MockHost {
        let root = temp_root();
        let mut mountinfo = String::new();
        let mut v1 = Vec::new();
        for (i, name) in ["memory", "pids", "cpu", "blkio"].into_iter().enumerate() {
            let mount = root.join(name);
            std::fs::create_dir_all(&mount).unwrap();
            mountinfo.push_str(&format!(
                "{} 1 0:{} / {} rw - cgroup cgroup rw,{name}\n",
                30 + i,
                30 + i,
                mount.display()
            ));
            v1.push((mount, vec![name]));
        }
        std::fs::create_dir_all(root.join("memory/process_api/abc")).unwrap();
        let unified = root.join("unified");
        std::fs::create_dir_all(&unified).unwrap();
        write(&unified.join("cgroup.controllers"), "hugetlb\n");
        write(&unified.join("cgroup.subtree_control"), "");
        mountinfo.push_str(&format!(
            "40 1 0:40 / {} rw - cgroup2 cgroup2 rw\n",
            unified.display()
        ));
        let self_cgroup = "8:pids:/\n7:blkio:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";
        let kernel = Kernel {
            v1,
            v2: Some(unified),
            ..Kernel::default()
        };
        MockHost::build(root, kernel, &mountinfo, self_cgroup)
    }

    /// Pure v1 with cpu and cpuacct co-mounted and no pids hierarchy.
    pub(crate) fn legacy() -> MockHost {
        let root = temp_root();
        let memory = root.join("memory");
        let cpu = root.join("cpu,cpuacct");
        std::fs::create_dir_all(memory.join("user")).unwrap();
        std::fs::create_dir_all(&cpu).unwrap();
        let mountinfo = format!(
            "30 1 0:30 / {} rw - cgroup cgroup rw,memory\n31 1 0:31 / {} rw - cgroup cgroup rw,cpu,cpuacct\n",
            memory.display(),
            cpu.display()
        );
        let self_cgroup = "3:memory:/user\n2:cpu,cpuacct:/\n";
        let kernel = Kernel {
            v1: vec![(memory, vec!["memory"]), (cpu, vec!["cpu", "cpuacct"])],
            ..Kernel::default()
        };
        MockHost::build(root, kernel, &mountinfo, self_cgroup)
    }

    /// Pure v2: the root offers `root_controllers`, the caller sits in `/a/b`, and nothing is
    /// enabled in any `cgroup.subtree_control` yet.
    pub(crate) fn unified(root_controllers: &str) -> MockHost {
        let root = temp_root();
        let mount = root.join("v2");
        std::fs::create_dir_all(mount.join("a/b")).unwrap();
        write(&mount.join("cgroup.controllers"), root_controllers);
        for dir in [mount.clone(), mount.join("a"), mount.join("a/b")] {
            write(&dir.join("cgroup.subtree_control"), "");
            if dir != mount {
                write(&dir.join("cgroup.controllers"), "");
            }
        }
        let mountinfo = format!(
            "30 1 0:30 / {} rw - cgroup2 cgroup2 rw,nsdelegate\n",
            mount.display()
        );
        let kernel = Kernel {
            v2: Some(mount),
            ..Kernel::default()
        };
        MockHost::build(root, kernel, &mountinfo, "0::/a/b\n")
    }

    /// Makes the mock kernel create `file` as a directory (writes fail with `EISDIR`).
    pub(crate) fn refuse(&self, file: &str) {
        self.fs.kernel().refuse.push(file.to_owned());
    }

    /// Makes the mock kernel leave `file` out of new cgroups.
    pub(crate) fn omit(&self, file: &str) {
        self.fs.kernel().missing.push(file.to_owned());
    }

    /// A path inside the mock tree.
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// A file's content, trimmed.
    pub(crate) fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|e| panic!("reading {relative}: {e}"))
            .trim()
            .to_owned()
    }

    /// Every directory under the tree whose name starts with `voidbox-`.
    pub(crate) fn sandbox_dirs(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    if entry.file_name().to_string_lossy().starts_with("voidbox-") {
                        out.push(p.clone());
                    }
                    walk(&p, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

impl Drop for MockHost {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
