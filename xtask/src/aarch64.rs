//! vb-proc's aarch64 code, run on this host under `qemu-aarch64`'s user-mode
//! emulation: the library's unit tests built for aarch64 (the raw system
//! calls of `child/raw.rs`, the kernel's `sigaction` layout, the aarch64
//! system-call table and seccomp programs), and clippy on that build. The
//! aarch64 build of `vb-init` runs in vb-proc's own tests
//! (`tests/vb_init.rs`), which this step makes mandatory when the tools are
//! here.
//!
//! It needs rustc's `aarch64-unknown-linux-musl` target, a linker for it
//! (`aarch64-linux-gnu-gcc`, Debian's `gcc-aarch64-linux-gnu`) and
//! `qemu-aarch64` (Debian's `qemu-user`); without them it prints
//! `SKIP aarch64: <reason>`. The crate's tests that clone into namespaces
//! cannot run under qemu-user (it refuses `clone` flags beyond a thread's
//! or a fork's, and implements neither seccomp nor Landlock), so only the
//! library's unit tests run there.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::run::{cargo, step, target_dir};

/// The emulated target.
pub(crate) const TARGET: &str = "aarch64-unknown-linux-musl";
/// The variable that tells `vb-proc`'s `tests/vb_init.rs` to fail, not skip,
/// when it cannot run the aarch64 `vb-init`.
pub(crate) const REQUIRE_VAR: &str = "VB_PROC_AARCH64";

/// What the emulated runs need.
pub(crate) struct Tools {
    qemu: PathBuf,
    linker: String,
}

/// `name` in a directory of `$PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The tools, or why they are not all here.
pub(crate) fn probe() -> Result<Tools, String> {
    let qemu = on_path("qemu-aarch64")
        .or_else(|| on_path("qemu-aarch64-static"))
        .ok_or("qemu-aarch64 is not installed (Debian: qemu-user)")?;
    let linker = std::env::var("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER")
        .unwrap_or_else(|_| "aarch64-linux-gnu-gcc".to_owned());
    if on_path(&linker).is_none() && !std::path::Path::new(&linker).is_file() {
        return Err(format!(
            "no linker for {TARGET}: {linker} is not installed (Debian: gcc-aarch64-linux-gnu)"
        ));
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let libdir = Command::new(rustc)
        .current_dir(crate::run::root())
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|e| format!("running rustc: {e}"))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&libdir.stdout).trim());
    if !libdir.is_dir() {
        return Err(format!(
            "rustc has no {TARGET} target (rustup target add {TARGET})"
        ));
    }
    Ok(Tools { qemu, linker })
}

/// `cargo <args>` for the emulated target, in a target directory of its
/// own (so it never waits on the main build's lock, nor invalidates it).
fn cross_cargo(tools: &Tools, args: &[&str]) -> Command {
    let mut cmd = cargo(args);
    cmd.args(["--target", TARGET])
        .env("CARGO_TARGET_DIR", target_dir().join("aarch64-check"))
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER",
            &tools.linker,
        )
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER",
            &tools.qemu,
        );
    cmd
}

/// `cargo xtask aarch64`: vb-proc's vb-init tests (with the aarch64 runs
/// required), then [`run`]; or the SKIP line.
pub(crate) fn alone() -> Result<()> {
    let tools = match probe() {
        Ok(tools) => tools,
        Err(reason) => {
            println!("SKIP aarch64: {reason}");
            return Ok(());
        }
    };
    let mut init = cargo(&["test", "-p", "vb-proc", "--test", "vb_init"]);
    init.env(REQUIRE_VAR, "require");
    step("vb-init, natively and for aarch64 under qemu-aarch64", init)?;
    run(&tools)
}

/// Clippy on vb-proc's aarch64 build, then its unit tests under qemu.
pub(crate) fn run(tools: &Tools) -> Result<()> {
    let mut clippy = cross_cargo(tools, &["clippy", "-p", "vb-proc", "--all-targets"]);
    clippy.args(["--", "-D", "warnings"]);
    step(&format!("clippy, vb-proc for {TARGET}"), clippy)?;
    step(
        &format!("vb-proc's unit tests for {TARGET}, under qemu-aarch64"),
        cross_cargo(tools, &["test", "-p", "vb-proc", "--lib"]),
    )
}
