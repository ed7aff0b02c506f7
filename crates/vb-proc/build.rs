//! Builds `vb-init` (`init/main.rs`), the sandbox's pid 1 as a program of its
//! own, for the crate's target: a static executable without a C library,
//! which `src/init.rs` carries with `include_bytes!`. On a target the program
//! is not written for, none is built and the reaper stays in-process.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=init/main.rs");
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
    let mut cmd = Command::new(rustc);
    cmd.args([
        "--edition",
        "2024",
        "--crate-type",
        "bin",
        "--crate-name",
        "vb_init",
    ])
    .args(["--target", &target])
    .args([
        "-C",
        "panic=abort",
        "-C",
        "opt-level=s",
        "-C",
        "debuginfo=0",
    ])
    .args([
        "-C",
        "relocation-model=static",
        "-C",
        "target-feature=+crt-static",
    ])
    .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
    .args(["-C", "link-arg=-static", "-C", "strip=symbols"])
    .arg("-o")
    .arg(&program)
    .arg("init/main.rs");
    if target.contains("-musl") {
        // Not the target's own start files and C library: the program has
        // its own entry point. (On glibc targets the C compiler that links
        // adds them, and -nostartfiles -nostdlib keep it from doing so; the
        // linker rustc picks there must stay as it is.)
        cmd.args(["-C", "link-self-contained=no"]);
    }
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        cmd.arg("-C").arg(format!("linker={linker}"));
    }
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
