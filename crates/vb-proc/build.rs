//! Builds `vb-init` (`init/main.rs`), the sandbox's pid 1 as a program of its
//! own, for the crate's target: a static executable without a C library,
//! which `src/init.rs` carries with `include_bytes!`. On a target the program
//! is not written for, none is built and the reaper stays in-process.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "init/rustc_args.rs"]
mod rustc_args;

fn main() {
    println!("cargo:rerun-if-changed=init/main.rs");
    println!("cargo:rerun-if-changed=init/rustc_args.rs");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    println!("cargo::rustc-check-cfg=cfg(vb_init)");
    let target = std::env::var("TARGET").unwrap_or_default();
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        panic!("cargo sets OUT_DIR for build scripts");
    };
    let supported = (target.starts_with("x86_64-") || target.starts_with("aarch64-"))
        && target.contains("-linux-");
    if !supported {
        return;
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let program = out.join("vb-init");
    let linker = std::env::var("RUSTC_LINKER").ok();
    let mut cmd = Command::new(rustc);
    cmd.args(rustc_args::rustc_args(
        &target,
        Path::new("init/main.rs"),
        &program,
        linker.as_deref(),
    ));
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("running rustc for vb-init: {e}"));
    if !output.status.success() {
        panic!(
            "building vb-init (init/main.rs) failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    println!("cargo:rustc-cfg=vb_init");
}
