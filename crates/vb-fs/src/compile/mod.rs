//! Compiling an [`FsSpec`] into the operations of a plan, in the parent.
//!
//! Everything that bad input can make fail fails here, before anything is
//! created: sources are canonicalised in action order first (bubblewrap
//! resolves them all before setup, so its first message is about the first
//! bad source), then data descriptors are read, then the operations are
//! built with every path, option string and byte the child will use.
//!
//! Inside the folder, `path`, `canonical`, `dest`, `options` and `data` are
//! leaves; `root` (the steps around the actions) and `resolve` (pass 1) use
//! `path` (and `resolve` `canonical`, for bind sources); `build` (pass 2)
//! uses them all; this module drives the passes.

mod build;
mod canonical;
mod data;
mod dest;
mod options;
mod path;
mod resolve;
mod root;

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use crate::action::FsAction;
use crate::artifacts::Artifacts;
use crate::detail::DetailPipe;
use crate::error::FsError;
use crate::op::{HOST, Layout, NEW_ROOT, Op};
use crate::spec::{FsSpec, RootSource};

/// What compiling a spec gives: the operations, and what the parent keeps
/// for them while the sandbox lives.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) layout: Layout,
    pub(crate) ops: Vec<Op>,
    /// The pipe the child writes a conflicting symlink's target to.
    pub(crate) detail: Option<DetailPipe>,
    /// The host artifact directory (only without a root switch).
    pub(crate) artifacts: Artifacts,
    /// The caller's descriptors the operations name by number.
    pub(crate) fds: Vec<Arc<OwnedFd>>,
}

pub(crate) fn compile(spec: &FsSpec) -> Result<Compiled, FsError> {
    let host = spec.root == RootSource::Host;
    let layout = if host { HOST } else { NEW_ROOT };
    let root_dir = match &spec.root {
        RootSource::Dir(dir) => Some(root::resolve_root(dir)?),
        _ => {
            for (set, option) in [
                (spec.rootfs_dev, "rootfs_dev"),
                (spec.rootfs_suid, "rootfs_suid"),
            ] {
                if set {
                    return Err(FsError::RootfsOption { option });
                }
            }
            None
        }
    };
    let setup_root = if host {
        PathBuf::new()
    } else {
        root::setup_root_dir()?
    };
    let resolved = resolve::resolve(spec)?;

    let tmp_overlays = spec
        .actions
        .iter()
        .filter(|a| matches!(a, FsAction::TmpOverlay { .. }))
        .count();
    let needs_artifacts = tmp_overlays > 0
        || spec
            .actions
            .iter()
            .any(|a| matches!(a, FsAction::BindData { .. }));
    let artifacts = if host && needs_artifacts {
        Artifacts::create()?
    } else {
        Artifacts::default()
    };
    let artifact_base = match artifacts.dir() {
        Some(dir) => format!("{}/", dir.display()),
        None => "/".to_owned(),
    };
    // The steps around the actions are a dozen at most.
    let mut ops = Vec::with_capacity(spec.actions.len() + 16);
    root::before_actions(
        &mut ops,
        &layout,
        spec,
        &setup_root,
        root_dir.as_ref(),
        tmp_overlays,
        artifacts.dir(),
    )?;
    let mut ctx = build::Ctx {
        spec,
        layout,
        new_root: layout.new_root.to_str().unwrap_or("/"),
        artifact_base,
        tmp_overlay_index: 0,
        fds: Vec::new(),
    };
    for (action, resolved) in spec.actions.iter().zip(resolved) {
        let index = ops.len();
        if let Some(op) = ctx.op(action, resolved, index)? {
            ops.push(op);
        }
    }
    let fds = std::mem::take(&mut ctx.fds);
    if !fds.is_empty() {
        ops.push(Op::CloseFds(fds.iter().map(|fd| fd.as_raw_fd()).collect()));
    }
    root::after_actions(&mut ops, spec);
    let detail = if spec
        .actions
        .iter()
        .any(|a| matches!(a, FsAction::Symlink { .. }))
    {
        Some(DetailPipe::new()?)
    } else {
        None
    };
    Ok(Compiled {
        layout,
        ops,
        detail,
        artifacts,
        fds,
    })
}
