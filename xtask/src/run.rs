//! Running commands with clear step reporting.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (relative to the workspace
/// root when relative), else `<root>/target`.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// The target the workspace builds for: `$CARGO_BUILD_TARGET`, else
/// `build.target` of `.cargo/config.toml`.
pub(crate) fn build_target() -> Result<String> {
    if let Some(t) = std::env::var_os("CARGO_BUILD_TARGET") {
        return Ok(t.to_string_lossy().into_owned());
    }
    let config = std::fs::read_to_string(root().join(".cargo/config.toml"))
        .context("reading .cargo/config.toml")?;
    let target = config
        .lines()
        .skip_while(|l| l.trim() != "[build]")
        .find_map(|l| l.trim().strip_prefix("target = "))
        .map(|v| v.trim_matches('"').to_owned())
        .context(".cargo/config.toml sets no build.target")?;
    if target == "host-tuple" {
        return host_triple();
    }
    Ok(target)
}

/// Where cargo puts a profile's outputs: `<target dir>/<build target>/<profile>`
/// (a build target is always set: see `.cargo/config.toml`).
pub(crate) fn profile_dir(profile: &str) -> Result<PathBuf> {
    Ok(target_dir().join(build_target()?).join(profile))
}

/// `cargo <args>` in the workspace root.
pub(crate) fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root()).args(args);
    cmd
}

/// Run `cmd`, announcing it; fail if it fails.
pub(crate) fn step(name: &str, mut cmd: Command) -> Result<()> {
    println!("xtask: == {name}");
    let status = cmd.status().with_context(|| format!("starting {name}"))?;
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

/// Whether this process runs as root.
pub(crate) fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The host's target triple, from `rustc -vV`.
pub(crate) fn host_triple() -> Result<String> {
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV printed no host triple")
}

/// Build the release `vb` and return its path: exactly what `cargo build
/// --release` gives a user (a static musl program: see `.cargo/config.toml`).
pub(crate) fn dist() -> Result<PathBuf> {
    step(
        "build vb (release)",
        cargo(&["build", "--release", "-p", "vb-cli", "--bin", "vb"]),
    )?;
    Ok(profile_dir("release")?.join("vb"))
}
